/*
 * dkim_dns - libopendkim's key lookups over mailvet's DNS layer
 *
 * Functions: dkim_dns_install (the hooks of the process's DKIM_LIB),
 * dkim_key_start / dkim_key_find (prefetch by name), dkim_keys_free,
 * dkim_dns_current (the thread-local message the hooks serve).
 *
 * libopendkim's query service is per DKIM_LIB, that is per process, and
 * its hooks get no message argument. dkim_msg_eom sets a thread-local
 * pointer to its message around dkim_eom and clears it before returning,
 * so the pointer never outlives the milter callback that set it.
 *
 * waitreply reports what libopendkim expects: DKIM_DNS_SUCCESS with a
 * packet for an answer, NXDOMAIN and NODATA alike (the library reads the
 * rcode and the answer count itself), DKIM_DNS_ERROR for SERVFAIL and
 * other transport trouble, DKIM_DNS_EXPIRED when the deadline passed.
 */
#include <arpa/nameser.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "milter/checks/dkim_internal.h"

struct dkim_query {
	struct dkim_key *key;
	unsigned char *buf;
	size_t buflen;
};

static _Thread_local struct dkim_msg *dkim_current;
static int dkim_service_token; /* the "service" handle: never read */

/* dkim_dns_current - set or clear the message the hooks serve */
void
dkim_dns_current(struct dkim_msg *m)
{
	dkim_current = m;
}

/* dkim_key_cb - a key answer arrived: keep a copy of the packet */
static void
dkim_key_cb(void *arg, const struct dns_result *res)
{
	struct dkim_key *k = arg;

	k->done = 1;
	k->status = res->status;
	k->why = res->reason != NULL ? res->reason : "DNS error";
	if (res->packet != NULL && res->len > 0) {
		k->packet = malloc(res->len);
		if (k->packet != NULL) {
			memcpy(k->packet, res->packet, res->len);
			k->len = res->len;
		}
	}
}

/* dkim_key_done - dns_wait predicate */
static int
dkim_key_done(void *arg)
{
	return ((struct dkim_key *)arg)->done;
}

/* dkim_key_find - the key slot of name (case-insensitive), or NULL */
struct dkim_key *
dkim_key_find(struct dkim_msg *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nkey; i++)
		if (strcasecmp(m->key[i].name, name) == 0)
			return &m->key[i];
	return NULL;
}

/* dkim_key_start - start the TXT query of name unless already started */
struct dkim_key *
dkim_key_start(struct dkim_msg *m, const char *name)
{
	struct dkim_key *k = dkim_key_find(m, name);
	size_t n = strlen(name);

	if (k != NULL)
		return k;
	if (m->nkey == m->capkey || n == 0 || n >= DNS_NAME_MAX)
		return NULL;
	k = &m->key[m->nkey++];
	memcpy(k->name, name, n + 1);
	if (n > 1 && k->name[n - 1] == '.')
		k->name[n - 1] = '\0';
	k->started = 1;
	(void)dns_query(m->resolver, k->name, ns_t_txt, dkim_key_cb, k);
	return k;
}

/* dkim_keys_free - drop the kept packets */
void
dkim_keys_free(struct dkim_msg *m)
{
	size_t i;

	for (i = 0; i < m->nkey; i++) {
		/* A key still in flight must not call back into freed memory.
		 */
		if (m->key[i].started && !m->key[i].done)
			dns_forget(m->resolver, &m->key[i]);
		free(m->key[i].packet);
	}
	free(m->key);
	m->key = NULL;
	m->nkey = 0;
}

/* dkim_hook_start - libopendkim asks for a key: serve the prefetch */
static int
dkim_hook_start(void *srv, int type, unsigned char *query, unsigned char *buf,
                size_t buflen, void **qh)
{
	struct dkim_msg *m = dkim_current;
	struct dkim_query *q;
	struct dkim_key *k;

	(void)srv;
	if (m == NULL || type != ns_t_txt || buf == NULL || buflen < HFIXEDSZ)
		return DKIM_DNS_ERROR;
	k = dkim_key_start(m, (const char *)query);
	if (k == NULL || (q = malloc(sizeof(*q))) == NULL)
		return DKIM_DNS_ERROR;
	q->key = k;
	q->buf = buf;
	q->buflen = buflen;
	*qh = q;
	return DKIM_DNS_SUCCESS;
}

/* dkim_negative - a minimal NXDOMAIN / NODATA reply when none was kept */
static int
dkim_negative(const struct dkim_key *k, unsigned char *buf, size_t buflen)
{
	int n;

	n = res_mkquery(ns_o_query, k->name, ns_c_in, ns_t_txt, NULL, 0, NULL,
	                buf, (int)(buflen > 65535 ? 65535 : buflen));
	if (n < HFIXEDSZ)
		return -1;
	buf[2] |= 0x80; /* QR */
	buf[3] = k->status == DNS_NXDOMAIN ? ns_r_nxdomain : ns_r_noerror;
	return n;
}

/* dkim_hook_waitreply - wait for the key up to the message deadline */
static int
dkim_hook_waitreply(void *srv, void *qh, struct timeval *to, size_t *bytes,
                    int *error, int *dnssec)
{
	struct dkim_query *q = qh;
	struct dkim_key *k = q->key;
	struct dkim_msg *m = dkim_current;
	int n;

	(void)srv;
	(void)to; /* the message deadline rules, not the library's */
	if (error != NULL)
		*error = 0;
	if (dnssec != NULL)
		*dnssec = DKIM_DNSSEC_UNKNOWN;
	if (!k->done && m != NULL)
		(void)dns_wait(m->resolver, dkim_key_done, k, m->deadline_ms);
	if (!k->done)
		return DKIM_DNS_EXPIRED;
	if (k->status == DNS_TEMPERROR)
		return DKIM_DNS_ERROR;
	if (k->packet != NULL && k->len <= q->buflen) {
		memcpy(q->buf, k->packet, k->len);
		*bytes = k->len;
		return DKIM_DNS_SUCCESS;
	}
	if (k->status == DNS_ANSWER ||
	    (n = dkim_negative(k, q->buf, q->buflen)) < 0) {
		k->why = "key answer too large";
		return DKIM_DNS_ERROR;
	}
	*bytes = (size_t)n;
	return DKIM_DNS_SUCCESS;
}

/* dkim_hook_cancel - libopendkim is done with one query handle */
static int
dkim_hook_cancel(void *srv, void *qh)
{
	(void)srv;
	free(qh);
	return 0;
}

/* dkim_hook_init - the service exists already; never libresolv's */
static int
dkim_hook_init(void **srv)
{
	*srv = &dkim_service_token;
	return 0;
}

/* dkim_hook_close - nothing to close */
static void
dkim_hook_close(void *srv)
{
	(void)srv;
}

/* dkim_dns_install - route every lookup of lib through these hooks */
void
dkim_dns_install(DKIM_LIB *lib)
{
	dkim_dns_set_init(lib, dkim_hook_init);
	dkim_dns_set_close(lib, dkim_hook_close);
	(void)dkim_dns_set_query_service(lib, &dkim_service_token);
	dkim_dns_set_query_start(lib, dkim_hook_start);
	dkim_dns_set_query_waitreply(lib, dkim_hook_waitreply);
	dkim_dns_set_query_cancel(lib, dkim_hook_cancel);
}
