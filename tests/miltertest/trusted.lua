-- trusted.lua - trusted networks and authenticated clients skip checks
--
-- expect-verdict: {"queue_id":"TRUST-V4","client_ip":"127.0.0.1","trusted":true,"iprev":"skipped","action":"accept"}
-- expect-verdict: {"queue_id":"TRUST-V6","client_ip":"::1","trusted":true,"iprev":"skipped"}
-- expect-verdict: {"queue_id":"AUTH-1","client_ip":"192.0.2.3","auth":"alice","trusted":false,"iprev":"skipped","helo_check":"skipped"}
dofile(libdir .. "/lib.lua")

for _, c in ipairs({{"127.0.0.1", "TRUST-V4"}, {"::1", "TRUST-V6"}}) do
	local what = "trusted " .. c[1]
	local conn = t.client("localhost", c[1], "bad helo!", what)
	t.msg(conn, {qid = c[2], headers = {
		{"Authentication-Results", "mx.test.example; spf=pass"},
	}}, what)
	t.expect_ar(conn, "mx.test.example; none", what)
	mt.disconnect(conn)
end

do
	local what = "authenticated client"
	local conn = t.client("client.example", "192.0.2.3", "[10.9.9.9]", what)
	t.msg(conn, {qid = "AUTH-1", auth = "alice"}, what)
	t.expect_ar(conn, "mx.test.example;\n\tauth=pass smtp.auth=alice",
		    what)
	mt.disconnect(conn)
end

t.done()
