-- spf.lua - SPF of MAIL FROM and HELO: Received-SPF and the A-R lines
--
-- One client (192.0.2.1, iprev pass, HELO mail.good.example whose record
-- "v=spf1 a -all" passes it) sends one message per MAIL FROM domain of
-- zones.json. Received-SPF (the MAIL FROM check) is inserted at index 0
-- with an exact value; the A-R carries spf= for MAIL FROM, then for
-- HELO, between iprev= and x-helo=, a reason comment when not pass.
--
-- expect-verdict: {"queue_id":"SPF-PASS","spf":"pass","spf_domain":"spf-pass.example","spf_helo":"pass"}
-- expect-verdict: {"queue_id":"SPF-FAIL","spf":"fail","spf_domain":"spf-fail.example","spf_helo":"pass"}
-- expect-verdict: {"queue_id":"SPF-SOFT","spf":"softfail","spf_domain":"spf-soft.example"}
-- expect-verdict: {"queue_id":"SPF-NEUTRAL","spf":"neutral","spf_domain":"spf-neutral.example"}
-- expect-verdict: {"queue_id":"SPF-TEMP","spf":"temperror","spf_domain":"spf-servfail.example"}
-- expect-verdict: {"queue_id":"SPF-PERM","spf":"permerror","spf_domain":"spf-perm.example"}
-- expect-verdict: {"queue_id":"SPF-NULL","spf":"softfail","spf_domain":"helo.spf.example","spf_helo":"softfail","mail_from":""}
-- expect-wire: insheader 0 Received-SPF " pass (mx.test.example: domain of a@spf-pass.example designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=\"a@spf-pass.example\"; helo=mail.good.example; receiver=mx.test.example; identity=mailfrom;"
-- expect-wire: insheader 0 Authentication-Results " mx.test.example;\n\tiprev=pass policy.iprev=192.0.2.1 (mail.good.example);\n\tspf=pass smtp.mailfrom=a@spf-pass.example;\n\tspf=pass smtp.helo=mail.good.example;\n\tx-helo=pass smtp.helo=mail.good.example (syntax=pass fqdn=pass literal=none resolves=pass matches_ip=pass matches_ptr=pass claims_local=fail)"
dofile(libdir .. "/lib.lua")

local IPREV = "iprev=pass policy.iprev=192.0.2.1 (mail.good.example)"
local HELO_SPF = "spf=pass smtp.helo=mail.good.example"
local XHELO = "x-helo=pass smtp.helo=mail.good.example (syntax=pass " ..
    "fqdn=pass literal=none resolves=pass matches_ip=pass " ..
    "matches_ptr=pass claims_local=fail)"

-- expect_rspf - exactly this Received-SPF, inserted at index 0
local function expect_rspf(conn, want, what)
	local ok = mt.eom_check(conn, MT_HDRINSERT, "Received-SPF",
				t.SP .. want, 0)
	return t.check(ok, what .. ": Received-SPF at index 0",
		       "want: " .. t.SP .. want .. "\ngot:  " ..
		       tostring(mt.getheader(conn, "Received-SPF", 0)))
end

-- received - the Received-SPF value of a MAIL FROM check from 192.0.2.1
-- (local@domain is no dot-atom: RFC 7208 9.1 wants it quoted)
local function received(result, comment, sender, extra)
	return result .. " (mx.test.example: " .. comment .. ") " ..
	    "client-ip=192.0.2.1; envelope-from=\"" .. sender ..
	    "\"; helo=mail.good.example; receiver=mx.test.example; " ..
	    "identity=mailfrom" .. (extra or "") .. ";"
end

local cases = {
	{"SPF-PASS", "a@spf-pass.example",
	 received("pass", "domain of a@spf-pass.example designates " ..
		  "192.0.2.1 as permitted sender", "a@spf-pass.example"),
	 "spf=pass smtp.mailfrom=a@spf-pass.example"},
	{"SPF-FAIL", "b@spf-fail.example",
	 received("fail", "domain of b@spf-fail.example does not " ..
		  "designate 192.0.2.1 as permitted sender",
		  "b@spf-fail.example"),
	 "spf=fail smtp.mailfrom=b@spf-fail.example (matched mechanism)"},
	{"SPF-SOFT", "c@spf-soft.example",
	 received("softfail", "transitioning domain of c@spf-soft.example " ..
		  "does not designate 192.0.2.1 as permitted sender",
		  "c@spf-soft.example"),
	 "spf=softfail smtp.mailfrom=c@spf-soft.example (matched mechanism)"},
	{"SPF-NEUTRAL", "d@spf-neutral.example",
	 received("neutral", "192.0.2.1 is neither permitted nor denied " ..
		  "by domain of d@spf-neutral.example",
		  "d@spf-neutral.example"),
	 "spf=neutral smtp.mailfrom=d@spf-neutral.example (matched mechanism)"},
	{"SPF-TEMP", "e@spf-servfail.example",
	 received("temperror", "temporary error in processing during " ..
		  "lookup of e@spf-servfail.example: DNS lookup failure",
		  "e@spf-servfail.example", "; problem=\"DNS lookup failure\""),
	 "spf=temperror smtp.mailfrom=e@spf-servfail.example " ..
	 "(DNS lookup failure)"},
}

local conn = t.client("client.example", "192.0.2.1", "mail.good.example",
		      "spf")
for _, c in ipairs(cases) do
	local what = c[1]
	t.msg(conn, {qid = c[1], from = "<" .. c[2] .. ">"}, what)
	expect_rspf(conn, c[3], what)
	t.expect_ar(conn, "mx.test.example;\n\t" .. IPREV .. ";\n\t" ..
		    c[4] .. ";\n\t" .. HELO_SPF .. ";\n\t" .. XHELO, what)
end
do
	-- An include whose target has no record: permerror (RFC 7208 5.2).
	local what = "SPF-PERM"
	t.msg(conn, {qid = what, from = "<f@spf-perm.example>"}, what)
	local rspf = mt.getheader(conn, "Received-SPF", 0) or ""
	t.check(string.find(rspf, "^ permerror %(mx%.test%.example: " ..
			    "permanent error in processing during lookup " ..
			    "of f@spf%-perm%.example: ") ~= nil and
		string.find(rspf, "; identity=mailfrom; problem=", 1, true),
		what .. ": Received-SPF permerror with a problem", rspf)
	t.expect_ar_match(conn, "mx%.test%.example;\n\t" ..
	    string.gsub(IPREV, "[%.%-%(%)]", "%%%0") .. ";\n\t" ..
	    "spf=permerror smtp%.mailfrom=f@spf%-perm%.example " ..
	    "%([^;]+%);\n\t" ..
	    "spf=pass smtp%.helo=mail%.good%.example;\n\t.*", what)
end
mt.disconnect(conn)
do
	-- The null sender: MAIL FROM's check uses postmaster@HELO (RFC 7208
	-- 2.4) and Received-SPF names the HELO identity, no envelope-from.
	-- helo.spf.example softfails the client, mail.good.example passes
	-- it, so the lines cannot come from another identity.
	local what = "SPF-NULL"
	local c2 = t.client("client.example", "192.0.2.1", "helo.spf.example",
			    what)
	t.msg(c2, {qid = what, from = "<>"}, what)
	expect_rspf(c2, "softfail (mx.test.example: transitioning domain " ..
		    "of postmaster@helo.spf.example does not designate " ..
		    "192.0.2.1 as permitted sender) client-ip=192.0.2.1; " ..
		    "envelope-from=\"\"; helo=helo.spf.example; " ..
		    "receiver=mx.test.example; identity=helo;", what)
	t.expect_ar(c2, t.ar_join(IPREV,
	    "spf=softfail smtp.mailfrom=postmaster@helo.spf.example " ..
	    "(matched mechanism)",
	    "spf=softfail smtp.helo=helo.spf.example (matched mechanism)",
	    "x-helo=pass smtp.helo=helo.spf.example (syntax=pass fqdn=pass " ..
	    "literal=none resolves=pass matches_ip=pass matches_ptr=fail " ..
	    "claims_local=fail)"), what)
	mt.disconnect(c2)
end
t.done()
