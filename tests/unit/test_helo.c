/*
 * test_helo - HELO syntax, literals and the static facts
 */
#include <string.h>
#include <strings.h>

#include "milter/checks/helo.h"
#include "tests/unit/testlib.h"

static void
test_domain_syntax(void)
{
	static const struct {
		const char *in;
		int want;
	} cases[] = {
	    {"mail.example.com", 1},
	    {"localhost", 1},
	    {"a-b.example", 1},
	    {"-ab.example", 0},
	    {"ab-.example", 0},
	    {"a..b", 0},
	    {"example.com.", 0},
	    {"under_score.example", 0},
	    {"", 0},
	    {"sp ace.example", 0},
	    {"caf\xc3\xa9.example", 0},
	    {"a123456789012345678901234567890123456789012345678901234567890123"
	     ".example",
	     0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(helo_domain_syntax(cases[i].in), cases[i].want,
		          cases[i].in);
}

static void
test_literals(void)
{
	static const struct {
		const char *in;
		int ok;
	} cases[] = {
	    {"[192.0.2.1]", 1},
	    {"[IPv6:2001:db8::1]", 1},
	    {"[ipv6:2001:db8::1]", 1},
	    {"[2001:db8::1]", 0},
	    {"[192.0.2.256]", 0},
	    {"192.0.2.1", 0},
	    {"[]", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct netaddr a;
		CHECK_INT(helo_literal_parse(cases[i].in, &a) == 0, cases[i].ok,
		          cases[i].in);
	}
}

static int
name_is_us(const void *ctx, const char *name)
{
	(void)ctx;
	return strcasecmp(name, "mx.test.example") == 0;
}

static int
addr_is_us(const void *ctx, const struct netaddr *a)
{
	struct netaddr us;
	(void)ctx;
	netaddr_parse("198.51.100.25", &us);
	return netaddr_equal(a, &us);
}

/* Static facts only: no resolver, so DNS facts settle on temperror. */
static void
test_static_facts(void)
{
	static const struct {
		const char *helo;
		enum result syntax, fqdn, literal, claims, summary;
	} cases[] = {
	    {"[192.0.2.1]", RESULT_PASS, RESULT_FAIL, RESULT_PASS, RESULT_FAIL,
	     RESULT_PASS},
	    {"[192.0.2.9]", RESULT_PASS, RESULT_FAIL, RESULT_FAIL, RESULT_FAIL,
	     RESULT_FAIL},
	    {"[198.51.100.25]", RESULT_PASS, RESULT_FAIL, RESULT_FAIL,
	     RESULT_PASS, RESULT_FAIL},
	    {"MX.Test.Example", RESULT_PASS, RESULT_PASS, RESULT_NONE,
	     RESULT_PASS, RESULT_FAIL},
	    {"bad_name", RESULT_FAIL, RESULT_FAIL, RESULT_NONE, RESULT_FAIL,
	     RESULT_FAIL},
	    {"host", RESULT_PASS, RESULT_FAIL, RESULT_NONE, RESULT_FAIL,
	     RESULT_TEMPERROR},
	    {"host.123", RESULT_PASS, RESULT_FAIL, RESULT_NONE, RESULT_FAIL,
	     RESULT_TEMPERROR},
	};
	struct helo_local local = {name_is_us, addr_is_us, NULL};
	struct netaddr client;

	netaddr_parse("192.0.2.1", &client);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct helo_check h;
		helo_start(&h, NULL, cases[i].helo, &client, &local, 0);
		helo_finish(&h, NULL, RESULT_PASS, "other.example");
		CHECK_STR(result_name(h.facts[HELO_SYNTAX]),
		          result_name(cases[i].syntax), cases[i].helo);
		CHECK_STR(result_name(h.facts[HELO_FQDN]),
		          result_name(cases[i].fqdn), cases[i].helo);
		CHECK_STR(result_name(h.facts[HELO_LITERAL]),
		          result_name(cases[i].literal), cases[i].helo);
		CHECK_STR(result_name(h.facts[HELO_CLAIMS_LOCAL]),
		          result_name(cases[i].claims), cases[i].helo);
		CHECK_STR(result_name(helo_summary(&h)),
		          result_name(cases[i].summary), cases[i].helo);
	}
}

int
main(void)
{
	test_domain_syntax();
	test_literals();
	test_static_facts();
	return test_summary("helo");
}
