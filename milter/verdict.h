/*
 * verdict - the one line per message that postmasters read
 *
 * To syslog (key=value, values quoted when needed):
 *   QUEUEID: verdict conn=3 client=192.0.2.1 ptr=mail.example.com
 *     helo=mail.example.com from=<a@example.com> rcpts=1 iprev=pass
 *     helo_check=pass helo_facts=syntax:pass,... auth=- action=accept
 *     rule=- elapsed_ms=12
 * and, with log_json, the same as one JSON object per line.
 */
#ifndef MAILVET_VERDICT_H
#define MAILVET_VERDICT_H

#include "milter/session.h"

struct verdict_info {
	const char *action; /* accept, reject, tempfail, discard, ... */
	const char *rule;   /* deciding rule or NULL */
	const char *would;  /* dry run: the would-be action, or NULL */
	const char *reason; /* internal error text or NULL */
	unsigned refused;   /* recipients refused by rules */
};

void verdict_log(const struct session *s, const struct verdict_info *vi);

/* verdict_reopen - close the JSON log so the next line reopens it */
void verdict_reopen(void);

#endif
