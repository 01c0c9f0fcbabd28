/*
 * resolver - one c-ares channel per SMTP connection, pumped by its owner
 *
 * dns_query() checks the name, then the shared cache (a hit calls back at
 * once with cached = 1), then hands the question to c-ares with
 * ares_query() (class IN, no search list). Nothing runs in the
 * background: dns_pump() and dns_wait() poll the channel's sockets and
 * let c-ares read answers and handle its own per-try timeouts.
 *
 * The channel runs with ARES_FLAG_NOCHECKRESP, so a SERVFAIL or REFUSED
 * comes back with its packet instead of being retried into an
 * ECONNREFUSED, and with EDNS (1232 octets) so DKIM keys and SPF records
 * fit in UDP; c-ares retries over TCP on a truncated answer by itself.
 * The outcome is read from the packet (dns_classify), not from the c-ares
 * status, which only speaks when there is no packet (timeout: "timeout",
 * cancel or destruction: "cancelled").
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
 * - dns_resolver_free() runs no callbacks: the c-ares callbacks that fire
 *   with ARES_EDESTRUCTION during ares_destroy() only free their state.
 *
 * Functions: dns_library_init, dns_library_cleanup, dns_resolver_new,
 * dns_resolver_free, dns_query, dns_pump, dns_wait, dns_in_flight,
 * dns_now_ms, dns_status_name.
 *
 * Ownership: the resolver owns one dns_pending per query in flight (the
 * c-ares arg); the dns_result handed to a callback lives only during it.
 */
#include <ares.h>
#include <arpa/nameser.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "milter/dns/dns_internal.h"

#define DNS_EDNS_SIZE          1232
#define DNS_DEFAULT_TIMEOUT_MS 2000
#define DNS_DEFAULT_TRIES      2

struct dns_resolver {
	ares_channel channel;
	struct dns_cache *cache;
	size_t in_flight;
	int destroying;              /* in ares_destroy: run no callbacks */
	struct dns_pending *pending; /* in flight, for dns_forget */
};

struct dns_pending {
	struct dns_pending *prev, *next;
	struct dns_resolver *resolver;
	dns_callback *callback;
	void *arg;
	int type;
	char name[DNS_NAME_MAX];
};

/* c-ares statuses that come without a packet, and what they mean here */
static const struct {
	int ares_status;
	const char *reason;
} ares_reasons[] = {
    {ARES_ETIMEOUT, "timeout"},       {ARES_ECANCELLED, "cancelled"},
    {ARES_EDESTRUCTION, "cancelled"}, {ARES_ECONNREFUSED, "connection refused"},
    {ARES_ENOMEM, "no memory"},       {ARES_ESERVFAIL, "SERVFAIL"},
    {ARES_EREFUSED, "REFUSED"},
};

static const char *status_names[] = {
    [DNS_ANSWER] = "answer",
    [DNS_NXDOMAIN] = "nxdomain",
    [DNS_NODATA] = "nodata",
    [DNS_TEMPERROR] = "temperror",
};

/* dns_library_init - ares_library_init, once per process before threads */
int
dns_library_init(void)
{
	return ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS ? 0 : -1;
}

/* dns_library_cleanup - undo dns_library_init */
void
dns_library_cleanup(void)
{
	ares_library_cleanup();
}

/* dns_now_ms - CLOCK_MONOTONIC in milliseconds */
uint64_t
dns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* dns_status_name - "answer", "nxdomain", "nodata" or "temperror" */
const char *
dns_status_name(enum dns_status status)
{
	if ((unsigned)status >= sizeof(status_names) / sizeof(status_names[0]))
		return "unknown";
	return status_names[status];
}

/* resolver_channel - create the channel with our flags and servers */
static int
resolver_channel(struct dns_resolver *r, const struct dns_config *config)
{
	struct ares_options opts;
	int mask;

	memset(&opts, 0, sizeof(opts));
	opts.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_EDNS;
	opts.ednspsz = DNS_EDNS_SIZE;
	opts.timeout = DNS_DEFAULT_TIMEOUT_MS;
	opts.tries = DNS_DEFAULT_TRIES;
	if (config != NULL && config->try_timeout_ms > 0)
		opts.timeout = config->try_timeout_ms > INT_MAX
		                   ? INT_MAX
		                   : (int)config->try_timeout_ms;
	if (config != NULL && config->tries > 0)
		opts.tries = config->tries > 100 ? 100 : (int)config->tries;
	mask = ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ | ARES_OPT_TIMEOUTMS |
	       ARES_OPT_TRIES;
	if (ares_init_options(&r->channel, &opts, mask) != ARES_SUCCESS)
		return -1;
	if (config != NULL && config->servers != NULL &&
	    config->servers[0] != '\0' &&
	    ares_set_servers_ports_csv(r->channel, config->servers) !=
	        ARES_SUCCESS) {
		ares_destroy(r->channel);
		return -1;
	}
	return 0;
}

/* dns_resolver_new - a resolver for one connection; cache may be NULL */
struct dns_resolver *
dns_resolver_new(const struct dns_config *config, struct dns_cache *cache)
{
	struct dns_resolver *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->cache = cache;
	if (resolver_channel(r, config) < 0) {
		free(r);
		return NULL;
	}
	return r;
}

/* dns_resolver_free - drop every query without calling back; NULL ok */
void
dns_resolver_free(struct dns_resolver *resolver)
{
	if (resolver == NULL)
		return;
	resolver->destroying = 1;
	ares_destroy(resolver->channel);
	free(resolver);
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

/* outcome_without_packet - TEMPERROR with a reason from the ares status */
static const char *
outcome_without_packet(int status)
{
	size_t i;

	for (i = 0; i < sizeof(ares_reasons) / sizeof(ares_reasons[0]); i++)
		if (ares_reasons[i].ares_status == status)
			return ares_reasons[i].reason;
	return status == ARES_SUCCESS ? "no answer" : ares_strerror(status);
}

/* pending_unlink - the query left the flight */
static void
pending_unlink(struct dns_resolver *r, struct dns_pending *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		r->pending = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
}

/*
 * dns_forget - the owner of arg is going away: its queries still in
 * flight complete (and are cached) without calling back.
 */
void
dns_forget(struct dns_resolver *resolver, const void *arg)
{
	if (resolver == NULL)
		return;
	for (struct dns_pending *p = resolver->pending; p != NULL; p = p->next)
		if (p->arg == arg)
			p->callback = NULL;
}

/* on_answer - c-ares callback: classify, cache, call the user back */
static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_pending *p = arg;
	struct dns_resolver *r = p->resolver;
	struct dns_result res;

	(void)timeouts;
	if (r->destroying) {
		free(p);
		return;
	}
	r->in_flight--;
	pending_unlink(r, p);
	memset(&res, 0, sizeof(res));
	if (abuf != NULL && alen > 0 && status != ARES_EDESTRUCTION &&
	    status != ARES_ECANCELLED) {
		res.packet = abuf;
		res.len = (size_t)alen;
		dns_classify(abuf, res.len, p->name, p->type, &res);
		dns_cache_put(r->cache, p->name, p->type, &res,
		              dns_packet_ttl(abuf, res.len, res.status));
	} else {
		res.status = DNS_TEMPERROR;
		res.rcode = -1;
		res.reason = outcome_without_packet(status);
	}
	if (p->callback != NULL) /* NULL: forgotten by its owner */
		p->callback(p->arg, &res);
	free(p);
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
dns_query(struct dns_resolver *resolver, const char *name, int type,
          dns_callback *callback, void *arg)
{
	struct dns_pending *p;

	if (resolver == NULL || type <= 0 || type > 65535) {
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
	if (serve_cached(resolver, p->name, type, callback, arg)) {
		free(p);
		return 0;
	}
	p->resolver = resolver;
	p->callback = callback;
	p->arg = arg;
	p->type = type;
	p->next = resolver->pending;
	if (p->next != NULL)
		p->next->prev = p;
	resolver->pending = p;
	resolver->in_flight++;
	ares_query(resolver->channel, p->name, ns_c_in, type, on_answer, p);
	return 0;
}

/* collect_fds - the channel's sockets as a pollfd array; returns count */
static nfds_t
collect_fds(struct dns_resolver *r, struct pollfd *pfd)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	nfds_t n = 0;
	unsigned bits, i;
	short ev;

	/*
	 * Not ARES_GETSOCK_WRITABLE(): it shifts a signed 1 into the sign
	 * bit for the 16th socket.
	 */
	bits = (unsigned)ares_getsock(r->channel, socks, ARES_GETSOCK_MAXNUM);
	for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
		ev = 0;
		if (bits & (1u << i))
			ev |= POLLIN;
		if (bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
			ev |= POLLOUT;
		if (ev == 0)
			continue;
		pfd[n].fd = socks[i];
		pfd[n].events = ev;
		pfd[n].revents = 0;
		n++;
	}
	return n;
}

/* step - poll up to timeout_ms, then let c-ares read and expire */
static void
step(struct dns_resolver *r, int timeout_ms)
{
	struct pollfd pfd[ARES_GETSOCK_MAXNUM];
	ares_socket_t rfd, wfd;
	nfds_t i, n;

	n = collect_fds(r, pfd);
	if (poll(pfd, n, timeout_ms) <= 0) {
		ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		return;
	}
	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		rfd = pfd[i].revents & (POLLIN | POLLERR | POLLHUP)
		          ? pfd[i].fd
		          : ARES_SOCKET_BAD;
		wfd = pfd[i].revents & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD;
		ares_process_fd(r->channel, rfd, wfd);
	}
}

/* dns_pump - read and process whatever has arrived; never blocks */
void
dns_pump(struct dns_resolver *resolver)
{
	if (resolver != NULL && resolver->in_flight > 0)
		step(resolver, 0);
}

/* wait_timeout - ms until the deadline or c-ares's next timeout */
static int
wait_timeout(struct dns_resolver *r, uint64_t left_ms)
{
	struct timeval max, tv, *t;
	uint64_t ms;

	if (left_ms > INT_MAX)
		left_ms = INT_MAX;
	max.tv_sec = (time_t)(left_ms / 1000);
	max.tv_usec = (suseconds_t)(left_ms % 1000) * 1000;
	t = ares_timeout(r->channel, &max, &tv);
	ms = (uint64_t)t->tv_sec * 1000 + ((uint64_t)t->tv_usec + 999) / 1000;
	return (int)(ms < left_ms ? ms : left_ms);
}

/*
 * dns_wait - process answers until done(arg) or deadline_ms. Returns 1
 * when done, 0 at the deadline (or earlier when nothing is in flight).
 */
int
dns_wait(struct dns_resolver *resolver, int (*done)(void *arg), void *arg,
         uint64_t deadline_ms)
{
	uint64_t now;

	for (;;) {
		if (done(arg))
			return 1;
		if (resolver == NULL || resolver->in_flight == 0)
			return 0;
		if ((now = dns_now_ms()) >= deadline_ms)
			return 0;
		step(resolver, wait_timeout(resolver, deadline_ms - now));
	}
}

/* dns_in_flight - queries started and not yet completed */
size_t
dns_in_flight(const struct dns_resolver *resolver)
{
	return resolver == NULL ? 0 : resolver->in_flight;
}
