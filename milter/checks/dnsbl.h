/*
 * dnsbl - DNS block and allow lists: client IPs (DNSBL) and domain names
 * (RHSBL), postscreen style
 *
 * Site lists (conf options dnsbl_sites, rhsbl_sites) are parsed once by
 * dnsbl_sites_parse() into an immutable struct dnsbl_sites that the config
 * owns. An entry is ZONE[=PATTERN][*WEIGHT]:
 *   zen.example=127.0.0.[2..11]*3, bl.example, wl.example=127.0.[0..255].1*-2
 * PATTERN has four octets, each a number, [a..b] or [a;b;c] (elements of a
 * list may be ranges); without one, any code in 127.0.0.0/8 matches.
 * WEIGHT defaults to 1; negative weights are allowlists. Entries naming the
 * same zone share one query.
 *
 * A dnsbl_check looks up one client IP (kind DNSBL_KIND_IP: reversed
 * octets or IPv6 nibbles + zone) or up to three names (DNSBL_KIND_NAME:
 * name + zone, for HELO, MAIL FROM domain and verified PTR name). Every
 * query starts at once and never blocks; DNS callbacks fill the answers
 * as the dialogue goes on (dns_pump), dnsbl_finish() waits (bounded) when
 * a rule needs the result.
 *
 * Per-list outcome (struct dnsbl_site_result):
 *   listed      an answer code in 127.0.0.0/8 matches the entry's pattern
 *   not-listed  NXDOMAIN, NODATA, or only codes outside the pattern
 *   temperror   SERVFAIL, timeout, malformed answer
 *   error       an answer outside 127.0.0.0/8 or in 127.255.255.0/24 (the
 *               codes lists use to refuse a query): logged, never a listing
 * The score sums the weights of the listed entries; complete is false
 * when any entry is pending, temperror or error.
 *
 * Summary result (dnsbl_result, Authentication-Results):
 *   none       no lists configured, or nothing to look up
 *   fail       score > 0
 *   temperror  score <= 0 and not complete
 *   pass       score <= 0 and complete
 *
 * Ownership: the check points at the sites (the config's, which must live
 * as long as the check) and is the arg of its DNS callbacks: free it only
 * after dns_resolver_free() or when dnsbl_in_flight() is 0.
 */
#ifndef MAILVET_DNSBL_H
#define MAILVET_DNSBL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/dnslist.h"
#include "lib/netaddr.h"
#include "lib/strbuf.h"
#include "milter/dns/dns.h"
#include "rules/facts.h"

#define DNSBL_MAX_CODES   8   /* answer codes kept per lookup */
#define DNSBL_TXT_MAX     256 /* TXT reason kept, bytes */
#define DNSBL_MAX_TARGETS 6   /* names held by one RHSBL check */

enum dnsbl_kind { DNSBL_KIND_IP, DNSBL_KIND_NAME };

enum dnsbl_status {
	DNSBL_NOT_CHECKED, /* nothing looked up on this list */
	DNSBL_PENDING,
	DNSBL_NOT_LISTED,
	DNSBL_LISTED,
	DNSBL_TEMPERROR,
	DNSBL_ERROR,
};

/* One entry's outcome; pointers stay valid until the check changes. */
struct dnsbl_site_result {
	const struct dnsbl_site *site; /* zone, pattern, weight */
	enum dnsbl_status status;
	unsigned targets;                /* listed: enum dnsbl_target mask */
	const char *name;                /* listed: IP text or name found */
	uint32_t codes[DNSBL_MAX_CODES]; /* listed: matching codes, host
	                                  * order (0x7f000002 = 127.0.0.2) */
	unsigned ncodes;
	const char *reason; /* temperror / error: why, else "" */
	const char *txt;    /* listed and fetched: TXT, else NULL */
};

struct dnsbl_check;

/* ---- query names ---- */

/* dnsbl_ip_qname - reversed octets / nibbles + "." + zone; 0 or -1 */
int dnsbl_ip_qname(const struct netaddr *ip, const char *zone, char *buf,
                   size_t len);
/* dnsbl_name_qname - name + "." + zone; -1 when over 253 octets */
int dnsbl_name_qname(const char *name, const char *zone, char *buf, size_t len);

/* ---- the check ---- */

/*
 * dnsbl_new - a check over sites (NULL or empty: result none) using dns
 * (NULL: every lookup is temperror). Each lookup gets timeout_ms from the
 * moment it starts. log_id prefixes log lines. NULL on ENOMEM.
 */
struct dnsbl_check *dnsbl_new(const struct dnsbl_sites *sites,
                              enum dnsbl_kind kind, struct dns_resolver *dns,
                              unsigned timeout_ms, unsigned long log_id);
void dnsbl_free(struct dnsbl_check *c); /* NULL: no-op */

/* dnsbl_start_ip - DNSBL_KIND_IP: query every zone for ip, at once */
void dnsbl_start_ip(struct dnsbl_check *c, const struct netaddr *ip);

/*
 * dnsbl_set_name - DNSBL_KIND_NAME: name is now the HELO name, MAIL FROM
 * domain or PTR name (target), replacing the previous one for that
 * target; NULL or "" forgets it (new transaction, null sender). Every zone
 * is queried at once for a name not yet looked up. Address literals,
 * single labels and names with bad characters are not looked up.
 */
void dnsbl_set_name(struct dnsbl_check *c, enum dnsbl_target target,
                    const char *name);

/* dnsbl_fetch_txt - start TXT lookups for the zones listing a target */
void dnsbl_fetch_txt(struct dnsbl_check *c);

/* dnsbl_is_done - dns_wait predicate: nothing pending (A or TXT) */
int dnsbl_is_done(void *check);

/* dnsbl_next_deadline - earliest deadline pending, UINT64_MAX if none */
uint64_t dnsbl_next_deadline(const struct dnsbl_check *c);

/* dnsbl_expire - lookups past their deadline settle on temperror */
void dnsbl_expire(struct dnsbl_check *c, uint64_t now_ms);

/* dnsbl_finish - wait (bounded by the deadlines) until done */
void dnsbl_finish(struct dnsbl_check *c, struct dns_resolver *dns);

/* dnsbl_in_flight - DNS callbacks still to run (for freeing) */
size_t dnsbl_in_flight(const struct dnsbl_check *c);

/* ---- results (as of now; call dnsbl_finish first for final ones) ---- */

enum result dnsbl_result(const struct dnsbl_check *c);
long long dnsbl_score(const struct dnsbl_check *c);
int dnsbl_complete(const struct dnsbl_check *c);
/* dnsbl_listed - zones with a listing (each once), for STRLIST facts */
const char *const *dnsbl_listed(const struct dnsbl_check *c, size_t *n);
/* dnsbl_failed - zones with temperror or error (each once) */
const char *const *dnsbl_failed(const struct dnsbl_check *c, size_t *n);
size_t dnsbl_site_count(const struct dnsbl_check *c);
const struct dnsbl_site_result *dnsbl_site_result(const struct dnsbl_check *c,
                                                  size_t i);
/* dnsbl_reasons - "zone: TXT; zone: TXT" of the fetched TXT reasons */
void dnsbl_reasons(const struct dnsbl_check *c, struct strbuf *sb);

/*
 * dnsbl_authres - append the Authentication-Results entry:
 *   ";\n\tx-dnsbl=fail policy.listed=zen.example
 *    (zen.example=127.0.0.2 score 3; bl.example: timeout)"
 * The method is x-dnsbl (IP) or x-rhsbl (names). policy.listed names the
 * zones with a listing (quoted when several); the comment gives each
 * listing (codes, for RHSBL also the target and name, and the weight),
 * each list that failed and why, or "not listed on N lists".
 */
void dnsbl_authres(const struct dnsbl_check *c, struct strbuf *sb);

const char *dnsbl_status_name(enum dnsbl_status s); /* "listed" ... */

#endif
