/*
 * engine - the one thread that talks to DNS servers
 *
 * A c-ares 1.18 channel is not thread-safe, and one channel costs about
 * 73 KiB (its query tables) plus a read of /etc/resolv.conf to set up.
 * One per SMTP connection made idle connections expensive, so every
 * channel now belongs to this thread: one per distinct server
 * configuration (servers, per-try timeout, tries), made on first use and
 * kept until the process ends. Resolvers (resolver.c) queue their
 * questions here; this thread hands them to c-ares, reads the answers as
 * soon as they arrive (so the shared cache fills at once), and queues the
 * completed query back to its resolver, whose owner runs the callback on
 * its own thread at its next dns_pump or dns_wait.
 *
 * Functions: dns_engine_start, dns_engine_stop, dns_engine_submit.
 *
 * Ownership: a queued dns_pending belongs to the engine until it is
 * handed back with dns_resolver_complete.
 */
#include <ares.h>
#include <arpa/nameser.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "milter/dns/dns_internal.h"

#define ENGINE_MAX_CHANNELS    16
#define ENGINE_POLL_MAX        (1 + ENGINE_MAX_CHANNELS * ARES_GETSOCK_MAXNUM)
#define DNS_EDNS_SIZE          1232
#define DNS_DEFAULT_TIMEOUT_MS 2000
#define DNS_DEFAULT_TRIES      2

struct engine_channel {
	char *key;
	ares_channel channel;
	size_t outstanding; /* queries asked, not yet answered */
};

static struct {
	pthread_mutex_t lock;
	pthread_once_t once;
	int started, stopping, failed;
	int wake[2]; /* a byte on wake[1] wakes the thread */
	pthread_t thread;
	struct dns_pending_queue queue; /* submitted, not yet asked */
	struct engine_channel channels[ENGINE_MAX_CHANNELS];
	size_t nchannels; /* engine thread only */
} eng = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .once = PTHREAD_ONCE_INIT,
    .wake = {-1, -1},
    .queue = STAILQ_HEAD_INITIALIZER(eng.queue),
};

/* ares_reason - the text for a c-ares status that came without a packet */
static const char *
ares_reason(int status)
{
	switch (status) {
	case ARES_ETIMEOUT: return "timeout";
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION: return "cancelled";
	case ARES_ECONNREFUSED: return "connection refused";
	case ARES_ENOMEM: return "no memory";
	case ARES_ESERVFAIL: return "SERVFAIL";
	case ARES_EREFUSED: return "REFUSED";
	default: return "DNS error";
	}
}

/* channel_new - a channel with our flags and the servers of config */
static int
channel_new(ares_channel *ch, const struct dns_config *config)
{
	struct ares_options opts;
	int mask = ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ | ARES_OPT_TIMEOUTMS |
	           ARES_OPT_TRIES;

	memset(&opts, 0, sizeof(opts));
	/*
	 * NOCHECKRESP: a SERVFAIL or REFUSED comes back with its packet
	 * instead of being retried into ECONNREFUSED. EDNS: DKIM keys and
	 * SPF records fit in UDP; c-ares retries over TCP on truncation.
	 */
	opts.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_EDNS;
	opts.ednspsz = DNS_EDNS_SIZE;
	opts.timeout = DNS_DEFAULT_TIMEOUT_MS;
	opts.tries = DNS_DEFAULT_TRIES;
	if (config->try_timeout_ms > 0)
		opts.timeout = config->try_timeout_ms > INT_MAX
		                   ? INT_MAX
		                   : (int)config->try_timeout_ms;
	if (config->tries > 0)
		opts.tries = config->tries > 100 ? 100 : (int)config->tries;
	if (ares_init_options(ch, &opts, mask) != ARES_SUCCESS)
		return -1;
	if (config->servers != NULL && config->servers[0] != '\0' &&
	    ares_set_servers_ports_csv(*ch, config->servers) != ARES_SUCCESS) {
		ares_destroy(*ch);
		return -1;
	}
	return 0;
}

/*
 * free_slot - a slot for a new channel: a free one, or one whose channel
 * has nothing outstanding (a configuration that reloads left behind)
 */
static struct engine_channel *
free_slot(void)
{
	if (eng.nchannels < ENGINE_MAX_CHANNELS)
		return &eng.channels[eng.nchannels++];
	for (size_t i = 0; i < eng.nchannels; i++) {
		struct engine_channel *c = &eng.channels[i];
		if (c->channel == NULL || c->outstanding == 0) {
			if (c->channel != NULL)
				ares_destroy(c->channel);
			free(c->key);
			c->key = NULL;
			c->channel = NULL;
			return c;
		}
	}
	return NULL;
}

/* channel_for - the channel of a configuration, made on first use */
static struct engine_channel *
channel_for(const struct dns_pending *p)
{
	struct engine_channel *c;

	for (size_t i = 0; i < eng.nchannels; i++)
		if (eng.channels[i].key != NULL &&
		    strcmp(eng.channels[i].key, p->key) == 0)
			return &eng.channels[i];
	if ((c = free_slot()) == NULL)
		return NULL;
	c->outstanding = 0;
	if ((c->key = strdup(p->key)) == NULL ||
	    channel_new(&c->channel, p->config) != 0) {
		/* An empty slot (channel NULL) is skipped until reused. */
		free(c->key);
		c->key = NULL;
		c->channel = NULL;
		return NULL;
	}
	return c;
}

/* finish - the outcome of one query, handed back to its resolver */
static void
finish(struct dns_pending *p, int status, const unsigned char *abuf,
       size_t alen)
{
	struct dns_result *res = &p->res;

	memset(res, 0, sizeof(*res));
	res->rcode = -1;
	if (abuf != NULL && alen > 0 && status != ARES_EDESTRUCTION &&
	    status != ARES_ECANCELLED && (p->packet = malloc(alen)) != NULL) {
		memcpy(p->packet, abuf, alen);
		res->packet = p->packet;
		res->len = alen;
		dns_classify(p->packet, alen, p->name, p->type, res);
	} else {
		res->status = DNS_TEMPERROR;
		res->reason = ares_reason(status);
	}
	dns_resolver_complete(p);
}

/* on_answer - c-ares callback, on the engine thread */
static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_pending *p = arg;

	(void)timeouts;
	((struct engine_channel *)p->channel)->outstanding--;
	finish(p, status, abuf, alen > 0 ? (size_t)alen : 0);
}

/* ask - hand the submitted queries to their channels */
static void
ask(struct dns_pending_queue *list)
{
	struct dns_pending *p;

	while ((p = STAILQ_FIRST(list)) != NULL) {
		struct engine_channel *c = channel_for(p);

		STAILQ_REMOVE_HEAD(list, qlink);
		if (c == NULL) {
			finish(p, ARES_ENOMEM, NULL, 0);
			continue;
		}
		c->outstanding++;
		p->channel = c;
		ares_query(c->channel, p->name, ns_c_in, p->type, on_answer, p);
	}
}

/* collect - the sockets of every channel, and the wake pipe */
static nfds_t
collect(struct pollfd *pfd, struct timeval *tv)
{
	nfds_t n = 1;

	pfd[0].fd = eng.wake[0];
	pfd[0].events = POLLIN;
	for (size_t c = 0; c < eng.nchannels; c++) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		unsigned bits;
		struct timeval tmp;

		if (eng.channels[c].channel == NULL)
			continue;
		bits = (unsigned)ares_getsock(eng.channels[c].channel, socks,
		                              ARES_GETSOCK_MAXNUM);

		for (unsigned i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;
			if (bits & (1u << i))
				ev |= POLLIN;
			if (bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
				ev |= POLLOUT;
			if (ev == 0)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = ev;
			n++;
		}
		*tv = *ares_timeout(eng.channels[c].channel, tv, &tmp);
	}
	return n;
}

/* process - let every channel read what is ready and expire what is due */
static void
process(struct pollfd *pfd, nfds_t n)
{
	for (nfds_t i = 1; i < n; i++) {
		ares_socket_t rfd, wfd;
		if (pfd[i].revents == 0)
			continue;
		rfd = pfd[i].revents & (POLLIN | POLLERR | POLLHUP)
		          ? pfd[i].fd
		          : ARES_SOCKET_BAD;
		wfd = pfd[i].revents & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD;
		/* The fd belongs to one channel; the others ignore it. */
		for (size_t c = 0; c < eng.nchannels; c++)
			if (eng.channels[c].channel != NULL)
				ares_process_fd(eng.channels[c].channel, rfd,
				                wfd);
	}
	for (size_t c = 0; c < eng.nchannels; c++)
		if (eng.channels[c].channel != NULL)
			ares_process_fd(eng.channels[c].channel,
			                ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

/* take_queue - move the submitted queries into list; whether to stop */
static void
take_queue(struct dns_pending_queue *list, int *stopping)
{
	char buf[64];

	while (read(eng.wake[0], buf, sizeof(buf)) > 0)
		continue;
	STAILQ_INIT(list);
	pthread_mutex_lock(&eng.lock);
	STAILQ_CONCAT(list, &eng.queue);
	*stopping = eng.stopping;
	pthread_mutex_unlock(&eng.lock);
}

/* engine_main - the thread */
static void *
engine_main(void *unused)
{
	static struct pollfd pfd[ENGINE_POLL_MAX];
	struct dns_pending_queue list;
	int stopping = 0;

	(void)unused;
	while (!stopping) {
		struct timeval tv = {1, 0};
		nfds_t n;
		int ms;

		take_queue(&list, &stopping);
		ask(&list);
		if (stopping)
			break; /* ares_destroy below cancels what is asked */
		n = collect(pfd, &tv);
		ms = (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
		if (poll(pfd, n, ms) < 0)
			continue;
		process(pfd, n);
	}
	for (size_t c = 0; c < eng.nchannels; c++) {
		if (eng.channels[c].channel != NULL)
			ares_destroy(eng.channels[c].channel); /* cancels */
		free(eng.channels[c].key);
	}
	eng.nchannels = 0;
	return NULL;
}

/* engine_init - the pipe and the thread, once */
static void
engine_init(void)
{
	if (pipe2(eng.wake, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    pthread_create(&eng.thread, NULL, engine_main, NULL) != 0) {
		eng.failed = 1;
		return;
	}
	eng.started = 1;
}

/* dns_engine_start - start the thread (idempotent); 0 or -1 */
int
dns_engine_start(void)
{
	pthread_once(&eng.once, engine_init);
	return eng.failed ? -1 : 0;
}

/* dns_engine_stop - at exit: queries in flight complete as cancelled */
void
dns_engine_stop(void)
{
	char c = 0;

	if (!eng.started)
		return;
	pthread_mutex_lock(&eng.lock);
	eng.stopping = 1;
	pthread_mutex_unlock(&eng.lock);
	if (write(eng.wake[1], &c, 1) < 0) {
		/* The pipe is never full enough to matter: the thread reads. */
	}
	pthread_join(eng.thread, NULL);
	close(eng.wake[0]);
	close(eng.wake[1]);
	eng.started = 0;
}

/* dns_engine_submit - queue a query for the engine thread */
void
dns_engine_submit(struct dns_pending *p)
{
	char c = 0;

	if (dns_engine_start() != 0) {
		finish(p, ARES_ENOMEM, NULL, 0);
		return;
	}
	pthread_mutex_lock(&eng.lock);
	STAILQ_INSERT_TAIL(&eng.queue, p, qlink);
	pthread_mutex_unlock(&eng.lock);
	if (write(eng.wake[1], &c, 1) < 0) {
		/* Full pipe: the thread is awake already and will read. */
	}
}
