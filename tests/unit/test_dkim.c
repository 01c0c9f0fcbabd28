/*
 * test_dkim - the DNS-free parts of the DKIM module: the signature
 * precheck, the order of results, the Authentication-Results text, and a
 * message without signatures run through libopendkim.
 */
#include <stdio.h>
#include <string.h>

#include "milter/checks/dkim.h"
#include "tests/unit/testlib.h"

#define GOOD                                                                   \
	"v=1; a=rsa-sha256; d=example.com; s=sel; h=from:to; "                 \
	"bh=AAAAAAAA; b=QUJDREVGR0hJSktM"

/* test_precheck - good and malformed DKIM-Signature values */
static void
test_precheck(void)
{
	static const struct {
		const char *name, *value, *reason; /* reason NULL: passes */
	} cases[] = {
	    {"good", GOOD, NULL},
	    {"folded",
	     "v=1; a=rsa-sha256;\n\td=example.com; s=sel; "
	     "h=from; bh=AAAA; b=QUJD\n\tREVG",
	     NULL},
	    {"duplicate", GOOD "; d=other.com", "duplicate tag"},
	    {"missing bh",
	     "v=1; a=rsa-sha256; d=example.com; s=sel; "
	     "h=from; b=AAAA",
	     "missing required tag"},
	    {"version",
	     "v=2; a=rsa-sha256; d=example.com; s=sel; "
	     "h=from; bh=AAAA; b=AAAA",
	     "unsupported version"},
	    {"bad b64",
	     "v=1; a=rsa-sha256; d=example.com; s=sel; "
	     "h=from; bh=AAAA; b=AA!A",
	     "bad b= base64"},
	    {"b64 pad",
	     "v=1; a=rsa-sha256; d=example.com; s=sel; "
	     "h=from; bh=AAAA; b=A=AA",
	     "bad b= base64"},
	    {"bad bh",
	     "v=1; a=rsa-sha256; d=example.com; s=sel; "
	     "h=from; bh=AAA; b=AAAA",
	     "bad bh= base64"},
	    {"tag name", GOOD "; 9x=1", "bad tag name"},
	    {"no equals", GOOD "; junk", "tag without '='"},
	    {"l huge", GOOD "; l=1234567890123456789", "bad l= value"},
	    {"l alpha", GOOD "; l=12a", "bad l= value"},
	    {"sha1",
	     "v=1; a=rsa-sha1; d=example.com; s=sel; h=from; "
	     "bh=AAAA; b=AAAA",
	     "rsa-sha1 not accepted (RFC 8301)"},
	    {"bad domain",
	     "v=1; a=rsa-sha256; d=ex\"ample.com; s=sel; "
	     "h=from; bh=AAAA; b=AAAA",
	     "bad d= domain"},
	    {"bad selector",
	     "v=1; a=rsa-sha256; d=example.com; s=a..b; "
	     "h=from; bh=AAAA; b=AAAA",
	     "bad s= selector"},
	    {"control", GOOD "; z=a\001b", "control character"},
	    {"empty", "", "missing required tag"},
	};
	struct dkim_sig_result r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dkim_sig_precheck(cases[i].value, strlen(cases[i].value), &r);
		CHECK_INT(r.result,
		          cases[i].reason ? RESULT_PERMERROR : RESULT_PASS,
		          cases[i].name);
		CHECK_STR(r.reason, cases[i].reason ? cases[i].reason : "",
		          cases[i].name);
	}
	dkim_sig_precheck(GOOD "; l=42; i=user@example.com",
	                  strlen(GOOD "; l=42; i=user@example.com"), &r);
	CHECK_STR(r.domain, "example.com", "fields d");
	CHECK_STR(r.selector, "sel", "fields s");
	CHECK_STR(r.algorithm, "rsa-sha256", "fields a");
	CHECK_STR(r.b8, "QUJDREVG", "fields b8");
	CHECK_STR(r.identity, "user@example.com", "fields i");
	CHECK_INT(r.body_length, 42, "fields l");
	dkim_sig_precheck(GOOD, strlen(GOOD), &r);
	CHECK_STR(r.identity, "@example.com", "default i");
	CHECK_INT(r.body_length, -1, "no l");
}

/* test_long - a header past DKIM_SIG_HEADER_MAX is refused unread */
static void
test_long(void)
{
	static char big[DKIM_SIG_HEADER_MAX + 64];
	struct dkim_sig_result r;

	memset(big, 'A', sizeof(big) - 1);
	memcpy(big, GOOD "; b=", sizeof(GOOD "; b=") - 1);
	dkim_sig_precheck(big, strlen(big), &r);
	CHECK_STR(r.reason, "signature header too long", "too long");
}

/* test_order - the documented "best result" order */
static void
test_order(void)
{
	static const struct {
		enum result a, b, want;
	} cases[] = {
	    {RESULT_FAIL, RESULT_PASS, RESULT_PASS},
	    {RESULT_PASS, RESULT_TEMPERROR, RESULT_PASS},
	    {RESULT_FAIL, RESULT_TEMPERROR, RESULT_TEMPERROR},
	    {RESULT_PERMERROR, RESULT_TEMPERROR, RESULT_TEMPERROR},
	    {RESULT_POLICY, RESULT_TEMPERROR, RESULT_TEMPERROR},
	    {RESULT_FAIL, RESULT_POLICY, RESULT_POLICY},
	    {RESULT_NEUTRAL, RESULT_FAIL, RESULT_FAIL},
	    {RESULT_PERMERROR, RESULT_NEUTRAL, RESULT_NEUTRAL},
	    {RESULT_NONE, RESULT_PERMERROR, RESULT_PERMERROR},
	    {RESULT_NONE, RESULT_NONE, RESULT_NONE},
	};
	size_t i;
	char name[64];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "best %s %s",
		         result_name(cases[i].a), result_name(cases[i].b));
		CHECK_INT(dkim_result_best(cases[i].a, cases[i].b),
		          cases[i].want, name);
		CHECK_INT(dkim_result_best(cases[i].b, cases[i].a),
		          cases[i].want, name);
	}
}

/* test_authres - A-R text, escaping of every message-supplied value */
static void
test_authres(void)
{
	static const struct {
		const char *name;
		struct dkim_sig_result sig;
		const char *want;
	} cases[] = {
	    {"pass",
	     {RESULT_PASS, "example.com", "@example.com", "sel", "rsa-sha256",
	      "abcdefgh", "", -1, 2048},
	     "dkim=pass header.d=example.com header.i=\"@example.com\" "
	     "header.s=sel header.a=rsa-sha256 header.b=abcdefgh"},
	    {"fail reason",
	     {RESULT_FAIL, "example.com", "", "s", "ed25519-sha256", "ab/+",
	      "body (x) \\ y", -1, 0},
	     "dkim=fail (body \\(x\\) \\\\ y) header.d=example.com "
	     "header.s=s header.a=ed25519-sha256 header.b=\"ab/+\""},
	    {"hostile",
	     {RESULT_PERMERROR, "ex\"am;ple", "a\r\nb", "s s", "", "", "bad",
	      -1, 0},
	     "dkim=permerror (bad) header.d=\"ex\\\"am;ple\" "
	     "header.i=\"a??b\" header.s=\"s s\""},
	};
	struct dkim_sig_result two[2];
	struct strbuf sb;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_init(&sb);
		dkim_authres_sigs(&cases[i].sig, 1, &sb);
		CHECK_STR(strbuf_str(&sb), cases[i].want, cases[i].name);
		strbuf_free(&sb);
	}
	strbuf_init(&sb);
	dkim_authres_sigs(NULL, 0, &sb);
	CHECK_STR(strbuf_str(&sb), "dkim=none", "none");
	strbuf_free(&sb);
	strbuf_init(&sb);
	two[0] = cases[0].sig;
	two[1] = cases[1].sig;
	dkim_authres_sigs(two, 2, &sb);
	CHECK(strstr(strbuf_str(&sb), "header.b=abcdefgh; dkim=fail (") != NULL,
	      "two entries joined: %s", strbuf_str(&sb));
	strbuf_free(&sb);
}

/* test_unsigned - a message without signatures, through libopendkim */
static void
test_unsigned(void)
{
	struct dns_config cfg = {"127.0.0.1:9", 100, 1};
	static const unsigned char body[] = "hello\r\n";
	struct dns_resolver *r;
	struct dkim_msg *m;
	struct strbuf sb;
	size_t n = 9;

	CHECK_INT(dkim_global_init(0), 0, "global init");
	r = dns_resolver_new(&cfg, NULL);
	m = dkim_msg_new(r, 0, "unit");
	CHECK(m != NULL, "dkim_msg_new");
	if (m == NULL)
		return;
	CHECK_INT(dkim_msg_header(m, "From", "a@example.com"), 0, "header");
	CHECK_INT(dkim_msg_header(m, "Subject", "x\n\ty"), 0, "folded");
	CHECK_INT(dkim_msg_eoh(m), 0, "eoh");
	CHECK_INT(dkim_msg_header(m, "Late", "x"), -1, "header after eoh");
	CHECK_INT(dkim_msg_body(m, body, sizeof(body) - 1), 0, "body");
	CHECK_INT(dkim_msg_eom(m, dns_now_ms() + 100), 0, "eom");
	CHECK_INT(dkim_msg_result(m), RESULT_NONE, "unsigned result");
	CHECK_INT(dkim_msg_nsigs(m), 0, "no signatures");
	(void)dkim_msg_domains(m, &n);
	CHECK_INT(n, 0, "no domains");
	strbuf_init(&sb);
	dkim_authres(m, &sb);
	CHECK_STR(strbuf_str(&sb), "dkim=none", "unsigned authres");
	strbuf_free(&sb);
	CHECK(dkim_ed25519_supported(), "ed25519 supported by libopendkim");
	dkim_msg_free(m);
	dns_resolver_free(r);
	dkim_msg_free(NULL);
	dkim_global_free();
}

int
main(void)
{
	if (dns_library_init() < 0)
		return 1;
	test_precheck();
	test_long();
	test_order();
	test_authres();
	test_unsigned();
	dns_library_cleanup();
	return test_summary("dkim");
}
