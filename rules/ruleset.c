/*
 * ruleset - life cycle of a parsed rules file: its arena, reference
 * counting, loading from a file, error formatting and small queries.
 *
 * Functions:
 *   rules_load, rules_ref, rules_unref, rules_count, rules_uses_fact,
 *   rules_error_format, rules_action_name, rules_verdict_free (public);
 *   rules_new, rules_alloc, rules_strndup, rules_grow, rules_regex_new
 *   (for the parser).
 *
 * Ownership: every node of a ruleset lives in its arena; rules_unref frees
 * the arena and the compiled regexes when the last reference goes. The
 * count is changed with atomic builtins, so sessions on several threads
 * may share one ruleset.
 *
 * Diagnostics: rules_load reports a file it cannot read with line 0.
 */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_internal.h"

#define RULES_CHUNK    8192
#define RULES_MAX_FILE (16u * 1024 * 1024)

struct rules_chunk {
	struct rules_chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct rules_regex {
	regex_t re;
	struct rules_regex *next;
};

/* rules_new - an empty ruleset with one reference */
struct ruleset *
rules_new(void)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));

	if (rs == NULL)
		return NULL;
	rs->refs = 1;
	rs->used = rules_alloc(rs, facts_count);
	if (rs->used == NULL) {
		free(rs);
		return NULL;
	}
	return rs;
}

/* rules_alloc - zeroed memory from the ruleset's arena, NULL when out */
void *
rules_alloc(struct ruleset *rs, size_t size)
{
	struct rules_chunk *c = rs->chunks;
	size_t align = alignof(max_align_t), need;
	void *p;

	size = (size + align - 1) / align * align;
	if (size == 0)
		size = align;
	if (c == NULL || c->size - c->used < size) {
		need = size > RULES_CHUNK ? size : RULES_CHUNK;
		c = malloc(sizeof(*c) + need);
		if (c == NULL)
			return NULL;
		c->used = 0;
		c->size = need;
		c->next = rs->chunks;
		rs->chunks = c;
	}
	p = (char *)c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

/* rules_strndup - a NUL-terminated copy of n bytes in the arena */
char *
rules_strndup(struct ruleset *rs, const char *s, size_t n)
{
	char *p = rules_alloc(rs, n + 1);

	if (p != NULL && n > 0)
		memcpy(p, s, n);
	return p;
}

/* rules_grow - an arena array of n+1 elements holding the n old ones */
void *
rules_grow(struct ruleset *rs, void *old, size_t n, size_t size)
{
	void *p = rules_alloc(rs, (n + 1) * size);

	if (p != NULL && n > 0)
		memcpy(p, old, n * size);
	return p;
}

/* rules_regex_new - room for one regex, regfree'd with the ruleset */
regex_t *
rules_regex_new(void)
{
	struct rules_regex *r = calloc(1, sizeof(*r));

	return r == NULL ? NULL : &r->re;
}

/* rules_regex_keep - chain a compiled regex for rules_unref */
static void
rules_regex_keep(struct ruleset *rs, regex_t *re)
{
	struct rules_regex *r = (struct rules_regex *)(void *)re;

	r->next = rs->regexes;
	rs->regexes = r;
}

/* rules_regex_done - keep a compiled regex, or free a failed one */
void
rules_regex_done(struct ruleset *rs, regex_t *re, int compiled)
{
	if (compiled)
		rules_regex_keep(rs, re);
	else
		free(re);
}

/* rules_ref - one more reference */
struct ruleset *
rules_ref(struct ruleset *rs)
{
	if (rs != NULL)
		__atomic_add_fetch(&rs->refs, 1, __ATOMIC_RELAXED);
	return rs;
}

/* rules_unref - one reference less; free at zero (NULL is a no-op) */
void
rules_unref(struct ruleset *rs)
{
	struct rules_chunk *c, *cn;
	struct rules_regex *r, *rn;

	if (rs == NULL ||
	    __atomic_sub_fetch(&rs->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (r = rs->regexes; r != NULL; r = rn) {
		rn = r->next;
		regfree(&r->re);
		free(r);
	}
	for (c = rs->chunks; c != NULL; c = cn) {
		cn = c->next;
		free(c);
	}
	free(rs);
}

/* rules_read_file - the whole file in a malloc'd buffer */
static char *
rules_read_file(const char *path, size_t *len, struct rules_error *err)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0, got;

	if (f == NULL)
		goto fail;
	buf = malloc(RULES_MAX_FILE + 1);
	if (buf == NULL)
		goto fail;
	while ((got = fread(buf + n, 1, RULES_MAX_FILE + 1 - n, f)) > 0)
		n += got;
	if (ferror(f))
		goto fail;
	if (n > RULES_MAX_FILE) {
		errno = EFBIG;
		goto fail;
	}
	fclose(f);
	*len = n;
	return buf;
fail:
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		snprintf(err->file, sizeof(err->file), "%s", path);
		snprintf(err->message, sizeof(err->message), "cannot read: %s",
		         strerror(errno));
	}
	free(buf);
	if (f != NULL)
		fclose(f);
	return NULL;
}

/* rules_load - parse the rules file at path */
struct ruleset *
rules_load(const char *path, struct rules_error *err)
{
	struct ruleset *rs;
	size_t len = 0;
	char *text = rules_read_file(path, &len, err);

	if (text == NULL)
		return NULL;
	rs = rules_parse(text, len, path, err);
	free(text);
	return rs;
}

/* rules_count - number of rules */
size_t
rules_count(const struct ruleset *rs)
{
	return rs == NULL ? 0 : rs->nrules;
}

/* rules_uses_fact - does any rule read the fact (condition or text) */
int
rules_uses_fact(const struct ruleset *rs, const char *fact)
{
	const struct fact_def *def = facts_lookup(fact);

	if (rs == NULL || def == NULL)
		return 0;
	return rs->used[def - facts_table] != 0;
}

/* rules_error_format - "FILE:LINE:COL: message", source line and caret */
void
rules_error_format(const struct rules_error *err, char *buf, size_t len)
{
	size_t n, i;
	int w;

	if (len == 0)
		return;
	if (err->line == 0) {
		snprintf(buf, len, "%s: %s\n", err->file, err->message);
		return;
	}
	w = snprintf(buf, len, "%s:%u:%u: %s\n%s\n", err->file, err->line,
	             err->col, err->message, err->source);
	if (w < 0 || (size_t)w >= len)
		return;
	n = (size_t)w;
	/* Tabs are kept so the caret lines up under any tab width. */
	for (i = 0; i + 1 < err->col && n + 3 < len; i++) {
		char c = i < strlen(err->source) ? err->source[i] : ' ';
		buf[n++] = c == '\t' ? '\t' : ' ';
	}
	if (n + 2 < len) {
		buf[n++] = '^';
		buf[n++] = '\n';
	}
	buf[n] = '\0';
}

/* rules_action_name - "accept", "reject", ... ("undecided") */
const char *
rules_action_name(enum rules_action a)
{
	static const char *const names[] = {
	    [RULES_UNDECIDED] = "undecided", [RULES_ACCEPT] = "accept",
	    [RULES_REJECT] = "reject",       [RULES_TEMPFAIL] = "tempfail",
	    [RULES_DISCARD] = "discard",     [RULES_QUARANTINE] = "quarantine",
	};

	if ((unsigned)a >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[a];
}

/* rules_act_keyword - the keyword of an action kind */
const char *
rules_act_keyword(enum rules_act_kind k)
{
	static const char *const names[] = {
	    [ACT_ACCEPT] = "accept",
	    [ACT_REJECT] = "reject",
	    [ACT_TEMPFAIL] = "tempfail",
	    [ACT_DISCARD] = "discard",
	    [ACT_QUARANTINE] = "quarantine",
	    [ACT_ADD_HEADER] = "add-header",
	    [ACT_LOG] = "log",
	    [ACT_SCORE] = "score",
	};

	return names[k];
}

/* rules_is_final_act - does the action decide */
int
rules_is_final_act(enum rules_act_kind k)
{
	return k != ACT_ADD_HEADER && k != ACT_LOG && k != ACT_SCORE;
}

/* rules_is_refusing_act - is it a refusal (dry run applies) */
int
rules_is_refusing_act(enum rules_act_kind k)
{
	return k == ACT_REJECT || k == ACT_TEMPFAIL || k == ACT_DISCARD ||
	       k == ACT_QUARANTINE;
}

/* rules_verdict_free - free what a verdict holds and clear it */
void
rules_verdict_free(struct rules_verdict *v)
{
	size_t i;

	if (v == NULL)
		return;
	free(v->rule);
	free(v->text);
	for (i = 0; i < v->nheaders; i++) {
		free(v->headers[i].name);
		free(v->headers[i].value);
	}
	free(v->headers);
	for (i = 0; i < v->nlogs; i++)
		free(v->logs[i]);
	free(v->logs);
	memset(v, 0, sizeof(*v));
}
