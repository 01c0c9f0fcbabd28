/*
 * dnsbl - DNSBL / RHSBL lookups driven by DNS callbacks (see dnsbl.h)
 *
 * A lookup is one (zone, target) pair: the A query of the target's query
 * name in the zone, and on demand the TXT query of the same name. Entries
 * of one zone share their zone's lookup. Lookups live in one array,
 * indexed zone_index * ntargets + target slot; a DNS callback's arg is
 * its lookup. Per-entry results, the score and the listed/failed zone
 * lists are recomputed from the lookups (dnsbl_tally) after every change,
 * so readers never see a half-updated summary.
 *
 * A target slot whose name was forgotten (new MAIL FROM) keeps its
 * lookups until their callbacks have run; it is reused afterwards.
 */
#include "milter/checks/dnsbl.h"

#include <arpa/nameser.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "milter/log.h"

struct dnsbl_lookup {
	struct dnsbl_check *check;
	unsigned zone; /* site index of the zone's first entry */
	unsigned slot; /* target slot */
	int used;
	int in_flight;            /* A callback still to run */
	int txt_in_flight;        /* TXT callback still to run */
	int txt_pending;          /* TXT wanted and not settled */
	int txt_asked;            /* TXT query started once */
	enum dnsbl_status status; /* PENDING, NOT_LISTED, LISTED (= codes
	                           * in 127/8 returned), TEMPERROR, ERROR */
	uint64_t deadline_ms, txt_deadline_ms;
	uint32_t codes[DNSBL_MAX_CODES];
	unsigned ncodes;
	char reason[128];
	char *txt;
};

struct dnsbl_slot {
	char name[DNS_NAME_MAX]; /* IP text or lower-case name */
	unsigned kinds;          /* enum dnsbl_target mask; 0 = free */
};

struct dnsbl_check {
	const struct dnsbl_sites *sites;
	struct dns_resolver *dns;
	enum dnsbl_kind kind;
	unsigned timeout_ms;
	unsigned long log_id;
	struct netaddr ip;
	unsigned nslots;
	struct dnsbl_slot slots[DNSBL_MAX_TARGETS];
	struct dnsbl_lookup *lookups; /* count * nslots */
	int overflow;                 /* a name found no free slot */
	/* summary, from dnsbl_tally */
	struct dnsbl_site_result results[DNSBL_MAX_SITES];
	const char *listed[DNSBL_MAX_SITES], *failed[DNSBL_MAX_SITES];
	size_t nlisted, nfailed;
	long long score;
	int complete, checked;
};

static const char *const status_names[] = {
    [DNSBL_NOT_CHECKED] = "not-checked", [DNSBL_PENDING] = "pending",
    [DNSBL_NOT_LISTED] = "not-listed",   [DNSBL_LISTED] = "listed",
    [DNSBL_TEMPERROR] = "temperror",     [DNSBL_ERROR] = "error",
};

/* dnsbl_status_name - the status as a word */
const char *
dnsbl_status_name(enum dnsbl_status s)
{
	return (size_t)s < sizeof(status_names) / sizeof(status_names[0])
	           ? status_names[s]
	           : "?";
}

/* nsites - entries in the check's list */
static size_t
nsites(const struct dnsbl_check *c)
{
	return c->sites != NULL ? c->sites->count : 0;
}

/* lookup_at - the lookup of (zone, slot) */
static struct dnsbl_lookup *
lookup_at(const struct dnsbl_check *c, unsigned zone, unsigned slot)
{
	return &c->lookups[zone * c->nslots + slot];
}

/* dnsbl_new - an idle check over sites */
struct dnsbl_check *
dnsbl_new(const struct dnsbl_sites *sites, enum dnsbl_kind kind,
          struct dns_resolver *dns, unsigned timeout_ms, unsigned long log_id)
{
	struct dnsbl_check *c = calloc(1, sizeof(*c));
	size_t n = sites != NULL ? sites->count : 0;

	if (c == NULL)
		return NULL;
	c->sites = sites;
	c->kind = kind;
	c->dns = dns;
	c->timeout_ms = timeout_ms;
	c->log_id = log_id;
	c->nslots = kind == DNSBL_KIND_IP ? 1 : DNSBL_MAX_TARGETS;
	c->complete = 1;
	if (n > 0 &&
	    (c->lookups = calloc(n * c->nslots, sizeof(*c->lookups))) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

/* dnsbl_free - release the check and its TXT texts */
void
dnsbl_free(struct dnsbl_check *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < nsites(c) * c->nslots; i++)
		free(c->lookups[i].txt);
	free(c->lookups);
	free(c);
}

/* lookup_qname - the query name of a lookup */
static int
lookup_qname(const struct dnsbl_check *c, const struct dnsbl_lookup *l,
             char *buf, size_t len)
{
	const char *zone = c->sites->site[l->zone].zone;

	if (c->kind == DNSBL_KIND_IP)
		return dnsbl_ip_qname(&c->ip, zone, buf, len);
	return dnsbl_name_qname(c->slots[l->slot].name, zone, buf, len);
}

/* lookup_settle - record the A outcome once */
static void
lookup_settle(struct dnsbl_lookup *l, enum dnsbl_status st, const char *why)
{
	if (l->status != DNSBL_PENDING)
		return;
	l->status = st;
	snprintf(l->reason, sizeof(l->reason), "%s", why);
}

/* answer_codes - the A records of an answer into l, or an error */
static void
answer_codes(struct dnsbl_lookup *l, const struct dns_result *res)
{
	struct dnsbl_check *c = l->check;
	struct dns_rrset set = {NULL, 0};
	char text[NETADDR_TEXT_MAX], why[128];
	uint32_t code;

	if (dns_rrset_parse(res->packet, res->len, ns_t_a, &set) != 0) {
		lookup_settle(l, DNSBL_TEMPERROR, "malformed answer");
		return;
	}
	for (size_t i = 0; i < set.count; i++) {
		const unsigned char *b = set.rr[i].addr.bytes;

		code = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		       (uint32_t)b[2] << 8 | b[3];
		netaddr_format(&set.rr[i].addr, text, sizeof(text));
		if (set.rr[i].addr.family != AF_INET || b[0] != 127 ||
		    (code & 0xffffff00u) == 0x7fffff00u) {
			snprintf(why, sizeof(why), "bad answer %s: %s", text,
			         b[0] == 127 ? "query refused"
			                     : "outside 127.0.0.0/8");
			log_warn("%lu: dnsbl %s: %s", c->log_id,
			         c->sites->site[l->zone].zone, why);
			l->ncodes = 0;
			lookup_settle(l, DNSBL_ERROR, why);
			dns_rrset_free(&set);
			return;
		}
		if (l->ncodes < DNSBL_MAX_CODES)
			l->codes[l->ncodes++] = code;
	}
	dns_rrset_free(&set);
	lookup_settle(l, l->ncodes > 0 ? DNSBL_LISTED : DNSBL_NOT_LISTED, "");
}

static void dnsbl_tally(struct dnsbl_check *c);

/* dnsbl_on_a - the A answer of one lookup */
static void
dnsbl_on_a(void *arg, const struct dns_result *res)
{
	struct dnsbl_lookup *l = arg;

	l->in_flight = 0;
	if (l->status != DNSBL_PENDING)
		return;
	if (res->status == DNS_NXDOMAIN || res->status == DNS_NODATA)
		lookup_settle(l, DNSBL_NOT_LISTED, "");
	else if (res->status == DNS_TEMPERROR)
		lookup_settle(l, DNSBL_TEMPERROR, res->reason);
	else
		answer_codes(l, res);
	dnsbl_tally(l->check);
}

/* lookup_start - issue the A query of (zone, slot) */
static void
lookup_start(struct dnsbl_check *c, unsigned zone, unsigned slot)
{
	struct dnsbl_lookup *l = lookup_at(c, zone, slot);
	char qname[DNS_NAME_MAX];

	free(l->txt);
	memset(l, 0, sizeof(*l));
	l->check = c;
	l->zone = zone;
	l->slot = slot;
	l->used = 1;
	l->status = DNSBL_PENDING;
	l->deadline_ms = dns_now_ms() + c->timeout_ms;
	if (lookup_qname(c, l, qname, sizeof(qname)) != 0) {
		/* A name that long cannot exist in the zone. */
		lookup_settle(l, DNSBL_NOT_LISTED, "name too long");
		return;
	}
	if (c->dns == NULL) {
		lookup_settle(l, DNSBL_TEMPERROR, "no resolver");
		return;
	}
	l->in_flight = 1;
	dns_query(c->dns, qname, ns_t_a, dnsbl_on_a, l);
}

/* start_slot - query every zone for one target slot */
static void
start_slot(struct dnsbl_check *c, unsigned slot)
{
	for (size_t i = 0; i < nsites(c); i++)
		if (c->sites->site[i].zone_index == i)
			lookup_start(c, (unsigned)i, slot);
	dnsbl_tally(c);
}

/* dnsbl_start_ip - every zone for the client IP, at once */
void
dnsbl_start_ip(struct dnsbl_check *c, const struct netaddr *ip)
{
	if (c == NULL || c->kind != DNSBL_KIND_IP || nsites(c) == 0)
		return;
	c->ip = *ip;
	netaddr_format(ip, c->slots[0].name, sizeof(c->slots[0].name));
	c->slots[0].kinds = DNSBL_T_IP;
	start_slot(c, 0);
}

/* name_normalize - lower case, no final dot; -1 if not a domain name */
static int
name_normalize(const char *name, char *buf, size_t len)
{
	size_t n = strlen(name), dots = 0;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n >= len || n > 253 || name[0] == '.')
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch == '.' && (name[i + 1] == '.' || i + 1 == n))
			return -1;
		dots += ch == '.';
		if (!isalnum(ch) && ch != '-' && ch != '_' && ch != '.')
			return -1;
		buf[i] = (char)tolower(ch);
	}
	buf[n] = '\0';
	return dots > 0 ? 0 : -1;
}

/* slot_busy - does a slot still have callbacks to come */
static int
slot_busy(const struct dnsbl_check *c, unsigned slot)
{
	for (size_t i = 0; i < nsites(c); i++) {
		const struct dnsbl_lookup *l = lookup_at(c, (unsigned)i, slot);

		if (l->in_flight || l->txt_in_flight)
			return 1;
	}
	return 0;
}

/* slot_find - the slot holding name, or a free one (*fresh set) */
static int
slot_find(struct dnsbl_check *c, const char *name, int *fresh)
{
	int spare = -1;

	*fresh = 0;
	for (unsigned i = 0; i < c->nslots; i++) {
		/* A forgotten name set again keeps its answers. */
		if (c->slots[i].name[0] != '\0' &&
		    strcmp(c->slots[i].name, name) == 0)
			return (int)i;
		if (c->slots[i].kinds == 0 && spare < 0 && !slot_busy(c, i))
			spare = (int)i;
	}
	*fresh = spare >= 0;
	return spare;
}

/* dnsbl_set_name - (re)point a target at a name and look it up */
void
dnsbl_set_name(struct dnsbl_check *c, enum dnsbl_target target,
               const char *name)
{
	char norm[DNS_NAME_MAX];
	int slot, fresh;

	if (c == NULL || c->kind != DNSBL_KIND_NAME || nsites(c) == 0)
		return;
	for (unsigned i = 0; i < c->nslots; i++)
		c->slots[i].kinds &= ~(unsigned)target;
	if (name == NULL || name_normalize(name, norm, sizeof(norm)) != 0) {
		dnsbl_tally(c);
		return;
	}
	if ((slot = slot_find(c, norm, &fresh)) < 0) {
		c->overflow = 1;
		log_warn("%lu: rhsbl: no room to look up %s", c->log_id, norm);
		dnsbl_tally(c);
		return;
	}
	c->slots[slot].kinds |= (unsigned)target;
	if (!fresh) {
		dnsbl_tally(c);
		return;
	}
	snprintf(c->slots[slot].name, sizeof(c->slots[slot].name), "%s", norm);
	start_slot(c, (unsigned)slot);
}

/* lookup_active - the lookup belongs to a target still of interest */
static int
lookup_active(const struct dnsbl_check *c, const struct dnsbl_lookup *l)
{
	return l->used && c->slots[l->slot].kinds != 0;
}

/* matching_codes - the lookup's codes passing a site's filter */
static unsigned
matching_codes(const struct dnsbl_site *site, const struct dnsbl_lookup *l,
               uint32_t *out)
{
	unsigned n = 0;

	if (l->status != DNSBL_LISTED)
		return 0;
	for (unsigned i = 0; i < l->ncodes; i++)
		if (dnsbl_pattern_match(site, l->codes[i]))
			out[n++] = l->codes[i];
	return n;
}

/* status_rank - which status an entry shows when its targets differ */
static int
status_rank(enum dnsbl_status s)
{
	static const int rank[] = {
	    [DNSBL_NOT_CHECKED] = 0, [DNSBL_NOT_LISTED] = 1, [DNSBL_ERROR] = 2,
	    [DNSBL_TEMPERROR] = 3,   [DNSBL_PENDING] = 4,    [DNSBL_LISTED] = 5,
	};
	return rank[s];
}

/* site_tally - one entry's result over the active targets */
static void
site_tally(struct dnsbl_check *c, size_t i, struct dnsbl_site_result *r)
{
	const struct dnsbl_site *site = &c->sites->site[i];
	uint32_t codes[DNSBL_MAX_CODES];

	memset(r, 0, sizeof(*r));
	r->site = site;
	r->reason = "";
	for (unsigned s = 0; s < c->nslots; s++) {
		const struct dnsbl_lookup *l =
		    lookup_at(c, site->zone_index, s);
		unsigned n = matching_codes(site, l, codes);
		enum dnsbl_status st = n > 0 ? DNSBL_LISTED
		                       : l->status == DNSBL_LISTED
		                           ? DNSBL_NOT_LISTED
		                           : l->status;

		if (!lookup_active(c, l))
			continue;
		if (st == DNSBL_LISTED && r->status == DNSBL_LISTED) {
			r->targets |= c->slots[s].kinds;
			continue;
		}
		if (status_rank(st) <= status_rank(r->status))
			continue;
		r->status = st;
		r->reason = l->reason;
		r->name = c->slots[s].name;
		r->targets = c->slots[s].kinds;
		r->txt = l->txt;
		r->ncodes = n;
		memcpy(r->codes, codes, n * sizeof(codes[0]));
	}
	if (r->status != DNSBL_LISTED) {
		r->name = NULL;
		r->txt = NULL;
	}
}

/* zone_add - append a zone to a list unless already there */
static void
zone_add(const char **list, size_t *n, const char *zone)
{
	for (size_t i = 0; i < *n; i++)
		if (list[i] == zone || strcmp(list[i], zone) == 0)
			return;
	list[(*n)++] = zone;
}

/* dnsbl_tally - recompute every entry's result and the summary */
static void
dnsbl_tally(struct dnsbl_check *c)
{
	c->score = 0;
	c->nlisted = c->nfailed = 0;
	c->complete = !c->overflow;
	c->checked = 0;
	for (size_t i = 0; i < nsites(c); i++) {
		struct dnsbl_site_result *r = &c->results[i];

		site_tally(c, i, r);
		c->checked |= r->status != DNSBL_NOT_CHECKED;
		if (r->status == DNSBL_LISTED) {
			c->score += r->site->weight;
			zone_add(c->listed, &c->nlisted, r->site->zone);
		} else if (r->status == DNSBL_TEMPERROR ||
		           r->status == DNSBL_ERROR)
			zone_add(c->failed, &c->nfailed, r->site->zone);
		if (r->status == DNSBL_PENDING ||
		    r->status == DNSBL_TEMPERROR || r->status == DNSBL_ERROR)
			c->complete = 0;
	}
}

/* txt_keep - the first TXT string, controls replaced, bounded */
static char *
txt_keep(const struct dns_rrset *set)
{
	size_t n;
	char *t;

	if (set->count == 0 || set->rr[0].text == NULL)
		return NULL;
	n = set->rr[0].text_len;
	if (n >= DNSBL_TXT_MAX)
		n = DNSBL_TXT_MAX - 1;
	if ((t = malloc(n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)set->rr[0].text[i];

		t[i] = ch < 0x20 || ch > 0x7e ? '?' : (char)ch;
	}
	t[n] = '\0';
	return t;
}

/* dnsbl_on_txt - the TXT answer of a listed lookup */
static void
dnsbl_on_txt(void *arg, const struct dns_result *res)
{
	struct dnsbl_lookup *l = arg;
	struct dns_rrset set = {NULL, 0};

	l->txt_in_flight = 0;
	if (!l->txt_pending)
		return;
	l->txt_pending = 0;
	if (res->status == DNS_ANSWER &&
	    dns_rrset_parse(res->packet, res->len, ns_t_txt, &set) == 0) {
		free(l->txt);
		l->txt = txt_keep(&set);
	}
	dns_rrset_free(&set);
	dnsbl_tally(l->check);
}

/* lookup_lists - does some entry of the lookup's zone list a code */
static int
lookup_lists(const struct dnsbl_check *c, const struct dnsbl_lookup *l)
{
	uint32_t codes[DNSBL_MAX_CODES];

	for (size_t i = 0; i < nsites(c); i++)
		if (c->sites->site[i].zone_index == l->zone &&
		    matching_codes(&c->sites->site[i], l, codes) > 0)
			return 1;
	return 0;
}

/* dnsbl_fetch_txt - TXT lookups for the zones that list a target */
void
dnsbl_fetch_txt(struct dnsbl_check *c)
{
	char qname[DNS_NAME_MAX];

	for (size_t i = 0; c != NULL && i < nsites(c) * c->nslots; i++) {
		struct dnsbl_lookup *l = &c->lookups[i];

		if (!lookup_active(c, l) || l->txt_asked ||
		    !lookup_lists(c, l) || c->dns == NULL ||
		    lookup_qname(c, l, qname, sizeof(qname)) != 0)
			continue;
		l->txt_asked = l->txt_pending = l->txt_in_flight = 1;
		l->txt_deadline_ms = dns_now_ms() + c->timeout_ms;
		dns_query(c->dns, qname, ns_t_txt, dnsbl_on_txt, l);
	}
}

/* lookup_waiting - the earliest deadline the lookup waits for, or 0 */
static uint64_t
lookup_waiting(const struct dnsbl_check *c, const struct dnsbl_lookup *l)
{
	uint64_t d = 0;

	if (!lookup_active(c, l))
		return 0;
	if (l->status == DNSBL_PENDING)
		d = l->deadline_ms;
	if (l->txt_pending && (d == 0 || l->txt_deadline_ms < d))
		d = l->txt_deadline_ms;
	return d;
}

/* dnsbl_is_done - predicate for dns_wait */
int
dnsbl_is_done(void *check)
{
	const struct dnsbl_check *c = check;

	for (size_t i = 0; c != NULL && i < nsites(c) * c->nslots; i++)
		if (lookup_waiting(c, &c->lookups[i]) != 0)
			return 0;
	return 1;
}

/* dnsbl_next_deadline - earliest pending deadline, UINT64_MAX if none */
uint64_t
dnsbl_next_deadline(const struct dnsbl_check *c)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; c != NULL && i < nsites(c) * c->nslots; i++) {
		uint64_t d = lookup_waiting(c, &c->lookups[i]);

		if (d != 0 && d < next)
			next = d;
	}
	return next;
}

/* dnsbl_expire - settle what is past its deadline: never "not listed" */
void
dnsbl_expire(struct dnsbl_check *c, uint64_t now_ms)
{
	for (size_t i = 0; c != NULL && i < nsites(c) * c->nslots; i++) {
		struct dnsbl_lookup *l = &c->lookups[i];

		if (l->status == DNSBL_PENDING && now_ms >= l->deadline_ms)
			lookup_settle(l, DNSBL_TEMPERROR, "timeout");
		if (l->txt_pending && now_ms >= l->txt_deadline_ms)
			l->txt_pending = 0;
	}
	if (c != NULL)
		dnsbl_tally(c);
}

/* dnsbl_finish - wait for every pending lookup, each to its deadline */
void
dnsbl_finish(struct dnsbl_check *c, struct dns_resolver *dns)
{
	if (c == NULL)
		return;
	while (dns != NULL && !dnsbl_is_done(c) && dns_in_flight(dns) > 0) {
		dns_wait(dns, dnsbl_is_done, c, dnsbl_next_deadline(c));
		dnsbl_expire(c, dns_now_ms());
	}
	/* Nothing in flight can settle the rest: bounded, temperror. */
	dnsbl_expire(c, UINT64_MAX);
}

/* dnsbl_in_flight - callbacks still to run */
size_t
dnsbl_in_flight(const struct dnsbl_check *c)
{
	size_t n = 0;

	for (size_t i = 0; c != NULL && i < nsites(c) * c->nslots; i++)
		n += (size_t)(c->lookups[i].in_flight +
		              c->lookups[i].txt_in_flight);
	return n;
}

/* dnsbl_result - none / fail / temperror / pass (see dnsbl.h) */
enum result
dnsbl_result(const struct dnsbl_check *c)
{
	if (c == NULL || !c->checked)
		return RESULT_NONE;
	if (c->score > 0)
		return RESULT_FAIL;
	return c->complete ? RESULT_PASS : RESULT_TEMPERROR;
}

/* dnsbl_score - sum of the weights of the listed entries */
long long
dnsbl_score(const struct dnsbl_check *c)
{
	return c != NULL ? c->score : 0;
}

/* dnsbl_complete - every list looked up has answered usably */
int
dnsbl_complete(const struct dnsbl_check *c)
{
	return c == NULL || c->complete;
}

/* dnsbl_listed - zones with a listing */
const char *const *
dnsbl_listed(const struct dnsbl_check *c, size_t *n)
{
	*n = c != NULL ? c->nlisted : 0;
	return c != NULL ? c->listed : NULL;
}

/* dnsbl_failed - zones that gave temperror or error */
const char *const *
dnsbl_failed(const struct dnsbl_check *c, size_t *n)
{
	*n = c != NULL ? c->nfailed : 0;
	return c != NULL ? c->failed : NULL;
}

/* dnsbl_site_count - entries in the list */
size_t
dnsbl_site_count(const struct dnsbl_check *c)
{
	return c != NULL ? nsites(c) : 0;
}

/* dnsbl_site_result - entry i's result, NULL past the end */
const struct dnsbl_site_result *
dnsbl_site_result(const struct dnsbl_check *c, size_t i)
{
	return c != NULL && i < nsites(c) ? &c->results[i] : NULL;
}

/* dnsbl_reasons - "zone: text; zone: text" of the TXT reasons fetched */
void
dnsbl_reasons(const struct dnsbl_check *c, struct strbuf *sb)
{
	const char *done[DNSBL_MAX_SITES];
	size_t ndone = 0, before;

	for (size_t i = 0; c != NULL && i < nsites(c); i++) {
		const struct dnsbl_site_result *r = &c->results[i];

		if (r->status != DNSBL_LISTED || r->txt == NULL)
			continue;
		before = ndone;
		zone_add(done, &ndone, r->site->zone);
		if (ndone == before)
			continue;
		strbuf_addf(sb, "%s%s: %s", before > 0 ? "; " : "",
		            r->site->zone, r->txt);
	}
}

/* authres_listing - "zone=CODE,CODE [target=NAME] score W" */
static void
authres_listing(const struct dnsbl_check *c, const struct dnsbl_site_result *r,
                struct strbuf *sb)
{
	strbuf_addf(sb, "%s=", r->site->zone);
	for (unsigned i = 0; i < r->ncodes; i++)
		strbuf_addf(sb, "%s%u.%u.%u.%u", i ? "," : "",
		            r->codes[i] >> 24, (r->codes[i] >> 16) & 0xff,
		            (r->codes[i] >> 8) & 0xff, r->codes[i] & 0xff);
	if (c->kind == DNSBL_KIND_NAME) {
		int n = 0;

		strbuf_add(sb, " ");
		for (unsigned t = DNSBL_T_HELO; t <= DNSBL_T_PTR; t <<= 1)
			if (r->targets & t)
				strbuf_addf(sb, "%s%s", n++ ? "+" : "",
				            dnsbl_target_name(t));
		strbuf_add(sb, "=");
		strbuf_add_comment_text(sb, r->name, DNS_NAME_MAX);
	}
	strbuf_addf(sb, " score %d", r->site->weight);
}

/* authres_comment - the listings and failures, or "not listed" */
static void
authres_comment(const struct dnsbl_check *c, struct strbuf *sb)
{
	size_t items = 0, zones = 0;

	strbuf_add(sb, " (");
	for (size_t i = 0; i < nsites(c); i++) {
		const struct dnsbl_site_result *r = &c->results[i];

		zones += c->sites->site[i].zone_index == i &&
		         r->status != DNSBL_NOT_CHECKED;
		if (r->status == DNSBL_NOT_LISTED ||
		    r->status == DNSBL_NOT_CHECKED)
			continue;
		if (items++ > 0)
			strbuf_add(sb, "; ");
		if (r->status == DNSBL_LISTED) {
			authres_listing(c, r, sb);
			continue;
		}
		strbuf_addf(sb, "%s: ", r->site->zone);
		strbuf_add_comment_text(
		    sb, r->status == DNSBL_PENDING ? "pending" : r->reason, 0);
	}
	if (items == 0)
		strbuf_addf(sb, "not listed on %zu list%s", zones,
		            zones == 1 ? "" : "s");
	strbuf_add(sb, ")");
}

/* dnsbl_authres - ";\n\tx-dnsbl=R [policy.listed=Z] (details)" */
void
dnsbl_authres(const struct dnsbl_check *c, struct strbuf *sb)
{
	const char *method =
	    c != NULL && c->kind == DNSBL_KIND_NAME ? "x-rhsbl" : "x-dnsbl";
	enum result r = dnsbl_result(c);
	struct strbuf zones;

	strbuf_addf(sb, ";\n\t%s=%s", method, result_name(r));
	if (r == RESULT_NONE)
		return;
	if (c->nlisted > 0) {
		strbuf_init(&zones);
		for (size_t i = 0; i < c->nlisted; i++)
			strbuf_addf(&zones, "%s%s", i ? " " : "", c->listed[i]);
		strbuf_add(sb, " policy.listed=");
		strbuf_add_mime_value(sb, strbuf_str(&zones), 0);
		strbuf_free(&zones);
	}
	authres_comment(c, sb);
}
