/*
 * cond - parse a rule's condition.
 *
 *   cond    := and { "or" and }
 *   and     := not { "and" not }
 *   not     := "not" not | "(" cond ")" | FACT pred
 *   pred    := "is" value { "|" value }
 *            | "in" ( $LIST | item { "," item } )
 *            | "matches" ( "glob" | /regex/ )
 *            | ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) NUMBER
 *
 * Values are checked against the fact's type here, so that a typo in a
 * rules file is an error at load time rather than a rule that never
 * matches.
 *
 * Functions: rules_parse_cond.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "rules/rules_internal.h"

#define RULES_MAX_TERMS  1000
#define RULES_MAX_REPEAT 1000UL

static struct rules_cond *rules_cond_or(struct rules_parser *p, enum stage *st);

/* rules_type_name - a fact type for messages */
static const char *
rules_type_name(enum fact_type t)
{
	static const char *const names[] = {
	    [FACT_RESULT] = "a result", [FACT_STRING] = "a string",
	    [FACT_NUMBER] = "a number", [FACT_BOOL] = "yes or no",
	    [FACT_IP] = "an address",   [FACT_STRLIST] = "a string list",
	};

	return names[t];
}

/* rules_cond_new - a zeroed node, counted against the term limit */
static struct rules_cond *
rules_cond_new(struct rules_parser *p, enum rules_cond_kind kind)
{
	struct rules_cond *c;

	if (++p->terms > RULES_MAX_TERMS) {
		rules_perror(p, &p->tok, "condition too long");
		return NULL;
	}
	c = rules_alloc(p->rs, sizeof(*c));
	if (c == NULL)
		rules_perror(p, &p->tok, "out of memory");
	else
		c->kind = kind;
	return c;
}

/* rules_bad_result - the error for an unknown result name */
static int
rules_bad_result(struct rules_parser *p, const struct fact_def *def)
{
	char names[160] = "";
	size_t n = 0;
	unsigned i;

	for (i = 0; i < RESULT_COUNT && n < sizeof(names); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
		                      i ? ", " : "", result_name(i));
	rules_perror(p, &p->tok,
	             "invalid value \"%.40s\" for %s: expected "
	             "one of %s",
	             p->tok.text, def->name, names);
	return -1;
}

/* rules_value_typed - a value of the fact's own type */
static int
rules_value_typed(struct rules_parser *p, const struct fact_def *def,
                  struct rules_value *v)
{
	const struct rules_token *t = &p->tok;
	int word = t->kind == TOK_WORD;

	switch (def->type) {
	case FACT_RESULT:
		if (word && result_parse(t->text, &v->result) == 0)
			return 0;
		return rules_bad_result(p, def);
	case FACT_BOOL:
		if (word && (strcmp(t->text, "yes") == 0 ||
		             strcmp(t->text, "no") == 0)) {
			v->boolean = t->text[0] == 'y';
			return 0;
		}
		break;
	case FACT_IP:
		if (word && netaddr_parse(t->text, &v->ip) == 0)
			return 0;
		break;
	case FACT_NUMBER: return 1; /* parsed by the caller */
	case FACT_STRING:
	case FACT_STRLIST:
		if (t->kind == TOK_STRING) {
			v->str = t->text;
			return 0;
		}
		break;
	}
	rules_perror(p, t, "invalid value %s%.40s%s for %s: expected %s%s",
	             word ? "\"" : "", word ? t->text : "", word ? "\"" : "",
	             def->name, rules_type_name(def->type),
	             def->type == FACT_STRING || def->type == FACT_STRLIST
	                 ? " in quotes, or none"
	                 : "");
	return -1;
}

/* rules_parse_value - one alternative of "is" */
static int
rules_parse_value(struct rules_parser *p, const struct fact_def *def,
                  struct rules_value *v)
{
	int r;

	if (rules_word_is(&p->tok, "temperror")) {
		v->temperror = 1;
		v->result = RESULT_TEMPERROR;
		return rules_lex(p);
	}
	if (def->type != FACT_RESULT && rules_word_is(&p->tok, "none") &&
	    def->type != FACT_NUMBER && def->type != FACT_BOOL) {
		v->none = 1;
		return rules_lex(p);
	}
	r = rules_value_typed(p, def, v);
	if (r < 0)
		return -1;
	if (r > 0)
		return rules_parse_number(p, LLONG_MIN, LLONG_MAX, &v->num);
	return rules_lex(p);
}

/* rules_pred_is - is value { "|" value } */
static int
rules_pred_is(struct rules_parser *p, struct rules_cond *c,
              const struct fact_def *def)
{
	c->kind = COND_IS;
	do {
		if (rules_lex(p) != 0)
			return -1;
		c->vals =
		    rules_grow(p->rs, c->vals, c->nvals, sizeof(*c->vals));
		if (c->vals == NULL)
			return rules_perror(p, &p->tok, "out of memory"), -1;
		if (rules_parse_value(p, def, &c->vals[c->nvals++]) != 0)
			return -1;
	} while (p->tok.kind == TOK_PIPE);
	return 0;
}

/* rules_pred_in - in $list or an inline list, of the fact's kind */
static int
rules_pred_in(struct rules_parser *p, struct rules_cond *c,
              const struct fact_def *def)
{
	struct rules_token at;
	struct rules_list *l;
	int want_cidr = def->type == FACT_IP;

	c->kind = COND_IN;
	if (def->type != FACT_IP && def->type != FACT_STRING &&
	    def->type != FACT_STRLIST)
		return rules_perror(p, &p->tok,
		                    "\"in\" needs an address or "
		                    "string fact; %s is %s",
		                    def->name, rules_type_name(def->type)),
		       -1;
	if (rules_lex(p) != 0)
		return -1;
	at = p->tok;
	if (p->tok.kind == TOK_VAR) {
		if ((c->list = rules_list_lookup(p)) == NULL ||
		    rules_lex(p) != 0)
			return -1;
	} else {
		if ((l = rules_alloc(p->rs, sizeof(*l))) == NULL)
			return rules_perror(p, &at, "out of memory"), -1;
		if (rules_parse_items(p, l) != 0)
			return -1;
		c->list = l;
	}
	if (c->list->is_cidr != want_cidr)
		return rules_perror(p, &at, "%s is %s: the list must hold %s",
		                    def->name, rules_type_name(def->type),
		                    want_cidr ? "networks" : "\"strings\""),
		       -1;
	return 0;
}

/* rules_regex_bound - parse {m}, {m,} or {m,n} at s; its largest count */
static int
rules_regex_bound(const char **sp, unsigned long *max)
{
	const char *s = *sp + 1;
	unsigned long v[2] = {0, 0};
	int i;

	for (i = 0; i < 2; i++) {
		while (*s >= '0' && *s <= '9' && v[i] < 100000)
			v[i] = v[i] * 10 + (unsigned long)(*s++ - '0');
		if (*s == '}')
			break;
		if (*s != ',' || i == 1)
			return -1;
		s++;
	}
	if (*s != '}')
		return -1;
	*max = v[0] > v[1] ? v[0] : v[1];
	*sp = s;
	return 0;
}

/* rules_regex_class_end - past "[:name:]" at s, or one byte on */
static const char *
rules_regex_class_end(const char *s)
{
	const char *e;

	if (s[0] != '[' || s[1] != ':')
		return s + 1;
	e = strstr(s + 2, ":]");
	return e != NULL ? e + 2 : s + strlen(s);
}

/*
 * rules_regex_check - refuse regexes that make glibc's regcomp blow up:
 * stacked quantifiers ("a++", undefined in POSIX anyway), and bounded
 * repetitions whose counts multiply past RULES_MAX_REPEAT (glibc copies
 * the repeated expression that many times).
 */
static const char *
rules_regex_check(const char *s)
{
	unsigned long product = 1, max;
	int quant = 0;

	if (strlen(s) > 512)
		return "regex longer than 512 characters";
	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			s++;
			quant = 0;
		} else if (*s == '[') {
			s += 1 + (s[1] == '^');
			s += *s == ']';
			while (*s != '\0' && *s != ']')
				s = rules_regex_class_end(s);
			if (*s == '\0')
				return NULL; /* regcomp reports it */
			quant = 0;
		} else if (strchr("*+?{", *s) != NULL) {
			if (quant)
				return "repeated quantifier in regex";
			quant = 1;
			if (*s == '{' && rules_regex_bound(&s, &max) == 0 &&
			    (product *= max + 1) > RULES_MAX_REPEAT)
				return "repetition counts in regex too large";
		} else {
			quant = 0;
		}
	}
	return NULL;
}

/* rules_pred_matches - matches "glob" or matches /regex/ */
static int
rules_pred_matches(struct rules_parser *p, struct rules_cond *c,
                   const struct fact_def *def)
{
	const char *why;
	char msg[128];
	int rc;

	if (def->type != FACT_STRING && def->type != FACT_STRLIST)
		return rules_perror(p, &p->tok,
		                    "\"matches\" needs a string "
		                    "fact; %s is %s",
		                    def->name, rules_type_name(def->type)),
		       -1;
	if (rules_lex(p) != 0)
		return -1;
	c->pattern = p->tok.text;
	if (p->tok.kind == TOK_STRING) {
		c->kind = COND_GLOB;
		return rules_lex(p);
	}
	if (p->tok.kind != TOK_REGEX)
		return rules_perror(p, &p->tok,
		                    "expected a \"glob\" or a "
		                    "/regex/ after \"matches\""),
		       -1;
	c->kind = COND_REGEX;
	if ((why = rules_regex_check(c->pattern)) != NULL)
		return rules_perror(p, &p->tok, "%s", why), -1;
	if ((c->re = rules_regex_new()) == NULL)
		return rules_perror(p, &p->tok, "out of memory"), -1;
	rc = regcomp(c->re, c->pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, c->re, msg, sizeof(msg));
		rules_regex_done(p->rs, c->re, 0);
		c->re = NULL;
		return rules_perror(p, &p->tok, "invalid regex: %s", msg), -1;
	}
	rules_regex_done(p->rs, c->re, 1);
	return rules_lex(p);
}

/* rules_pred - the predicate after a fact name */
static int
rules_pred(struct rules_parser *p, struct rules_cond *c,
           const struct fact_def *def)
{
	char d[64];

	if (rules_word_is(&p->tok, "is"))
		return rules_pred_is(p, c, def);
	if (rules_word_is(&p->tok, "in"))
		return rules_pred_in(p, c, def);
	if (rules_word_is(&p->tok, "matches"))
		return rules_pred_matches(p, c, def);
	if (p->tok.kind == TOK_CMP) {
		if (def->type != FACT_NUMBER)
			return rules_perror(p, &p->tok,
			                    "\"%s\" needs a number "
			                    "fact; %s is %s",
			                    p->tok.text, def->name,
			                    rules_type_name(def->type)),
			       -1;
		c->kind = COND_CMP;
		c->op = p->tok.op;
		if (rules_lex(p) != 0)
			return -1;
		return rules_parse_number(p, LLONG_MIN, LLONG_MAX, &c->num);
	}
	rules_tok_describe(&p->tok, d, sizeof(d));
	rules_perror(p, &p->tok,
	             "expected \"is\", \"in\", \"matches\" or a "
	             "comparison after %s, got %s",
	             def->name, d);
	return -1;
}

/* rules_cond_fact - FACT pred */
static struct rules_cond *
rules_cond_fact(struct rules_parser *p, enum stage *st)
{
	struct rules_cond *c;
	const struct fact_def *def;
	char d[64];
	int f;

	if (p->tok.kind != TOK_WORD) {
		rules_tok_describe(&p->tok, d, sizeof(d));
		rules_perror(p, &p->tok,
		             "expected a fact name, \"not\" or "
		             "\"(\", got %s",
		             d);
		return NULL;
	}
	if ((f = rules_fact_ref(p, p->tok.text)) < 0)
		return NULL;
	def = &facts_table[f];
	if (def->stage > *st)
		*st = def->stage;
	if ((c = rules_cond_new(p, COND_IS)) == NULL || rules_lex(p) != 0)
		return NULL;
	c->fact = f;
	return rules_pred(p, c, def) == 0 ? c : NULL;
}

/* rules_cond_not - "not" not | "(" cond ")" | FACT pred */
static struct rules_cond *
rules_cond_not(struct rules_parser *p, enum stage *st)
{
	struct rules_cond *c = NULL;
	struct rules_token open = p->tok;
	int not = rules_word_is(&p->tok, "not");

	if (!not &&p->tok.kind != TOK_LPAREN)
		return rules_cond_fact(p, st);
	if (++p->depth > RULES_MAX_DEPTH) {
		rules_perror(p, &p->tok, "condition nested too deeply");
		return NULL;
	}
	if (rules_lex(p) != 0)
		return NULL;
	if (not ) {
		if ((c = rules_cond_new(p, COND_NOT)) == NULL ||
		    (c->left = rules_cond_not(p, st)) == NULL)
			return NULL;
	} else {
		if ((c = rules_cond_or(p, st)) == NULL)
			return NULL;
		if (p->tok.kind != TOK_RPAREN) {
			rules_perror(p, &p->tok,
			             "expected \")\" to close the "
			             "\"(\" at line %u, column %u",
			             open.line, open.col);
			return NULL;
		}
		if (rules_lex(p) != 0)
			return NULL;
	}
	p->depth--;
	return c;
}

/* rules_cond_binary - left-associative chain of one operator */
static struct rules_cond *
rules_cond_binary(struct rules_parser *p, enum stage *st, const char *word,
                  enum rules_cond_kind kind,
                  struct rules_cond *(*sub)(struct rules_parser *,
                                            enum stage *))
{
	struct rules_cond *left = sub(p, st), *c;

	while (left != NULL && rules_word_is(&p->tok, word)) {
		if ((c = rules_cond_new(p, kind)) == NULL || rules_lex(p) != 0)
			return NULL;
		c->left = left;
		if ((c->right = sub(p, st)) == NULL)
			return NULL;
		left = c;
	}
	return left;
}

/* rules_cond_and - not { "and" not } */
static struct rules_cond *
rules_cond_and(struct rules_parser *p, enum stage *st)
{
	return rules_cond_binary(p, st, "and", COND_AND, rules_cond_not);
}

/* rules_cond_or - and { "or" and } */
static struct rules_cond *
rules_cond_or(struct rules_parser *p, enum stage *st)
{
	return rules_cond_binary(p, st, "or", COND_OR, rules_cond_and);
}

/* rules_parse_cond - a whole condition; raises *st to its latest fact */
struct rules_cond *
rules_parse_cond(struct rules_parser *p, enum stage *st)
{
	p->depth = 0;
	p->terms = 0;
	return rules_cond_or(p, st);
}
