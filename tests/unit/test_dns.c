/*
 * test_dns - the DNS layer against a fake DNS server on 127.0.0.1
 *
 * The fake server (fakedns.c) answers from a crafted table of zones
 * (answers, NXDOMAIN with SOA, NODATA, SERVFAIL, REFUSED, silence, a wrong
 * question name, a truncated packet, delayed answers). The resolvers are
 * pointed at it with "127.0.0.1:PORT", so the system resolver is never
 * asked. Checked: the four outcomes and their reasons, record sets, CNAME
 * chains, parallel queries in one round trip, dns_wait deadlines, the
 * shared cache (synchronous hits, TTL, no TEMPERROR, LRU eviction, threads)
 * and reverse names.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "milter/dns/dns.h"
#include "milter/dns/dns_internal.h"
#include "tests/unit/fakedns.h"
#include "tests/unit/testlib.h"

/* ---- the fake server's table ---- */

enum fake_mode { FAKE_NORMAL, FAKE_SILENT, FAKE_WRONGNAME, FAKE_GARBAGE };

struct fake_rr {
	int authority; /* 0 = answer section, 1 = authority */
	const char *owner;
	int type;
	unsigned ttl;
	const char *data; /* address, name, TXT strings split by '|'
	                   * ('~' = NUL), SOA "mname rname" */
	unsigned num;     /* MX preference, SOA minimum */
};

struct fake_zone {
	const char *qname; /* "*.x" matches any name under x */
	int qtype;
	int rcode;
	enum fake_mode mode;
	unsigned delay_ms;
	struct fake_rr rr[12];
};

#define SOA(owner, ttl, min)                                                   \
	{                                                                      \
		1, owner, ns_t_soa, ttl, "ns.test host.test", min              \
	}

/* How long the fake server holds each answer for *.slow.test. */
#define SLOW_DELAY_MS 150

static const struct fake_zone zones[] = {
    {"a.test",
     ns_t_a,
     0,
     FAKE_NORMAL,
     0,
     {{0, "a.test", ns_t_a, 300, "192.0.2.1", 0}}},
    {"aaaa.test",
     ns_t_aaaa,
     0,
     FAKE_NORMAL,
     0,
     {{0, "aaaa.test", ns_t_aaaa, 300, "2001:db8::1", 0}}},
    {"1.2.0.192.in-addr.arpa",
     ns_t_ptr,
     0,
     FAKE_NORMAL,
     0,
     {{0, "1.2.0.192.in-addr.arpa", ns_t_ptr, 300, "host1.test", 0},
      {0, "1.2.0.192.in-addr.arpa", ns_t_ptr, 300, "host2.test", 0}}},
    {"alias.test",
     ns_t_a,
     0,
     FAKE_NORMAL,
     0,
     {{0, "alias.test", ns_t_cname, 300, "mid.test", 0},
      {0, "mid.test", ns_t_cname, 300, "real.test", 0},
      {0, "other.test", ns_t_a, 300, "198.51.100.1", 0},
      {0, "real.test", ns_t_a, 300, "192.0.2.7", 0}}},
    {"loop.test",
     ns_t_a,
     0,
     FAKE_NORMAL,
     0,
     {{0, "loop.test", ns_t_cname, 300, "loop2.test", 0},
      {0, "loop2.test", ns_t_cname, 300, "loop.test", 0}}},
    {"chain8.test",
     ns_t_a,
     0,
     FAKE_NORMAL,
     0,
     {{0, "chain8.test", ns_t_cname, 300, "c1.test", 0},
      {0, "c1.test", ns_t_cname, 300, "c2.test", 0},
      {0, "c2.test", ns_t_cname, 300, "c3.test", 0},
      {0, "c3.test", ns_t_cname, 300, "c4.test", 0},
      {0, "c4.test", ns_t_cname, 300, "c5.test", 0},
      {0, "c5.test", ns_t_cname, 300, "c6.test", 0},
      {0, "c6.test", ns_t_cname, 300, "c7.test", 0},
      {0, "c7.test", ns_t_cname, 300, "c8.test", 0},
      {0, "c8.test", ns_t_a, 300, "192.0.2.8", 0}}},
    {"chain9.test",
     ns_t_a,
     0,
     FAKE_NORMAL,
     0,
     {{0, "chain9.test", ns_t_cname, 300, "d1.test", 0},
      {0, "d1.test", ns_t_cname, 300, "d2.test", 0},
      {0, "d2.test", ns_t_cname, 300, "d3.test", 0},
      {0, "d3.test", ns_t_cname, 300, "d4.test", 0},
      {0, "d4.test", ns_t_cname, 300, "d5.test", 0},
      {0, "d5.test", ns_t_cname, 300, "d6.test", 0},
      {0, "d6.test", ns_t_cname, 300, "d7.test", 0},
      {0, "d7.test", ns_t_cname, 300, "d8.test", 0},
      {0, "d8.test", ns_t_cname, 300, "d9.test", 0},
      {0, "d9.test", ns_t_a, 300, "192.0.2.9", 0}}},
    {"txt.test",
     ns_t_txt,
     0,
     FAKE_NORMAL,
     0,
     {{0, "txt.test", ns_t_txt, 300, "v=spf1 |-all", 0}}},
    {"txtnul.test",
     ns_t_txt,
     0,
     FAKE_NORMAL,
     0,
     {{0, "txtnul.test", ns_t_txt, 300, "ab~|cd", 0}}},
    {"mx.test",
     ns_t_mx,
     0,
     FAKE_NORMAL,
     0,
     {{0, "mx.test", ns_t_mx, 300, "mx1.test", 10},
      {0, "mx.test", ns_t_mx, 300, "mx2.test", 20}}},
    {"ns.test",
     ns_t_ns,
     0,
     FAKE_NORMAL,
     0,
     {{0, "ns.test", ns_t_ns, 300, "ns1.test", 0}}},
    {"nx.test", ns_t_a, ns_r_nxdomain, FAKE_NORMAL, 0, {SOA("test", 3600, 30)}},
    {"nodata.test", ns_t_aaaa, 0, FAKE_NORMAL, 0, {SOA("test", 20, 600)}},
    {"nosoa.test", ns_t_aaaa, 0, FAKE_NORMAL, 0, {{0}}},
    {"servfail.test", ns_t_a, ns_r_servfail, FAKE_NORMAL, 0, {{0}}},
    {"refused.test", ns_t_a, ns_r_refused, FAKE_NORMAL, 0, {{0}}},
    {"silent.test", ns_t_a, 0, FAKE_SILENT, 0, {{0}}},
    {"wrong.test",
     ns_t_a,
     0,
     FAKE_WRONGNAME,
     0,
     {{0, "other.test", ns_t_a, 300, "192.0.2.66", 0}}},
    {"garbage.test",
     ns_t_a,
     0,
     FAKE_GARBAGE,
     0,
     {{0, "garbage.test", ns_t_a, 300, "192.0.2.67", 0}}},
    {"short.test",
     ns_t_a,
     0,
     FAKE_NORMAL,
     0,
     {{0, "short.test", ns_t_a, 1, "192.0.2.10", 0}}},
    {"zero.test",
     ns_t_a,
     0,
     FAKE_NORMAL,
     0,
     {{0, "zero.test", ns_t_a, 0, "192.0.2.11", 0}}},
    {"*.slow.test",
     ns_t_a,
     0,
     FAKE_NORMAL,
     SLOW_DELAY_MS,
     {{0, "*", ns_t_a, 300, "192.0.2.20", 0}}},
};

#define NZONES (sizeof(zones) / sizeof(zones[0]))

/* ---- packet building ---- */

/* put_txt - '|'-separated character-strings, '~' stands for NUL */
static void
put_txt(struct fakedns_pkt *p, const char *data)
{
	const char *s = data, *bar;
	unsigned char n, c;
	size_t i;

	for (;;) {
		bar = strchr(s, '|');
		n = (unsigned char)(bar ? (size_t)(bar - s) : strlen(s));
		fakedns_put(p, &n, 1);
		for (i = 0; i < n; i++) {
			c = s[i] == '~' ? 0 : (unsigned char)s[i];
			fakedns_put(p, &c, 1);
		}
		if (bar == NULL)
			break;
		s = bar + 1;
	}
}

/* put_rdata - the RDATA of rr in wire form */
static void
put_rdata(struct fakedns_pkt *p, const struct fake_rr *rr)
{
	unsigned char addr[16];
	char mname[64], rname[64];

	switch (rr->type) {
	case ns_t_a:
		inet_pton(AF_INET, rr->data, addr);
		fakedns_put(p, addr, 4);
		break;
	case ns_t_aaaa:
		inet_pton(AF_INET6, rr->data, addr);
		fakedns_put(p, addr, 16);
		break;
	case ns_t_mx:
		fakedns_put16(p, rr->num);
		fakedns_put_name(p, rr->data);
		break;
	case ns_t_txt: put_txt(p, rr->data); break;
	case ns_t_soa:
		sscanf(rr->data, "%63s %63s", mname, rname);
		fakedns_put_name(p, mname);
		fakedns_put_name(p, rname);
		fakedns_put32(p, 1);
		fakedns_put32(p, 3600);
		fakedns_put32(p, 600);
		fakedns_put32(p, 86400);
		fakedns_put32(p, rr->num);
		break;
	default: fakedns_put_name(p, rr->data);
	}
}

/* put_rr - one resource record; "*" as owner means the question name */
static void
put_rr(struct fakedns_pkt *p, const struct fake_rr *rr, const char *qname)
{
	const char *owner = strcmp(rr->owner, "*") == 0 ? qname : rr->owner;
	size_t mark = fakedns_rr_begin(p, owner, rr->type, rr->ttl);

	put_rdata(p, rr);
	fakedns_rr_end(p, mark);
}

/* zone_count - records of z in one section */
static size_t
zone_count(const struct fake_zone *z, int authority)
{
	size_t i, n = 0;

	for (i = 0; i < 12 && z->rr[i].owner != NULL; i++)
		if (z->rr[i].authority == authority)
			n++;
	return n;
}

/* build_answer - the response of zone z to (id, qname, qtype) */
static void
build_answer(struct fakedns_pkt *p, unsigned id, const char *qname, int qtype,
             const struct fake_zone *z)
{
	size_t i;
	int sect;

	fakedns_begin(p, id, z->rcode, (unsigned)zone_count(z, 0),
	              (unsigned)zone_count(z, 1),
	              z->mode == FAKE_WRONGNAME ? "other.test" : qname, qtype);
	for (sect = 0; sect < 2; sect++)
		for (i = 0; i < 12 && z->rr[i].owner != NULL; i++)
			if (z->rr[i].authority == sect)
				put_rr(p, &z->rr[i], qname);
	if (z->mode == FAKE_GARBAGE)
		p->len -= 3; /* cut into the answer's RDATA */
}

/* zone_matches - exact name, or "*.x" for any name under x */
static int
zone_matches(const char *pattern, const char *qname)
{
	size_t nl = strlen(qname), pl = strlen(pattern);

	if (pattern[0] != '*')
		return strcasecmp(qname, pattern) == 0;
	return nl >= pl && strcasecmp(qname + nl - pl + 1, pattern + 1) == 0;
}

/* zone_find - the table row answering (qname, qtype) */
static const struct fake_zone *
zone_find(const char *qname, int qtype, size_t *index)
{
	size_t i;

	for (i = 0; i < NZONES; i++) {
		if (zones[i].qtype == qtype &&
		    zone_matches(zones[i].qname, qname)) {
			*index = i;
			return &zones[i];
		}
	}
	return NULL;
}

/* ---- the fake server ---- */

static struct fakedns *fake;
static atomic_uint counts[NZONES]; /* queries received per row */

/* srv_count - queries the server received for a row */
static unsigned
srv_count(const char *qname, int qtype)
{
	size_t i;

	return zone_find(qname, qtype, &i) ? atomic_load(&counts[i]) : 0;
}

/* zone_answer - fakedns callback: the row's answer (now, later, or never) */
static enum fakedns_action
zone_answer(void *unused, const struct fakedns_question *q,
            struct fakedns_pkt *p, unsigned *delay_ms)
{
	static const struct fake_zone nowhere = {"",          0, ns_r_nxdomain,
	                                         FAKE_NORMAL, 0, {{0}}};
	const struct fake_zone *z;
	size_t i;

	(void)unused;
	if ((z = zone_find(q->name, q->type, &i)) == NULL)
		z = &nowhere;
	else
		atomic_fetch_add(&counts[i], 1);
	if (z->mode == FAKE_SILENT)
		return FAKEDNS_SILENT;
	build_answer(p, q->id, q->name, q->type, z);
	*delay_ms = z->delay_ms;
	return FAKEDNS_SEND;
}

/* ---- client side helpers ---- */

struct outcome {
	int type;
	int done;
	int calls;
	enum dns_status status;
	int rcode;
	const char *reason;
	int cached;
	int parse_rc;
	char text[512]; /* the rrset, comma separated */
	size_t first_text_len;
};

/* rr_text - one record as text for comparisons */
static void
rr_text(const struct dns_rr *rr, char *buf, size_t len)
{
	switch (rr->type) {
	case ns_t_a:
	case ns_t_aaaa: netaddr_format(&rr->addr, buf, len); break;
	case ns_t_mx:
		snprintf(buf, len, "%u %s", rr->preference, rr->name);
		break;
	case ns_t_txt: snprintf(buf, len, "%s", rr->text); break;
	default: snprintf(buf, len, "%s", rr->name);
	}
}

/* on_result - record an outcome and its rrset as text */
static void
on_result(void *arg, const struct dns_result *res)
{
	struct outcome *o = arg;
	struct dns_rrset set;
	char one[300];
	size_t i, n;

	o->done = 1;
	o->calls++;
	o->status = res->status;
	o->rcode = res->rcode;
	o->reason = res->reason;
	o->cached = res->cached;
	o->text[0] = '\0';
	o->parse_rc = -2;
	if (res->packet == NULL)
		return;
	o->parse_rc = dns_rrset_parse(res->packet, res->len, o->type, &set);
	for (i = 0; o->parse_rc == 0 && i < set.count; i++) {
		rr_text(&set.rr[i], one, sizeof(one));
		n = strlen(o->text);
		snprintf(o->text + n, sizeof(o->text) - n, "%s%s", i ? "," : "",
		         one);
	}
	if (o->parse_rc == 0 && set.count > 0)
		o->first_text_len = set.rr[0].text_len;
	dns_rrset_free(&set);
}

/* outcome_done - dns_wait predicate for one outcome */
static int
outcome_done(void *arg)
{
	return ((struct outcome *)arg)->done;
}

/* resolver_new - a resolver that only asks the fake server */
static struct dns_resolver *
resolver_new(unsigned timeout_ms, unsigned tries, struct dns_cache *cache)
{
	struct dns_config cfg;

	cfg.servers = fakedns_servers(fake);
	cfg.try_timeout_ms = timeout_ms;
	cfg.tries = tries;
	return dns_resolver_new(&cfg, cache);
}

/* ask - one query, waited for up to 3 s */
static void
ask(struct dns_resolver *r, const char *name, int type, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->type = type;
	dns_query(r, name, type, on_result, o);
	dns_wait(r, outcome_done, o, dns_now_ms() + 3000);
}

/* ---- tests ---- */

/* the four outcomes, their reasons and record sets */
static const struct {
	const char *what, *name;
	int type;
	enum dns_status status;
	int rcode;
	const char *reason, *text;
} outcome_cases[] = {
    {"A", "a.test", ns_t_a, DNS_ANSWER, 0, "answer", "192.0.2.1"},
    {"A upper case", "A.TEST", ns_t_a, DNS_ANSWER, 0, NULL, "192.0.2.1"},
    {"A trailing dot", "a.test.", ns_t_a, DNS_ANSWER, 0, NULL, "192.0.2.1"},
    {"AAAA", "aaaa.test", ns_t_aaaa, DNS_ANSWER, 0, NULL, "2001:db8::1"},
    {"PTR two names", "1.2.0.192.in-addr.arpa", ns_t_ptr, DNS_ANSWER, 0, NULL,
     "host1.test,host2.test"},
    {"CNAME chain", "alias.test", ns_t_a, DNS_ANSWER, 0, NULL, "192.0.2.7"},
    {"CNAME chain of 8", "chain8.test", ns_t_a, DNS_ANSWER, 0, NULL,
     "192.0.2.8"},
    {"CNAME chain of 9", "chain9.test", ns_t_a, DNS_NODATA, 0, NULL, ""},
    {"CNAME loop", "loop.test", ns_t_a, DNS_NODATA, 0, NULL, ""},
    {"TXT two strings", "txt.test", ns_t_txt, DNS_ANSWER, 0, NULL,
     "v=spf1 -all"},
    {"MX", "mx.test", ns_t_mx, DNS_ANSWER, 0, NULL, "10 mx1.test,20 mx2.test"},
    {"NS", "ns.test", ns_t_ns, DNS_ANSWER, 0, NULL, "ns1.test"},
    {"NXDOMAIN", "nx.test", ns_t_a, DNS_NXDOMAIN, 3, "NXDOMAIN", ""},
    {"unknown name", "nowhere.test", ns_t_a, DNS_NXDOMAIN, 3, NULL, ""},
    {"NODATA", "nodata.test", ns_t_aaaa, DNS_NODATA, 0, "NODATA", ""},
    {"NODATA without SOA", "nosoa.test", ns_t_aaaa, DNS_NODATA, 0, "NODATA",
     ""},
    {"SERVFAIL", "servfail.test", ns_t_a, DNS_TEMPERROR, 2, "SERVFAIL", NULL},
    {"REFUSED", "refused.test", ns_t_a, DNS_TEMPERROR, 5, "REFUSED", NULL},
    {"never answered", "silent.test", ns_t_a, DNS_TEMPERROR, -1, "timeout",
     NULL},
    {"wrong question", "wrong.test", ns_t_a, DNS_TEMPERROR, -1, NULL, NULL},
    {"truncated packet", "garbage.test", ns_t_a, DNS_TEMPERROR, -1, "malformed",
     NULL},
};

/* test_outcomes - every row of outcome_cases */
static void
test_outcomes(void)
{
	const size_t n = sizeof(outcome_cases) / sizeof(outcome_cases[0]);
	struct dns_resolver *r;
	struct outcome o;
	size_t i;

	CHECK((r = resolver_new(200, 1, NULL)) != NULL, "resolver_new");
	if (r == NULL)
		return;
	for (i = 0; i < n; i++) {
		const char *what = outcome_cases[i].what;

		ask(r, outcome_cases[i].name, outcome_cases[i].type, &o);
		CHECK(o.calls == 1, "%s: %d callbacks", what, o.calls);
		CHECK_STR(dns_status_name(o.status),
		          dns_status_name(outcome_cases[i].status), what);
		CHECK_INT(o.rcode, outcome_cases[i].rcode, what);
		if (outcome_cases[i].reason != NULL)
			CHECK_STR(o.reason, outcome_cases[i].reason, what);
		if (outcome_cases[i].text != NULL)
			CHECK_STR(o.text, outcome_cases[i].text, what);
		CHECK(o.cached == 0, "%s: cached without a cache", what);
	}
	CHECK_INT(dns_in_flight(r), 0, "in flight after the table");
	dns_resolver_free(r);
}

/* test_txt_nul - an embedded NUL stays in text_len */
static void
test_txt_nul(void)
{
	struct dns_resolver *r = resolver_new(500, 1, NULL);
	struct outcome o;

	ask(r, "txtnul.test", ns_t_txt, &o);
	CHECK_INT(o.status, DNS_ANSWER, "txt nul status");
	CHECK_INT(o.first_text_len, 5, "txt nul text_len");
	CHECK_STR(o.text, "ab", "txt nul text up to the NUL");
	dns_resolver_free(r);
}

/* test_invalid_names - impossible names are NXDOMAIN at once */
static void
test_invalid_names(void)
{
	static const char *names[] = {
	    "",
	    ".",
	    "a..test",
	    ".a.test",
	    "has space.test",
	    "tab\t.test",
	    "back\\slash.test",
	    ("a1234567890123456789012345678901"
	     "23456789012345678901234567890123.test"),
	};
	char longname[300];
	struct dns_resolver *r = resolver_new(200, 1, NULL);
	struct outcome o;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(&o, 0, sizeof(o));
		rc = dns_query(r, names[i], ns_t_a, on_result, &o);
		CHECK(rc == 0 && o.calls == 1, "invalid \"%s\": sync callback",
		      names[i]);
		CHECK_INT(o.status, DNS_NXDOMAIN, names[i]);
		CHECK_STR(o.reason, "invalid name", names[i]);
	}
	/* 254 octets without the dot is one too many, 253 is fine */
	for (i = 0; i < 254; i++)
		longname[i] = i % 2 ? '.' : 'x';
	longname[253] = 'x';
	longname[254] = '\0';
	memset(&o, 0, sizeof(o));
	dns_query(r, longname, ns_t_a, on_result, &o);
	CHECK(o.calls == 1 && o.status == DNS_NXDOMAIN, "254-octet name");
	longname[253] = '\0';
	CHECK_INT(dns_name_valid(longname), 1, "253-octet name valid");
	CHECK_INT(dns_in_flight(r), 0, "invalid names start nothing");
	dns_resolver_free(r);
}

/* all_done - dns_wait predicate for 20 outcomes */
static int
all_done(void *arg)
{
	struct outcome *o = arg;
	int i;

	for (i = 0; i < 20; i++)
		if (!o[i].done)
			return 0;
	return 1;
}

/*
 * test_parallel - 20 answers delayed SLOW_DELAY_MS each arrive in about
 * one delay: asked one after the other they would take 20 delays. The
 * bound (a quarter of that) tells parallel from serial with room for a
 * sanitizer build on a loaded machine.
 */
static void
test_parallel(void)
{
	struct dns_resolver *r = resolver_new(2000, 1, NULL);
	struct outcome o[20];
	char name[64];
	uint64_t t0, elapsed;
	int i, ok = 1;

	memset(o, 0, sizeof(o));
	t0 = dns_now_ms();
	for (i = 0; i < 20; i++) {
		o[i].type = ns_t_a;
		snprintf(name, sizeof(name), "n%d.slow.test", i);
		dns_query(r, name, ns_t_a, on_result, &o[i]);
	}
	CHECK_INT(dns_in_flight(r), 20, "20 in flight");
	CHECK_INT(dns_wait(r, all_done, o, t0 + 2500), 1, "all 20 done");
	elapsed = dns_now_ms() - t0;
	for (i = 0; i < 20; i++)
		ok &= o[i].status == DNS_ANSWER &&
		      strcmp(o[i].text, "192.0.2.20") == 0;
	CHECK(ok, "20 parallel answers");
	CHECK(elapsed + 10 >= SLOW_DELAY_MS && elapsed < 20 * SLOW_DELAY_MS / 4,
	      "20 parallel queries took %llu ms, want about %d",
	      (unsigned long long)elapsed, SLOW_DELAY_MS);
	CHECK_INT(dns_in_flight(r), 0, "none in flight");
	dns_resolver_free(r);
}

/*
 * test_deadline - dns_wait gives up at its deadline, free calls nobody.
 * Never before the deadline; the upper bound is half the query's own
 * try timeout, where a wait that ignored its deadline would end.
 */
static void
test_deadline(void)
{
	enum { TRY_TIMEOUT_MS = 2000, WAIT_MS = 300 };
	struct dns_resolver *r = resolver_new(TRY_TIMEOUT_MS, 2, NULL);
	struct outcome o;
	uint64_t t0, elapsed;

	memset(&o, 0, sizeof(o));
	o.type = ns_t_a;
	dns_query(r, "silent.test", ns_t_a, on_result, &o);
	t0 = dns_now_ms();
	CHECK_INT(dns_wait(r, outcome_done, &o, t0 + WAIT_MS), 0,
	          "wait returns 0 at the deadline");
	elapsed = dns_now_ms() - t0;
	CHECK(elapsed >= WAIT_MS && elapsed < TRY_TIMEOUT_MS / 2,
	      "deadline %d ms, waited %llu", WAIT_MS,
	      (unsigned long long)elapsed);
	CHECK_INT(dns_in_flight(r), 1, "still in flight after the deadline");
	dns_pump(r);
	CHECK_INT(o.calls, 0, "pump does not complete a silent query");
	dns_resolver_free(r);
	CHECK_INT(o.calls, 0, "resolver_free runs no callback");
}

/* A callback may start the next query (PTR -> A), as iprev does. */
struct chain_state {
	struct dns_resolver *r;
	struct outcome ptr, a;
};

/* on_ptr_then_a - a PTR callback that starts an A query */
static void
on_ptr_then_a(void *arg, const struct dns_result *res)
{
	struct chain_state *s = arg;

	on_result(&s->ptr, res);
	s->a.type = ns_t_a;
	dns_query(s->r, "a.test", ns_t_a, on_result, &s->a);
}

/* chain_done - dns_wait predicate for the chained query */
static int
chain_done(void *arg)
{
	return ((struct chain_state *)arg)->a.done;
}

/*
 * test_many_configs - more server configurations than the engine keeps
 * channels for (reloads changing dns_timeout_ms, say): idle channels are
 * replaced, every query is still answered
 */
static void
test_many_configs(void)
{
	for (unsigned i = 0; i < 40; i++) {
		struct dns_resolver *r = resolver_new(1000 + i, 1, NULL);
		struct outcome o;

		ask(r, "a.test", ns_t_a, &o);
		CHECK(o.done && o.status == DNS_ANSWER,
		      "configuration %u answered", i);
		dns_resolver_free(r);
	}
}

/* nothing_in_flight - dns_wait predicate over a resolver */
static int
nothing_in_flight(void *arg)
{
	return dns_in_flight(arg) == 0;
}

/* test_forget - a forgotten query completes without its callback */
static void
test_forget(void)
{
	struct dns_resolver *r = resolver_new(2000, 1, NULL);
	struct outcome gone, kept;

	memset(&gone, 0, sizeof(gone));
	memset(&kept, 0, sizeof(kept));
	gone.type = kept.type = ns_t_a;
	dns_query(r, "f1.slow.test", ns_t_a, on_result, &gone);
	dns_query(r, "f2.slow.test", ns_t_a, on_result, &kept);
	dns_forget(r, &gone);
	CHECK_INT(dns_in_flight(r), 2, "both still in flight");
	dns_wait(r, outcome_done, &kept, dns_now_ms() + 3000);
	/* Both answers come together (150 ms); wait for the other as well. */
	dns_wait(r, nothing_in_flight, r, dns_now_ms() + 400);
	CHECK(kept.done, "the kept query called back");
	CHECK(!gone.done, "the forgotten query did not call back");
	CHECK_INT(dns_in_flight(r), 0, "the forgotten query still completed");
	dns_resolver_free(r);
}

/* test_chained - a query started from a callback completes */
static void
test_chained(void)
{
	struct chain_state s;

	memset(&s, 0, sizeof(s));
	s.r = resolver_new(500, 1, NULL);
	s.ptr.type = ns_t_ptr;
	dns_query(s.r, "1.2.0.192.in-addr.arpa", ns_t_ptr, on_ptr_then_a, &s);
	CHECK_INT(dns_wait(s.r, chain_done, &s, dns_now_ms() + 2000), 1,
	          "chained query done");
	CHECK_STR(s.ptr.text, "host1.test,host2.test", "chain ptr");
	CHECK_STR(s.a.text, "192.0.2.1", "chain a");
	dns_resolver_free(s.r);
}

/* test_cache - synchronous hits, negative caching, TTL, no TEMPERROR */
static void
test_cache(void)
{
	struct dns_cache *cache = dns_cache_new(16, 3600);
	struct dns_resolver *r = resolver_new(300, 1, cache);
	unsigned before;
	size_t entries, hits, misses;
	struct outcome o;
	int i;

	before = srv_count("a.test", ns_t_a);
	ask(r, "a.test", ns_t_a, &o);
	CHECK(o.status == DNS_ANSWER && !o.cached, "first a.test not cached");
	memset(&o, 0, sizeof(o));
	o.type = ns_t_a;
	dns_query(r, "A.Test", ns_t_a, on_result, &o);
	CHECK(o.calls == 1 && o.cached, "second a.test served synchronously");
	CHECK_STR(o.text, "192.0.2.1", "cached rrset");
	CHECK_INT(srv_count("a.test", ns_t_a) - before, 1, "one query sent");
	dns_cache_stats(cache, &entries, &hits, &misses);
	CHECK(entries == 1 && hits == 1 && misses == 1, "stats %zu/%zu/%zu",
	      entries, hits, misses);

	/* negative answers are cached too (SOA minimum 30 s) */
	ask(r, "nx.test", ns_t_a, &o);
	memset(&o, 0, sizeof(o));
	dns_query(r, "nx.test", ns_t_a, on_result, &o);
	CHECK(o.calls == 1 && o.cached && o.status == DNS_NXDOMAIN,
	      "NXDOMAIN cached");

	/* TEMPERROR never is */
	before = srv_count("servfail.test", ns_t_a);
	for (i = 0; i < 2; i++) {
		ask(r, "servfail.test", ns_t_a, &o);
		CHECK(o.status == DNS_TEMPERROR && !o.cached,
		      "SERVFAIL not cached");
	}
	CHECK_INT(srv_count("servfail.test", ns_t_a) - before, 2,
	          "SERVFAIL asked twice");
	dns_resolver_free(r);
	dns_cache_free(cache);
}

/* test_cache_ttl - TTL 0 is not cached, TTL 1 expires after a second */
static void
test_cache_ttl(void)
{
	struct dns_cache *cache = dns_cache_new(16, 3600);
	struct dns_resolver *r = resolver_new(300, 1, cache);
	struct outcome o;
	unsigned before;

	/* TTL 0 is not cached either */
	ask(r, "zero.test", ns_t_a, &o);
	ask(r, "zero.test", ns_t_a, &o);
	CHECK(o.status == DNS_ANSWER && !o.cached, "TTL 0 not cached");

	/* a TTL of 1 s: a hit now, a miss after 1.1 s */
	before = srv_count("short.test", ns_t_a);
	ask(r, "short.test", ns_t_a, &o);
	ask(r, "short.test", ns_t_a, &o);
	CHECK(o.cached, "TTL 1 hit at once");
	nanosleep(&(struct timespec){1, 100000000}, NULL);
	ask(r, "short.test", ns_t_a, &o);
	CHECK(!o.cached && o.status == DNS_ANSWER, "TTL 1 expired");
	CHECK_INT(srv_count("short.test", ns_t_a) - before, 2,
	          "short.test asked twice");
	dns_resolver_free(r);
	dns_cache_free(cache);
}

/* test_cache_lru - a full cache evicts the least recently used entry */
static void
test_cache_lru(void)
{
	struct dns_cache *cache = dns_cache_new(2, 3600);
	struct dns_cache *off = dns_cache_new(0, 3600);
	struct dns_resolver *r = resolver_new(300, 1, cache);
	struct dns_resolver *r0 = resolver_new(300, 1, off);
	size_t entries;
	struct outcome o;

	ask(r, "a.test", ns_t_a, &o);
	ask(r, "aaaa.test", ns_t_aaaa, &o);
	ask(r, "a.test", ns_t_a, &o); /* a.test is now the most recent */
	CHECK(o.cached, "a.test hit");
	ask(r, "mx.test", ns_t_mx, &o); /* evicts aaaa.test */
	dns_cache_stats(cache, &entries, NULL, NULL);
	CHECK_INT(entries, 2, "bounded at 2 entries");
	ask(r, "a.test", ns_t_a, &o);
	CHECK(o.cached, "a.test kept");
	ask(r, "aaaa.test", ns_t_aaaa, &o);
	CHECK(!o.cached && o.status == DNS_ANSWER, "aaaa.test evicted");

	ask(r0, "a.test", ns_t_a, &o);
	ask(r0, "a.test", ns_t_a, &o);
	CHECK(!o.cached, "max_entries 0 caches nothing");
	dns_cache_stats(off, &entries, NULL, NULL);
	CHECK_INT(entries, 0, "disabled cache empty");
	dns_resolver_free(r);
	dns_resolver_free(r0);
	dns_cache_free(cache);
	dns_cache_free(off);
	dns_cache_free(NULL);
	dns_resolver_free(NULL);
}

static struct dns_cache *shared_cache;

/* cache_thread - one resolver per thread, one cache for all */
static void *
cache_thread(void *arg)
{
	static const char *names[] = {"a.test", "mx.test", "txt.test",
	                              "nx.test"};
	static const int types[] = {ns_t_a, ns_t_mx, ns_t_txt, ns_t_a};
	struct dns_resolver *r = resolver_new(1000, 2, shared_cache);
	struct outcome o;
	int i, *bad = arg;

	for (i = 0; i < 200; i++) {
		ask(r, names[i % 4], types[i % 4], &o);
		if (o.status != (i % 4 == 3 ? DNS_NXDOMAIN : DNS_ANSWER))
			(*bad)++;
	}
	dns_resolver_free(r);
	return NULL;
}

/* test_cache_threads - 4 threads share one cache */
static void
test_cache_threads(void)
{
	pthread_t t[4];
	int bad[4] = {0}, i, sum = 0;
	size_t hits;

	shared_cache = dns_cache_new(8, 3600);
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, cache_thread, &bad[i]);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		sum += bad[i];
	}
	dns_cache_stats(shared_cache, NULL, &hits, NULL);
	CHECK_INT(sum, 0, "threads: wrong outcomes");
	CHECK(hits >= 780, "threads: %zu cache hits of 800", hits);
	dns_cache_free(shared_cache);
}

/* test_classify - checks c-ares itself makes unreachable */
static void
test_classify(void)
{
	struct dns_result res;
	struct fakedns_pkt p;
	size_t i;

	build_answer(&p, 1, "a.test", ns_t_a, &zones[0]);
	memset(&res, 0, sizeof(res));
	dns_classify(p.buf, p.len, "b.test", ns_t_a, &res);
	CHECK_STR(res.reason, "mismatch", "other name");
	dns_classify(p.buf, p.len, "a.test", ns_t_aaaa, &res);
	CHECK_STR(res.reason, "mismatch", "other type");
	dns_classify(p.buf, p.len, "A.TEST", ns_t_a, &res);
	CHECK_INT(res.status, DNS_ANSWER, "case-insensitive question");
	CHECK_INT(dns_packet_ttl(p.buf, p.len, DNS_ANSWER), 300, "answer ttl");
	p.buf[2] &= 0x7f; /* a query, not a response */
	dns_classify(p.buf, p.len, "a.test", ns_t_a, &res);
	CHECK_STR(res.reason, "malformed", "QR clear");
	dns_classify(p.buf, 5, "a.test", ns_t_a, &res);
	CHECK(res.status == DNS_TEMPERROR && res.rcode == -1, "short packet");
	dns_classify(NULL, 0, "a.test", ns_t_a, &res);
	CHECK_STR(res.reason, "malformed", "no packet");

	build_answer(&p, 1, "nx.test", ns_t_a,
	             zone_find("nx.test", ns_t_a, &i));
	CHECK_INT(dns_packet_ttl(p.buf, p.len, DNS_NXDOMAIN), 30,
	          "NXDOMAIN ttl = SOA minimum");
	build_answer(&p, 1, "nodata.test", ns_t_aaaa,
	             zone_find("nodata.test", ns_t_aaaa, &i));
	CHECK_INT(dns_packet_ttl(p.buf, p.len, DNS_NODATA), 20,
	          "NODATA ttl = SOA ttl when smaller");
	build_answer(&p, 1, "nosoa.test", ns_t_aaaa,
	             zone_find("nosoa.test", ns_t_aaaa, &i));
	CHECK_INT(dns_packet_ttl(p.buf, p.len, DNS_NODATA), 60, "no SOA: 60 s");
	CHECK_INT(dns_packet_ttl(p.buf, p.len, DNS_TEMPERROR), 0,
	          "TEMPERROR: 0");
}

/* test_reverse - reverse-name vectors */
static void
test_reverse(void)
{
	static const struct {
		const char *addr, *suffix, *want;
	} cases[] = {
	    {"192.0.2.1", NULL, "1.2.0.192.in-addr.arpa"},
	    {"10.20.30.255", "zen.dnsbl.test", "255.30.20.10.zen.dnsbl.test"},
	    {"2001:db8::7", NULL,
	     "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	     "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	     ".ip6.arpa"},
	    {"2001:0db8:85a3:0000:0000:8a2e:0370:7334", NULL,
	     "4.3.3.7.0.7.3.0.e.2.a.8.0.0.0.0."
	     "0.0.0.0.3.a.5.8.8.b.d.0.1.0.0.2"
	     ".ip6.arpa"},
	    {"::1", NULL,
	     "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	     "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	     ".ip6.arpa"},
	    {"2001:db8::7", "bl.test",
	     "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	     "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	     ".bl.test"},
	    {"::ffff:192.0.2.1", NULL, "1.2.0.192.in-addr.arpa"},
	    {"fedc:ba98:7654:3210:0123:4567:89ab:cdef", "",
	     "f.e.d.c.b.a.9.8.7.6.5.4.3.2.1.0."
	     "0.1.2.3.4.5.6.7.8.9.a.b.c.d.e.f"
	     ".ip6.arpa"},
	};
	struct netaddr a;
	char buf[DNS_NAME_MAX];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(netaddr_parse(cases[i].addr, &a) == 0, "parse %s",
		      cases[i].addr);
		CHECK_INT(
		    dns_reverse_name(&a, cases[i].suffix, buf, sizeof(buf)), 0,
		    cases[i].addr);
		CHECK_STR(buf, cases[i].want, cases[i].addr);
	}
	netaddr_parse("192.0.2.1", &a);
	CHECK_INT(dns_reverse_name(&a, NULL, buf, 22), -1, "too small");
	CHECK_INT(dns_reverse_name(&a, NULL, buf, 23), 0, "just fits");
	memset(&a, 0, sizeof(a));
	CHECK_INT(dns_reverse_name(&a, NULL, buf, sizeof(buf)), -1, "unset");
}

/* main - start the fake server, run every test */
int
main(void)
{
	if (dns_library_init() < 0 ||
	    (fake = fakedns_start(zone_answer, NULL)) == NULL) {
		printf("test_dns: cannot set up\n");
		return 1;
	}
	test_reverse();
	test_classify();
	test_outcomes();
	test_txt_nul();
	test_invalid_names();
	test_parallel();
	test_deadline();
	test_chained();
	test_forget();
	test_many_configs();
	test_cache();
	test_cache_ttl();
	test_cache_lru();
	test_cache_threads();
	fakedns_stop(fake);
	dns_library_cleanup();
	return test_summary("test_dns");
}
