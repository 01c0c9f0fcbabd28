/*
 * test_authres - the Authentication-Results value: layout, quoting of
 * everything that came from the client, trusted and authenticated forms
 */
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"
#include "milter/authres.h"
#include "milter/checks/spf.h"
#include "tests/unit/testlib.h"

/* count - occurrences of needle in hay */
static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/*
 * strip_quoted - drop quoted-strings and comments, as an RFC 8601 parser
 * would before looking for results: what is left is the structure.
 */
static void
strip_quoted(const char *in, char *out, size_t len)
{
	int depth = 0, quoted = 0;
	size_t o = 0;

	for (; *in != '\0' && o + 1 < len; in++) {
		if ((quoted || depth) && *in == '\\' && in[1] != '\0') {
			in++;
			continue;
		}
		if (!depth && *in == '"') {
			quoted = !quoted;
			continue;
		}
		if (!quoted && *in == '(') {
			depth++;
			continue;
		}
		if (!quoted && depth && *in == ')') {
			depth--;
			continue;
		}
		if (!quoted && !depth)
			out[o++] = *in;
	}
	out[o] = '\0';
}

static void
fake_session(struct session *s, struct conf *conf, const char *ip)
{
	memset(s, 0, sizeof(*s));
	s->snap.conf = conf;
	netaddr_parse(ip, &s->ip);
	s->have_ip = 1;
	netaddr_format(&s->ip, s->ip_text, sizeof(s->ip_text));
	s->iprev.started = s->iprev.done = 1;
}

static struct helo_check *
fake_helo(const char *name, enum result all)
{
	struct helo_check *h = calloc(1, sizeof(*h));

	snprintf(h->name, sizeof(h->name), "%s", name);
	h->is_domain = 1;
	for (int f = 0; f < HELO_NFACTS; f++)
		h->facts[f] = all;
	h->facts[HELO_CLAIMS_LOCAL] = RESULT_FAIL;
	return h;
}

static void
test_pass(struct conf *conf)
{
	struct session s;
	char *v;

	fake_session(&s, conf, "192.0.2.1");
	s.iprev.result = RESULT_PASS;
	snprintf(s.iprev.name, sizeof(s.iprev.name), "mail.good.example");
	s.helo = fake_helo("mail.good.example", RESULT_PASS);
	v = authres_value(&s);
	CHECK_STR(v,
	          "mx.test.example;\n"
	          "\tiprev=pass policy.iprev=192.0.2.1 (mail.good.example);\n"
	          "\tx-helo=pass smtp.helo=mail.good.example (syntax=pass "
	          "fqdn=pass literal=pass resolves=pass matches_ip=pass "
	          "matches_ptr=pass claims_local=fail)",
	          "pass layout");
	free(v);
	free(s.helo);
}

static void
test_ipv6_quoted(struct conf *conf)
{
	struct session s;
	char *v;

	fake_session(&s, conf, "2001:db8::7");
	s.iprev.result = RESULT_TEMPERROR;
	snprintf(s.iprev.reason, sizeof(s.iprev.reason), "PTR lookup: timeout");
	v = authres_value(&s);
	CHECK(strstr(v, "iprev=temperror policy.iprev=\"2001:db8::7\" "
	                "(PTR lookup: timeout)") != NULL,
	      "IPv6 quoted, reason in comment: %s", v);
	CHECK(strstr(v, "x-helo=none") != NULL, "no HELO: %s", v);
	free(v);
}

/* Hostile HELO strings must not add results, properties or lines. */
static void
test_injection(struct conf *conf)
{
	static const char *const evil[] = {
	    "evil\"; iprev=pass (x", "a;b=c",
	    "x) iprev=pass (",       "bad\r\nX-Injected: yes",
	    "q\\\"; dkim=pass",
	};
	for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		struct session s;
		char *v, bare[2048];

		fake_session(&s, conf, "192.0.2.1");
		s.iprev.result = RESULT_FAIL;
		snprintf(s.iprev.name, sizeof(s.iprev.name), "%s", evil[i]);
		s.helo = fake_helo(evil[i], RESULT_FAIL);
		v = authres_value(&s);
		strip_quoted(v, bare, sizeof(bare));
		CHECK_INT(count(bare, "\tiprev="), 1, evil[i]);
		CHECK_INT(count(bare, "policy.iprev="), 1, evil[i]);
		CHECK_INT(count(bare, ";"), 2, evil[i]);
		CHECK_INT(count(bare, "="), 4, bare);
		CHECK(strchr(v, '\r') == NULL, "no CR: %s", v);
		CHECK_INT(count(v, "\n"), 2, evil[i]);
		CHECK(strstr(v, "dkim=pass") == NULL ||
		          strstr(v, "\"q\\\\\\\"; dkim=pass\"") != NULL,
		      "dkim stays inside the quoted value: %s", v);
		free(v);
		free(s.helo);
	}
}

static void
test_trusted_and_auth(struct conf *conf)
{
	struct session s;
	char *v;

	fake_session(&s, conf, "127.0.0.1");
	s.trusted = 1;
	v = authres_value(&s);
	CHECK_STR(v, "mx.test.example; none", "trusted");
	free(v);
	fake_session(&s, conf, "192.0.2.1");
	s.authenticated = 1;
	snprintf(s.auth_user, sizeof(s.auth_user), "alice");
	v = authres_value(&s);
	CHECK_STR(v, "mx.test.example;\n\tauth=pass smtp.auth=alice",
	          "authenticated");
	free(v);
}

/*
 * test_long_spf_sender - the longest sender the SPF check keeps, every
 * byte escaped in its quoted-string: the spf= entry is whole (its
 * quoted-string closed) and the results after it are still there
 */
static void
test_long_spf_sender(struct conf *conf)
{
	struct session s;
	char *v, *bare;
	size_t n = sizeof(s.msg.spf.out.sender) - 1;

	fake_session(&s, conf, "192.0.2.1");
	s.msg.spf.started = s.msg.spf.joined = 1;
	s.msg.spf.out.result = RESULT_FAIL;
	snprintf(s.msg.spf.out.identity, sizeof(s.msg.spf.out.identity),
	         "mailfrom");
	memset(s.msg.spf.out.sender, '"', n - 12);
	memcpy(s.msg.spf.out.sender + n - 12, "@example.org", 13);
	s.helo = fake_helo("mail.good.example", RESULT_PASS);
	v = authres_value(&s);
	bare = malloc(strlen(v) + 1);
	strip_quoted(v, bare, strlen(v) + 1);
	CHECK(count(bare, "spf=fail smtp.mailfrom=") == 1 &&
	          count(bare, "x-helo=pass") == 1 &&
	          count(bare, "\tiprev=") == 1,
	      "long sender: structure %s", bare);
	CHECK(strstr(v, "@example.org\";\n\tx-helo=") != NULL,
	      "long sender: quoted-string closed before the next result: %.80s",
	      v + (strlen(v) > 80 ? strlen(v) - 80 : 0));
	free(bare);
	free(v);
	{
		/* Received-SPF of the same sender: whole, last key present. */
		struct strbuf sb;
		const char *r;
		strbuf_init(&sb);
		spf_received_spf_add(&s.msg.spf.out, &s.ip, "mail.good.example",
		                     "mx.test.example", &sb);
		r = strbuf_str(&sb);
		CHECK(strlen(r) > 1024 &&
		          strcmp(r + strlen(r) - 18, "identity=mailfrom;") == 0,
		      "long sender: Received-SPF whole (%zu bytes)", strlen(r));
		strbuf_free(&sb);
	}
	free(s.helo);
}

int
main(void)
{
	static const char text[] = "authserv_id = mx.test.example\n";
	char err[256];
	struct conf *conf =
	    conf_parse_text(text, sizeof(text) - 1, "test", err, sizeof(err));

	CHECK(conf != NULL, "conf: %s", err);
	if (conf == NULL)
		return test_summary("authres");
	test_pass(conf);
	test_ipv6_quoted(conf);
	test_injection(conf);
	test_trusted_and_auth(conf);
	test_long_spf_sender(conf);
	conf_unref(conf);
	return test_summary("authres");
}
