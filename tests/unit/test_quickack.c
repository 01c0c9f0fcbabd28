/*
 * test_quickack - milter connections ACK before mailvet waits for more
 *
 * Two loopback listeners, one watched by quickack_watch_listener() (as
 * daemon.c does for the milter socket), one not. A client with Nagle on
 * (as Postfix and Sendmail have it) talks to each: first request and
 * reply a few dozen times, which puts the receiving side in Linux's
 * interactive mode where ACKs wait for a reply to ride on; then one
 * packet that gets no reply, as at mailvet's no-reply steps. The server
 * reads it and then polls for more with a short timeout, as libmilter
 * does (poll() is the interposed one); right after, the client's
 * TCP_INFO tells whether its packet was ACKed: on the watched connection
 * it must be; the unwatched one is the control that shows the kernel
 * would have delayed it (when it does not, the comparison proves nothing
 * and is said so).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "milter/quickack.h"
#include "tests/unit/testlib.h"

#define EXCHANGES 40

/* listen_loopback - a TCP listener on 127.0.0.1, any port */
static int
listen_loopback(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sin, sizeof(*sin)) != 0 ||
	    listen(fd, 4) != 0 ||
	    getsockname(fd, (struct sockaddr *)sin, &len) != 0)
		return -1;
	return fd;
}

/* read_exact - read n bytes */
static int
read_exact(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* unacked - segments the client has sent that are not ACKed yet */
static long
unacked(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return -1;
	return (long)ti.tcpi_unacked;
}

/*
 * one_way_unacked - after EXCHANGES request/replies, one packet with no
 * reply; the client's unACKed count after the server read it and waited
 * 1 ms for more (far below the kernel's 40 ms delayed-ACK timer)
 */
static long
one_way_unacked(int client, int server)
{
	char buf[16];
	struct pollfd pfd = {.fd = server, .events = POLLIN};

	for (int i = 0; i < EXCHANGES; i++) {
		if (write(client, "request-0123456", 15) != 15 ||
		    read_exact(server, buf, 15) != 0 ||
		    write(server, "reply-012345678", 15) != 15 ||
		    read_exact(client, buf, 15) != 0)
			return -1;
	}
	if (write(client, "no-reply-012345", 15) != 15 ||
	    read_exact(server, buf, 15) != 0 || poll(&pfd, 1, 1) != 0)
		return -1;
	return unacked(client);
}

/* pair - client connected to listener lfd; the accepted socket in *srv */
static int
pair(int lfd, const struct sockaddr_in *sin, int *srv)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (c < 0 || connect(c, (const struct sockaddr *)sin, sizeof(*sin)))
		return -1;
	*srv = accept(lfd, NULL, NULL);
	return *srv < 0 ? -1 : c;
}

/* check_reuse_as_pipe - the noted, closed fd comes back as a pipe */
static void
check_reuse_as_pipe(int fd)
{
	int p[2];
	char c;

	if (pipe(p) != 0 || p[0] != fd) {
		printf("NOTE test_quickack: descriptor %d was not reused\n",
		       fd);
		return;
	}
	CHECK(quickack_is_noted(p[0]), "stale bit before the read");
	{
		struct pollfd pfd = {.fd = p[0], .events = POLLIN};
		CHECK(poll(&pfd, 1, 1) == 0, "empty pipe: poll times out");
	}
	CHECK(!quickack_is_noted(p[0]), "reused as a pipe: forgotten");
	CHECK(write(p[1], "x", 1) == 1 && read(p[0], &c, 1) == 1, "pipe");
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	struct sockaddr_in a, b;
	int la = listen_loopback(&a), lb = listen_loopback(&b);
	int sa = -1, sb = -1, ca, cb;
	long watched, control;

	CHECK(la >= 0 && lb >= 0, "listeners: %s", strerror(errno));
	quickack_watch_listener(la);
	ca = pair(la, &a, &sa);
	cb = pair(lb, &b, &sb);
	CHECK(ca >= 0 && cb >= 0, "connections: %s", strerror(errno));
	CHECK(quickack_is_noted(sa), "accepted on a watched listener: noted");
	CHECK(!quickack_is_noted(sb), "accepted elsewhere: not noted");
	CHECK(!quickack_is_noted(ca), "a connect()ed socket: not noted");

	watched = one_way_unacked(ca, sa);
	control = one_way_unacked(cb, sb);
	CHECK_INT(watched, 0, "no-reply packet ACKed before the wait");
	if (control == 1)
		CHECK_INT(control, 1, "control: the kernel delays that ACK");
	else
		printf("NOTE test_quickack: the control connection got its "
		       "ACK at once (%ld unacked): this kernel did not delay "
		       "it, so the comparison shows nothing here\n",
		       control);

	/* A noted descriptor reused for a pipe is forgotten at its read. */
	close(sa);
	check_reuse_as_pipe(sa);
	close(ca);
	close(cb);
	close(sb);
	close(la);
	close(lb);
	return test_summary("test_quickack");
}
