/*
 * apply - the only place that talks back to the MTA: replies, header
 * edits, quarantine. Part of the libmilter glue with callbacks.c.
 */
#ifndef MAILVET_APPLY_H
#define MAILVET_APPLY_H

#include <libmilter/mfapi.h>

#include "milter/session.h"

/*
 * apply_reply - set the SMTP reply for a refusal. The text is cleaned:
 * controls become spaces and '%' is doubled (libmilter's convention), so
 * nothing a client sent can break the reply. Defaults when code is 0:
 * reject 550 5.7.1, tempfail 451 4.7.1.
 */
int apply_reply(SMFICTX *ctx, enum rules_action action, unsigned code,
                const char *xcode, const char *text);

/* apply_remove_forged - delete Authentication-Results with our id */
int apply_remove_forged(SMFICTX *ctx, const struct session *s);

/*
 * apply_headers - Authentication-Results at the top, then the rules'
 * add-header actions and the dry-run notice. v may be NULL.
 */
int apply_headers(SMFICTX *ctx, const struct session *s,
                  const struct rules_verdict *v);

int apply_quarantine(SMFICTX *ctx, const char *reason);

#endif
