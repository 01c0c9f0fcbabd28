/*
 * authres - build the Authentication-Results value (see authres.h)
 */
#include "milter/authres.h"

#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"

#define CLIENT_TEXT_MAX 255 /* bound on client text copied into a header */

/* add_iprev - "iprev=R policy.iprev=IP (name or reason)" */
static void
add_iprev(struct strbuf *sb, const struct session *s)
{
	const struct iprev_check *c = &s->iprev;

	strbuf_addf(sb, ";\n\tiprev=%s policy.iprev=", result_name(c->result));
	strbuf_add_mime_value(sb, s->ip_text, 0);
	if (c->result == RESULT_PASS) {
		strbuf_add(sb, " (");
		strbuf_add_comment_text(sb, c->name, CLIENT_TEXT_MAX);
		strbuf_add(sb, ")");
		return;
	}
	strbuf_add(sb, " (");
	if (c->name[0] != '\0') {
		strbuf_add_comment_text(sb, c->name, CLIENT_TEXT_MAX);
		strbuf_add(sb, ": ");
	}
	strbuf_add_comment_text(sb, c->reason[0] ? c->reason : "no result", 0);
	strbuf_add(sb, ")");
}

/* add_helo - "x-helo=R smtp.helo=NAME (fact=R ...)" */
static void
add_helo(struct strbuf *sb, const struct session *s)
{
	const struct helo_check *h = s->helo;

	if (h == NULL || h->name[0] == '\0') {
		strbuf_add(sb, ";\n\tx-helo=none");
		return;
	}
	strbuf_addf(sb,
	            ";\n\tx-helo=%s smtp.helo=", result_name(helo_summary(h)));
	strbuf_add_mime_value(sb, h->name, CLIENT_TEXT_MAX);
	strbuf_add(sb, " (");
	for (int f = 0; f < HELO_NFACTS; f++)
		strbuf_addf(sb, "%s%s=%s", f ? " " : "",
		            helo_fact_name((enum helo_fact)f),
		            result_name(h->facts[f]));
	if (h->reason[0] != '\0') {
		strbuf_add(sb, "; ");
		strbuf_add_comment_text(sb, h->reason, 0);
	}
	strbuf_add(sb, ")");
}

/* add_spf - "spf=R smtp.mailfrom=ADDR (reason)" of a joined job */
static void
add_spf(struct strbuf *sb, const struct spf_job *job)
{
	if (!job->started || !job->joined)
		return;
	strbuf_add(sb, ";\n\t");
	spf_authres_add(&job->out, sb);
	if (job->out.result != RESULT_PASS && job->out.reason[0] != '\0') {
		strbuf_add(sb, " (");
		strbuf_add_comment_text(sb, job->out.reason, 0);
		strbuf_add(sb, ")");
	}
}

/* add_dkim - one dkim= per signature, or dkim=none */
static void
add_dkim(struct strbuf *sb, const struct session *s)
{
	if (s->msg.dkim == NULL || !s->msg.dkim_done)
		return;
	strbuf_add(sb, ";\n\t");
	dkim_authres(s->msg.dkim, sb);
}

/* add_auth - "auth=pass smtp.auth=USER" */
static void
add_auth(struct strbuf *sb, const struct session *s)
{
	strbuf_add(sb, ";\n\tauth=pass smtp.auth=");
	strbuf_add_mime_value(sb, s->auth_user, CLIENT_TEXT_MAX);
}

/* authres_value - see authres.h */
char *
authres_value(const struct session *s)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_add_mime_value(&sb, s->snap.conf->authserv_id, 0);
	if (s->trusted) {
		strbuf_add(&sb, "; none");
		return strbuf_take(&sb);
	}
	if (s->authenticated)
		add_auth(&sb, s);
	if (!session_checks_skipped(s)) {
		add_iprev(&sb, s);
		add_spf(&sb, &s->msg.spf);
		add_spf(&sb, &s->spf_helo);
		add_dkim(&sb, s);
		add_helo(&sb, s);
		if (s->dnsbl != NULL)
			dnsbl_authres(s->dnsbl, &sb);
		if (s->rhsbl != NULL)
			dnsbl_authres(s->rhsbl, &sb);
	}
	return strbuf_take(&sb);
}
