/*
 * fakedns - a DNS server on 127.0.0.1 for the unit tests
 *
 * fakedns_start() binds an ephemeral UDP port on 127.0.0.1 and serves it
 * from a thread of its own; fakedns_servers() is the "127.0.0.1:PORT" to
 * put in a dns_config, so the system resolver is never asked. Each query
 * is parsed (a malformed one gets no answer) and its question handed to
 * the test's answer callback, which builds the whole response with
 * fakedns_begin(), fakedns_rr_begin()/fakedns_rr_end() and fakedns_put*()
 * and returns FAKEDNS_SEND, or FAKEDNS_SILENT for no answer at all. Every
 * other fault is the callback's to write: an rcode such as SERVFAIL in
 * fakedns_begin(), another question name, a packet cut short, an answer
 * held back for *delay_ms (up to FAKEDNS_MAX_DELAYED at once).
 *
 * Functions: fakedns_start, fakedns_stop, fakedns_servers, fakedns_begin,
 * fakedns_rr_begin, fakedns_rr_end, fakedns_put, fakedns_put16,
 * fakedns_put32, fakedns_put_name.
 *
 * Ownership and threads: fakedns_stop() joins the thread and frees what
 * fakedns_start() returned; fakedns_stop(NULL) does nothing. The callback
 * runs on the server thread: what it shares with the test (query counts)
 * must be atomic, and its arg must outlive the server.
 */
#ifndef MAILVET_TESTS_FAKEDNS_H
#define MAILVET_TESTS_FAKEDNS_H

#include <stddef.h>

#define FAKEDNS_PKT_MAX     1024
#define FAKEDNS_MAX_DELAYED 64

/* A response being built; what does not fit is silently left out. */
struct fakedns_pkt {
	unsigned char buf[FAKEDNS_PKT_MAX];
	size_t len;
};

/* The question of one query, valid during the callback only. */
struct fakedns_question {
	unsigned id;      /* the query's ID, for the response */
	const char *name; /* presentation form, no trailing dot */
	int type;         /* ns_t_* */
};

enum fakedns_action {
	FAKEDNS_SILENT, /* no answer: the client times out */
	FAKEDNS_SEND    /* send p (after *delay_ms, 0 on entry) */
};

typedef enum fakedns_action (*fakedns_answer_fn)(
    void *arg, const struct fakedns_question *q, struct fakedns_pkt *p,
    unsigned *delay_ms);

struct fakedns;

/* fakedns_start - serve answer(arg, ...) on 127.0.0.1; NULL on failure */
struct fakedns *fakedns_start(fakedns_answer_fn answer, void *arg);

/* fakedns_stop - stop the thread, close the socket, free; NULL is fine */
void fakedns_stop(struct fakedns *srv);

/* fakedns_servers - "127.0.0.1:PORT", for dns_config.servers */
const char *fakedns_servers(const struct fakedns *srv);

/*
 * fakedns_begin - empty p, then write a response header (QR AA RD RA,
 * rcode, one question, ancount answers, nscount authority records) and
 * the question section (qname, qtype, class IN)
 */
void fakedns_begin(struct fakedns_pkt *p, unsigned id, int rcode,
                   unsigned ancount, unsigned nscount, const char *qname,
                   int qtype);

/* fakedns_rr_begin - owner, type, class IN, ttl; returns the RDATA mark */
size_t fakedns_rr_begin(struct fakedns_pkt *p, const char *owner, int type,
                        unsigned ttl);

/* fakedns_rr_end - set RDLENGTH from what was put since the mark */
void fakedns_rr_end(struct fakedns_pkt *p, size_t mark);

/* fakedns_put - append n octets */
void fakedns_put(struct fakedns_pkt *p, const void *data, size_t n);

/* fakedns_put16 - append a 16-bit value in network order */
void fakedns_put16(struct fakedns_pkt *p, unsigned v);

/* fakedns_put32 - append a 32-bit value in network order */
void fakedns_put32(struct fakedns_pkt *p, unsigned v);

/* fakedns_put_name - append a presentation name in uncompressed wire form */
void fakedns_put_name(struct fakedns_pkt *p, const char *name);

#endif
