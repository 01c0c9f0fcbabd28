/*
 * helo - what the HELO/EHLO name says about the client
 *
 * Each fact is its own result so rules can use them one by one:
 *   syntax       RFC 5321 Domain or address literal          pass / fail
 *   fqdn         a dotted name with a non-numeric last label  pass / fail
 *   literal      address literal equals the client address   pass / fail,
 *                                                             none if no
 * literal resolves     the name has A or AAAA records               pass / fail
 *   matches_ip   one of them is the client address           pass / fail
 *   matches_ptr  the name equals the verified iprev name      pass / fail
 *   claims_local the name or literal is this host's           pass / fail
 * DNS trouble makes resolves / matches_ip temperror; matches_ptr follows
 * iprev's temperror. Facts that do not apply (a literal has no A record,
 * a syntax error has nothing to resolve) are none.
 *
 * helo_summary() folds the facts into one result for the x-helo method
 * of Authentication-Results (see mailvet(8)).
 */
#ifndef MAILVET_HELO_H
#define MAILVET_HELO_H

#include <stdint.h>

#include "lib/netaddr.h"
#include "milter/dns/dns.h"
#include "rules/facts.h"

enum helo_fact {
	HELO_SYNTAX,
	HELO_FQDN,
	HELO_LITERAL,
	HELO_RESOLVES,
	HELO_MATCHES_IP,
	HELO_MATCHES_PTR,
	HELO_CLAIMS_LOCAL,
	HELO_NFACTS
};

/* What counts as "us": the daemon answers through these two predicates. */
struct helo_local {
	int (*is_local_name)(const void *ctx, const char *name);
	int (*is_local_addr)(const void *ctx, const struct netaddr *addr);
	const void *ctx;
};

struct helo_check;

struct helo_lookup {
	struct helo_check *check;
	int type;
};

struct helo_check {
	char name[512]; /* as sent, truncated */
	int is_literal;
	int is_domain; /* syntactically a domain */
	struct netaddr client;
	uint64_t deadline_ms;
	enum result facts[HELO_NFACTS];
	int dns_done; /* resolves / matches_ip settled */
	unsigned pending;
	int found_any, found_client, temperror;
	char reason[96];
	struct helo_lookup lookups[2];
};

/*
 * helo_start - compute the static facts and start the A/AAAA lookups.
 * iprev facts (matches_ptr) are filled in by helo_finish.
 */
void helo_start(struct helo_check *h, struct dns_resolver *dns,
                const char *helo, const struct netaddr *client,
                const struct helo_local *local, uint64_t deadline_ms);

/*
 * helo_wait_dns - wait (bounded) for the A/AAAA lookups: resolves and
 * matches_ip are settled after it; syntax, fqdn, literal and claims_local
 * are from helo_start on, matches_ptr only after helo_finish
 */
void helo_wait_dns(struct helo_check *h, struct dns_resolver *dns);

/* helo_finish - wait (bounded) for DNS; set matches_ptr from iprev */
void helo_finish(struct helo_check *h, struct dns_resolver *dns,
                 enum result iprev, const char *iprev_name);

int helo_is_done(void *check);
void helo_expire(struct helo_check *h, uint64_t now_ms);

enum result helo_summary(const struct helo_check *h);
const char *helo_fact_name(enum helo_fact f); /* "syntax", "fqdn", ... */

/* Syntax helpers, exposed for unit tests. */
int helo_domain_syntax(const char *s); /* RFC 5321 Domain */
int helo_literal_parse(const char *s, struct netaddr *out);

#endif
