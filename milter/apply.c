/*
 * apply - replies, header edits and quarantine (see apply.h)
 */
#include "milter/apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"
#include "milter/authres.h"
#include "milter/log.h"

#define DRY_RUN_HEADER "X-Mailvet-Dry-Run"

/* clean_text - printable, '%' doubled, bounded */
static char *
clean_text(const char *text)
{
	struct strbuf sb;

	strbuf_init(&sb);
	for (size_t i = 0; text[i] != '\0' && i < 400; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '%')
			strbuf_add(&sb, "%%");
		else
			strbuf_addc(&sb,
			            (c < 0x20 || c >= 0x7f) ? ' ' : (char)c);
	}
	return strbuf_take(&sb);
}

/* apply_reply - see apply.h */
int
apply_reply(SMFICTX *ctx, enum rules_action action, unsigned code,
            const char *xcode, const char *text)
{
	int reject = action == RULES_REJECT;
	char rcode[12];
	char *msg;
	int rc;

	if (code == 0)
		code = reject ? 550 : 451;
	if (xcode == NULL || *xcode == '\0')
		xcode = reject ? "5.7.1" : "4.7.1";
	if (text == NULL || *text == '\0')
		text = reject ? "Message rejected by policy"
		              : "Temporary failure, try again later";
	snprintf(rcode, sizeof(rcode), "%u", code);
	msg = clean_text(text);
	if (msg == NULL)
		return -1;
	rc = smfi_setreply(ctx, rcode, (char *)xcode, msg);
	free(msg);
	return rc == MI_SUCCESS ? 0 : -1;
}

/* apply_remove_forged - highest index first: indexes shift on delete */
int
apply_remove_forged(SMFICTX *ctx, const struct session *s)
{
	int rc = 0;

	for (size_t i = s->msg.nforged; i > 0; i--) {
		int idx = (int)s->msg.forged[i - 1];
		if (smfi_chgheader(ctx, "Authentication-Results", idx, NULL) !=
		    MI_SUCCESS) {
			log_err("%s: cannot remove Authentication-Results #%d",
			        s->msg.queue_id, idx);
			rc = -1;
		}
	}
	return rc;
}

/*
 * put_header - add a header at the top (top != 0) or the end. mailvet
 * asks for SMFIP_HDR_LEADSPC so that DKIM sees header values exactly;
 * with it granted the MTA also writes the values a filter adds exactly
 * as given, so the space after the colon must come from us.
 */
static int
put_header(SMFICTX *ctx, const struct session *s, int top, const char *name,
           const char *value)
{
	struct strbuf sb;
	int rc;

	strbuf_init(&sb);
	if (s->exact_headers)
		strbuf_add(&sb, " ");
	strbuf_add(&sb, value);
	if (strbuf_failed(&sb)) {
		strbuf_free(&sb);
		return -1;
	}
	if (top)
		rc = smfi_insheader(ctx, 0, (char *)name,
		                    (char *)strbuf_str(&sb));
	else
		rc = smfi_addheader(ctx, (char *)name, (char *)strbuf_str(&sb));
	strbuf_free(&sb);
	return rc == MI_SUCCESS ? 0 : -1;
}

/* add_dry_run_header - what would have happened */
static int
add_dry_run_header(SMFICTX *ctx, const struct session *s,
                   const struct rules_verdict *v)
{
	struct strbuf sb;
	int rc;

	strbuf_init(&sb);
	strbuf_addf(&sb, "would %s (rule \"", rules_action_name(v->action));
	strbuf_add_comment_text(&sb, v->rule ? v->rule : "-", 200);
	strbuf_add(&sb, "\"");
	if (v->code != 0)
		strbuf_addf(&sb, ": %u %s", v->code, v->xcode);
	if (v->text != NULL) {
		strbuf_add(&sb, " ");
		strbuf_add_comment_text(&sb, v->text, 400);
	}
	strbuf_add(&sb, ")");
	if (strbuf_failed(&sb)) {
		strbuf_free(&sb);
		return -1;
	}
	rc = put_header(ctx, s, 0, DRY_RUN_HEADER, strbuf_str(&sb));
	strbuf_free(&sb);
	return rc;
}

/* add_received_spf - RFC 7208 9.1 trace header for the MAIL FROM check */
static int
add_received_spf(SMFICTX *ctx, const struct session *s)
{
	const struct spf_job *job = &s->msg.spf;
	struct strbuf sb;
	int rc;

	if (!job->started || !job->joined || session_checks_skipped(s))
		return 0;
	strbuf_init(&sb);
	spf_received_spf_add(&job->out, &s->ip, s->helo ? s->helo->name : "",
	                     s->snap.conf->authserv_id, &sb);
	rc = strbuf_failed(&sb)
	         ? -1
	         : put_header(ctx, s, 1, "Received-SPF", strbuf_str(&sb));
	strbuf_free(&sb);
	return rc;
}

/* apply_headers - see apply.h */
int
apply_headers(SMFICTX *ctx, const struct session *s,
              const struct rules_verdict *v)
{
	char *ar;
	int rc = 0;

	if (v != NULL) {
		for (size_t i = 0; i < v->nheaders; i++)
			if (put_header(ctx, s, 0, v->headers[i].name,
			               v->headers[i].value) != 0)
				rc = -1;
		if (v->dry_run && add_dry_run_header(ctx, s, v) != 0)
			rc = -1;
	}
	if (add_received_spf(ctx, s) != 0)
		rc = -1;
	ar = authres_value(s);
	if (ar == NULL)
		return -1;
	if (put_header(ctx, s, 1, "Authentication-Results", ar) != 0)
		rc = -1;
	free(ar);
	return rc;
}

/* apply_quarantine - hold the message in the MTA's quarantine */
int
apply_quarantine(SMFICTX *ctx, const char *reason)
{
	char *r = clean_text(reason && *reason ? reason : "mailvet");
	int rc;

	if (r == NULL)
		return -1;
	rc = smfi_quarantine(ctx, r);
	free(r);
	return rc == MI_SUCCESS ? 0 : -1;
}
