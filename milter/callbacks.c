/*
 * callbacks - libmilter glue (see callbacks.h)
 *
 * Decisions: with delay_reject (the default) rules are first evaluated at
 * RCPT TO, so a refusal decided by connect or HELO facts is answered there
 * and the log shows sender and recipient, as Postfix's smtpd_delay_reject
 * does. The end of message evaluates every rule, writes the headers, logs
 * the verdict and answers. Clients in trusted_networks skip the rules.
 *
 * An internal error never turns into a silent accept: on_internal_error
 * decides (tempfail by default).
 *
 * Round trips: at option negotiation mailvet asks the MTA not to wait for
 * a reply to each header, end of headers and body chunk (mailvet never
 * refuses there), and with delay_reject also to connect, HELO and MAIL
 * (refusals then come at RCPT anyway). A message then costs two waits
 * (RCPT, end of message) instead of one per command. Header values keep
 * their leading space (SMFIP_HDR_LEADSPC) so DKIM sees them exactly.
 *
 * Per-connection state: struct conn (the negotiated no-reply steps and
 * the session) is the libmilter private pointer from negotiation to close.
 */
#include "milter/callbacks.h"

#include <libmilter/mfdef.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter/apply.h"
#include "milter/log.h"
#include "milter/session.h"
#include "milter/verdict.h"

struct conn {
	unsigned long noreply; /* SMFIP_NR_* steps granted by the MTA */
	int leadspc;           /* SMFIP_HDR_LEADSPC granted */
	struct session *session;
};

/* conn_of - the connection state, created on first use */
static struct conn *
conn_of(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL)
		smfi_setpriv(ctx, c);
	return c;
}

/* session_of - the session, or NULL */
static struct session *
session_of(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	return c != NULL ? c->session : NULL;
}

#define SESSION(ctx) session_of(ctx)

/* no_reply - the status for a step: NOREPLY when the MTA will not wait */
static sfsistat
no_reply(SMFICTX *ctx, unsigned long step, sfsistat rc)
{
	struct conn *c = smfi_getpriv(ctx);

	return c != NULL && (c->noreply & step) ? SMFIS_NOREPLY : rc;
}

/* stage_step - the SMFIP_NR_* bit of an early stage */
static unsigned long
stage_step(enum stage stage)
{
	return stage == STAGE_CONNECT ? SMFIP_NR_CONN
	       : stage == STAGE_HELO  ? SMFIP_NR_HELO
	                              : SMFIP_NR_MAIL;
}

/* macro - a macro's value or NULL */
static const char *
macro(SMFICTX *ctx, const char *name)
{
	return smfi_getsymval(ctx, (char *)name);
}

/* is_refusal - an action that answers 4xx/5xx */
static int
is_refusal(enum rules_action a)
{
	return a == RULES_REJECT || a == RULES_TEMPFAIL;
}

/* internal_error - on_internal_error decides; never accept-and-drop */
static sfsistat
internal_error(SMFICTX *ctx, struct session *s)
{
	if (s != NULL && s->snap.conf->on_internal_error == CONF_FAIL_ACCEPT)
		return SMFIS_CONTINUE;
	apply_reply(ctx, RULES_TEMPFAIL, 451, "4.3.0",
	            "mailvet: internal error, try again later");
	return SMFIS_TEMPFAIL;
}

/* refuse - answer a refusing verdict */
static sfsistat
refuse(SMFICTX *ctx, struct session *s, const struct rules_verdict *v)
{
	if (apply_reply(ctx, v->action, v->code, v->xcode, v->text) != 0)
		log_warn("conn#%lu: cannot set the reply text", s->id);
	return v->action == RULES_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* rules_apply_here - do the rules run for this client at this stage */
static int
rules_apply_here(const struct session *s, enum stage stage)
{
	if (s->snap.rules == NULL || s->trusted)
		return 0;
	return stage >= STAGE_RCPT || !s->snap.conf->delay_reject;
}

/* early_stage - connect, HELO, MAIL: refuse now unless delay_reject */
static sfsistat
early_stage(SMFICTX *ctx, struct session *s, enum stage stage)
{
	struct rules_verdict v;
	sfsistat rc = SMFIS_CONTINUE;

	/* No reply expected: refusals and errors wait for RCPT. */
	if (no_reply(ctx, stage_step(stage), rc) == SMFIS_NOREPLY)
		return SMFIS_NOREPLY;
	if (s->internal_error)
		return internal_error(ctx, s);
	if (!rules_apply_here(s, stage))
		return SMFIS_CONTINUE;
	if (session_evaluate(s, stage, &v) != 0) {
		session_fail(s, "rules evaluation failed");
		rules_verdict_free(&v);
		return internal_error(ctx, s);
	}
	if (v.final && is_refusal(v.action) && !v.dry_run)
		rc = refuse(ctx, s, &v);
	rules_verdict_free(&v);
	return rc;
}

/* wanted_steps - the protocol options mailvet asks for */
static unsigned long
wanted_steps(void)
{
	struct runtime_snapshot snap;
	unsigned long want = SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY |
	                     SMFIP_HDR_LEADSPC | SMFIP_NOUNKNOWN | SMFIP_NODATA;

	runtime_snapshot(&snap);
	if (snap.conf->delay_reject)
		want |= SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL;
	runtime_snapshot_release(&snap);
	return want;
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
             unsigned long *pf2, unsigned long *pf3)
{
	struct conn *c = conn_of(ctx);

	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE);
	*pf1 = f1 & wanted_steps();
	*pf2 = *pf3 = 0;
	if (c != NULL)
		c->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	if (c != NULL)
		c->noreply =
		    *pf1 & (SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY |
		            SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct conn *c = conn_of(ctx);
	struct session *s = c ? session_new(hostaddr) : NULL;

	(void)hostname; /* the MTA's name for the client: iprev finds ours */
	if (s == NULL) {
		log_err("out of memory at connect");
		return no_reply(ctx, SMFIP_NR_CONN, internal_error(ctx, NULL));
	}
	c->session = s;
	s->exact_headers = c->leadspc;
	return early_stage(ctx, s, STAGE_CONNECT);
}

static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct session *s = SESSION(ctx);

	if (s == NULL)
		return no_reply(ctx, SMFIP_NR_HELO, internal_error(ctx, NULL));
	session_set_tls(s, macro(ctx, "{tls_version}"));
	session_helo(s, helo ? helo : "");
	return early_stage(ctx, s, STAGE_HELO);
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = SESSION(ctx);

	if (s == NULL)
		return no_reply(ctx, SMFIP_NR_MAIL, internal_error(ctx, NULL));
	if (session_mail(s, argv[0]) != 0)
		return no_reply(ctx, SMFIP_NR_MAIL, internal_error(ctx, s));
	session_set_auth(s, macro(ctx, "{auth_authen}"));
	session_set_queue_id(s, macro(ctx, "i"));
	session_start_mail_checks(s);
	return early_stage(ctx, s, STAGE_MAIL);
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = SESSION(ctx);
	struct rules_verdict v;
	sfsistat rc = SMFIS_CONTINUE;

	if (s == NULL || s->internal_error)
		return internal_error(ctx, s);
	session_set_queue_id(s, macro(ctx, "i"));
	if (session_rcpt(s, argv[0]) != 0)
		return internal_error(ctx, s);
	if (!rules_apply_here(s, STAGE_RCPT))
		return session_rcpt_accept(s) == 0 ? SMFIS_CONTINUE
		                                   : internal_error(ctx, s);
	if (session_evaluate(s, STAGE_RCPT, &v) != 0) {
		rules_verdict_free(&v);
		session_fail(s, "rules evaluation failed");
		return internal_error(ctx, s);
	}
	if (v.final && is_refusal(v.action) && !v.dry_run) {
		session_rcpt_refuse(s, &v);
		rc = refuse(ctx, s, &v);
	} else if (session_rcpt_accept(s) != 0) {
		rc = internal_error(ctx, s);
	}
	rules_verdict_free(&v);
	return rc;
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct session *s = SESSION(ctx);

	if (s != NULL && name != NULL && value != NULL)
		session_header(s, name, value);
	return no_reply(ctx, SMFIP_NR_HDR, SMFIS_CONTINUE);
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct session *s = SESSION(ctx);

	if (s != NULL)
		session_eoh(s);
	return no_reply(ctx, SMFIP_NR_EOH, SMFIS_CONTINUE);
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
	struct session *s = SESSION(ctx);

	if (s != NULL && s->msg.dkim != NULL)
		session_body(s, buf, len);
	return no_reply(ctx, SMFIP_NR_BODY, SMFIS_CONTINUE);
}

/* log_outcome - the verdict line for a message */
static void
log_outcome(struct session *s, const struct rules_verdict *v,
            const char *action)
{
	struct verdict_info vi;

	memset(&vi, 0, sizeof(vi));
	vi.action = action;
	vi.rule = v ? v->rule : NULL;
	if (v != NULL && v->dry_run && v->action != RULES_UNDECIDED &&
	    v->action != RULES_ACCEPT)
		vi.would = rules_action_name(v->action);
	vi.reason = s->internal_error ? s->error_reason : NULL;
	vi.refused = (unsigned)s->msg.refused;
	verdict_log(s, &vi);
}

/* eom_deliver - headers, maybe quarantine, then let it through */
static sfsistat
eom_deliver(SMFICTX *ctx, struct session *s, const struct rules_verdict *v)
{
	int quarantine = v->action == RULES_QUARANTINE && !v->dry_run;

	if (apply_headers(ctx, s, v) != 0 ||
	    (quarantine && apply_quarantine(ctx, v->text) != 0)) {
		session_fail(s, "cannot edit the message");
		/* on_internal_error decides what happens: log that. */
		log_outcome(s, v,
		            s->snap.conf->on_internal_error == CONF_FAIL_ACCEPT
		                ? "accept"
		                : "tempfail");
		return internal_error(ctx, s);
	}
	log_outcome(s, v, quarantine ? "quarantine" : "accept");
	return SMFIS_CONTINUE;
}

/* eom_decide - answer the message according to its verdict */
static sfsistat
eom_decide(SMFICTX *ctx, struct session *s, const struct rules_verdict *v)
{
	if (v->dry_run || !v->final)
		return eom_deliver(ctx, s, v);
	if (is_refusal(v->action)) {
		log_outcome(s, v, rules_action_name(v->action));
		return refuse(ctx, s, v);
	}
	if (v->action == RULES_DISCARD) {
		log_outcome(s, v, "discard");
		return SMFIS_DISCARD;
	}
	return eom_deliver(ctx, s, v);
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct session *s = SESSION(ctx);
	struct rules_verdict v;
	sfsistat rc;

	if (s == NULL)
		return internal_error(ctx, NULL);
	session_set_queue_id(s, macro(ctx, "i"));
	if (!session_checks_skipped(s)) {
		session_settle(s);
		/* DKIM only now: the whole message has been seen. */
		session_settle_dkim(s);
	}
	if (apply_remove_forged(ctx, s) != 0)
		session_fail(s, "cannot remove forged headers");
	memset(&v, 0, sizeof(v));
	if (!s->internal_error && rules_apply_here(s, STAGE_EOM) &&
	    session_evaluate(s, STAGE_EOM, &v) != 0)
		session_fail(s, "rules evaluation failed");
	if (s->internal_error) {
		log_outcome(s, &v,
		            s->snap.conf->on_internal_error == CONF_FAIL_ACCEPT
		                ? "accept"
		                : "tempfail");
		rc = internal_error(ctx, s);
		if (rc == SMFIS_CONTINUE)
			apply_headers(ctx, s, NULL);
	} else {
		rc = eom_decide(ctx, s, &v);
	}
	rules_verdict_free(&v);
	s->msg.logged = 1;
	return rc;
}

/* end_message - log a message refused at RCPT that never reached EOM */
static void
end_message(struct session *s)
{
	if (s->msg.active && !s->msg.logged && s->msg.refused > 0) {
		struct rules_verdict v;
		/* Log what is known now, without waiting for more DNS. */
		if (s->dns != NULL)
			dns_pump(s->dns);
		if (s->helo != NULL && !session_checks_skipped(s))
			helo_finish(s->helo, NULL, s->iprev.result,
			            s->iprev.name);
		memset(&v, 0, sizeof(v));
		v.rule = s->msg.refused_rule;
		log_outcome(s, &v, rules_action_name(s->msg.refused_action));
	}
	session_message_end(s);
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct session *s = SESSION(ctx);

	if (s != NULL)
		end_message(s);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	if (c->session != NULL) {
		end_message(c->session);
		session_free(c->session);
	}
	free(c);
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

struct smfiDesc callbacks_desc = {
    .xxfi_name = (char *)"mailvet",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
    .xxfi_connect = cb_connect,
    .xxfi_helo = cb_helo,
    .xxfi_envfrom = cb_envfrom,
    .xxfi_envrcpt = cb_envrcpt,
    .xxfi_header = cb_header,
    .xxfi_eoh = cb_eoh,
    .xxfi_body = cb_body,
    .xxfi_eom = cb_eom,
    .xxfi_abort = cb_abort,
    .xxfi_close = cb_close,
    .xxfi_negotiate = cb_negotiate,
};
