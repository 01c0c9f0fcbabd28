/*
 * strbuf - a growable, always NUL-terminated string builder
 *
 * Functions: strbuf_init, strbuf_free, strbuf_add, strbuf_addf,
 * strbuf_addc, strbuf_take (hand the buffer to the caller).
 *
 * Out of memory is sticky: the builder stops growing and strbuf_failed()
 * reports it, so callers check once at the end instead of after each add.
 *
 * The escape helpers write text that came from a client into a specific
 * syntax so that it can never change the structure around it.
 */
#ifndef MAILVET_STRBUF_H
#define MAILVET_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *data;
	size_t len, cap;
	int failed;
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const char *s);
void strbuf_addn(struct strbuf *sb, const char *s, size_t n);
void strbuf_addc(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int strbuf_failed(const struct strbuf *sb);
const char *strbuf_str(const struct strbuf *sb); /* "" when empty */
char *strbuf_take(struct strbuf *sb); /* caller frees; NULL if failed */

/*
 * RFC 8601 / RFC 2045 value: a token when every byte is a token byte,
 * else a quoted-string with '"' and '\\' escaped. Bytes outside printable
 * ASCII become '?'. max bounds the client text copied (0 = no bound).
 */
void strbuf_add_mime_value(struct strbuf *sb, const char *s, size_t max);

/* quoted-string: '"' and '\\' escaped, non-printables -> '?' */
void strbuf_add_quoted(struct strbuf *sb, const char *s, size_t max);

/* strbuf_copy_out - into buf (len > 0), cut and terminated; -1 if cut */
int strbuf_copy_out(const struct strbuf *sb, char *buf, size_t len);

/* RFC 5322 comment content: '(', ')', '\\' escaped, controls -> '?' */
void strbuf_add_comment_text(struct strbuf *sb, const char *s, size_t max);

/* JSON string, quotes included */
void strbuf_add_json(struct strbuf *sb, const char *s);

/*
 * key=value (logfmt) value, so that a line splits into exactly the fields
 * it was built from. Bare when s is not empty and every byte is printable
 * ASCII other than '"', '\\' and '='; otherwise in double quotes with
 * \" \\ \n \r \t, and \xHH (lower-case hex) for every other byte below
 * 0x20, for 0x7f and for every byte >= 0x80 (client text is not promised
 * to be UTF-8, and the line stays ASCII). "" is the empty string.
 *
 * max > 0 bounds the bytes written, quotes included (at least
 * STRBUF_LOGVAL_MIN): a value that does not fit is written quoted, cut
 * after the last whole character or escape that fits, and ends in `..."`.
 * Returns 1 when it cut the value, else 0.
 */
#define STRBUF_LOGVAL_MIN 5
int strbuf_add_logval(struct strbuf *sb, const char *s, size_t max);

#endif
