/*
 * spf - the SPF check (RFC 7208) and its header values
 *
 * spf_check_helo and spf_check_mailfrom run check_host() for one identity
 * with libspf2 over mailvet's DNS layer (spf_dns.c), then map the answer:
 * the layer's own verdicts come first (deadline -> temperror, more than
 * 10 DNS-querying terms or 2 void lookups -> permerror), then libspf2's
 * result, whose "invalid" becomes none (no record), temperror (DNS
 * trouble) or permerror (syntax, multiple records). libspf2's "localhost
 * always passes" shortcut is not used: the record decides for loopback
 * clients too.
 *
 * spf_received_spf and spf_authres build header values. Every piece of
 * client-supplied text (HELO, MAIL FROM, explanation) goes out either as
 * a dot-atom, a quoted-string with quoted-pairs, or an escaped comment,
 * with CR, LF, other controls and 8-bit octets replaced by '?', so it can
 * never end a header, open a new result or add a property.
 *
 * Ownership: the shared SPF_server_t belongs to this module between
 * spf_global_init and spf_global_free; a check holds its libspf2 request
 * and response only while it runs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

#include "lib/addr.h"
#include "milter/checks/spf_internal.h"

static SPF_server_t *spf_server;
static SPF_dns_server_t *spf_dns_layer;

/* spf_log_quiet - libspf2 info/debug/warning output is not wanted */
static void
spf_log_quiet(const char *file, int line, const char *errmsg)
{
	(void)file;
	(void)line;
	(void)errmsg;
}

int
spf_global_init(void)
{
	SPF_dns_server_t *dns;

	if (spf_server != NULL)
		return 0;
	SPF_warning_handler = spf_log_quiet;
	SPF_info_handler = spf_log_quiet;
	SPF_debug_handler = spf_log_quiet;
	dns = spf_dns_new();
	if (dns == NULL)
		return -1;
	spf_server = SPF_server_new_dns(dns, 0);
	if (spf_server == NULL) {
		spf_dns_free(dns);
		return -1;
	}
	spf_dns_layer = dns;
	return 0;
}

void
spf_global_free(void)
{
	if (spf_server != NULL)
		SPF_server_free(spf_server);
	spf_dns_free(spf_dns_layer);
	spf_server = NULL;
	spf_dns_layer = NULL;
}

/* spf_copy - bounded copy that always terminates */
static void
spf_copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

/* spf_result_of - libspf2 result to mailvet's enum result */
static enum result
spf_result_of(SPF_result_t r, SPF_errcode_t err)
{
	static const enum result map[] = {
	    [SPF_RESULT_NEUTRAL] = RESULT_NEUTRAL,
	    [SPF_RESULT_PASS] = RESULT_PASS,
	    [SPF_RESULT_FAIL] = RESULT_FAIL,
	    [SPF_RESULT_SOFTFAIL] = RESULT_SOFTFAIL,
	    [SPF_RESULT_NONE] = RESULT_NONE,
	    [SPF_RESULT_TEMPERROR] = RESULT_TEMPERROR,
	    [SPF_RESULT_PERMERROR] = RESULT_PERMERROR,
	};

	if (r > SPF_RESULT_INVALID && r <= SPF_RESULT_PERMERROR)
		return map[r];
	if (err == SPF_E_NOT_SPF)
		return RESULT_NONE;
	if (err == SPF_E_DNS_ERROR || err == SPF_E_NO_MEMORY)
		return RESULT_TEMPERROR;
	return RESULT_PERMERROR;
}

/*
 * spf_map - the final result: the DNS layer's aborts win over what
 * libspf2 concluded from the TRY_AGAIN answers that stopped it.
 */
static void
spf_map(const struct spf_ctx *ctx, SPF_response_t *resp, SPF_errcode_t err,
        struct spf_outcome *out)
{
	static const char *const why[] = {
	    [SPF_ABORT_TIMEOUT] = "DNS timeout",
	    [SPF_ABORT_LIMIT] = "more than 10 DNS-querying terms",
	    [SPF_ABORT_VOID] = "more than 2 void lookups",
	};
	SPF_errcode_t e = resp->err != SPF_E_SUCCESS ? resp->err : err;

	out->dns_lookups = ctx->lookups;
	out->void_lookups = ctx->voids;
	if (ctx->abort != SPF_ABORT_NONE) {
		out->result = ctx->abort == SPF_ABORT_TIMEOUT
		                  ? RESULT_TEMPERROR
		                  : RESULT_PERMERROR;
		spf_copy(out->reason, sizeof(out->reason), why[ctx->abort]);
		return;
	}
	out->result = spf_result_of(resp->result, e);
	if (ctx->syntax && out->result == RESULT_PERMERROR)
		spf_copy(out->reason, sizeof(out->reason), ctx->problem);
	else if (out->result == RESULT_NONE)
		spf_copy(out->reason, sizeof(out->reason), "no SPF record");
	else if (out->result == RESULT_PASS || out->result == RESULT_FAIL ||
	         out->result == RESULT_SOFTFAIL ||
	         out->result == RESULT_NEUTRAL)
		spf_copy(out->reason, sizeof(out->reason),
		         resp->reason == SPF_REASON_DEFAULT
		             ? "default result"
		             : "matched mechanism");
	else
		spf_copy(out->reason, sizeof(out->reason), SPF_strerror(e));
	if (out->result == RESULT_FAIL && ctx->exp_found &&
	    resp->explanation != NULL)
		spf_copy(out->explanation, sizeof(out->explanation),
		         resp->explanation);
}

/* spf_request_ip - give the client address to a libspf2 request */
static int
spf_request_ip(SPF_request_t *req, const struct netaddr *ip)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (ip->family == AF_INET) {
		memcpy(&a4, ip->bytes, 4);
		return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS ? 0 : -1;
	}
	if (ip->family == AF_INET6) {
		memcpy(&a6, ip->bytes, 16);
		return SPF_request_set_ipv6(req, a6) == SPF_E_SUCCESS ? 0 : -1;
	}
	return -1;
}

/*
 * spf_evaluate - check_host() without libspf2's loopback shortcut:
 * fetch the record of the sender's domain, interpret it.
 */
static SPF_errcode_t
spf_evaluate(SPF_request_t *req, SPF_response_t *resp)
{
	SPF_record_t *record = NULL;
	SPF_errcode_t err;

	req->cur_dom = req->env_from_dp;
	err = SPF_server_get_record(spf_server, req, resp, &record);
	if (err != SPF_E_SUCCESS) {
		if (record != NULL)
			SPF_record_free(record);
		return err;
	}
	resp->spf_record_exp = record;
	err = SPF_record_interpret(record, req, resp, 0);
	resp->spf_record_exp = NULL;
	SPF_record_free(record);
	return err;
}

/* spf_run - one check_host() for sender (local@domain) within a ctx */
static int
spf_run(struct spf_ctx *ctx, const struct netaddr *ip, const char *helo,
        const char *sender, struct spf_outcome *out)
{
	SPF_request_t *req;
	SPF_response_t *resp;
	SPF_errcode_t err;

	req = SPF_request_new(spf_server);
	if (req == NULL)
		return -1;
	if (spf_request_ip(req, ip) < 0 ||
	    SPF_request_set_env_from(req, sender) != 0 ||
	    (helo != NULL && helo[0] != '\0' &&
	     SPF_request_set_helo_dom(req, helo) != SPF_E_SUCCESS) ||
	    (resp = SPF_response_new(req)) == NULL) {
		SPF_request_free(req);
		return -1;
	}
	spf_dns_begin(ctx);
	err = spf_evaluate(req, resp);
	spf_dns_end();
	spf_map(ctx, resp, err, out);
	SPF_response_free(resp);
	SPF_request_free(req);
	return 0;
}

/* spf_outcome_init - empty outcome for an identity */
static void
spf_outcome_init(struct spf_outcome *out, const char *identity)
{
	memset(out, 0, sizeof(*out));
	out->result = RESULT_NONE;
	spf_copy(out->identity, sizeof(out->identity), identity);
}

/*
 * spf_check_domain - common tail: the domain is checked for syntax
 * (RFC 7208 4.3: malformed -> none) and the check run.
 */
static int
spf_check_domain(struct dns_resolver *r, const struct netaddr *ip,
                 const char *helo, uint64_t deadline_ms,
                 struct spf_outcome *out)
{
	struct spf_ctx ctx;
	const char *at = strrchr(out->sender, '@');

	spf_copy(out->domain, sizeof(out->domain), at != NULL ? at + 1 : "");
	if (spf_domain_check(out->domain) < 0) {
		out->result = RESULT_NONE;
		spf_copy(out->reason, sizeof(out->reason),
		         "malformed or single-label domain");
		return 0;
	}
	if (spf_server == NULL || ip == NULL || r == NULL ||
	    (ip->family != AF_INET && ip->family != AF_INET6))
		return -1;
	memset(&ctx, 0, sizeof(ctx));
	ctx.resolver = r;
	ctx.client = *ip;
	ctx.deadline_ms = deadline_ms;
	return spf_run(&ctx, ip, helo, out->sender, out);
}

int
spf_check_helo(struct dns_resolver *r, const struct netaddr *ip,
               const char *helo, const char *receiver, uint64_t deadline_ms,
               struct spf_outcome *out)
{
	(void)receiver;
	spf_outcome_init(out, "helo");
	if (helo == NULL)
		helo = "";
	snprintf(out->sender, sizeof(out->sender), "postmaster@%s", helo);
	return spf_check_domain(r, ip, helo, deadline_ms, out);
}

/*
 * spf_sender - <sender> for MAIL FROM: angle brackets dropped, an empty
 * local-part becomes "postmaster" (RFC 7208 4.3), the null sender
 * becomes postmaster@HELO (2.4). Returns 1 for the null sender, 0 for
 * another, -1 when it does not fit.
 */
static int
spf_sender(const char *mailfrom, const char *helo, char *buf, size_t len)
{
	size_t n;
	const char *at;
	int w;

	mailfrom = addr_strip_brackets(mailfrom, &n);
	if (n == 0) {
		w = snprintf(buf, len, "postmaster@%s", helo);
		return w < 0 || (size_t)w >= len ? -1 : 1;
	}
	if ((at = memrchr(mailfrom, '@', n)) == NULL)
		w = snprintf(buf, len, "postmaster@%.*s", (int)n, mailfrom);
	else if (at == mailfrom)
		w = snprintf(buf, len, "postmaster%.*s", (int)n, mailfrom);
	else
		w = snprintf(buf, len, "%.*s", (int)n, mailfrom);
	return w < 0 || (size_t)w >= len ? -1 : 0;
}

int
spf_check_mailfrom(struct dns_resolver *r, const struct netaddr *ip,
                   const char *helo, const char *mailfrom, const char *receiver,
                   uint64_t deadline_ms, struct spf_outcome *out)
{
	(void)receiver;
	spf_outcome_init(out, "mailfrom");
	if (helo == NULL)
		helo = "";
	if (mailfrom == NULL)
		mailfrom = "";
	out->null_sender =
	    spf_sender(mailfrom, helo, out->sender, sizeof(out->sender));
	if (out->null_sender < 0) {
		out->null_sender = 0;
		out->sender[0] = '\0';
		spf_copy(out->reason, sizeof(out->reason), "sender too long");
		return 0;
	}
	return spf_check_domain(r, ip, helo, deadline_ms, out);
}
