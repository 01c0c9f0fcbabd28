/*
 * fakedns - a DNS server on 127.0.0.1 for the unit tests
 *
 * One thread per server: it polls the socket every 5 ms, parses each query
 * with libresolv's ns_initparse(), asks the test's callback for the
 * response, sends it at once or keeps it until it is due, and sends the
 * kept ones that are due after every poll. A query that does not parse,
 * or a delayed answer beyond FAKEDNS_MAX_DELAYED, gets no answer.
 *
 * Functions: fakedns_start, fakedns_stop, fakedns_servers and the packet
 * builders fakedns_begin, fakedns_rr_begin, fakedns_rr_end, fakedns_put,
 * fakedns_put16, fakedns_put32, fakedns_put_name.
 *
 * Ownership: the struct fakedns (socket, thread, kept answers) is the
 * server's, written by its thread alone once started; the test owns the
 * callback's arg.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <resolv.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/fakedns.h"

/* An answer held back until due. */
struct fakedns_delayed {
	uint64_t due;
	struct sockaddr_storage to;
	socklen_t tolen;
	struct fakedns_pkt pkt;
};

struct fakedns {
	int fd;
	pthread_t thread;
	atomic_int stop;
	fakedns_answer_fn answer;
	void *arg;
	char servers[32];
	struct fakedns_delayed delayed[FAKEDNS_MAX_DELAYED];
	size_t ndelayed;
};

/* ---- packet building ---- */

/* fakedns_put - append n octets, leaving out what does not fit */
void
fakedns_put(struct fakedns_pkt *p, const void *data, size_t n)
{
	if (p->len + n > sizeof(p->buf))
		return;
	memcpy(p->buf + p->len, data, n);
	p->len += n;
}

/* fakedns_put16 - append a 16-bit value in network order */
void
fakedns_put16(struct fakedns_pkt *p, unsigned v)
{
	unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};

	fakedns_put(p, b, 2);
}

/* fakedns_put32 - append a 32-bit value in network order */
void
fakedns_put32(struct fakedns_pkt *p, unsigned v)
{
	fakedns_put16(p, v >> 16);
	fakedns_put16(p, v & 0xffff);
}

/* fakedns_put_name - presentation name -> uncompressed wire form */
void
fakedns_put_name(struct fakedns_pkt *p, const char *name)
{
	while (*name != '\0') {
		size_t n = strcspn(name, ".");
		unsigned char len = (unsigned char)n;

		fakedns_put(p, &len, 1);
		fakedns_put(p, name, n);
		name += n;
		if (*name == '.')
			name++;
	}
	fakedns_put(p, "", 1);
}

/* fakedns_begin - header and question section of a response */
void
fakedns_begin(struct fakedns_pkt *p, unsigned id, int rcode, unsigned ancount,
              unsigned nscount, const char *qname, int qtype)
{
	memset(p, 0, sizeof(*p));
	fakedns_put16(p, id);
	fakedns_put16(p, 0x8580u | (unsigned)rcode); /* QR AA RD RA */
	fakedns_put16(p, 1);
	fakedns_put16(p, ancount);
	fakedns_put16(p, nscount);
	fakedns_put16(p, 0);
	fakedns_put_name(p, qname);
	fakedns_put16(p, (unsigned)qtype);
	fakedns_put16(p, ns_c_in);
}

/* fakedns_rr_begin - a record up to its RDLENGTH, written as 0 for now */
size_t
fakedns_rr_begin(struct fakedns_pkt *p, const char *owner, int type,
                 unsigned ttl)
{
	fakedns_put_name(p, owner);
	fakedns_put16(p, (unsigned)type);
	fakedns_put16(p, ns_c_in);
	fakedns_put32(p, ttl);
	fakedns_put16(p, 0);
	return p->len;
}

/* fakedns_rr_end - RDLENGTH = the octets put since fakedns_rr_begin */
void
fakedns_rr_end(struct fakedns_pkt *p, size_t mark)
{
	if (mark < 2 || mark > p->len)
		return;
	p->buf[mark - 2] = (unsigned char)((p->len - mark) >> 8);
	p->buf[mark - 1] = (unsigned char)(p->len - mark);
}

/* ---- the server thread ---- */

/* now_ms - CLOCK_MONOTONIC in milliseconds, as the resolver counts */
static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* srv_handle - answer one query: now, later or never */
static void
srv_handle(struct fakedns *srv, const unsigned char *q, size_t qlen,
           const struct sockaddr_storage *from, socklen_t fromlen)
{
	struct fakedns_question question;
	struct fakedns_delayed d;
	unsigned delay_ms = 0;
	ns_msg msg;
	ns_rr rr;

	if (ns_initparse(q, (int)qlen, &msg) < 0 ||
	    ns_parserr(&msg, ns_s_qd, 0, &rr) < 0)
		return;
	question.id = ns_msg_id(msg);
	question.name = ns_rr_name(rr);
	question.type = (int)ns_rr_type(rr);
	memset(&d.pkt, 0, sizeof(d.pkt));
	if (srv->answer(srv->arg, &question, &d.pkt, &delay_ms) != FAKEDNS_SEND)
		return;
	d.to = *from;
	d.tolen = fromlen;
	d.due = now_ms() + delay_ms;
	if (delay_ms == 0)
		sendto(srv->fd, d.pkt.buf, d.pkt.len, 0,
		       (const struct sockaddr *)&d.to, d.tolen);
	else if (srv->ndelayed < FAKEDNS_MAX_DELAYED)
		srv->delayed[srv->ndelayed++] = d;
}

/* srv_flush - send the delayed answers that are due */
static void
srv_flush(struct fakedns *srv)
{
	uint64_t now = now_ms();
	size_t i = 0;

	while (i < srv->ndelayed) {
		struct fakedns_delayed *d = &srv->delayed[i];

		if (d->due > now) {
			i++;
			continue;
		}
		sendto(srv->fd, d->pkt.buf, d->pkt.len, 0,
		       (const struct sockaddr *)&d->to, d->tolen);
		*d = srv->delayed[--srv->ndelayed];
	}
}

/* srv_main - the server thread: receive, answer, flush */
static void *
srv_main(void *arg)
{
	struct fakedns *srv = arg;
	struct sockaddr_storage from;
	unsigned char buf[1500];
	struct pollfd pfd;
	socklen_t fromlen;
	ssize_t n;

	while (!atomic_load(&srv->stop)) {
		pfd.fd = srv->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 5) > 0) {
			fromlen = sizeof(from);
			n = recvfrom(srv->fd, buf, sizeof(buf), 0,
			             (struct sockaddr *)&from, &fromlen);
			if (n > 0)
				srv_handle(srv, buf, (size_t)n, &from, fromlen);
		}
		srv_flush(srv);
	}
	return NULL;
}

/* ---- start and stop ---- */

/* fakedns_start - bind 127.0.0.1 on an ephemeral port, start the thread */
struct fakedns *
fakedns_start(fakedns_answer_fn answer, void *arg)
{
	struct fakedns *srv = calloc(1, sizeof(*srv));
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (srv == NULL)
		return NULL;
	srv->answer = answer;
	srv->arg = arg;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((srv->fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(srv->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(srv->fd, (struct sockaddr *)&sin, &len) < 0 ||
	    pthread_create(&srv->thread, NULL, srv_main, srv) != 0) {
		if (srv->fd >= 0)
			close(srv->fd);
		free(srv);
		return NULL;
	}
	snprintf(srv->servers, sizeof(srv->servers), "127.0.0.1:%u",
	         (unsigned)ntohs(sin.sin_port));
	return srv;
}

/* fakedns_stop - stop the thread, close the socket, free */
void
fakedns_stop(struct fakedns *srv)
{
	if (srv == NULL)
		return;
	atomic_store(&srv->stop, 1);
	pthread_join(srv->thread, NULL);
	close(srv->fd);
	free(srv);
}

/* fakedns_servers - the server's address for dns_config.servers */
const char *
fakedns_servers(const struct fakedns *srv)
{
	return srv->servers;
}
