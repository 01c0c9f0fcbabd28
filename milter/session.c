/*
 * session - per-connection and per-message state (see session.h)
 */
#include "milter/session.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "milter/log.h"

/* session_dns_config - the resolver settings of a conf */
static void
session_dns_config(const struct conf *conf, struct dns_config *dc)
{
	unsigned tries = conf->dns_tries ? conf->dns_tries : 1;

	dc->servers = conf->dns_servers;
	dc->tries = tries;
	/* Leave c-ares room for every try within the chain's deadline. */
	dc->try_timeout_ms = conf->dns_timeout_ms / (2 * tries);
	if (dc->try_timeout_ms < 50)
		dc->try_timeout_ms = 50;
}

/* session_start_lists - every DNSBL query at once; domain lists later */
static void
session_start_lists(struct session *s)
{
	const struct conf *conf = s->snap.conf;

	if (s->dns == NULL)
		return;
	if (conf->dnsbl_sites != NULL) {
		s->dnsbl = dnsbl_new(conf->dnsbl_sites, DNSBL_KIND_IP, s->dns,
		                     conf->dns_timeout_ms, s->id);
		if (s->dnsbl == NULL)
			session_fail(s, "out of memory");
		else
			dnsbl_start_ip(s->dnsbl, &s->ip);
	}
	if (conf->rhsbl_sites != NULL) {
		s->rhsbl = dnsbl_new(conf->rhsbl_sites, DNSBL_KIND_NAME, s->dns,
		                     conf->dns_timeout_ms, s->id);
		if (s->rhsbl == NULL)
			session_fail(s, "out of memory");
	}
}

/* session_rhsbl_name - hand a name to the domain lists, if targeted */
static void
session_rhsbl_name(struct session *s, enum dnsbl_target t, const char *name)
{
	if (s->rhsbl != NULL && (s->snap.conf->rhsbl_targets & (unsigned)t))
		dnsbl_set_name(s->rhsbl, t, name);
}

/* session_rhsbl_ptr - the verified PTR name, once iprev passed */
static void
session_rhsbl_ptr(struct session *s)
{
	if (s->rhsbl_ptr_fed || !s->iprev.done ||
	    s->iprev.result != RESULT_PASS)
		return;
	s->rhsbl_ptr_fed = 1;
	session_rhsbl_name(s, DNSBL_T_PTR, s->iprev.name);
}

/* session_new - a connection opened; start what can start */
struct session *
session_new(const struct sockaddr *addr)
{
	struct session *s = calloc(1, sizeof(*s));
	struct dns_config dc;
	const struct conf *conf;

	if (s == NULL)
		return NULL;
	s->id = runtime_next_id();
	s->connect_ms = dns_now_ms();
	runtime_snapshot(&s->snap);
	conf = s->snap.conf;
	s->have_ip = netaddr_from_sockaddr(addr, &s->ip) == 0;
	netaddr_format(&s->ip, s->ip_text, sizeof(s->ip_text));
	runtime_session_enter();
	if (!s->have_ip) {
		/* A local (non-IP) submission: nothing to check. */
		s->trusted = 1;
		return s;
	}
	s->connections = runtime_conn_enter(&s->ip);
	s->trusted = cidr_list_contains(&conf->trusted_networks, &s->ip);
	if (s->trusted)
		return s;
	session_dns_config(conf, &dc);
	s->dns = dns_resolver_new(&dc, runtime_dns_cache());
	if (s->dns == NULL)
		session_fail(s, "cannot create a DNS resolver");
	iprev_start(&s->iprev, s->dns, &s->ip, conf->iprev_max_names,
	            s->connect_ms + conf->dns_timeout_ms);
	session_start_lists(s);
	return s;
}

/* session_message_reset - forget the message, keep the connection */
static void
session_message_reset(struct session *s)
{
	struct session_message *m = &s->msg;

	free(m->mailfrom);
	for (size_t i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	free(m->current_rcpt);
	free(m->refused_rule);
	spf_job_cleanup(&m->spf);
	dkim_msg_free(m->dkim); /* forgets its key queries still in flight */
	memset(m, 0, sizeof(*m));
}

/* session_free - the connection closed */
void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	/* The message first: it tells the resolver what to forget. */
	session_message_reset(s);
	/* Then: no DNS callback may run into the memory freed below. */
	dns_resolver_free(s->dns);
	spf_job_cleanup(&s->spf_helo);
	dnsbl_free(s->dnsbl);
	dnsbl_free(s->rhsbl);
	free(s->dnsbl_reason);
	free(s->rhsbl_reason);
	free(s->helo);
	for (size_t i = 0; i < s->nold_helos; i++)
		free(s->old_helos[i]);
	free(s->old_helos);
	if (s->have_ip)
		runtime_conn_leave(&s->ip);
	runtime_snapshot_release(&s->snap);
	runtime_session_leave();
	free(s);
}

/* session_fail - an internal error: the failure policy decides */
void
session_fail(struct session *s, const char *reason)
{
	if (!s->internal_error)
		log_err("conn#%lu: internal error: %s", s->id, reason);
	s->internal_error = 1;
	snprintf(s->error_reason, sizeof(s->error_reason), "%s", reason);
}

/* session_checks_skipped - trusted networks and authenticated clients */
int
session_checks_skipped(const struct session *s)
{
	return s->trusted ||
	       (s->authenticated && s->snap.conf->skip_authenticated);
}

/* session_keep_old_helo - a second HELO (after STARTTLS, say) */
static int
session_keep_old_helo(struct session *s)
{
	struct helo_check **grown;

	if (s->helo == NULL)
		return 0;
	grown = realloc(s->old_helos, (s->nold_helos + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	s->old_helos = grown;
	s->old_helos[s->nold_helos++] = s->helo;
	s->helo = NULL;
	return 0;
}

/* session_start_spf - an SPF check in the background (spf_job.h) */
static void
session_start_spf(struct session *s, struct spf_job *job, int helo_identity)
{
	const struct conf *conf = s->snap.conf;
	struct dns_config dc;

	spf_job_cleanup(job);
	if (helo_identity && (s->helo == NULL || !s->helo->is_domain))
		return; /* no domain to check: spf.helo is none */
	session_dns_config(conf, &dc);
	spf_job_start(job, &dc, runtime_dns_cache(), &s->ip,
	              s->helo ? s->helo->name : "",
	              s->msg.mailfrom ? s->msg.mailfrom : "", helo_identity,
	              conf->authserv_id, dns_now_ms() + conf->dns_timeout_ms);
}

/* session_spf_mailfrom - the MAIL FROM (or null sender) outcome */
const struct spf_outcome *
session_spf_mailfrom(struct session *s)
{
	return spf_job_join(&s->msg.spf);
}

/* session_spf_helo - the HELO identity outcome */
const struct spf_outcome *
session_spf_helo(struct session *s)
{
	return spf_job_join(&s->spf_helo);
}

/* session_helo - record the name and start its lookups */
void
session_helo(struct session *s, const char *helo)
{
	const struct conf *conf = s->snap.conf;
	struct helo_local local;

	if (s->dns != NULL)
		dns_pump(s->dns);
	if (s->helo != NULL && strcmp(s->helo->name, helo) == 0)
		return; /* the same name again: keep its answers */
	if (session_keep_old_helo(s) != 0 ||
	    (s->helo = calloc(1, sizeof(*s->helo))) == NULL) {
		session_fail(s, "out of memory");
		return;
	}
	runtime_helo_local(conf, &local);
	if (s->trusted) {
		snprintf(s->helo->name, sizeof(s->helo->name), "%s", helo);
		return;
	}
	helo_start(s->helo, s->dns, helo, &s->ip, &local,
	           dns_now_ms() + conf->dns_timeout_ms);
	session_start_spf(s, &s->spf_helo, 1);
	session_rhsbl_name(s, DNSBL_T_HELO,
	                   s->helo->is_domain ? s->helo->name : NULL);
	session_rhsbl_ptr(s);
}

/* session_set_auth - SMTP AUTH user name from {auth_authen} */
void
session_set_auth(struct session *s, const char *user)
{
	if (user == NULL || *user == '\0')
		return;
	s->authenticated = 1;
	snprintf(s->auth_user, sizeof(s->auth_user), "%s", user);
}

/* session_set_tls - TLS protocol version from {tls_version} */
void
session_set_tls(struct session *s, const char *version)
{
	if (version != NULL)
		snprintf(s->tls, sizeof(s->tls), "%s", version);
}

/* session_mail - a new message; take the current conf and rules */
int
session_mail(struct session *s, const char *mailfrom)
{
	if (s->dns != NULL)
		dns_pump(s->dns);
	session_message_reset(s);
	runtime_snapshot_release(&s->snap);
	runtime_snapshot(&s->snap);
	s->msg.active = 1;
	s->msg.start_ms = dns_now_ms();
	s->msg.mailfrom = addr_strip_brackets_dup(mailfrom ? mailfrom : "");
	if (s->msg.mailfrom == NULL) {
		session_fail(s, "out of memory");
		return -1;
	}
	return 0;
}

/* session_start_dkim - a DKIM verifier fed as the message streams in */
static void
session_start_dkim(struct session *s)
{
	const struct conf *conf = s->snap.conf;

	if (!conf->dkim_verify || s->dns == NULL)
		return;
	s->msg.dkim = dkim_msg_new(s->dns, conf->dkim_max_signatures,
	                           s->msg.queue_id[0] ? s->msg.queue_id : NULL);
	if (s->msg.dkim == NULL)
		session_fail(s, "cannot start DKIM verification");
	dkim_msg_exact_headers(s->msg.dkim, s->exact_headers);
}

/* session_eoh - end of headers: every DKIM key is asked for at once */
void
session_eoh(struct session *s)
{
	if (s->dns != NULL)
		dns_pump(s->dns);
	s->msg.eoh_ms = dns_now_ms();
	if (s->msg.dkim != NULL && dkim_msg_eoh(s->msg.dkim) != 0)
		session_fail(s, "DKIM: cannot read the signatures");
}

/* session_body - one body chunk for DKIM */
void
session_body(struct session *s, const unsigned char *buf, size_t len)
{
	if (s->msg.dkim != NULL && dkim_msg_body(s->msg.dkim, buf, len) != 0)
		session_fail(s, "DKIM: cannot hash the body");
}

/* session_settle_dkim - verify, keys bounded by the deadline from eoh */
void
session_settle_dkim(struct session *s)
{
	struct session_message *m = &s->msg;

	if (m->dkim == NULL || m->dkim_done)
		return;
	m->dkim_done = 1;
	if (m->eoh_ms == 0) /* no end of headers seen: start from now */
		m->eoh_ms = dns_now_ms();
	if (dkim_msg_eom(m->dkim, m->eoh_ms + s->snap.conf->dns_timeout_ms))
		session_fail(s, "DKIM verification failed internally");
}

/* session_start_mail_checks - after AUTH is known: SPF of MAIL FROM */
void
session_start_mail_checks(struct session *s)
{
	const char *at;

	if (session_checks_skipped(s) || !s->have_ip)
		return;
	session_start_spf(s, &s->msg.spf, 0);
	session_start_dkim(s);
	at = strrchr(s->msg.mailfrom, '@');
	session_rhsbl_name(s, DNSBL_T_MAILFROM, at ? at + 1 : NULL);
	session_rhsbl_ptr(s);
}

/* session_set_queue_id - the MTA's queue id, once known */
void
session_set_queue_id(struct session *s, const char *id)
{
	if (id != NULL && *id != '\0')
		snprintf(s->msg.queue_id, sizeof(s->msg.queue_id), "%s", id);
}

/* authserv_id_of - the first token of an Authentication-Results value */
static size_t
authserv_id_of(const char *v, const char **start)
{
	/* Skip white space and (possibly nested) comments (RFC 8601 CFWS). */
	for (;;) {
		int depth = 0;
		while (isspace((unsigned char)*v))
			v++;
		if (*v != '(')
			break;
		for (; *v != '\0'; v++) {
			if (*v == '\\' && v[1] != '\0')
				v++;
			else if (*v == '(')
				depth++;
			else if (*v == ')' && --depth == 0) {
				v++;
				break;
			}
		}
	}
	*start = v;
	return strcspn(v, "; \t\r\n(");
}

/* session_header - note Authentication-Results headers claiming our id */
void
session_header(struct session *s, const char *name, const char *value)
{
	const char *id, *ours = s->snap.conf->authserv_id;
	size_t n;

	if (s->msg.dkim != NULL &&
	    dkim_msg_header(s->msg.dkim, name, value) != 0)
		session_fail(s, "DKIM: cannot take a header");
	if (strcasecmp(name, "Authentication-Results") != 0)
		return;
	s->msg.ar_seen++;
	n = authserv_id_of(value, &id);
	if (ours != NULL && n == strlen(ours) &&
	    strncasecmp(id, ours, n) == 0 &&
	    s->msg.nforged < SESSION_MAX_FORGED)
		s->msg.forged[s->msg.nforged++] = s->msg.ar_seen;
}

/* session_rcpt - the recipient being decided (RCPT TO's argument) */
int
session_rcpt(struct session *s, const char *arg)
{
	free(s->msg.current_rcpt);
	s->msg.current_rcpt = addr_strip_brackets_dup(arg);
	return s->msg.current_rcpt == NULL ? -1 : 0;
}

/* session_rcpt_accept - the current recipient joins the message */
int
session_rcpt_accept(struct session *s)
{
	char **grown =
	    realloc(s->msg.rcpts, (s->msg.nrcpts + 1) * sizeof(*grown));

	if (grown == NULL)
		return -1;
	s->msg.rcpts = grown;
	s->msg.rcpts[s->msg.nrcpts++] = s->msg.current_rcpt;
	s->msg.current_rcpt = NULL;
	return 0;
}

/* session_rcpt_refuse - the current recipient was refused: why, for the log */
void
session_rcpt_refuse(struct session *s, const struct rules_verdict *v)
{
	s->msg.refused++;
	s->msg.refused_action = v->action;
	if (s->msg.refused_rule == NULL && v->rule != NULL)
		s->msg.refused_rule = strdup(v->rule);
}

/* session_message_end - the message is over (delivered or aborted) */
void
session_message_end(struct session *s)
{
	session_message_reset(s);
}

/* all_checks_done - dns_wait predicate over the connection's checks */
static int
all_checks_done(void *arg)
{
	struct session *s = arg;

	return (!s->iprev.started || s->iprev.done) &&
	       (s->helo == NULL || s->helo->dns_done) &&
	       (s->dnsbl == NULL || dnsbl_is_done(s->dnsbl)) &&
	       (s->rhsbl == NULL || dnsbl_is_done(s->rhsbl));
}

/* lists_expire - settle the lists at their deadlines; next deadline */
static uint64_t
lists_expire(struct session *s, uint64_t now, uint64_t next)
{
	struct dnsbl_check *lists[2] = {s->dnsbl, s->rhsbl};

	for (int i = 0; i < 2; i++) {
		uint64_t d;
		if (lists[i] == NULL)
			continue;
		dnsbl_expire(lists[i], now);
		d = dnsbl_next_deadline(lists[i]);
		if (d < next)
			next = d;
	}
	return next;
}

/*
 * session_settle_lists - the PTR name joins the domain lists once iprev
 * is settled, then both lists are waited for (bounded).
 */
void
session_settle_lists(struct session *s)
{
	session_rhsbl_ptr(s);
	if (s->dnsbl != NULL)
		dnsbl_finish(s->dnsbl, s->dns);
	if (s->rhsbl != NULL)
		dnsbl_finish(s->rhsbl, s->dns);
}

/* session_settle - wait for every check, each up to its own deadline */
void
session_settle(struct session *s)
{
	while (s->dns != NULL && !all_checks_done(s)) {
		uint64_t now = dns_now_ms(), next = UINT64_MAX;

		iprev_expire(&s->iprev, now);
		if (s->helo != NULL)
			helo_expire(s->helo, now);
		if (s->iprev.started && !s->iprev.done)
			next = s->iprev.deadline_ms;
		if (s->helo != NULL && !s->helo->dns_done &&
		    s->helo->deadline_ms < next)
			next = s->helo->deadline_ms;
		next = lists_expire(s, now, next);
		/* Nothing in flight can complete them: settle on temperror. */
		if (next == UINT64_MAX || dns_in_flight(s->dns) == 0)
			break;
		dns_wait(s->dns, all_checks_done, s, next);
	}
	if (s->iprev.started)
		iprev_finish(&s->iprev, s->dns);
	if (s->helo != NULL && !s->trusted)
		helo_finish(s->helo, s->dns, s->iprev.result, s->iprev.name);
	session_settle_lists(s);
	spf_job_join(&s->spf_helo);
	spf_job_join(&s->msg.spf);
}

/* session_evaluate - the rules at one stage */
int
session_evaluate(struct session *s, enum stage stage, struct rules_verdict *out)
{
	const struct conf *conf = s->snap.conf;
	struct rules_options opt;

	memset(out, 0, sizeof(*out));
	out->final = 1;
	if (s->snap.rules == NULL)
		return 0;
	opt.on_temperror_accept = conf->on_temperror == CONF_FAIL_ACCEPT;
	opt.dry_run = conf->dry_run;
	s->eval_stage = stage;
	return rules_evaluate(s->snap.rules, stage, session_fact, s, &opt, out);
}
