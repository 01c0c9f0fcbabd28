/*
 * expand - texts with %{fact} references: compiled at parse time,
 * expanded at evaluation time.
 *
 * "%{fact}" is replaced by the fact's value: "temperror" when its check
 * could not decide, "none" when absent, a result's name, an address in
 * canonical form, a list joined with ",". "%%" is a literal "%".
 *
 * Sanitising: a fact's value may come from the client (HELO name, MAIL
 * FROM, recipients). Every control byte in it (0x00-0x1f and 0x7f,
 * including CR, LF and tab) becomes '?', so an expansion can never
 * start a new header or reply line. The literal parts of a text were
 * checked by the lexer (no controls but tab). The result is cut at
 * RULES_MAX_EXPANDED bytes.
 *
 * Functions: rules_text_compile, rules_text_expand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_internal.h"

struct rules_buf {
	char *s;
	size_t len;
};

/* rules_text_seg - append a segment to a compiled text */
static int
rules_text_seg(struct rules_parser *p, struct rules_text *out, const char *lit,
               size_t len, int fact)
{
	out->segs =
	    rules_grow(p->rs, out->segs, out->nsegs, sizeof(*out->segs));
	if (out->segs == NULL)
		return rules_perror(p, &p->tok, "out of memory"), -1;
	out->segs[out->nsegs].lit = lit;
	out->segs[out->nsegs].len = len;
	out->segs[out->nsegs].fact = fact;
	out->nsegs++;
	return 0;
}

/* rules_text_ref - %{name} at s; returns its length or -1 */
static int
rules_text_ref(struct rules_parser *p, const struct rules_token *t,
               const char *s, struct rules_text *out, enum stage *st)
{
	const char *end = strchr(s + 2, '}');
	char name[64];
	int f;

	if (end == NULL)
		return rules_perror(p, t, "unterminated %%{ in string"), -1;
	if ((size_t)(end - s - 2) >= sizeof(name))
		return rules_perror(p, t, "fact name too long in %%{}"), -1;
	memcpy(name, s + 2, (size_t)(end - s - 2));
	name[end - s - 2] = '\0';
	if ((f = rules_fact_ref(p, name)) < 0)
		return -1;
	if (facts_table[f].stage > *st)
		*st = facts_table[f].stage;
	if (rules_text_seg(p, out, NULL, 0, f) != 0)
		return -1;
	return (int)(end - s + 1);
}

/* rules_text_compile - split a string token into literals and facts */
int
rules_text_compile(struct rules_parser *p, const struct rules_token *t,
                   struct rules_text *out, enum stage *st)
{
	const char *s = t->text, *lit = s;
	int n;

	out->raw = t->text;
	while (*s != '\0') {
		if (*s != '%') {
			s++;
			continue;
		}
		if (s > lit &&
		    rules_text_seg(p, out, lit, (size_t)(s - lit), -1) != 0)
			return -1;
		if (s[1] == '%') {
			if (rules_text_seg(p, out, "%", 1, -1) != 0)
				return -1;
			s += 2;
		} else if (s[1] == '{') {
			if ((n = rules_text_ref(p, t, s, out, st)) < 0)
				return -1;
			s += n;
		} else {
			return rules_perror(p, t,
			                    "\"%%\" must start %%{fact} "
			                    "or %%%% (a literal %%)"),
			       -1;
		}
		lit = s;
	}
	if (s > lit)
		return rules_text_seg(p, out, lit, (size_t)(s - lit), -1);
	return 0;
}

/* rules_buf_put - append n bytes, control bytes as '?' when sanitize */
static void
rules_buf_put(struct rules_buf *b, const char *s, size_t n, int sanitize)
{
	size_t i;

	for (i = 0; i < n && b->len < RULES_MAX_EXPANDED; i++) {
		unsigned char c = (unsigned char)s[i];

		if (sanitize && (c < 0x20 || c == 0x7f))
			c = '?';
		b->s[b->len++] = (char)c;
	}
	b->s[b->len] = '\0';
}

/* rules_buf_fact - append a fact's value as text */
static void
rules_buf_fact(struct rules_buf *b, const struct fact_def *def,
               const struct fact_value *v)
{
	char tmp[NETADDR_TEXT_MAX];
	const char *s = tmp;
	size_t i;

	if (v == NULL || v->temperror ||
	    (def->type == FACT_RESULT && v->result == RESULT_TEMPERROR))
		s = "temperror";
	else if (v->absent)
		s = "none";
	else if (def->type == FACT_RESULT)
		s = result_name(v->result);
	else if (def->type == FACT_STRING)
		s = v->str != NULL ? v->str : "none";
	else if (def->type == FACT_NUMBER)
		snprintf(tmp, sizeof(tmp), "%lld", v->num);
	else if (def->type == FACT_BOOL)
		s = v->boolean ? "yes" : "no";
	else if (def->type == FACT_IP)
		netaddr_format(&v->ip, tmp, sizeof(tmp));
	if (def->type == FACT_STRLIST && s == tmp) {
		for (i = 0; i < v->nlist; i++) {
			if (i > 0)
				rules_buf_put(b, ",", 1, 0);
			if (v->list[i] != NULL)
				rules_buf_put(b, v->list[i], strlen(v->list[i]),
				              1);
		}
		return;
	}
	rules_buf_put(b, s, strlen(s), 1);
}

/* rules_text_expand - a malloc'd, sanitised expansion (NULL when out) */
char *
rules_text_expand(struct rules_eval *ev, const struct rules_text *t)
{
	struct rules_buf b;
	size_t i;

	b.s = malloc(RULES_MAX_EXPANDED + 1);
	if (b.s == NULL)
		return NULL;
	b.len = 0;
	b.s[0] = '\0';
	for (i = 0; i < t->nsegs; i++) {
		const struct rules_seg *sg = &t->segs[i];

		if (sg->fact < 0)
			rules_buf_put(&b, sg->lit, sg->len, 0);
		else
			rules_buf_fact(&b, &facts_table[sg->fact],
			               rules_eval_fact(ev, sg->fact));
	}
	return b.s;
}
