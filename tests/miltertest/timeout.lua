-- timeout.lua - DNS that never answers: a bounded wait, then temperror
--
-- The daemon runs with dns_timeout_ms = 1000: the EOM reply must come
-- back within that plus a slack (SLACK_MS) of the connection and say
-- temperror, never pass and never "not found". The HELO identity's SPF
-- TXT lookup hangs with the HELO name's A/AAAA: spf=temperror, in the
-- same bound.
--
-- expect-verdict: {"queue_id":"TMO-PTR","client_ip":"192.0.2.5","iprev":"temperror","iprev_reason":"PTR lookup: timeout","action":"accept"}
-- expect-verdict: {"queue_id":"TMO-FWD","client_ip":"192.0.2.6","iprev":"temperror","iprev_reason":"A lookup of slow.fwd.example: timeout","action":"accept"}
-- expect-verdict: {"queue_id":"TMO-HELO","client_ip":"192.0.2.1","iprev":"pass","helo_check":"pass"}
-- expect-verdict: {"queue_id":"TMO-HELO2","client_ip":"192.0.2.3","iprev":"permerror","helo_check":"temperror","spf":"none","spf_helo":"temperror"}
dofile(libdir .. "/lib.lua")
mt.set_timeout(5)
-- dns_timeout_ms of main.conf, and the slack allowed on top of it for a
-- sanitizer build on a loaded machine (c-ares, two SPF threads, libmilter)
local DNS_TIMEOUT_MS = 1000
local SLACK_MS = 1000
-- MAIL FROM's domain has no SPF record (as a pattern line)
local MF_NONE =
    "\tspf=none smtp%.mailfrom=a@sender%.example %(no SPF record%);\n"

-- timed - one message; returns the header and the milliseconds taken
local function timed(ip, qid, helo, what)
	local t0 = t.now_ms()
	local conn = t.client("client.example", ip, helo, what)
	t.msg(conn, {qid = qid}, what)
	local ms = t.now_ms() - t0
	t.check(ms < DNS_TIMEOUT_MS + SLACK_MS,
		what .. ": EOM answered within dns_timeout_ms + slack",
		"took " .. ms .. " ms")
	return conn, ms
end

do
	local what = "PTR never answered"
	local conn, ms = timed("192.0.2.5", "TMO-PTR", "unrelated.example", what)
	t.check(ms >= DNS_TIMEOUT_MS / 2,
		what .. ": the daemon waited for the answer",
		"took only " .. ms .. " ms")
	t.expect_ar_match(conn, "mx%.test%.example;\n" ..
	    "\tiprev=temperror policy%.iprev=192%.0%.2%.5 %(PTR lookup: timeout%);\n" ..
	    MF_NONE ..
	    "\tspf=none smtp%.helo=unrelated%.example %(no SPF record%);\n" ..
	    "\tx%-helo=temperror smtp%.helo=unrelated%.example %(syntax=pass " ..
	    "fqdn=pass literal=none resolves=fail matches_ip=fail " ..
	    "matches_ptr=temperror claims_local=fail%)", what)
	mt.disconnect(conn)
end

do
	local what = "forward lookup never answered"
	local conn = timed("192.0.2.6", "TMO-FWD", "slow.fwd.example", what)
	-- The PTR name is known, the A lookup of it timed out.
	t.expect_ar_match(conn, "mx%.test%.example;\n" ..
	    "\tiprev=temperror policy%.iprev=192%.0%.2%.6 %(slow%.fwd%.example: " ..
	    "A lookup of slow%.fwd%.example: timeout%);\n" ..
	    MF_NONE ..
	    "\tspf=temperror smtp%.helo=slow%.fwd%.example %([^)]+%);\n" ..
	    "\tx%-helo=temperror smtp%.helo=slow%.fwd%.example %(syntax=pass " ..
	    "fqdn=pass literal=none resolves=temperror matches_ip=temperror " ..
	    "matches_ptr=temperror claims_local=fail; HELO A+ lookup: timeout%)",
	    what)
	mt.disconnect(conn)
end

do
	-- iprev passes; only the HELO name's lookups hang. A verified PTR
	-- equal to the HELO would pass, but here it differs: temperror.
	local what = "HELO lookups never answered"
	local conn = timed("192.0.2.3", "TMO-HELO2", "helo.timeout.example", what)
	t.expect_ar_match(conn, "mx%.test%.example;\n" ..
	    "\tiprev=permerror policy%.iprev=192%.0%.2%.3 %(no PTR record%);\n" ..
	    MF_NONE ..
	    "\tspf=temperror smtp%.helo=helo%.timeout%.example %([^)]+%);\n" ..
	    "\tx%-helo=temperror smtp%.helo=helo%.timeout%.example %(syntax=pass " ..
	    "fqdn=pass literal=none resolves=temperror matches_ip=temperror " ..
	    "matches_ptr=fail claims_local=fail; HELO A+ lookup: timeout%)", what)
	mt.disconnect(conn)
end

do
	-- Control: with working DNS the same path answers before any
	-- deadline ran out, so the waits above come from the missing
	-- answers, not from the daemon.
	local what = "working DNS is not delayed"
	local conn, ms = timed("192.0.2.1", "TMO-HELO", "mail.good.example", what)
	t.check(ms < DNS_TIMEOUT_MS, what .. ": answered before dns_timeout_ms",
		"took " .. ms .. " ms")
	t.expect_ar(conn, "mx.test.example;\n" ..
	    "\tiprev=pass policy.iprev=192.0.2.1 (mail.good.example);\n" ..
	    "\t" .. t.MF_NONE .. ";\n" ..
	    "\tspf=pass smtp.helo=mail.good.example;\n" ..
	    "\tx-helo=pass smtp.helo=mail.good.example (syntax=pass fqdn=pass " ..
	    "literal=none resolves=pass matches_ip=pass matches_ptr=pass " ..
	    "claims_local=fail)", what)
	mt.disconnect(conn)
end

t.done()
