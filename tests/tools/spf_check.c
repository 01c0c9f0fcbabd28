/*
 * spf_check - run mailvet's SPF check from the command line
 *
 *   spf_check [-t MS] SERVER [IP HELO MAILFROM]
 *
 * SERVER is a c-ares server list ("127.0.0.1:5353"). With IP, HELO and
 * MAILFROM (which may be "") one check runs and its result, explanation
 * and Received-SPF value are printed. Without them, test cases are read
 * from stdin, one a line, "ID<TAB>IP<TAB>HELO<TAB>MAILFROM", and each
 * answers "ID<TAB>RESULT<TAB>EXPLANATION<TAB>REASON" on stdout (control
 * characters shown as '?'). An empty MAILFROM checks the HELO identity,
 * as the RFC 7208 test suite expects. -t sets the deadline of one check
 * (default 3000 ms).
 *
 * Exit status: 0, or 2 for bad usage or setup failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "milter/checks/spf.h"

struct spf_tool {
	struct dns_resolver *resolver;
	unsigned timeout_ms;
};

/* tool_clean - make text safe for one tab-separated output field */
static void
tool_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* tool_check - one check; helo identity when mailfrom is empty */
static int
tool_check(struct spf_tool *t, const char *ipt, const char *helo,
           const char *mailfrom, struct spf_outcome *o)
{
	struct netaddr ip;
	uint64_t deadline = dns_now_ms() + t->timeout_ms;

	if (netaddr_parse(ipt, &ip) < 0)
		return -1;
	if (mailfrom[0] == '\0')
		return spf_check_helo(t->resolver, &ip, helo, "receiver.test",
		                      deadline, o);
	return spf_check_mailfrom(t->resolver, &ip, helo, mailfrom,
	                          "receiver.test", deadline, o);
}

/* tool_line - split one stdin case into its four fields */
static int
tool_line(char *line, char *field[4])
{
	int i;

	line[strcspn(line, "\r\n")] = '\0';
	for (i = 0; i < 4; i++) {
		field[i] = line;
		line = strchr(line, '\t');
		if (line == NULL)
			return i == 3 ? 0 : -1;
		*line++ = '\0';
	}
	return 0;
}

/* tool_batch - answer every case read from stdin */
static int
tool_batch(struct spf_tool *t)
{
	char line[4096], *f[4];
	struct spf_outcome o;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (tool_line(line, f) < 0)
			continue;
		if (tool_check(t, f[1], f[2], f[3], &o) < 0) {
			printf("%s\terror\t\tdriver failure\n", f[0]);
		} else {
			tool_clean(o.explanation);
			tool_clean(o.reason);
			printf("%s\t%s\t%s\t%s\n", f[0], result_name(o.result),
			       o.explanation, o.reason);
		}
		fflush(stdout);
	}
	return 0;
}

/* tool_one - one check from the command line, with its header */
static int
tool_one(struct spf_tool *t, char **argv)
{
	struct spf_outcome o;
	struct netaddr ip;
	char hdr[1024];

	if (tool_check(t, argv[0], argv[1], argv[2], &o) < 0 ||
	    netaddr_parse(argv[0], &ip) < 0)
		return 2;
	printf("result: %s\nexplanation: %s\nreason: %s\nlookups: %u "
	       "void: %u\n",
	       result_name(o.result), o.explanation, o.reason, o.dns_lookups,
	       o.void_lookups);
	if (spf_received_spf(&o, &ip, argv[1], "receiver.test", hdr,
	                     sizeof(hdr)) == 0)
		printf("Received-SPF: %s\n", hdr);
	if (spf_authres(&o, hdr, sizeof(hdr)) == 0)
		printf("Authentication-Results: receiver.test; %s\n", hdr);
	return 0;
}

int
main(int argc, char **argv)
{
	struct dns_config cfg = {NULL, 400, 2};
	struct spf_tool t = {NULL, 3000};
	int c, rc;

	while ((c = getopt(argc, argv, "t:")) != -1) {
		if (c != 't')
			return 2;
		t.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
	}
	if (argc - optind != 1 && argc - optind != 4) {
		fprintf(stderr, "usage: spf_check [-t MS] SERVER "
		                "[IP HELO MAILFROM]\n");
		return 2;
	}
	cfg.servers = argv[optind];
	if (dns_library_init() < 0 || spf_global_init() < 0 ||
	    (t.resolver = dns_resolver_new(&cfg, NULL)) == NULL) {
		fprintf(stderr, "spf_check: setup failed\n");
		return 2;
	}
	rc = argc - optind == 4 ? tool_one(&t, argv + optind + 1)
	                        : tool_batch(&t);
	dns_resolver_free(t.resolver);
	spf_dns_forget_abandoned();
	spf_global_free();
	dns_library_cleanup();
	return rc;
}
