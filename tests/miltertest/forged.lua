-- forged.lua - incoming Authentication-Results claiming our authserv-id
--
-- Ours are removed (a change to an empty value at their index among the
-- Authentication-Results fields, highest index first because indexes
-- shift); other servers' are kept. run.sh checks the order on the wire.
--
-- Three messages on one connection: one verdict line each.
-- expect-verdict: {"queue_id":"FORGED-1","client_ip":"192.0.2.1","iprev":"pass","action":"accept","rcpts":1}
-- expect-verdict: {"queue_id":"FORGED-2","client_ip":"192.0.2.1","iprev":"pass","action":"accept","rcpts":1}
-- expect-verdict: {"queue_id":"FORGED-3","client_ip":"192.0.2.1","iprev":"pass","action":"accept","rcpts":1}
-- expect-wire: chgheader 1 Authentication-Results ""
-- expect-wire: chgheader 3 Authentication-Results ""
-- expect-wire: chgheader 1 Authentication-Results ""
dofile(libdir .. "/lib.lua")

-- sender.example publishes no SPF record; mail.good.example's "a -all"
-- passes the client.
local OURS = "mx.test.example;\n" ..
    "\tiprev=pass policy.iprev=192.0.2.1 (mail.good.example);\n" ..
    "\tspf=none smtp.mailfrom=a@sender.example (no SPF record);\n" ..
    "\tspf=pass smtp.helo=mail.good.example;\n" ..
    "\tx-helo=pass smtp.helo=mail.good.example (syntax=pass fqdn=pass " ..
    "literal=none resolves=pass matches_ip=pass matches_ptr=pass " ..
    "claims_local=fail)"

local conn = t.client("client.example", "192.0.2.1", "mail.good.example",
		      "forged")

do
	local what = "one forged header, other case"
	t.msg(conn, {qid = "FORGED-1", headers = {
		{"Subject", "one"},
		{"Authentication-Results", "MX.TEST.Example; iprev=pass"},
	}}, what)
	t.check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results", 1),
		what .. ": index 1 removed")
	t.check(not mt.eom_check(conn, MT_HDRDELETE,
				 "Authentication-Results", 2),
		what .. ": nothing else removed")
	t.expect_ar(conn, OURS, what)
end

do
	local what = "two forged around a foreign one"
	t.msg(conn, {qid = "FORGED-2", headers = {
		{"Authentication-Results", "mx.test.example; spf=pass"},
		{"Received", "from x by y"},
		{"Authentication-Results", "other.example; spf=fail"},
		{"Authentication-Results",
		 " (a comment) Mx.Test.Example (c); dkim=pass"},
		{"Authentication-Results", "mx.test.example.evil; dkim=pass"},
	}}, what)
	t.check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results", 1),
		what .. ": index 1 removed")
	t.check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results", 3),
		what .. ": index 3 removed")
	t.check(not mt.eom_check(conn, MT_HDRDELETE,
				 "Authentication-Results", 2),
		what .. ": the foreign one (index 2) kept")
	t.check(not mt.eom_check(conn, MT_HDRDELETE,
				 "Authentication-Results", 4),
		what .. ": the look-alike id (index 4) kept")
	t.expect_ar(conn, OURS, what)
end

do
	local what = "a foreign one alone"
	t.msg(conn, {qid = "FORGED-3", headers = {
		{"Authentication-Results", "other.example; spf=pass"},
	}}, what)
	t.check(not mt.eom_check(conn, MT_HDRCHANGE),
		what .. ": no header changed")
	t.expect_ar(conn, OURS, what)
end

mt.disconnect(conn)
t.done()
