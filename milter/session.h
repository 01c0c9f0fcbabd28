/*
 * session - what mailvet knows about one SMTP connection and its current
 * message, independent of libmilter: callbacks.c turns libmilter's
 * arguments into calls here, apply.c turns the outcome back into replies
 * and header edits.
 *
 * Lifetime: session_new at connect, session_free at close. A message
 * starts at MAIL FROM (session_mail) and ends at end-of-message or abort
 * (session_message_end). The conf and rules are re-read at each MAIL FROM,
 * so a reload applies to the next message; the message in flight keeps
 * what it started with.
 *
 * Ownership: the session owns its resolver, checks and strings. The
 * resolver is freed first in session_free because DNS callbacks point
 * into the checks.
 */
#ifndef MAILVET_SESSION_H
#define MAILVET_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "lib/netaddr.h"
#include "milter/checks/dkim.h"
#include "milter/checks/dnsbl.h"
#include "milter/checks/helo.h"
#include "milter/checks/iprev.h"
#include "milter/checks/spf_job.h"
#include "milter/runtime.h"
#include "rules/rules.h"

#define SESSION_MAX_FORGED 32

struct session_message {
	int active;
	char queue_id[64];
	char *mailfrom; /* without <>; "" for the null sender */
	char **rcpts;   /* accepted recipients */
	size_t nrcpts;
	char *current_rcpt; /* the one being decided */
	uint64_t start_ms;
	size_t ar_seen; /* Authentication-Results headers seen */
	size_t forged[SESSION_MAX_FORGED]; /* 1-based indexes with our id */
	size_t nforged;
	size_t refused; /* recipients refused by rules */
	int logged;     /* the verdict line is written */
	enum rules_action refused_action;
	char *refused_rule;
	struct spf_job spf;    /* MAIL FROM identity (HELO for <>) */
	struct dkim_msg *dkim; /* DKIM verification, or NULL */
	uint64_t eoh_ms;       /* end of headers: DKIM keys asked for */
	int dkim_done;         /* dkim_msg_eom ran */
};

struct session {
	unsigned long id;
	struct runtime_snapshot snap; /* conf + rules for the message */
	struct dns_resolver *dns;
	struct netaddr ip;
	int have_ip;
	char ip_text[NETADDR_TEXT_MAX];
	unsigned connections; /* from this IP, this one included */
	int trusted;
	int authenticated;
	char auth_user[256];
	char tls[32];
	uint64_t connect_ms;
	struct iprev_check iprev;
	struct helo_check *helo;       /* the latest HELO's check */
	struct helo_check **old_helos; /* superseded, freed at the end */
	struct spf_job spf_helo;       /* SPF of the HELO identity */
	struct dnsbl_check *dnsbl;     /* client IP lists, or NULL */
	struct dnsbl_check *rhsbl;     /* domain lists, or NULL */
	int rhsbl_ptr_fed;  /* the verified PTR name was handed over */
	char *dnsbl_reason; /* TXT reasons, once a rule read them */
	char *rhsbl_reason;
	size_t nold_helos;
	int internal_error;
	char error_reason[128];
	int exact_headers;     /* header values keep their leading space */
	enum stage eval_stage; /* stage the rules are evaluated at */
	struct session_message msg;
};

struct session *session_new(const struct sockaddr *addr);
void session_free(struct session *s);

void session_helo(struct session *s, const char *helo);
void session_set_auth(struct session *s, const char *user);
void session_set_tls(struct session *s, const char *version);
int session_mail(struct session *s, const char *mailfrom);
void session_start_mail_checks(struct session *s);
void session_set_queue_id(struct session *s, const char *id);

/*
 * session_rcpt - RCPT TO's argument becomes the recipient being decided
 * (0, or -1 out of memory); then session_rcpt_accept (it joins the
 * message's recipients; -1 out of memory) or session_rcpt_refuse (the
 * refusal is counted and its first rule kept for the verdict line).
 */
int session_rcpt(struct session *s, const char *arg);
int session_rcpt_accept(struct session *s);
void session_rcpt_refuse(struct session *s, const struct rules_verdict *v);
void session_header(struct session *s, const char *name, const char *value);
void session_eoh(struct session *s);
void session_body(struct session *s, const unsigned char *buf, size_t len);
void session_message_end(struct session *s);

/* session_spf - the SPF outcomes (joined: may wait up to the deadline) */
const struct spf_outcome *session_spf_mailfrom(struct session *s);
const struct spf_outcome *session_spf_helo(struct session *s);

/* session_checks_skipped - trusted or authenticated: no checks run */
int session_checks_skipped(const struct session *s);

/*
 * session_settle_dkim - verify the message's signatures (bounded). Only at
 * end of message: session_settle, which rules may call from RCPT on, does
 * not touch DKIM.
 */
void session_settle_dkim(struct session *s);

/* session_settle_lists - DNSBL and RHSBL results (bounded wait) */
void session_settle_lists(struct session *s);

/* session_settle - wait (bounded) until every check has a result */
void session_settle(struct session *s);

/* session_evaluate - run the rules for stage; 0 ok, -1 internal error */
int session_evaluate(struct session *s, enum stage stage,
                     struct rules_verdict *out);

/* session_fact - the rules' fact provider (rules_fact_fn) */
int session_fact(void *ctx, const struct fact_def *def, struct fact_value *out);

/* session_fact_known - the fact has a getter (every one but "score") */
int session_fact_known(const struct fact_def *def);

/* session_fail - note an internal error (the failure policy applies) */
void session_fail(struct session *s, const char *reason);

#endif
