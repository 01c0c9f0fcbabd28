/*
 * print - write a ruleset in canonical form: lists first, then rules in
 * file order, one statement per line, single spaces, parentheses only
 * where precedence needs them, codes written out, strings re-escaped.
 * Parsing the output and printing it again gives the same text.
 *
 * Functions: rules_print (public), rules_print_string.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_internal.h"

static void rules_print_cond(FILE *out, const struct rules_cond *c, int prec);

/* rules_print_string - a "string" with " and \ escaped */
void
rules_print_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* rules_print_regex - a /regex/ with bare slashes escaped */
static void
rules_print_regex(FILE *out, const char *s)
{
	fputc('/', out);
	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			fputc(*s++, out);
		} else if (*s == '/') {
			fputc('\\', out);
		}
		fputc(*s, out);
	}
	fputc('/', out);
}

/* rules_print_cidr - a network, bare when it is a single address */
static void
rules_print_cidr(FILE *out, const struct cidr *c)
{
	char buf[NETADDR_TEXT_MAX + 8];
	unsigned max = c->net.family == AF_INET ? 32 : 128;

	if (c->prefix == max)
		netaddr_format(&c->net, buf, sizeof(buf));
	else
		cidr_format(c, buf, sizeof(buf));
	fputs(buf, out);
}

/* rules_print_items - the items of a list, comma separated */
static void
rules_print_items(FILE *out, const struct rules_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (i > 0)
			fputs(", ", out);
		if (l->is_cidr)
			rules_print_cidr(out, &l->cidrs[i]);
		else
			rules_print_string(out, l->strs[i]);
	}
}

/* rules_print_value - one alternative of "is" */
static void
rules_print_value(FILE *out, const struct fact_def *def,
                  const struct rules_value *v)
{
	char buf[NETADDR_TEXT_MAX];

	if (v->temperror)
		fputs("temperror", out);
	else if (v->none)
		fputs("none", out);
	else if (def->type == FACT_RESULT)
		fputs(result_name(v->result), out);
	else if (def->type == FACT_NUMBER)
		fprintf(out, "%lld", v->num);
	else if (def->type == FACT_BOOL)
		fputs(v->boolean ? "yes" : "no", out);
	else if (def->type == FACT_IP) {
		netaddr_format(&v->ip, buf, sizeof(buf));
		fputs(buf, out);
	} else
		rules_print_string(out, v->str);
}

/* rules_print_pred - FACT and its predicate */
static void
rules_print_pred(FILE *out, const struct rules_cond *c)
{
	static const char *const ops[] = {
	    [CMP_EQ] = "==", [CMP_NE] = "!=", [CMP_LT] = "<",
	    [CMP_LE] = "<=", [CMP_GT] = ">",  [CMP_GE] = ">=",
	};
	const struct fact_def *def = &facts_table[c->fact];
	size_t i;

	fprintf(out, "%s ", def->name);
	switch (c->kind) {
	case COND_IS:
		fputs("is ", out);
		for (i = 0; i < c->nvals; i++) {
			if (i > 0)
				fputc('|', out);
			rules_print_value(out, def, &c->vals[i]);
		}
		break;
	case COND_IN:
		fputs("in ", out);
		if (c->list->name != NULL)
			fprintf(out, "$%s", c->list->name);
		else
			rules_print_items(out, c->list);
		break;
	case COND_CMP: fprintf(out, "%s %lld", ops[c->op], c->num); break;
	case COND_GLOB:
		fputs("matches ", out);
		rules_print_string(out, c->pattern);
		break;
	default:
		fputs("matches ", out);
		rules_print_regex(out, c->pattern);
		break;
	}
}

/* rules_print_cond - a condition; prec: 0 or, 1 and, 2 not */
static void
rules_print_cond(FILE *out, const struct rules_cond *c, int prec)
{
	int mine = c->kind == COND_OR ? 0 : c->kind == COND_AND ? 1 : 2;

	if (mine < prec)
		fputc('(', out);
	switch (c->kind) {
	case COND_OR:
	case COND_AND:
		rules_print_cond(out, c->left, mine);
		fputs(c->kind == COND_OR ? " or " : " and ", out);
		/* Same operator on the right still needs no parentheses. */
		rules_print_cond(out, c->right, mine);
		break;
	case COND_NOT:
		fputs("not ", out);
		rules_print_cond(out, c->left, 2);
		break;
	case COND_TRUE: break;
	default: rules_print_pred(out, c); break;
	}
	if (mine < prec)
		fputc(')', out);
}

/* rules_print_act - one action */
static void
rules_print_act(FILE *out, const struct rules_act *a)
{
	fputs(rules_act_keyword(a->kind), out);
	switch (a->kind) {
	case ACT_REJECT:
	case ACT_TEMPFAIL: fprintf(out, " %u %s", a->code, a->xcode); break;
	case ACT_ADD_HEADER:
		fputc(' ', out);
		if (strspn(a->hname,
		           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
		           "nopqrstuvwxyz0123456789_.-") == strlen(a->hname))
			fputs(a->hname, out);
		else
			rules_print_string(out, a->hname);
		break;
	case ACT_SCORE: fprintf(out, " %lld", a->score); break;
	default: break;
	}
	if (a->has_text) {
		fputc(' ', out);
		rules_print_string(out, a->text.raw);
	}
}

/* rules_print_rule - one rule on one line */
static void
rules_print_rule(FILE *out, const struct rules_rule *r)
{
	size_t i;

	fputs("rule ", out);
	rules_print_string(out, r->name);
	if (r->dry_run)
		fputs(" dry-run", out);
	if (r->cond != NULL) {
		fputs(" when ", out);
		rules_print_cond(out, r->cond, 0);
	}
	fputs(" then ", out);
	for (i = 0; i < r->nacts; i++) {
		if (i > 0)
			fputs(", ", out);
		rules_print_act(out, &r->acts[i]);
	}
	if (!r->final)
		fputs(" continue", out);
	fputc('\n', out);
}

/* rules_print - the canonical form of a ruleset */
void
rules_print(const struct ruleset *rs, FILE *out)
{
	size_t i;

	for (i = 0; i < rs->nlists; i++) {
		fprintf(out, "list %s = ", rs->lists[i]->name);
		rules_print_items(out, rs->lists[i]);
		fputc('\n', out);
	}
	if (rs->nlists > 0 && rs->nrules > 0)
		fputc('\n', out);
	for (i = 0; i < rs->nrules; i++)
		rules_print_rule(out, rs->rules[i]);
}

/* rules_print_text - the canonical form as a malloc'd string, or NULL */
char *
rules_print_text(const struct ruleset *rs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	rules_print(rs, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
