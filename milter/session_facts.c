/*
 * session_facts - the rules' fact provider: a table from fact name to a
 * getter over the session. A getter that needs DNS waits for its check
 * (bounded by the check's deadline), so a rule pays only for the facts it
 * reads, when it reads them.
 *
 * Checks that do not run (trusted or authenticated clients) give none.
 */
#include <stdio.h>
#include <string.h>

#include "lib/strbuf.h"
#include "milter/session.h"

typedef void fact_getter(struct session *s, struct fact_value *v);

/* result_value - a result fact; temperror flagged for the evaluator */
static void
result_value(struct fact_value *v, enum result r)
{
	v->result = r;
	v->temperror = r == RESULT_TEMPERROR;
}

/* string_value - a string fact, absent when empty */
static void
string_value(struct fact_value *v, const char *str)
{
	v->str = str ? str : "";
	v->absent = str == NULL || *str == '\0';
}

/* iprev_ready - settle iprev if a rule needs it */
static int
iprev_ready(struct session *s)
{
	if (session_checks_skipped(s) || !s->iprev.started)
		return 0;
	iprev_finish(&s->iprev, s->dns);
	return 1;
}

/*
 * helo_ready - settle what HELO fact f needs, and no more: syntax, fqdn,
 * literal and claims_local need nothing, resolves and matches_ip the
 * HELO lookups, matches_ptr those and iprev. A rule reading helo.syntax
 * does not wait for a DNS list.
 */
static int
helo_ready(struct session *s, enum helo_fact f)
{
	if (session_checks_skipped(s) || s->helo == NULL)
		return 0;
	if (f == HELO_RESOLVES || f == HELO_MATCHES_IP) {
		helo_wait_dns(s->helo, s->dns);
	} else if (f == HELO_MATCHES_PTR) {
		iprev_ready(s);
		helo_finish(s->helo, s->dns, s->iprev.result, s->iprev.name);
	}
	return 1;
}

static void
get_client_ip(struct session *s, struct fact_value *v)
{
	v->ip = s->ip;
	v->absent = !s->have_ip;
}

static void
get_client_ptr(struct session *s, struct fact_value *v)
{
	if (!iprev_ready(s)) {
		v->absent = 1;
		return;
	}
	string_value(v, s->iprev.result == RESULT_PASS ? s->iprev.name : NULL);
	v->temperror = s->iprev.result == RESULT_TEMPERROR;
}

static void
get_connections(struct session *s, struct fact_value *v)
{
	v->num = s->connections;
}

static void
get_iprev(struct session *s, struct fact_value *v)
{
	result_value(v, iprev_ready(s) ? s->iprev.result : RESULT_NONE);
}

static void
get_helo(struct session *s, struct fact_value *v)
{
	string_value(v, s->helo ? s->helo->name : NULL);
}

/* get_helo_fact - one of the helo.* results */
static void
get_helo_fact(struct session *s, struct fact_value *v, enum helo_fact f)
{
	result_value(v, helo_ready(s, f) ? s->helo->facts[f] : RESULT_NONE);
}

#define HELO_GETTER(fn, fact)                                                  \
	static void fn(struct session *s, struct fact_value *v)                \
	{                                                                      \
		get_helo_fact(s, v, fact);                                     \
	}
HELO_GETTER(get_helo_syntax, HELO_SYNTAX)
HELO_GETTER(get_helo_fqdn, HELO_FQDN)
HELO_GETTER(get_helo_literal, HELO_LITERAL)
HELO_GETTER(get_helo_resolves, HELO_RESOLVES)
HELO_GETTER(get_helo_matches_ip, HELO_MATCHES_IP)
HELO_GETTER(get_helo_matches_ptr, HELO_MATCHES_PTR)
HELO_GETTER(get_helo_claims_local, HELO_CLAIMS_LOCAL)

static void
get_tls(struct session *s, struct fact_value *v)
{
	string_value(v, s->tls);
}

static void
get_mailfrom(struct session *s, struct fact_value *v)
{
	/* The null sender is a value (""), not an absence. */
	v->str = s->msg.mailfrom ? s->msg.mailfrom : "";
}

static void
get_mailfrom_domain(struct session *s, struct fact_value *v)
{
	const char *at = s->msg.mailfrom ? strrchr(s->msg.mailfrom, '@') : NULL;
	string_value(v, at ? at + 1 : NULL);
}

static void
get_auth(struct session *s, struct fact_value *v)
{
	string_value(v, s->authenticated ? s->auth_user : NULL);
}

/* get_rcpt - the recipient being decided at RCPT, all of them at EOM */
static void
get_rcpt(struct session *s, struct fact_value *v)
{
	if (s->eval_stage == STAGE_RCPT && s->msg.current_rcpt != NULL) {
		v->list = (const char *const *)&s->msg.current_rcpt;
		v->nlist = 1;
	} else {
		v->list = (const char *const *)s->msg.rcpts;
		v->nlist = s->msg.nrcpts;
	}
	v->absent = v->nlist == 0;
}

/* dkim_ready - the verified message, or NULL when DKIM does not run */
static struct dkim_msg *
dkim_ready(struct session *s)
{
	if (s->msg.dkim == NULL || session_checks_skipped(s))
		return NULL;
	session_settle_dkim(s);
	return s->msg.dkim;
}

static void
get_dkim(struct session *s, struct fact_value *v)
{
	struct dkim_msg *m = dkim_ready(s);
	result_value(v, m ? dkim_msg_result(m) : RESULT_NONE);
}

static void
get_dkim_domains(struct session *s, struct fact_value *v)
{
	struct dkim_msg *m = dkim_ready(s);

	if (m == NULL) {
		v->absent = 1;
		return;
	}
	v->list = dkim_msg_domains(m, &v->nlist);
	v->absent = v->nlist == 0;
}

static void
get_dkim_signatures(struct session *s, struct fact_value *v)
{
	struct dkim_msg *m = dkim_ready(s);
	v->num = m ? (long long)dkim_msg_nsigs(m) : 0;
}

/* spf_ready - the outcome a rule asks for; NULL when checks are skipped */
static const struct spf_outcome *
spf_ready(struct session *s, int helo_identity)
{
	if (session_checks_skipped(s))
		return NULL;
	return helo_identity ? session_spf_helo(s) : session_spf_mailfrom(s);
}

static void
get_spf(struct session *s, struct fact_value *v)
{
	const struct spf_outcome *o = spf_ready(s, 0);
	result_value(v, o ? o->result : RESULT_NONE);
}

static void
get_spf_helo(struct session *s, struct fact_value *v)
{
	const struct spf_outcome *o = spf_ready(s, 1);
	result_value(v, o ? o->result : RESULT_NONE);
}

static void
get_spf_domain(struct session *s, struct fact_value *v)
{
	const struct spf_outcome *o = spf_ready(s, 0);
	string_value(v, o ? o->domain : NULL);
}

static void
get_spf_explanation(struct session *s, struct fact_value *v)
{
	const struct spf_outcome *o = spf_ready(s, 0);
	string_value(v, o ? o->explanation : NULL);
}

/* list_ready - a DNS list check, settled; NULL when none runs */
static struct dnsbl_check *
list_ready(struct session *s, int domains)
{
	struct dnsbl_check *c = domains ? s->rhsbl : s->dnsbl;

	if (c == NULL || session_checks_skipped(s))
		return NULL;
	if (domains)
		iprev_ready(s); /* the PTR name is one of the targets */
	session_settle_lists(s);
	return c;
}

/* list_score - a list's score; unknown when a list could not answer */
static void
list_score(struct session *s, struct fact_value *v, int domains)
{
	struct dnsbl_check *c = list_ready(s, domains);

	v->num = c ? dnsbl_score(c) : 0;
}

/* list_names - listed or failed zones */
static void
list_names(struct session *s, struct fact_value *v, int domains, int failed)
{
	struct dnsbl_check *c = list_ready(s, domains);

	if (c == NULL) {
		v->absent = 1;
		return;
	}
	v->list =
	    failed ? dnsbl_failed(c, &v->nlist) : dnsbl_listed(c, &v->nlist);
	v->absent = v->nlist == 0;
}

/* list_complete - every list answered */
static void
list_complete(struct session *s, struct fact_value *v, int domains)
{
	struct dnsbl_check *c = list_ready(s, domains);

	v->boolean = c == NULL || dnsbl_complete(c);
}

/* list_reason - TXT reasons, fetched only now that a rule reads them */
static void
list_reason(struct session *s, struct fact_value *v, int domains)
{
	struct dnsbl_check *c = list_ready(s, domains);
	char **slot = domains ? &s->rhsbl_reason : &s->dnsbl_reason;
	struct strbuf sb;

	if (c == NULL) {
		v->absent = 1;
		return;
	}
	if (*slot == NULL) {
		dnsbl_fetch_txt(c);
		dnsbl_finish(c, s->dns);
		strbuf_init(&sb);
		dnsbl_reasons(c, &sb);
		*slot = strbuf_take(&sb);
	}
	string_value(v, *slot);
}

#define LIST_GETTER(fn, call)                                                  \
	static void fn(struct session *s, struct fact_value *v)                \
	{                                                                      \
		call;                                                          \
	}
LIST_GETTER(get_dnsbl_score, list_score(s, v, 0))
LIST_GETTER(get_dnsbl_listed, list_names(s, v, 0, 0))
LIST_GETTER(get_dnsbl_complete, list_complete(s, v, 0))
LIST_GETTER(get_dnsbl_failed, list_names(s, v, 0, 1))
LIST_GETTER(get_dnsbl_reason, list_reason(s, v, 0))
LIST_GETTER(get_rhsbl_score, list_score(s, v, 1))
LIST_GETTER(get_rhsbl_listed, list_names(s, v, 1, 0))
LIST_GETTER(get_rhsbl_complete, list_complete(s, v, 1))
LIST_GETTER(get_rhsbl_failed, list_names(s, v, 1, 1))
LIST_GETTER(get_rhsbl_reason, list_reason(s, v, 1))

/*
 * The getters, indexed by fact id. "score" has none: the evaluator
 * supplies it. session_fact_known() lets a unit test check that every
 * other registry row has one.
 */
static fact_getter *const fact_getters[FACT_ID_COUNT] = {
    [FACT_ID_CLIENT_IP] = get_client_ip,
    [FACT_ID_CLIENT_PTR] = get_client_ptr,
    [FACT_ID_CLIENT_CONNECTIONS] = get_connections,
    [FACT_ID_IPREV] = get_iprev,
    [FACT_ID_HELO] = get_helo,
    [FACT_ID_HELO_SYNTAX] = get_helo_syntax,
    [FACT_ID_HELO_FQDN] = get_helo_fqdn,
    [FACT_ID_HELO_LITERAL] = get_helo_literal,
    [FACT_ID_HELO_RESOLVES] = get_helo_resolves,
    [FACT_ID_HELO_MATCHES_IP] = get_helo_matches_ip,
    [FACT_ID_HELO_MATCHES_PTR] = get_helo_matches_ptr,
    [FACT_ID_HELO_CLAIMS_LOCAL] = get_helo_claims_local,
    [FACT_ID_TLS] = get_tls,
    [FACT_ID_MAILFROM] = get_mailfrom,
    [FACT_ID_MAILFROM_DOMAIN] = get_mailfrom_domain,
    [FACT_ID_AUTH] = get_auth,
    [FACT_ID_RCPT] = get_rcpt,
    [FACT_ID_DNSBL_SCORE] = get_dnsbl_score,
    [FACT_ID_DNSBL_LISTED] = get_dnsbl_listed,
    [FACT_ID_DNSBL_COMPLETE] = get_dnsbl_complete,
    [FACT_ID_DNSBL_FAILED] = get_dnsbl_failed,
    [FACT_ID_DNSBL_REASON] = get_dnsbl_reason,
    [FACT_ID_RHSBL_SCORE] = get_rhsbl_score,
    [FACT_ID_RHSBL_LISTED] = get_rhsbl_listed,
    [FACT_ID_RHSBL_COMPLETE] = get_rhsbl_complete,
    [FACT_ID_RHSBL_FAILED] = get_rhsbl_failed,
    [FACT_ID_RHSBL_REASON] = get_rhsbl_reason,
    [FACT_ID_DKIM] = get_dkim,
    [FACT_ID_DKIM_DOMAINS] = get_dkim_domains,
    [FACT_ID_DKIM_SIGNATURES] = get_dkim_signatures,
    [FACT_ID_SPF] = get_spf,
    [FACT_ID_SPF_HELO] = get_spf_helo,
    [FACT_ID_SPF_DOMAIN] = get_spf_domain,
    [FACT_ID_SPF_EXPLANATION] = get_spf_explanation,
};

_Static_assert(sizeof(fact_getters) / sizeof(fact_getters[0]) == FACT_ID_COUNT,
               "one getter slot per enum fact_id");

/* session_fact_known - whether a fact has a getter here */
int
session_fact_known(const struct fact_def *def)
{
	enum fact_id id = fact_id_of(def);

	return (unsigned)id < FACT_ID_COUNT && fact_getters[id] != NULL;
}

/* session_fact - rules_fact_fn over a session */
int
session_fact(void *ctx, const struct fact_def *def, struct fact_value *out)
{
	struct session *s = ctx;

	memset(out, 0, sizeof(*out));
	if (!session_fact_known(def))
		return -1;
	fact_getters[fact_id_of(def)](s, out);
	return 0;
}
