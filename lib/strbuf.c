/*
 * strbuf - a growable, always NUL-terminated string builder (strbuf.h)
 */
#include "lib/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* strbuf_init - an empty builder */
void
strbuf_init(struct strbuf *sb)
{
	sb->data = NULL;
	sb->len = sb->cap = 0;
	sb->failed = 0;
}

/* strbuf_free - release the buffer */
void
strbuf_free(struct strbuf *sb)
{
	free(sb->data);
	strbuf_init(sb);
}

/* strbuf_reserve - make room for n more bytes plus the NUL */
static int
strbuf_reserve(struct strbuf *sb, size_t n)
{
	size_t want, cap;
	char *grown;

	if (sb->failed)
		return -1;
	if (n > ((size_t)-1) / 2 - sb->len) {
		sb->failed = 1;
		return -1;
	}
	want = sb->len + n + 1;
	if (want <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < want)
		cap *= 2;
	grown = realloc(sb->data, cap);
	if (grown == NULL) {
		sb->failed = 1;
		return -1;
	}
	sb->data = grown;
	sb->cap = cap;
	return 0;
}

/* strbuf_addn - append n bytes */
void
strbuf_addn(struct strbuf *sb, const char *s, size_t n)
{
	if (strbuf_reserve(sb, n) != 0)
		return;
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

/* strbuf_add - append a string */
void
strbuf_add(struct strbuf *sb, const char *s)
{
	strbuf_addn(sb, s, strlen(s));
}

/* strbuf_addc - append one byte */
void
strbuf_addc(struct strbuf *sb, char c)
{
	strbuf_addn(sb, &c, 1);
}

/* strbuf_addf - append formatted text */
void
strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || strbuf_reserve(sb, (size_t)n) != 0) {
		sb->failed = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

/* strbuf_failed - did any append run out of memory */
int
strbuf_failed(const struct strbuf *sb)
{
	return sb->failed;
}

/* strbuf_str - the text so far */
const char *
strbuf_str(const struct strbuf *sb)
{
	return sb->data ? sb->data : "";
}

/* strbuf_take - hand the buffer over; the builder is left empty */
char *
strbuf_take(struct strbuf *sb)
{
	char *s;

	if (sb->failed) {
		strbuf_free(sb);
		return NULL;
	}
	s = sb->data ? sb->data : strdup("");
	strbuf_init(sb);
	return s;
}

/* is_printable - printable ASCII, space excluded */
static int
is_printable(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* is_mime_token - RFC 2045 token byte */
static int
is_mime_token(unsigned char c)
{
	return is_printable(c) && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* strbuf_add_quoted - a quoted-string (see strbuf.h) */
void
strbuf_add_quoted(struct strbuf *sb, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (max > 0 && n > max)
		n = max;
	strbuf_addc(sb, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			strbuf_addc(sb, '\\');
		strbuf_addc(sb, (is_printable(c) || c == ' ') ? (char)c : '?');
	}
	strbuf_addc(sb, '"');
}

/* strbuf_copy_out - the text into a fixed buffer; -1 when cut */
int
strbuf_copy_out(const struct strbuf *sb, char *buf, size_t len)
{
	size_t n = sb->len < len - 1 ? sb->len : len - 1;

	memcpy(buf, strbuf_str(sb), n);
	buf[n] = '\0';
	return sb->failed || n < sb->len ? -1 : 0;
}

/* strbuf_add_mime_value - token or quoted-string (see strbuf.h) */
void
strbuf_add_mime_value(struct strbuf *sb, const char *s, size_t max)
{
	size_t n = strlen(s), i;
	int token = n > 0;

	if (max > 0 && n > max)
		n = max;
	for (i = 0; i < n && token; i++)
		token = is_mime_token((unsigned char)s[i]);
	if (token) {
		strbuf_addn(sb, s, n);
		return;
	}
	strbuf_add_quoted(sb, s, n);
}

/* strbuf_add_comment_text - text safe inside "( ... )" */
void
strbuf_add_comment_text(struct strbuf *sb, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (max > 0 && n > max)
		n = max;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '(' || c == ')' || c == '\\')
			strbuf_addc(sb, '\\');
		strbuf_addc(sb, (is_printable(c) || c == ' ') ? (char)c : '?');
	}
}

/* strbuf_add_json - a JSON string literal */
void
strbuf_add_json(struct strbuf *sb, const char *s)
{
	strbuf_addc(sb, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			strbuf_addc(sb, '\\');
			strbuf_addc(sb, (char)c);
		} else if (c < 0x20 || c == 0x7f || c >= 0x80) {
			/* Client bytes are not promised to be UTF-8. */
			strbuf_addf(sb, "\\u%04x", c);
		} else {
			strbuf_addc(sb, (char)c);
		}
	}
	strbuf_addc(sb, '"');
}

/* logval_bare - whether b can stand unquoted in a key=value value */
static int
logval_bare(unsigned char b)
{
	return is_printable(b) && b != '"' && b != '\\' && b != '=';
}

/*
 * logval_char - b as written inside a quoted log value, into out (5 bytes
 * with the NUL); returns the length. Named escapes are a table so that the
 * rule reads the same here and in mailvet(8).
 */
static size_t
logval_char(unsigned char b, char out[5])
{
	static const struct {
		unsigned char byte;
		char name;
	} named[] = {
	    {'"', '"'}, {'\\', '\\'}, {'\n', 'n'}, {'\r', 'r'}, {'\t', 't'}};

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (named[i].byte == b) {
			out[0] = '\\';
			out[1] = named[i].name;
			out[2] = '\0';
			return 2;
		}
	}
	if (b < 0x20 || b >= 0x7f) {
		snprintf(out, 5, "\\x%02x", b);
		return 4;
	}
	out[0] = (char)b;
	out[1] = '\0';
	return 1;
}

/* strbuf_add_logval - a key=value value that a parser can split safely */
int
strbuf_add_logval(struct strbuf *sb, const char *s, size_t max)
{
	size_t n = strlen(s), need = 2, room, i;
	int bare = n > 0, cut;
	char esc[5];

	for (i = 0; i < n; i++) {
		bare = bare && logval_bare((unsigned char)s[i]);
		need += logval_char((unsigned char)s[i], esc);
	}
	if (bare && (max == 0 || n <= max)) {
		strbuf_addn(sb, s, n);
		return 0;
	}
	if (max > 0 && max < STRBUF_LOGVAL_MIN)
		max = STRBUF_LOGVAL_MIN;
	/* A cut keeps whole escapes only, and room for the closing `..."`. */
	cut = max > 0 && need > max;
	room = cut ? max - 5 : (size_t)-1;
	strbuf_addc(sb, '"');
	for (i = 0; i < n; i++) {
		size_t len = logval_char((unsigned char)s[i], esc);
		if (len > room)
			break;
		strbuf_addn(sb, esc, len);
		room -= len;
	}
	strbuf_add(sb, cut ? "...\"" : "\"");
	return cut;
}
