-- iprev.lua - forward-confirmed reverse DNS, one connection per client
--
-- expect-verdict: {"queue_id":"IPREV-PASS","client_ip":"192.0.2.1","iprev":"pass","ptr":"mail.good.example","helo_check":"pass","action":"accept","trusted":false,"spf":"none","spf_helo":"pass"}
-- expect-verdict: {"queue_id":"IPREV-FAIL","client_ip":"192.0.2.2","iprev":"fail","ptr":null,"iprev_reason":"no PTR name resolves back to the client"}
-- expect-verdict: {"queue_id":"IPREV-PERM","client_ip":"192.0.2.3","iprev":"permerror","iprev_reason":"no PTR record"}
-- expect-verdict: {"queue_id":"IPREV-SERVFAIL","client_ip":"192.0.2.4","iprev":"temperror","iprev_reason":"PTR lookup: SERVFAIL","helo_check":"temperror","action":"accept"}
-- expect-verdict: {"queue_id":"IPREV-MULTI","client_ip":"192.0.2.7","iprev":"pass","ptr":"b.multi.example"}
-- expect-verdict: {"queue_id":"IPREV-V6","client_ip":"2001:db8::25","iprev":"pass","ptr":"mail6.good.example"}
-- expect-verdict: {"queue_id":"IPREV-MAPPED","client_ip":"192.0.2.1","iprev":"pass","ptr":"mail.good.example"}
dofile(libdir .. "/lib.lua")

local HELO_NONE = "x-helo=fail smtp.helo=unrelated.example (syntax=pass " ..
    "fqdn=pass literal=none resolves=fail matches_ip=fail " ..
    "matches_ptr=fail claims_local=fail)"

-- one - one client; want is the A-R without its two SPF lines, which
-- go after iprev=: MAIL FROM (no record) and HELO (spf, nil for none)
local function one(ip, qid, helo, want, spf, what)
	local conn = t.client("client.example", ip, helo, what)
	t.msg(conn, {qid = qid}, what)
	local head, tail = string.match(want,
	    "^mx%.test%.example;\n\t(.-);\n\t(x%-helo=.*)$")
	t.expect_ar(conn, t.ar_join(head, t.MF_NONE, spf, tail), what)
	mt.disconnect(conn)
end
local NONE = " (no SPF record)"

one("192.0.2.1", "IPREV-PASS", "mail.good.example",
    "mx.test.example;\n" ..
    "\tiprev=pass policy.iprev=192.0.2.1 (mail.good.example);\n" ..
    "\tx-helo=pass smtp.helo=mail.good.example (syntax=pass fqdn=pass " ..
    "literal=none resolves=pass matches_ip=pass matches_ptr=pass " ..
    "claims_local=fail)", "spf=pass smtp.helo=mail.good.example", "pass")

one("192.0.2.2", "IPREV-FAIL", "unrelated.example",
    "mx.test.example;\n" ..
    "\tiprev=fail policy.iprev=192.0.2.2 (mail.liar.example: " ..
    "no PTR name resolves back to the client);\n\t" .. HELO_NONE,
    "spf=none smtp.helo=unrelated.example" .. NONE,
    "fail: the PTR name does not resolve back")

one("192.0.2.3", "IPREV-PERM", "unrelated.example",
    "mx.test.example;\n" ..
    "\tiprev=permerror policy.iprev=192.0.2.3 (no PTR record);\n\t" ..
    HELO_NONE, "spf=none smtp.helo=unrelated.example" .. NONE,
    "permerror: no PTR")

one("192.0.2.4", "IPREV-SERVFAIL", "unrelated.example",
    "mx.test.example;\n" ..
    "\tiprev=temperror policy.iprev=192.0.2.4 (PTR lookup: SERVFAIL);\n" ..
    "\tx-helo=temperror smtp.helo=unrelated.example (syntax=pass " ..
    "fqdn=pass literal=none resolves=fail matches_ip=fail " ..
    "matches_ptr=temperror claims_local=fail)",
    "spf=none smtp.helo=unrelated.example" .. NONE,
    "temperror: PTR SERVFAIL")

one("192.0.2.7", "IPREV-MULTI", "b.multi.example",
    "mx.test.example;\n" ..
    "\tiprev=pass policy.iprev=192.0.2.7 (b.multi.example);\n" ..
    "\tx-helo=pass smtp.helo=b.multi.example (syntax=pass fqdn=pass " ..
    "literal=none resolves=pass matches_ip=pass matches_ptr=pass " ..
    "claims_local=fail)", "spf=none smtp.helo=b.multi.example" .. NONE,
    "two PTR names, the second resolves back")

one("2001:db8::25", "IPREV-V6", "[IPv6:2001:db8::25]",
    "mx.test.example;\n" ..
    "\tiprev=pass policy.iprev=\"2001:db8::25\" (mail6.good.example);\n" ..
    "\tx-helo=pass smtp.helo=\"[IPv6:2001:db8::25]\" (syntax=pass " ..
    "fqdn=fail literal=pass resolves=none matches_ip=none " ..
    "matches_ptr=none claims_local=fail)", nil, "IPv6 client, nibble PTR")

one("::ffff:192.0.2.1", "IPREV-MAPPED", "mail.good.example",
    "mx.test.example;\n" ..
    "\tiprev=pass policy.iprev=192.0.2.1 (mail.good.example);\n" ..
    "\tx-helo=pass smtp.helo=mail.good.example (syntax=pass fqdn=pass " ..
    "literal=none resolves=pass matches_ip=pass matches_ptr=pass " ..
    "claims_local=fail)", "spf=pass smtp.helo=mail.good.example",
    "IPv4-mapped IPv6 client is IPv4")

t.done()
