/*
 * nodelay - LD_PRELOAD shim: TCP_NODELAY on every TCP socket that listens
 *
 *   LD_PRELOAD=build/bench/nodelay.so opendkim -f -x opendkim.conf
 *
 * libmilter never sets TCP_NODELAY, so a filter answering one command
 * with two packets (add header, then continue) waits for the client's
 * delayed ACK, about 40 ms. tests/bench/run.sh measures opendkim both as
 * shipped and with this shim, so that its best rate is the one compared.
 * Accepted sockets inherit the option on Linux.
 *
 * Diagnostics: none; a socket that refuses the option is left as it is.
 */
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>

int listen(int fd, int backlog);

/* listen - set TCP_NODELAY (ignored on non-TCP sockets), then listen */
int
listen(int fd, int backlog)
{
	static int (*real_listen)(int, int);
	int one = 1;

	if (real_listen == 0)
		*(void **)&real_listen = dlsym(RTLD_NEXT, "listen");
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return real_listen(fd, backlog);
}
