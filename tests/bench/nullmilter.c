/*
 * nullmilter - the cheapest possible milter: every callback continues,
 * and the end of message adds one header (as every real filter does)
 *
 *   nullmilter inet:PORT@127.0.0.1
 *
 * The floor of any milter on the Postfix path for tests/bench/run.sh. It
 * asks for every step mailvet asks for (connect, HELO, MAIL, RCPT,
 * headers, end of message) so that the comparison is fair. It also takes
 * DATA: a libmilter filter without xxfi_data is offered no DATA step, and
 * Postfix's first header then waits 40 ms for the ACK of the lone DATA
 * macro packet (issue 19); with a reply to DATA it does not. It sets
 * TCP_NODELAY on its listening socket like mailvet does (libmilter does
 * not, and without it a reply pair waits for a delayed ACK).
 *
 * Diagnostics: exits 1 when the socket cannot be set up.
 */
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>

/* nm_cont - continue, whatever the stage */
static sfsistat
nm_cont(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

/* nm_eom - add one header, continue */
static sfsistat
nm_eom(SMFICTX *ctx)
{
	smfi_addheader(ctx, (char *)"X-Null-Milter", (char *)"seen");
	return SMFIS_CONTINUE;
}

/* nm_connect - continue */
static sfsistat
nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	(void)sa;
	return nm_cont(ctx);
}

/* nm_str - continue (HELO) */
static sfsistat
nm_str(SMFICTX *ctx, char *s)
{
	(void)s;
	return nm_cont(ctx);
}

/* nm_argv - continue (MAIL, RCPT) */
static sfsistat
nm_argv(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return nm_cont(ctx);
}

/* nm_header - continue */
static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)name;
	(void)value;
	return nm_cont(ctx);
}

/* nm_data - continue (its reply ACKs the DATA macros at once) */
static sfsistat
nm_data(SMFICTX *ctx)
{
	return nm_cont(ctx);
}

static struct smfiDesc nm_desc = {
    .xxfi_name = (char *)"nullmilter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS,
    .xxfi_connect = nm_connect,
    .xxfi_helo = nm_str,
    .xxfi_envfrom = nm_argv,
    .xxfi_envrcpt = nm_argv,
    .xxfi_data = nm_data,
    .xxfi_header = nm_header,
    .xxfi_eom = nm_eom,
};

/* nm_nodelay - TCP_NODELAY on every listening inet socket */
static void
nm_nodelay(void)
{
	for (int fd = 3; fd < 64; fd++) {
		int on = 0, one = 1;
		socklen_t len = sizeof(on);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 &&
		    on)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			           sizeof(one));
	}
}

/* main - register, open the socket, run */
int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: nullmilter inet:PORT@127.0.0.1\n");
		return 1;
	}
	if (smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_register(nm_desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	nm_nodelay();
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
