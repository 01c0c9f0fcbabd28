/*
 * test_spf - SPF record validator, record rewrite, header builders and
 * the no-DNS paths of the check (malformed identities), without a DNS
 * server: every case here is decided before any query is made.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "milter/checks/spf.h"
#include "tests/unit/testlib.h"

struct rec_case {
	const char *name;
	const char *record;
	int want; /* 0 valid, -1 invalid */
};

static const struct rec_case rec_cases[] = {
    {"minimal", "v=spf1", 0},
    {"all", "v=spf1 -all", 0},
    {"case", "V=SPF1 +ALL", 0},
    {"trailing spaces", "v=spf1 mx   ", 0},
    {"typical",
     "v=spf1 a mx ip4:192.0.2.0/24 ip6:2001:db8::/32 "
     "include:_spf.example.com ~all",
     0},
    {"dual cidr", "v=spf1 a:example.com/24//64 mx/0 a//0 -all", 0},
    {"macros", "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all", 0},
    {"escapes", "v=spf1 a:macro%%percent%_%_space%-url.example.com", 0},
    {"domain-end macro", "v=spf1 include:%{d2}", 0},
    {"trailing dot", "v=spf1 a:example.com.", 0},
    {"unknown modifier", "v=spf1 moo.cow-far_out=man:dog/cat -all", 0},
    {"redirect", "v=spf1 redirect=_spf.example.com", 0},
    {"exp", "v=spf1 -all exp=explain.%{d}", 0},
    {"toplabel hyphen", "v=spf1 a:foo.1-2", 0},
    {"ptr", "v=spf1 ptr ptr:example.com -all", 0},
    {"ip4 zero", "v=spf1 ip4:0.0.0.0/0", 0},
    {"ip6 mapped", "v=spf1 ip6:::ffff:1.2.3.4", 0},
    {"not spf", "v=spf10 -all", -1},
    {"spf2", "spf2.0/pra -all", -1},
    {"unknown mechanism", "v=spf1 foo -all", -1},
    {"all with arg", "v=spf1 all:example.com", -1},
    {"include no domain", "v=spf1 include", -1},
    {"include empty", "v=spf1 include:", -1},
    {"single label", "v=spf1 include:foo", -1},
    {"numeric toplabel", "v=spf1 a:1.2.3.4", -1},
    {"toplabel bad hyphen", "v=spf1 a:foo.bar-", -1},
    {"cidr4 33", "v=spf1 a/33", -1},
    {"cidr6 129", "v=spf1 a//129", -1},
    {"cidr leading zero", "v=spf1 ip4:1.2.3.4/024", -1},
    {"cidr empty", "v=spf1 a:example.com/", -1},
    {"ip4 leading zero", "v=spf1 ip4:01.2.3.4", -1},
    {"ip4 short", "v=spf1 ip4:1.2.3", -1},
    {"ip4 big", "v=spf1 ip4:1.2.3.256", -1},
    {"ip6 bad", "v=spf1 ip6:1::2::3", -1},
    {"ip6 cidr on ip4", "v=spf1 ip4:1.2.3.4//64", -1},
    {"two redirects", "v=spf1 redirect=a.example redirect=b.example", -1},
    {"two exp", "v=spf1 exp=a.example exp=b.example -all", -1},
    {"qualified modifier", "v=spf1 -redirect=a.example", -1},
    {"empty modifier name", "v=spf1 =foo", -1},
    {"redirect empty", "v=spf1 redirect=", -1},
    {"8bit", "v=spf1 a:\xc3\xa9xample.com -all", -1},
    {"control", "v=spf1 a:ex\x01mple.com", -1},
    {"tab separator", "v=spf1\t-all", -1},
    {"qualifier only", "v=spf1 -", -1},
    /* CVE-2023-42118 style macro strings: never reach libspf2. */
    {"percent at end", "v=spf1 exists:foo.example.com%", -1},
    {"bad escape", "v=spf1 exists:%x.example.com", -1},
    {"unterminated", "v=spf1 exists:%{l.example.com", -1},
    {"unterminated space", "v=spf1 exists:%{l -all", -1},
    {"bad letter", "v=spf1 exists:%{q}.example.com", -1},
    {"exp letter outside exp", "v=spf1 exists:%{c}.example.com", -1},
    {"digit zero", "v=spf1 exists:%{l0}.example.com", -1},
    {"digits huge", "v=spf1 exists:%{l99999999999}.example.com", -1},
    {"digits 129", "v=spf1 exists:%{l129}.example.com", -1},
    {"double r", "v=spf1 exists:%{lrr}.example.com", -1},
    {"bad delimiter", "v=spf1 exists:%{l|}.example.com", -1},
    {"empty braces", "v=spf1 exists:%{}.example.com", -1},
    {"nested", "v=spf1 exists:%{l%{d}}.example.com", -1},
    {"delims then digit", "v=spf1 exists:%{l.1}.example.com", -1},
    {"many ok", "v=spf1 exists:%{l128r.-+,/_=}.example.com", 0},
};

/* test_records - spf_record_check over the table */
static void
test_records(void)
{
	char why[160];
	size_t i;

	for (i = 0; i < sizeof(rec_cases) / sizeof(rec_cases[0]); i++) {
		why[0] = '\0';
		CHECK_INT(
		    spf_record_check(rec_cases[i].record, why, sizeof(why)),
		    rec_cases[i].want, rec_cases[i].name);
		if (rec_cases[i].want < 0)
			CHECK(why[0] != '\0', "%s: no reason given",
			      rec_cases[i].name);
	}
	CHECK_INT(spf_record_check(NULL, why, sizeof(why)), -1, "NULL");
}

/* test_explain - explain-string validation (c, r, t allowed; spaces) */
static void
test_explain(void)
{
	static const struct rec_case cases[] = {
	    {"plain", "See http://example.com/why", 0},
	    {"spaces", "Connections from %{c} not authorized.", 0},
	    {"r and t", "%{r} at %{t}", 0},
	    {"empty", "", 0},
	    {"bad macro", "broken %{x}", -1},
	    {"lone percent", "100%", -1},
	    {"newline", "a\nb", -1},
	    {"8bit", "caf\xc3\xa9", -1},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(spf_explain_check(cases[i].record, NULL, 0),
		          cases[i].want, cases[i].name);
}

/* test_select - RFC 7208 4.5 version test */
static void
test_select(void)
{
	static const struct rec_case cases[] = {
	    {"exact", "v=spf1", 1},
	    {"space", "v=spf1 -all", 1},
	    {"upper", "V=SpF1 -all", 1},
	    {"spf10", "v=spf10 -all", 0},
	    {"no space", "v=spf1-all", 0},
	    {"leading space", " v=spf1 -all", 0},
	    {"other", "google-site-verification=x", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(spf_record_is_spf1(cases[i].record), cases[i].want,
		          cases[i].name);
}

/* test_domains - identity domains (RFC 7208 4.3) */
static void
test_domains(void)
{
	static const struct rec_case cases[] = {
	    {"fqdn", "example.com", 0},
	    {"trailing dot", "example.com.", 0},
	    {"single label", "localhost", -1},
	    {"empty label", "a..example.com", -1},
	    {"leading dot", ".example.com", -1},
	    {"literal", "[192.0.2.1]", -1},
	    {"empty", "", -1},
	    {"8bit", "ex\xe4mple.com", -1},
	    {"space", "exa mple.com", -1},
	    {"label 63",
	     "a23456789012345678901234567890123456789012345678901"
	     "234567890123.com",
	     0},
	    {"label 64",
	     "a23456789012345678901234567890123456789012345678901"
	     "2345678901234.com",
	     -1},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(spf_domain_check(cases[i].record), cases[i].want,
		          cases[i].name);
}

struct rw_case {
	const char *name;
	const char *record;
	int family;
	const char *want;
};

/* test_rewrite - the libspf2-safe shape of valid records */
static void
test_rewrite(void)
{
	static const struct rw_case cases[] = {
	    {"unchanged", "v=spf1 a mx -all", AF_INET, "v=spf1 a mx -all "},
	    {"unknown modifier dropped", "v=spf1 foo=bar -all", AF_INET,
	     "v=spf1 -all "},
	    {"redirect last", "v=spf1 redirect=r.example ip4:1.2.3.4", AF_INET,
	     "v=spf1 ip4:1.2.3.4 redirect=r.example"},
	    {"redirect with all", "v=spf1 redirect=r.example ~all", AF_INET,
	     "v=spf1 ~all "},
	    {"ip4/0 v4", "v=spf1 -ip4:1.1.1.1/0", AF_INET,
	     "v=spf1 -ip4:0.0.0.0/1 -ip4:128.0.0.0/1 "},
	    {"ip4/0 v6", "v=spf1 ip4:1.1.1.1/0 -all", AF_INET6, "v=spf1 -all "},
	    {"ip6/0 v6", "v=spf1 ip6:::/0", AF_INET6,
	     "v=spf1 ip6:::/1 ip6:8000::/1 "},
	    {"a/0 v4", "v=spf1 a/0 -all", AF_INET,
	     "v=spf1 a:" SPF_ANY_PREFIX "%{d} -all "},
	    {"a/0 v6", "v=spf1 a/0 -all", AF_INET6, "v=spf1 a -all "},
	    {"mx:d//0 v6", "v=spf1 ?mx:e.example/24//0", AF_INET6,
	     "v=spf1 ?mx:" SPF_ANY_PREFIX "e.example "},
	    {"mx:d//0 v4", "v=spf1 mx:e.example/24//0", AF_INET,
	     "v=spf1 mx:e.example/24 "},
	};
	char out[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out[0] = '\0';
		CHECK_INT(spf_record_rewrite(cases[i].record, cases[i].family,
		                             out, sizeof(out)),
		          0, cases[i].name);
		CHECK_STR(out, cases[i].want, cases[i].name);
	}
	CHECK_INT(spf_record_rewrite("v=spf1 a mx -all", AF_INET, out, 10), -1,
	          "rewrite overflow");
}

/* outcome - a filled outcome for the header tests */
static struct spf_outcome
outcome(enum result r, const char *identity, const char *sender,
        const char *reason)
{
	struct spf_outcome o;

	memset(&o, 0, sizeof(o));
	o.result = r;
	snprintf(o.identity, sizeof(o.identity), "%s", identity);
	snprintf(o.sender, sizeof(o.sender), "%s", sender);
	snprintf(o.reason, sizeof(o.reason), "%s", reason);
	return o;
}

/*
 * header_safe - no CR/LF/controls/8-bit, parentheses balanced outside
 * quoted-strings, and no ';' or '=' inside the comment left unescaped
 * by the structure: the value parses into exactly want_pairs keys.
 */
static int
header_safe(const char *h, int *pairs)
{
	int depth = 0, quoted = 0;

	*pairs = 0;
	for (; *h != '\0'; h++) {
		if ((unsigned char)*h < 0x20 || (unsigned char)*h >= 0x7f)
			return 0;
		if (*h == '\\' && (quoted || depth > 0)) {
			if (*++h == '\0')
				return 0;
			continue;
		}
		if (quoted) {
			quoted = *h != '"';
			continue;
		}
		if (*h == '"' && depth == 0)
			quoted = 1;
		else if (*h == '(')
			depth++;
		else if (*h == ')' && --depth < 0)
			return 0;
		else if (*h == '=' && depth == 0)
			(*pairs)++;
	}
	return depth == 0 && !quoted;
}

/* test_received_spf - values and hostile text */
static void
test_received_spf(void)
{
	static const struct {
		const char *name, *helo, *sender;
	} hostile[] = {
	    {"quote", "a\"b.example", "x\"; spf=pass@evil.example"},
	    {"parens", "(pass) helo", "u)(@evil.example"},
	    {"semicolon", "h; client-ip=1.2.3.4", "a;b=c@example.com"},
	    {"crlf", "h\r\nX-Injected: yes", "a\r\nb@example.com"},
	    {"backslash", "h\\", "\\@example.com"},
	    {"8bit", "h\xff", "\xc3\xa9@example.com"},
	};
	struct spf_outcome o;
	struct netaddr ip;
	char buf[1024];
	size_t i;
	int pairs;

	netaddr_parse("192.0.2.1", &ip);
	o = outcome(RESULT_PASS, "mailfrom", "user@example.com", "");
	CHECK_INT(spf_received_spf(&o, &ip, "mx.example.com", "mv.test", buf,
	                           sizeof(buf)),
	          0, "pass rc");
	CHECK_STR(buf,
	          "pass (mv.test: domain of user@example.com designates "
	          "192.0.2.1 as permitted sender) client-ip=192.0.2.1; "
	          "envelope-from=\"user@example.com\"; helo=mx.example.com; "
	          "receiver=mv.test; identity=mailfrom;",
	          "pass value");
	o = outcome(RESULT_PERMERROR, "helo", "postmaster@h.example",
	            "invalid term: \"a:1.2.3.4\"");
	netaddr_parse("2001:db8::7", &ip);
	spf_received_spf(&o, &ip, "h.example", NULL, buf, sizeof(buf));
	CHECK(strstr(buf, "client-ip=\"2001:db8::7\"") != NULL,
	      "IPv6 quoted: %s", buf);
	CHECK(strstr(buf, "envelope-from=\"\"; ") != NULL &&
	          strstr(buf, "identity=helo") != NULL &&
	          strstr(buf, "problem=\"invalid term: \\\"a:1.2.3.4\\\"\"") !=
	              NULL,
	      "helo permerror: %s", buf);
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		o = outcome(RESULT_FAIL, "mailfrom", hostile[i].sender, "");
		CHECK_INT(spf_received_spf(&o, &ip, hostile[i].helo, "mv.test",
		                           buf, sizeof(buf)),
		          0, hostile[i].name);
		CHECK(header_safe(buf, &pairs) && pairs == 5,
		      "%s: unsafe (%d pairs): %s", hostile[i].name, pairs, buf);
		CHECK(strncmp(buf, "fail (", 6) == 0, "%s: result: %s",
		      hostile[i].name, buf);
	}
	o = outcome(RESULT_PASS, "mailfrom", "user@example.com", "");
	CHECK_INT(spf_received_spf(&o, &ip, "h", "r", buf, 20), -1,
	          "short buffer");
	CHECK(strlen(buf) < 20, "short buffer terminated");
}

/* test_authres - Authentication-Results method values */
static void
test_authres(void)
{
	static const struct {
		const char *name;
		enum result r;
		const char *identity, *sender, *want;
	} cases[] = {
	    {"pass", RESULT_PASS, "mailfrom", "user@example.com",
	     "spf=pass smtp.mailfrom=user@example.com"},
	    {"softfail", RESULT_SOFTFAIL, "mailfrom", "a.b@example.com",
	     "spf=softfail smtp.mailfrom=a.b@example.com"},
	    {"helo", RESULT_NONE, "helo", "postmaster@mx.example.com",
	     "spf=none smtp.helo=mx.example.com"},
	    {"temperror", RESULT_TEMPERROR, "mailfrom", "u@example.com",
	     "spf=temperror smtp.mailfrom=u@example.com"},
	    {"hostile sender", RESULT_FAIL, "mailfrom",
	     "a; dkim=pass\"\r\n@example.com",
	     "spf=fail smtp.mailfrom=\"a; dkim=pass\\\"??@example.com\""},
	    {"hostile helo", RESULT_NEUTRAL, "helo", "postmaster@h; spf=pass",
	     "spf=neutral smtp.helo=\"h; spf=pass\""},
	    {"no sender", RESULT_NONE, "mailfrom", "", "spf=none"},
	    {"permerror", RESULT_PERMERROR, "mailfrom", "x@example.com",
	     "spf=permerror smtp.mailfrom=x@example.com"},
	};
	struct spf_outcome o;
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = outcome(cases[i].r, cases[i].identity, cases[i].sender, "");
		CHECK_INT(spf_authres(&o, buf, sizeof(buf)), 0, cases[i].name);
		CHECK_STR(buf, cases[i].want, cases[i].name);
	}
}

/*
 * stale_outcome - what a previous row could have left behind: every
 * field a check must write holds a value no row expects, so a field the
 * check forgot to set fails its row instead of passing on a stale value.
 */
static void
stale_outcome(struct spf_outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->result = RESULT_PASS;
	snprintf(o->identity, sizeof(o->identity), "stale");
	snprintf(o->sender, sizeof(o->sender), "stale@stale.example");
	snprintf(o->domain, sizeof(o->domain), "stale.example");
}

/* test_no_dns - identities decided as "none" before any DNS query */
static void
test_no_dns(void)
{
	static const struct {
		const char *name, *helo, *mailfrom, *sender;
	} cases[] = {
	    {"domain literal", "h.example", "foo@[1.2.3.5]", "foo@[1.2.3.5]"},
	    {"empty label", "h.example", "x@A...example.com",
	     "x@A...example.com"},
	    {"long label", "h.example",
	     "x@A123456789012345678901234567890123456789012345678901234567"
	     "890123.example.com",
	     NULL},
	    {"no domain", "h.example", "user", "postmaster@user"},
	    {"null sender, bare helo", "A2345678", "", "postmaster@A2345678"},
	    {"null sender, literal helo", "[1.2.3.5]", "<>",
	     "postmaster@[1.2.3.5]"},
	    {"8bit", "h.example", "u@ex\xe4mple.com", NULL},
	};
	struct spf_outcome o;
	struct netaddr ip;
	size_t i;

	netaddr_parse("192.0.2.1", &ip);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		stale_outcome(&o);
		CHECK_INT(spf_check_mailfrom(NULL, &ip, cases[i].helo,
		                             cases[i].mailfrom, "r", 0, &o),
		          0, cases[i].name);
		CHECK_INT(o.result, RESULT_NONE, cases[i].name);
		CHECK_STR(o.identity, "mailfrom", cases[i].name);
		if (cases[i].sender != NULL)
			CHECK_STR(o.sender, cases[i].sender, cases[i].name);
	}
	stale_outcome(&o);
	CHECK_INT(spf_check_helo(NULL, &ip, "localhost", "r", 0, &o), 0,
	          "helo single label");
	CHECK_INT(o.result, RESULT_NONE, "helo single label result");
	CHECK_STR(o.identity, "helo", "helo identity");
	stale_outcome(&o);
	CHECK_INT(
	    spf_check_mailfrom(NULL, &ip, "h", "<@example.com>", "r", 0, &o),
	    -1, "no resolver");
	CHECK_STR(o.sender, "postmaster@example.com", "no local-part");
}

int
main(void)
{
	test_records();
	test_explain();
	test_select();
	test_domains();
	test_rewrite();
	test_received_spf();
	test_authres();
	test_no_dns();
	return test_summary("test_spf");
}
