/*
 * test_netaddr - addresses, IPv4-mapped folding, CIDR matching
 */
#include <sys/socket.h>

#include "lib/netaddr.h"
#include "tests/unit/testlib.h"

static void
test_parse_format(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"192.0.2.1", "192.0.2.1"},
	    {"2001:db8::7", "2001:db8::7"},
	    {"IPv6:2001:db8::7", "2001:db8::7"},
	    {"2001:0db8:0000:0000:0000:0000:0000:0007", "2001:db8::7"},
	    {"::ffff:192.0.2.9", "192.0.2.9"},
	    {"[::1]", "::1"},
	    {"999.1.1.1", NULL},
	    {"", NULL},
	    {"1.2.3", NULL},
	    {"2001:db8::7::1", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct netaddr a;
		char buf[NETADDR_TEXT_MAX];
		int rc = netaddr_parse(cases[i].in, &a);
		if (cases[i].want == NULL) {
			CHECK(rc == -1, "parse \"%s\" should fail",
			      cases[i].in);
			continue;
		}
		CHECK(rc == 0, "parse \"%s\"", cases[i].in);
		netaddr_format(&a, buf, sizeof(buf));
		CHECK_STR(buf, cases[i].want, cases[i].in);
	}
}

static void
test_cidr(void)
{
	static const struct {
		const char *net, *ip;
		int want;
	} cases[] = {
	    {"192.0.2.0/24", "192.0.2.200", 1},
	    {"192.0.2.0/24", "192.0.3.1", 0},
	    {"192.0.2.128/25", "192.0.2.127", 0},
	    {"192.0.2.128/25", "192.0.2.129", 1},
	    {"0.0.0.0/0", "203.0.113.5", 1},
	    {"2001:db8::/32", "2001:db8:ffff::1", 1},
	    {"2001:db8::/32", "2001:db9::1", 0},
	    {"2001:db8::/32", "192.0.2.1", 0},
	    {"::ffff:192.0.2.0/120", "192.0.2.77", 1},
	    {"::1", "::1", 1},
	    {"127.0.0.0/8", "::ffff:127.0.0.1", 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr c;
		struct netaddr a;
		CHECK(cidr_parse(cases[i].net, &c) == 0, "cidr %s",
		      cases[i].net);
		CHECK(netaddr_parse(cases[i].ip, &a) == 0, "ip %s",
		      cases[i].ip);
		CHECK_INT(cidr_contains(&c, &a), cases[i].want, cases[i].ip);
	}
}

static void
test_cidr_list(void)
{
	struct cidr_list l = {NULL, 0};
	struct netaddr a;
	size_t bad = 0;

	CHECK(cidr_list_parse("127.0.0.0/8, ::1/128 10.0.0.0/8", &l, NULL) == 0,
	      "list parses");
	CHECK_INT(l.count, 3, "list count");
	netaddr_parse("10.1.2.3", &a);
	CHECK(cidr_list_contains(&l, &a), "10.1.2.3 in list");
	netaddr_parse("11.1.2.3", &a);
	CHECK(!cidr_list_contains(&l, &a), "11.1.2.3 not in list");
	CHECK(cidr_list_parse("127.0.0.0/8, 10.0.0.0/33", &l, &bad) == -1,
	      "bad prefix refused");
	CHECK_INT(bad, 13, "offset of the bad network");
	CHECK_INT(l.count, 3, "failed parse leaves the list alone");
	cidr_list_free(&l);
}

int
main(void)
{
	test_parse_format();
	test_cidr();
	test_cidr_list();
	return test_summary("netaddr");
}
