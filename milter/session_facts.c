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

/* helo_ready - settle the HELO facts (they need iprev for matches_ptr) */
static int
helo_ready(struct session *s)
{
	if (session_checks_skipped(s) || s->helo == NULL)
		return 0;
	session_settle(s);
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
	result_value(v, helo_ready(s) ? s->helo->facts[f] : RESULT_NONE);
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
	const char *at = s->msg.mailfrom ? strrchr(s->msg.mailfrom, '@')
					 : NULL;
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

static const struct {
	const char *name;
	fact_getter *get;
} fact_getters[] = {
    {"client.ip", get_client_ip},
    {"client.ptr", get_client_ptr},
    {"client.connections", get_connections},
    {"iprev", get_iprev},
    {"helo", get_helo},
    {"helo.syntax", get_helo_syntax},
    {"helo.fqdn", get_helo_fqdn},
    {"helo.literal", get_helo_literal},
    {"helo.resolves", get_helo_resolves},
    {"helo.matches_ip", get_helo_matches_ip},
    {"helo.matches_ptr", get_helo_matches_ptr},
    {"helo.claims_local", get_helo_claims_local},
    {"tls", get_tls},
    {"mailfrom", get_mailfrom},
    {"mailfrom.domain", get_mailfrom_domain},
    {"auth", get_auth},
    {"rcpt", get_rcpt},
};

/* session_fact - rules_fact_fn over a session */
int
session_fact(void *ctx, const struct fact_def *def, struct fact_value *out)
{
	struct session *s = ctx;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(fact_getters) / sizeof(fact_getters[0]);
	     i++) {
		if (strcmp(fact_getters[i].name, def->name) == 0) {
			fact_getters[i].get(s, out);
			return 0;
		}
	}
	return -1;
}
