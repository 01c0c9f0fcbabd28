/*
 * dkim_sig - the parts of DKIM checking that need neither libopendkim nor
 * DNS: the syntax check of a DKIM-Signature tag-list (RFC 6376 3.2, 3.5),
 * the order of results, and the Authentication-Results text.
 *
 * Functions: dkim_sig_precheck, dkim_result_rank, dkim_result_best,
 * dkim_authres_sigs.
 *
 * The precheck runs before libopendkim sees a signature so that a
 * malformed one (duplicate or missing tags, bad base64, absurd lengths)
 * becomes a permerror of its own and is never verified, whatever
 * libopendkim would have made of it.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "milter/checks/dkim.h"

#define DKIM_TAG_MAX  32   /* distinct tags in one signature */
#define DKIM_B_MAX    1400 /* base64 of an 8192-bit RSA signature */
#define DKIM_BH_MAX   64   /* base64 of a SHA-256 digest, padded */
#define DKIM_L_DIGITS 18   /* l= beyond this is absurd */

struct dkim_tag {
	char name[16];
	const char *val; /* into the header value */
	size_t len;
};

struct dkim_taglist {
	struct dkim_tag tag[DKIM_TAG_MAX];
	size_t n;
};

static const char *const dkim_required[] = {
    "v", "a", "b", "bh", "d", "h", "s",
};

/* dkim_fail - record a permerror with its reason */
static void
dkim_fail(struct dkim_sig_result *r, const char *why)
{
	r->result = RESULT_PERMERROR;
	snprintf(r->reason, sizeof(r->reason), "%s", why);
}

/* dkim_wsp - folding white space inside a tag-list */
static int
dkim_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* dkim_tag_find - a parsed tag by name, or NULL */
static const struct dkim_tag *
dkim_tag_find(const struct dkim_taglist *tl, const char *name)
{
	size_t i;

	for (i = 0; i < tl->n; i++)
		if (strcmp(tl->tag[i].name, name) == 0)
			return &tl->tag[i];
	return NULL;
}

/* dkim_tag_name - read one tag-name at *p; -1 when it is not one */
static int
dkim_tag_name(const char **p, const char *end, char *name, size_t len)
{
	size_t n = 0;
	const char *s = *p;

	if (s >= end || !isalpha((unsigned char)*s))
		return -1;
	while (s < end && (isalnum((unsigned char)*s) || *s == '_')) {
		if (n + 1 >= len)
			return -1;
		name[n++] = *s++;
	}
	name[n] = '\0';
	*p = s;
	return 0;
}

/* dkim_taglist_parse - split a tag-list; -1 with a reason on bad syntax */
static int
dkim_taglist_parse(const char *s, size_t len, struct dkim_taglist *tl,
                   const char **why)
{
	const char *end = s + len, *p = s, *v;
	struct dkim_tag *t;

	tl->n = 0;
	while (p < end) {
		while (p < end && dkim_wsp(*p))
			p++;
		if (p == end)
			break;
		if (tl->n == DKIM_TAG_MAX)
			return *why = "too many tags", -1;
		t = &tl->tag[tl->n];
		if (dkim_tag_name(&p, end, t->name, sizeof(t->name)) < 0)
			return *why = "bad tag name", -1;
		while (p < end && dkim_wsp(*p))
			p++;
		if (p == end || *p != '=')
			return *why = "tag without '='", -1;
		if (dkim_tag_find(tl, t->name) != NULL)
			return *why = "duplicate tag", -1;
		for (v = ++p; p < end && *p != ';'; p++)
			if ((unsigned char)*p < 0x20 && !dkim_wsp(*p))
				return *why = "control character", -1;
		while (v < p && dkim_wsp(*v))
			v++;
		t->val = v;
		t->len = (size_t)(p - v);
		while (t->len > 0 && dkim_wsp(v[t->len - 1]))
			t->len--;
		tl->n++;
		if (p < end)
			p++;
	}
	return 0;
}

/* dkim_base64_ok - base64 with FWS; 0 ok, -1 bad; *n = characters */
static int
dkim_base64_ok(const char *s, size_t len, size_t *n)
{
	size_t i, pad = 0;

	*n = 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (dkim_wsp((char)c))
			continue;
		if (c == '=') {
			pad++;
		} else if ((isalnum(c) || c == '+' || c == '/') && pad == 0) {
			;
		} else {
			return -1;
		}
		(*n)++;
	}
	return (pad > 2 || *n == 0 || *n % 4 != 0) ? -1 : 0;
}

/* dkim_digits - a 1..18 digit number of exactly len bytes, else -1 */
static long long
dkim_digits(const char *s, size_t len)
{
	long long v = 0;
	size_t i;

	if (len == 0 || len > DKIM_L_DIGITS)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* dkim_copy - a tag value into a fixed field, white space removed */
static void
dkim_copy(char *dst, size_t dlen, const struct dkim_tag *t, size_t max)
{
	size_t i, n = 0;

	for (i = 0; t != NULL && i < t->len && n + 1 < dlen && n < max; i++)
		if (!dkim_wsp(t->val[i]))
			dst[n++] = t->val[i];
	dst[n] = '\0';
}

/* dkim_fields - the reported fields of a parsed signature */
static void
dkim_fields(const struct dkim_taglist *tl, struct dkim_sig_result *r)
{
	const struct dkim_tag *l;

	dkim_copy(r->domain, sizeof(r->domain), dkim_tag_find(tl, "d"),
	          SIZE_MAX);
	dkim_copy(r->selector, sizeof(r->selector), dkim_tag_find(tl, "s"),
	          SIZE_MAX);
	dkim_copy(r->algorithm, sizeof(r->algorithm), dkim_tag_find(tl, "a"),
	          SIZE_MAX);
	dkim_copy(r->b8, sizeof(r->b8), dkim_tag_find(tl, "b"), 8);
	dkim_copy(r->identity, sizeof(r->identity), dkim_tag_find(tl, "i"),
	          SIZE_MAX);
	if (r->identity[0] == '\0' && r->domain[0] != '\0')
		snprintf(r->identity, sizeof(r->identity), "@%s", r->domain);
	l = dkim_tag_find(tl, "l");
	r->body_length = l != NULL ? dkim_digits(l->val, l->len) : -1;
}

/* dkim_dnsname_ok - letters, digits, '-', '_' in dot-separated labels */
static int
dkim_dnsname_ok(const char *s, size_t len)
{
	size_t i, label = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0;
}

/* dkim_tags_check - semantic limits on the tags; NULL or a reason */
static const char *
dkim_tags_check(const struct dkim_taglist *tl)
{
	const struct dkim_tag *t;
	size_t i, n;

	for (i = 0; i < sizeof(dkim_required) / sizeof(dkim_required[0]); i++)
		if (dkim_tag_find(tl, dkim_required[i]) == NULL)
			return "missing required tag";
	t = dkim_tag_find(tl, "v");
	if (t->len != 1 || t->val[0] != '1')
		return "unsupported version";
	t = dkim_tag_find(tl, "b");
	if (dkim_base64_ok(t->val, t->len, &n) < 0 || n > DKIM_B_MAX)
		return "bad b= base64";
	t = dkim_tag_find(tl, "bh");
	if (dkim_base64_ok(t->val, t->len, &n) < 0 || n > DKIM_BH_MAX)
		return "bad bh= base64";
	t = dkim_tag_find(tl, "d");
	if (t->len == 0 || t->len > 253)
		return "bad d= length";
	if (!dkim_dnsname_ok(t->val, t->len))
		return "bad d= domain";
	t = dkim_tag_find(tl, "s");
	if (t->len == 0 || t->len > 120)
		return "bad s= length";
	if (!dkim_dnsname_ok(t->val, t->len))
		return "bad s= selector";
	t = dkim_tag_find(tl, "i");
	if (t != NULL && (t->len == 0 || t->len > 255))
		return "bad i= length";
	t = dkim_tag_find(tl, "a");
	if (t->len == 8 && strncasecmp(t->val, "rsa-sha1", 8) == 0)
		return "rsa-sha1 not accepted (RFC 8301)";
	t = dkim_tag_find(tl, "l");
	if (t != NULL && dkim_digits(t->val, t->len) < 0)
		return "bad l= value";
	return NULL;
}

/* dkim_sig_precheck - see dkim.h */
void
dkim_sig_precheck(const char *value, size_t len, struct dkim_sig_result *r)
{
	struct dkim_taglist tl;
	const char *why = NULL;

	memset(r, 0, sizeof(*r));
	r->body_length = -1;
	r->result = RESULT_PASS;
	if (len > DKIM_SIG_HEADER_MAX) {
		dkim_fail(r, "signature header too long");
		return;
	}
	if (dkim_taglist_parse(value, len, &tl, &why) < 0) {
		dkim_fail(r, why);
		return;
	}
	dkim_fields(&tl, r);
	why = dkim_tags_check(&tl);
	if (why != NULL)
		dkim_fail(r, why);
}

/* dkim_result_rank - see dkim.h; a table of the documented order */
int
dkim_result_rank(enum result r)
{
	static const struct {
		enum result r;
		int rank;
	} order[] = {
	    {RESULT_PASS, 7}, {RESULT_TEMPERROR, 6}, {RESULT_POLICY, 5},
	    {RESULT_FAIL, 4}, {RESULT_NEUTRAL, 3},   {RESULT_PERMERROR, 2},
	    {RESULT_NONE, 1},
	};
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (order[i].r == r)
			return order[i].rank;
	return 0;
}

/* dkim_result_best - see dkim.h */
enum result
dkim_result_best(enum result a, enum result b)
{
	return dkim_result_rank(b) > dkim_result_rank(a) ? b : a;
}

/* dkim_authres_prop - " header.X=value" when value is not empty */
static void
dkim_authres_prop(struct strbuf *sb, const char *name, const char *value)
{
	if (value[0] == '\0')
		return;
	strbuf_addf(sb, " header.%s=", name);
	strbuf_add_mime_value(sb, value, 255);
}

/* dkim_authres_sigs - see dkim.h */
void
dkim_authres_sigs(const struct dkim_sig_result *sigs, size_t n,
                  struct strbuf *sb)
{
	size_t i;

	if (n == 0) {
		strbuf_add(sb, "dkim=none");
		return;
	}
	for (i = 0; i < n; i++) {
		const struct dkim_sig_result *s = &sigs[i];

		if (i > 0)
			strbuf_add(sb, "; ");
		strbuf_addf(sb, "dkim=%s", result_name(s->result));
		if (s->reason[0] != '\0') {
			strbuf_add(sb, " (");
			strbuf_add_comment_text(sb, s->reason, 120);
			strbuf_addc(sb, ')');
		}
		dkim_authres_prop(sb, "d", s->domain);
		dkim_authres_prop(sb, "i", s->identity);
		dkim_authres_prop(sb, "s", s->selector);
		dkim_authres_prop(sb, "a", s->algorithm);
		dkim_authres_prop(sb, "b", s->b8);
	}
}
