/*
 * lexer - split a rules file into tokens, and report errors with their
 * position and source line.
 *
 * Tokens: words (names, keywords, numbers, addresses, networks: letters,
 * digits and _ . : / - +), "strings" (escapes \" and \\ only; no line
 * breaks or control characters but tab), /regexes/ (\/ for a slash),
 * $list references, ( ) , | = and the comparisons == != < <= > >=.
 * White space separates tokens; # starts a comment up to the end of line.
 *
 * Functions: rules_lex (next token into p->tok), rules_perror (fill the
 * error from a token's position), rules_tok_describe, rules_word_is.
 *
 * Diagnostics: rules_lex returns -1 with p->err filled on bad input.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules/rules_internal.h"

/* rules_lex_isword - may c appear in a word */
static int
rules_lex_isword(int c)
{
	return isalnum(c) || (c != 0 && strchr("_.:/-+", c) != NULL);
}

/* rules_perror - report an error at a token's line and column */
void
rules_perror(struct rules_parser *p, const struct rules_token *at,
             const char *fmt, ...)
{
	struct rules_error *e = p->err;
	va_list ap;
	size_t n = 0, i;

	if (e == NULL)
		return;
	memset(e, 0, sizeof(*e));
	snprintf(e->file, sizeof(e->file), "%s", p->file);
	e->line = at->line;
	e->col = at->col;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	for (i = at->line_off;
	     i < p->len && p->src[i] != '\n' && n + 1 < sizeof(e->source);
	     i++) {
		unsigned char c = (unsigned char)p->src[i];
		/* Keep the caret line meaningful: no raw controls. */
		e->source[n++] =
		    (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
	}
	if (n > 0 && e->source[n - 1] == '\r')
		e->source[n - 1] = '\0';
}

/* rules_lex_here - a token positioned at the current offset */
static void
rules_lex_here(struct rules_parser *p, struct rules_token *t)
{
	memset(t, 0, sizeof(*t));
	t->line = p->line;
	t->line_off = p->line_off;
	t->col = (unsigned)(p->pos - p->line_off + 1);
}

/* rules_lex_space - skip white space and comments */
static void
rules_lex_space(struct rules_parser *p)
{
	while (p->pos < p->len) {
		char c = p->src[p->pos];

		if (c == '\n') {
			p->pos++;
			p->line++;
			p->line_off = p->pos;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			p->pos++;
		} else if (c == '#') {
			while (p->pos < p->len && p->src[p->pos] != '\n')
				p->pos++;
		} else {
			break;
		}
	}
}

/* rules_lex_span - bytes up to the closing quote, to size the buffer */
static size_t
rules_lex_span(const struct rules_parser *p, char q)
{
	size_t i = p->pos + 1;

	while (i < p->len && p->src[i] != q && p->src[i] != '\n')
		i += p->src[i] == '\\' ? 2 : 1;
	return i - p->pos;
}

/* rules_lex_quoted - a "string" or /regex/ body up to the closing quote */
static int
rules_lex_quoted(struct rules_parser *p, struct rules_token *t, char q)
{
	const char *what = q == '"' ? "string" : "regex";
	char *buf = rules_alloc(p->rs, rules_lex_span(p, q) + 1);
	size_t n = 0;
	struct rules_token at;

	if (buf == NULL)
		return rules_perror(p, t, "out of memory"), -1;
	for (p->pos++; p->pos < p->len; p->pos++) {
		unsigned char c = (unsigned char)p->src[p->pos];

		rules_lex_here(p, &at);
		if (c == (unsigned char)q) {
			p->pos++;
			t->text = buf;
			t->len = n;
			return 0;
		}
		if (c == '\n')
			break;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return rules_perror(p, &at, "control character in %s",
			                    what),
			       -1;
		if (c == '\\' && p->pos + 1 < p->len) {
			char d = p->src[++p->pos];

			if (q == '"' && d != '"' && d != '\\')
				return rules_perror(
				           p, &at,
				           "unknown escape \\%c in string "
				           "(only \\\" "
				           "and \\\\)",
				           isprint((unsigned char)d) ? d : '?'),
				       -1;
			if (q == '/' && d != '/')
				buf[n++] = '\\';
			if (d == '\n')
				break;
			c = (unsigned char)d;
		}
		buf[n++] = (char)c;
	}
	rules_perror(p, t, "unterminated %s", what);
	return -1;
}

/* rules_lex_op - one of ( ) , | = == != < <= > >= */
static int
rules_lex_op(struct rules_parser *p, struct rules_token *t)
{
	static const struct {
		const char *s;
		enum rules_tok kind;
		enum rules_cmp op;
	} ops[] = {
	    {"==", TOK_CMP, CMP_EQ}, {"!=", TOK_CMP, CMP_NE},
	    {"<=", TOK_CMP, CMP_LE}, {">=", TOK_CMP, CMP_GE},
	    {"<", TOK_CMP, CMP_LT},  {">", TOK_CMP, CMP_GT},
	    {"(", TOK_LPAREN, 0},    {")", TOK_RPAREN, 0},
	    {",", TOK_COMMA, 0},     {"|", TOK_PIPE, 0},
	    {"=", TOK_ASSIGN, 0},
	};
	size_t i, n;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		n = strlen(ops[i].s);
		if (p->len - p->pos >= n &&
		    memcmp(p->src + p->pos, ops[i].s, n) == 0) {
			t->kind = ops[i].kind;
			t->op = ops[i].op;
			t->text = ops[i].s;
			t->len = n;
			p->pos += n;
			return 0;
		}
	}
	return -1;
}

/* rules_lex_word - a run of word characters (also after '$') */
static int
rules_lex_word(struct rules_parser *p, struct rules_token *t)
{
	size_t start = p->pos;

	while (p->pos < p->len &&
	       rules_lex_isword((unsigned char)p->src[p->pos]))
		p->pos++;
	t->len = p->pos - start;
	t->text = rules_strndup(p->rs, p->src + start, t->len);
	if (t->text == NULL)
		return rules_perror(p, t, "out of memory"), -1;
	return 0;
}

/* rules_lex_eof - place end of file after the last line, not below it */
static void
rules_lex_eof(struct rules_parser *p, struct rules_token *t)
{
	size_t end, start;

	t->kind = TOK_EOF;
	t->text = "";
	if (t->col != 1 || t->line <= 1)
		return;
	end = t->line_off - 1; /* the last newline */
	for (start = end; start > 0 && p->src[start - 1] != '\n'; start--)
		;
	t->line--;
	t->line_off = start;
	t->col = (unsigned)(end - start + 1);
}

/* rules_lex - read the next token into p->tok */
int
rules_lex(struct rules_parser *p)
{
	struct rules_token *t = &p->tok;
	unsigned char c;

	rules_lex_space(p);
	rules_lex_here(p, t);
	if (p->pos >= p->len) {
		rules_lex_eof(p, t);
		return 0;
	}
	c = (unsigned char)p->src[p->pos];
	if (c == '"' || c == '/') {
		t->kind = c == '"' ? TOK_STRING : TOK_REGEX;
		return rules_lex_quoted(p, t, (char)c);
	}
	if (c == '$') {
		t->kind = TOK_VAR;
		p->pos++;
		if (rules_lex_word(p, t) != 0)
			return -1;
		if (t->len == 0)
			return rules_perror(p, t,
			                    "expected a list name after \"$\""),
			       -1;
		return 0;
	}
	if (rules_lex_isword(c)) {
		t->kind = TOK_WORD;
		return rules_lex_word(p, t);
	}
	if (rules_lex_op(p, t) == 0)
		return 0;
	if (isprint(c))
		rules_perror(p, t, "unexpected character '%c'", c);
	else
		rules_perror(p, t, "unexpected byte 0x%02x", c);
	return -1;
}

/* rules_tok_describe - a token for messages: "then", string "x", ... */
void
rules_tok_describe(const struct rules_token *t, char *buf, size_t len)
{
	switch (t->kind) {
	case TOK_EOF: snprintf(buf, len, "end of file"); break;
	case TOK_STRING: snprintf(buf, len, "string \"%.40s\"", t->text); break;
	case TOK_REGEX: snprintf(buf, len, "regex /%.40s/", t->text); break;
	case TOK_VAR: snprintf(buf, len, "$%.40s", t->text); break;
	default: snprintf(buf, len, "\"%.40s\"", t->text); break;
	}
}

/* rules_word_is - is the token the given word (keywords are lower case) */
int
rules_word_is(const struct rules_token *t, const char *word)
{
	return t->kind == TOK_WORD && strcmp(t->text, word) == 0;
}
