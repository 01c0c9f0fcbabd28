/*
 * test_conf - unit tests for conf/: syntax, every value type, defaults,
 * exact diagnostics, DNS server and socket vectors, CIDR lists, the
 * conf_print round trip, reference counting, and agreement of the option
 * table with conf/mailvet.conf and man/mailvet.conf.5.
 *
 * Run from the top of the tree: make build/tests/test_conf &&
 * ./build/tests/test_conf. The documentation checks are skipped (and say
 * so) when conf/options.c is not in the current directory.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/conf_internal.h"
#include "milter/checks/dnsbl.h"
#include "tests/unit/testlib.h"

#define ERRLEN 1024

/* parse - conf_parse_text over a C string, named "t.conf" */
static struct conf *
parse(const char *text, char *err)
{
	err[0] = '\0';
	return conf_parse_text(text, strlen(text), "t.conf", err, ERRLEN);
}

/* print_all - conf_print into a new string (caller frees) */
static char *
print_all(const struct conf *conf)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (mem == NULL)
		return NULL;
	conf_print(conf, mem);
	fclose(mem);
	return text;
}

/* printed_value - the value conf_print shows for key, "" when empty */
static void
printed_value(const struct conf *conf, const char *key, char *buf, size_t len)
{
	char *text = print_all(conf), *line;
	size_t klen = strlen(key);

	snprintf(buf, len, "(missing)");
	for (line = text; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		if (strncmp(line, key, klen) == 0 && line[klen] == ' ' &&
		    line[klen + 1] == '=') {
			const char *v = line + klen + 2;
			size_t vn = n - klen - 2;

			if (vn > 0 && *v == ' ') {
				v++;
				vn--;
			}
			snprintf(buf, len, "%.*s", (int)vn, v);
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
}

struct good_case {
	const char *name;
	const char *text;
	const char *key;
	const char *want; /* as conf_print shows it */
};

static const struct good_case good_cases[] = {
    {"string", "user = mailvet\n", "user", "mailvet"},
    {"string quoted blanks", "rules = \"/etc/my rules\"\n", "rules",
     "\"/etc/my rules\""},
    {"string quoted hash", "pid_file = \"/run/a#b.pid\" # c\n", "pid_file",
     "\"/run/a#b.pid\""},
    {"string empty unsets", "user =\n", "user", ""},
    {"string quoted empty", "user = \"\"\n", "user", ""},
    {"comment after value", "user = bob # the user\n", "user", "bob"},
    {"blanks trimmed", "  \t user\t=\t bob \t\r\n", "user", "bob"},
    {"no final newline", "user = bob", "user", "bob"},
    {"bool yes", "dry_run = yes\n", "dry_run", "yes"},
    {"bool true", "dry_run = true\n", "dry_run", "yes"},
    {"bool on", "dry_run = on\n", "dry_run", "yes"},
    {"bool 1", "dry_run = 1\n", "dry_run", "yes"},
    {"bool YES", "dry_run = YES\n", "dry_run", "yes"},
    {"bool no", "delay_reject = no\n", "delay_reject", "no"},
    {"bool false", "delay_reject = false\n", "delay_reject", "no"},
    {"bool off", "delay_reject = off\n", "delay_reject", "no"},
    {"bool 0", "delay_reject = 0\n", "delay_reject", "no"},
    {"uint", "dns_timeout_ms = 250\n", "dns_timeout_ms", "250"},
    {"uint min", "dns_timeout_ms = 100\n", "dns_timeout_ms", "100"},
    {"uint max", "dns_timeout_ms = 60000\n", "dns_timeout_ms", "60000"},
    {"uint zero ok", "dns_cache_size = 0\n", "dns_cache_size", "0"},
    {"uint quoted", "dns_tries = \"3\"\n", "dns_tries", "3"},
    {"mode", "socket_mode = 0600\n", "socket_mode", "0600"},
    {"mode no zero", "socket_mode = 644\n", "socket_mode", "0644"},
    {"mode max", "socket_mode = 0777\n", "socket_mode", "0777"},
    {"mode zero", "socket_mode = 0\n", "socket_mode", "0000"},
    {"enum accept", "on_temperror = accept\n", "on_temperror", "accept"},
    {"enum tempfail", "on_internal_error = tempfail\n", "on_internal_error",
     "tempfail"},
    {"facility local7", "syslog_facility = local7\n", "syslog_facility",
     "local7"},
    {"facility daemon", "syslog_facility = daemon\n", "syslog_facility",
     "daemon"},
    {"cidrs", "trusted_networks = 10.0.0.0/8 192.0.2.1, 2001:db8::/32\n",
     "trusted_networks", "10.0.0.0/8, 192.0.2.1/32, 2001:db8::/32"},
    {"cidrs empty", "trusted_networks =\n", "trusted_networks", ""},
    {"cidrs local", "local_addresses = 198.51.100.7\n", "local_addresses",
     "198.51.100.7/32"},
    {"socket unix", "socket = unix:/run/mailvet/mailvet.sock\n", "socket",
     "unix:/run/mailvet/mailvet.sock"},
    {"dns normalized", "dns_servers = 127.0.0.1:5353 ::1\n", "dns_servers",
     "127.0.0.1:5353,[::1]:53"},
    {"dns empty", "dns_servers =\n", "dns_servers", ""},
    {"authserv_id", "authserv_id = mx.example.org\n", "authserv_id",
     "mx.example.org"},
    {"dnsbl sites",
     "dnsbl_sites = Zen.Example=127.0.0.[2..11]*3 "
     "bl.example*1, wl.example=127.0.[0..255].[1;3]*-2\n",
     "dnsbl_sites",
     "zen.example=127.0.0.[2..11]*3, bl.example, "
     "wl.example=127.0.[0..255].[1;3]*-2"},
    {"dnsbl unset", "", "dnsbl_sites", ""},
    {"dnsbl empty", "dnsbl_sites = \"\"\n", "dnsbl_sites", ""},
    {"rhsbl sites", "rhsbl_sites = dbl.example=127.0.1.[2..99]*3\n",
     "rhsbl_sites", "dbl.example=127.0.1.[2..99]*3"},
    {"rhsbl targets", "rhsbl_targets = PTR helo\n", "rhsbl_targets",
     "helo, ptr"},
    {"rhsbl targets default", "", "rhsbl_targets", "helo, mailfrom, ptr"},
};

/* test_good - every type accepts its good forms, shown as expected */
static void
test_good(void)
{
	char err[ERRLEN], got[4200];

	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]);
	     i++) {
		const struct good_case *c = &good_cases[i];
		struct conf *conf = parse(c->text, err);

		CHECK(conf != NULL, "%s: unexpected error: %s", c->name, err);
		if (conf == NULL)
			continue;
		printed_value(conf, c->key, got, sizeof(got));
		CHECK_STR(got, c->want, c->name);
		conf_unref(conf);
	}
}

/* test_fields - values land in the right struct fields */
static void
test_fields(void)
{
	static const char text[] =
	    "socket_mode = 0640\nsyslog_facility = local3\n"
	    "on_internal_error = accept\ndry_run = on\n"
	    "iprev_max_names = 32\nshutdown_timeout_s = 0\n"
	    "socket_group = postfix\nlog_json = /var/log/mv.json\n"
	    "authserv_id = MX.Example.org\nlocal_names = Mail.Example.org, "
	    "mx.example.org other\n"
	    "dnsbl_sites = zen.example*3 wl.example=127.0.0.1*-2\n"
	    "rhsbl_targets = mailfrom\n";
	char err[ERRLEN];
	struct conf *c = parse(text, err);

	CHECK(c != NULL, "fields: %s", err);
	if (c == NULL)
		return;
	CHECK_INT(c->socket_mode, 0640, "socket_mode");
	CHECK_INT(c->syslog_facility, LOG_LOCAL3, "syslog_facility");
	CHECK_INT(c->on_internal_error, CONF_FAIL_ACCEPT, "on_internal_error");
	CHECK_INT(c->on_temperror, CONF_FAIL_TEMPFAIL, "on_temperror");
	CHECK_INT(c->dry_run, 1, "dry_run");
	CHECK_INT(c->iprev_max_names, 32, "iprev_max_names");
	CHECK_INT(c->shutdown_timeout_s, 0, "shutdown_timeout_s");
	CHECK_STR(c->socket_group, "postfix", "socket_group");
	CHECK_STR(c->log_json, "/var/log/mv.json", "log_json");
	CHECK_STR(c->authserv_id, "MX.Example.org", "authserv_id kept");
	CHECK_STR(c->path, "t.conf", "path");
	CHECK(c->dnsbl_sites != NULL && c->dnsbl_sites->count == 2 &&
	          c->dnsbl_sites->site[1].weight == -2 &&
	          strcmp(c->dnsbl_sites->site[1].zone, "wl.example") == 0,
	      "dnsbl_sites parsed");
	CHECK(c->rhsbl_sites == NULL, "rhsbl_sites unset");
	CHECK_INT(c->rhsbl_targets, DNSBL_T_MAILFROM, "rhsbl_targets");
	/* Lower-cased, repeats dropped, authserv_id and host name added. */
	CHECK(c->local_names != NULL &&
	          strncmp(c->local_names,
	                  "mail.example.org,mx.example.org,other", 37) == 0,
	      "local_names: %s", c->local_names ? c->local_names : "(null)");
	conf_unref(c);
}

/* test_defaults - every documented default, from conf_defaults */
static void
test_defaults(void)
{
	struct conf *c = conf_defaults();
	char host[CONF_NAME_MAX + 2], buf[64];
	struct netaddr a;

	CHECK(c != NULL, "conf_defaults returned NULL");
	if (c == NULL)
		return;
	conf_hostname(host, sizeof(host));
	CHECK_INT(c->refs, 1, "refs");
	CHECK(c->path == NULL, "defaults have no path");
	CHECK_STR(c->socket, "inet:8891@127.0.0.1", "socket");
	CHECK_INT(c->socket_mode, 0660, "socket_mode");
	CHECK(c->socket_group == NULL && c->user == NULL &&
	          c->pid_file == NULL && c->log_json == NULL &&
	          c->dns_servers == NULL && c->rules == NULL,
	      "unset strings are NULL");
	CHECK_INT(c->syslog_facility, LOG_MAIL, "syslog_facility");
	CHECK_INT(c->shutdown_timeout_s, 10, "shutdown_timeout_s");
	CHECK_INT(c->dns_timeout_ms, 5000, "dns_timeout_ms");
	CHECK_INT(c->dns_tries, 2, "dns_tries");
	CHECK_INT(c->dns_cache_size, 10000, "dns_cache_size");
	CHECK_INT(c->dns_cache_max_ttl, 3600, "dns_cache_max_ttl");
	CHECK_STR(c->authserv_id, host, "authserv_id is the host name");
	CHECK(c->local_names != NULL && strstr(c->local_names, host) != NULL,
	      "local_names holds the host name");
	CHECK_INT(c->local_addresses.count, 0, "local_addresses");
	CHECK_INT(c->trusted_networks.count, 2, "trusted_networks count");
	cidr_format(&c->trusted_networks.items[0], buf, sizeof(buf));
	CHECK_STR(buf, "127.0.0.0/8", "trusted_networks[0]");
	cidr_format(&c->trusted_networks.items[1], buf, sizeof(buf));
	CHECK_STR(buf, "::1/128", "trusted_networks[1]");
	netaddr_parse("127.1.2.3", &a);
	CHECK(cidr_list_contains(&c->trusted_networks, &a), "127/8 trusted");
	netaddr_parse("10.0.0.1", &a);
	CHECK(!cidr_list_contains(&c->trusted_networks, &a), "10/8 not");
	CHECK_INT(c->skip_authenticated, 1, "skip_authenticated");
	CHECK_INT(c->iprev_max_names, 10, "iprev_max_names");
	CHECK_INT(c->on_internal_error, CONF_FAIL_TEMPFAIL, "on_internal");
	CHECK_INT(c->on_temperror, CONF_FAIL_TEMPFAIL, "on_temperror");
	CHECK_INT(c->delay_reject, 1, "delay_reject");
	CHECK_INT(c->dry_run, 0, "dry_run");
	conf_unref(c);
}

struct err_case {
	const char *name;
	const char *text;
	const char *want;
};

static const struct err_case err_cases[] = {
    {"unknown with hint", "# x\n\n\n\n\n\ndns_timout_ms = 5\n",
     "t.conf:7: unknown option \"dns_timout_ms\"; did you mean "
     "\"dns_timeout_ms\"?"},
    {"unknown transposed", "dyr_run = yes\n",
     "t.conf:1: unknown option \"dyr_run\"; did you mean \"dry_run\"?"},
    {"unknown case", "Socket = unix:/x\n",
     "t.conf:1: unknown option \"Socket\"; did you mean \"socket\"?"},
    {"unknown no hint", "frobnicate = 1\n",
     "t.conf:1: unknown option \"frobnicate\""},
    {"out of range", "\ndns_timeout_ms = 99999999\n",
     "t.conf:2: dns_timeout_ms: 99999999 is out of range 100..60000"},
    {"below range", "dns_timeout_ms = 99\n",
     "t.conf:1: dns_timeout_ms: 99 is out of range 100..60000"},
    {"overflow", "dns_tries = 99999999999999999999999\n",
     "t.conf:1: dns_tries: 99999999999999999999999 is out of range 1..10"},
    {"bad number", "dns_tries = 2x\n",
     "t.conf:1: dns_tries: bad number "
     "\"2x\""},
    {"negative", "dns_tries = -1\n", "t.conf:1: dns_tries: bad number \"-1\""},
    {"empty uint", "dns_tries =\n", "t.conf:1: dns_tries: empty value"},
    {"missing =", "a\n\n\nsocket unix:/x\n", "t.conf:1: missing \"=\""},
    {"missing = later", "user = a\nsocket unix:/x\n",
     "t.conf:2: missing \"=\""},
    {"missing name", "= 3\n", "t.conf:1: missing option name"},
    {"bad name", "dns tries = 3\n", "t.conf:1: bad option name \"dns tries\""},
    {"duplicate", "\n\nsocket = unix:/a\nuser = x\nsocket = unix:/b\n",
     "t.conf:5: duplicate option \"socket\" (first set at line 3)"},
    {"bad network", "trusted_networks = 10.0.0.0/8, 10.0.0.0/33\n",
     "t.conf:1: trusted_networks: bad network \"10.0.0.0/33\""},
    {"bad network word", "local_addresses = localhost\n",
     "t.conf:1: local_addresses: bad network \"localhost\""},
    {"bad bool", "dry_run = maybe\n",
     "t.conf:1: dry_run: bad boolean \"maybe\" (expected yes or no)"},
    {"bad mode digit", "socket_mode = 0689\n",
     "t.conf:1: socket_mode: bad mode \"0689\" (expected octal, e.g. "
     "0660)"},
    {"mode too big", "socket_mode = 01777\n",
     "t.conf:1: socket_mode: 01777 is out of range 0..0777"},
    {"bad enum", "on_temperror = reject\n",
     "t.conf:1: on_temperror: bad value \"reject\" (expected tempfail or "
     "accept)"},
    {"bad facility", "syslog_facility = local8\n",
     "t.conf:1: syslog_facility: unknown facility \"local8\" (expected "
     "mail, daemon, user or local0..local7)"},
    {"bad socket", "socket = inet:0@127.0.0.1\n",
     "t.conf:1: socket: bad socket \"inet:0@127.0.0.1\": port must be "
     "1..65535"},
    {"empty socket", "socket = \"\"\n", "t.conf:1: socket: empty value"},
    {"bad dns", "dns_servers = 127.0.0.1, 1.2.3.4:0\n",
     "t.conf:1: dns_servers: bad server \"1.2.3.4:0\""},
    {"bad authserv", "authserv_id = \"mx example\"\n",
     "t.conf:1: authserv_id: bad name \"mx example\""},
    {"bad local name", "local_names = a.example, b/c\n",
     "t.conf:1: local_names: bad name \"b/c\""},
    {"open quote", "user = \"bob # x\n", "t.conf:1: missing closing quote"},
    {"stray quote", "user = bo\"b\"\n", "t.conf:1: stray quote in value"},
    {"after quote", "user = \"bob\" x\n", "t.conf:1: text after closing quote"},
    {"inner quotes", "user = \"a\" \"b\"\n",
     "t.conf:1: text after closing quote"},
    {"bad dnsbl pattern",
     "user = a\n\ndnsbl_sites = zen.example, "
     "bl.example=127.0.0.[2..x]*2\n",
     "t.conf:3: dnsbl_sites: bad entry \"bl.example=127.0.0.[2..x]*2\": "
     "bad pattern"},
    {"bad dnsbl weight", "dnsbl_sites = zen.example*lots\n",
     "t.conf:1: dnsbl_sites: bad entry \"zen.example*lots\": "
     "bad weight"},
    {"dnsbl not 127", "rhsbl_sites = dbl.example=10.0.0.2\n",
     "t.conf:1: rhsbl_sites: bad entry \"dbl.example=10.0.0.2\": "
     "pattern must start with 127"},
    {"bad rhsbl target", "rhsbl_targets = helo, rcpt\n",
     "t.conf:1: rhsbl_targets: unknown target \"rcpt\" (expected helo, "
     "mailfrom or ptr)"},
    {"empty rhsbl targets", "rhsbl_targets =\n",
     "t.conf:1: rhsbl_targets: empty value"},
};

/* test_errors - every diagnostic, exactly, with its line */
static void
test_errors(void)
{
	char err[ERRLEN];

	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		struct conf *conf = parse(c->text, err);

		CHECK(conf == NULL, "%s: accepted", c->name);
		CHECK_STR(err, c->want, c->name);
		conf_unref(conf);
	}
}

/* test_lines - NUL bytes, the 4096-byte limit, CRLF, empty input */
static void
test_lines(void)
{
	char err[ERRLEN], *text = malloc(5000);
	struct conf *c;
	size_t pad;

	/* "user = " + value: exactly 4096 bytes is fine, 4097 is not. */
	pad = 4096 - strlen("user = ");
	memcpy(text, "user = ", 7);
	memset(text + 7, 'u', pad);
	memcpy(text + 7 + pad, "\n", 2);
	c = conf_parse_text(text, strlen(text), "t.conf", err, sizeof(err));
	CHECK(c != NULL && c->user != NULL && strlen(c->user) == pad,
	      "4096-byte line: %s", err);
	conf_unref(c);
	memcpy(text + 7 + pad, "u\nuser = b\n", 12);
	c = conf_parse_text(text, strlen(text), "t.conf", err, sizeof(err));
	CHECK(c == NULL, "4097-byte line accepted");
	CHECK_STR(err, "t.conf:1: line too long (more than 4096 bytes)",
	          "long line");
	conf_unref(c);
	free(text);

	c = conf_parse_text("\nuser = a\0b\n", 12, "t.conf", err, sizeof(err));
	CHECK(c == NULL, "NUL accepted");
	CHECK_STR(err, "t.conf:2: NUL byte in line", "NUL byte");
	conf_unref(c);

	c = parse("user = bob\r\ndry_run = yes\r\n", err);
	CHECK(c != NULL && strcmp(c->user, "bob") == 0 && c->dry_run == 1,
	      "CRLF: %s", err);
	conf_unref(c);

	c = conf_parse_text("", 0, NULL, err, sizeof(err));
	CHECK(c != NULL && c->dns_tries == 2, "empty text: %s", err);
	conf_unref(c);
}

struct dns_case {
	const char *in;
	const char *want; /* NULL: rejected */
};

static const struct dns_case dns_cases[] = {
    {"127.0.0.1", "127.0.0.1:53"},
    {"127.0.0.1:5353", "127.0.0.1:5353"},
    {"[::1]:5353", "[::1]:5353"},
    {"[::1]", "[::1]:53"},
    {"::1", "[::1]:53"},
    {"2001:DB8:0:0::53", "[2001:db8::53]:53"},
    {"[2001:db8::1]:65535", "[2001:db8::1]:65535"},
    {"127.0.0.1:5353, [::1]:53", "127.0.0.1:5353,[::1]:53"},
    {" 10.0.0.1  10.0.0.2:54,\t::2 ", "10.0.0.1:53,10.0.0.2:54,[::2]:53"},
    {",", ""},
    {"127.0.0.1:0", NULL},
    {"127.0.0.1:65536", NULL},
    {"127.0.0.1:", NULL},
    {"127.0.0.1:53x", NULL},
    {"127.0.0.256", NULL},
    {"dns.example.org", NULL},
    {"[::1", NULL},
    {"[::1]53", NULL},
    {"[127.0.0.1]:53", NULL},
    {"::1:53:", NULL},
    {"1.2.3.4:53:53", NULL},
    {"[fe80::1%eth0]:53", NULL},
};

/* test_dns_servers - normalization into the c-ares csv form */
static void
test_dns_servers(void)
{
	for (size_t i = 0; i < sizeof(dns_cases) / sizeof(dns_cases[0]); i++) {
		const struct dns_case *c = &dns_cases[i];
		char bad[80] = "x", *out = (char *)"unset";
		int rc =
		    conf_dns_servers_normalize(c->in, &out, bad, sizeof(bad));

		if (c->want == NULL) {
			CHECK(rc == -1 && out == NULL && bad[0] != '\0',
			      "dns \"%s\" accepted", c->in);
			continue;
		}
		CHECK(rc == 0, "dns \"%s\" rejected at \"%s\"", c->in, bad);
		CHECK_STR(out ? out : "", c->want, c->in);
		free(out);
	}
}

struct socket_case {
	const char *spec;
	int ok;
};

static const struct socket_case socket_cases[] = {
    {"unix:/run/mailvet.sock", 1},
    {"local:/var/spool/postfix/mailvet/s", 1},
    {"inet:8891@127.0.0.1", 1},
    {"inet:1@localhost", 1},
    {"inet:65535@mx-1.example.org", 1},
    {"inet6:8891@[::1]", 1},
    {"inet6:8891@::1", 1},
    {"inet6:8891@ip6-localhost", 1},
    {"unix:relative.sock", 0},
    {"unix:", 0},
    {"unix:/"
     "0123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789"
     "012345678901234567890123456789",
     0},
    {"inet:8891", 0},
    {"inet:0@127.0.0.1", 0},
    {"inet:65536@127.0.0.1", 0},
    {"inet:-1@127.0.0.1", 0},
    {"inet:@127.0.0.1", 0},
    {"inet:8891@", 0},
    {"inet:8891@::1", 0},
    {"inet:8891@127.0.0.300", 0},
    {"inet:8891@bad_host", 0},
    {"inet:8891@-x.example", 0},
    {"inet6:8891@[::1", 0},
    {"inet6:8891@[127.0.0.1]", 0},
    {"inet6:8891@127.0.0.1", 0},
    {"tcp:8891@127.0.0.1", 0},
    {"/run/mailvet.sock", 0},
};

/* test_sockets - socket spec validation */
static void
test_sockets(void)
{
	char why[128];

	for (size_t i = 0; i < sizeof(socket_cases) / sizeof(socket_cases[0]);
	     i++) {
		const struct socket_case *c = &socket_cases[i];
		int rc = conf_socket_check(c->spec, why, sizeof(why));

		CHECK((rc == 0) == c->ok, "socket \"%s\": got %s", c->spec,
		      rc == 0 ? "ok" : why);
	}
}

struct cidr_case {
	const char *list;
	const char *addr;
	int in;
};

static const struct cidr_case cidr_cases[] = {
    {"10.0.0.0/8, 192.168.0.0/16", "10.1.2.3", 1},
    {"10.0.0.0/8, 192.168.0.0/16", "192.168.255.1", 1},
    {"10.0.0.0/8, 192.168.0.0/16", "172.16.0.1", 0},
    {"2001:db8::/32 ::1", "2001:db8:1::9", 1},
    {"2001:db8::/32 ::1", "::1", 1},
    {"2001:db8::/32 ::1", "2001:db9::1", 0},
    {"192.0.2.0/24", "::ffff:192.0.2.5", 1},
    {"", "127.0.0.1", 0},
};

/* test_cidrs - trusted_networks lists match what they should */
static void
test_cidrs(void)
{
	char text[256], err[ERRLEN];

	for (size_t i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]);
	     i++) {
		const struct cidr_case *c = &cidr_cases[i];
		struct netaddr a;
		struct conf *conf;

		snprintf(text, sizeof(text), "trusted_networks = %s\n",
		         c->list);
		conf = parse(text, err);
		CHECK(conf != NULL, "cidrs \"%s\": %s", c->list, err);
		CHECK(netaddr_parse(c->addr, &a) == 0, "addr %s", c->addr);
		if (conf != NULL)
			CHECK_INT(
			    cidr_list_contains(&conf->trusted_networks, &a),
			    c->in, c->addr);
		conf_unref(conf);
	}
}

/* round_trip - print, parse the print, print again: same text */
static void
round_trip(const char *name, struct conf *c)
{
	char err[ERRLEN], *once = print_all(c), *twice = NULL;
	struct conf *again = NULL;

	CHECK(once != NULL, "%s: print failed", name);
	if (once != NULL)
		again = parse(once, err);
	CHECK(again != NULL, "%s: printed text rejected: %s", name, err);
	if (again != NULL)
		twice = print_all(again);
	CHECK_STR(twice, once, name);
	if (again != NULL) {
		CHECK_INT(again->socket_mode, c->socket_mode, "rt socket_mode");
		CHECK_INT(again->syslog_facility, c->syslog_facility,
		          "rt facility");
		CHECK_INT(again->trusted_networks.count,
		          c->trusted_networks.count, "rt trusted_networks");
		CHECK_STR(again->authserv_id, c->authserv_id, "rt authserv_id");
		CHECK_STR(again->local_names, c->local_names, "rt local_names");
	}
	conf_unref(again);
	free(once);
	free(twice);
}

/* test_round_trip - defaults and a config that changes every option */
static void
test_round_trip(void)
{
	static const char text[] =
	    "socket = inet6:9999@[::1]\nsocket_mode = 0600\n"
	    "socket_group = \"mail group\"\nuser = mailvet\n"
	    "pid_file = /run/mailvet.pid\nsyslog_facility = local5\n"
	    "log_json = \"/var/log/a#b.json\"\nshutdown_timeout_s = 600\n"
	    "dns_servers = 127.0.0.1:5353, ::1\ndns_timeout_ms = 100\n"
	    "dns_tries = 10\ndns_cache_size = 0\ndns_cache_max_ttl = 604800\n"
	    "authserv_id = mx.example.org\nlocal_names = a.example b.example\n"
	    "local_addresses = 192.0.2.1, 2001:db8::/64\n"
	    "trusted_networks =\nskip_authenticated = no\n"
	    "iprev_max_names = 1\nrules = /etc/mailvet.rules\n"
	    "on_internal_error = accept\non_temperror = accept\n"
	    "delay_reject = no\ndry_run = yes\n";
	char err[ERRLEN], *printed;
	struct conf *c = conf_defaults();
	size_t lines = 0;

	round_trip("defaults", c);
	printed = print_all(c);
	for (char *p = printed; p != NULL && *p != '\0'; p++)
		lines += *p == '\n';
	CHECK_INT(lines, conf_option_count, "one line per option");
	CHECK(printed != NULL && strncmp(printed,
	                                 "socket = inet:8891@127.0.0.1\n"
	                                 "socket_mode = 0660\n"
	                                 "socket_group =\n",
	                                 50) == 0,
	      "print starts in table order: %.60s", printed);
	free(printed);
	conf_unref(c);
	c = parse(text, err);
	CHECK(c != NULL, "every option: %s", err);
	if (c != NULL)
		round_trip("every option", c);
	conf_unref(c);
}

/* write_file - a scratch file with text; its path in path */
static int
write_file(char *path, size_t len, const char *text)
{
	int fd;

	snprintf(path, len, "/tmp/test_conf.XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* test_load - conf_load: good file, error lines, open and read errors */
static void
test_load(void)
{
	char path[64], err[ERRLEN], want[ERRLEN];
	struct conf *c;

	CHECK(write_file(path, sizeof(path), "# mailvet\n\ndry_run = yes\n") ==
	          0,
	      "scratch file");
	c = conf_load(path, err, sizeof(err));
	CHECK(c != NULL && c->dry_run == 1, "load: %s", err);
	CHECK_STR(c ? c->path : NULL, path, "load path");
	conf_unref(c);
	unlink(path);

	CHECK(write_file(path, sizeof(path), "\n\ndns_tries = 0\n") == 0,
	      "scratch file");
	c = conf_load(path, err, sizeof(err));
	snprintf(want, sizeof(want), "%s:3: dns_tries: 0 is out of range 1..10",
	         path);
	CHECK(c == NULL, "bad file accepted");
	CHECK_STR(err, want, "load error line");
	conf_unref(c);
	unlink(path);

	c = conf_load("/nonexistent/mailvet.conf", err, sizeof(err));
	CHECK(c == NULL, "missing file accepted");
	CHECK_STR(err,
	          "/nonexistent/mailvet.conf: cannot open: No such file or "
	          "directory",
	          "cannot open");
	c = conf_load("/tmp", err, sizeof(err));
	CHECK(c == NULL, "directory accepted");
	CHECK_STR(err, "/tmp: cannot read: Is a directory", "directory");
}

/* test_refs - conf_ref / conf_unref; NULL is a no-op */
static void
test_refs(void)
{
	struct conf *c = conf_defaults();

	CHECK(conf_ref(c) == c, "conf_ref returns its argument");
	CHECK_INT(c->refs, 2, "refs after ref");
	conf_unref(c);
	CHECK_INT(c->refs, 1, "refs after unref");
	conf_unref(c);
	conf_unref(NULL);
	CHECK(conf_ref(NULL) == NULL, "conf_ref(NULL)");
}

struct hosts_case {
	const char *hosts;
	const char *name;
	const char *want; /* NULL: not found */
};

static const struct hosts_case hosts_cases[] = {
    {"127.0.0.1 localhost\n127.0.1.1 mx.example.org mx\n", "mx",
     "mx.example.org"},
    {"127.0.1.1\tmx\tMX.Example.org # c\n", "MX", "MX.Example.org"},
    {"# 127.0.1.1 mx.example.org mx\n", "mx", NULL},
    {"127.0.1.1 mx.example.org\n", "mx", NULL},
    {"127.0.1.1 mx other.example.org\n", "mx", NULL},
    {"127.0.1.1 mxx.example.org mx\n", "mx", NULL},
    {"127.0.1.1 mx.example.org mx\n", "mx.example.org", NULL},
    {"", "mx", NULL},
};

/* test_hosts - qualifying a short host name from /etc/hosts text */
static void
test_hosts(void)
{
	char buf[CONF_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof(hosts_cases) / sizeof(hosts_cases[0]);
	     i++) {
		const struct hosts_case *c = &hosts_cases[i];
		FILE *f = fmemopen((void *)(uintptr_t)c->hosts,
		                   strlen(c->hosts) + 1, "r");
		int rc = conf_hosts_fqdn(f, c->name, buf, sizeof(buf));

		if (c->want == NULL)
			CHECK(rc == -1, "hosts %zu: found %s", i, buf);
		else if (rc == 0)
			CHECK_STR(buf, c->want, c->hosts);
		else
			CHECK(0, "hosts %zu: not found", i);
		if (f != NULL)
			fclose(f);
	}
	conf_hostname(buf, sizeof(buf));
	CHECK(conf_name_valid(buf), "conf_hostname valid: %s", buf);
}

struct dist_case {
	const char *a, *b;
	unsigned want;
};

static const struct dist_case dist_cases[] = {
    {"dns_timeout_ms", "dns_timeout_ms", 0},
    {"dns_timout_ms", "dns_timeout_ms", 1},
    {"dyr_run", "dry_run", 1},
    {"sokcet_mdoe", "socket_mode", 2},
    {"", "user", 4},
    {"rules", "users", 3},
};

/* test_distance - the edit distance behind "did you mean" */
static void
test_distance(void)
{
	for (size_t i = 0; i < sizeof(dist_cases) / sizeof(dist_cases[0]); i++)
		CHECK_INT(conf_edit_distance(dist_cases[i].a, dist_cases[i].b),
		          dist_cases[i].want, dist_cases[i].a);
}

/* read_text - a whole file into a new string, or NULL */
static char *
read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int ch;

	while (f != NULL && mem != NULL && (ch = fgetc(f)) != EOF)
		fputc(ch, mem);
	if (mem != NULL)
		fclose(mem);
	if (f == NULL) {
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

/*
 * sample_settings - the "#option = value" lines of the sample config,
 * uncommented; counts how often each option appears.
 */
static char *
sample_settings(char *sample, unsigned *count)
{
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);
	char *save = NULL;

	for (char *line = strtok_r(sample, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t n = strspn(line + 1, "abcdefghijklmnopqrstuvwxyz_");
		const struct conf_option *opt;
		char key[64];

		if (line[0] != '#' || n == 0 || n >= sizeof(key) ||
		    strncmp(line + 1 + n, " =", 2) != 0)
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)n, line + 1);
		if ((opt = conf_option_find(key)) != NULL)
			count[opt - conf_options]++;
		fprintf(mem, "%s\n", line + 1);
	}
	fclose(mem);
	return out;
}

/* test_docs - the sample config and the man page follow the table */
static void
test_docs(void)
{
	char *sample, *man, *settings, *want, *got, err[ERRLEN];
	unsigned count[64] = {0};
	struct conf *c, *d;

	if (access("conf/options.c", R_OK) != 0) {
		printf("test_conf: documentation checks skipped (not at the "
		       "top of the tree)\n");
		return;
	}
	sample = read_text("conf/mailvet.conf");
	man = read_text("man/mailvet.conf.5");
	CHECK(sample != NULL && man != NULL, "conf/mailvet.conf, man page");
	CHECK(conf_option_count <= 64, "count[] too small");
	if (sample == NULL || man == NULL || conf_option_count > 64)
		goto out;
	for (size_t i = 0; i < conf_option_count; i++) {
		char entry[80];

		snprintf(entry, sizeof(entry), "\n.B %s\n",
		         conf_options[i].name);
		CHECK(strstr(man, entry) != NULL, "man page lacks %s",
		      conf_options[i].name);
	}
	settings = sample_settings(sample, count);
	for (size_t i = 0; i < conf_option_count; i++)
		CHECK_INT(count[i], 1, conf_options[i].name);
	/* Uncommented, the sample's defaults are the real defaults. */
	c = parse(settings ? settings : "", err);
	CHECK(c != NULL, "sample settings: %s", err);
	d = conf_defaults();
	want = print_all(d);
	got = c ? print_all(c) : NULL;
	CHECK_STR(got, want, "sample defaults");
	free(want);
	free(got);
	free(settings);
	conf_unref(c);
	conf_unref(d);
out:
	free(sample);
	free(man);
}

int
main(void)
{
	test_good();
	test_fields();
	test_defaults();
	test_errors();
	test_lines();
	test_dns_servers();
	test_sockets();
	test_cidrs();
	test_round_trip();
	test_load();
	test_refs();
	test_hosts();
	test_distance();
	test_docs();
	return test_summary("test_conf");
}
