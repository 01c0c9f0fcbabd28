/*
 * cache - the process-wide DNS answer cache, shared by all resolvers
 *
 * A hash table of raw answer packets keyed by (lower-cased name, type),
 * with a doubly-linked LRU list: a lookup moves its entry to the front, an
 * insertion beyond max_entries evicts from the back. An entry lives for
 * the TTL the resolver computed (smallest answer TTL, or the SOA minimum
 * for NXDOMAIN/NODATA), capped at max_ttl; TTL 0 and TEMPERROR are never
 * stored. Expiry uses the monotonic clock in milliseconds, so a TTL of 1
 * lasts a full second whatever the sub-second phase.
 *
 * One mutex guards everything; it is never held while a callback runs: a
 * hit is copied out under the lock and the copy handed to the caller.
 *
 * Functions:
 *   dns_cache_new      create (max_entries 0 = a cache that stores nothing)
 *   dns_cache_free     free (NULL is a no-op)
 *   dns_cache_stats    current entries, hits and misses
 *   dns_cache_get      look up, copy out on a hit (dns_internal.h)
 *   dns_cache_put      store a classified answer (dns_internal.h)
 *
 * Ownership: entries own their packet copy; a hit's copy is the caller's.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "milter/dns/dns_internal.h"

struct cache_entry {
	struct cache_entry *hnext;    /* hash chain */
	TAILQ_ENTRY(cache_entry) lru; /* most recent first */
	uint32_t hash;
	int type;
	enum dns_status status;
	int rcode;
	const char *reason;
	uint64_t expires_ms;
	char name[DNS_NAME_MAX];
	size_t len;
	unsigned char packet[];
};

struct dns_cache {
	pthread_mutex_t lock;
	struct cache_entry **buckets;
	size_t nbuckets;                        /* a power of two */
	TAILQ_HEAD(cache_lru, cache_entry) lru; /* the last is evicted first */
	size_t entries;
	size_t max_entries;
	unsigned max_ttl;
	size_t hits;
	size_t misses;
};

/* cache_key - lower-case name into key; -1 if it does not fit */
static int
cache_key(const char *name, char *key, size_t len)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		if (i + 1 >= len)
			return -1;
		key[i] = name[i] >= 'A' && name[i] <= 'Z'
		             ? (char)(name[i] - 'A' + 'a')
		             : name[i];
	}
	key[i] = '\0';
	return 0;
}

/* cache_hash - FNV-1a over the key and the type */
static uint32_t
cache_hash(const char *key, int type)
{
	uint32_t h = 2166136261u;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	h = (h ^ (uint32_t)(type & 0xff)) * 16777619u;
	return (h ^ (uint32_t)((type >> 8) & 0xff)) * 16777619u;
}

/* cache_slot - the link that points at the entry for (key, type) */
static struct cache_entry **
cache_slot(struct dns_cache *c, const char *key, int type, uint32_t hash)
{
	struct cache_entry **pp;

	pp = &c->buckets[hash & (c->nbuckets - 1)];
	for (; *pp != NULL; pp = &(*pp)->hnext)
		if ((*pp)->hash == hash && (*pp)->type == type &&
		    strcmp((*pp)->name, key) == 0)
			break;
	return pp;
}

/* cache_drop - unlink and free the entry *pp points at */
static void
cache_drop(struct dns_cache *c, struct cache_entry **pp)
{
	struct cache_entry *e = *pp;

	*pp = e->hnext;
	TAILQ_REMOVE(&c->lru, e, lru);
	c->entries--;
	free(e);
}

/* dns_cache_new - an empty cache; max_entries 0 stores nothing */
struct dns_cache *
dns_cache_new(size_t max_entries, unsigned max_ttl)
{
	struct dns_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->max_entries = max_entries;
	c->max_ttl = max_ttl;
	TAILQ_INIT(&c->lru);
	for (c->nbuckets = 16;
	     c->nbuckets < max_entries && c->nbuckets < ((size_t)1 << 24);
	     c->nbuckets <<= 1)
		;
	if ((c->buckets = calloc(c->nbuckets, sizeof(*c->buckets))) == NULL ||
	    pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->buckets);
		free(c);
		return NULL;
	}
	return c;
}

/* dns_cache_free - free the cache and every entry; NULL is a no-op */
void
dns_cache_free(struct dns_cache *cache)
{
	struct cache_entry *e;

	if (cache == NULL)
		return;
	while ((e = TAILQ_FIRST(&cache->lru)) != NULL) {
		TAILQ_REMOVE(&cache->lru, e, lru);
		free(e);
	}
	pthread_mutex_destroy(&cache->lock);
	free(cache->buckets);
	free(cache);
}

/* dns_cache_stats - snapshot of the counters; any pointer may be NULL */
void
dns_cache_stats(struct dns_cache *cache, size_t *entries, size_t *hits,
                size_t *misses)
{
	size_t e = 0, h = 0, m = 0;

	if (cache != NULL) {
		pthread_mutex_lock(&cache->lock);
		e = cache->entries;
		h = cache->hits;
		m = cache->misses;
		pthread_mutex_unlock(&cache->lock);
	}
	if (entries != NULL)
		*entries = e;
	if (hits != NULL)
		*hits = h;
	if (misses != NULL)
		*misses = m;
}

/* cache_copy_out - fill hit from e with a private copy of the packet */
static int
cache_copy_out(const struct cache_entry *e, struct dns_cache_hit *hit)
{
	if ((hit->packet = malloc(e->len == 0 ? 1 : e->len)) == NULL)
		return -1;
	memcpy(hit->packet, e->packet, e->len);
	hit->len = e->len;
	hit->status = e->status;
	hit->rcode = e->rcode;
	hit->reason = e->reason;
	return 0;
}

/*
 * dns_cache_get - a fresh entry for (name, type) copied into hit.
 * Returns 1 on a hit, 0 on a miss.
 */
int
dns_cache_get(struct dns_cache *cache, const char *name, int type,
              struct dns_cache_hit *hit)
{
	char key[DNS_NAME_MAX];
	struct cache_entry **pp;
	uint32_t hash;
	int found = 0;

	if (cache == NULL || cache->max_entries == 0 ||
	    cache_key(name, key, sizeof(key)) < 0)
		return 0;
	hash = cache_hash(key, type);
	pthread_mutex_lock(&cache->lock);
	pp = cache_slot(cache, key, type, hash);
	if (*pp != NULL && (*pp)->expires_ms <= dns_now_ms())
		cache_drop(cache, pp);
	else if (*pp != NULL && cache_copy_out(*pp, hit) == 0) {
		TAILQ_REMOVE(&cache->lru, *pp, lru);
		TAILQ_INSERT_HEAD(&cache->lru, *pp, lru);
		found = 1;
	}
	if (found)
		cache->hits++;
	else
		cache->misses++;
	pthread_mutex_unlock(&cache->lock);
	return found;
}

/* cache_entry_new - an unlinked entry holding a copy of res */
static struct cache_entry *
cache_entry_new(const char *key, int type, const struct dns_result *res,
                uint64_t expires_ms)
{
	struct cache_entry *e;

	if ((e = calloc(1, sizeof(*e) + res->len)) == NULL)
		return NULL;
	memcpy(e->name, key, strlen(key) + 1);
	e->hash = cache_hash(key, type);
	e->type = type;
	e->status = res->status;
	e->rcode = res->rcode;
	e->reason = res->reason;
	e->expires_ms = expires_ms;
	e->len = res->len;
	memcpy(e->packet, res->packet, res->len);
	return e;
}

/*
 * dns_cache_put - remember res for ttl seconds (capped at max_ttl),
 * replacing an older entry and evicting the least recently used.
 */
void
dns_cache_put(struct dns_cache *cache, const char *name, int type,
              const struct dns_result *res, unsigned ttl)
{
	char key[DNS_NAME_MAX];
	struct cache_entry **pp, *e;

	if (cache == NULL || cache->max_entries == 0 ||
	    res->status == DNS_TEMPERROR || res->packet == NULL)
		return;
	if (ttl > cache->max_ttl)
		ttl = cache->max_ttl;
	if (ttl == 0 || cache_key(name, key, sizeof(key)) < 0 ||
	    (e = cache_entry_new(key, type, res,
	                         dns_now_ms() + (uint64_t)ttl * 1000)) == NULL)
		return;
	pthread_mutex_lock(&cache->lock);
	pp = cache_slot(cache, key, type, e->hash);
	if (*pp != NULL)
		cache_drop(cache, pp);
	e->hnext = cache->buckets[e->hash & (cache->nbuckets - 1)];
	cache->buckets[e->hash & (cache->nbuckets - 1)] = e;
	TAILQ_INSERT_HEAD(&cache->lru, e, lru);
	cache->entries++;
	while (cache->entries > cache->max_entries) {
		struct cache_entry *old = TAILQ_LAST(&cache->lru, cache_lru);

		cache_drop(cache,
		           cache_slot(cache, old->name, old->type, old->hash));
	}
	pthread_mutex_unlock(&cache->lock);
}
