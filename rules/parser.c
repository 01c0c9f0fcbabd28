/*
 * parser - the statements of a rules file: list definitions and rules.
 *
 *   file  := { list | rule }
 *   list  := "list" NAME "=" item { "," item }
 *   item  := NETWORK | "string"
 *   rule  := "rule" "name" [ "dry-run" ] [ "when" cond ] "then" actions
 *
 * Conditions are parsed in cond.c, actions in action.c, texts with
 * %{fact} in expand.c.
 *
 * Functions: rules_parse (public), rules_parse_items, rules_parse_number,
 * rules_fact_ref, rules_suggest.
 *
 * Diagnostics: the first error stops the parse; rules_parse returns NULL
 * with *err filled (file, line, column of the offending token, message,
 * source line).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/editdist.h"
#include "rules/rules_internal.h"

/* rules_last_part - the text after the last dot */
static const char *
rules_last_part(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot ? dot + 1 : name;
}

/* rules_suggest - "; did you mean "x"?" for an unknown fact, or "" */
void
rules_suggest(const char *name, char *buf, size_t len)
{
	const char *best = NULL, *part = rules_last_part(name);
	size_t i, d, bestd = strlen(name) / 3 + 2;

	for (i = 0; i < facts_count; i++) {
		/* "iprev.ptr" is best answered by "client.ptr". */
		if (*part != '\0' &&
		    strcmp(rules_last_part(facts_table[i].name), part) == 0) {
			best = facts_table[i].name;
			break;
		}
		/* Plain Levenshtein: transpositions count two edits here. */
		d = editdist(name, facts_table[i].name, SIZE_MAX, 0);
		if (d <= bestd) {
			bestd = d;
			best = facts_table[i].name;
		}
	}
	if (best != NULL)
		snprintf(buf, len, "; did you mean \"%s\"?", best);
	else
		snprintf(buf, len, "%s", "");
}

/* rules_fact_ref - index of a fact name, or -1 with an error */
int
rules_fact_ref(struct rules_parser *p, const char *name)
{
	const struct fact_def *def = facts_lookup(name);
	char hint[96];

	if (def == NULL) {
		rules_suggest(name, hint, sizeof(hint));
		rules_perror(p, &p->tok, "unknown fact \"%.60s\"%s", name,
		             hint);
		return -1;
	}
	p->rs->used[def - facts_table] = 1;
	return (int)(def - facts_table);
}

/* rules_parse_number - the current word as an integer in [min, max] */
int
rules_parse_number(struct rules_parser *p, long long min, long long max,
                   long long *out)
{
	const char *s = p->tok.text;
	char *end;
	long long v;

	if (p->tok.kind != TOK_WORD ||
	    !(isdigit((unsigned char)s[0]) ||
	      ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]))))
		goto bad;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		goto bad;
	if (errno == ERANGE || v < min || v > max) {
		rules_perror(p, &p->tok,
		             "number %.40s out of range "
		             "(%lld to %lld)",
		             s, min, max);
		return -1;
	}
	*out = v;
	return rules_lex(p);
bad : {
	char d[64];

	rules_tok_describe(&p->tok, d, sizeof(d));
	rules_perror(p, &p->tok, "expected a number, got %s", d);
}
	return -1;
}

/* rules_item_add - append one item (network or string) to a list */
static int
rules_item_add(struct rules_parser *p, struct rules_list *l)
{
	int cidr = p->tok.kind == TOK_WORD;
	struct cidr c;

	if (l->n > 0 && cidr != l->is_cidr)
		return rules_perror(p, &p->tok,
		                    "a list holds either networks "
		                    "or \"strings\", not both"),
		       -1;
	l->is_cidr = cidr;
	if (cidr && cidr_parse(p->tok.text, &c) != 0)
		return rules_perror(p, &p->tok, "invalid network \"%.60s\"",
		                    p->tok.text),
		       -1;
	if (cidr) {
		l->cidrs = rules_grow(p->rs, l->cidrs, l->n, sizeof(c));
		if (l->cidrs == NULL)
			return rules_perror(p, &p->tok, "out of memory"), -1;
		l->cidrs[l->n++] = c;
	} else {
		l->strs = rules_grow(p->rs, l->strs, l->n, sizeof(char *));
		if (l->strs == NULL)
			return rules_perror(p, &p->tok, "out of memory"), -1;
		l->strs[l->n++] = p->tok.text;
	}
	return rules_lex(p);
}

/* rules_parse_items - item { "," item } into l */
int
rules_parse_items(struct rules_parser *p, struct rules_list *l)
{
	char d[64];

	for (;;) {
		if (p->tok.kind != TOK_WORD && p->tok.kind != TOK_STRING) {
			rules_tok_describe(&p->tok, d, sizeof(d));
			return rules_perror(p, &p->tok,
			                    "expected a network or "
			                    "a \"string\", got %s",
			                    d),
			       -1;
		}
		if (rules_item_add(p, l) != 0)
			return -1;
		if (p->tok.kind != TOK_COMMA)
			return 0;
		if (rules_lex(p) != 0)
			return -1;
	}
}

/* rules_find_list - a list defined earlier, by name */
static struct rules_list *
rules_find_list(struct ruleset *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->nlists; i++)
		if (strcmp(rs->lists[i]->name, name) == 0)
			return rs->lists[i];
	return NULL;
}

/* rules_list_lookup - the list named by the current $var token */
const struct rules_list *
rules_list_lookup(struct rules_parser *p)
{
	const struct rules_list *l = rules_find_list(p->rs, p->tok.text);

	if (l == NULL)
		rules_perror(p, &p->tok, "undefined list $%.60s", p->tok.text);
	return l;
}

/* rules_valid_name - a list name: letter or _, then letters, digits _ - */
static int
rules_valid_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (s++; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* rules_parse_list - list NAME = item, item ... */
static int
rules_parse_list(struct rules_parser *p)
{
	struct rules_list *l, *old;

	if (rules_lex(p) != 0)
		return -1;
	if (p->tok.kind != TOK_WORD || !rules_valid_name(p->tok.text))
		return rules_perror(p, &p->tok,
		                    "expected a list name after "
		                    "\"list\""),
		       -1;
	if ((old = rules_find_list(p->rs, p->tok.text)) != NULL)
		return rules_perror(p, &p->tok,
		                    "duplicate list name \"%.60s\" "
		                    "(first at line %u)",
		                    old->name, old->line),
		       -1;
	l = rules_alloc(p->rs, sizeof(*l));
	p->rs->lists =
	    rules_grow(p->rs, p->rs->lists, p->rs->nlists, sizeof(l));
	if (l == NULL || p->rs->lists == NULL)
		return rules_perror(p, &p->tok, "out of memory"), -1;
	l->name = p->tok.text;
	l->line = p->tok.line;
	p->rs->lists[p->rs->nlists++] = l;
	if (rules_lex(p) != 0)
		return -1;
	if (p->tok.kind != TOK_ASSIGN)
		return rules_perror(p, &p->tok,
		                    "expected \"=\" after list "
		                    "name"),
		       -1;
	if (rules_lex(p) != 0)
		return -1;
	return rules_parse_items(p, l);
}

/* rules_find_rule - a rule defined earlier, by name */
static struct rules_rule *
rules_find_rule(struct ruleset *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->nrules; i++)
		if (strcmp(rs->rules[i]->name, name) == 0)
			return rs->rules[i];
	return NULL;
}

/* rules_rule_name - check and take the rule's "name" */
static int
rules_rule_name(struct rules_parser *p, struct rules_rule *r)
{
	struct rules_rule *old;

	if (p->tok.kind != TOK_STRING)
		return rules_perror(p, &p->tok,
		                    "expected a \"name\" after "
		                    "\"rule\""),
		       -1;
	if (p->tok.len == 0 || p->tok.len > 100)
		return rules_perror(p, &p->tok,
		                    "a rule name has 1 to 100 "
		                    "characters"),
		       -1;
	if ((old = rules_find_rule(p->rs, p->tok.text)) != NULL)
		return rules_perror(p, &p->tok,
		                    "duplicate rule name \"%.60s\" "
		                    "(first at line %u)",
		                    old->name, old->line),
		       -1;
	r->name = p->tok.text;
	r->line = p->tok.line;
	return rules_lex(p);
}

/* rules_parse_rule - rule "name" [dry-run] [when cond] then actions */
static int
rules_parse_rule(struct rules_parser *p)
{
	struct rules_rule *r = rules_alloc(p->rs, sizeof(*r));
	struct rules_token dry;

	p->rs->rules =
	    rules_grow(p->rs, p->rs->rules, p->rs->nrules, sizeof(r));
	if (r == NULL || p->rs->rules == NULL)
		return rules_perror(p, &p->tok, "out of memory"), -1;
	if (rules_lex(p) != 0 || rules_rule_name(p, r) != 0)
		return -1;
	dry = p->tok;
	if (rules_word_is(&p->tok, "dry-run")) {
		r->dry_run = 1;
		if (rules_lex(p) != 0)
			return -1;
	}
	if (rules_word_is(&p->tok, "when")) {
		if (rules_lex(p) != 0)
			return -1;
		if ((r->cond = rules_parse_cond(p, &r->stage)) == NULL)
			return -1;
		if (!rules_word_is(&p->tok, "then"))
			return rules_perror(p, &p->tok,
			                    "expected \"then\" "
			                    "after condition"),
			       -1;
	} else if (!rules_word_is(&p->tok, "then")) {
		return rules_perror(p, &p->tok,
		                    "expected \"when\" or "
		                    "\"then\" after rule name"),
		       -1;
	}
	if (rules_lex(p) != 0 || rules_parse_actions(p, r) != 0)
		return -1;
	if (r->dry_run &&
	    !(r->final && rules_is_refusing_act(r->acts[r->nacts - 1].kind)))
		return rules_perror(p, &dry,
		                    "dry-run needs a refusing action "
		                    "(reject, tempfail, discard or "
		                    "quarantine)"),
		       -1;
	p->rs->rules[p->rs->nrules++] = r;
	return 0;
}

/* rules_parse_file - every statement up to the end */
static int
rules_parse_file(struct rules_parser *p)
{
	char d[64];

	if (rules_lex(p) != 0)
		return -1;
	while (p->tok.kind != TOK_EOF) {
		if (rules_word_is(&p->tok, "rule")) {
			if (rules_parse_rule(p) != 0)
				return -1;
		} else if (rules_word_is(&p->tok, "list")) {
			if (rules_parse_list(p) != 0)
				return -1;
		} else {
			rules_tok_describe(&p->tok, d, sizeof(d));
			return rules_perror(p, &p->tok,
			                    "expected \"rule\" or "
			                    "\"list\", got %s",
			                    d),
			       -1;
		}
	}
	return 0;
}

/* rules_parse - parse a rules text; name is used in error messages */
struct ruleset *
rules_parse(const char *text, size_t len, const char *name,
            struct rules_error *err)
{
	struct rules_parser p;
	struct rules_error dummy;

	memset(&p, 0, sizeof(p));
	p.src = text;
	p.len = len;
	p.line = 1;
	p.file = name != NULL ? name : "(rules)";
	p.err = err != NULL ? err : &dummy;
	p.rs = rules_new();
	if (p.rs == NULL) {
		memset(p.err, 0, sizeof(*p.err));
		snprintf(p.err->file, sizeof(p.err->file), "%s", p.file);
		snprintf(p.err->message, sizeof(p.err->message),
		         "out of memory");
		return NULL;
	}
	if (rules_parse_file(&p) != 0) {
		rules_unref(p.rs);
		return NULL;
	}
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	return p.rs;
}
