-- inject.lua - client text must not forge results in our header
--
-- expect-verdict: {"queue_id":"INJ-HELO","helo":"evil\"; iprev=pass (x","iprev":"permerror","helo_check":"fail"}
dofile(libdir .. "/lib.lua")

-- structure - one iprev=, one spf= (MAIL FROM; a HELO that is no domain
-- is not checked) and one x-helo= result, quotes and comments balanced,
-- nothing but those after the authserv-id
local function structure(conn, what, extra)
	local v = t.ar(conn) or ""
	local parts, open_quote, depth = t.results(v)
	t.check(not open_quote and depth == 0,
		what .. ": quotes and comments are closed", v)
	t.check(t.count_method(parts, "iprev") == 1,
		what .. ": exactly one iprev= result", v)
	t.check(t.count_method(parts, "spf") == 1,
		what .. ": exactly one spf= result", v)
	t.check(t.count_method(parts, "x%-helo") == 1,
		what .. ": exactly one x-helo= result", v)
	t.check(#parts == 4 + (extra or 0),
		what .. ": " .. (4 + (extra or 0)) .. " parts", v)
	t.check(parts[1] == "mx.test.example",
		what .. ": authserv-id first", v)
end

do
	local what = "HELO with quote, semicolon, parenthesis"
	local conn = t.client("client.example", "192.0.2.3",
			      'evil"; iprev=pass (x', what)
	t.msg(conn, {qid = "INJ-HELO"}, what)
	t.expect_ar(conn, "mx.test.example;\n" ..
	    "\tiprev=permerror policy.iprev=192.0.2.3 (no PTR record);\n" ..
	    "\t" .. t.MF_NONE .. ";\n" ..
	    "\tx-helo=fail smtp.helo=\"evil\\\"; iprev=pass (x\" (syntax=fail " ..
	    "fqdn=fail literal=none resolves=none matches_ip=none " ..
	    "matches_ptr=none claims_local=fail)", what)
	structure(conn, what)
	mt.disconnect(conn)
end

do
	local what = "HELO with backslash and closing parenthesis"
	local conn = t.client("client.example", "192.0.2.3",
			      'a\\) ; iprev=pass', what)
	t.msg(conn, {qid = "INJ-HELO2"}, what)
	t.expect_ar(conn, "mx.test.example;\n" ..
	    "\tiprev=permerror policy.iprev=192.0.2.3 (no PTR record);\n" ..
	    "\t" .. t.MF_NONE .. ";\n" ..
	    "\tx-helo=fail smtp.helo=\"a\\\\) ; iprev=pass\" (syntax=fail " ..
	    "fqdn=fail literal=none resolves=none matches_ip=none " ..
	    "matches_ptr=none claims_local=fail)", what)
	structure(conn, what)
	mt.disconnect(conn)
end

do
	-- Line breaks would start a new header line: never copied.
	local what = "HELO with CR LF"
	local conn = t.client("client.example", "192.0.2.3",
			      "x\r\n\tiprev=pass", what)
	t.msg(conn, {qid = "INJ-CRLF"}, what)
	local v = t.ar(conn) or ""
	t.check(not string.find(v, "\r", 1, true) and
		select(2, string.gsub(v, "\n", "")) == 3,
		what .. ": no CR, only our three line breaks", v)
	structure(conn, what)
	mt.disconnect(conn)
end

do
	-- A quoted local-part may hold ";" and "(": smtp.mailfrom quotes it.
	local what = "MAIL FROM with semicolon and parenthesis"
	local conn = t.client("client.example", "192.0.2.3", "[192.0.2.3]",
			      what)
	t.msg(conn, {qid = "INJ-MAIL",
		     from = '<"x; spf=pass (y"@sender.example>'}, what)
	t.expect_ar(conn, "mx.test.example;\n" ..
	    "\tiprev=permerror policy.iprev=192.0.2.3 (no PTR record);\n" ..
	    "\tspf=none smtp.mailfrom=\"\\\"x; spf=pass (y\\\"@sender.example\" " ..
	    "(no SPF record);\n" ..
	    "\tx-helo=pass smtp.helo=\"[192.0.2.3]\" (syntax=pass fqdn=fail " ..
	    "literal=pass resolves=none matches_ip=none matches_ptr=none " ..
	    "claims_local=fail)", what)
	structure(conn, what)
	mt.disconnect(conn)
end
do
	local what = "SMTP AUTH user with quote and semicolon"
	local conn = t.client("client.example", "192.0.2.3", "h.example", what)
	t.msg(conn, {qid = "INJ-AUTH", auth = 'bob"; iprev=pass'}, what)
	t.expect_ar(conn, "mx.test.example;\n" ..
	    "\tauth=pass smtp.auth=\"bob\\\"; iprev=pass\"", what)
	local parts = t.results(t.ar(conn) or "")
	t.check(#parts == 2 and t.count_method(parts, "iprev") == 0,
		what .. ": only the auth result", t.ar(conn))
	mt.disconnect(conn)
end

t.done()
