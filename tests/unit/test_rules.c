/*
 * test_rules - the rules language: golden parse / error / evaluation
 * files under tests/rules/, the shipped rule files, and table cases for
 * three-valued logic and the walk's semantics.
 *
 * Run from the repository root. Golden files:
 *   tests/rules/parse/NAME.rules   canonical print in NAME.out
 *   tests/rules/errors/NAME.rules  formatted error in NAME.err
 *   tests/rules/eval/NAME.cases    a rules text and evaluation cases
 *
 * The .cases format, one directive per line ('#' starts a comment line):
 *   rules-file PATH        load the rules from a file, or
 *   rules                  the rules follow, up to a line "end"
 *   case NAME              start a case (runs when the next one starts)
 *   stage STAGE            connect, helo, mail, rcpt, eom (default eom)
 *   option OPT             on_temperror_accept, dry_run
 *   fact NAME VALUE        temperror, none (absent), unavailable, a
 *                          word (result, address, number, yes/no) or
 *                          "strings" (escapes \r \n \t \\ \"), comma
 *                          separated for a list; unset facts are absent
 *   expect LINE            the verdict, then "header N: V", "log T"
 * A verdict line reads: ACTION [final] [pending] [temperror] [dry-run]
 * [rule="R"] [code=N xcode=X] [text="T"] [score=N].
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "tests/unit/testlib.h"

#define MAXLIST 8
#define MAXOUT  8192

struct tfact {
	int set, unavailable;
	struct fact_value v;
	char *strs[MAXLIST];
};

struct tcase {
	char name[128];
	enum stage stage;
	struct rules_options opt;
	struct tfact facts[64];
	char want[MAXOUT];
	int active;
	int stage_violations;
};

/* read_file - a whole file, malloc'd and NUL-terminated, or NULL */
static char *
read_file(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf != NULL) {
		buf[n] = '\0';
		if (lenp != NULL)
			*lenp = (size_t)n;
	}
	return buf;
}

/* reprint - parse a canonical print again and print it */
static char *
reprint(const char *text, const char *name)
{
	struct rules_error err;
	struct ruleset *rs = rules_parse(text, strlen(text), name, &err);
	char *out;

	if (rs == NULL) {
		printf("reparse of %s failed: %s\n", name, err.message);
		return NULL;
	}
	out = rules_print_text(rs);
	rules_unref(rs);
	return out;
}

/* list_dir - sorted names in dir ending in suffix (free with free_list) */
static size_t
list_dir(const char *dir, const char *suffix, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, i, j, sl = strlen(suffix);

	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);

		if (l <= sl || strcmp(e->d_name + l - sl, suffix) != 0)
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		names[n++] = strdup(e->d_name);
	}
	if (d != NULL)
		closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	*out = names;
	return n;
}

/* free_list - free what list_dir returned */
static void
free_list(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* swap_suffix - path of dir/name with its suffix replaced */
static void
swap_suffix(char *buf, size_t len, const char *dir, const char *name,
            const char *from, const char *to)
{
	size_t n = strlen(name) - strlen(from);

	snprintf(buf, len, "%s/%.*s%s", dir, (int)n, name, to);
}

/* golden_parse - one tests/rules/parse file against its .out */
static void
golden_parse(const char *dir, const char *name)
{
	char path[512], outp[512], fmt[1024];
	struct rules_error err;
	struct ruleset *rs;
	char *want, *got, *again;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	swap_suffix(outp, sizeof(outp), dir, name, ".rules", ".out");
	want = read_file(outp, NULL);
	CHECK(want != NULL, "%s: missing golden file", outp);
	rs = rules_load(path, &err);
	if (rs == NULL) {
		rules_error_format(&err, fmt, sizeof(fmt));
		CHECK(0, "%s: parse failed:\n%s", path, fmt);
		free(want);
		return;
	}
	got = rules_print_text(rs);
	if (want != NULL)
		CHECK_STR(got, want, path);
	again = reprint(got, path);
	CHECK_STR(again, got, "reprint is identical");
	free(got);
	free(again);
	free(want);
	rules_unref(rs);
}

/* golden_error - one tests/rules/errors file against its .err */
static void
golden_error(const char *dir, const char *name)
{
	char path[512], errp[512], fmt[1024];
	struct rules_error err;
	struct ruleset *rs;
	char *want;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	swap_suffix(errp, sizeof(errp), dir, name, ".rules", ".err");
	want = read_file(errp, NULL);
	CHECK(want != NULL, "%s: missing golden file", errp);
	rs = rules_load(path, &err);
	CHECK(rs == NULL, "%s: parsed but should fail", path);
	if (rs == NULL && want != NULL) {
		rules_error_format(&err, fmt, sizeof(fmt));
		CHECK_STR(fmt, want, path);
	}
	rules_unref(rs);
	free(want);
}

/* run_golden_dir - every file of one kind */
static void
run_golden_dir(const char *dir, void (*fn)(const char *, const char *))
{
	char **names;
	size_t n = list_dir(dir, ".rules", &names), i;

	CHECK(n >= 5, "%s: only %zu golden files", dir, n);
	for (i = 0; i < n; i++)
		fn(dir, names[i]);
	free_list(names, n);
}

/* --- evaluation cases ------------------------------------------------ */

/* provider - the fact callback over a test case's facts */
static int
provider(void *ctx, const struct fact_def *def, struct fact_value *out)
{
	struct tcase *tc = ctx;
	const struct tfact *f = &tc->facts[def - facts_table];

	if (def->stage > tc->stage)
		tc->stage_violations++;
	if (f->unavailable)
		return -1;
	if (!f->set) {
		memset(out, 0, sizeof(*out));
		out->absent = 1;
		return 0;
	}
	*out = f->v;
	return 0;
}

/* unquote - a "string" with escapes into a malloc'd copy; *pp past it */
static char *
unquote(const char **pp)
{
	const char *p = *pp + 1;
	char *s = malloc(strlen(p) + 1);
	size_t n = 0;

	for (; *p != '\0' && *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			s[n++] = *p == 'r'   ? '\r'
			         : *p == 'n' ? '\n'
			         : *p == 't' ? '\t'
			                     : *p;
		} else {
			s[n++] = *p;
		}
	}
	s[n] = '\0';
	*pp = *p == '"' ? p + 1 : p;
	return s;
}

/* set_strings - quoted, comma separated strings into a fact */
static int
set_strings(struct tfact *f, const char *p, int list)
{
	size_t n = 0;

	while (*p == '"' && n < MAXLIST) {
		f->strs[n++] = unquote(&p);
		p += strspn(p, ", ");
	}
	if (list) {
		f->v.list = (const char *const *)f->strs;
		f->v.nlist = n;
		return 0;
	}
	f->v.str = f->strs[0];
	return n == 1 ? 0 : -1;
}

/* set_fact - "fact NAME VALUE" into the case */
static int
set_fact(struct tcase *tc, const char *line)
{
	char name[64];
	const struct fact_def *def;
	const char *val;
	struct tfact *f;
	int n = 0;

	if (sscanf(line, "%63s %n", name, &n) != 1 ||
	    (def = facts_lookup(name)) == NULL)
		return -1;
	f = &tc->facts[def - facts_table];
	val = line + n;
	f->set = 1;
	if (strcmp(val, "unavailable") == 0)
		f->unavailable = 1;
	else if (strcmp(val, "temperror") == 0) {
		f->v.temperror = 1;
		f->v.result = RESULT_TEMPERROR;
	} else if (strcmp(val, "none") == 0 && def->type != FACT_RESULT)
		f->v.absent = 1;
	else if (def->type == FACT_RESULT)
		return result_parse(val, &f->v.result);
	else if (def->type == FACT_IP)
		return netaddr_parse(val, &f->v.ip);
	else if (def->type == FACT_NUMBER)
		f->v.num = strtoll(val, NULL, 10);
	else if (def->type == FACT_BOOL)
		f->v.boolean = strcmp(val, "yes") == 0;
	else
		return set_strings(f, val, def->type == FACT_STRLIST);
	return 0;
}

/* format_verdict - the verdict as the "expect" lines */
static void
format_verdict(const struct rules_verdict *v, char *buf, size_t len)
{
	size_t n = 0, i;

#define PUT(...)                                                               \
	n += (size_t)snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__)
	PUT("%s", rules_action_name(v->action));
	if (v->final)
		PUT(" final");
	if (v->pending)
		PUT(" pending");
	if (v->from_temperror)
		PUT(" temperror");
	if (v->dry_run)
		PUT(" dry-run");
	if (v->rule != NULL)
		PUT(" rule=\"%s\"", v->rule);
	if (v->code != 0)
		PUT(" code=%u xcode=%s", v->code, v->xcode);
	if (v->text != NULL)
		PUT(" text=\"%s\"", v->text);
	if (v->score != 0)
		PUT(" score=%lld", v->score);
	PUT("\n");
	for (i = 0; i < v->nheaders; i++)
		PUT("header %s: %s\n", v->headers[i].name, v->headers[i].value);
	for (i = 0; i < v->nlogs; i++)
		PUT("log %s\n", v->logs[i]);
#undef PUT
}

/* case_free - release a case's strings and reset it */
static void
case_free(struct tcase *tc)
{
	size_t i, j;

	for (i = 0; i < 64; i++)
		for (j = 0; j < MAXLIST; j++)
			free(tc->facts[i].strs[j]);
	memset(tc, 0, sizeof(*tc));
	tc->stage = STAGE_EOM;
}

/* case_run - evaluate one case and compare */
static void
case_run(struct tcase *tc, const struct ruleset *rs, const char *file)
{
	struct rules_verdict v;
	char got[MAXOUT], label[256];

	if (!tc->active)
		return;
	snprintf(label, sizeof(label), "%s: case %s", file, tc->name);
	CHECK(rs != NULL, "%s: no rules", label);
	if (rs != NULL) {
		CHECK_INT(
		    rules_evaluate(rs, tc->stage, provider, tc, &tc->opt, &v),
		    0, label);
		format_verdict(&v, got, sizeof(got));
		CHECK_STR(got, tc->want, label);
		CHECK_INT(tc->stage_violations, 0, label);
		rules_verdict_free(&v);
		CHECK(v.rule == NULL && v.nheaders == 0, "verdict cleared");
	}
	case_free(tc);
}

/* parse_stage - a stage name */
static enum stage
parse_stage(const char *s)
{
	int i;

	for (i = 0; i < STAGE_COUNT; i++)
		if (strcmp(stage_name((enum stage)i), s) == 0)
			return (enum stage)i;
	CHECK(0, "unknown stage %s", s);
	return STAGE_EOM;
}

/* load_rules - parse the rules of a cases file, reporting errors */
static struct ruleset *
load_rules(const char *text, size_t len, const char *path, int is_file)
{
	struct rules_error err;
	struct ruleset *rs;
	char fmt[1024];

	rs = is_file ? rules_load(text, &err)
	             : rules_parse(text, len, path, &err);
	if (rs == NULL) {
		rules_error_format(&err, fmt, sizeof(fmt));
		CHECK(0, "%s: rules do not parse:\n%s", path, fmt);
	}
	return rs;
}

/* case_line - one directive of a case */
static void
case_line(struct tcase *tc, const char *line, const char *file)
{
	size_t n = strlen(tc->want);

	if (strncmp(line, "stage ", 6) == 0)
		tc->stage = parse_stage(line + 6);
	else if (strcmp(line, "option on_temperror_accept") == 0)
		tc->opt.on_temperror_accept = 1;
	else if (strcmp(line, "option dry_run") == 0)
		tc->opt.dry_run = 1;
	else if (strncmp(line, "fact ", 5) == 0)
		CHECK(set_fact(tc, line + 5) == 0, "%s: case %s: bad fact %s",
		      file, tc->name, line);
	else if (strncmp(line, "expect ", 7) == 0)
		snprintf(tc->want + n, sizeof(tc->want) - n, "%s\n", line + 7);
	else
		CHECK(0, "%s: bad line: %s", file, line);
}

/* find_end - the line "end" at or after p (or the end of the text) */
static char *
find_end(char *p)
{
	while (*p != '\0') {
		char *nl = strchr(p, '\n');

		if (strncmp(p, "end", 3) == 0 && (p[3] == '\n' || p[3] == '\0'))
			return p;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return p + strlen(p);
}

/* run_cases - a whole .cases text */
static void
run_cases(char *text, const char *file)
{
	static struct tcase tc;
	struct ruleset *rs = NULL;
	char *p = text, *line, *nl, *end;
	int ncases = 0;

	case_free(&tc);
	while (*p != '\0') {
		line = p;
		nl = strchr(p, '\n');
		p = nl != NULL ? nl + 1 : p + strlen(p);
		if (nl != NULL)
			*nl = '\0';
		if (line[0] == '#' || line[0] == '\0') {
			continue;
		} else if (strcmp(line, "rules") == 0) {
			end = find_end(p);
			case_run(&tc, rs, file);
			rules_unref(rs);
			rs = load_rules(p, (size_t)(end - p), file, 0);
			p = end + strcspn(end, "\n");
			p += *p == '\n';
		} else if (strncmp(line, "rules-file ", 11) == 0) {
			case_run(&tc, rs, file);
			rules_unref(rs);
			rs = load_rules(line + 11, 0, file, 1);
		} else if (strncmp(line, "case ", 5) == 0) {
			case_run(&tc, rs, file);
			snprintf(tc.name, sizeof(tc.name), "%s", line + 5);
			tc.active = 1;
			ncases++;
		} else {
			case_line(&tc, line, file);
		}
	}
	case_run(&tc, rs, file);
	CHECK(ncases > 0, "%s: no cases", file);
	rules_unref(rs);
}

/* run_eval_dir - every .cases file in tests/rules/eval */
static void
run_eval_dir(const char *dir)
{
	char **names, path[512], *text;
	size_t n = list_dir(dir, ".cases", &names), i;

	CHECK(n >= 3, "%s: only %zu case files", dir, n);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		text = read_file(path, NULL);
		CHECK(text != NULL, "cannot read %s", path);
		if (text != NULL)
			run_cases(text, path);
		free(text);
	}
	free_list(names, n);
}

/* --- table cases: three-valued logic and the walk -------------------- */

static const struct {
	const char *name;
	const char *script;
} logic_cases[] = {
    {"unknown accept rule, default accept: accept either way",
     "rules\nrule \"r\" when iprev is pass then accept\nend\n"
     "case t\nfact iprev temperror\n"
     "expect undecided final\n"},
    {"unknown reject, then an explicit temperror tempfail decides",
     "rules\nrule \"a\" when iprev is permerror then reject \"x\"\n"
     "rule \"b\" when iprev is temperror then tempfail 451 4.7.25 \"dns\"\n"
     "end\ncase t\nfact iprev temperror\n"
     "expect tempfail final rule=\"b\" code=451 xcode=4.7.25 text=\"dns\"\n"},
    {"unknown reject, then a true accept: temperror, never a pass",
     "rules\nrule \"a\" when iprev is fail then reject \"x\"\n"
     "rule \"b\" when client.connections < 5 then accept\n"
     "end\ncase t\nfact iprev temperror\nfact client.connections 1\n"
     "expect tempfail final temperror rule=\"a\" code=451 xcode=4.4.3 "
     "text=\"Temporary failure evaluating rule a\"\n"},
    {"unknown reject, then a true reject: reject either way",
     "rules\nrule \"a\" when iprev is fail then reject \"x\"\n"
     "rule \"b\" when client.connections < 5 then reject \"y\"\n"
     "end\ncase t\nfact iprev temperror\nfact client.connections 1\n"
     "expect reject final rule=\"b\" code=550 xcode=5.7.1 text=\"y\"\n"},
    {"temperror makes is-pass unknown: final rule tempfails",
     "rules\nrule \"r\" when iprev is pass then reject \"x\"\nend\n"
     "case t\nfact iprev temperror\n"
     "expect tempfail final temperror rule=\"r\" code=451 xcode=4.4.3 "
     "text=\"Temporary failure evaluating rule r\"\n"},
    {"explicit is temperror is true",
     "rules\nrule \"r\" when iprev is temperror then tempfail \"dns\"\n"
     "end\ncase t\nfact iprev temperror\n"
     "expect tempfail final rule=\"r\" code=451 xcode=4.7.1 "
     "text=\"dns\"\n"},
    {"not unknown is unknown",
     "rules\nrule \"r\" when not iprev is fail then reject \"x\"\nend\n"
     "case t\nfact iprev temperror\noption on_temperror_accept\n"
     "expect accept final temperror rule=\"r\"\n"},
    {"false and unknown is false",
     "rules\nrule \"r\" when client.connections > 5 and iprev is fail "
     "then reject \"x\"\nend\ncase t\nfact client.connections 1\n"
     "fact iprev temperror\nexpect undecided final\n"},
    {"unknown and false is false",
     "rules\nrule \"r\" when iprev is fail and client.connections > 5 "
     "then reject \"x\"\nend\ncase t\nfact client.connections 1\n"
     "fact iprev temperror\nexpect undecided final\n"},
    {"true or unknown is true",
     "rules\nrule \"r\" when iprev is fail or client.connections > 5 "
     "then reject \"x\"\nend\ncase t\nfact client.connections 9\n"
     "fact iprev temperror\n"
     "expect reject final rule=\"r\" code=550 xcode=5.7.1 text=\"x\"\n"},
    {"false or unknown is unknown",
     "rules\nrule \"r\" when client.connections > 5 or iprev is fail "
     "then reject \"x\"\nend\ncase t\nfact client.connections 1\n"
     "fact iprev temperror\n"
     "expect tempfail final temperror rule=\"r\" code=451 xcode=4.4.3 "
     "text=\"Temporary failure evaluating rule r\"\n"},
    {"unknown non-final rule contributes nothing",
     "rules\nrule \"h\" when helo.fqdn is fail then add-header X-A \"a\", "
     "score 3\nrule \"s\" when score >= 3 then reject \"scored\"\nend\n"
     "case t\nstage helo\nfact helo.fqdn temperror\n"
     "expect undecided final\n"},
    {"temperror string fact: matches is unknown",
     "rules\nrule \"r\" when client.ptr matches \"*.example\" then "
     "reject \"x\"\nend\ncase t\nfact client.ptr temperror\n"
     "option on_temperror_accept\n"
     "expect accept final temperror rule=\"r\"\n"},
    {"unavailable fact is unknown",
     "rules\nrule \"r\" when client.ip in 192.0.2.0/24 then reject \"x\"\n"
     "end\ncase t\nfact client.ip unavailable\n"
     "expect tempfail final temperror rule=\"r\" code=451 xcode=4.4.3 "
     "text=\"Temporary failure evaluating rule r\"\n"},
    {"pending: a later-stage rule stops the walk",
     "rules\nrule \"m\" when mailfrom is \"\" then log \"null\"\n"
     "rule \"a\" when client.ip in 192.0.2.0/24 then accept\nend\n"
     "case t\nstage helo\nfact client.ip 192.0.2.1\n"
     "expect undecided pending\n"},
    {"decided before the pending rule",
     "rules\nrule \"a\" when client.ip in 192.0.2.0/24 then accept\n"
     "rule \"m\" when mailfrom is \"\" then reject \"x\"\nend\n"
     "case t\nstage connect\nfact client.ip 192.0.2.1\n"
     "expect accept final rule=\"a\"\n"},
    {"expansion facts count for the stage",
     "rules\nrule \"r\" then reject \"from %{mailfrom}\"\nend\n"
     "case t\nstage helo\nexpect undecided pending\n"},
    {"score pseudo-fact sums earlier rules",
     "rules\nrule \"a\" then score 2\nrule \"b\" when iprev is fail then "
     "score 3\nrule \"c\" when score >= 5 then reject \"s=%{score}\"\n"
     "end\ncase t\nfact iprev fail\n"
     "expect reject final rule=\"c\" code=550 xcode=5.7.1 text=\"s=5\" "
     "score=5\n"},
    {"negative score",
     "rules\nrule \"a\" then score -4\nrule \"c\" when score < 0 then "
     "log \"neg %{score}\"\nend\ncase t\n"
     "expect undecided final score=-4\nexpect log neg -4\n"},
    {"rule dry-run",
     "rules\nrule \"r\" dry-run when iprev is fail then reject \"no\"\n"
     "end\ncase t\nfact iprev fail\n"
     "expect reject final dry-run rule=\"r\" code=550 xcode=5.7.1 "
     "text=\"no\"\n"},
    {"global dry-run spares accept",
     "rules\nrule \"r\" when iprev is pass then accept\nend\ncase t\n"
     "fact iprev pass\noption dry_run\nexpect accept final rule=\"r\"\n"},
    {"global dry-run on quarantine",
     "rules\nrule \"r\" then quarantine \"q %{helo}\"\nend\ncase t\n"
     "fact helo \"x\"\noption dry_run\n"
     "expect quarantine final dry-run rule=\"r\" text=\"q x\"\n"},
    {"global dry-run on unknown tempfail",
     "rules\nrule \"r\" when iprev is fail then discard\nend\ncase t\n"
     "fact iprev temperror\noption dry_run\n"
     "expect tempfail final temperror dry-run rule=\"r\" code=451 "
     "xcode=4.4.3 text=\"Temporary failure evaluating rule r\"\n"},
    {"CR LF and controls in expansions become ?",
     "rules\nrule \"r\" then add-header X-H \"h=%{helo}\", log "
     "\"%{rcpt}\", reject \"bad %{helo}\"\nend\ncase t\n"
     "fact helo \"a\\r\\nX-Evil: 1\\tz\"\nfact rcpt \"a\\n\", \"b\"\n"
     "expect reject final rule=\"r\" code=550 xcode=5.7.1 "
     "text=\"bad a??X-Evil: 1?z\"\nexpect header X-H: h=a??X-Evil: 1?z\n"
     "expect log a?,b\n"},
    {"expansion of absent, temperror, ip, result, %%",
     "rules\nrule \"r\" then log \"%{client.ptr} %{helo.fqdn} "
     "%{client.ip} %{iprev} 100%%\"\nend\ncase t\nstage helo\n"
     "fact client.ptr none\nfact helo.fqdn temperror\n"
     "fact client.ip 2001:DB8:0::1\nfact iprev pass\n"
     "expect undecided final\n"
     "expect log none temperror 2001:db8::1 pass 100%\n"},
    {"strlist: any element matches",
     "rules\nlist spam = \"*@spam.example\"\nrule \"r\" when rcpt in "
     "$spam then discard\nend\ncase t\nstage rcpt\n"
     "fact rcpt \"ok@a.example\", \"X@SPAM.example\"\n"
     "expect discard final rule=\"r\"\n"},
    {"strlist is none on empty list",
     "rules\nrule \"r\" when rcpt is none then log \"empty\"\nend\n"
     "case t\nstage rcpt\nfact rcpt\nexpect undecided final\n"
     "expect log empty\n"},
    {"is none on absent string, null sender is not none",
     "rules\nrule \"a\" when auth is none then log \"anon\"\n"
     "rule \"b\" when mailfrom is none then log \"nomail\"\n"
     "rule \"c\" when mailfrom is \"\" then log \"null\"\nend\n"
     "case t\nstage mail\nfact auth none\nfact mailfrom \"\"\n"
     "expect undecided final\nexpect log anon\nexpect log null\n"},
    {"regex and glob are case-insensitive",
     "rules\nrule \"g\" when helo matches \"*.DYN.*\" then log \"g\"\n"
     "rule \"r\" when helo matches /^host-[0-9]+\\./ then log \"r\"\n"
     "end\ncase t\nstage helo\nfact helo \"HOST-12.dyn.example\"\n"
     "expect undecided final\nexpect log g\nexpect log r\n"},
    {"absent string never matches",
     "rules\nrule \"g\" when not helo matches \"*\" then log \"nohelo\"\n"
     "end\ncase t\nstage helo\nfact helo none\n"
     "expect undecided final\nexpect log nohelo\n"},
    {"ipv6 in cidr list, mapped folded",
     "rules\nlist p = 192.0.2.0/24, 2001:db8::/32\nrule \"p\" when "
     "client.ip in $p then accept\nend\ncase v6\n"
     "fact client.ip 2001:db8:1::5\nexpect accept final rule=\"p\"\n"
     "case v4\nfact client.ip 198.51.100.1\nexpect undecided final\n"},
    {"first final rule wins, headers in order",
     "rules\nrule \"h1\" then add-header X-1 \"one\"\n"
     "rule \"h2\" then add-header X-2 \"two\" continue\n"
     "rule \"a\" then accept\nrule \"b\" then reject \"never\"\nend\n"
     "case t\nexpect accept final rule=\"a\"\nexpect header X-1: one\n"
     "expect header X-2: two\n"},
    {"numeric comparisons",
     "rules\nrule \"eq\" when client.connections == 3 then log \"eq\"\n"
     "rule \"ne\" when client.connections != 3 then log \"ne\"\n"
     "rule \"le\" when client.connections <= 3 then log \"le\"\n"
     "rule \"gt\" when client.connections > 2 then log \"gt\"\n"
     "rule \"is\" when client.connections is 3|4 then log \"is\"\nend\n"
     "case t\nfact client.connections 3\nexpect undecided final\n"
     "expect log eq\nexpect log le\nexpect log gt\nexpect log is\n"},
    {"precedence: not > and > or",
     "rules\nrule \"r\" when not iprev is pass and iprev is fail or "
     "helo is \"x\" then log \"hit\"\nend\ncase a\nstage helo\n"
     "fact iprev pass\nfact helo \"x\"\nexpect undecided final\n"
     "expect log hit\ncase b\nstage helo\nfact iprev none\n"
     "fact helo \"y\"\nexpect undecided final\n"},
};

/* test_logic - the table above */
static void
test_logic(void)
{
	size_t i;
	char *s;

	for (i = 0; i < sizeof(logic_cases) / sizeof(logic_cases[0]); i++) {
		s = strdup(logic_cases[i].script);
		run_cases(s, logic_cases[i].name);
		free(s);
	}
}

/* test_error_format - caret under the column, tabs kept, line 0 form */
static void
test_error_format(void)
{
	struct rules_error err;
	char buf[1024];
	const char *text = "rule \"x\"\twhen\tiprev is pss then accept\n";

	CHECK(rules_parse(text, strlen(text), "t.rules", &err) == NULL,
	      "bad value refused");
	rules_error_format(&err, buf, sizeof(buf));
	CHECK_STR(buf,
	          "t.rules:1:24: invalid value \"pss\" for iprev: "
	          "expected one of none, pass, fail, softfail, neutral, "
	          "policy, temperror, permerror\n"
	          "rule \"x\"\twhen\tiprev is pss then accept\n"
	          "        \t    \t         ^\n",
	          "tabs kept in caret line");
	CHECK(rules_load("tests/rules/does-not-exist.rules", &err) == NULL,
	      "missing file");
	rules_error_format(&err, buf, sizeof(buf));
	CHECK_STR(buf,
	          "tests/rules/does-not-exist.rules: cannot read: "
	          "No such file or directory\n",
	          "line 0 form");
	rules_error_format(&err, buf, 8);
	CHECK_INT(strlen(buf), 7, "truncated to the buffer");
}

/* test_api - count, uses_fact, ref/unref, NULL handling */
static void
test_api(void)
{
	const char *text = "list l = \"a\"\nrule \"a\" when helo in $l then "
	                   "log \"%{mailfrom}\"\nrule \"b\" then accept\n";
	struct ruleset *rs = rules_parse(text, strlen(text), "api", NULL);
	struct rules_verdict v;

	CHECK(rs != NULL, "parses");
	CHECK_INT(rules_count(rs), 2, "count");
	CHECK_INT(rules_uses_fact(rs, "helo"), 1, "helo used");
	CHECK_INT(rules_uses_fact(rs, "mailfrom"), 1, "expansion counts");
	CHECK_INT(rules_uses_fact(rs, "iprev"), 0, "iprev unused");
	CHECK_INT(rules_uses_fact(rs, "nosuch"), 0, "unknown fact");
	CHECK(rules_ref(rs) == rs, "ref returns the set");
	rules_unref(rs);
	CHECK_INT(rules_count(rs), 2, "still alive after one unref");
	CHECK_INT(rules_evaluate(NULL, STAGE_EOM, provider, NULL, NULL, &v), -1,
	          "NULL ruleset is an internal error");
	rules_unref(rs);
	rules_unref(NULL);
	CHECK_INT(rules_count(NULL), 0, "count NULL");
	CHECK_STR(rules_action_name(RULES_QUARANTINE), "quarantine", "name");
	CHECK_STR(stage_name(STAGE_RCPT), "rcpt", "stage name");
	CHECK(facts_lookup("client.ip") != NULL, "lookup");
	CHECK(facts_lookup("client") == NULL, "no prefix match");
}

/* test_shipped - rules/default.rules and rules/strict.rules */
static void
test_shipped(void)
{
	static const char *const files[] = {"rules/default.rules",
	                                    "rules/strict.rules"};
	struct rules_error err;
	char fmt[1024], *a, *b;
	size_t i;

	for (i = 0; i < 2; i++) {
		struct ruleset *rs = rules_load(files[i], &err);

		rules_error_format(&err, fmt, sizeof(fmt));
		CHECK(rs != NULL, "%s: %s", files[i], fmt);
		if (rs == NULL)
			continue;
		CHECK(rules_count(rs) >= 4, "%s has rules", files[i]);
		a = rules_print_text(rs);
		b = reprint(a, files[i]);
		CHECK_STR(b, a, files[i]);
		free(a);
		free(b);
		rules_unref(rs);
	}
}

int
main(void)
{
	run_golden_dir("tests/rules/parse", golden_parse);
	run_golden_dir("tests/rules/errors", golden_error);
	run_eval_dir("tests/rules/eval");
	test_logic();
	test_error_format();
	test_api();
	test_shipped();
	return test_summary("test_rules");
}
