/*
 * test_verdict - the key=value verdict line parses to exactly the fields
 * it was built from, whatever the client sent.
 *
 * The lines are read back by a strict logfmt parser written here from the
 * rules in mailvet(8), not from strbuf.c: bare values are printable ASCII
 * without '"', '\\' or '='; quoted values know \" \\ \n \r \t and \xHH and
 * nothing else. Anything else in a line is a parse error, so a writer bug
 * shows as a failed parse or a wrong value, never as a quiet pass.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "lib/strbuf.h"
#include "milter/verdict.h"
#include "tests/unit/testlib.h"

#define LF_MAX_FIELDS 64
#define LF_MAX_VALUE  4096

struct lf_field {
	char key[64];
	char value[LF_MAX_VALUE];
	size_t len;    /* value bytes (a value may hold any byte but NUL) */
	int has_value; /* "key=..." rather than a bare word */
};

struct lf_line {
	struct lf_field f[LF_MAX_FIELDS];
	size_t n;
};

/* lf_hex - value of one hex digit, or -1 */
static int
lf_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* lf_escape - decode the escape at *p (after the backslash); -1 if bad */
static int
lf_escape(const char **p)
{
	static const char named[][2] = {
	    {'"', '"'}, {'\\', '\\'}, {'n', '\n'}, {'r', '\r'}, {'t', '\t'}};
	const char *s = *p;

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (*s == named[i][0]) {
			*p = s + 1;
			return (unsigned char)named[i][1];
		}
	}
	if (*s == 'x' && lf_hex(s[1]) >= 0 && lf_hex(s[2]) >= 0) {
		*p = s + 3;
		return lf_hex(s[1]) * 16 + lf_hex(s[2]);
	}
	return -1;
}

/* lf_quoted - a quoted value at *p (on the opening quote); -1 if bad */
static int
lf_quoted(const char **p, struct lf_field *f)
{
	const char *s = *p + 1;

	while (*s != '"') {
		int c = (unsigned char)*s;
		if (c == '\0' || f->len + 1 >= LF_MAX_VALUE)
			return -1;
		if (c == '\\') {
			s++;
			if ((c = lf_escape(&s)) < 0)
				return -1;
		} else {
			s++;
		}
		f->value[f->len++] = (char)c;
	}
	*p = s + 1;
	return 0;
}

/* lf_bare - a bare value at *p: non-empty, no '"', '\\' or '=' */
static int
lf_bare(const char **p, struct lf_field *f)
{
	const char *s = *p;

	for (; *s != ' ' && *s != '\0'; s++) {
		if (*s == '"' || *s == '\\' || *s == '=' ||
		    f->len + 1 >= LF_MAX_VALUE)
			return -1;
		f->value[f->len++] = *s;
	}
	*p = s;
	return f->len > 0 ? 0 : -1;
}

/* lf_parse - split a line into fields; -1 on anything malformed */
static int
lf_parse(const char *line, struct lf_line *out)
{
	const char *p = line;

	for (const char *q = line; *q != '\0'; q++)
		if (*q < 0x20 || *q > 0x7e)
			return -1; /* the line itself is printable ASCII */
	out->n = 0;
	while (*p != '\0') {
		struct lf_field *f = &out->f[out->n];
		size_t k = 0;

		if (*p == ' ' || out->n == LF_MAX_FIELDS)
			return -1; /* one space between fields, no more */
		memset(f, 0, sizeof(*f));
		for (; *p != '=' && *p != ' ' && *p != '\0'; p++) {
			if (*p == '"' || *p == '\\' || k + 1 >= sizeof(f->key))
				return -1;
			f->key[k++] = *p;
		}
		if (*p == '=') {
			f->has_value = 1;
			p++;
			if ((*p == '"' ? lf_quoted(&p, f) : lf_bare(&p, f)) < 0)
				return -1;
		}
		if (k == 0 || (*p != ' ' && *p != '\0'))
			return -1;
		out->n++;
		if (*p == ' ' && *++p == '\0')
			return -1; /* no trailing space */
	}
	return 0;
}

/* lf_count - how many fields are named key */
static int
lf_count(const struct lf_line *l, const char *key)
{
	int n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += strcmp(l->f[i].key, key) == 0;
	return n;
}

/* lf_get - the one field named key, or NULL */
static const struct lf_field *
lf_get(const struct lf_line *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->f[i].key, key) == 0)
			return &l->f[i];
	return NULL;
}

/* lf_equal - key appears once, with exactly the value want */
static int
lf_equal(const struct lf_line *l, const char *key, const char *want)
{
	const struct lf_field *f = lf_get(l, key);

	return lf_count(l, key) == 1 && f->has_value &&
	       f->len == strlen(want) && memcmp(f->value, want, f->len) == 0;
}

/* check_value - CHECK that key appears once, with exactly want */
static void
check_value(const struct lf_line *l, const char *key, const char *want,
            const char *line)
{
	const struct lf_field *f = lf_get(l, key);

	CHECK(lf_equal(l, key, want),
	      "%s: %d times, first \"%.*s\", want \"%s\" in %s", key,
	      lf_count(l, key), f ? (int)f->len : 0, f ? f->value : "", want,
	      line);
}

/* ---------------------------------------------------- strbuf_add_logval */

static const struct {
	const char *in;
	size_t max;
	const char *out;
	int cut;
} logval_cases[] = {
    {"mail.example.com", 0, "mail.example.com", 0},
    {"[192.0.2.1]", 0, "[192.0.2.1]", 0},
    {"<a@b>", 0, "<a@b>", 0},
    {"a,b:c(d)'e'!", 0, "a,b:c(d)'e'!", 0},
    {"", 0, "\"\"", 0},
    {"-", 0, "-", 0},
    {"a b", 0, "\"a b\"", 0},
    {"a=b", 0, "\"a=b\"", 0},
    {"=", 0, "\"=\"", 0},
    {"say \"hi\"", 0, "\"say \\\"hi\\\"\"", 0},
    {"back\\slash", 0, "\"back\\\\slash\"", 0},
    {"l1\nl2\r\n\tx", 0, "\"l1\\nl2\\r\\n\\tx\"", 0},
    {"\x01\x1f\x7f", 0, "\"\\x01\\x1f\\x7f\"", 0},
    {"caf\xc3\xa9", 0, "\"caf\\xc3\\xa9\"", 0},
    {"\xff", 0, "\"\\xff\"", 0},
    {"x\" action=reject rule=\"y", 0, "\"x\\\" action=reject rule=\\\"y\"", 0},
    /* bounds: quotes count, escapes are never split, "..." marks a cut */
    {"abc", 5, "abc", 0},
    {"abcdef", 5, "\"...\"", 1},
    {"abcdefghijkl", 12, "abcdefghijkl", 0},
    {"abcdefghijkl", 10, "\"abcde...\"", 1},
    {"a b", 5, "\"a b\"", 0},
    {"\"\"\"\"", 9, "\"\\\"\\\"...\"", 1},
    {"\x01\x01", 8, "\"...\"", 1},
    {"\x01\x01", 10, "\"\\x01\\x01\"", 0},
    {"abcdefgh", 2, "\"...\"", 1}, /* max below the minimum: 5 */
};

static void
test_logval_table(void)
{
	for (size_t i = 0; i < sizeof(logval_cases) / sizeof(logval_cases[0]);
	     i++) {
		struct strbuf sb;
		int cut;

		strbuf_init(&sb);
		cut = strbuf_add_logval(&sb, logval_cases[i].in,
		                        logval_cases[i].max);
		CHECK_STR(strbuf_str(&sb), logval_cases[i].out, "logval row");
		CHECK_INT(cut, logval_cases[i].cut, "logval cut flag");
		strbuf_free(&sb);
	}
}

/* Strings chosen to break a naive writer or parser. */
static const char *const hostile[] = {
    "\"x action=reject rule=fake\"@example.org",
    "x action=reject",
    "action=reject",
    " leading and trailing ",
    "\"",
    "\\",
    "\\\"",
    "\"\\",
    "a\\\" b=\"c",
    "end\\",
    "x\ny=1",
    "\r\n\t\v\f\b\x1b[31m",
    "\x7f\x80\xfe\xff",
    "=\"=\"=",
    "\\x41",
    "\\n",
    "k=v k2=v2",
    "'single' `back`",
    "%s%n%x",
};

/* roundtrip - " k=" + logval(s) parses back to one field k with s */
static int
roundtrip(const char *s)
{
	struct strbuf sb;
	struct lf_line *l = calloc(1, sizeof(*l));
	int ok;

	strbuf_init(&sb);
	strbuf_add(&sb, "pre=1 k=");
	strbuf_add_logval(&sb, s, 0);
	strbuf_add(&sb, " post=2");
	ok = lf_parse(strbuf_str(&sb), l) == 0 && l->n == 3 &&
	     lf_equal(l, "pre", "1") && lf_equal(l, "k", s) &&
	     lf_equal(l, "post", "2");
	if (!ok)
		printf("round trip failed: %s\n", strbuf_str(&sb));
	strbuf_free(&sb);
	free(l);
	return ok;
}

static void
test_logval_roundtrip(void)
{
	uint32_t seed = 12345;
	char buf[48];
	int failed = 0;

	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		CHECK(roundtrip(hostile[i]), "hostile string %zu", i);
	/*
	 * Every byte value but NUL, in random strings of 0..47 bytes: one
	 * check for the lot, so that the summary counts cases, not bytes.
	 */
	for (int n = 0; n < 2000; n++) {
		size_t len;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % sizeof(buf);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (char)(1 + (seed >> 16) % 255);
		}
		buf[len] = '\0';
		failed += !roundtrip(buf);
	}
	CHECK(failed == 0, "%d of 2000 random strings failed", failed);
}

/* ------------------------------------------------------- whole lines */

static struct conf test_conf;

static struct helo_check *
fake_helo(const char *name)
{
	struct helo_check *h = calloc(1, sizeof(*h));

	snprintf(h->name, sizeof(h->name), "%s", name);
	h->is_domain = 1;
	for (int f = 0; f < HELO_NFACTS; f++)
		h->facts[f] = RESULT_PASS;
	h->facts[HELO_CLAIMS_LOCAL] = RESULT_FAIL;
	return h;
}

/* fake_session - a finished message from ip, as verdict_log sees it */
static void
fake_session(struct session *s, const char *ip, const char *ptr,
             const char *helo, const char *from, const char *auth)
{
	memset(s, 0, sizeof(*s));
	s->snap.conf = &test_conf;
	s->id = 7;
	snprintf(s->ip_text, sizeof(s->ip_text), "%s", ip);
	snprintf(s->msg.queue_id, sizeof(s->msg.queue_id), "4XyZ12");
	s->iprev.started = s->iprev.done = 1;
	s->iprev.result = ptr ? RESULT_PASS : RESULT_PERMERROR;
	if (ptr != NULL)
		snprintf(s->iprev.name, sizeof(s->iprev.name), "%s", ptr);
	s->helo = helo ? fake_helo(helo) : NULL;
	s->msg.mailfrom = strdup(from);
	s->msg.nrcpts = 1;
	s->msg.start_ms = dns_now_ms();
	if (auth != NULL) {
		s->authenticated = 1;
		snprintf(s->auth_user, sizeof(s->auth_user), "%s", auth);
	}
}

static void
free_session(struct session *s)
{
	free(s->helo);
	free(s->msg.mailfrom);
}

/* The fields of a full line, in order, each exactly once. */
static const char *const line_keys[] = {
    "4XyZ12:", "verdict",    "conn",       "client", "ptr",    "helo",
    "from",    "rcpts",      "refused",    "iprev",  "spf",    "spf_helo",
    "dkim",    "helo_check", "helo_facts", "auth",   "action", "rule",
    "would",   "reason",     "elapsed_ms"};
#define NLINE_KEYS (sizeof(line_keys) / sizeof(line_keys[0]))

/* Hostile values in every client field: one set of fields comes back. */
static void
test_hostile_line(void)
{
	static const char from[] = "\"x action=reject rule=fake\"@example.org";
	static const char helo[] = "evil\" action=reject rule=\"fake x=";
	static const char ptr[] = "x=y,action=reject.evil.example";
	static const char auth[] = "bob action=reject \\\" rule=\n";
	static const char rule[] = "r\" action=accept x=\"";
	static const char reason[] = "internal: a=b\n\"c\"";
	struct verdict_info vi = {"reject", rule, "accept", reason, 1};
	struct session s;
	struct strbuf sb;
	struct lf_line *l = calloc(1, sizeof(*l));
	const char *line;

	fake_session(&s, "192.0.2.1", ptr, helo, from, auth);
	strbuf_init(&sb);
	verdict_text(&s, &vi, &sb);
	line = strbuf_str(&sb);
	CHECK(lf_parse(line, l) == 0, "hostile line does not parse: %s", line);
	CHECK_INT(l->n, NLINE_KEYS, "fields in hostile line");
	for (size_t i = 0; i < l->n && i < NLINE_KEYS; i++)
		CHECK_STR(l->f[i].key, line_keys[i], "field order");
	check_value(l, "client", "192.0.2.1", line);
	check_value(l, "ptr", ptr, line);
	check_value(l, "helo", helo, line);
	check_value(l, "from", "<\"x action=reject rule=fake\"@example.org>",
	            line);
	check_value(l, "auth", auth, line);
	check_value(l, "action", "reject", line);
	check_value(l, "rule", rule, line);
	check_value(l, "would", "accept", line);
	check_value(l, "reason", reason, line);
	CHECK_INT(lf_count(l, "truncated"), 0, "nothing cut");
	strbuf_free(&sb);
	free_session(&s);
	free(l);
}

/* A plain message: the line stays byte for byte what it was. */
static void
test_plain_line_unchanged(void)
{
	struct verdict_info vi = {"accept", NULL, NULL, NULL, 0};
	struct session s;
	struct strbuf sb;
	const char *line, *e;

	fake_session(&s, "192.0.2.1", "mail.good.example", "mail.good.example",
	             "a@example.com", NULL);
	strbuf_init(&sb);
	verdict_text(&s, &vi, &sb);
	line = strbuf_str(&sb);
	e = strstr(line, " elapsed_ms=");
	CHECK(e != NULL && strspn(e + 12, "0123456789") == strlen(e + 12),
	      "elapsed_ms last: %s", line);
	CHECK(e != NULL &&
	          strncmp(line,
	                  "4XyZ12: verdict conn=7 client=192.0.2.1 "
	                  "ptr=mail.good.example helo=mail.good.example "
	                  "from=<a@example.com> rcpts=1 refused=0 iprev=pass "
	                  "spf=none spf_helo=none dkim=none helo_check=pass "
	                  "helo_facts=syntax:pass,fqdn:pass,literal:pass,"
	                  "resolves:pass,matches_ip:pass,matches_ptr:pass,"
	                  "claims_local:fail auth=- action=accept rule=-",
	                  (size_t)(e - line)) == 0,
	      "plain line: %s", line);
	strbuf_free(&sb);
	free_session(&s);

	/* Null sender, no HELO, no PTR, rule with a space (quoted before). */
	fake_session(&s, "2001:db8::1", NULL, NULL, "", NULL);
	vi = (struct verdict_info){"reject", "no rDNS", NULL, NULL, 1};
	strbuf_init(&sb);
	verdict_text(&s, &vi, &sb);
	line = strbuf_str(&sb);
	CHECK(strstr(line, " client=2001:db8::1 ptr=- helo=- from=<> rcpts=1 "
	                   "refused=1 iprev=permerror ") != NULL &&
	          strstr(line, " helo_check=none auth=- action=reject "
	                       "rule=\"no rDNS\" elapsed_ms=") != NULL,
	      "null sender line: %s", line);
	strbuf_free(&sb);
	free_session(&s);
}

/* Long hostile values are cut inside their quotes, never past action=. */
static void
test_long_values_cut(void)
{
	struct verdict_info vi = {"accept", NULL, NULL, NULL, 0};
	char helo[512], auth[256], *from = malloc(4000);
	struct session s;
	struct strbuf sb;
	struct lf_line *l = calloc(1, sizeof(*l));
	const struct lf_field *f;
	const char *line;

	memset(helo, '"', sizeof(helo) - 1);
	helo[sizeof(helo) - 1] = '\0';
	memset(auth, '\\', sizeof(auth) - 1);
	auth[sizeof(auth) - 1] = '\0';
	memset(from, 0xe9, 3999);
	from[3999] = '\0';
	fake_session(&s, "192.0.2.1", NULL, helo, from, auth);
	strbuf_init(&sb);
	verdict_text(&s, &vi, &sb);
	line = strbuf_str(&sb);
	CHECK(strlen(line) < 2048 - 16, "line of %zu bytes", strlen(line));
	CHECK(lf_parse(line, l) == 0, "long line does not parse: %s", line);
	check_value(l, "action", "accept", line);
	check_value(l, "truncated", "helo,from,auth", line);
	f = lf_get(l, "helo");
	CHECK(f != NULL && f->len > 100 && f->len - 3 < strlen(helo) &&
	          memcmp(f->value, helo, f->len - 3) == 0 &&
	          memcmp(f->value + f->len - 3, "...", 3) == 0,
	      "helo cut: %.*s", f ? (int)f->len : 0, f ? f->value : "");
	f = lf_get(l, "from");
	CHECK(f != NULL && f->len > 50 && f->value[0] == '<' &&
	          (unsigned char)f->value[1] == 0xe9 &&
	          memcmp(f->value + f->len - 3, "...", 3) == 0,
	      "from cut: %.*s", f ? (int)f->len : 0, f ? f->value : "");
	strbuf_free(&sb);
	free_session(&s);
	free(from);
	free(l);
}

/* count - occurrences of needle in hay */
static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* The JSON line of the same hostile message keeps one action too. */
static void
test_hostile_json(void)
{
	struct verdict_info vi = {"reject", "r", NULL, NULL, 1};
	struct session s;
	struct strbuf sb;
	const char *j;

	fake_session(&s, "192.0.2.1", NULL, "h\",\"action\":\"accept",
	             "\"x\",\"action\":\"accept\"@example.org\n", NULL);
	strbuf_init(&sb);
	verdict_json(&s, &vi, &sb);
	j = strbuf_str(&sb);
	CHECK_INT(count(j, "\"action\":"), 1, "JSON action keys");
	CHECK_INT(count(j, "\n"), 1, "JSON newlines");
	CHECK(j[strlen(j) - 1] == '\n', "JSON ends in newline: %s", j);
	CHECK(strstr(j, "\"mail_from\":\"\\\"x\\\",\\\"action\\\":\\\"accept"
	                "\\\"@example.org\\u000a\"") != NULL,
	      "JSON mail_from: %s", j);
	strbuf_free(&sb);
	free_session(&s);
}

int
main(void)
{
	test_conf.skip_authenticated = 0; /* keep the checks' fields */
	test_logval_table();
	test_logval_roundtrip();
	test_hostile_line();
	test_plain_line_unchanged();
	test_long_values_cut();
	test_hostile_json();
	return test_summary("test_verdict");
}
