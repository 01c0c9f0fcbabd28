/*
 * quickack - ACK the MTA's packets before waiting on inet milter connections
 *
 * Why: at the steps mailvet negotiates as no-reply (the DATA macros,
 * headers, end of headers, body chunks) nothing of ours goes back to the
 * MTA, so Linux delays the ACK of what mailvet read (40 ms once the
 * connection looks interactive). Postfix and Sendmail write each milter
 * packet on its own and leave Nagle's algorithm on, so their next small
 * packet waits for that ACK: 40 ms on every message through Postfix, two
 * such waits through Sendmail (issue 19). TCP_QUICKACK sends a pending
 * ACK at once (the kernel clears the option again, so it is set each
 * time). Asking for replies at those steps also removes the wait, at one
 * round trip per header; setting TCP_QUICKACK after every read removes it
 * too, but sends an ACK of its own ahead of every reply (13 % more CPU
 * per message on the protocol driver). Measured side by side:
 * tests/bench/RESULTS.md.
 *
 * When: just before libmilter waits for the MTA with nothing to read.
 * That is exactly when the MTA may be holding a packet back for our ACK;
 * after a command mailvet answers, the reply already carried the ACK and
 * the option costs one system call and no packet.
 *
 * How: libmilter owns the accept() and every poll() and read() of a
 * milter connection and hands out neither the descriptor nor a hook. As
 * with sigwait() in daemon.c, the executable's definitions come before
 * libc's in symbol lookup for libmilter, so this file defines accept()
 * and poll(). accept() notes each TCP connection accepted on a listening
 * socket that quickack_watch_listener() marked. poll() on one noted
 * descriptor, with a timeout, first polls without waiting; when nothing
 * is ready it sets TCP_QUICKACK, then waits as asked. Polls on several
 * descriptors (libmilter's idle sessions) are left alone: a session goes
 * idle only after its own single-descriptor wait. libc's functions are
 * found with dlsym(RTLD_NEXT), so a sanitizer's interceptor stays in the
 * chain. Unix sockets have no ACKs and are never marked.
 *
 * One more job for the same poll(): libmilter's listener thread waits 5 s
 * at a time on the listening socket while holding the lock that its
 * SIGTERM handler needs, so a stop took up to 5 s on an idle daemon.
 * Listeners marked by quickack_bound_listener_wait() (inet and unix) are
 * polled LISTENER_WAIT_MS at a time instead; libmilter just loops.
 *
 * Descriptors are noted in a bitmap of QUICKACK_MAX_FD bits; a higher
 * descriptor simply gets no quick ACKs. A noted descriptor that was
 * closed and reused for something that is not a TCP socket fails the
 * setsockopt once (ENOTSOCK/EOPNOTSUPP) and is forgotten. errno is kept
 * as poll() leaves it.
 */
#include "milter/quickack.h"

#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define QUICKACK_MAX_FD  65536
#define WORD_BITS        64
#define LISTENER_WAIT_MS 200

static _Atomic uint64_t conn_bits[QUICKACK_MAX_FD / WORD_BITS];
static _Atomic uint64_t listener_bits[QUICKACK_MAX_FD / WORD_BITS];
static _Atomic uint64_t bounded_bits[QUICKACK_MAX_FD / WORD_BITS];

typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*accept_fn)(int, __SOCKADDR_ARG, socklen_t *restrict);

static poll_fn libc_poll;
static accept_fn libc_accept;
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

/* resolve - find the next definitions of poll() and accept() */
static void
resolve(void)
{
	*(void **)&libc_poll = dlsym(RTLD_NEXT, "poll");
	*(void **)&libc_accept = dlsym(RTLD_NEXT, "accept");
}

/* bit_test - whether fd is set in a bitmap */
static int
bit_test(_Atomic uint64_t *bits, int fd)
{
	if (fd < 0 || fd >= QUICKACK_MAX_FD)
		return 0;
	return (atomic_load_explicit(&bits[fd / WORD_BITS],
	                             memory_order_relaxed) >>
	        (fd % WORD_BITS)) &
	       1;
}

/* bit_set - set or clear fd in a bitmap */
static void
bit_set(_Atomic uint64_t *bits, int fd, int on)
{
	uint64_t mask;

	if (fd < 0 || fd >= QUICKACK_MAX_FD)
		return;
	mask = (uint64_t)1 << (fd % WORD_BITS);
	if (on)
		atomic_fetch_or(&bits[fd / WORD_BITS], mask);
	else
		atomic_fetch_and(&bits[fd / WORD_BITS], ~mask);
}

/* quickack_watch_listener - see quickack.h */
void
quickack_watch_listener(int fd)
{
	bit_set(listener_bits, fd, 1);
}

/* quickack_bound_listener_wait - see quickack.h */
void
quickack_bound_listener_wait(int fd)
{
	bit_set(bounded_bits, fd, 1);
}

/* quickack_is_noted - see quickack.h */
int
quickack_is_noted(int fd)
{
	return bit_test(conn_bits, fd);
}

/* send_ack_now - TCP_QUICKACK on fd; forget fd if it is no TCP socket */
static void
send_ack_now(int fd)
{
	int one = 1, saved = errno;

	if (setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one)) != 0)
		bit_set(conn_bits, fd, 0);
	errno = saved;
}

/* real_poll - the next poll() in the chain */
static int
real_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	struct timespec ts, *tsp = NULL;

	if (libc_poll != NULL)
		return libc_poll(fds, n, timeout);
	if (timeout >= 0) {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
		tsp = &ts;
	}
	return ppoll(fds, n, tsp, NULL);
}

/*
 * poll - libc's poll(). When libmilter is about to wait for the MTA on a
 * noted connection and nothing is there yet, the ACK goes out first.
 * Interposed: see the top of this file.
 */
int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	pthread_once(&resolve_once, resolve);
	if (n == 1 && bit_test(bounded_bits, fds[0].fd) &&
	    (timeout < 0 || timeout > LISTENER_WAIT_MS))
		return real_poll(fds, 1, LISTENER_WAIT_MS);
	if (n == 1 && timeout != 0 && (fds[0].events & POLLIN) &&
	    bit_test(conn_bits, fds[0].fd)) {
		int ready = real_poll(fds, 1, 0);
		if (ready != 0)
			return ready;
		send_ack_now(fds[0].fd);
	}
	return real_poll(fds, n, timeout);
}

/*
 * accept - libc's accept(); a connection from a watched listener is
 * noted. Interposed: see the top of this file.
 */
int
accept(int lfd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
	int fd;

	pthread_once(&resolve_once, resolve);
	if (libc_accept != NULL)
		fd = libc_accept(lfd, addr, len);
	else
		fd = accept4(lfd, addr, len, 0);
	if (fd >= 0)
		bit_set(conn_bits, fd, bit_test(listener_bits, lfd));
	return fd;
}
