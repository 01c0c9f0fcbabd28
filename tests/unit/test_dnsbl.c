/*
 * test_dnsbl - unit tests for milter/checks/dnsbl.c and dnsbl_sites.c
 *
 * Query-name vectors (IPv4, IPv6 compressed and full, IPv4-mapped, names),
 * the site-list parser (good entries printed back, bad ones with their
 * message), code filters, and whole checks against the fake DNS server
 * of fakedns.c answering a fixed table on an ephemeral 127.0.0.1 port, so
 * the system resolver is never asked.
 * Checked: weights summing, allowlists offsetting, codes outside a filter,
 * 127.255.255.254 and 10.0.0.1 answers as errors, NXDOMAIN, SERVFAIL and
 * silence (temperror, incomplete), TXT reasons for listed zones only,
 * RHSBL names (dedupe, forget, literals skipped), the header entry.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "lib/strbuf.h"
#include "milter/checks/dnsbl.h"
#include "milter/log.h"
#include "tests/unit/fakedns.h"
#include "tests/unit/testlib.h"

/* ---- the fake server ---- */

struct fake {
	const char *qname;
	int qtype;
	int rcode;
	int silent;
	const char *data[4]; /* A addresses or one TXT text */
};

static const struct fake fakes[] = {
    {"1.2.0.192.zen.test", ns_t_a, 0, 0, {"127.0.0.2"}},
    {"1.2.0.192.zen.test", ns_t_txt, 0, 0, {"Listed by zen, see x"}},
    {"1.2.0.192.bl.test", ns_t_a, 0, 0, {"127.0.0.4"}},
    {"1.2.0.192.bl.test", ns_t_txt, 0, 0, {"bl says no"}},
    {"1.2.0.192.wl.test", ns_t_a, 0, 0, {"127.0.5.1"}},
    {"1.2.0.192.multi.test", ns_t_a, 0, 0, {"127.0.0.3", "127.0.0.10"}},
    {"1.2.0.192.filt.test", ns_t_a, 0, 0, {"127.0.0.20"}},
    {"1.2.0.192.filt.test", ns_t_txt, 0, 0, {"must not be asked"}},
    {"1.2.0.192.refused.test", ns_t_a, 0, 0, {"127.255.255.254"}},
    {"1.2.0.192.public.test", ns_t_a, 0, 0, {"10.0.0.1"}},
    {"1.2.0.192.mixed.test", ns_t_a, 0, 0, {"127.0.0.2", "10.0.0.1"}},
    {"1.2.0.192.sf.test", ns_t_a, ns_r_servfail, 0, {NULL}},
    {"1.2.0.192.silent.test", ns_t_a, 0, 1, {NULL}},
    {"7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
     ".zen.test",
     ns_t_a,
     0,
     0,
     {"127.0.0.3"}},
    {"bad.example.dbl.test", ns_t_a, 0, 0, {"127.0.1.2"}},
    {"bad.example.dbl.test", ns_t_txt, 0, 0, {"bad domain"}},
    {"ptr.example.dbl.test", ns_t_a, 0, 0, {"127.0.1.200"}},
    {"slow.example.dbl.test", ns_t_a, 0, 1, {NULL}},
};

#define NFAKES (sizeof(fakes) / sizeof(fakes[0]))

static struct fakedns *server;
static atomic_int txt_queries; /* TXT queries the server received */

/* put_rr - one A or TXT record owned by qname */
static void
put_rr(struct fakedns_pkt *p, const char *qname, int type, const char *data)
{
	size_t mark = fakedns_rr_begin(p, qname, type, 60);
	unsigned char addr[4], n;

	if (type == ns_t_a) {
		inet_pton(AF_INET, data, addr);
		fakedns_put(p, addr, 4);
	} else {
		n = (unsigned char)strlen(data);
		fakedns_put(p, &n, 1);
		fakedns_put(p, data, n);
	}
	fakedns_rr_end(p, mark);
}

/* fake_find - the row for (qname, qtype), or NULL */
static const struct fake *
fake_find(const char *qname, int qtype)
{
	for (size_t i = 0; i < NFAKES; i++)
		if (fakes[i].qtype == qtype &&
		    strcasecmp(fakes[i].qname, qname) == 0)
			return &fakes[i];
	return NULL;
}

/* fake_answer - fakedns callback: the row's records, NXDOMAIN or silence */
static enum fakedns_action
fake_answer(void *unused, const struct fakedns_question *q,
            struct fakedns_pkt *p, unsigned *delay_ms)
{
	const struct fake *f = fake_find(q->name, q->type);
	unsigned n = 0;

	(void)unused;
	(void)delay_ms;
	if (q->type == ns_t_txt)
		atomic_fetch_add(&txt_queries, 1);
	if (f != NULL && f->silent)
		return FAKEDNS_SILENT;
	while (f != NULL && n < 4 && f->data[n] != NULL)
		n++;
	fakedns_begin(p, q->id, f == NULL ? ns_r_nxdomain : f->rcode, n, 0,
	              q->name, q->type);
	for (unsigned i = 0; i < n; i++)
		put_rr(p, q->name, q->type, f->data[i]);
	return FAKEDNS_SEND;
}

/* resolver_new - a resolver that only asks the fake server */
static struct dns_resolver *
resolver_new(void)
{
	struct dns_config cfg;

	cfg.servers = fakedns_servers(server);
	cfg.try_timeout_ms = 300;
	cfg.tries = 1;
	return dns_resolver_new(&cfg, NULL);
}

/* ---- helpers ---- */

static const char client_v4[] = "192.0.2.1";

/* join_list - "a,b" from a list of texts */
static void
join_list(const char *const *list, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		                         i ? "," : "", list[i]);
}

/* statuses - each entry's status, comma separated */
static void
statuses(const struct dnsbl_check *c, char *buf, size_t len)
{
	const char *names[DNSBL_MAX_SITES];
	size_t n = dnsbl_site_count(c);

	for (size_t i = 0; i < n; i++)
		names[i] = dnsbl_status_name(dnsbl_site_result(c, i)->status);
	join_list(names, n, buf, len);
}

/* authres_text - dnsbl_authres into buf */
static void
authres_text(const struct dnsbl_check *c, char *buf, size_t len)
{
	struct strbuf sb;

	strbuf_init(&sb);
	dnsbl_authres(c, &sb);
	snprintf(buf, len, "%s", strbuf_str(&sb));
	strbuf_free(&sb);
}

/* sites_new - parse a list that must be good */
static struct dnsbl_sites *
sites_new(const char *text)
{
	struct dnsbl_sites *s = NULL;
	char err[256];

	if (dnsbl_sites_parse(text, &s, err, sizeof(err)) != 0)
		printf("FAIL sites \"%s\": %s\n", text, err);
	return s;
}

/* ---- query names ---- */

/* test_qnames - IPv4, IPv6 (compressed, full), IPv4-mapped, names */
static void
test_qnames(void)
{
	static const struct {
		const char *ip, *zone, *want;
	} cases[] = {
	    {"192.0.2.1", "zen.test", "1.2.0.192.zen.test"},
	    {"10.20.30.255", "bl.test", "255.30.20.10.bl.test"},
	    {"2001:db8::7", "zen.test",
	     "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	     "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.test"},
	    {"2001:0db8:0000:0000:0000:0000:0000:0007", "zen.test",
	     "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	     "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.test"},
	    {"2001:db8:85a3::8a2e:370:7334", "bl.test",
	     "4.3.3.7.0.7.3.0.e.2.a.8.0.0.0.0."
	     "0.0.0.0.3.a.5.8.8.b.d.0.1.0.0.2.bl.test"},
	    {"fedc:ba98:7654:3210:0123:4567:89ab:cdef", "x.test",
	     "f.e.d.c.b.a.9.8.7.6.5.4.3.2.1.0."
	     "0.1.2.3.4.5.6.7.8.9.a.b.c.d.e.f.x.test"},
	    {"::ffff:192.0.2.1", "zen.test", "1.2.0.192.zen.test"},
	    {"IPv6:::ffff:198.51.100.9", "zen.test", "9.100.51.198.zen.test"},
	};
	struct netaddr a;
	char buf[DNS_NAME_MAX], big[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(netaddr_parse(cases[i].ip, &a) == 0, "parse %s",
		      cases[i].ip);
		CHECK_INT(dnsbl_ip_qname(&a, cases[i].zone, buf, sizeof(buf)),
		          0, cases[i].ip);
		CHECK_STR(buf, cases[i].want, cases[i].ip);
	}
	CHECK_INT(dnsbl_ip_qname(&a, "", buf, sizeof(buf)), -1, "no zone");
	CHECK_INT(dnsbl_name_qname("bad.example", "dbl.test", buf, sizeof(buf)),
	          0, "name");
	CHECK_STR(buf, "bad.example.dbl.test", "name qname");
	memset(big, 'a', sizeof(big));
	big[245] = '\0';
	CHECK_INT(dnsbl_name_qname(big, "dbl.test", buf, sizeof(buf)), -1,
	          "254 octets refused");
	big[244] = '\0';
	CHECK_INT(dnsbl_name_qname(big, "dbl.test", buf, sizeof(buf)), 0,
	          "253 octets fit");
}

/* ---- site lists ---- */

/* test_parse_good - good lists print back normalized */
static void
test_parse_good(void)
{
	static const struct {
		const char *text, *want;
		size_t count;
	} cases[] = {
	    {"zen.example=127.0.0.[2..11]*3, bl.example*2, "
	     "wl.example=127.0.[0..255].[1..3]*-2",
	     "zen.example=127.0.0.[2..11]*3, bl.example*2, "
	     "wl.example=127.0.[0..255].[1..3]*-2",
	     3},
	    {"ZEN.Example.", "zen.example", 1},
	    {"a.test=127.0.0.[2;4;6..8]*+5 b.test*1",
	     "a.test=127.0.0.[2;4;6..8]*5, b.test", 2},
	    {" ,, a.test ,,\tb_c.test*0 ", "a.test, b_c.test*0", 2},
	    {"wl.test*-1000, x.test=127.0.0.2*1000",
	     "wl.test*-1000, x.test=127.0.0.2*1000", 2},
	};
	char err[256], *text;
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dnsbl_sites *s = NULL;
		FILE *mem;

		CHECK_INT(
		    dnsbl_sites_parse(cases[i].text, &s, err, sizeof(err)), 0,
		    cases[i].text);
		CHECK(s != NULL && s->count == cases[i].count, "count %s",
		      cases[i].text);
		text = NULL;
		mem = open_memstream(&text, &len);
		dnsbl_sites_print(s, mem);
		fclose(mem);
		CHECK_STR(text, cases[i].want, cases[i].text);
		free(text);
		dnsbl_sites_free(s);
	}
	{
		struct dnsbl_sites *s = (struct dnsbl_sites *)1;

		CHECK_INT(dnsbl_sites_parse(" , ", &s, err, sizeof(err)), 0,
		          "blank list");
		CHECK(s == NULL, "blank list gives no sites");
	}
}

/* test_parse_bad - garbage gives the right message */
static void
test_parse_bad(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"zen.test=127.0.0", "bad entry \"zen.test=127.0.0\": "
	                         "bad pattern"},
	    {"zen.test=127.0.0.[11..2]",
	     "bad entry "
	     "\"zen.test=127.0.0.[11..2]\": bad pattern"},
	    {"zen.test=127.0.0.256", "bad entry \"zen.test=127.0.0.256\": "
	                             "bad pattern"},
	    {"zen.test=127.0.0.2..5", "bad entry "
	                              "\"zen.test=127.0.0.2..5\": bad pattern"},
	    {"zen.test=127.0.0.[2", "bad entry \"zen.test=127.0.0.[2\": "
	                            "bad pattern"},
	    {"zen.test=127.0.0.[2;]", "bad entry "
	                              "\"zen.test=127.0.0.[2;]\": bad pattern"},
	    {"zen.test=127.0.0.2.1", "bad entry \"zen.test=127.0.0.2.1\": "
	                             "bad pattern"},
	    {"zen.test=", "bad entry \"zen.test=\": bad pattern"},
	    {"zen.test=10.0.0.2", "bad entry \"zen.test=10.0.0.2\": "
	                          "pattern must start with 127"},
	    {"zen.test=[126..127].0.0.2",
	     "bad entry "
	     "\"zen.test=[126..127].0.0.2\": pattern must start with 127"},
	    {"zen.test*x", "bad entry \"zen.test*x\": bad weight"},
	    {"zen.test*", "bad entry \"zen.test*\": bad weight"},
	    {"zen.test*-", "bad entry \"zen.test*-\": bad weight"},
	    {"zen.test*1001", "bad entry \"zen.test*1001\": "
	                      "weight out of range -1000..1000"},
	    {"zen.test*-99999999999",
	     "bad entry "
	     "\"zen.test*-99999999999\": weight out of range -1000..1000"},
	    {"zen..test", "bad entry \"zen..test\": bad zone name"},
	    {".zen.test", "bad entry \".zen.test\": bad zone name"},
	    {"ok.test z/x.test", "bad entry \"z/x.test\": bad zone name"},
	    {"=127.0.0.2", "bad entry \"=127.0.0.2\": empty zone"},
	    {"*3", "bad entry \"*3\": empty zone"},
	};
	struct dnsbl_sites *s;
	char err[256], many[600];
	size_t used = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = (struct dnsbl_sites *)1;
		err[0] = '\0';
		CHECK_INT(
		    dnsbl_sites_parse(cases[i].text, &s, err, sizeof(err)), -1,
		    cases[i].text);
		CHECK(s == NULL, "%s: no sites on error", cases[i].text);
		CHECK_STR(err, cases[i].want, cases[i].text);
	}
	for (int i = 0; i < 33; i++)
		used += (size_t)snprintf(many + used, sizeof(many) - used,
		                         "z%d.test ", i);
	CHECK_INT(dnsbl_sites_parse(many, &s, err, sizeof(err)), -1, "33");
	CHECK_STR(err, "too many entries (at most 32)", "33 entries");
}

/* test_match - code filters: numbers, ranges, lists, no pattern */
static void
test_match(void)
{
	static const struct {
		const char *sites, *code;
		int want;
	} cases[] = {
	    {"x.test=127.0.[0..1].[2;4..6]", "127.0.0.2", 1},
	    {"x.test=127.0.[0..1].[2;4..6]", "127.0.1.5", 1},
	    {"x.test=127.0.[0..1].[2;4..6]", "127.0.1.6", 1},
	    {"x.test=127.0.[0..1].[2;4..6]", "127.0.0.3", 0},
	    {"x.test=127.0.[0..1].[2;4..6]", "127.0.2.2", 0},
	    {"x.test=127.0.[0..1].[2;4..6]", "127.0.1.7", 0},
	    {"x.test=127.0.0.[2..11]", "127.0.0.11", 1},
	    {"x.test=127.0.0.[2..11]", "127.0.0.12", 0},
	    {"x.test=127.0.0.[0..255]", "127.0.0.0", 1},
	    {"x.test=127.0.0.[0..255]", "127.0.0.255", 1},
	    {"x.test", "127.1.2.3", 1},
	    {"x.test", "127.255.255.255", 1},
	    {"x.test", "126.0.0.2", 0},
	    {"x.test", "128.0.0.2", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dnsbl_sites *s = sites_new(cases[i].sites);
		struct in_addr in;

		inet_pton(AF_INET, cases[i].code, &in);
		CHECK_INT(s ? dnsbl_pattern_match(&s->site[0], ntohl(in.s_addr))
		            : -1,
		          cases[i].want, cases[i].code);
		dnsbl_sites_free(s);
	}
}

/* test_targets - rhsbl_targets words */
static void
test_targets(void)
{
	char bad[80], *text = NULL;
	unsigned m = 0;
	size_t len;
	FILE *mem;

	CHECK_INT(dnsbl_targets_parse("ptr, HELO", &m, bad, sizeof(bad)), 0,
	          "targets");
	CHECK_INT(m, DNSBL_T_PTR | DNSBL_T_HELO, "mask");
	CHECK_INT(dnsbl_targets_parse("helo ip", &m, bad, sizeof(bad)), -1,
	          "ip is not a name target");
	CHECK_STR(bad, "ip", "bad word");
	CHECK_INT(dnsbl_targets_parse("helo, rcpt", &m, bad, sizeof(bad)), -1,
	          "rcpt");
	CHECK_STR(bad, "rcpt", "bad word");
	mem = open_memstream(&text, &len);
	dnsbl_targets_print(DNSBL_T_NAMES, mem);
	fclose(mem);
	CHECK_STR(text, "helo, mailfrom, ptr", "print");
	free(text);
}

/* ---- whole checks ---- */

struct ip_case {
	const char *name, *ip, *sites;
	long long score;
	int complete;
	enum result result;
	const char *listed, *failed, *statuses, *authres;
};

static const struct ip_case ip_cases[] = {
    {"one listing", client_v4, "zen.test*3", 3, 1, RESULT_FAIL, "zen.test", "",
     "listed",
     ";\n\tx-dnsbl=fail policy.listed=zen.test "
     "(zen.test=127.0.0.2 score 3)"},
    {"weights sum", client_v4, "zen.test*3, bl.test*2, nx.test", 5, 1,
     RESULT_FAIL, "zen.test,bl.test", "", "listed,listed,not-listed",
     ";\n\tx-dnsbl=fail policy.listed=\"zen.test bl.test\" "
     "(zen.test=127.0.0.2 score 3; bl.test=127.0.0.4 score 2)"},
    {"allowlist offsets", client_v4,
     "zen.test*3, wl.test=127.0.[0..255].[1..3]*-4", -1, 1, RESULT_PASS,
     "zen.test,wl.test", "", "listed,listed",
     ";\n\tx-dnsbl=pass policy.listed=\"zen.test wl.test\" "
     "(zen.test=127.0.0.2 score 3; wl.test=127.0.5.1 score -4)"},
    {"allowlist filter misses", client_v4,
     "zen.test*3, wl.test=127.0.[0..4].1*-4", 3, 1, RESULT_FAIL, "zen.test", "",
     "listed,not-listed",
     ";\n\tx-dnsbl=fail policy.listed=zen.test "
     "(zen.test=127.0.0.2 score 3)"},
    {"code outside filter", client_v4, "filt.test=127.0.0.[2..11]*3", 0, 1,
     RESULT_PASS, "", "", "not-listed",
     ";\n\tx-dnsbl=pass (not listed on 1 list)"},
    {"filter list, two codes", client_v4, "multi.test=127.0.0.[3;10]", 1, 1,
     RESULT_FAIL, "multi.test", "", "listed",
     ";\n\tx-dnsbl=fail policy.listed=multi.test "
     "(multi.test=127.0.0.3,127.0.0.10 score 1)"},
    {"filter keeps matching code", client_v4, "multi.test=127.0.0.[10..11]*2",
     2, 1, RESULT_FAIL, "multi.test", "", "listed",
     ";\n\tx-dnsbl=fail policy.listed=multi.test "
     "(multi.test=127.0.0.10 score 2)"},
    {"one zone, three entries", client_v4,
     "multi.test=127.0.0.3*2, multi.test=127.0.0.10*5, "
     "multi.test=127.0.0.99*7",
     7, 1, RESULT_FAIL, "multi.test", "", "listed,listed,not-listed",
     ";\n\tx-dnsbl=fail policy.listed=multi.test "
     "(multi.test=127.0.0.3 score 2; multi.test=127.0.0.10 score 5)"},
    {"refused code is an error", client_v4, "zen.test, refused.test", 1, 0,
     RESULT_FAIL, "zen.test", "refused.test", "listed,error",
     ";\n\tx-dnsbl=fail policy.listed=zen.test (zen.test=127.0.0.2 "
     "score 1; refused.test: bad answer 127.255.255.254: query "
     "refused)"},
    {"refused code alone", client_v4, "refused.test*5", 0, 0, RESULT_TEMPERROR,
     "", "refused.test", "error",
     ";\n\tx-dnsbl=temperror (refused.test: bad answer 127.255.255.254: "
     "query refused)"},
    {"public answer is an error", client_v4, "public.test", 0, 0,
     RESULT_TEMPERROR, "", "public.test", "error",
     ";\n\tx-dnsbl=temperror (public.test: bad answer 10.0.0.1: outside "
     "127.0.0.0/8)"},
    {"mixed answer is an error", client_v4, "mixed.test", 0, 0,
     RESULT_TEMPERROR, "", "mixed.test", "error", NULL},
    {"nxdomain", client_v4, "nx.test, nx2.test", 0, 1, RESULT_PASS, "", "",
     "not-listed,not-listed", ";\n\tx-dnsbl=pass (not listed on 2 lists)"},
    {"servfail", client_v4, "sf.test, zen.test*2", 2, 0, RESULT_FAIL,
     "zen.test", "sf.test", "temperror,listed",
     ";\n\tx-dnsbl=fail policy.listed=zen.test (sf.test: SERVFAIL; "
     "zen.test=127.0.0.2 score 2)"},
    {"servfail alone", client_v4, "sf.test, nx.test", 0, 0, RESULT_TEMPERROR,
     "", "sf.test", "temperror,not-listed",
     ";\n\tx-dnsbl=temperror (sf.test: SERVFAIL)"},
    {"timeout", client_v4, "silent.test, nx.test", 0, 0, RESULT_TEMPERROR, "",
     "silent.test", "temperror,not-listed",
     ";\n\tx-dnsbl=temperror (silent.test: timeout)"},
    {"ipv6 nibbles", "2001:db8::7", "zen.test*2", 2, 1, RESULT_FAIL, "zen.test",
     "", "listed",
     ";\n\tx-dnsbl=fail policy.listed=zen.test "
     "(zen.test=127.0.0.3 score 2)"},
    {"ipv4-mapped", "::ffff:192.0.2.1", "bl.test", 1, 1, RESULT_FAIL, "bl.test",
     "", "listed", NULL},
};

/* The check's deadline in the table-driven cases. */
#define CASE_DEADLINE_MS 2000

/* run_ip_case - one DNSBL check from start to finish */
static void
run_ip_case(const struct ip_case *t)
{
	struct dnsbl_sites *sites = sites_new(t->sites);
	struct dns_resolver *dns = resolver_new();
	struct dnsbl_check *c =
	    dnsbl_new(sites, DNSBL_KIND_IP, dns, CASE_DEADLINE_MS, 7);
	struct netaddr ip;
	size_t n;
	const char *const *l;
	char buf[512];
	uint64_t t0 = dns_now_ms();

	CHECK(c != NULL && dns != NULL && sites != NULL, "%s: setup", t->name);
	if (c == NULL || dns == NULL || sites == NULL)
		goto out;
	netaddr_parse(t->ip, &ip);
	dnsbl_start_ip(c, &ip);
	/*
	 * Start only queues: no callback can have run before a pump, so
	 * every query is still in flight. The time bound backs this up
	 * without flaking under sanitizers: a start that waited for the
	 * answers would wait for the silent list until the deadline.
	 */
	CHECK(dnsbl_in_flight(c) > 0 && !dnsbl_is_done(c),
	      "%s: start queues the queries and returns", t->name);
	CHECK(dns_now_ms() - t0 < CASE_DEADLINE_MS / 2,
	      "%s: start does not block (%llu ms)", t->name,
	      (unsigned long long)(dns_now_ms() - t0));
	dnsbl_finish(c, dns);
	CHECK(dnsbl_is_done(c), "%s: done", t->name);
	CHECK_INT(dnsbl_score(c), t->score, t->name);
	CHECK_INT(dnsbl_complete(c), t->complete, t->name);
	CHECK_STR(result_name(dnsbl_result(c)), result_name(t->result),
	          t->name);
	l = dnsbl_listed(c, &n);
	join_list(l, n, buf, sizeof(buf));
	CHECK_STR(buf, t->listed, t->name);
	l = dnsbl_failed(c, &n);
	join_list(l, n, buf, sizeof(buf));
	CHECK_STR(buf, t->failed, t->name);
	statuses(c, buf, sizeof(buf));
	CHECK_STR(buf, t->statuses, t->name);
	authres_text(c, buf, sizeof(buf));
	if (t->authres != NULL)
		CHECK_STR(buf, t->authres, t->name);
	CHECK_INT(dnsbl_in_flight(c), 0, t->name);
out:
	dns_resolver_free(dns);
	dnsbl_free(c);
	dnsbl_sites_free(sites);
}

/* test_ip_cases - every row of ip_cases */
static void
test_ip_cases(void)
{
	for (size_t i = 0; i < sizeof(ip_cases) / sizeof(ip_cases[0]); i++)
		run_ip_case(&ip_cases[i]);
}

/* test_site_result - a listed entry's fields */
static void
test_site_result(void)
{
	struct dnsbl_sites *sites = sites_new("multi.test=127.0.0.[3;10]*4");
	struct dns_resolver *dns = resolver_new();
	struct dnsbl_check *c = dnsbl_new(sites, DNSBL_KIND_IP, dns, 2000, 1);
	const struct dnsbl_site_result *r;
	struct netaddr ip;

	netaddr_parse(client_v4, &ip);
	dnsbl_start_ip(c, &ip);
	r = dnsbl_site_result(c, 0);
	CHECK_INT(r->status, DNSBL_PENDING, "pending before the answer");
	CHECK_INT(dnsbl_complete(c), 0, "incomplete while pending");
	dnsbl_finish(c, dns);
	CHECK_STR(r->site->zone, "multi.test", "zone");
	CHECK_INT(r->site->weight, 4, "weight");
	CHECK_INT(r->status, DNSBL_LISTED, "status");
	CHECK_INT(r->ncodes, 2, "codes");
	CHECK_INT(r->codes[0], 0x7f000003, "code 0");
	CHECK_INT(r->codes[1], 0x7f00000a, "code 1");
	CHECK_STR(r->name, client_v4, "name");
	CHECK_INT(r->targets, DNSBL_T_IP, "targets");
	CHECK(r->txt == NULL, "no TXT unless asked");
	CHECK(dnsbl_site_result(c, 1) == NULL, "past the end");
	dns_resolver_free(dns);
	dnsbl_free(c);
	dnsbl_sites_free(sites);
}

/* test_txt - TXT reasons are fetched for listed zones only */
static void
test_txt(void)
{
	struct dnsbl_sites *sites =
	    sites_new("zen.test*2, filt.test=127.0.0.[2..11], nx.test, "
	              "bl.test, zen.test=127.0.0.99");
	struct dns_resolver *dns = resolver_new();
	struct dnsbl_check *c = dnsbl_new(sites, DNSBL_KIND_IP, dns, 2000, 1);
	struct netaddr ip;
	struct strbuf sb;
	int before;

	netaddr_parse(client_v4, &ip);
	dnsbl_start_ip(c, &ip);
	dnsbl_finish(c, dns);
	before = atomic_load(&txt_queries);
	CHECK_INT(before, 0, "no TXT query before asked");
	dnsbl_fetch_txt(c);
	CHECK(!dnsbl_is_done(c), "TXT pending");
	dnsbl_finish(c, dns);
	CHECK_INT(atomic_load(&txt_queries) - before, 2,
	          "TXT for zen and bl only");
	dnsbl_fetch_txt(c);
	CHECK(dnsbl_is_done(c), "TXT not asked twice");
	strbuf_init(&sb);
	dnsbl_reasons(c, &sb);
	CHECK_STR(strbuf_str(&sb),
	          "zen.test: Listed by zen, see x; "
	          "bl.test: bl says no",
	          "reasons");
	strbuf_free(&sb);
	CHECK_STR(dnsbl_site_result(c, 0)->txt, "Listed by zen, see x",
	          "zen txt");
	CHECK(dnsbl_site_result(c, 1)->txt == NULL, "filt: no txt");
	CHECK(dnsbl_site_result(c, 4)->txt == NULL, "unlisted entry: no txt");
	dns_resolver_free(dns);
	dnsbl_free(c);
	dnsbl_sites_free(sites);
}

/* rhsbl_state - score/complete/result/authres after finishing */
static void
rhsbl_state(struct dnsbl_check *c, struct dns_resolver *dns, const char *what,
            long long score, int complete, enum result result,
            const char *authres)
{
	char buf[512];

	dnsbl_finish(c, dns);
	CHECK_INT(dnsbl_score(c), score, what);
	CHECK_INT(dnsbl_complete(c), complete, what);
	CHECK_STR(result_name(dnsbl_result(c)), result_name(result), what);
	authres_text(c, buf, sizeof(buf));
	if (authres != NULL)
		CHECK_STR(buf, authres, what);
}

/* test_rhsbl - domain lists on HELO, MAIL FROM domain and PTR name */
static void
test_rhsbl(void)
{
	struct dnsbl_sites *sites = sites_new("dbl.test=127.0.1.[2..99]*3");
	struct dns_resolver *dns = resolver_new();
	struct dnsbl_check *c = dnsbl_new(sites, DNSBL_KIND_NAME, dns, 2000, 3);
	const struct dnsbl_site_result *r;
	size_t inflight;

	rhsbl_state(c, dns, "nothing yet", 0, 1, RESULT_NONE,
	            ";\n\tx-rhsbl=none");
	dnsbl_set_name(c, DNSBL_T_HELO, "Bad.Example.");
	dnsbl_set_name(c, DNSBL_T_MAILFROM, "bad.example");
	inflight = dns_in_flight(dns);
	CHECK_INT(inflight, 1, "same name asked once");
	dnsbl_set_name(c, DNSBL_T_PTR, "ptr.example");
	rhsbl_state(c, dns, "helo+mailfrom listed", 3, 1, RESULT_FAIL,
	            ";\n\tx-rhsbl=fail policy.listed=dbl.test "
	            "(dbl.test=127.0.1.2 helo+mailfrom=bad.example score 3)");
	r = dnsbl_site_result(c, 0);
	CHECK_STR(r->name, "bad.example", "listed name");
	CHECK_INT(r->targets, DNSBL_T_HELO | DNSBL_T_MAILFROM, "targets");
	dnsbl_fetch_txt(c);
	dnsbl_finish(c, dns);
	CHECK_STR(dnsbl_site_result(c, 0)->txt, "bad domain", "rhsbl txt");

	dnsbl_set_name(c, DNSBL_T_MAILFROM, "good.example");
	rhsbl_state(c, dns, "helo still listed", 3, 1, RESULT_FAIL,
	            ";\n\tx-rhsbl=fail policy.listed=dbl.test "
	            "(dbl.test=127.0.1.2 helo=bad.example score 3)");
	dnsbl_set_name(c, DNSBL_T_HELO, "[192.0.2.1]");
	rhsbl_state(c, dns, "literal not looked up", 0, 1, RESULT_PASS,
	            ";\n\tx-rhsbl=pass (not listed on 1 list)");
	dnsbl_set_name(c, DNSBL_T_HELO, "localhost");
	CHECK_INT(dns_in_flight(dns), 0, "single label not looked up");
	dnsbl_set_name(c, DNSBL_T_HELO, "bad.example");
	CHECK_INT(dns_in_flight(dns), 0, "known name not asked again");
	rhsbl_state(c, dns, "helo listed again", 3, 1, RESULT_FAIL, NULL);
	dnsbl_set_name(c, DNSBL_T_HELO, NULL);
	dnsbl_set_name(c, DNSBL_T_MAILFROM, "slow.example");
	rhsbl_state(c, dns, "mailfrom times out", 0, 0, RESULT_TEMPERROR,
	            ";\n\tx-rhsbl=temperror (dbl.test: timeout)");
	dnsbl_set_name(c, DNSBL_T_MAILFROM, NULL);
	rhsbl_state(c, dns, "null sender", 0, 1, RESULT_PASS, NULL);
	dns_resolver_free(dns);
	dnsbl_free(c);
	dnsbl_sites_free(sites);
}

/* test_edges - no lists, no resolver, expiry at the deadline */
static void
test_edges(void)
{
	struct dnsbl_sites *sites = sites_new("silent.test, nx.test");
	struct dnsbl_check *c = dnsbl_new(NULL, DNSBL_KIND_IP, NULL, 100, 1);
	struct dns_resolver *dns;
	struct netaddr ip;
	char buf[256];
	uint64_t next;

	netaddr_parse(client_v4, &ip);
	dnsbl_start_ip(c, &ip);
	dnsbl_finish(c, NULL);
	CHECK_INT(dnsbl_result(c), RESULT_NONE, "no lists: none");
	authres_text(c, buf, sizeof(buf));
	CHECK_STR(buf, ";\n\tx-dnsbl=none", "no lists: header");
	dnsbl_free(c);
	dnsbl_free(NULL);

	c = dnsbl_new(sites, DNSBL_KIND_IP, NULL, 100, 1);
	dnsbl_start_ip(c, &ip);
	CHECK_INT(dnsbl_result(c), RESULT_TEMPERROR, "no resolver");
	CHECK_STR(dnsbl_site_result(c, 0)->reason, "no resolver", "why");
	dnsbl_free(c);

	dns = resolver_new();
	c = dnsbl_new(sites, DNSBL_KIND_IP, dns, 60000, 1);
	dnsbl_start_ip(c, &ip);
	CHECK(!dnsbl_is_done(c), "pending");
	next = dnsbl_next_deadline(c);
	CHECK(next != UINT64_MAX && next > dns_now_ms() + 50000,
	      "deadline from timeout_ms");
	dnsbl_expire(c, next - 1);
	CHECK(!dnsbl_is_done(c), "not yet expired");
	/* The lists started within a second: each has its own deadline. */
	dnsbl_expire(c, next + 1000);
	CHECK(dnsbl_is_done(c), "expired");
	CHECK_INT(dnsbl_site_result(c, 0)->status, DNSBL_TEMPERROR,
	          "expired is temperror, never not-listed");
	CHECK_INT(dnsbl_complete(c), 0, "expired: incomplete");
	CHECK(dnsbl_in_flight(c) > 0, "callbacks still to come");
	dns_resolver_free(dns); /* runs no callbacks: free after it */
	dnsbl_free(c);
	dnsbl_sites_free(sites);
}

/* main - start the fake server, run every test */
int
main(void)
{
	log_open("test_dnsbl", 1, 0, 0);
	if (dns_library_init() < 0 ||
	    (server = fakedns_start(fake_answer, NULL)) == NULL) {
		printf("test_dnsbl: cannot set up\n");
		return 1;
	}
	test_qnames();
	test_parse_good();
	test_parse_bad();
	test_match();
	test_targets();
	test_ip_cases();
	test_site_result();
	test_txt();
	test_rhsbl();
	test_edges();
	fakedns_stop(server);
	dns_library_cleanup();
	return test_summary("test_dnsbl");
}
