-- trusted.lua - trusted networks and authenticated clients skip checks
--
-- A client that skips the checks still cannot bring its own
-- Authentication-Results with our authserv-id: each message below carries
-- one (index 1) and a foreign one (index 2); ours is removed, the foreign
-- one kept, for trusted networks and authenticated clients alike.
--
-- expect-verdict: {"queue_id":"TRUST-V4","client_ip":"127.0.0.1","trusted":true,"iprev":"skipped","action":"accept"}
-- expect-verdict: {"queue_id":"TRUST-V6","client_ip":"::1","trusted":true,"iprev":"skipped"}
-- expect-verdict: {"queue_id":"AUTH-1","client_ip":"192.0.2.3","auth":"alice","trusted":false,"iprev":"skipped","helo_check":"skipped"}
-- expect-wire: chgheader 1 Authentication-Results ""
-- expect-wire: insheader 0 Authentication-Results " mx.test.example; none"
-- expect-wire: chgheader 1 Authentication-Results ""
-- expect-wire: insheader 0 Authentication-Results " mx.test.example; none"
-- expect-wire: chgheader 1 Authentication-Results ""
-- expect-wire: insheader 0 Authentication-Results " mx.test.example;\n\tauth=pass smtp.auth=alice"
dofile(libdir .. "/lib.lua")

local FORGED = {
	{"Authentication-Results", "mx.test.example; spf=pass"},
	{"Authentication-Results", "other.example; spf=fail"},
}

-- expect_forged_removed - index 1 (ours) deleted, index 2 (foreign) kept
local function expect_forged_removed(conn, what)
	t.check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results", 1),
		what .. ": forged Authentication-Results (index 1) removed")
	t.check(not mt.eom_check(conn, MT_HDRDELETE,
				 "Authentication-Results", 2),
		what .. ": the foreign one (index 2) kept")
end

for _, c in ipairs({{"127.0.0.1", "TRUST-V4"}, {"::1", "TRUST-V6"}}) do
	local what = "trusted " .. c[1]
	local conn = t.client("localhost", c[1], "bad helo!", what)
	t.msg(conn, {qid = c[2], headers = FORGED}, what)
	expect_forged_removed(conn, what)
	t.expect_ar(conn, "mx.test.example; none", what)
	mt.disconnect(conn)
end

do
	local what = "authenticated client"
	local conn = t.client("client.example", "192.0.2.3", "[10.9.9.9]", what)
	t.msg(conn, {qid = "AUTH-1", auth = "alice", headers = FORGED}, what)
	expect_forged_removed(conn, what)
	t.expect_ar(conn, "mx.test.example;\n\tauth=pass smtp.auth=alice",
		    what)
	mt.disconnect(conn)
end

t.done()
