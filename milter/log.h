/*
 * log - diagnostics to syslog, or to stderr in the foreground
 *
 * Functions: log_open, log_close, log_err, log_warn, log_info, log_debug,
 * and the _errno forms that append ": strerror(errno)". Every format is
 * checked by the compiler. Callers put the connection or queue id first.
 */
#ifndef MAILVET_LOG_H
#define MAILVET_LOG_H

#include <stdarg.h>

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

void log_open(const char *ident, int to_stderr, int facility, int debug);
void log_close(void);
void log_set_facility(int facility);

void log_err(const char *fmt, ...) LOG_FMT(1, 2);
void log_err_errno(const char *fmt, ...) LOG_FMT(1, 2);
void log_warn(const char *fmt, ...) LOG_FMT(1, 2);
void log_warn_errno(const char *fmt, ...) LOG_FMT(1, 2);
void log_info(const char *fmt, ...) LOG_FMT(1, 2);
void log_debug(const char *fmt, ...) LOG_FMT(1, 2);

#endif
