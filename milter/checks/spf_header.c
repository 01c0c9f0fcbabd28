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

#include "lib/strbuf.h"
#include "milter/checks/spf.h"

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

/* spf_value - s as a dot-atom when it is one, else quoted */
static void
spf_value(struct strbuf *b, const char *s)
{
	if (spf_is_dot_atom(s))
		strbuf_add(b, s);
	else
		strbuf_add_quoted(b, s, 0);
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
 * $I client address, $R reason; each goes through strbuf_add_comment_text.
 */
static void
spf_template(struct strbuf *b, const char *tpl, const struct spf_outcome *o,
             const char *ip)
{
	for (; *tpl != '\0'; tpl++) {
		if (tpl[0] != '$' || tpl[1] == '\0') {
			strbuf_addc(b, *tpl);
			continue;
		}
		tpl++;
		if (*tpl == 'S')
			strbuf_add_comment_text(b, o->sender, 0);
		else if (*tpl == 'I')
			strbuf_add_comment_text(b, ip, 0);
		else if (*tpl == 'R')
			strbuf_add_comment_text(b, o->reason, 0);
	}
}

/* spf_comment - the human part of Received-SPF, in parentheses */
static void
spf_comment(struct strbuf *b, const struct spf_outcome *o, const char *ip,
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

	strbuf_addc(b, '(');
	if (receiver != NULL && receiver[0] != '\0') {
		strbuf_add_comment_text(b, receiver, 0);
		strbuf_add(b, ": ");
	}
	spf_template(b, tpl[o->result < RESULT_COUNT ? o->result : RESULT_NONE],
	             o, ip);
	strbuf_addc(b, ')');
}

/* spf_kv - "; key=value" (the first pair has no leading "; ") */
static void
spf_kv(struct strbuf *b, const char *key, const char *value, int first)
{
	strbuf_add(b, first ? " " : "; ");
	strbuf_add(b, key);
	strbuf_addc(b, '=');
	spf_value(b, value);
}

void
spf_received_spf_add(const struct spf_outcome *o, const struct netaddr *ip,
                     const char *helo, const char *receiver, struct strbuf *b)
{
	char addr[NETADDR_TEXT_MAX] = "";
	int mailfrom;

	if (ip != NULL && ip->family != 0)
		netaddr_format(ip, addr, sizeof(addr));
	/* The null sender's identity is postmaster@HELO (RFC 7208 2.4). */
	mailfrom = strcmp(o->identity, "mailfrom") == 0 && !o->null_sender;
	strbuf_add(b, result_name(o->result));
	strbuf_addc(b, ' ');
	spf_comment(b, o, addr, receiver);
	spf_kv(b, "client-ip", addr, 1);
	spf_kv(b, "envelope-from", mailfrom && !o->null_sender ? o->sender : "",
	       0);
	spf_kv(b, "helo", helo != NULL ? helo : "", 0);
	if (receiver != NULL && receiver[0] != '\0')
		spf_kv(b, "receiver", receiver, 0);
	spf_kv(b, "identity", mailfrom ? "mailfrom" : "helo", 0);
	if ((o->result == RESULT_PERMERROR || o->result == RESULT_TEMPERROR) &&
	    o->reason[0] != '\0')
		spf_kv(b, "problem", o->reason, 0);
	strbuf_addc(b, ';');
}

int
spf_received_spf(const struct spf_outcome *o, const struct netaddr *ip,
                 const char *helo, const char *receiver, char *buf, size_t len)
{
	struct strbuf b;
	int rc;

	if (buf == NULL || len == 0 || o == NULL)
		return -1;
	strbuf_init(&b);
	spf_received_spf_add(o, ip, helo, receiver, &b);
	rc = strbuf_copy_out(&b, buf, len);
	strbuf_free(&b);
	return rc;
}

void
spf_authres_add(const struct spf_outcome *o, struct strbuf *b)
{
	const char *at;

	strbuf_add(b, "spf=");
	strbuf_add(b, result_name(o->result));
	if (strcmp(o->identity, "helo") == 0) {
		at = strrchr(o->sender, '@');
		strbuf_add(b, " smtp.helo=");
		spf_value(b, at != NULL ? at + 1 : o->sender);
	} else if (o->sender[0] != '\0') {
		strbuf_add(b, " smtp.mailfrom=");
		if (spf_mailbox(o->sender))
			strbuf_add(b, o->sender);
		else
			strbuf_add_quoted(b, o->sender, 0);
	}
}

int
spf_authres(const struct spf_outcome *o, char *buf, size_t len)
{
	struct strbuf b;
	int rc;

	if (buf == NULL || len == 0 || o == NULL)
		return -1;
	strbuf_init(&b);
	spf_authres_add(o, &b);
	rc = strbuf_copy_out(&b, buf, len);
	strbuf_free(&b);
	return rc;
}
