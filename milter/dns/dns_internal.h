/*
 * dns_internal - private interfaces between the files of milter/dns/
 *
 * Not for use outside milter/dns/ and its unit tests.
 *
 * Functions:
 *   dns_classify       raw answer packet -> one of the four outcomes
 *   dns_packet_ttl     how long an answer may be cached (RFC 2308)
 *   dns_name_valid     whether a presentation name could exist at all
 *   dns_cache_get      look up (name, type); copy out a fresh entry
 *   dns_cache_put      store an answer (TTL 0 and TEMPERROR are dropped)
 */
#ifndef MAILVET_DNS_INTERNAL_H
#define MAILVET_DNS_INTERNAL_H

#include <stddef.h>
#include <sys/queue.h>

#include "milter/dns/dns.h"

#define DNS_CNAME_CHAIN_MAX 8  /* CNAME links followed in one answer */
#define DNS_NEG_TTL_DEFAULT 60 /* negative answer without an SOA */

/*
 * dns_classify - read the header and question of an answer to (qname,
 * qtype) and fill status, rcode and reason of *res (packet fields are
 * left alone).
 */
void dns_classify(const unsigned char *packet, size_t len, const char *qname,
                  int qtype, struct dns_result *res);

/*
 * dns_packet_ttl - the caching lifetime in seconds of an answer already
 * classified as status: the smallest answer TTL, or min(SOA TTL, SOA
 * MINIMUM) for NXDOMAIN/NODATA (DNS_NEG_TTL_DEFAULT without an SOA).
 * Returns 0 for TEMPERROR and for anything unparsable.
 */
unsigned dns_packet_ttl(const unsigned char *packet, size_t len,
                        enum dns_status status);

/* dns_name_valid - 1 when name is a possible DNS name, else 0 */
int dns_name_valid(const char *name);

/*
 * A cache hit copies the entry out, so that the caller's callback never
 * sees the cache's own buffer: *packet is malloc'd and the caller frees
 * it. Returns 1 on a hit, 0 on a miss (or when the copy failed).
 */
struct dns_cache_hit {
	enum dns_status status;
	int rcode;
	const char *reason;    /* a static string */
	unsigned char *packet; /* caller frees */
	size_t len;
};

/*
 * The engine (engine.c): one thread owns every c-ares channel, one per
 * distinct server configuration. Resolvers hand it queries and it hands
 * back completed ones (resolver.c: dns_resolver_complete).
 */
struct dns_resolver;

struct dns_pending {
	TAILQ_ENTRY(dns_pending) link;   /* in a resolver's pending or done */
	STAILQ_ENTRY(dns_pending) qlink; /* in the engine's queue */
	struct dns_resolver *resolver;
	dns_callback *callback; /* NULL once forgotten */
	void *arg;
	int type;
	char name[DNS_NAME_MAX];
	const char *key; /* the resolver's channel configuration */
	void *channel;   /* the engine's channel it was asked on */
	const struct dns_config *config;
	/* the outcome, filled by the engine */
	struct dns_result res;
	unsigned char *packet; /* owned copy of res.packet */
};

TAILQ_HEAD(dns_pending_list, dns_pending);
STAILQ_HEAD(dns_pending_queue, dns_pending);

int dns_engine_start(void);
void dns_engine_stop(void);
void dns_engine_submit(struct dns_pending *p);
void dns_resolver_complete(struct dns_pending *p);

int dns_cache_get(struct dns_cache *cache, const char *name, int type,
                  struct dns_cache_hit *hit);
void dns_cache_put(struct dns_cache *cache, const char *name, int type,
                   const struct dns_result *res, unsigned ttl);

#endif
