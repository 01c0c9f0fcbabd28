/*
 * conf - read mailvet.conf into a reference-counted struct conf
 *
 * A file is read whole (at most CONF_FILE_MAX bytes) and split into lines
 * of at most CONF_LINE_MAX bytes; a longer line is an error, never cut.
 * A line is "key = value", blank, or a comment: '#' starts a comment
 * outside double quotes. A value is either quoted as a whole ("...",
 * which keeps '#' and blanks) or bare; it can never hold a '"'. The key
 * and value are trimmed of white space. Every value goes through the
 * option table (conf/options.c) and conf_value_set (conf/conf_types.c).
 *
 * After the file, two values are completed: an unset authserv_id becomes
 * the host name, and local_names always gets authserv_id and the host
 * name added, so the HELO check reads one list.
 *
 * Ownership: the struct and everything it points to belong to the
 * config; conf_unref() frees them when the last reference goes. The
 * reference count is atomic: sessions on other threads may drop their
 * references while main loads the next config.
 *
 * Functions:
 *   conf_defaults, conf_load, conf_parse_text, conf_ref, conf_unref,
 *   conf_print, conf_edit_distance
 *
 * Diagnostics (in the caller's buffer, the first error only):
 *   FILE: cannot open: STRERROR           FILE: cannot read: STRERROR
 *   FILE: larger than N bytes             FILE:LINE: line too long ...
 *   FILE:LINE: missing "="                FILE:LINE: missing option name
 *   FILE:LINE: bad option name "K"        FILE:LINE: NUL byte in line
 *   FILE:LINE: missing closing quote      FILE:LINE: stray quote in value
 *   FILE:LINE: unknown option "K"[; did you mean "O"?]
 *   FILE:LINE: duplicate option "K" (first set at line N)
 *   FILE:LINE: OPTION: ... (from the value types)
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_internal.h"
#include "lib/editdist.h"

#define CONF_MSG_MAX      512
#define CONF_SUGGEST_MAX  2  /* edit distance that still earns a hint */
#define CONF_DISTANCE_CAP 99 /* what longer keys (no hint) compare as */

/* conf_alloc - a config holding every table default, before completion */
static struct conf *
conf_alloc(char *msg, size_t msglen)
{
	struct conf *conf = calloc(1, sizeof(*conf));

	if (conf == NULL) {
		snprintf(msg, msglen, "out of memory");
		return NULL;
	}
	conf->refs = 1;
	for (size_t i = 0; i < conf_option_count; i++) {
		const struct conf_option *opt = &conf_options[i];

		if (opt->def != NULL &&
		    conf_value_set(opt, opt->def, conf, msg, msglen) != 0) {
			conf_unref(conf);
			return NULL;
		}
	}
	return conf;
}

/* conf_complete - default authserv_id; add it and the host to local_names */
static int
conf_complete(struct conf *conf, char *msg, size_t msglen)
{
	char host[CONF_NAME_MAX + 2], bad[CONF_NAME_MAX + 2];
	const char *names = conf->local_names ? conf->local_names : "";
	char *all, *list = NULL;
	size_t len;
	int rc;

	conf_hostname(host, sizeof(host));
	if (conf->authserv_id == NULL &&
	    (conf->authserv_id = strdup(host)) == NULL)
		goto nomem;
	len = strlen(names) + strlen(conf->authserv_id) + strlen(host) + 3;
	if ((all = malloc(len)) == NULL)
		goto nomem;
	snprintf(all, len, "%s,%s,%s", names, conf->authserv_id, host);
	rc = conf_names_normalize(all, &list, bad, sizeof(bad));
	free(all);
	if (rc != 0 || list == NULL)
		goto nomem; /* every part was validated: only ENOMEM is left */
	free(conf->local_names);
	conf->local_names = list;
	return 0;
nomem:
	snprintf(msg, msglen, "out of memory");
	return -1;
}

/* conf_defaults - a config with every default (refs 1); NULL on ENOMEM */
struct conf *
conf_defaults(void)
{
	char msg[CONF_MSG_MAX];
	struct conf *conf = conf_alloc(msg, sizeof(msg));

	if (conf != NULL && conf_complete(conf, msg, sizeof(msg)) != 0) {
		conf_unref(conf);
		return NULL;
	}
	return conf;
}

/* trim - strip white space from both ends, in place */
static char *
trim(char *s)
{
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* strip_comment - cut at the first '#' outside quotes; -1: open quote */
static int
strip_comment(char *line)
{
	int quoted = 0;

	for (char *p = line; *p != '\0'; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '#' && !quoted) {
			*p = '\0';
			break;
		}
	}
	return quoted ? -1 : 0;
}

/* unquote - a value quoted as a whole loses its quotes; NULL: bad quotes */
static char *
unquote(char *value, const char **why)
{
	size_t len = strlen(value);

	if (value[0] != '"') {
		*why = "stray quote in value";
		return strchr(value, '"') == NULL ? value : NULL;
	}
	*why = "text after closing quote";
	if (len < 2 || value[len - 1] != '"' ||
	    memchr(value + 1, '"', len - 2) != NULL)
		return NULL;
	value[len - 1] = '\0';
	return value + 1;
}

/*
 * split_line - key and value of one line. Returns 1 for a setting, 0 for
 * a blank or comment line, -1 with a message.
 */
static int
split_line(char *line, char **key, char **value, char *msg, size_t msglen)
{
	const char *why = "missing closing quote";
	char *eq;

	if (strip_comment(line) != 0)
		goto bad;
	line = trim(line);
	if (*line == '\0')
		return 0;
	if ((eq = strchr(line, '=')) == NULL) {
		snprintf(msg, msglen, "missing \"=\"");
		return -1;
	}
	*eq = '\0';
	*key = trim(line);
	if ((*value = unquote(trim(eq + 1), &why)) == NULL)
		goto bad;
	if (**key == '\0') {
		snprintf(msg, msglen, "missing option name");
		return -1;
	}
	return 1;
bad:
	snprintf(msg, msglen, "%s", why);
	return -1;
}

/* unknown_option - the message for a key not in the table, with a hint */
static void
unknown_option(const char *key, char *msg, size_t msglen)
{
	const struct conf_option *best = NULL;
	unsigned best_d = CONF_SUGGEST_MAX + 1;

	for (size_t i = 0; i < conf_option_count; i++) {
		unsigned d = conf_edit_distance(key, conf_options[i].name);

		if (d < best_d) {
			best_d = d;
			best = &conf_options[i];
		}
	}
	if (best != NULL)
		snprintf(msg, msglen,
		         "unknown option \"%s\"; did you mean \"%s\"?", key,
		         best->name);
	else
		snprintf(msg, msglen, "unknown option \"%s\"", key);
}

/* conf_line - apply one line; seen[] keeps where each option was set */
static int
conf_line(struct conf *conf, char *line, unsigned lineno, unsigned *seen,
          char *msg, size_t msglen)
{
	const struct conf_option *opt;
	char *key, *value;
	size_t idx;
	int rc = split_line(line, &key, &value, msg, msglen);

	if (rc <= 0)
		return rc;
	if (strspn(key,
	           "abcdefghijklmnopqrstuvwxyz"
	           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(key)) {
		snprintf(msg, msglen, "bad option name \"%s\"", key);
		return -1;
	}
	if ((opt = conf_option_find(key)) == NULL) {
		unknown_option(key, msg, msglen);
		return -1;
	}
	idx = (size_t)(opt - conf_options);
	if (seen[idx] != 0) {
		snprintf(msg, msglen,
		         "duplicate option \"%s\" (first set at line %u)", key,
		         seen[idx]);
		return -1;
	}
	seen[idx] = lineno;
	return conf_value_set(opt, value, conf, msg, msglen);
}

/* conf_lines - apply every line of text; the failing line number or 0 */
static unsigned
conf_lines(struct conf *conf, const char *text, size_t len, char *msg,
           size_t msglen)
{
	char line[CONF_LINE_MAX + 1];
	unsigned *seen = calloc(conf_option_count, sizeof(*seen));
	const char *p = text, *end = text + len;
	unsigned lineno = 0, failed = 0;

	if (seen == NULL) {
		snprintf(msg, msglen, "out of memory");
		return 1;
	}
	while (p < end && failed == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		lineno++;
		if (n > CONF_LINE_MAX) {
			snprintf(msg, msglen,
			         "line too long (more than %d bytes)",
			         CONF_LINE_MAX);
			failed = lineno;
		} else if (memchr(p, '\0', n) != NULL) {
			snprintf(msg, msglen, "NUL byte in line");
			failed = lineno;
		} else {
			memcpy(line, p, n);
			line[n] = '\0';
			if (conf_line(conf, line, lineno, seen, msg, msglen))
				failed = lineno;
		}
		p = nl ? nl + 1 : end;
	}
	free(seen);
	return failed;
}

/* conf_parse_text - the same from memory; name is used in messages */
struct conf *
conf_parse_text(const char *text, size_t len, const char *name, char *err,
                size_t errlen)
{
	char msg[CONF_MSG_MAX];
	struct conf *conf;
	unsigned lineno;

	if (name == NULL)
		name = "(config)";
	if ((conf = conf_alloc(msg, sizeof(msg))) == NULL) {
		snprintf(err, errlen, "%s: %s", name, msg);
		return NULL;
	}
	if ((lineno = conf_lines(conf, text, len, msg, sizeof(msg))) != 0) {
		snprintf(err, errlen, "%s:%u: %s", name, lineno, msg);
		conf_unref(conf);
		return NULL;
	}
	if (conf_complete(conf, msg, sizeof(msg)) != 0 ||
	    (conf->path = strdup(name)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		conf_unref(conf);
		return NULL;
	}
	return conf;
}

/* read_file - the whole of fp into a new buffer; -1 with a message */
static char *
read_file(FILE *fp, size_t *lenp, char *msg, size_t msglen)
{
	char *buf = malloc(CONF_FILE_MAX + 1);
	size_t len;

	if (buf == NULL) {
		snprintf(msg, msglen, "out of memory");
		return NULL;
	}
	len = fread(buf, 1, CONF_FILE_MAX + 1, fp);
	if (ferror(fp)) {
		snprintf(msg, msglen, "cannot read: %s", strerror(errno));
	} else if (len > CONF_FILE_MAX) {
		snprintf(msg, msglen, "larger than %d bytes", CONF_FILE_MAX);
	} else {
		*lenp = len;
		return buf;
	}
	free(buf);
	return NULL;
}

/*
 * conf_load - read path into a new config (refs 1). On error returns NULL
 * and writes "FILE:LINE: message" (or "FILE: message") to err.
 */
struct conf *
conf_load(const char *path, char *err, size_t errlen)
{
	char msg[CONF_MSG_MAX];
	struct conf *conf;
	FILE *fp = fopen(path, "re");
	char *text;
	size_t len = 0;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		         strerror(errno));
		return NULL;
	}
	text = read_file(fp, &len, msg, sizeof(msg));
	fclose(fp);
	if (text == NULL) {
		snprintf(err, errlen, "%s: %s", path, msg);
		return NULL;
	}
	conf = conf_parse_text(text, len, path, err, errlen);
	free(text);
	return conf;
}

/* conf_ref - one more reference; returns conf */
struct conf *
conf_ref(struct conf *conf)
{
	if (conf != NULL)
		__atomic_add_fetch(&conf->refs, 1, __ATOMIC_RELAXED);
	return conf;
}

/* conf_unref - drop a reference; the last one frees everything */
void
conf_unref(struct conf *conf)
{
	if (conf == NULL ||
	    __atomic_sub_fetch(&conf->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < conf_option_count; i++)
		conf_value_free(&conf_options[i], conf);
	free(conf->path);
	free(conf);
}

/* conf_print - every option with its effective value, one per line */
void
conf_print(const struct conf *conf, FILE *out)
{
	for (size_t i = 0; i < conf_option_count; i++) {
		const struct conf_option *opt = &conf_options[i];
		char *text = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&text, &len);

		if (mem == NULL) {
			fprintf(out, "%s = ", opt->name);
			conf_value_print(opt, conf, out);
			fputc('\n', out);
			continue;
		}
		conf_value_print(opt, conf, mem);
		fclose(mem);
		if (len == 0)
			fprintf(out, "%s =\n", opt->name);
		else
			fprintf(out, "%s = %s\n", opt->name, text);
		free(text);
	}
}

/*
 * conf_edit_distance - optimal string alignment distance, capped at 99
 * (kept as the name the unit test checks; the work is lib/editdist.c)
 */
unsigned
conf_edit_distance(const char *a, const char *b)
{
	return (unsigned)editdist(a, b, CONF_DISTANCE_CAP, EDITDIST_TRANSPOSE);
}
