/*
 * verdict - the one line per message that postmasters read
 *
 * To syslog (key=value, values quoted when needed):
 *   QUEUEID: verdict conn=3 client=192.0.2.1 ptr=mail.example.com
 *     helo=mail.example.com from=<a@example.com> rcpts=1 refused=0
 *     iprev=pass spf=pass spf_helo=pass dkim=none helo_check=pass
 *     helo_facts=syntax:pass,... auth=- action=accept rule=-
 *     elapsed_ms=12
 * and, with log_json, the same as one JSON object per line.
 *
 * Every key=value field goes through one writer: a value is bare when it
 * holds only printable ASCII other than '"', '\\' and '=', else quoted
 * (strbuf_add_logval), so a line parses to exactly the fields written,
 * whatever the client sent. "-" stands for no value. A client-chosen value
 * (client, ptr, helo, from, auth) takes at most 256 bytes; a cut one ends
 * in `..."` and its key is listed in truncated=. The quoting rules are
 * documented for postmasters in mailvet(8), LOGGING.
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

/* verdict_log - log the line, and append the JSON object when configured */
void verdict_log(const struct session *s, const struct verdict_info *vi);

struct strbuf;

/* verdict_text - append the key=value line (no newline) to out */
void verdict_text(const struct session *s, const struct verdict_info *vi,
                  struct strbuf *out);

/* verdict_json - append the JSON object and its newline to out */
void verdict_json(const struct session *s, const struct verdict_info *vi,
                  struct strbuf *out);

/* verdict_reopen - close the JSON log so the next line reopens it */
void verdict_reopen(void);

#endif
