/*
 * daemon - process plumbing around libmilter: socket permissions and
 * TCP_NODELAY, detaching, pid file, privilege drop, signals, shutdown.
 *
 * Signals: SIGTERM and SIGINT stop (libmilter closes the listener, open
 * sessions get shutdown_timeout_s to finish); SIGHUP reloads the
 * configuration and rules, keeping the running ones if the new ones do
 * not load, and reopens the JSON log.
 */
#ifndef MAILVET_DAEMON_H
#define MAILVET_DAEMON_H

#include "conf/conf.h"

/* daemon_socket_setup - after smfi_opensocket: mode, group, NODELAY,
 * quick ACKs on inet listeners (quickack.h) */
int daemon_socket_setup(const struct conf *conf);

int daemon_detach(void);
int daemon_pidfile_write(const char *path);
void daemon_pidfile_remove(const char *path);
int daemon_drop_privileges(const char *user);

/* daemon_block_signals - before any thread: the signal thread waits */
void daemon_block_signals(void);
int daemon_signals_start(const char *conf_path);

/* daemon_wait_sessions - after smfi_main: let open sessions finish */
void daemon_wait_sessions(unsigned timeout_s);

#endif
