/*
 * spf_dns - libspf2 DNS layer over mailvet's c-ares resolver
 *
 * libspf2 calls lookup() synchronously for every A, AAAA, MX, PTR and
 * explanation TXT query, and get_spf() for every SPF record (top level,
 * include, redirect). Each becomes dns_query + dns_wait on the resolver
 * of the check in progress, found through a thread-local pointer that
 * spf_dns_begin / spf_dns_end set around one check.
 *
 * Because this layer sees every query in evaluation order, it enforces
 * RFC 7208 4.6.4 itself: DNS-querying terms are counted across include
 * and redirect (libspf2 resets its count per include), void lookups are
 * counted (libspf2 has no limit), and PTR answers are cut to 10 names
 * (libspf2 would permerror). Past a limit or the deadline it answers
 * TRY_AGAIN without querying, which stops libspf2's evaluation at once;
 * spf.c then turns the recorded reason into permerror or temperror.
 *
 * get_spf() selects the record per RFC 7208 4.5 (TXT only, "v=spf1"
 * then space or end, more than one is a permerror) and validates it with
 * spf_record_check() before libspf2 compiles it. Explanation TXTs are
 * validated the same way (spf_explain_check) or ignored.
 *
 * Ownership: a query whose deadline passes is abandoned; its state is
 * heap-allocated and freed by the callback when the answer arrives (or
 * leaks if the resolver is freed first: dns_resolver_free runs no
 * callbacks). Everything handed to libspf2 is libspf2's to free.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>

#include "milter/checks/spf_internal.h"

struct spf_query {
	LIST_ENTRY(spf_query) grave; /* in the graveyard, once abandoned */
	int done;
	int abandoned;
	int type;
	enum dns_status status;
	struct dns_rrset set;
};

static _Thread_local struct spf_ctx *spf_current;

/*
 * Queries abandoned at the deadline stay in flight in the resolver, so
 * their memory cannot go with the check. They wait here (per thread: a
 * resolver is only pumped by the thread that owns it) until their answer
 * comes or spf_dns_forget_abandoned() runs after the resolver is freed.
 */
LIST_HEAD(spf_graves, spf_query);
static _Thread_local struct spf_graves spf_graveyard =
    LIST_HEAD_INITIALIZER(spf_graveyard);

/* spf_graveyard_add - keep an abandoned query */
static void
spf_graveyard_add(struct spf_query *q)
{
	q->abandoned = 1;
	LIST_INSERT_HEAD(&spf_graveyard, q, grave);
}

/* spf_graveyard_remove - an abandoned query was answered after all */
static void
spf_graveyard_remove(struct spf_query *q)
{
	LIST_REMOVE(q, grave);
}

/* spf_dns_forget_abandoned - after dns_resolver_free on this thread */
void
spf_dns_forget_abandoned(void)
{
	struct spf_query *q;

	while ((q = LIST_FIRST(&spf_graveyard)) != NULL) {
		LIST_REMOVE(q, grave);
		free(q);
	}
}

void
spf_dns_begin(struct spf_ctx *ctx)
{
	spf_current = ctx;
}

void
spf_dns_end(void)
{
	spf_current = NULL;
}

/* spf_dns_done - dns_wait predicate: the query has completed */
static int
spf_dns_done(void *arg)
{
	return ((struct spf_query *)arg)->done;
}

/* spf_dns_callback - keep the parsed answer, or free an abandoned query */
static void
spf_dns_callback(void *arg, const struct dns_result *res)
{
	struct spf_query *q = arg;

	if (q->abandoned) {
		spf_graveyard_remove(q);
		free(q);
		return;
	}
	q->status = res->status;
	if (res->status == DNS_ANSWER) {
		if (dns_rrset_parse(res->packet, res->len, q->type, &q->set) <
		    0)
			q->status = DNS_TEMPERROR;
		else if (q->set.count == 0)
			q->status = DNS_NODATA;
	}
	q->done = 1;
}

/*
 * spf_dns_fetch - one query, waited for up to the check's deadline.
 * Returns a heap query (caller frees with spf_query_free) or NULL when
 * out of memory; a timeout marks the check aborted.
 */
static struct spf_query *
spf_dns_fetch(struct spf_ctx *ctx, const char *name, int type)
{
	struct spf_query *q;

	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->type = type;
	q->status = DNS_TEMPERROR;
	if (ctx->abort != SPF_ABORT_NONE || dns_now_ms() >= ctx->deadline_ms) {
		if (ctx->abort == SPF_ABORT_NONE)
			ctx->abort = SPF_ABORT_TIMEOUT;
		q->done = 1;
		return q;
	}
	(void)dns_query(ctx->resolver, name, type, spf_dns_callback, q);
	if (!q->done &&
	    !dns_wait(ctx->resolver, spf_dns_done, q, ctx->deadline_ms)) {
		spf_graveyard_add(q); /* the callback frees it */
		ctx->abort = SPF_ABORT_TIMEOUT;
		q = calloc(1, sizeof(*q));
		if (q != NULL)
			q->status = DNS_TEMPERROR;
		return q;
	}
	if (q->status == DNS_TEMPERROR)
		ctx->temperror = 1;
	return q;
}

/* spf_query_free - release a completed query */
static void
spf_query_free(struct spf_query *q)
{
	if (q == NULL)
		return;
	dns_rrset_free(&q->set);
	free(q);
}

/* spf_dns_herrno - libspf2's view of a DNS status */
static SPF_dns_stat_t
spf_dns_herrno(enum dns_status st)
{
	switch (st) {
	case DNS_ANSWER: return NETDB_SUCCESS;
	case DNS_NXDOMAIN: return HOST_NOT_FOUND;
	case DNS_NODATA: return NO_DATA;
	case DNS_TEMPERROR: break;
	}
	return TRY_AGAIN;
}

/*
 * spf_dns_count - account for one DNS-querying term (RFC 7208 4.6.4).
 * A/AAAA lookups of the names an MX or PTR answer just gave are part of
 * that term and are not counted. Returns -1 when the limit is passed.
 */
static int
spf_dns_count(struct spf_ctx *ctx, const char *name, int type)
{
	if ((type == ns_t_a || type == ns_t_aaaa) &&
	    ctx->ifollow < ctx->nfollow &&
	    strcasecmp(ctx->follow[ctx->ifollow], name) == 0) {
		ctx->ifollow++;
		return 0;
	}
	ctx->nfollow = ctx->ifollow = 0;
	ctx->follow_any = 0;
	if (type == ns_t_txt)
		return 0; /* exp= text: not a term */
	if (++ctx->lookups > SPF_MAX_DNS_TERMS) {
		ctx->lookups = SPF_MAX_DNS_TERMS;
		if (ctx->abort == SPF_ABORT_NONE)
			ctx->abort = SPF_ABORT_LIMIT;
		return -1;
	}
	return 1;
}

/* spf_dns_void - count a void answer of a counted term; -1 past limit */
static int
spf_dns_void(struct spf_ctx *ctx, enum dns_status st)
{
	if (st != DNS_NXDOMAIN && st != DNS_NODATA)
		return 0;
	if (++ctx->voids > SPF_MAX_VOID) {
		if (ctx->abort == SPF_ABORT_NONE)
			ctx->abort = SPF_ABORT_VOID;
		return -1;
	}
	return 0;
}

/* spf_dns_remember - note the names of an MX / PTR answer (first 10) */
static void
spf_dns_remember(struct spf_ctx *ctx, const struct dns_rrset *set)
{
	size_t i;

	ctx->nfollow = ctx->ifollow = 0;
	for (i = 0; i < set->count && i < SPF_MAX_NAMES; i++) {
		memcpy(ctx->follow[i], set->rr[i].name, DNS_NAME_MAX);
		ctx->follow[i][DNS_NAME_MAX - 1] = '\0';
		ctx->nfollow++;
	}
}

/* spf_rr_put - store one record's data at rr->rr[i] */
static int
spf_rr_put(SPF_dns_rr_t *rr, int i, const struct dns_rr *src)
{
	const char *text = NULL;
	size_t len = sizeof(SPF_dns_rr_data_t);

	if (rr->rr_type == ns_t_txt)
		text = src->text != NULL ? src->text : "";
	else if (rr->rr_type == ns_t_mx || rr->rr_type == ns_t_ptr)
		text = src->name;
	if (text != NULL)
		len = strlen(text) + 1;
	if (SPF_dns_rr_buf_realloc(rr, i, len) != SPF_E_SUCCESS)
		return -1;
	if (text != NULL)
		memcpy(rr->rr[i]->txt, text, len);
	else if (rr->rr_type == ns_t_a)
		memcpy(&rr->rr[i]->a, src->addr.bytes, 4);
	else
		memcpy(&rr->rr[i]->aaaa, src->addr.bytes, 16);
	return 0;
}

/*
 * spf_rr_build - turn a query into libspf2's SPF_dns_rr_t. max limits
 * the records handed over (PTR: first 10 only, RFC 7208 4.6.4).
 */
static SPF_dns_rr_t *
spf_rr_build(SPF_dns_server_t *srv, const char *name, ns_type type,
             enum dns_status st, const struct dns_rrset *set, size_t max)
{
	SPF_dns_rr_t *rr;
	size_t i, n = 0;

	rr = SPF_dns_rr_new_init(srv, name, type, 0, spf_dns_herrno(st));
	if (rr == NULL || st != DNS_ANSWER || set == NULL)
		return rr;
	n = set->count < max ? set->count : max;
	for (i = 0; i < n; i++) {
		if (spf_rr_put(rr, (int)i, &set->rr[i]) < 0) {
			rr->herrno = TRY_AGAIN;
			rr->num_rr = 0;
			return rr;
		}
		rr->num_rr = (int)i + 1;
	}
	return rr;
}

/*
 * spf_exp_spaces - libspf2 turns a literal space of an explanation into
 * '%' (its macro parser stops at spaces); hand it "%_" instead, the
 * macro for a space. Returns a heap copy or NULL.
 */
static char *
spf_exp_spaces(const char *text)
{
	size_t n = strlen(text), i, j = 0;
	char *out = malloc(n * 2 + 1);

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (text[i] == ' ') {
			out[j++] = '%';
			out[j++] = '_';
		} else {
			out[j++] = text[i];
		}
	}
	out[j] = '\0';
	return out;
}

/*
 * spf_dns_exp - an explanation TXT: exactly one valid explain-string,
 * else no explanation (RFC 7208 6.2).
 */
static SPF_dns_rr_t *
spf_dns_exp(SPF_dns_server_t *srv, struct spf_ctx *ctx, const char *name,
            struct spf_query *q)
{
	SPF_dns_rr_t *rr;
	char *text;

	if (q->status != DNS_ANSWER || q->set.count != 1 ||
	    strlen(q->set.rr[0].text) != q->set.rr[0].text_len ||
	    spf_explain_check(q->set.rr[0].text, NULL, 0) < 0 ||
	    (text = spf_exp_spaces(q->set.rr[0].text)) == NULL)
		return spf_rr_build(srv, name, ns_t_txt, DNS_NODATA, NULL, 0);
	rr = SPF_dns_rr_new_init(srv, name, ns_t_txt, 0, NETDB_SUCCESS);
	if (rr != NULL &&
	    SPF_dns_rr_buf_realloc(rr, 0, strlen(text) + 1) == SPF_E_SUCCESS) {
		memcpy(rr->rr[0]->txt, text, strlen(text) + 1);
		rr->num_rr = 1;
		ctx->exp_found = 1;
	} else if (rr != NULL) {
		rr->herrno = NO_DATA;
	}
	free(text);
	return rr;
}

/*
 * spf_truncate - RFC 7208 7.3: a name longer than 253 octets loses
 * labels on the left until it fits.
 */
static const char *
spf_truncate(const char *name)
{
	while (strlen(name) > 253 && strchr(name, '.') != NULL)
		name = strchr(name, '.') + 1;
	return name;
}

/*
 * spf_name_ok - a name that can be asked at all: labels of 1..63 octets,
 * 253 octets in all (a macro expansion may produce worse; such a name
 * does not exist, RFC 7208 4.3 / 4.8).
 */
static int
spf_name_ok(const char *name)
{
	size_t label = 0, n = strlen(name), i;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return -1;
	for (i = 0; i <= n; i++) {
		if (i == n || name[i] == '.') {
			if (label == 0 || label > 63)
				return -1;
			label = 0;
		} else {
			label++;
		}
	}
	return 0;
}

/*
 * spf_any - an address lookup made for an "a/0" or "mx/0" term (see
 * spf_record_rewrite): any address of the name matches, so the answer
 * becomes the client's own address.
 */
static void
spf_any(const struct spf_ctx *ctx, struct spf_query *q)
{
	if (q->status != DNS_ANSWER || q->set.count == 0)
		return;
	q->set.rr[0].addr = ctx->client;
	q->set.count = 1;
}

/* spf_dns_lookup - libspf2's lookup hook */
static SPF_dns_rr_t *
spf_dns_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type,
               int should_cache)
{
	struct spf_ctx *ctx = spf_current;
	struct spf_query *q;
	SPF_dns_rr_t *rr;
	int counted, any, follow_any;

	(void)should_cache;
	if (ctx == NULL || domain == NULL)
		return SPF_dns_rr_new_init(srv, domain, type, 0, TRY_AGAIN);
	domain = spf_truncate(domain);
	any = strncasecmp(domain, SPF_ANY_PREFIX, strlen(SPF_ANY_PREFIX)) == 0;
	if (any)
		domain += strlen(SPF_ANY_PREFIX);
	follow_any = ctx->follow_any && ctx->ifollow < ctx->nfollow;
	counted = spf_dns_count(ctx, domain, type);
	if (counted < 0)
		return SPF_dns_rr_new_init(srv, domain, type, 0, TRY_AGAIN);
	if (spf_name_ok(domain) < 0)
		return SPF_dns_rr_new_init(srv, domain, type, 0,
		                           HOST_NOT_FOUND);
	q = spf_dns_fetch(ctx, domain, type);
	if (q == NULL)
		return SPF_dns_rr_new_init(srv, domain, type, 0, TRY_AGAIN);
	if (counted && spf_dns_void(ctx, q->status) < 0)
		q->status = DNS_TEMPERROR;
	if ((type == ns_t_a || type == ns_t_aaaa) &&
	    (any || (!counted && follow_any)))
		spf_any(ctx, q);
	if (type == ns_t_txt)
		rr = spf_dns_exp(srv, ctx, domain, q);
	else
		rr =
		    spf_rr_build(srv, domain, type, q->status, &q->set,
		                 type == ns_t_ptr ? SPF_MAX_NAMES : (size_t)-1);
	if (q->status == DNS_ANSWER && (type == ns_t_mx || type == ns_t_ptr)) {
		spf_dns_remember(ctx, &q->set);
		ctx->follow_any = any && type == ns_t_mx;
	}
	spf_query_free(q);
	return rr;
}

/*
 * spf_select - RFC 7208 4.5: the one TXT string that is an SPF version 1
 * record. Returns its index, -1 when none, -2 when more than one.
 */
static int
spf_select(const struct dns_rrset *set)
{
	size_t i;
	int found = -1;

	for (i = 0; i < set->count; i++) {
		if (!spf_record_is_spf1(set->rr[i].text))
			continue;
		if (found >= 0)
			return -2;
		found = (int)i;
	}
	return found;
}

/* spf_get_fail - record why no record could be had, return err */
static SPF_errcode_t
spf_get_fail(SPF_response_t *resp, SPF_errcode_t err, SPF_result_t result)
{
	resp->result = result;
	resp->err = err;
	return SPF_response_add_error(resp, err, "%s", SPF_strerror(err));
}

/* spf_syntax - remember the first syntax problem, answer permerror */
static SPF_errcode_t
spf_syntax(SPF_response_t *resp, struct spf_ctx *ctx, const char *why)
{
	ctx->syntax = 1;
	if (ctx->problem[0] == '\0')
		snprintf(ctx->problem, sizeof(ctx->problem), "%s", why);
	return spf_get_fail(resp, SPF_E_SYNTAX, SPF_RESULT_PERMERROR);
}

/*
 * spf_compile - validate one record (no NUL inside, RFC 7208 ABNF),
 * rewrite it into the shape libspf2 gets right, let libspf2 compile it.
 */
static SPF_errcode_t
spf_compile(SPF_server_t *server, SPF_request_t *req, SPF_response_t *resp,
            SPF_record_t **recordp, struct spf_ctx *ctx,
            const struct dns_rr *rr)
{
	char why[160], *text;
	size_t len = rr->text_len * 2 + 64;
	SPF_errcode_t err;

	if (strlen(rr->text) != rr->text_len)
		return spf_syntax(resp, ctx, "NUL octet in record");
	if (spf_record_check(rr->text, why, sizeof(why)) < 0)
		return spf_syntax(resp, ctx, why);
	text = malloc(len);
	if (text == NULL)
		return spf_get_fail(resp, SPF_E_NO_MEMORY,
		                    SPF_RESULT_TEMPERROR);
	if (spf_record_rewrite(rr->text, req->client_ver, text, len) < 0) {
		free(text);
		return spf_syntax(resp, ctx, "record too long");
	}
	err = SPF_record_compile(server, resp, recordp, text);
	free(text);
	if (err != SPF_E_SUCCESS) {
		if (*recordp != NULL)
			SPF_record_free(*recordp);
		*recordp = NULL;
		return spf_syntax(resp, ctx, "record rejected by libspf2");
	}
	return SPF_E_SUCCESS;
}

/* spf_dns_get_spf - libspf2's record hook (top level, include, redirect) */
static SPF_errcode_t
spf_dns_get_spf(SPF_server_t *server, SPF_request_t *req, SPF_response_t *resp,
                SPF_record_t **recordp)
{
	struct spf_ctx *ctx = spf_current;
	const char *domain = req->cur_dom;
	struct spf_query *q;
	SPF_errcode_t err;
	int idx, counted = 0;

	*recordp = NULL;
	if (ctx == NULL || domain == NULL)
		return spf_get_fail(resp, SPF_E_DNS_ERROR,
		                    SPF_RESULT_TEMPERROR);
	if (ctx->fetches++ > 0 &&
	    (counted = spf_dns_count(ctx, domain, ns_t_any)) < 0)
		return spf_get_fail(resp, SPF_E_DNS_ERROR,
		                    SPF_RESULT_TEMPERROR);
	if (spf_domain_check(domain) < 0)
		return spf_get_fail(resp, SPF_E_NOT_SPF, SPF_RESULT_NONE);
	q = spf_dns_fetch(ctx, domain, ns_t_txt);
	if (q == NULL)
		return spf_get_fail(resp, SPF_E_NO_MEMORY,
		                    SPF_RESULT_TEMPERROR);
	if (counted && spf_dns_void(ctx, q->status) < 0)
		q->status = DNS_TEMPERROR;
	if (q->status == DNS_TEMPERROR)
		err = spf_get_fail(resp, SPF_E_DNS_ERROR, SPF_RESULT_TEMPERROR);
	else if (q->status != DNS_ANSWER || (idx = spf_select(&q->set)) == -1)
		err = spf_get_fail(resp, SPF_E_NOT_SPF, SPF_RESULT_NONE);
	else if (idx == -2)
		err = spf_get_fail(resp, SPF_E_MULTIPLE_RECORDS,
		                   SPF_RESULT_PERMERROR);
	else
		err = spf_compile(server, req, resp, recordp, ctx,
		                  &q->set.rr[idx]);
	spf_query_free(q);
	return err;
}

/*
 * spf_dns_destroy - libspf2's destructor hook. libspf2 1.2.10 does not
 * call it from SPF_server_free, so the layer is freed by spf_dns_free
 * and this hook only forgets nothing: it must not free twice.
 */
static void
spf_dns_destroy(SPF_dns_server_t *srv)
{
	(void)srv;
}

void
spf_dns_free(SPF_dns_server_t *srv)
{
	free(srv);
}

SPF_dns_server_t *
spf_dns_new(void)
{
	SPF_dns_server_t *srv;

	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return NULL;
	srv->destroy = spf_dns_destroy;
	srv->lookup = spf_dns_lookup;
	srv->get_spf = spf_dns_get_spf;
	srv->name = "mailvet";
	return srv;
}
