-- rules.lua - refusals at RCPT (delay_reject), tempfail, add-header
--
-- daemon: rules
-- expect-verdict: {"queue_id":"RULE-REJ","client_ip":"192.0.2.3","action":"reject","rule":"no rDNS","refused":2,"rcpts":0,"mail_from":"spam@sender.example"}
-- expect-verdict: {"queue_id":"RULE-TMP","client_ip":"192.0.2.4","action":"tempfail","rule":"dns trouble","refused":1}
-- expect-verdict: {"queue_id":"RULE-HDR1","client_ip":"192.0.2.1","action":"accept","rule":null,"rcpts":1}
-- expect-verdict: {"queue_id":"RULE-HDR2","client_ip":"192.0.2.1","action":"accept","mail_from":"second@sender.example","rcpts":1}
-- expect-wire: reply 550 5.7.25 No reverse DNS for 192.0.2.3
-- expect-wire: reply 550 5.7.25 No reverse DNS for 192.0.2.3
-- expect-wire: reply 451 4.4.3 Cannot check 192.0.2.4 now, try later
-- expect-wire: addheader X-Mailvet-Test " verified mail.good.example"
-- expect-wire: insheader 0 Authentication-Results " mx.test.example;\n\tiprev=pass policy.iprev=192.0.2.1 (mail.good.example);\n\tspf=none smtp.mailfrom=first@sender.example (no SPF record);\n\tspf=pass smtp.helo=mail.good.example;\n\tx-helo=pass smtp.helo=mail.good.example (syntax=pass fqdn=pass literal=none resolves=pass matches_ip=pass matches_ptr=pass claims_local=fail)"
-- expect-wire: addheader X-Mailvet-Test " verified mail.good.example"
dofile(libdir .. "/lib.lua")

do
	-- Decided by a connect fact, answered at RCPT, to every recipient.
	local what = "reject at RCPT"
	local conn = t.client("client.example", "192.0.2.3", "h.example", what)
	t.msg(conn, {qid = "RULE-REJ", from = "<spam@sender.example>",
		     rcpt_reply = SMFIR_REPLYCODE}, what)
	t.step(what .. ": second rcpt", mt.rcptto(conn, "<v@test.example>"))
	t.expect_reply(conn, SMFIR_REPLYCODE, what .. ": second rcpt")
	mt.abort(conn)
	mt.disconnect(conn)
end

do
	local what = "tempfail on iprev temperror"
	local conn = t.client("client.example", "192.0.2.4", "h.example", what)
	t.msg(conn, {qid = "RULE-TMP", rcpt_reply = SMFIR_REPLYCODE}, what)
	mt.disconnect(conn)
end

do
	local what = "add-header, two messages on one connection"
	local conn = t.client("client.example", "192.0.2.1",
			      "mail.good.example", what)
	for _, m in ipairs({{"RULE-HDR1", "<first@sender.example>"},
			    {"RULE-HDR2", "<second@sender.example>"}}) do
		t.msg(conn, {qid = m[1], from = m[2]}, what .. " " .. m[1])
		t.check(mt.eom_check(conn, MT_HDRADD, "X-Mailvet-Test",
				     t.SP .. "verified mail.good.example"),
			what .. " " .. m[1] .. ": X-Mailvet-Test added",
			tostring(mt.getheader(conn, "X-Mailvet-Test", 0)))
		t.expect_ar(conn, "mx.test.example;\n" ..
		    "\tiprev=pass policy.iprev=192.0.2.1 (mail.good.example);\n" ..
		    "\tspf=none smtp.mailfrom=" .. string.sub(m[2], 2, -2) ..
		    " (no SPF record);\n" ..
		    "\tspf=pass smtp.helo=mail.good.example;\n" ..
		    "\tx-helo=pass smtp.helo=mail.good.example (syntax=pass " ..
		    "fqdn=pass literal=none resolves=pass matches_ip=pass " ..
		    "matches_ptr=pass claims_local=fail)", what .. " " .. m[1])
	end
	mt.disconnect(conn)
end

t.done()
