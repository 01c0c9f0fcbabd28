/*
 * log - diagnostics to syslog, or to stderr in the foreground
 *
 * In the foreground each line goes to stderr in one write, prefixed with
 * the level, so lines of different threads never interleave.
 */
#include "milter/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static int log_stderr;
static int log_debugging;
static int log_facility = LOG_MAIL;

/* log_open - choose the destination; syslog is opened lazily by libc */
void
log_open(const char *ident, int to_stderr, int facility, int debug)
{
	log_stderr = to_stderr;
	log_debugging = debug;
	log_facility = facility;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

/* log_close - close syslog */
void
log_close(void)
{
	if (!log_stderr)
		closelog();
}

/* log_set_facility - a reload may change the facility */
void
log_set_facility(int facility)
{
	log_facility = facility;
}

/* log_emit - format one line and send it where it belongs */
static void
log_emit(int prio, const char *tag, int with_errno, const char *fmt, va_list ap)
{
	char line[2048];
	int saved = errno;
	int n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if (with_errno && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, ": %s",
		         strerror(saved));
	if (log_stderr) {
		char out[2100];
		int len =
		    snprintf(out, sizeof(out), "mailvet: %s: %s\n", tag, line);
		if (len > 0) {
			size_t want = (size_t)len < sizeof(out)
			                  ? (size_t)len
			                  : sizeof(out) - 1;
			ssize_t w = write(STDERR_FILENO, out, want);
			(void)w;
		}
	} else {
		syslog(log_facility | prio, "%s", line);
	}
	errno = saved;
}

#define LOG_BODY(prio, tag, with_errno)                                        \
	va_list ap;                                                            \
	va_start(ap, fmt);                                                     \
	log_emit(prio, tag, with_errno, fmt, ap);                              \
	va_end(ap)

/* log_err - an error */
void
log_err(const char *fmt, ...)
{
	LOG_BODY(LOG_ERR, "error", 0);
}

/* log_err_errno - an error, with strerror(errno) */
void
log_err_errno(const char *fmt, ...)
{
	LOG_BODY(LOG_ERR, "error", 1);
}

/* log_warn - a warning */
void
log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, "warning", 0);
}

/* log_warn_errno - a warning, with strerror(errno) */
void
log_warn_errno(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, "warning", 1);
}

/* log_info - normal operation, including verdict lines */
void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, "info", 0);
}

/* log_debug - only with -d */
void
log_debug(const char *fmt, ...)
{
	if (!log_debugging)
		return;
	LOG_BODY(LOG_DEBUG, "debug", 0);
}
