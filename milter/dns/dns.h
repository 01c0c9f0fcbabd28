/*
 * dns - asynchronous DNS for the checks, over c-ares 1.18
 *
 * One engine thread (engine.c) owns every c-ares channel, one per
 * distinct server configuration: a c-ares 1.18 channel is not
 * thread-safe, and at about 73 KiB one per connection made idle
 * connections expensive. A dns_resolver is a light handle over that
 * thread for one owner (a connection, an SPF job; resolver.c). libmilter
 * may run the callbacks of one connection on different threads (never
 * two at once), so a handle keeps no thread-local state.
 *
 * Queries are started with dns_query() and complete through a callback.
 * The engine thread sends the questions and reads the answers as they
 * arrive (filling the shared cache), but a callback only ever runs on its
 * owner's thread, when the owner calls dns_pump() (non-blocking, at the
 * top of every milter callback) or dns_wait() (blocking up to a deadline,
 * when a rule needs a fact now). A completion callback may start further
 * queries (PTR -> A chains).
 *
 * Every outcome is one of four: an answer, NXDOMAIN, NODATA (name exists,
 * no record of that type), or TEMPERROR (SERVFAIL, REFUSED, timeout,
 * cancellation, malformed or mismatched answer, any other failure).
 * TEMPERROR is never folded into "not found".
 *
 * A dns_cache is shared by all resolvers of the process (mutex inside).
 * It keeps raw answer packets keyed by (lower-cased name, type) until their
 * TTL runs out (negative answers: the SOA minimum, RFC 2308), bounded in
 * entries; TEMPERROR is never cached.
 *
 * Ownership: dns_result and its packet belong to the resolver and are only
 * valid during the callback. The callback's arg must stay valid until the
 * callback has run or dns_resolver_free() returned: dns_resolver_free()
 * runs no callbacks.
 */
#ifndef MAILVET_DNS_H
#define MAILVET_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/netaddr.h"

#define DNS_NAME_MAX 256 /* 255 octets + NUL, presentation form */

enum dns_status {
	DNS_ANSWER,    /* at least one record of the asked type */
	DNS_NXDOMAIN,  /* the name does not exist */
	DNS_NODATA,    /* the name exists, no record of that type */
	DNS_TEMPERROR, /* any failure: try again later */
};

struct dns_config {
	const char *servers;     /* c-ares form "IP:PORT,[IPv6]:PORT" as
	                          * normalized by conf; NULL or "" = the
	                          * system's resolv.conf */
	unsigned try_timeout_ms; /* c-ares per-attempt timeout */
	unsigned tries;          /* c-ares attempts per server */
};

struct dns_result {
	enum dns_status status;
	int rcode;                   /* DNS RCODE from the packet, -1 if none */
	const char *reason;          /* short text for logs: "SERVFAIL",
	                              * "timeout", "refused", "malformed" ... */
	const unsigned char *packet; /* raw answer or NULL */
	size_t len;
	int cached; /* answered from the shared cache */
};

typedef void dns_callback(void *arg, const struct dns_result *result);

struct dns_cache;
struct dns_resolver;

/*
 * Process setup: ares_library_init and the engine thread. Call once,
 * after any fork and before other threads start.
 */
int dns_library_init(void);
void dns_library_cleanup(void);

struct dns_cache *dns_cache_new(size_t max_entries, unsigned max_ttl);
void dns_cache_free(struct dns_cache *cache);
void dns_cache_stats(struct dns_cache *cache, size_t *entries, size_t *hits,
                     size_t *misses);

/*
 * dns_resolver_new - a handle for one owner. cache may be NULL.
 * Returns NULL on failure (and logs nothing: the caller does).
 */
struct dns_resolver *dns_resolver_new(const struct dns_config *config,
                                      struct dns_cache *cache);
void dns_resolver_free(struct dns_resolver *resolver);

/*
 * dns_query - start one query (class IN). name is a domain in
 * presentation form, without a trailing dot. type is ns_t_a, ns_t_aaaa,
 * ns_t_ptr, ns_t_txt, ns_t_mx, ... The callback runs exactly once, maybe
 * before dns_query returns (cache hit, bad name). Returns 0, or -1 when
 * the query could not be started (the callback has then already run with
 * DNS_TEMPERROR).
 */
int dns_query(struct dns_resolver *resolver, const char *name, int type,
              dns_callback *callback, void *arg);

/*
 * dns_forget - the memory arg points to is going away: queries started
 * with that arg complete without their callback. For owners that live
 * shorter than the resolver (a message within a connection).
 */
void dns_forget(struct dns_resolver *resolver, const void *arg);

/* dns_pump - run the callbacks of what has come back; never blocks */
void dns_pump(struct dns_resolver *resolver);

/*
 * dns_wait - process answers until done(arg) is true or the monotonic
 * clock reaches deadline_ms. Returns 1 when done, 0 at the deadline.
 * Queries still in flight at the deadline stay in flight.
 */
int dns_wait(struct dns_resolver *resolver, int (*done)(void *arg), void *arg,
             uint64_t deadline_ms);

/* dns_in_flight - queries started and not yet completed */
size_t dns_in_flight(const struct dns_resolver *resolver);

/* dns_now_ms - CLOCK_MONOTONIC in milliseconds (clock.c) */
uint64_t dns_now_ms(void);

/*
 * Parsing answers (libresolv's ns_initparse/ns_parserr, bounds-checked).
 * dns_rrset_parse collects the answer-section records of one type
 * (following any CNAME chain in the answer); the rrset owns its memory.
 */
struct dns_rr {
	int type;
	unsigned ttl;
	struct netaddr addr;     /* A, AAAA */
	char name[DNS_NAME_MAX]; /* PTR, CNAME, NS, MX target */
	unsigned preference;     /* MX */
	char *text;              /* TXT: character-strings joined
	                          * without separator, NUL-terminated */
	size_t text_len;
};

struct dns_rrset {
	struct dns_rr *rr;
	size_t count;
};

int dns_rrset_parse(const unsigned char *packet, size_t len, int type,
                    struct dns_rrset *out);
void dns_rrset_free(struct dns_rrset *set);

/* dns_reverse_name - "4.3.2.1.in-addr.arpa" / nibble ".ip6.arpa" name */
int dns_reverse_name(const struct netaddr *addr, const char *suffix, char *buf,
                     size_t len);

const char *dns_status_name(enum dns_status status);

#endif
