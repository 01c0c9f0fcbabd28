/*
 * conf - mailvet.conf: one option table, one parser, one struct
 *
 * Syntax: "key = value" lines, '#' starts a comment (outside quotes),
 * blank lines ignored, values may be double-quoted. Every option is one
 * row of the table in conf/options.c (name, type, default, bounds, help):
 * the parser, the defaults, "mailvet -n" output and the documentation all
 * come from that table.
 *
 * Errors: "FILE:LINE: message" (unknown key, bad value, duplicate key,
 * out of range). conf_load() never exits; main decides.
 *
 * Ownership: a struct conf is immutable once loaded and reference-counted,
 * so SIGHUP can swap in a new one while sessions keep the one they
 * started with (conf_ref / conf_unref).
 */
#ifndef MAILVET_CONF_H
#define MAILVET_CONF_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "lib/netaddr.h"

struct dnsbl_sites; /* lib/dnslist.h */

enum conf_failure {
	CONF_FAIL_TEMPFAIL, /* answer 4xx: nothing is lost */
	CONF_FAIL_ACCEPT,   /* let the message through, annotated */
};

struct conf {
	int refs;
	char *path; /* file it came from, or NULL for defaults */

	/* daemon */
	char *socket; /* unix:/path | inet:PORT@HOST | inet6:PORT@[HOST] */
	unsigned socket_mode; /* unix socket permission bits, e.g. 0660 */
	char *socket_group;   /* group owning the unix socket, or NULL */
	char *user;           /* drop privileges to this user, or NULL */
	char *pid_file;       /* or NULL */
	int syslog_facility;  /* LOG_MAIL, LOG_LOCAL0 ... */
	char *log_json;       /* path for JSON lines, or NULL */
	unsigned shutdown_timeout_s; /* SIGTERM: wait this long for sessions */

	/* DNS */
	char *dns_servers;       /* normalized "IP:PORT,[v6]:PORT" or NULL */
	unsigned dns_timeout_ms; /* deadline for one check's lookup chain */
	unsigned dns_tries;      /* attempts per server within the deadline */
	unsigned dns_cache_size; /* entries; 0 disables the cache */
	unsigned dns_cache_max_ttl; /* seconds */

	/* identity and scope */
	char *authserv_id; /* default: the host name */
	char *local_names; /* names HELO must not claim (comma list);
	                    * always includes authserv_id and host name */
	struct cidr_list local_addresses;  /* addresses HELO must not claim,
	                                    * added to the host's own */
	struct cidr_list trusted_networks; /* no checks, "; none" */
	int skip_authenticated;       /* SMTP AUTH clients: auth=pass only */
	unsigned iprev_max_names;     /* PTR names followed to A/AAAA */
	int dkim_verify;              /* verify DKIM signatures */
	unsigned dkim_min_key_bits;   /* shorter keys: dkim=policy */
	unsigned dkim_max_signatures; /* verified per message */

	/* DNS lists (lib/dnslist.h) */
	struct dnsbl_sites *dnsbl_sites; /* client IP lists, or NULL */
	struct dnsbl_sites *rhsbl_sites; /* domain lists, or NULL */
	unsigned rhsbl_targets; /* DNSBL_T_HELO | _MAILFROM | _PTR mask */

	/* policy */
	char *rules; /* rules file path, or NULL: annotate only */
	enum conf_failure on_internal_error;
	enum conf_failure on_temperror; /* rules ending unknown */
	int delay_reject; /* answer connect/helo/mail rejects at RCPT */
	int dry_run;      /* never refuse; header + log "would ..." */
};

/* conf_defaults - a config with every default (refs 1); NULL on ENOMEM */
struct conf *conf_defaults(void);

/*
 * conf_load - read path into a new config (refs 1). On error returns NULL
 * and writes "FILE:LINE: message" (or "FILE: message") to err.
 */
struct conf *conf_load(const char *path, char *err, size_t errlen);

/* conf_parse_text - the same from memory; name is used in messages */
struct conf *conf_parse_text(const char *text, size_t len, const char *name,
                             char *err, size_t errlen);

struct conf *conf_ref(struct conf *conf);
void conf_unref(struct conf *conf); /* NULL is a no-op */

/* conf_print - every option with its effective value, one per line */
void conf_print(const struct conf *conf, FILE *out);

#endif
