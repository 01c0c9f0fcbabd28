/*
 * spf_internal - state shared by spf.c and spf_dns.c, not a public API
 *
 * libspf2's DNS layer has no context argument, so the check in progress
 * is reached through a thread-local pointer (spf_dns_begin / spf_dns_end
 * bracket one check). It is never kept across milter callbacks: a check
 * starts and finishes inside one call of spf_check_*.
 */
#ifndef MAILVET_SPF_INTERNAL_H
#define MAILVET_SPF_INTERNAL_H

#include <spf2/spf.h>

#include "milter/checks/spf.h"

enum spf_abort {
	SPF_ABORT_NONE = 0,
	SPF_ABORT_TIMEOUT, /* deadline reached: temperror */
	SPF_ABORT_LIMIT,   /* more than 10 DNS-querying terms */
	SPF_ABORT_VOID,    /* more than 2 void lookups */
};

struct spf_ctx {
	struct dns_resolver *resolver;
	struct netaddr client; /* for SPF_ANY_PREFIX answers */
	uint64_t deadline_ms;
	unsigned lookups; /* DNS-querying terms so far */
	unsigned voids;   /* void lookups so far */
	unsigned fetches; /* SPF record fetches (first is free) */
	enum spf_abort abort;
	int temperror;     /* some lookup failed (SERVFAIL, timeout) */
	int exp_found;     /* an exp= TXT was fetched and is valid */
	int syntax;        /* a record failed the validator */
	char problem[160]; /* first syntax problem, for problem= */
	/* A/AAAA lookups that follow an MX or PTR answer do not count. */
	char follow[SPF_MAX_NAMES][DNS_NAME_MAX];
	size_t nfollow, ifollow;
	int follow_any; /* the MX was asked with SPF_ANY_PREFIX */
};

SPF_dns_server_t *spf_dns_new(void);
void spf_dns_free(SPF_dns_server_t *srv);
void spf_dns_begin(struct spf_ctx *ctx);
void spf_dns_end(void);

#endif
