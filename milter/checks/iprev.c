/*
 * iprev - forward-confirmed reverse DNS (see iprev.h)
 *
 * The chain is driven by DNS callbacks: the PTR answer starts one forward
 * query per name, all at once, so the whole check costs two round trips.
 * The first name that resolves back to the client settles the check on
 * pass; answers that arrive after the check settled are ignored.
 */
#include "milter/checks/iprev.h"

#include <arpa/nameser.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* iprev_settle - record the outcome once */
static void
iprev_settle(struct iprev_check *c, enum result r, const char *reason)
{
	if (c->done)
		return;
	c->done = 1;
	c->result = r;
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
}

/* iprev_on_forward - one PTR name's A/AAAA answer */
static void
iprev_on_forward(void *arg, const struct dns_result *res)
{
	struct iprev_lookup *l = arg;
	struct iprev_check *c = l->check;
	struct dns_rrset set = {NULL, 0};
	int type = c->ip.family == AF_INET ? ns_t_a : ns_t_aaaa;

	c->pending--;
	if (c->done)
		return;
	if (res->status == DNS_TEMPERROR) {
		c->forward_temperror = 1;
		snprintf(c->forward_reason, sizeof(c->forward_reason),
		         "%s lookup of %.40s: %s",
		         type == ns_t_a ? "A" : "AAAA", c->names[l->index],
		         res->reason);
	} else if (res->status == DNS_ANSWER &&
	           dns_rrset_parse(res->packet, res->len, type, &set) == 0) {
		for (size_t i = 0; i < set.count; i++) {
			if (netaddr_equal(&set.rr[i].addr, &c->ip)) {
				snprintf(c->name, sizeof(c->name), "%s",
				         c->names[l->index]);
				iprev_settle(c, RESULT_PASS, "");
				break;
			}
		}
	} else if (res->status == DNS_ANSWER) {
		c->forward_temperror = 1;
		snprintf(c->forward_reason, sizeof(c->forward_reason),
		         "malformed answer for %.40s", c->names[l->index]);
	}
	dns_rrset_free(&set);
	if (c->pending == 0 && !c->done) {
		if (c->forward_temperror)
			iprev_settle(c, RESULT_TEMPERROR, c->forward_reason);
		else
			iprev_settle(c, RESULT_FAIL,
			             "no PTR name resolves back to the client");
	}
}

/* iprev_take_names - copy the PTR names, bounded and de-duplicated */
static void
iprev_take_names(struct iprev_check *c, const struct dns_rrset *set)
{
	for (size_t i = 0; i < set->count && c->nnames < c->max_names; i++) {
		const char *n = set->rr[i].name;
		size_t len = strlen(n);
		int dup = 0;

		if (len > 0 && n[len - 1] == '.')
			len--;
		if (len == 0 || len >= DNS_NAME_MAX)
			continue;
		for (unsigned j = 0; j < c->nnames && !dup; j++)
			dup = strncasecmp(c->names[j], n, len) == 0 &&
			      c->names[j][len] == '\0';
		if (dup)
			continue;
		memcpy(c->names[c->nnames], n, len);
		c->names[c->nnames][len] = '\0';
		c->nnames++;
	}
}

/* iprev_on_ptr - the PTR answer: start every forward lookup at once */
static void
iprev_on_ptr(void *arg, const struct dns_result *res)
{
	struct iprev_check *c = arg;
	struct dns_rrset set = {NULL, 0};
	int type = c->ip.family == AF_INET ? ns_t_a : ns_t_aaaa;

	if (c->done)
		return;
	if (res->status == DNS_NXDOMAIN || res->status == DNS_NODATA) {
		iprev_settle(c, RESULT_PERMERROR, "no PTR record");
		return;
	}
	if (res->status == DNS_TEMPERROR) {
		char why[96];
		snprintf(why, sizeof(why), "PTR lookup: %s", res->reason);
		iprev_settle(c, RESULT_TEMPERROR, why);
		return;
	}
	if (dns_rrset_parse(res->packet, res->len, ns_t_ptr, &set) != 0) {
		iprev_settle(c, RESULT_TEMPERROR, "PTR lookup: malformed");
		return;
	}
	iprev_take_names(c, &set);
	dns_rrset_free(&set);
	if (c->nnames == 0) {
		iprev_settle(c, RESULT_PERMERROR, "no usable PTR name");
		return;
	}
	snprintf(c->name, sizeof(c->name), "%s", c->names[0]);
	c->pending = c->nnames;
	for (unsigned i = 0; i < c->nnames; i++) {
		c->lookups[i].check = c;
		c->lookups[i].index = i;
		dns_query(c->dns, c->names[i], type, iprev_on_forward,
		          &c->lookups[i]);
	}
}

/* iprev_start - issue the PTR query and return at once */
void
iprev_start(struct iprev_check *c, struct dns_resolver *dns,
            const struct netaddr *ip, unsigned max_names, uint64_t deadline_ms)
{
	char rname[DNS_NAME_MAX];

	memset(c, 0, sizeof(*c));
	c->started = 1;
	c->ip = *ip;
	c->dns = dns;
	c->deadline_ms = deadline_ms;
	c->max_names =
	    max_names > IPREV_MAX_NAMES ? IPREV_MAX_NAMES : max_names;
	if (c->max_names == 0)
		c->max_names = 1;
	if (dns == NULL) {
		iprev_settle(c, RESULT_TEMPERROR, "no resolver");
		return;
	}
	if (dns_reverse_name(ip, NULL, rname, sizeof(rname)) != 0) {
		iprev_settle(c, RESULT_PERMERROR, "no reverse name");
		return;
	}
	dns_query(dns, rname, ns_t_ptr, iprev_on_ptr, c);
}

/* iprev_is_done - predicate for dns_wait */
int
iprev_is_done(void *check)
{
	return ((struct iprev_check *)check)->done;
}

/* iprev_expire - the deadline passed: never "not found", always temperror */
void
iprev_expire(struct iprev_check *c, uint64_t now_ms)
{
	if (!c->done && now_ms >= c->deadline_ms)
		iprev_settle(c, RESULT_TEMPERROR,
		             c->nnames ? "forward lookup: timeout"
		                       : "PTR lookup: timeout");
}

/* iprev_finish - wait for the result up to the deadline */
enum result
iprev_finish(struct iprev_check *c, struct dns_resolver *dns)
{
	if (!c->started)
		return RESULT_NONE;
	if (!c->done && dns != NULL)
		dns_wait(dns, iprev_is_done, c, c->deadline_ms);
	iprev_expire(c, dns_now_ms());
	if (!c->done) /* woke early without an answer: still bounded */
		iprev_settle(c, RESULT_TEMPERROR, "PTR lookup: timeout");
	return c->result;
}
