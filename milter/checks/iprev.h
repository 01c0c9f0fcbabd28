/*
 * iprev - forward-confirmed reverse DNS (RFC 8601 section 3, "iprev")
 *
 * client IP -> PTR names -> A (IPv4 client) or AAAA (IPv6 client) of each
 * name, up to max_names names. Outcomes:
 *   pass       a PTR name resolves back to the client address
 *   fail       PTR names exist, none resolves back
 *   permerror  no PTR record (NXDOMAIN or NODATA)
 *   temperror  SERVFAIL, timeout or any other DNS failure on the way,
 *              when no name has passed yet
 *
 * Usage: iprev_start() at connect (returns at once), dns_pump() as the
 * dialogue goes on, iprev_finish() when a result is needed: it waits up to
 * the deadline set at start and then settles on temperror.
 *
 * Ownership: the check lives in the session; its memory must stay valid
 * until the session's resolver is freed (callbacks point into it).
 */
#ifndef MAILVET_IPREV_H
#define MAILVET_IPREV_H

#include <stdint.h>

#include "lib/netaddr.h"
#include "milter/dns/dns.h"
#include "rules/facts.h"

#define IPREV_MAX_NAMES 32

struct iprev_check;

struct iprev_lookup {
	struct iprev_check *check;
	unsigned index;
};

struct iprev_check {
	int started;
	int done;
	enum result result;
	char reason[96];         /* why, for the comment and the log */
	char name[DNS_NAME_MAX]; /* verified name (pass) or first PTR */
	struct netaddr ip;
	struct dns_resolver *dns; /* the session's; not owned */
	uint64_t deadline_ms;
	unsigned max_names;
	unsigned nnames;
	char names[IPREV_MAX_NAMES][DNS_NAME_MAX];
	struct iprev_lookup lookups[IPREV_MAX_NAMES];
	unsigned pending; /* forward lookups outstanding */
	int forward_temperror;
	char forward_reason[64];
};

void iprev_start(struct iprev_check *c, struct dns_resolver *dns,
                 const struct netaddr *ip, unsigned max_names,
                 uint64_t deadline_ms);

/* iprev_finish - wait (bounded) for the result; returns it */
enum result iprev_finish(struct iprev_check *c, struct dns_resolver *dns);

/* iprev_is_done - for dns_wait predicates */
int iprev_is_done(void *check);

/* iprev_expire - settle on temperror if the deadline has passed */
void iprev_expire(struct iprev_check *c, uint64_t now_ms);

#endif
