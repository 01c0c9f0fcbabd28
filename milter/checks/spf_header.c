/*
 * spf_header - Received-SPF (RFC 7208 9.1) and Authentication-Results
 * (RFC 8601) values for an SPF outcome
 *
 * Client text (HELO, MAIL FROM, the record's reason) is written in one of
 * three safe forms: a dot-atom when it is one, else a quoted-string with
 * '"' and '\' as quoted-pairs, and inside comments with '(', ')' and '\'
 * as quoted-pairs. CR, LF, other controls and 8-bit octets become '?'.
 * So a hostile HELO can neither end the header, nor close a comment, nor
 * start another key=value or result.
 *
 * Functions: spf_received_spf, spf_authres (see spf.h).
 * Diagnostics: -1 when the buffer is too small (the text is then cut and
 * terminated), 0 otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "milter/checks/spf.h"

struct spf_buf {
	char *p;
	size_t len, used;
	int overflow;
};

/* spf_buf_putc - append one octet, remembering overflow */
static void
spf_buf_putc(struct spf_buf *b, char c)
{
	if (b->used + 1 >= b->len) {
		b->overflow = 1;
		return;
	}
	b->p[b->used++] = c;
	b->p[b->used] = '\0';
}

/* spf_buf_puts - append our own (trusted) text */
static void
spf_buf_puts(struct spf_buf *b, const char *s)
{
	while (*s != '\0')
		spf_buf_putc(b, *s++);
}

/* spf_safe - a printable ASCII octet, or '?' in its place */
static char
spf_safe(char c)
{
	unsigned char u = (unsigned char)c;

	return u >= 0x20 && u < 0x7f ? c : '?';
}

/* spf_is_atext - RFC 5322 atext */
static int
spf_is_atext(char c)
{
	unsigned char u = (unsigned char)c;

	if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
	    (u >= '0' && u <= '9'))
		return 1;
	return u != 0 && strchr("!#$%&'*+-/=?^_`{|}~", u) != NULL;
}

/* spf_is_dot_atom - 1*atext *("." 1*atext) */
static int
spf_is_dot_atom(const char *s)
{
	size_t run = 0;

	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (run == 0)
				return 0;
			run = 0;
		} else if (spf_is_atext(*s)) {
			run++;
		} else {
			return 0;
		}
	}
	return run > 0;
}

/* spf_buf_quoted - a quoted-string holding s */
static void
spf_buf_quoted(struct spf_buf *b, const char *s)
{
	spf_buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			spf_buf_putc(b, '\\');
		spf_buf_putc(b, spf_safe(*s));
	}
	spf_buf_putc(b, '"');
}

/* spf_buf_value - s as a dot-atom when it is one, else quoted */
static void
spf_buf_value(struct spf_buf *b, const char *s)
{
	if (spf_is_dot_atom(s))
		spf_buf_puts(b, s);
	else
		spf_buf_quoted(b, s);
}

/* spf_buf_ctext - client text inside a comment */
static void
spf_buf_ctext(struct spf_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '(' || *s == ')' || *s == '\\')
			spf_buf_putc(b, '\\');
		spf_buf_putc(b, spf_safe(*s));
	}
}

/* spf_mailbox - is "local@domain" a dot-atom "@" dot-atom */
static int
spf_mailbox(const char *s)
{
	char local[512];
	const char *at = strrchr(s, '@');
	size_t n;

	if (at == NULL || (n = (size_t)(at - s)) >= sizeof(local))
		return 0;
	memcpy(local, s, n);
	local[n] = '\0';
	return spf_is_dot_atom(local) && spf_is_dot_atom(at + 1);
}

/*
 * spf_template - our text with client values substituted: $S sender,
 * $I client address, $R reason; each goes through spf_buf_ctext.
 */
static void
spf_template(struct spf_buf *b, const char *tpl, const struct spf_outcome *o,
             const char *ip)
{
	for (; *tpl != '\0'; tpl++) {
		if (tpl[0] != '$' || tpl[1] == '\0') {
			spf_buf_putc(b, *tpl);
			continue;
		}
		tpl++;
		if (*tpl == 'S')
			spf_buf_ctext(b, o->sender);
		else if (*tpl == 'I')
			spf_buf_ctext(b, ip);
		else if (*tpl == 'R')
			spf_buf_ctext(b, o->reason);
	}
}

/* spf_comment - the human part of Received-SPF, in parentheses */
static void
spf_comment(struct spf_buf *b, const struct spf_outcome *o, const char *ip,
            const char *receiver)
{
	static const char *const tpl[RESULT_COUNT] = {
	    [RESULT_PASS] = "domain of $S designates $I as permitted sender",
	    [RESULT_FAIL] = "domain of $S does not designate $I as "
	                    "permitted sender",
	    [RESULT_SOFTFAIL] = "transitioning domain of $S does not "
	                        "designate $I as permitted sender",
	    [RESULT_NEUTRAL] = "$I is neither permitted nor denied by "
	                       "domain of $S",
	    [RESULT_NONE] = "domain of $S does not provide an SPF record",
	    [RESULT_POLICY] = "domain of $S: policy",
	    [RESULT_TEMPERROR] = "temporary error in processing during "
	                         "lookup of $S: $R",
	    [RESULT_PERMERROR] = "permanent error in processing during "
	                         "lookup of $S: $R",
	};

	spf_buf_putc(b, '(');
	if (receiver != NULL && receiver[0] != '\0') {
		spf_buf_ctext(b, receiver);
		spf_buf_puts(b, ": ");
	}
	spf_template(b, tpl[o->result < RESULT_COUNT ? o->result : RESULT_NONE],
	             o, ip);
	spf_buf_putc(b, ')');
}

/* spf_kv - "; key=value" (the first pair has no leading "; ") */
static void
spf_kv(struct spf_buf *b, const char *key, const char *value, int first)
{
	spf_buf_puts(b, first ? " " : "; ");
	spf_buf_puts(b, key);
	spf_buf_putc(b, '=');
	spf_buf_value(b, value);
}

int
spf_received_spf(const struct spf_outcome *o, const struct netaddr *ip,
                 const char *helo, const char *receiver, char *buf, size_t len)
{
	struct spf_buf b = {buf, len, 0, 0};
	char addr[NETADDR_TEXT_MAX] = "";
	int mailfrom;

	if (buf == NULL || len == 0 || o == NULL)
		return -1;
	buf[0] = '\0';
	if (ip != NULL && ip->family != 0)
		netaddr_format(ip, addr, sizeof(addr));
	/* The null sender's identity is postmaster@HELO (RFC 7208 2.4). */
	mailfrom = strcmp(o->identity, "mailfrom") == 0 && !o->null_sender;
	spf_buf_puts(&b, result_name(o->result));
	spf_buf_putc(&b, ' ');
	spf_comment(&b, o, addr, receiver);
	spf_kv(&b, "client-ip", addr, 1);
	spf_kv(&b, "envelope-from",
	       mailfrom && !o->null_sender ? o->sender : "", 0);
	spf_kv(&b, "helo", helo != NULL ? helo : "", 0);
	if (receiver != NULL && receiver[0] != '\0')
		spf_kv(&b, "receiver", receiver, 0);
	spf_kv(&b, "identity", mailfrom ? "mailfrom" : "helo", 0);
	if ((o->result == RESULT_PERMERROR || o->result == RESULT_TEMPERROR) &&
	    o->reason[0] != '\0')
		spf_kv(&b, "problem", o->reason, 0);
	spf_buf_putc(&b, ';');
	return b.overflow ? -1 : 0;
}

int
spf_authres(const struct spf_outcome *o, char *buf, size_t len)
{
	struct spf_buf b = {buf, len, 0, 0};
	const char *at;

	if (buf == NULL || len == 0 || o == NULL)
		return -1;
	buf[0] = '\0';
	spf_buf_puts(&b, "spf=");
	spf_buf_puts(&b, result_name(o->result));
	if (strcmp(o->identity, "helo") == 0) {
		at = strrchr(o->sender, '@');
		spf_buf_puts(&b, " smtp.helo=");
		spf_buf_value(&b, at != NULL ? at + 1 : o->sender);
	} else if (o->sender[0] != '\0') {
		spf_buf_puts(&b, " smtp.mailfrom=");
		if (spf_mailbox(o->sender))
			spf_buf_puts(&b, o->sender);
		else
			spf_buf_quoted(&b, o->sender);
	}
	return b.overflow ? -1 : 0;
}
