/*
 * resolver - the per-connection side of DNS: a light handle over the
 * engine thread (engine.c), pumped by its owner
 *
 * dns_query() checks the name, then the shared cache (a hit calls back at
 * once with cached = 1), then queues the question for the engine thread,
 * which owns the c-ares channels and reads answers as they arrive. The
 * completed query comes back to this resolver's list; the owner's next
 * dns_pump() or dns_wait() runs the callbacks, on the owner's thread, so
 * check state is only ever touched by the thread running the connection's
 * milter callback (libmilter runs one callback of a connection at a time).
 *
 * Choices worth knowing:
 * - A name that cannot exist (empty, over 253 octets, an empty label or one
 *   over 63, a space, control character or backslash) completes at once as
 *   DNS_NXDOMAIN with reason "invalid name": no server could answer
 *   otherwise, and it is not a temporary condition. One trailing dot is
 *   accepted and dropped.
 * - dns_wait() returns 0 before the deadline when no query is in flight,
 *   since nothing could then make done() true.
 * - A cached packet is re-served as stored; its TTL fields are not aged.
 * - A callback may start queries; it must not free its own resolver.
 * - dns_resolver_free() runs no callbacks. Queries still with the engine
 *   keep the resolver's memory alive (a reference each) and are dropped
 *   when they come back.
 *
 * Functions: dns_library_init, dns_library_cleanup, dns_resolver_new,
 * dns_resolver_free, dns_query, dns_forget, dns_pump, dns_wait,
 * dns_in_flight, dns_status_name, dns_resolver_complete (dns_now_ms is
 * in clock.c).
 *
 * Ownership and locking: the resolver's lock guards its two lists (with
 * the engine: pending; back from it: done), dead and refs; in_flight is
 * the owner's alone. The dns_result handed to a callback lives only
 * during it.
 */
#include <ares.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "milter/dns/dns_internal.h"

struct dns_resolver {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled when a query comes back */
	struct dns_cache *cache;
	struct dns_config config;
	char servers[1024];
	char key[1100]; /* servers|timeout|tries: the engine's channel */
	struct dns_pending_list pending; /* with the engine */
	struct dns_pending_list done;    /* back, not yet called, in order */
	size_t in_flight;                /* started, callback not yet run */
	unsigned refs; /* the owner + one per query with the engine */
	int dead;      /* the owner freed it */
};

static const char *status_names[] = {
    [DNS_ANSWER] = "answer",
    [DNS_NXDOMAIN] = "nxdomain",
    [DNS_NODATA] = "nodata",
    [DNS_TEMPERROR] = "temperror",
};

/* dns_library_init - c-ares and the engine thread, once, after any fork */
int
dns_library_init(void)
{
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		return -1;
	return dns_engine_start();
}

/* dns_library_cleanup - stop the engine, undo dns_library_init */
void
dns_library_cleanup(void)
{
	dns_engine_stop();
	ares_library_cleanup();
}

/* dns_status_name - "answer", "nxdomain", "nodata" or "temperror" */
const char *
dns_status_name(enum dns_status status)
{
	if ((unsigned)status >= sizeof(status_names) / sizeof(status_names[0]))
		return "unknown";
	return status_names[status];
}

/* dns_resolver_new - a handle for one connection; cache may be NULL */
struct dns_resolver *
dns_resolver_new(const struct dns_config *config, struct dns_cache *cache)
{
	struct dns_resolver *r;
	pthread_condattr_t ca;

	if (dns_engine_start() != 0 || (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->cache = cache;
	if (config != NULL)
		r->config = *config;
	snprintf(r->servers, sizeof(r->servers), "%s",
	         config && config->servers ? config->servers : "");
	r->config.servers = r->servers;
	snprintf(r->key, sizeof(r->key), "%s|%u|%u", r->servers,
	         r->config.try_timeout_ms, r->config.tries);
	r->refs = 1;
	TAILQ_INIT(&r->pending);
	TAILQ_INIT(&r->done);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

/* pending_free - one query's memory */
static void
pending_free(struct dns_pending *p)
{
	free(p->packet);
	free(p);
}

/* resolver_unref - drop a reference (lock held); 1 when the last went */
static int
resolver_unref(struct dns_resolver *r)
{
	return --r->refs == 0;
}

/* resolver_destroy - the memory, once nobody refers to it */
static void
resolver_destroy(struct dns_resolver *r)
{
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* dns_resolver_free - drop every query without calling back; NULL ok */
void
dns_resolver_free(struct dns_resolver *r)
{
	struct dns_pending *p;
	int last;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->dead = 1;
	while ((p = TAILQ_FIRST(&r->done)) != NULL) {
		TAILQ_REMOVE(&r->done, p, link);
		pending_free(p);
	}
	last = resolver_unref(r);
	pthread_mutex_unlock(&r->lock);
	if (last)
		resolver_destroy(r);
}

/*
 * dns_resolver_complete - on the engine thread: a query came back. Cache
 * it, then queue it for the owner (or drop it if the owner is gone).
 */
void
dns_resolver_complete(struct dns_pending *p)
{
	struct dns_resolver *r = p->resolver;
	int last = 0;

	if (p->res.packet != NULL)
		dns_cache_put(
		    r->cache, p->name, p->type, &p->res,
		    dns_packet_ttl(p->res.packet, p->res.len, p->res.status));
	pthread_mutex_lock(&r->lock);
	TAILQ_REMOVE(&r->pending, p, link);
	last = resolver_unref(r);
	if (r->dead) {
		pending_free(p);
	} else {
		TAILQ_INSERT_TAIL(&r->done, p, link);
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
	if (last)
		resolver_destroy(r);
}

/* dns_forget - queries started with arg complete without calling back */
void
dns_forget(struct dns_resolver *r, const void *arg)
{
	struct dns_pending *p;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	TAILQ_FOREACH (p, &r->pending, link)
		if (p->arg == arg)
			p->callback = NULL;
	TAILQ_FOREACH (p, &r->done, link)
		if (p->arg == arg)
			p->callback = NULL;
	pthread_mutex_unlock(&r->lock);
}

/* deliver - call back with a packet-less outcome */
static void
deliver(dns_callback *callback, void *arg, enum dns_status status,
        const char *reason)
{
	struct dns_result res;

	memset(&res, 0, sizeof(res));
	res.status = status;
	res.rcode = -1;
	res.reason = reason;
	callback(arg, &res);
}

/* serve_cached - answer from the shared cache; 1 when it did */
static int
serve_cached(struct dns_resolver *r, const char *name, int type,
             dns_callback *callback, void *arg)
{
	struct dns_cache_hit hit;
	struct dns_result res;

	if (r->cache == NULL || !dns_cache_get(r->cache, name, type, &hit))
		return 0;
	memset(&res, 0, sizeof(res));
	res.status = hit.status;
	res.rcode = hit.rcode;
	res.reason = hit.reason;
	res.packet = hit.packet;
	res.len = hit.len;
	res.cached = 1;
	callback(arg, &res);
	free(hit.packet);
	return 1;
}

/* normalize_name - copy name without one trailing dot; -1 if impossible */
static int
normalize_name(const char *name, char *buf, size_t len)
{
	size_t n;

	if (name == NULL || (n = strnlen(name, len)) >= len)
		return -1;
	memcpy(buf, name, n + 1);
	if (n > 1 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	return dns_name_valid(buf) ? 0 : -1;
}

/*
 * dns_query - start one class IN query; the callback runs exactly once.
 * Returns 0, or -1 when the query could not be started (the callback has
 * then run with DNS_TEMPERROR).
 */
int
dns_query(struct dns_resolver *r, const char *name, int type,
          dns_callback *callback, void *arg)
{
	struct dns_pending *p;

	if (r == NULL || type <= 0 || type > 65535) {
		deliver(callback, arg, DNS_TEMPERROR, "bad query");
		return -1;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		deliver(callback, arg, DNS_TEMPERROR, "no memory");
		return -1;
	}
	if (normalize_name(name, p->name, sizeof(p->name)) < 0) {
		free(p);
		deliver(callback, arg, DNS_NXDOMAIN, "invalid name");
		return 0;
	}
	if (serve_cached(r, p->name, type, callback, arg)) {
		free(p);
		return 0;
	}
	p->resolver = r;
	p->callback = callback;
	p->arg = arg;
	p->type = type;
	p->key = r->key;
	p->config = &r->config;
	pthread_mutex_lock(&r->lock);
	TAILQ_INSERT_HEAD(&r->pending, p, link);
	r->refs++;
	pthread_mutex_unlock(&r->lock);
	r->in_flight++;
	dns_engine_submit(p);
	return 0;
}

/* take_done - move the queries that came back, in order, into list */
static void
take_done(struct dns_resolver *r, struct dns_pending_list *list)
{
	TAILQ_INIT(list);
	pthread_mutex_lock(&r->lock);
	TAILQ_CONCAT(list, &r->done, link);
	pthread_mutex_unlock(&r->lock);
}

/* dns_pump - run the callbacks of what came back; never blocks */
void
dns_pump(struct dns_resolver *r)
{
	struct dns_pending_list list;
	struct dns_pending *p;

	if (r == NULL)
		return;
	take_done(r, &list);
	while ((p = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, p, link);
		r->in_flight--;
		if (p->callback != NULL)
			p->callback(p->arg, &p->res);
		pending_free(p);
	}
}

/* wait_back - sleep until a query comes back or the deadline */
static void
wait_back(struct dns_resolver *r, uint64_t deadline_ms)
{
	struct timespec ts = {(time_t)(deadline_ms / 1000),
	                      (long)(deadline_ms % 1000) * 1000000};

	pthread_mutex_lock(&r->lock);
	if (TAILQ_EMPTY(&r->done))
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	pthread_mutex_unlock(&r->lock);
}

/*
 * dns_wait - process answers until done(arg) or deadline_ms. Returns 1
 * when done, 0 at the deadline (or earlier when nothing is in flight).
 */
int
dns_wait(struct dns_resolver *r, int (*done)(void *arg), void *arg,
         uint64_t deadline_ms)
{
	for (;;) {
		dns_pump(r);
		if (done(arg))
			return 1;
		if (r == NULL || r->in_flight == 0)
			return 0;
		if (dns_now_ms() >= deadline_ms)
			return 0;
		wait_back(r, deadline_ms);
	}
}

/* dns_in_flight - queries started and not yet completed */
size_t
dns_in_flight(const struct dns_resolver *r)
{
	return r == NULL ? 0 : r->in_flight;
}
