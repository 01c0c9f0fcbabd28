/*
 * action - parse the actions of a rule.
 *
 *   actions := action { "," action } [ "continue" ]
 *   action  := "accept" | "discard"
 *            | ( "reject" | "tempfail" ) [ CODE [ XCODE ] ] [ "text" ]
 *            | "quarantine" "reason"
 *            | "add-header" NAME "value"
 *            | "log" "text"
 *            | "score" [+-]N
 *
 * accept, reject, tempfail, discard and quarantine are final: at most one,
 * and last. add-header, log and score are not final; "continue" may
 * follow them to say so, and is refused after a final action.
 *
 * Functions: rules_parse_actions.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rules/rules_internal.h"

static const struct {
	const char *word;
	enum rules_act_kind kind;
} rules_act_words[] = {
    {"accept", ACT_ACCEPT},
    {"reject", ACT_REJECT},
    {"tempfail", ACT_TEMPFAIL},
    {"discard", ACT_DISCARD},
    {"quarantine", ACT_QUARANTINE},
    {"add-header", ACT_ADD_HEADER},
    {"log", ACT_LOG},
    {"score", ACT_SCORE},
};

/* rules_text_arg - a required "text" argument */
static int
rules_text_arg(struct rules_parser *p, struct rules_rule *r,
               struct rules_act *a, const char *what)
{
	if (p->tok.kind != TOK_STRING)
		return rules_perror(p, &p->tok, "%s needs a \"%s\"",
		                    rules_act_keyword(a->kind), what),
		       -1;
	a->has_text = 1;
	if (rules_text_compile(p, &p->tok, &a->text, &r->stage) != 0)
		return -1;
	return rules_lex(p);
}

/* rules_xcode_ok - is s class.subject.detail (digit, 1-3, 1-3 digits) */
static int
rules_xcode_ok(const char *s)
{
	size_t part, n;

	if (!isdigit((unsigned char)s[0]) || s[1] != '.')
		return 0;
	s += 2;
	for (part = 0; part < 2; part++) {
		for (n = 0; isdigit((unsigned char)s[n]); n++)
			;
		if (n == 0 || n > 3 || (s[n] != (part == 0 ? '.' : '\0')))
			return 0;
		s += n + (part == 0);
	}
	return 1;
}

/* rules_smtp_code - [CODE [XCODE]] of reject or tempfail */
static int
rules_smtp_code(struct rules_parser *p, struct rules_act *a, char cls)
{
	const char *s = p->tok.text, *what = rules_act_keyword(a->kind);

	a->code = cls == '5' ? 550 : 451;
	snprintf(a->xcode, sizeof(a->xcode), "%c.7.1", cls);
	if (p->tok.kind != TOK_WORD || !isdigit((unsigned char)s[0]))
		return 0;
	if (strlen(s) != 3 || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || s[0] != cls)
		return rules_perror(p, &p->tok,
		                    "%s needs a %cxx code, got "
		                    "%.20s",
		                    what, cls, s),
		       -1;
	a->code =
	    (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
	if (rules_lex(p) != 0)
		return -1;
	s = p->tok.text;
	if (p->tok.kind != TOK_WORD || !isdigit((unsigned char)s[0]))
		return 0;
	if (!rules_xcode_ok(s))
		return rules_perror(p, &p->tok,
		                    "invalid enhanced status code "
		                    "%.20s (want class.subject.detail, like "
		                    "%c.7.1)",
		                    s, cls),
		       -1;
	if (s[0] != cls)
		return rules_perror(p, &p->tok,
		                    "enhanced status code %.20s "
		                    "does not match reply code %u",
		                    s, a->code),
		       -1;
	snprintf(a->xcode, sizeof(a->xcode), "%s", s);
	return rules_lex(p);
}

/* rules_header_name - check a header field name (RFC 5322 ftext) */
static int
rules_header_name(struct rules_parser *p, struct rules_act *a)
{
	const unsigned char *s = (const unsigned char *)p->tok.text;
	size_t i;

	if (p->tok.kind != TOK_WORD && p->tok.kind != TOK_STRING)
		return rules_perror(p, &p->tok,
		                    "add-header needs a header "
		                    "name"),
		       -1;
	if (p->tok.len == 0 || p->tok.len > 76)
		return rules_perror(p, &p->tok,
		                    "a header name has 1 to 76 "
		                    "characters"),
		       -1;
	for (i = 0; i < p->tok.len; i++)
		if (s[i] < 33 || s[i] > 126 || s[i] == ':')
			return rules_perror(p, &p->tok,
			                    "invalid character in "
			                    "header name \"%.60s\"",
			                    p->tok.text),
			       -1;
	if (strcasecmp(p->tok.text, "Authentication-Results") == 0 ||
	    strcasecmp(p->tok.text, "Received-SPF") == 0)
		return rules_perror(p, &p->tok,
		                    "refusing to add %s: mailvet "
		                    "writes that header itself",
		                    p->tok.text),
		       -1;
	a->hname = p->tok.text;
	return rules_lex(p);
}

/* rules_action_args - the arguments of one action */
static int
rules_action_args(struct rules_parser *p, struct rules_rule *r,
                  struct rules_act *a)
{
	switch (a->kind) {
	case ACT_REJECT:
	case ACT_TEMPFAIL:
		if (rules_smtp_code(p, a, a->kind == ACT_REJECT ? '5' : '4'))
			return -1;
		if (p->tok.kind != TOK_STRING)
			return 0;
		return rules_text_arg(p, r, a, "text");
	case ACT_QUARANTINE: return rules_text_arg(p, r, a, "reason");
	case ACT_ADD_HEADER:
		if (rules_header_name(p, a) != 0)
			return -1;
		return rules_text_arg(p, r, a, "value");
	case ACT_LOG: return rules_text_arg(p, r, a, "text");
	case ACT_SCORE:
		return rules_parse_number(p, -RULES_MAX_SCORE, RULES_MAX_SCORE,
		                          &a->score);
	default: return 0;
	}
}

/* rules_parse_action - one action into r->acts */
static int
rules_parse_action(struct rules_parser *p, struct rules_rule *r)
{
	struct rules_act *a;
	char d[64];
	size_t i;

	for (i = 0; i < sizeof(rules_act_words) / sizeof(rules_act_words[0]);
	     i++)
		if (rules_word_is(&p->tok, rules_act_words[i].word))
			break;
	if (i == sizeof(rules_act_words) / sizeof(rules_act_words[0])) {
		rules_tok_describe(&p->tok, d, sizeof(d));
		return rules_perror(p, &p->tok,
		                    "expected an action (accept, "
		                    "reject, tempfail, discard, quarantine, "
		                    "add-header, log, score), got %s",
		                    d),
		       -1;
	}
	if (r->final)
		return rules_perror(
		           p, &p->tok,
		           "no action may follow the "
		           "final action \"%s\"",
		           rules_act_keyword(r->acts[r->nacts - 1].kind)),
		       -1;
	r->acts = rules_grow(p->rs, r->acts, r->nacts, sizeof(*r->acts));
	if (r->acts == NULL)
		return rules_perror(p, &p->tok, "out of memory"), -1;
	a = &r->acts[r->nacts++];
	a->kind = rules_act_words[i].kind;
	r->final = rules_is_final_act(a->kind);
	if (rules_lex(p) != 0)
		return -1;
	return rules_action_args(p, r, a);
}

/* rules_parse_actions - action { "," action } [ "continue" ] */
int
rules_parse_actions(struct rules_parser *p, struct rules_rule *r)
{
	for (;;) {
		if (rules_parse_action(p, r) != 0)
			return -1;
		if (p->tok.kind != TOK_COMMA)
			break;
		if (rules_lex(p) != 0)
			return -1;
	}
	if (!rules_word_is(&p->tok, "continue"))
		return 0;
	if (r->final)
		return rules_perror(
		           p, &p->tok,
		           "\"continue\" is not allowed "
		           "after the final action \"%s\"",
		           rules_act_keyword(r->acts[r->nacts - 1].kind)),
		       -1;
	return rules_lex(p);
}
