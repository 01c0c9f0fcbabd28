/*
 * dkim_verify - verify the DKIM signatures of message files through
 * mailvet's dkim module, as the milter would
 *
 *   dkim_verify [-t MS] [-n MAXSIGS] [-k MINBITS] SERVER FILE...
 *
 * SERVER is a c-ares server list ("127.0.0.1:5353"). Each FILE is split
 * into headers and body the way libmilter hands them over: one call per
 * header with the name and the value (leading white space dropped, line
 * ends as bare LF), then the body in 64 KB chunks. For each file it prints
 *
 *   file FILE
 *   result RESULT
 *   sig N RESULT d=DOMAIN s=SELECTOR a=ALG bits=BITS (REASON)
 *   domains D1,D2
 *   authres dkim=...
 *   elapsed MS
 *
 * -t is the deadline of one message from its end of headers (default
 * 2000 ms), -n the number of signatures verified (default 8), -k the
 * minimum RSA key size (default 1024).
 *
 * Exit status: 0, or 2 for bad usage, setup failure or unreadable file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "milter/checks/dkim.h"

#define TOOL_CHUNK 65536

struct tool {
	struct dns_config cfg;
	unsigned timeout_ms, max_sigs;
};

/* tool_read - a whole file into memory (the driver may copy; the module
 * does not) */
static char *
tool_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

/* tool_header - hand one raw header (CRLF or LF folded) to the module */
static int
tool_header(struct dkim_msg *m, const char *h, size_t len)
{
	struct strbuf name, value;
	const char *colon = memchr(h, ':', len), *p;
	int rc;

	if (colon == NULL)
		return 0;
	strbuf_init(&name);
	strbuf_init(&value);
	strbuf_addn(&name, h, (size_t)(colon - h));
	for (p = colon + 1; p < h + len && (*p == ' ' || *p == '\t'); p++)
		;
	for (; p < h + len; p++)
		if (*p != '\r')
			strbuf_addc(&value, *p);
	while (value.len > 0 && value.data[value.len - 1] == '\n')
		value.data[--value.len] = '\0';
	rc = dkim_msg_header(m, strbuf_str(&name), strbuf_str(&value));
	strbuf_free(&name);
	strbuf_free(&value);
	return rc;
}

/* tool_feed - headers, eoh and the body of one message */
static void
tool_feed(struct dkim_msg *m, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *start, *nl;
	size_t off, n;

	while (p < end && *p != '\r' && *p != '\n') {
		start = p;
		do {
			nl = memchr(p, '\n', (size_t)(end - p));
			p = nl != NULL ? nl + 1 : end;
		} while (p < end && (*p == ' ' || *p == '\t'));
		(void)tool_header(m, start, (size_t)(p - start));
	}
	if (p < end && *p == '\r')
		p++;
	if (p < end && *p == '\n')
		p++;
	(void)dkim_msg_eoh(m);
	for (off = 0; off < (size_t)(end - p); off += n) {
		n = (size_t)(end - p) - off;
		if (n > TOOL_CHUNK)
			n = TOOL_CHUNK;
		(void)dkim_msg_body(m, (const unsigned char *)p + off, n);
	}
}

/* tool_print - the results of one message */
static void
tool_print(const struct dkim_msg *m, uint64_t ms)
{
	const struct dkim_sig_result *s;
	const char *const *d;
	struct strbuf sb;
	size_t i, n;

	printf("result %s\n", result_name(dkim_msg_result(m)));
	for (i = 0; (s = dkim_msg_sig(m, i)) != NULL; i++)
		printf("sig %zu %s d=%s s=%s a=%s bits=%u (%s)\n", i,
		       result_name(s->result), s->domain, s->selector,
		       s->algorithm, s->key_bits, s->reason);
	d = dkim_msg_domains(m, &n);
	printf("domains ");
	for (i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", d[i]);
	strbuf_init(&sb);
	dkim_authres(m, &sb);
	printf("\nauthres %s\nelapsed %llu\n", strbuf_str(&sb),
	       (unsigned long long)ms);
	strbuf_free(&sb);
}

/* tool_file - verify one file with its own resolver, as one message */
static int
tool_file(const struct tool *t, const char *path)
{
	struct dns_resolver *r;
	struct dkim_msg *m;
	uint64_t start;
	size_t len = 0;
	char *buf;

	if ((buf = tool_read(path, &len)) == NULL)
		return -1;
	r = dns_resolver_new(&t->cfg, NULL);
	m = r != NULL ? dkim_msg_new(r, t->max_sigs, "dkim_verify") : NULL;
	if (m == NULL) {
		dns_resolver_free(r);
		free(buf);
		return -1;
	}
	start = dns_now_ms();
	tool_feed(m, buf, len);
	(void)dkim_msg_eom(m, start + t->timeout_ms);
	printf("file %s\n", path);
	tool_print(m, dns_now_ms() - start);
	fflush(stdout);
	dkim_msg_free(m); /* first: it forgets its queries on r */
	dns_resolver_free(r);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	struct tool t = {{NULL, 300, 2}, 2000, 0};
	unsigned bits = 0;
	int c, i, rc = 0;

	while ((c = getopt(argc, argv, "t:n:k:")) != -1) {
		if (c == 't')
			t.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'n')
			t.max_sigs = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'k')
			bits = (unsigned)strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: dkim_verify [-t MS] [-n MAXSIGS] "
		                "[-k MINBITS] SERVER FILE...\n");
		return 2;
	}
	t.cfg.servers = argv[optind];
	if (dns_library_init() < 0 || dkim_global_init(bits) < 0) {
		fprintf(stderr, "dkim_verify: setup failed\n");
		return 2;
	}
	printf("ed25519 %s\n", dkim_ed25519_supported() ? "yes" : "no");
	for (i = optind + 1; i < argc; i++)
		if (tool_file(&t, argv[i]) < 0) {
			fprintf(stderr, "dkim_verify: %s: failed\n", argv[i]);
			rc = 2;
		}
	dkim_global_free();
	dns_library_cleanup();
	return rc;
}
