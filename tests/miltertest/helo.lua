-- helo.lua - the facts about the HELO name and the x-helo summary
--
-- expect-verdict: {"queue_id":"HELO-SYNTAX","helo":"bad_name!.example","helo_check":"fail","helo_facts":{"syntax":"fail","fqdn":"fail"}}
-- expect-verdict: {"queue_id":"HELO-LITERAL","helo":"[192.0.2.1]","helo_check":"pass","helo_facts":{"literal":"pass"}}
-- expect-verdict: {"queue_id":"HELO-LOCAL","helo":"MX.Test.Example","helo_check":"fail","helo_facts":{"claims_local":"pass"}}
-- expect-verdict: {"queue_id":"HELO-IP","client_ip":"198.51.100.11","iprev":"permerror","helo_check":"pass","helo_facts":{"matches_ip":"pass","matches_ptr":"fail"},"spf":"none","spf_helo":"pass"}
-- expect-verdict: {"queue_id":"HELO-ELSEWHERE","client_ip":"192.0.2.2","spf_helo":"fail"}
-- expect-verdict: {"queue_id":"HELO-LITERAL","spf_helo":"none"}
dofile(libdir .. "/lib.lua")

-- The HELO identity's SPF line: only a domain name is checked (a
-- literal or a malformed name has no line at all).
local function spf_helo(result, helo, comment)
	return "spf=" .. result .. " smtp.helo=" .. helo ..
	    (comment and " (" .. comment .. ")" or "")
end
local NOREC = "no SPF record"

-- helo_case - one client and HELO; the x-helo and HELO SPF lines must be
-- want (spf nil: no HELO SPF line); MAIL FROM's domain has no record
local function helo_case(ip, helo, qid, iprev, spf, xhelo, what)
	local conn = t.client("client.example", ip, helo, what)
	t.msg(conn, {qid = qid}, what)
	t.expect_ar(conn, t.ar_join(iprev, t.MF_NONE, spf, xhelo), what)
	mt.disconnect(conn)
end

local GOOD = "iprev=pass policy.iprev=192.0.2.1 (mail.good.example)"

helo_case("192.0.2.1", "bad_name!.example", "HELO-SYNTAX", GOOD,
    nil,
    "x-helo=fail smtp.helo=bad_name!.example (syntax=fail fqdn=fail " ..
    "literal=none resolves=none matches_ip=none matches_ptr=none " ..
    "claims_local=fail)", "bad syntax")

helo_case("192.0.2.1", "localhostish", "HELO-NOFQDN", GOOD,
    spf_helo("none", "localhostish", "malformed or single-label domain"),
    "x-helo=fail smtp.helo=localhostish (syntax=pass fqdn=fail " ..
    "literal=none resolves=fail matches_ip=fail matches_ptr=fail " ..
    "claims_local=fail)", "not an FQDN")

helo_case("192.0.2.1", "[192.0.2.1]", "HELO-LITERAL", GOOD,
    nil,
    "x-helo=pass smtp.helo=\"[192.0.2.1]\" (syntax=pass fqdn=fail " ..
    "literal=pass resolves=none matches_ip=none matches_ptr=none " ..
    "claims_local=fail)", "literal matching the client")

helo_case("192.0.2.1", "[192.0.2.99]", "HELO-LITERAL-BAD", GOOD,
    nil,
    "x-helo=fail smtp.helo=\"[192.0.2.99]\" (syntax=pass fqdn=fail " ..
    "literal=fail resolves=none matches_ip=none matches_ptr=none " ..
    "claims_local=fail)", "literal of another address")

helo_case("192.0.2.1", "[IPv6:2001:db8::25]", "HELO-LITERAL-V6", GOOD,
    nil,
    "x-helo=fail smtp.helo=\"[IPv6:2001:db8::25]\" (syntax=pass " ..
    "fqdn=fail literal=fail resolves=none matches_ip=none " ..
    "matches_ptr=none claims_local=fail)", "IPv6 literal, IPv4 client")

-- Our own authserv-id in another case: claims to be us.
helo_case("192.0.2.1", "MX.Test.Example", "HELO-LOCAL", GOOD,
    spf_helo("none", "MX.Test.Example", NOREC),
    "x-helo=fail smtp.helo=MX.Test.Example (syntax=pass fqdn=pass " ..
    "literal=none resolves=fail matches_ip=fail matches_ptr=fail " ..
    "claims_local=pass)", "HELO claims the authserv-id")

-- A local_names entry from the config, too.
helo_case("192.0.2.1", "relay.test.example", "HELO-LOCAL2", GOOD,
    spf_helo("none", "relay.test.example", NOREC),
    "x-helo=fail smtp.helo=relay.test.example (syntax=pass fqdn=pass " ..
    "literal=none resolves=fail matches_ip=fail matches_ptr=fail " ..
    "claims_local=pass)", "HELO claims a local_names entry")

-- A literal of one of local_addresses.
helo_case("192.0.2.1", "[203.0.113.25]", "HELO-LOCAL3", GOOD,
    nil,
    "x-helo=fail smtp.helo=\"[203.0.113.25]\" (syntax=pass fqdn=fail " ..
    "literal=fail resolves=none matches_ip=none matches_ptr=none " ..
    "claims_local=pass)", "HELO literal of a local address")

helo_case("198.51.100.11", "helo.resolves.example", "HELO-IP",
    "iprev=permerror policy.iprev=198.51.100.11 (no PTR record)",
    spf_helo("pass", "helo.resolves.example"),
    "x-helo=pass smtp.helo=helo.resolves.example (syntax=pass fqdn=pass " ..
    "literal=none resolves=pass matches_ip=pass matches_ptr=fail " ..
    "claims_local=fail)", "HELO resolves to the client")

helo_case("198.51.100.10", "HELO.Match.Example", "HELO-PTR",
    "iprev=pass policy.iprev=198.51.100.10 (helo.match.example)",
    spf_helo("none", "HELO.Match.Example", NOREC),
    "x-helo=pass smtp.helo=HELO.Match.Example (syntax=pass fqdn=pass " ..
    "literal=none resolves=pass matches_ip=pass matches_ptr=pass " ..
    "claims_local=fail)", "HELO equals the verified PTR name")

helo_case("192.0.2.2", "helo.elsewhere.example", "HELO-ELSEWHERE",
    "iprev=fail policy.iprev=192.0.2.2 (mail.liar.example: no PTR name " ..
    "resolves back to the client)",
    spf_helo("fail", "helo.elsewhere.example",
    "matched mechanism"),
    "x-helo=fail smtp.helo=helo.elsewhere.example (syntax=pass " ..
    "fqdn=pass literal=none resolves=pass matches_ip=fail " ..
    "matches_ptr=fail claims_local=fail)", "HELO resolves elsewhere")

-- PTR name unverified (iprev=fail) equal to the HELO: no matches_ptr.
helo_case("192.0.2.2", "mail.liar.example", "HELO-LIAR",
    "iprev=fail policy.iprev=192.0.2.2 (mail.liar.example: no PTR name " ..
    "resolves back to the client)",
    spf_helo("none", "mail.liar.example", NOREC),
    "x-helo=fail smtp.helo=mail.liar.example (syntax=pass fqdn=pass " ..
    "literal=none resolves=pass matches_ip=fail matches_ptr=fail " ..
    "claims_local=fail)", "HELO equals an unverified PTR name")

t.done()
