/*
 * spf_record - strict RFC 7208 (section 12) validator for SPF records
 *
 * libspf2 1.2.10 compiles records with a parser that crashes on crafted
 * macro strings (CVE-2023-42118, unpatched in Debian 12) and accepts
 * some invalid syntax. Every record fetched from DNS passes through
 * spf_record_check() first; a record that fails is a permerror and never
 * reaches libspf2. The checker walks the text once through a cursor that
 * knows its end; it allocates nothing.
 *
 * Functions: spf_record_check, spf_explain_check, spf_domain_check,
 * spf_record_is_spf1 (see spf.h).
 *
 * Diagnostics: -1 with a short English reason copied into the caller's
 * buffer (truncated to fit).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "milter/checks/spf.h"

#define SPF_IP6_TEXT_MAX 46

struct spf_span {
	const char *p;
	size_t n;
};

struct spf_seen {
	int redirect;
	int exp;
};

/* spf_why - copy a reason for the caller and return -1 */
static int
spf_why(char *why, size_t whylen, const char *text, struct spf_span term)
{
	int n = term.n > 64 ? 64 : (int)term.n;

	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s: \"%.*s\"", text, n,
		         term.p != NULL ? term.p : "");
	return -1;
}

/* spf_is_alpha - ASCII letter, locale-independent */
static int
spf_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* spf_is_digit - ASCII digit */
static int
spf_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* spf_is_alnum - ASCII letter or digit */
static int
spf_is_alnum(int c)
{
	return spf_is_alpha(c) || spf_is_digit(c);
}

/* spf_span_eq - case-insensitive comparison of a span with a word */
static int
spf_span_eq(struct spf_span s, const char *word)
{
	return strlen(word) == s.n && strncasecmp(s.p, word, s.n) == 0;
}

/*
 * spf_number - parse "0" / [1-9]DIGIT* of at most maxlen digits into *out.
 * Leading zeros are refused, as the ABNF of CIDR lengths does.
 */
static int
spf_number(struct spf_span s, size_t maxlen, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (s.n == 0 || s.n > maxlen || (s.n > 1 && s.p[0] == '0'))
		return -1;
	for (i = 0; i < s.n; i++) {
		if (!spf_is_digit((unsigned char)s.p[i]))
			return -1;
		v = v * 10 + (unsigned)(s.p[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * spf_macro_expand - check one "%..." token at s->p[*i]; advance *i past
 * it. exp allows the c, r and t letters (RFC 7208 7.2). Transformer
 * digits must be 1..128 (7.3: zero is not allowed; 128 must work).
 */
static int
spf_macro_expand(struct spf_span s, size_t *i, int exp)
{
	const char *letters = exp ? "slodiphcrtv" : "slodiphv";
	size_t j = *i + 1, d0;
	unsigned digits;
	int c;

	if (j >= s.n)
		return -1;
	if (s.p[j] == '%' || s.p[j] == '_' || s.p[j] == '-') {
		*i = j + 1;
		return 0;
	}
	if (s.p[j] != '{' || ++j >= s.n)
		return -1;
	c = tolower((unsigned char)s.p[j]);
	if (c == 0 || strchr(letters, c) == NULL)
		return -1;
	for (d0 = ++j; j < s.n && spf_is_digit((unsigned char)s.p[j]); j++)
		;
	if (j > d0 &&
	    (spf_number((struct spf_span){s.p + d0, j - d0}, 3, &digits) < 0 ||
	     digits == 0 || digits > 128))
		return -1;
	if (j < s.n && (s.p[j] == 'r' || s.p[j] == 'R'))
		j++;
	while (j < s.n && strchr(".-+,/_=", s.p[j]) != NULL && s.p[j] != 0)
		j++;
	if (j >= s.n || s.p[j] != '}')
		return -1;
	*i = j + 1;
	return 0;
}

/*
 * spf_macro_string - check a macro-string (explain: SP allowed too).
 * *tail is set to the offset just past the last macro-expand, so that
 * the caller can check the literal domain-end that follows it.
 */
static int
spf_macro_string(struct spf_span s, int exp, int explain, size_t *tail)
{
	size_t i = 0;
	unsigned char c;

	*tail = 0;
	while (i < s.n) {
		c = (unsigned char)s.p[i];
		if (c == '%') {
			if (spf_macro_expand(s, &i, exp) < 0)
				return -1;
			*tail = i;
		} else if ((c >= 0x21 && c <= 0x7e) || (explain && c == ' ')) {
			i++;
		} else {
			return -1;
		}
	}
	return 0;
}

/* spf_toplabel - RFC 7208 toplabel: alnum/hyphen, not all-numeric */
static int
spf_toplabel(struct spf_span s)
{
	size_t i;
	int alpha = 0, hyphen = 0;

	if (s.n == 0 || s.n > 63 || s.p[0] == '-' || s.p[s.n - 1] == '-')
		return -1;
	for (i = 0; i < s.n; i++) {
		if (spf_is_alpha((unsigned char)s.p[i]))
			alpha = 1;
		else if (s.p[i] == '-')
			hyphen = 1;
		else if (!spf_is_digit((unsigned char)s.p[i]))
			return -1;
	}
	return alpha || hyphen ? 0 : -1;
}

/*
 * spf_domain_spec - macro-string domain-end, where domain-end is
 * "." toplabel ["."] or a macro-expand.
 */
static int
spf_domain_spec(struct spf_span s, int exp)
{
	struct spf_span lit;
	size_t tail, dot;

	if (spf_macro_string(s, exp, 0, &tail) < 0)
		return -1;
	if (tail == s.n && tail > 0)
		return 0;
	lit = (struct spf_span){s.p + tail, s.n - tail};
	if (lit.n > 0 && lit.p[lit.n - 1] == '.')
		lit.n--;
	for (dot = lit.n; dot > 0 && lit.p[dot - 1] != '.'; dot--)
		;
	if (dot == 0)
		return -1;
	return spf_toplabel((struct spf_span){lit.p + dot, lit.n - dot});
}

/* spf_ip4_network - dotted quad of qnum (0..255, no leading zeros) */
static int
spf_ip4_network(struct spf_span s)
{
	size_t i = 0, start;
	unsigned v, parts;

	for (parts = 0; parts < 4; parts++) {
		if (parts > 0 && (i >= s.n || s.p[i++] != '.'))
			return -1;
		for (start = i; i < s.n && spf_is_digit((unsigned char)s.p[i]);
		     i++)
			;
		if (spf_number((struct spf_span){s.p + start, i - start}, 3,
		               &v) < 0 ||
		    v > 255)
			return -1;
	}
	return i == s.n ? 0 : -1;
}

/* spf_ip6_network - an RFC 4291 2.2 address, via inet_pton */
static int
spf_ip6_network(struct spf_span s)
{
	char buf[SPF_IP6_TEXT_MAX];
	unsigned char bin[16];
	size_t i;

	if (s.n == 0 || s.n >= sizeof(buf))
		return -1;
	for (i = 0; i < s.n; i++)
		if (!isxdigit((unsigned char)s.p[i]) && s.p[i] != ':' &&
		    s.p[i] != '.')
			return -1;
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	return inet_pton(AF_INET6, buf, bin) == 1 ? 0 : -1;
}

/*
 * spf_cut_cidr - take a trailing "/N" off *s when it is there; store the
 * length (or -1 when absent). Returns -1 for a bad or out-of-range N.
 */
static int
spf_cut_cidr(struct spf_span *s, size_t maxdigits, unsigned max, int *out)
{
	size_t i = s->n;
	unsigned v;

	*out = -1;
	while (i > 0 && spf_is_digit((unsigned char)s->p[i - 1]))
		i--;
	if (i == 0 || s->p[i - 1] != '/')
		return 0;
	if (i == s->n ||
	    spf_number((struct spf_span){s->p + i, s->n - i}, maxdigits, &v) <
	        0 ||
	    v > max)
		return -1;
	*out = (int)v;
	s->n = i - 1;
	return 0;
}

/*
 * spf_dual_cidr - cut [ip4-cidr] [ "/" ip6-cidr ] off the end of *s,
 * storing each length or -1 when absent.
 * A trailing "/" that is not part of a valid length is left in place and
 * fails later as part of the domain-spec.
 */
static int
spf_dual_cidr(struct spf_span *s, int *v4out, int *v6out)
{
	struct spf_span save = *s;
	int v4, v6 = -1;

	if (spf_cut_cidr(s, 3, 128, &v6) < 0)
		return -1;
	if (v6 >= 0 && s->n > 0 && s->p[s->n - 1] == '/') {
		s->n--; /* "//N": that was the IPv6 length */
	} else if (v6 >= 0) {
		*s = save; /* a single "/N" is the IPv4 length */
		v6 = -1;
	}
	if (spf_cut_cidr(s, 2, 32, &v4) < 0)
		return -1;
	*v4out = v4;
	*v6out = v6;
	return 0;
}

/*
 * spf_mech_arg - check what follows a mechanism name: an optional or
 * required ":" domain-spec, and CIDR lengths where allowed.
 */
static int
spf_mech_arg(struct spf_span rest, int need_domain, int cidr)
{
	int v4, v6;

	if (cidr && spf_dual_cidr(&rest, &v4, &v6) < 0)
		return -1;
	if (rest.n == 0)
		return need_domain ? -1 : 0;
	if (rest.p[0] != ':')
		return -1;
	return spf_domain_spec((struct spf_span){rest.p + 1, rest.n - 1}, 0);
}

/* spf_mech_ip - ip4:network[/len] and ip6:network[/len] */
static int
spf_mech_ip(struct spf_span rest, int v6)
{
	int len;

	if (rest.n < 2 || rest.p[0] != ':')
		return -1;
	rest.p++;
	rest.n--;
	if (spf_cut_cidr(&rest, v6 ? 3 : 2, v6 ? 128 : 32, &len) < 0)
		return -1;
	return v6 ? spf_ip6_network(rest) : spf_ip4_network(rest);
}

/* spf_mechanism - one mechanism, name already split from its argument */
static int
spf_mechanism(struct spf_span name, struct spf_span rest)
{
	if (spf_span_eq(name, "all"))
		return rest.n == 0 ? 0 : -1;
	if (spf_span_eq(name, "include") || spf_span_eq(name, "exists"))
		return spf_mech_arg(rest, 1, 0);
	if (spf_span_eq(name, "a") || spf_span_eq(name, "mx"))
		return spf_mech_arg(rest, 0, 1);
	if (spf_span_eq(name, "ptr"))
		return spf_mech_arg(rest, 0, 0);
	if (spf_span_eq(name, "ip4"))
		return spf_mech_ip(rest, 0);
	if (spf_span_eq(name, "ip6"))
		return spf_mech_ip(rest, 1);
	return -1;
}

/* spf_modifier - name=value; redirect and exp once each */
static int
spf_modifier(struct spf_span name, struct spf_span value, struct spf_seen *seen)
{
	size_t tail;

	if (spf_span_eq(name, "redirect")) {
		if (seen->redirect++)
			return -1;
		return spf_domain_spec(value, 0);
	}
	if (spf_span_eq(name, "exp")) {
		if (seen->exp++)
			return -1;
		return spf_domain_spec(value, 0);
	}
	return spf_macro_string(value, 1, 0, &tail);
}

/* spf_term - one directive or modifier */
static int
spf_term(struct spf_span t, struct spf_seen *seen)
{
	struct spf_span name, rest;
	size_t i = 0;
	int qualified = 0;

	if (strchr("+-?~", t.p[0]) != NULL) {
		qualified = 1;
		i = 1;
	}
	if (i >= t.n || !spf_is_alpha((unsigned char)t.p[i]))
		return -1;
	name.p = t.p + i;
	while (i < t.n && (spf_is_alnum((unsigned char)t.p[i]) ||
	                   strchr("-_.", t.p[i]) != NULL))
		i++;
	name.n = (size_t)(t.p + i - name.p);
	rest = (struct spf_span){t.p + i, t.n - i};
	if (rest.n > 0 && rest.p[0] == '=') {
		if (qualified)
			return -1;
		rest.p++;
		rest.n--;
		return spf_modifier(name, rest, seen);
	}
	return spf_mechanism(name, rest);
}

int
spf_record_is_spf1(const char *text)
{
	return text != NULL && strncasecmp(text, "v=spf1", 6) == 0 &&
	       (text[6] == ' ' || text[6] == '\0');
}

int
spf_record_check(const char *text, char *why, size_t whylen)
{
	struct spf_seen seen = {0, 0};
	struct spf_span t;
	const char *p, *end;

	if (!spf_record_is_spf1(text))
		return spf_why(why, whylen, "not an SPF version 1 record",
		               (struct spf_span){text, text ? 6 : 0});
	end = text + strlen(text);
	for (p = text + 6; p < end;) {
		if (*p == ' ') {
			p++;
			continue;
		}
		t.p = p;
		while (p < end && *p != ' ')
			p++;
		t.n = (size_t)(p - t.p);
		if (spf_term(t, &seen) < 0)
			return spf_why(why, whylen, "invalid term", t);
	}
	return 0;
}

int
spf_explain_check(const char *text, char *why, size_t whylen)
{
	struct spf_span s;
	size_t tail;

	if (text == NULL)
		return -1;
	s = (struct spf_span){text, strlen(text)};
	if (spf_macro_string(s, 1, 1, &tail) < 0)
		return spf_why(why, whylen, "invalid explanation", s);
	return 0;
}

int
spf_domain_check(const char *name)
{
	size_t n, label = 0, labels = 0, i;
	unsigned char c;

	if (name == NULL)
		return -1;
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return -1;
	for (i = 0; i <= n; i++) {
		c = i < n ? (unsigned char)name[i] : '.';
		if (c == '.') {
			if (label == 0 || label > 63)
				return -1;
			labels++;
			label = 0;
		} else if (c <= 0x20 || c >= 0x7f || strchr("[]@\\\"", c)) {
			return -1;
		} else {
			label++;
		}
	}
	return labels >= 2 ? 0 : -1;
}

/* spf_out - append n octets to a rewrite buffer; -1 when it is full */
static int
spf_out(char *out, size_t outlen, size_t *used, const char *s, size_t n)
{
	if (*used + n + 1 > outlen)
		return -1;
	memcpy(out + *used, s, n);
	*used += n;
	out[*used] = '\0';
	return 0;
}

/*
 * spf_ip_zero - "ip4:X/0" or "ip6:X/0" (libspf2 refuses length 0): for a
 * client of that family the term matches every address, so it becomes
 * the two halves "/1"; for the other family it never matches and goes.
 */
static int
spf_ip_zero(struct spf_span t, int family, char *out, size_t outlen,
            size_t *used)
{
	const char *q = strchr("+-?~", t.p[0]) != NULL ? t.p : "";
	size_t ql = *q != '\0' ? 1 : 0;
	int v6 = strncasecmp(t.p + ql, "ip6", 3) == 0;
	const char *halves =
	    v6 ? "ip6:::/1 |ip6:8000::/1 " : "ip4:0.0.0.0/1 |ip4:128.0.0.0/1 ";
	const char *bar = strchr(halves, '|');

	if ((family == AF_INET6) != v6)
		return 0;
	if (spf_out(out, outlen, used, q, ql) < 0 ||
	    spf_out(out, outlen, used, halves, (size_t)(bar - halves)) < 0 ||
	    spf_out(out, outlen, used, q, ql) < 0)
		return -1;
	return spf_out(out, outlen, used, bar + 1, strlen(bar + 1));
}

/*
 * spf_amx_zero - "a" / "mx" with a zero CIDR length (libspf2 refuses 0).
 * Only the client family's length matters: a non-zero one is kept alone;
 * a zero one ("any address of the name matches") becomes the domain with
 * SPF_ANY_PREFIX in front, which spf_dns.c strips and answers with the
 * client's own address whenever the name has any address at all.
 */
static int
spf_amx_zero(struct spf_span t, int family, char *out, size_t outlen,
             size_t *used)
{
	struct spf_span rest = t;
	const char *colon;
	char cidr[8];
	size_t head;
	int v4, v6, len;

	if (spf_dual_cidr(&rest, &v4, &v6) < 0)
		return -1;
	len = family == AF_INET6 ? v6 : v4;
	colon = memchr(rest.p, ':', rest.n);
	head = colon != NULL ? (size_t)(colon - rest.p) : rest.n;
	if (spf_out(out, outlen, used, rest.p, head) < 0)
		return -1;
	if (len == 0) {
		if (spf_out(out, outlen, used, ":" SPF_ANY_PREFIX,
		            strlen(":" SPF_ANY_PREFIX)) < 0 ||
		    (colon == NULL &&
		     spf_out(out, outlen, used, "%{d}", 4) < 0))
			return -1;
		if (colon != NULL)
			head++;
	}
	if (spf_out(out, outlen, used, rest.p + head, rest.n - head) < 0)
		return -1;
	snprintf(cidr, sizeof(cidr), "%s%d ", family == AF_INET6 ? "//" : "/",
	         len);
	return spf_out(out, outlen, used, len > 0 ? cidr : " ",
	               len > 0 ? strlen(cidr) : 1);
}

/* spf_has_zero_cidr - the term ends in "/0" or "/0//N" */
static int
spf_has_zero_cidr(struct spf_span t)
{
	const char *p;

	for (p = t.p; p + 1 < t.p + t.n; p++)
		if (p[0] == '/' && p[1] == '0' &&
		    (p + 2 == t.p + t.n || p[2] == '/'))
			return 1;
	return 0;
}

/*
 * spf_term_kind - 0 mechanism, 1 redirect, 2 exp, 3 other modifier,
 * 4 a/mx with a zero CIDR length
 */
static int
spf_term_kind(struct spf_span t, int *all, int *zero_ip)
{
	size_t i = 0;

	while (i < t.n && t.p[i] != '=' && t.p[i] != ':' && t.p[i] != '/')
		i++;
	*all = *zero_ip = 0;
	if (i < t.n && t.p[i] == '=') {
		if (i == 8 && strncasecmp(t.p, "redirect", 8) == 0)
			return 1;
		return i == 3 && strncasecmp(t.p, "exp", 3) == 0 ? 2 : 3;
	}
	i = strchr("+-?~", t.p[0]) != NULL ? 1 : 0;
	*all = t.n - i == 3 && strncasecmp(t.p + i, "all", 3) == 0;
	*zero_ip = t.n > i + 5 &&
	           (strncasecmp(t.p + i, "ip4:", 4) == 0 ||
	            strncasecmp(t.p + i, "ip6:", 4) == 0) &&
	           t.n >= 2 && strncmp(t.p + t.n - 2, "/0", 2) == 0;
	if (!*zero_ip && spf_has_zero_cidr(t) &&
	    (strncasecmp(t.p + i, "a", 1) == 0 ||
	     strncasecmp(t.p + i, "mx", 2) == 0))
		return 4;
	return 0;
}

int
spf_record_rewrite(const char *text, int family, char *out, size_t outlen)
{
	struct spf_span t, redirect = {NULL, 0};
	const char *p, *end = text + strlen(text);
	size_t used = 0;
	int kind, all, zero, has_all = 0, rc = 0;

	if (spf_out(out, outlen, &used, "v=spf1 ", 7) < 0)
		return -1;
	for (p = text + 6; p < end && rc == 0;) {
		if (*p == ' ') {
			p++;
			continue;
		}
		for (t.p = p; p < end && *p != ' '; p++)
			;
		t.n = (size_t)(p - t.p);
		kind = spf_term_kind(t, &all, &zero);
		has_all |= all;
		if (kind == 1)
			redirect = t;
		else if (zero)
			rc = spf_ip_zero(t, family, out, outlen, &used);
		else if (kind == 4)
			rc = spf_amx_zero(t, family, out, outlen, &used);
		else if (kind != 3 &&
		         (rc = spf_out(out, outlen, &used, t.p, t.n)) == 0)
			rc = spf_out(out, outlen, &used, " ", 1);
	}
	if (rc == 0 && redirect.p != NULL && !has_all)
		rc = spf_out(out, outlen, &used, redirect.p, redirect.n);
	return rc;
}
