/*
 * rules - the rules language: parse a rules file, print it canonically,
 * evaluate it against facts at each SMTP stage.
 *
 * Pure C: no libmilter, no DNS. The milter hands the evaluator a callback
 * that produces fact values (and may wait for DNS inside it); the
 * evaluator returns a verdict the milter applies.
 *
 * Ownership: a ruleset is immutable and reference-counted (rules_ref /
 * rules_unref), so a reload can replace it while sessions keep theirs.
 */
#ifndef MAILVET_RULES_H
#define MAILVET_RULES_H

#include <stddef.h>
#include <stdio.h>

#include "rules/facts.h"

struct ruleset;

struct rules_error {
	char file[256];
	unsigned line, col; /* 1-based; 0 when not applicable */
	char message[256];
	char source[256]; /* the offending line, for the caret display */
};

/* rules_error_format - "FILE:LINE:COL: message\n<line>\n<caret>\n" */
void rules_error_format(const struct rules_error *err, char *buf, size_t len);

struct ruleset *rules_load(const char *path, struct rules_error *err);
struct ruleset *rules_parse(const char *text, size_t len, const char *name,
                            struct rules_error *err);
struct ruleset *rules_ref(struct ruleset *rs);
void rules_unref(struct ruleset *rs); /* NULL is a no-op */

/* rules_print - the canonical form (parse(print(x)) prints the same) */
void rules_print(const struct ruleset *rs, FILE *out);
char *rules_print_text(const struct ruleset *rs); /* caller frees */

/* rules_count - number of rules; rules_uses_fact - does any rule read it */
size_t rules_count(const struct ruleset *rs);
int rules_uses_fact(const struct ruleset *rs, const char *fact);

/*
 * The fact provider: fill *out for def at the current stage. Returns 0,
 * or -1 when the fact is not available at this stage (the evaluator never
 * asks for a fact before its stage).
 */
typedef int rules_fact_fn(void *ctx, const struct fact_def *def,
                          struct fact_value *out);

enum rules_action {
	RULES_UNDECIDED, /* no final rule matched (yet) */
	RULES_ACCEPT,
	RULES_REJECT,
	RULES_TEMPFAIL,
	RULES_DISCARD,
	RULES_QUARANTINE,
};

const char *rules_action_name(enum rules_action a);

struct rules_header {
	char *name;
	char *value; /* expanded and sanitized: no CR, LF or controls */
};

struct rules_options {
	int on_temperror_accept; /* unknown ending: accept instead of tempfail
	                          */
	int dry_run;             /* global dry run */
};

struct rules_verdict {
	enum rules_action action;
	int final;          /* 1: decided at this stage, stop asking */
	int pending;        /* a rule needs a later stage to decide */
	int from_temperror; /* decided by on_temperror (unknown ending) */
	int dry_run;        /* would-be action only: deliver anyway */
	char *rule;         /* deciding rule's name, or NULL */
	unsigned code;      /* SMTP code, 0 = default for the action */
	char xcode[16];     /* enhanced code, "" = default */
	char *text;         /* expanded reply text / quarantine reason */
	struct rules_header *headers; /* add-header actions, in order */
	size_t nheaders;
	char **logs; /* log actions, expanded */
	size_t nlogs;
	long long score; /* sum of matched score actions */
};

/*
 * rules_evaluate - evaluate the rules whose facts are all known at stage,
 * in file order. See mailvet.rules(5) for the exact semantics. Returns 0,
 * or -1 on an internal error (out of memory): the caller treats that as an
 * internal error, never as accept.
 */
int rules_evaluate(const struct ruleset *rs, enum stage stage,
                   rules_fact_fn *facts, void *ctx,
                   const struct rules_options *opt, struct rules_verdict *out);
void rules_verdict_free(struct rules_verdict *v);

#endif
