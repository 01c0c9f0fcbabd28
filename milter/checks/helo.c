/*
 * helo - facts about the HELO/EHLO name (see helo.h)
 *
 * The A and AAAA lookups start at HELO and run while the client sends
 * MAIL and RCPT; helo_finish only waits when the answers are not in yet.
 */
#include "milter/checks/helo.h"

#include <arpa/nameser.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const helo_fact_names[HELO_NFACTS] = {
    "syntax",     "fqdn",        "literal",      "resolves",
    "matches_ip", "matches_ptr", "claims_local",
};

/* helo_fact_name - the fact's short name */
const char *
helo_fact_name(enum helo_fact f)
{
	return f < HELO_NFACTS ? helo_fact_names[f] : "?";
}

/* label_ok - RFC 5321 sub-domain: let-dig [ldh-str] */
static int
label_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* helo_domain_syntax - RFC 5321 Domain (ASCII), max 253 octets */
int
helo_domain_syntax(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 253)
		return 0;
	for (const char *p = s;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (!label_ok(p, n))
			return 0;
		if (dot == NULL)
			return 1;
		p = dot + 1;
	}
}

/* helo_literal_parse - "[1.2.3.4]" or "[IPv6:...]" */
int
helo_literal_parse(const char *s, struct netaddr *out)
{
	char buf[NETADDR_TEXT_MAX];
	size_t len = strlen(s);

	if (len < 3 || s[0] != '[' || s[len - 1] != ']' ||
	    len - 2 >= sizeof(buf))
		return -1;
	memcpy(buf, s + 1, len - 2);
	buf[len - 2] = '\0';
	if (strncasecmp(buf, "IPv6:", 5) == 0) {
		if (strchr(buf + 5, ':') == NULL)
			return -1;
		return netaddr_parse(buf, out);
	}
	if (strchr(buf, ':') != NULL) /* IPv6 needs the "IPv6:" tag */
		return -1;
	return netaddr_parse(buf, out);
}

/* is_fqdn - a dot, and a last label that is not all digits */
static int
is_fqdn(const char *s)
{
	const char *last = strrchr(s, '.');

	if (last == NULL || last[1] == '\0')
		return 0;
	for (const char *p = last + 1; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			return 1;
	return 0;
}

/* claims_local - the name or literal is one of ours */
static int
claims_local(const struct helo_check *h, const struct netaddr *lit,
             const struct helo_local *local)
{
	if (local == NULL)
		return 0;
	if (h->is_literal)
		return local->is_local_addr(local->ctx, lit);
	return local->is_local_name(local->ctx, h->name);
}

/* helo_static_facts - everything that needs no DNS */
static void
helo_static_facts(struct helo_check *h, const struct helo_local *local)
{
	struct netaddr lit;

	h->is_literal = helo_literal_parse(h->name, &lit) == 0;
	h->is_domain = !h->is_literal && helo_domain_syntax(h->name);
	h->facts[HELO_SYNTAX] =
	    (h->is_literal || h->is_domain) ? RESULT_PASS : RESULT_FAIL;
	h->facts[HELO_FQDN] =
	    h->is_domain && is_fqdn(h->name) ? RESULT_PASS : RESULT_FAIL;
	if (h->is_literal)
		h->facts[HELO_LITERAL] =
		    netaddr_equal(&lit, &h->client) ? RESULT_PASS : RESULT_FAIL;
	h->facts[HELO_CLAIMS_LOCAL] =
	    claims_local(h, &lit, local) ? RESULT_PASS : RESULT_FAIL;
}

/* helo_settle_dns - resolves / matches_ip from what the lookups found */
static void
helo_settle_dns(struct helo_check *h, int expired)
{
	if (h->dns_done)
		return;
	h->dns_done = 1;
	if (h->found_client) {
		h->facts[HELO_RESOLVES] = RESULT_PASS;
		h->facts[HELO_MATCHES_IP] = RESULT_PASS;
	} else if (h->temperror || expired) {
		h->facts[HELO_RESOLVES] =
		    h->found_any ? RESULT_PASS : RESULT_TEMPERROR;
		h->facts[HELO_MATCHES_IP] = RESULT_TEMPERROR;
		if (expired && h->reason[0] == '\0')
			snprintf(h->reason, sizeof(h->reason),
			         "HELO lookup: timeout");
	} else {
		h->facts[HELO_RESOLVES] =
		    h->found_any ? RESULT_PASS : RESULT_FAIL;
		h->facts[HELO_MATCHES_IP] = RESULT_FAIL;
	}
}

/* helo_on_answer - one of the A / AAAA answers */
static void
helo_on_answer(void *arg, const struct dns_result *res)
{
	struct helo_lookup *l = arg;
	struct helo_check *h = l->check;
	struct dns_rrset set = {NULL, 0};

	h->pending--;
	if (h->dns_done)
		return;
	if (res->status == DNS_TEMPERROR) {
		h->temperror = 1;
		snprintf(h->reason, sizeof(h->reason), "HELO %s lookup: %s",
		         l->type == ns_t_a ? "A" : "AAAA", res->reason);
	} else if (res->status == DNS_ANSWER &&
	           dns_rrset_parse(res->packet, res->len, l->type, &set) == 0) {
		h->found_any |= set.count > 0;
		for (size_t i = 0; i < set.count; i++)
			h->found_client |=
			    netaddr_equal(&set.rr[i].addr, &h->client);
	}
	dns_rrset_free(&set);
	if (h->pending == 0 || h->found_client)
		helo_settle_dns(h, 0);
}

/* helo_start - static facts now, A and AAAA lookups in flight */
void
helo_start(struct helo_check *h, struct dns_resolver *dns, const char *helo,
           const struct netaddr *client, const struct helo_local *local,
           uint64_t deadline_ms)
{
	static const int types[2] = {ns_t_a, ns_t_aaaa};

	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", helo ? helo : "");
	h->client = *client;
	h->deadline_ms = deadline_ms;
	helo_static_facts(h, local);
	if (!h->is_domain) {
		h->dns_done = 1; /* nothing to resolve: those facts are none */
		return;
	}
	if (dns == NULL) {
		h->temperror = 1;
		helo_settle_dns(h, 0);
		return;
	}
	h->pending = 2;
	for (int i = 0; i < 2; i++) {
		h->lookups[i].check = h;
		h->lookups[i].type = types[i];
		dns_query(dns, h->name, types[i], helo_on_answer,
		          &h->lookups[i]);
	}
}

/* helo_is_done - predicate for dns_wait */
int
helo_is_done(void *check)
{
	return ((struct helo_check *)check)->dns_done;
}

/* helo_expire - past the deadline, what is missing is temperror */
void
helo_expire(struct helo_check *h, uint64_t now_ms)
{
	if (!h->dns_done && now_ms >= h->deadline_ms)
		helo_settle_dns(h, 1);
}

/* helo_wait_dns - see helo.h */
void
helo_wait_dns(struct helo_check *h, struct dns_resolver *dns)
{
	if (!h->dns_done && dns != NULL)
		dns_wait(dns, helo_is_done, h, h->deadline_ms);
	if (!h->dns_done)
		helo_settle_dns(h, 1);
}

/* helo_finish - settle the DNS facts and compare with iprev's name */
void
helo_finish(struct helo_check *h, struct dns_resolver *dns, enum result iprev,
            const char *iprev_name)
{
	helo_wait_dns(h, dns);
	if (!h->is_domain)
		h->facts[HELO_MATCHES_PTR] = RESULT_NONE;
	else if (iprev == RESULT_TEMPERROR)
		h->facts[HELO_MATCHES_PTR] = RESULT_TEMPERROR;
	else if (iprev == RESULT_PASS && iprev_name != NULL &&
	         strcasecmp(iprev_name, h->name) == 0)
		h->facts[HELO_MATCHES_PTR] = RESULT_PASS;
	else
		h->facts[HELO_MATCHES_PTR] = RESULT_FAIL;
}

/*
 * helo_summary - one result for x-helo: fail when the name is malformed,
 * claims to be us or is a literal of another address; pass when it
 * matches the client by literal, address or verified PTR; temperror when
 * DNS could not tell; fail otherwise.
 */
enum result
helo_summary(const struct helo_check *h)
{
	const enum result *f = h->facts;

	if (h->name[0] == '\0')
		return RESULT_NONE;
	if (f[HELO_SYNTAX] == RESULT_FAIL ||
	    f[HELO_CLAIMS_LOCAL] == RESULT_PASS)
		return RESULT_FAIL;
	if (h->is_literal)
		return f[HELO_LITERAL];
	if (f[HELO_MATCHES_IP] == RESULT_PASS ||
	    f[HELO_MATCHES_PTR] == RESULT_PASS)
		return RESULT_PASS;
	if (f[HELO_MATCHES_IP] == RESULT_TEMPERROR ||
	    f[HELO_MATCHES_PTR] == RESULT_TEMPERROR)
		return RESULT_TEMPERROR;
	return RESULT_FAIL;
}
