/*
 * quickack - ACK the MTA's packets at once on inet milter connections
 *
 * Why: at the steps mailvet negotiates as no-reply (the DATA macros,
 * headers, end of headers, body chunks) nothing of ours goes back to the
 * MTA, so Linux delays the ACK of what mailvet read (40 ms once the
 * connection looks interactive). Postfix and Sendmail write each milter
 * packet on its own and leave Nagle's algorithm on, so their next small
 * packet waits for that ACK: 40 ms on every message through Postfix, two
 * such waits through Sendmail (issue 19). Setting TCP_QUICKACK after a
 * read sends the pending ACK now; the kernel clears the option again, so
 * it is set after every read. Asking for replies at those steps instead
 * also removes the wait, at the price of one round trip per header: both
 * were measured (tests/bench/RESULTS.md), this one is faster.
 *
 * How: libmilter owns the accept() and every read() of a milter
 * connection and hands out neither the descriptor nor a hook. As with
 * sigwait() in daemon.c, the executable's definitions come before libc's
 * in symbol lookup for libmilter, so this file defines accept() and
 * read(). accept() notes each TCP connection accepted on a listening
 * socket that quickack_watch_listener() marked; read() is libc's read
 * (found with dlsym(RTLD_NEXT), so a sanitizer's interceptor stays in the
 * chain) followed, on a noted descriptor, by setsockopt(TCP_QUICKACK).
 * Unix sockets have no ACKs and are never marked.
 *
 * Descriptors are noted in a bitmap of QUICKACK_MAX_FD bits; a higher
 * descriptor simply gets no quick ACKs. A noted descriptor that was
 * closed and reused for something that is not a TCP socket fails the
 * setsockopt once (ENOTSOCK/EOPNOTSUPP) and is forgotten. errno is kept
 * as read() left it.
 */
#include "milter/quickack.h"

#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define QUICKACK_MAX_FD 65536
#define WORD_BITS       64

static _Atomic uint64_t conn_bits[QUICKACK_MAX_FD / WORD_BITS];
static _Atomic uint64_t listener_bits[QUICKACK_MAX_FD / WORD_BITS];

typedef ssize_t (*read_fn)(int, void *, size_t);
typedef int (*accept_fn)(int, __SOCKADDR_ARG, socklen_t *restrict);

static read_fn libc_read;
static accept_fn libc_accept;
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

/* resolve - find the next definitions of read() and accept() */
static void
resolve(void)
{
	*(void **)&libc_read = dlsym(RTLD_NEXT, "read");
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

/*
 * read - libc's read(); then, on a milter connection, ACK at once.
 * Interposed: see the top of this file.
 */
ssize_t
read(int fd, void *buf, size_t n)
{
	ssize_t got;

	pthread_once(&resolve_once, resolve);
	if (libc_read != NULL)
		got = libc_read(fd, buf, n);
	else
		got = (ssize_t)syscall(SYS_read, fd, buf, n);
	if (got > 0 && bit_test(conn_bits, fd))
		send_ack_now(fd);
	return got;
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
		fd = (int)syscall(SYS_accept, lfd, addr.__sockaddr__, len);
	if (fd >= 0)
		bit_set(conn_bits, fd, bit_test(listener_bits, lfd));
	return fd;
}
