/*
 * eval - evaluate a ruleset at one SMTP stage, in three-valued logic.
 *
 * Each predicate gives true, false or unknown. Unknown comes from a fact
 * whose check hit a temporary error (or that the provider could not
 * give); only an explicit "is temperror" looks through it. "not", "and"
 * and "or" follow Kleene: not U = U, F and U = F, T or U = T. "and" and
 * "or" stop early, so facts behind a decided operand are never asked
 * for (and no DNS is waited on for them).
 *
 * The walk, the pending rule, unknown final rules and the score
 * pseudo-fact are described in mailvet.rules(5).
 *
 * Functions: rules_evaluate (public), rules_eval_fact (for expand.c).
 *
 * Ownership: the verdict's strings and arrays are malloc'd and belong to
 * the caller until rules_verdict_free; facts are fetched at most once per
 * call and the provider's pointers are only read during the call.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/rules_internal.h"

enum rules_tv { TV_FALSE, TV_TRUE, TV_UNKNOWN };

struct rules_eval {
	enum stage stage;
	rules_fact_fn *fn;
	void *ctx;
	struct fact_value *vals;
	unsigned char *state; /* 0 not asked, 1 known, 2 unavailable */
	int score_fact;
	long long score;
	struct rules_verdict *v;
};

/* rules_eval_fact - a fact's value, fetched once (NULL: unavailable) */
const struct fact_value *
rules_eval_fact(struct rules_eval *ev, int f)
{
	if (f == ev->score_fact) {
		memset(&ev->vals[f], 0, sizeof(ev->vals[f]));
		ev->vals[f].num = ev->score;
		return &ev->vals[f];
	}
	if (ev->state[f] == 0) {
		memset(&ev->vals[f], 0, sizeof(ev->vals[f]));
		ev->state[f] = 2;
		if (facts_table[f].stage <= ev->stage && ev->fn != NULL &&
		    ev->fn(ev->ctx, &facts_table[f], &ev->vals[f]) == 0)
			ev->state[f] = 1;
	}
	return ev->state[f] == 1 ? &ev->vals[f] : NULL;
}

/* rules_is_temperror - does the value carry a temporary error */
static int
rules_is_temperror(const struct fact_def *def, const struct fact_value *v)
{
	return v->temperror ||
	       (def->type == FACT_RESULT && v->result == RESULT_TEMPERROR);
}

/* rules_str_eq - case-insensitive equality of a fact string */
static int
rules_str_eq(const char *s, const char *want)
{
	return s != NULL && strcasecmp(s, want) == 0;
}

/* rules_value_eq - does the fact equal one "is" alternative */
static int
rules_value_eq(const struct fact_def *def, const struct fact_value *v,
               const struct rules_value *w)
{
	size_t i;

	if (def->type == FACT_RESULT)
		return !w->temperror && v->result == w->result;
	if (w->none)
		return v->absent ||
		       (def->type == FACT_STRLIST && v->nlist == 0);
	if (w->temperror || v->absent)
		return 0;
	switch (def->type) {
	case FACT_STRING: return rules_str_eq(v->str, w->str);
	case FACT_STRLIST:
		for (i = 0; i < v->nlist; i++)
			if (rules_str_eq(v->list[i], w->str))
				return 1;
		return 0;
	case FACT_NUMBER: return v->num == w->num;
	case FACT_BOOL: return !v->boolean == !w->boolean;
	case FACT_IP: return netaddr_equal(&v->ip, &w->ip);
	default: return 0;
	}
}

/* rules_eval_is - FACT is A|B|C */
static enum rules_tv
rules_eval_is(const struct rules_cond *c, const struct fact_def *def,
              const struct fact_value *v)
{
	size_t i;

	if (rules_is_temperror(def, v)) {
		for (i = 0; i < c->nvals; i++)
			if (c->vals[i].temperror)
				return TV_TRUE;
		return TV_UNKNOWN;
	}
	for (i = 0; i < c->nvals; i++)
		if (rules_value_eq(def, v, &c->vals[i]))
			return TV_TRUE;
	return TV_FALSE;
}

/* rules_str_match - does one string match the glob, regex or list */
static int
rules_str_match(const struct rules_cond *c, const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	if (c->kind == COND_GLOB)
		return fnmatch(c->pattern, s, FNM_CASEFOLD) == 0;
	if (c->kind == COND_REGEX)
		return regexec(c->re, s, 0, NULL, 0) == 0;
	for (i = 0; i < c->list->n; i++)
		if (fnmatch(c->list->strs[i], s, FNM_CASEFOLD) == 0)
			return 1;
	return 0;
}

/* rules_eval_match - in / matches on a present, decided value */
static int
rules_eval_match(const struct rules_cond *c, const struct fact_def *def,
                 const struct fact_value *v)
{
	size_t i;

	if (def->type == FACT_IP) {
		for (i = 0; i < c->list->n; i++)
			if (cidr_contains(&c->list->cidrs[i], &v->ip))
				return 1;
		return 0;
	}
	if (def->type == FACT_STRING)
		return rules_str_match(c, v->str);
	for (i = 0; i < v->nlist; i++)
		if (rules_str_match(c, v->list[i]))
			return 1;
	return 0;
}

/* rules_eval_cmp - FACT op N */
static int
rules_eval_cmp(const struct rules_cond *c, long long n)
{
	switch (c->op) {
	case CMP_EQ: return n == c->num;
	case CMP_NE: return n != c->num;
	case CMP_LT: return n < c->num;
	case CMP_LE: return n <= c->num;
	case CMP_GT: return n > c->num;
	default: return n >= c->num;
	}
}

/* rules_eval_pred - one predicate on one fact */
static enum rules_tv
rules_eval_pred(struct rules_eval *ev, const struct rules_cond *c)
{
	const struct fact_def *def = &facts_table[c->fact];
	const struct fact_value *v = rules_eval_fact(ev, c->fact);

	if (v == NULL)
		return TV_UNKNOWN;
	if (c->kind == COND_IS)
		return rules_eval_is(c, def, v);
	if (rules_is_temperror(def, v))
		return TV_UNKNOWN;
	if (v->absent)
		return TV_FALSE;
	if (c->kind == COND_CMP)
		return rules_eval_cmp(c, v->num) ? TV_TRUE : TV_FALSE;
	return rules_eval_match(c, def, v) ? TV_TRUE : TV_FALSE;
}

/* rules_eval_cond - a condition in Kleene logic */
static enum rules_tv
rules_eval_cond(struct rules_eval *ev, const struct rules_cond *c)
{
	enum rules_tv a, b;

	switch (c->kind) {
	case COND_TRUE: return TV_TRUE;
	case COND_NOT:
		a = rules_eval_cond(ev, c->left);
		return a == TV_UNKNOWN ? a : a == TV_TRUE ? TV_FALSE : TV_TRUE;
	case COND_AND:
	case COND_OR:
		/* The dominant value: false for and, true for or. */
		a = rules_eval_cond(ev, c->left);
		if (a == (c->kind == COND_AND ? TV_FALSE : TV_TRUE))
			return a;
		b = rules_eval_cond(ev, c->right);
		if (b == (c->kind == COND_AND ? TV_FALSE : TV_TRUE))
			return b;
		return a == TV_UNKNOWN || b == TV_UNKNOWN ? TV_UNKNOWN : a;
	default: return rules_eval_pred(ev, c);
	}
}

/* rules_push - append one pointer-sized element to a verdict array */
static int
rules_push(void **arr, size_t *n, size_t size, const void *elem)
{
	char *p = realloc(*arr, (*n + 1) * size);

	if (p == NULL)
		return -1;
	memcpy(p + *n * size, elem, size);
	*arr = p;
	(*n)++;
	return 0;
}

/* rules_contribute - the non-final actions of a true rule */
static int
rules_contribute(struct rules_eval *ev, const struct rules_act *a)
{
	struct rules_verdict *v = ev->v;
	struct rules_header h;
	char *s;

	if (a->kind == ACT_SCORE) {
		ev->score += a->score;
		return 0;
	}
	if ((s = rules_text_expand(ev, &a->text)) == NULL)
		return -1;
	if (a->kind == ACT_LOG) {
		if (rules_push((void **)&v->logs, &v->nlogs, sizeof(s), &s) ==
		    0)
			return 0;
		free(s);
		return -1;
	}
	h.value = s;
	h.name = strdup(a->hname);
	if (h.name != NULL &&
	    rules_push((void **)&v->headers, &v->nheaders, sizeof(h), &h) == 0)
		return 0;
	free(h.name);
	free(s);
	return -1;
}

/* rules_decide - the final action of a true rule */
static int
rules_decide(struct rules_eval *ev, const struct rules_rule *r,
             const struct rules_options *opt)
{
	static const enum rules_action map[] = {
	    [ACT_ACCEPT] = RULES_ACCEPT,         [ACT_REJECT] = RULES_REJECT,
	    [ACT_TEMPFAIL] = RULES_TEMPFAIL,     [ACT_DISCARD] = RULES_DISCARD,
	    [ACT_QUARANTINE] = RULES_QUARANTINE,
	};
	const struct rules_act *a = &r->acts[r->nacts - 1];
	struct rules_verdict *v = ev->v;

	v->action = map[a->kind];
	v->final = 1;
	v->dry_run =
	    rules_is_refusing_act(a->kind) && (r->dry_run || opt->dry_run);
	v->code = a->code;
	memcpy(v->xcode, a->xcode, sizeof(v->xcode));
	if ((v->rule = strdup(r->name)) == NULL)
		return -1;
	if (a->has_text && (v->text = rules_text_expand(ev, &a->text)) == NULL)
		return -1;
	return 0;
}

/* rules_decide_unknown - a final rule that could not be decided */
static int
rules_decide_unknown(struct rules_eval *ev, const struct rules_rule *r,
                     const struct rules_options *opt)
{
	static const char prefix[] = "Temporary failure evaluating rule ";
	struct rules_verdict *v = ev->v;
	size_t n = strlen(r->name);

	v->final = 1;
	v->from_temperror = 1;
	if ((v->rule = strdup(r->name)) == NULL)
		return -1;
	if (opt->on_temperror_accept) {
		v->action = RULES_ACCEPT;
		return 0;
	}
	v->action = RULES_TEMPFAIL;
	v->dry_run = r->dry_run || opt->dry_run;
	v->code = 451;
	memcpy(v->xcode, "4.4.3", 6);
	if ((v->text = malloc(sizeof(prefix) + n)) == NULL)
		return -1;
	memcpy(v->text, prefix, sizeof(prefix) - 1);
	memcpy(v->text + sizeof(prefix) - 1, r->name, n + 1);
	return 0;
}

/*
 * rules_eval_rule - one rule: 1 decided, 0 go on, 2 a final rule whose
 * condition is unknown, -1 out of memory
 */
static int
rules_eval_rule(struct rules_eval *ev, const struct rules_rule *r,
                const struct rules_options *opt)
{
	enum rules_tv tv = r->cond ? rules_eval_cond(ev, r->cond) : TV_TRUE;
	size_t i;

	if (tv == TV_UNKNOWN)
		return r->final ? 2 : 0;
	if (tv == TV_FALSE)
		return 0;
	for (i = 0; i < r->nacts; i++)
		if (!rules_is_final_act(r->acts[i].kind) &&
		    rules_contribute(ev, &r->acts[i]) != 0)
			return -1;
	if (!r->final)
		return 0;
	return rules_decide(ev, r, opt) ? -1 : 1;
}

/* rules_final_kind - the final action of a rule */
static int
rules_final_kind(const struct rules_rule *r)
{
	return (int)r->acts[r->nacts - 1].kind;
}

/*
 * Unknown final rules do not stop the walk at once: the outcome is still
 * certain when the rule that finally decides has the same action as every
 * unknown rule before it (whatever their conditions were, the action is
 * the same), or when it is a tempfail (the temperror outcome anyway).
 * Otherwise the first unknown rule decides through on_temperror. So an
 * explicit "iprev is temperror" rule further down still gives its own
 * reply, and a DNS failure still never turns into a pass.
 */
struct rules_unknown {
	const struct rules_rule *first;
	int kind;
	int mixed;
};

/* rules_note_unknown - remember an unknown final rule */
static void
rules_note_unknown(struct rules_unknown *u, const struct rules_rule *r)
{
	if (u->first == NULL) {
		u->first = r;
		u->kind = rules_final_kind(r);
	} else if (u->kind != rules_final_kind(r)) {
		u->mixed = 1;
	}
}

/* rules_undecide - drop a decision that unknown rules make unsafe */
static void
rules_undecide(struct rules_verdict *v)
{
	free(v->rule);
	free(v->text);
	v->rule = v->text = NULL;
	v->action = RULES_UNDECIDED;
	v->dry_run = 0;
	v->code = 0;
	v->xcode[0] = '\0';
}

/* rules_settle_unknown - the decision at hand, given unknown rules */
static int
rules_settle_unknown(struct rules_eval *ev, const struct rules_unknown *u,
                     const struct rules_rule *decider,
                     const struct rules_options *opt)
{
	int k = decider ? rules_final_kind(decider) : (int)ACT_ACCEPT;

	if (u->first == NULL)
		return 0;
	if (k == (int)ACT_TEMPFAIL || (!u->mixed && k == u->kind))
		return 0;
	rules_undecide(ev->v);
	return rules_decide_unknown(ev, u->first, opt);
}

/* rules_walk - the rules in order, up to a decision or a later stage */
static int
rules_walk(struct rules_eval *ev, const struct ruleset *rs,
           const struct rules_options *opt)
{
	struct rules_unknown u = {NULL, 0, 0};
	size_t i;
	int rc;

	for (i = 0; i < rs->nrules; i++) {
		const struct rules_rule *r = rs->rules[i];
		if (r->stage > ev->stage) {
			ev->v->pending = 1;
			return 0;
		}
		rc = rules_eval_rule(ev, r, opt);
		if (rc < 0)
			return -1;
		if (rc == 2)
			rules_note_unknown(&u, r);
		else if (rc == 1)
			return rules_settle_unknown(ev, &u, r, opt);
	}
	ev->v->final = 1; /* every rule evaluated, none decided */
	return rules_settle_unknown(ev, &u, NULL, opt);
}

/* rules_evaluate - evaluate rs at stage; see mailvet.rules(5) */
int
rules_evaluate(const struct ruleset *rs, enum stage stage, rules_fact_fn *facts,
               void *ctx, const struct rules_options *opt,
               struct rules_verdict *out)
{
	static const struct rules_options none;
	struct rules_eval ev;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&ev, 0, sizeof(ev));
	ev.stage = stage;
	ev.fn = facts;
	ev.ctx = ctx;
	ev.v = out;
	ev.score_fact = (int)(facts_lookup("score") - facts_table);
	ev.vals = calloc(facts_count, sizeof(*ev.vals));
	ev.state = calloc(facts_count, 1);
	if (rs != NULL && ev.vals != NULL && ev.state != NULL)
		rc = rules_walk(&ev, rs, opt != NULL ? opt : &none);
	out->score = ev.score;
	free(ev.vals);
	free(ev.state);
	if (rc != 0)
		rules_verdict_free(out);
	return rc;
}
