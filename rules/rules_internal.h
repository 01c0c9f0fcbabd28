/*
 * rules_internal - the parsed form of a rules file, shared by the parser,
 * the printer and the evaluator. Not for use outside rules/.
 *
 * Ownership: everything a ruleset points to lives in its arena (one chain
 * of malloc'd chunks) and goes away with it; compiled regexes are also
 * chained so that rules_unref can regfree them.
 */
#ifndef MAILVET_RULES_INTERNAL_H
#define MAILVET_RULES_INTERNAL_H

#include <regex.h>
#include <stddef.h>

#include "lib/netaddr.h"
#include "rules/rules.h"

#define RULES_MAX_DEPTH    64        /* nesting of parentheses and "not" */
#define RULES_MAX_EXPANDED 900       /* bytes of an expanded text */
#define RULES_MAX_SCORE    1000000LL /* |N| in "score N" */

enum rules_cond_kind {
	COND_TRUE,
	COND_AND,
	COND_OR,
	COND_NOT,
	COND_IS,
	COND_IN,
	COND_CMP,
	COND_GLOB,
	COND_REGEX,
};

enum rules_cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

/* One alternative of "FACT is A|B|C". */
struct rules_value {
	int temperror; /* "is temperror" */
	int none;      /* "is none": absent (string, address) */
	enum result result;
	const char *str;
	long long num;
	int boolean;
	struct netaddr ip;
};

struct rules_list {
	const char *name; /* NULL for an inline list */
	unsigned line;
	int is_cidr; /* networks, else strings (globs) */
	size_t n;
	struct cidr *cidrs;
	const char **strs;
};

struct rules_cond {
	enum rules_cond_kind kind;
	struct rules_cond *left, *right; /* and, or; not uses left */
	int fact;                        /* index into facts_table */
	enum rules_cmp op;
	long long num;
	struct rules_value *vals;
	size_t nvals;
	const struct rules_list *list;
	const char *pattern; /* glob or regex source */
	regex_t *re;
};

enum rules_act_kind {
	ACT_ACCEPT,
	ACT_REJECT,
	ACT_TEMPFAIL,
	ACT_DISCARD,
	ACT_QUARANTINE,
	ACT_ADD_HEADER,
	ACT_LOG,
	ACT_SCORE,
};

/* A text with %{fact} references: literal pieces and fact pieces. */
struct rules_seg {
	const char *lit;
	size_t len;
	int fact; /* -1 for a literal piece */
};

struct rules_text {
	const char *raw; /* as written (after string escapes) */
	struct rules_seg *segs;
	size_t nsegs;
};

struct rules_act {
	enum rules_act_kind kind;
	unsigned code;
	char xcode[16];
	int has_text;
	struct rules_text text;
	const char *hname;
	long long score;
};

struct rules_rule {
	const char *name;
	unsigned line;
	int dry_run;
	int final; /* the last action decides */
	enum stage stage;
	struct rules_cond *cond; /* NULL: always true */
	struct rules_act *acts;
	size_t nacts;
};

struct rules_chunk;
struct rules_regex;

struct ruleset {
	int refs;
	struct rules_chunk *chunks;
	struct rules_regex *regexes;
	struct rules_list **lists;
	size_t nlists;
	struct rules_rule **rules;
	size_t nrules;
	unsigned char *used; /* facts_count flags: read by some rule */
};

/* ruleset.c */
struct ruleset *rules_new(void);
void *rules_alloc(struct ruleset *rs, size_t size);
char *rules_strndup(struct ruleset *rs, const char *s, size_t n);
void *rules_grow(struct ruleset *rs, void *old, size_t n, size_t size);
regex_t *rules_regex_new(void);
void rules_regex_done(struct ruleset *rs, regex_t *re, int compiled);
int rules_is_final_act(enum rules_act_kind k);
int rules_is_refusing_act(enum rules_act_kind k);
const char *rules_act_keyword(enum rules_act_kind k);

/* lexer.c */
enum rules_tok {
	TOK_EOF,
	TOK_WORD,
	TOK_STRING,
	TOK_REGEX,
	TOK_VAR,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_COMMA,
	TOK_PIPE,
	TOK_ASSIGN,
	TOK_CMP,
};

struct rules_token {
	enum rules_tok kind;
	const char *text; /* NUL-terminated, in the arena */
	size_t len;
	enum rules_cmp op;
	unsigned line, col;
	size_t line_off; /* offset of the token's line in the source */
};

struct rules_parser {
	const char *src;
	size_t len, pos;
	unsigned line;
	size_t line_off;
	const char *file;
	struct ruleset *rs;
	struct rules_error *err;
	struct rules_token tok; /* the current token */
	int depth;              /* nesting of ( and not */
	int terms;              /* nodes in the current condition */
};

int rules_lex(struct rules_parser *p);
void rules_perror(struct rules_parser *p, const struct rules_token *at,
                  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void rules_tok_describe(const struct rules_token *t, char *buf, size_t len);
int rules_word_is(const struct rules_token *t, const char *word);

/* parser.c, cond.c, action.c */
struct rules_cond *rules_parse_cond(struct rules_parser *p, enum stage *st);
int rules_parse_actions(struct rules_parser *p, struct rules_rule *r);
int rules_parse_items(struct rules_parser *p, struct rules_list *l);
int rules_parse_number(struct rules_parser *p, long long min, long long max,
                       long long *out);
int rules_fact_ref(struct rules_parser *p, const char *name);
const struct rules_list *rules_list_lookup(struct rules_parser *p);
void rules_suggest(const char *name, char *buf, size_t len);

/* expand.c */
int rules_text_compile(struct rules_parser *p, const struct rules_token *t,
                       struct rules_text *out, enum stage *st);

struct rules_eval;
char *rules_text_expand(struct rules_eval *ev, const struct rules_text *t);

/* eval.c: a fact's value for the current walk (NULL: unavailable) */
const struct fact_value *rules_eval_fact(struct rules_eval *ev, int fact);

/* print.c */
void rules_print_string(FILE *out, const char *s);

#endif
