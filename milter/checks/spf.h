/*
 * spf - Sender Policy Framework (RFC 7208) over libspf2 and mailvet's DNS
 *
 * One SPF_server_t is shared by every thread (spf_global_init). A check
 * runs to completion inside spf_check_helo / spf_check_mailfrom: libspf2
 * is synchronous, so each of its lookups becomes dns_query + dns_wait on
 * the caller's resolver, bounded by one deadline for the whole check.
 *
 * mailvet's layer (spf_dns.c) closes the gaps of libspf2 1.2.10: it counts
 * DNS-querying terms across include and redirect (10), void lookups (2),
 * keeps only the first 10 PTR names, selects records per RFC 7208 4.5
 * (TXT only) and validates every record against the RFC 7208 ABNF
 * (spf_record.c) before libspf2 compiles it (CVE-2023-42118). The result
 * mapping turns libspf2's "invalid" into temperror or permerror.
 *
 * Functions:
 *   spf_global_init, spf_global_free   the shared SPF_server_t
 *   spf_check_helo, spf_check_mailfrom run one check
 *   spf_received_spf, spf_authres      header values, client text escaped
 *   spf_record_check, spf_explain_check, spf_domain_check
 *                                      validators (also for unit tests)
 *
 * Diagnostics: functions return 0 on success, -1 on an internal failure
 * (out of memory, not initialized, buffer too small). A check that could
 * not decide because of DNS still returns 0 with result temperror.
 */
#ifndef MAILVET_SPF_H
#define MAILVET_SPF_H

#include <stddef.h>
#include <stdint.h>

#include "lib/netaddr.h"
#include "milter/dns/dns.h"
#include "rules/facts.h"

#define SPF_MAX_DNS_TERMS 10               /* RFC 7208 4.6.4 */
#define SPF_MAX_VOID      2                /* RFC 7208 4.6.4 */
#define SPF_MAX_NAMES     10               /* MX / PTR names per term, 4.6.4 */
#define SPF_ANY_PREFIX    "_mailvet-any0." /* see spf_record_rewrite */

struct spf_outcome {
	enum result result;
	char domain[256];      /* the domain checked */
	char identity[16];     /* "helo" or "mailfrom" */
	char sender[512];      /* <sender> of check_host(), local@domain */
	int null_sender;       /* MAIL FROM was <>: sender is postmaster@HELO */
	char explanation[512]; /* exp= text of a fail, "" if none */
	char reason[160];      /* why, for comments and logs */
	unsigned dns_lookups;  /* DNS-querying terms evaluated */
	unsigned void_lookups; /* of which NXDOMAIN / NODATA */
};

int spf_global_init(void);

/*
 * spf_dns_forget_abandoned - free the state of queries a check gave up on
 * at its deadline. Call it on the same thread, after dns_resolver_free()
 * of the resolver the checks ran on (which runs no callbacks).
 */
void spf_dns_forget_abandoned(void);
void spf_global_free(void);

int spf_check_helo(struct dns_resolver *r, const struct netaddr *ip,
                   const char *helo, const char *receiver, uint64_t deadline_ms,
                   struct spf_outcome *out);
int spf_check_mailfrom(struct dns_resolver *r, const struct netaddr *ip,
                       const char *helo, const char *mailfrom,
                       const char *receiver, uint64_t deadline_ms,
                       struct spf_outcome *out);

/*
 * The Received-SPF value and the spf= entry of Authentication-Results:
 * the _add forms append to a strbuf (whole, however long the sender);
 * the others copy into buf and return -1 when it was cut.
 */
struct strbuf;
void spf_received_spf_add(const struct spf_outcome *o, const struct netaddr *ip,
                          const char *helo, const char *receiver,
                          struct strbuf *b);
int spf_received_spf(const struct spf_outcome *o, const struct netaddr *ip,
                     const char *helo, const char *receiver, char *buf,
                     size_t len);
void spf_authres_add(const struct spf_outcome *o, struct strbuf *b);
int spf_authres(const struct spf_outcome *o, char *buf, size_t len);

/*
 * Validators. spf_record_check: 0 when text is one whole SPF record that
 * matches the RFC 7208 section 12 ABNF (with the semantic limits: CIDR
 * lengths, at most one redirect= and exp=, c/r/t macros only in exp text),
 * else -1 with a short reason in why. spf_explain_check: the same for an
 * explanation TXT (explain-string). spf_domain_check: 0 when name can be
 * an SPF identity's domain (RFC 7208 4.3: ASCII, labels 1..63 octets,
 * at most 253 octets, at least two labels), else -1.
 * spf_record_is_spf1: 1 when a TXT string is an SPF version 1 record
 * ("v=spf1" followed by a space or the end, any case), else 0.
 */
int spf_record_check(const char *text, char *why, size_t whylen);
int spf_explain_check(const char *text, char *why, size_t whylen);
int spf_domain_check(const char *name);
int spf_record_is_spf1(const char *text);

/*
 * spf_record_rewrite - a valid record (spf_record_check passed) in the
 * shape libspf2 1.2.10 evaluates correctly, for a client of family:
 * unknown modifiers dropped (RFC 7208 6: ignored), redirect= moved to
 * the end (it applies only when no mechanism matched) and dropped when
 * an "all" mechanism exists (6.1), ip4/ip6 "/0" rewritten as two "/1"
 * halves or dropped (libspf2 refuses a zero length). Returns 0, or -1
 * when out is too small.
 */
int spf_record_rewrite(const char *text, int family, char *out, size_t outlen);

#endif
