/*
 * daemon - process plumbing around libmilter (see daemon.h)
 */
#include "milter/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "milter/log.h"
#include "milter/quickack.h"
#include "milter/runtime.h"
#include "milter/verdict.h"

/* unix_socket_path - the path of a unix: or local: socket, else NULL */
static const char *
unix_socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

/*
 * tune_listeners - libmilter never sets TCP_NODELAY, and a
 * command answered with two packets (add header, then continue) then
 * waits for a delayed ACK: ~22 messages/s instead of thousands. libmilter
 * does not hand out its listening socket, so find it; accepted sockets
 * inherit the option on Linux. The MTA's side of the same problem (its
 * packets at our no-reply steps wait for our delayed ACK) is handled by
 * quickack.c, which is told about each inet listener here; every
 * listener, unix ones too, gets bounded waits (a prompt SIGTERM).
 */
static void
tune_listeners(void)
{
	for (int fd = 3; fd < 1024; fd++) {
		int on = 0, one = 1;
		socklen_t len = sizeof(on);
		struct sockaddr_storage ss;
		socklen_t slen = sizeof(ss);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) != 0 ||
		    !on)
			continue;
		quickack_bound_listener_wait(fd);
		if (getsockname(fd, (struct sockaddr *)&ss, &slen) != 0 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		               sizeof(one)) != 0)
			log_warn_errno("TCP_NODELAY on fd %d", fd);
		quickack_watch_listener(fd);
	}
}

/* daemon_socket_setup - see daemon.h */
int
daemon_socket_setup(const struct conf *conf)
{
	const char *path = unix_socket_path(conf->socket);

	tune_listeners();
	if (path == NULL)
		return 0;
	if (conf->socket_group != NULL) {
		struct group *gr = getgrnam(conf->socket_group);
		if (gr == NULL) {
			log_err("socket_group: no group \"%s\"",
			        conf->socket_group);
			return -1;
		}
		if (chown(path, (uid_t)-1, gr->gr_gid) != 0) {
			log_err_errno("chown %s", path);
			return -1;
		}
	}
	if (chmod(path, (mode_t)conf->socket_mode) != 0) {
		log_err_errno("chmod %s", path);
		return -1;
	}
	return 0;
}

/* daemon_detach - go to the background, away from the terminal */
int
daemon_detach(void)
{
	if (daemon(1, 0) != 0) { /* keep cwd: relative paths in the conf */
		log_err_errno("daemon");
		return -1;
	}
	return 0;
}

/* daemon_pidfile_write - write our pid, refusing to follow links */
int
daemon_pidfile_write(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	          0644);
	if (fd < 0) {
		log_err_errno("cannot write pid file %s", path);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (n < 0 || write(fd, buf, (size_t)n) != n) {
		log_err_errno("cannot write pid file %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* daemon_pidfile_remove - at exit */
void
daemon_pidfile_remove(const char *path)
{
	if (path != NULL && unlink(path) != 0 && errno != ENOENT)
		log_warn_errno("cannot remove %s", path);
}

/* daemon_drop_privileges - become user (and its groups) for good */
int
daemon_drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user == NULL)
		return 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		log_err("user: no such user \"%s\"", user);
		return -1;
	}
	if (getuid() == pw->pw_uid)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		log_err_errno("cannot become user %s", user);
		return -1;
	}
	if (setuid(0) == 0) {
		log_err("privileges could be regained after dropping them");
		return -1;
	}
	return 0;
}

/*
 * sigwait - libmilter's signal thread sigwait()s for SIGHUP, SIGTERM and
 * SIGINT and stops the filter on SIGHUP. Postmasters expect SIGHUP to
 * reload, so this definition (the executable's symbols come before
 * libc's for libmilter) hides SIGHUP from that thread; mailvet's own
 * signal thread takes SIGHUP with sigwaitinfo, which is not interposed.
 */
int
sigwait(const sigset_t *restrict set, int *restrict sig)
{
	sigset_t mine = *set;
	int n;

	sigdelset(&mine, SIGHUP);
	do
		n = sigwaitinfo(&mine, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	*sig = n;
	return 0;
}

/* daemon_block_signals - every thread inherits the mask */
void
daemon_block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* signal_thread - SIGHUP: reload */
static void *
signal_thread(void *arg)
{
	const char *conf_path = arg;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwaitinfo(&set, NULL) != SIGHUP)
			continue;
		log_info("SIGHUP: reloading %s", conf_path);
		runtime_reload(conf_path);
		verdict_reopen();
	}
	return NULL;
}

/* daemon_signals_start - the reload thread */
int
daemon_signals_start(const char *conf_path)
{
	pthread_t tid;
	int rc = pthread_create(&tid, NULL, signal_thread, (void *)conf_path);

	if (rc != 0) {
		log_err("cannot start the signal thread: %s", strerror(rc));
		return -1;
	}
	pthread_detach(tid);
	return 0;
}

/* daemon_wait_sessions - bounded wait for open sessions to close */
void
daemon_wait_sessions(unsigned timeout_s)
{
	struct timespec tick = {0, 50 * 1000 * 1000};
	unsigned waited_ms = 0;

	while (runtime_sessions() > 0 && waited_ms < timeout_s * 1000) {
		nanosleep(&tick, NULL);
		waited_ms += 50;
	}
	if (runtime_sessions() > 0)
		log_warn("stopping with %zu sessions still open",
		         runtime_sessions());
}
