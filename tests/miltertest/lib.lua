-- lib.lua - helpers shared by mailvet's miltertest scenarios
--
-- Loaded by every scenario with dofile(libdir .. "/lib.lua"); run.sh
-- passes -D port=N (the daemon's inet port) and -D libdir=DIR.
--
-- Functions: t.connect, t.client, t.msg, t.expect_reply, t.expect_ar,
-- t.ar, t.ar_join, t.results, t.now_ms, t.check, t.done.
--
-- A failed check raises a Lua error naming the scenario step, so
-- miltertest exits non-zero and run.sh reports FAIL with the message.

t = {}

t.names = {
	[SMFIR_CONTINUE] = "continue", [SMFIR_ACCEPT] = "accept",
	[SMFIR_REJECT] = "reject", [SMFIR_TEMPFAIL] = "tempfail",
	[SMFIR_DISCARD] = "discard", [SMFIR_REPLYCODE] = "replycode",
}

t.failures = 0

-- t.check - record a failed expectation without stopping the script
function t.check(ok, what, detail)
	if ok then
		return true
	end
	t.failures = t.failures + 1
	print("  check failed: " .. what)
	if detail ~= nil then
		print("    " .. string.gsub(detail, "\n", "\n    "))
	end
	return false
end

-- t.done - end of script: raise if any check failed
function t.done()
	if t.failures > 0 then
		error(t.failures .. " check(s) failed", 0)
	end
	print("all checks passed")
end

-- t.now_ms - wall clock in milliseconds (os.time has one second only)
function t.now_ms()
	local p = io.popen("date +%s%3N")
	local s = p:read("*l")
	p:close()
	return tonumber(s)
end

-- t.connect - a new milter connection to the daemon under test
function t.connect()
	local conn = mt.connect("inet:" .. port .. "@127.0.0.1", 50, 0.1)
	if conn == nil then
		error("cannot connect to inet:" .. port .. "@127.0.0.1", 0)
	end
	return conn
end

-- t.reply_name - a reply code as a word for messages
function t.reply_name(r)
	return t.names[r] or ("'" .. string.char(r) .. "'")
end

-- t.expect_reply - the last reply must be want
function t.expect_reply(conn, want, what)
	local got = mt.getreply(conn)
	return t.check(got == want, what .. ": reply " .. t.reply_name(want),
		       "got " .. t.reply_name(got))
end

-- t.step - run one protocol step, which must not fail at the wire
function t.step(what, err)
	if err ~= nil then
		error(what .. ": " .. tostring(err), 0)
	end
end

-- t.client - connect + HELO for a simulated client; returns conn
function t.client(name, ip, helo, what)
	local conn = t.connect()
	t.step(what .. ": conninfo", mt.conninfo(conn, name, ip))
	t.expect_reply(conn, SMFIR_CONTINUE, what .. ": connect")
	if helo ~= nil then
		t.step(what .. ": helo", mt.helo(conn, helo))
		t.expect_reply(conn, SMFIR_CONTINUE, what .. ": helo")
	end
	return conn
end

-- t.msg - MAIL, RCPT, headers and EOM of one message
--   m = { qid=, from=, rcpt=, auth=, headers={{name, value}, ...},
--         rcpt_reply= (default continue), eom_reply= (default continue) }
-- Returns false when RCPT was refused (the message then stops there).
function t.msg(conn, m, what)
	if m.auth ~= nil then
		mt.macro(conn, SMFIC_MAIL, "i", m.qid, "{auth_authen}", m.auth)
	else
		mt.macro(conn, SMFIC_MAIL, "i", m.qid)
	end
	t.step(what .. ": mail", mt.mailfrom(conn, m.from or "<a@sender.example>"))
	t.expect_reply(conn, SMFIR_CONTINUE, what .. ": mail")
	mt.macro(conn, SMFIC_RCPT, "i", m.qid)
	t.step(what .. ": rcpt", mt.rcptto(conn, m.rcpt or "<u@test.example>"))
	if not t.expect_reply(conn, m.rcpt_reply or SMFIR_CONTINUE,
			      what .. ": rcpt") then
		return false
	end
	if m.rcpt_reply ~= nil and m.rcpt_reply ~= SMFIR_CONTINUE then
		return false
	end
	for _, h in ipairs(m.headers or {{"Subject", "test " .. m.qid}}) do
		t.step(what .. ": header", mt.header(conn, h[1], h[2]))
		t.expect_reply(conn, SMFIR_CONTINUE, what .. ": header " .. h[1])
	end
	t.step(what .. ": eom", mt.eom(conn))
	t.expect_reply(conn, m.eom_reply or SMFIR_CONTINUE, what .. ": eom")
	return true
end

-- t.SP - the space after a header's colon. mailvet negotiates
-- SMFIP_HDR_LEADSPC, so the MTA takes a value it adds verbatim ("Name:"
-- then the value): the space is part of every value on the wire.
t.SP = " "

-- t.ar - the Authentication-Results value inserted at EOM (with its
-- leading space), or nil
function t.ar(conn)
	return mt.getheader(conn, "Authentication-Results", 0)
end

-- The SPF line for the default MAIL FROM: sender.example has no record.
t.MF_NONE = "spf=none smtp.mailfrom=a@sender.example (no SPF record)"

-- t.ar_join - our Authentication-Results value from its result lines
-- (nil entries are skipped, so an optional line can be passed as nil)
function t.ar_join(...)
	local lines = {}
	for i = 1, select("#", ...) do
		local l = select(i, ...)
		if l ~= nil then
			lines[#lines + 1] = l
		end
	end
	return "mx.test.example;\n\t" .. table.concat(lines, ";\n\t")
end

-- t.expect_ar - exactly this header, inserted at index 0
function t.expect_ar(conn, want, what)
	local ok = mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
				t.SP .. want, 0)
	return t.check(ok, what .. ": Authentication-Results at index 0",
		       "want: " .. t.SP .. want .. "\ngot:  " ..
		       tostring(t.ar(conn)))
end

-- t.expect_ar_match - the header matches a Lua pattern (anchored)
function t.expect_ar_match(conn, pattern, what)
	local got = t.ar(conn) or "(none)"
	return t.check(string.find(got, "^" .. t.SP .. pattern .. "$") ~= nil,
		       what .. ": Authentication-Results pattern",
		       "pattern: " .. pattern .. "\ngot:     " .. got)
end

-- t.results - split a header value into its resinfo parts, outside
-- quoted strings and comments (RFC 8601 section 2.2): a forged result
-- smuggled inside a quoted HELO shows up as an extra part here.
function t.results(value)
	local parts, cur = {}, {}
	local quoted, depth, i = false, 0, 1
	while i <= #value do
		local c = string.sub(value, i, i)
		if c == "\\" and (quoted or depth > 0) then
			i = i + 1 -- an escaped character stays inside
		elseif quoted then
			if c == '"' then quoted = false end
		elseif depth > 0 then
			if c == "(" then depth = depth + 1 end
			if c == ")" then depth = depth - 1 end
		elseif c == '"' then
			quoted = true
		elseif c == "(" then
			depth = 1
		elseif c == ";" then
			parts[#parts + 1] = table.concat(cur)
			cur = {}
		else
			cur[#cur + 1] = c
		end
		i = i + 1
	end
	parts[#parts + 1] = table.concat(cur)
	for k, p in ipairs(parts) do
		parts[k] = string.gsub(string.gsub(p, "^%s+", ""), "%s+$", "")
	end
	return parts, quoted, depth
end

-- t.count_method - how many resinfo parts start with "method="
function t.count_method(parts, method)
	local n = 0
	for k = 2, #parts do
		if string.find(parts[k], "^" .. method .. "=") then
			n = n + 1
		end
	end
	return n
end
