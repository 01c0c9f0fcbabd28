/*
 * options - the one table of mailvet.conf options
 *
 * Each row gives the key, the value type, the default as it would be
 * written in the file, the bounds, where the value lives in struct conf
 * and a one-line help text. The parser, conf_defaults(), conf_print()
 * ("mailvet -n"), conf/mailvet.conf and man/mailvet.conf.5 all follow
 * this table; tests/unit/test_conf.c checks that the last two agree.
 *
 * The OPT_* macros take the field name once: it becomes both the key and
 * the offset, and _Generic refuses to compile a row whose field does not
 * have the storage type its value type needs.
 *
 * Functions:
 *   conf_option_find   the row for a key
 */
#include <stddef.h>
#include <string.h>

#include "conf/conf_internal.h"

#define OPT_ROW(field, type, ctype, def, min, max, help)                       \
	{                                                                      \
#field, type, def, min, max,                                   \
		    _Generic(((struct conf *)0)->field, ctype                  \
		             : offsetof(struct conf, field)),                  \
		    help                                                       \
	}

#define OPT_STRING(f, d, h) OPT_ROW(f, CONF_T_STRING, char *, d, 0, 0, h)
#define OPT_BOOL(f, d, h)   OPT_ROW(f, CONF_T_BOOL, int, d, 0, 1, h)
#define OPT_UINT(f, d, lo, hi, h)                                              \
	OPT_ROW(f, CONF_T_UINT, unsigned, d, lo, hi, h)
#define OPT_MODE(f, d, h) OPT_ROW(f, CONF_T_MODE, unsigned, d, 0, 0777, h)
#define OPT_FAILURE(f, d, h)                                                   \
	OPT_ROW(f, CONF_T_FAILURE, enum conf_failure, d, 0, 0, h)
#define OPT_FACILITY(f, d, h) OPT_ROW(f, CONF_T_FACILITY, int, d, 0, 0, h)
#define OPT_CIDRS(f, d, h)                                                     \
	OPT_ROW(f, CONF_T_CIDRS, struct cidr_list, d, 0, 0, h)
#define OPT_SOCKET(f, d, h) OPT_ROW(f, CONF_T_SOCKET, char *, d, 0, 0, h)
#define OPT_DNS(f, d, h)    OPT_ROW(f, CONF_T_DNS_SERVERS, char *, d, 0, 0, h)
#define OPT_DOMAIN(f, d, h) OPT_ROW(f, CONF_T_DOMAIN, char *, d, 0, 0, h)
#define OPT_NAMES(f, d, h)  OPT_ROW(f, CONF_T_NAMES, char *, d, 0, 0, h)
#define OPT_DNSBL(f, d, h)                                                     \
	OPT_ROW(f, CONF_T_DNSBL_SITES, struct dnsbl_sites *, d, 0, 0, h)
#define OPT_TARGETS(f, d, h)                                                   \
	OPT_ROW(f, CONF_T_RHSBL_TARGETS, unsigned, d, 0, 0, h)

const struct conf_option conf_options[] = {
    /* daemon */
    OPT_SOCKET(socket, "inet:8891@127.0.0.1",
               "milter socket: unix:/path, local:/path, inet:PORT@HOST or "
               "inet6:PORT@[HOST]"),
    OPT_MODE(socket_mode, "0660",
             "permission bits of a unix socket (octal, at most 0777)"),
    OPT_STRING(socket_group, NULL,
               "group owning a unix socket; empty: the user's group"),
    OPT_STRING(user, NULL,
               "user to run as after the socket is open; empty: stay"),
    OPT_STRING(pid_file, NULL, "file to write the process id to"),
    OPT_FACILITY(syslog_facility, "mail",
                 "syslog facility: mail, daemon, user or local0 .. local7"),
    OPT_STRING(log_json, NULL,
               "file to append one JSON verdict line per message to"),
    OPT_UINT(shutdown_timeout_s, "10", 0, 600,
             "seconds to let sessions finish after SIGTERM"),

    /* DNS */
    OPT_DNS(dns_servers, NULL,
            "resolvers as IP, IP:PORT or [IPv6]:PORT; empty: the system's"),
    OPT_UINT(dns_timeout_ms, "5000", 100, 60000,
             "deadline in milliseconds for one check's chain of lookups"),
    OPT_UINT(dns_tries, "2", 1, 10, "attempts per server within the deadline"),
    OPT_UINT(dns_cache_size, "10000", 0, 1000000,
             "answers kept in the shared cache; 0 disables it"),
    OPT_UINT(dns_cache_max_ttl, "3600", 0, 604800,
             "longest time in seconds an answer stays cached"),

    /* identity and scope */
    OPT_DOMAIN(authserv_id, NULL,
               "authserv-id of Authentication-Results; empty: the host name"),
    OPT_NAMES(local_names, NULL,
              "names HELO must not claim, besides authserv_id and host name"),
    OPT_CIDRS(local_addresses, NULL,
              "addresses HELO must not claim, besides the host's own"),
    OPT_CIDRS(trusted_networks, "127.0.0.0/8, ::1/128",
              "clients that are not checked (header says \"none\")"),
    OPT_BOOL(skip_authenticated, "yes",
             "SMTP AUTH clients get auth=pass and no other checks"),
    OPT_BOOL(dkim_verify, "yes", "verify every DKIM signature (libopendkim)"),
    OPT_UINT(dkim_min_key_bits, "1024", 512, 16384,
             "shorter RSA keys give dkim=policy (read at start only)"),
    OPT_UINT(dkim_max_signatures, "8", 1, 64,
             "DKIM signatures verified per message; more are skipped"),
    OPT_UINT(iprev_max_names, "10", 1, 32,
             "PTR names followed to their A/AAAA records"),

    /* DNS lists */
    OPT_DNSBL(dnsbl_sites, NULL,
              "IP lists: zone[=127.0.0.[2..11]][*weight], ...; empty: none"),
    OPT_DNSBL(rhsbl_sites, NULL,
              "domain lists, same syntax as dnsbl_sites; empty: none"),
    OPT_TARGETS(rhsbl_targets, "helo, mailfrom, ptr",
                "names looked up in rhsbl_sites: helo, mailfrom, ptr"),

    /* policy */
    OPT_STRING(rules, NULL, "rules file; empty: annotate only"),
    OPT_FAILURE(on_internal_error, "tempfail",
                "on an internal error: tempfail or accept"),
    OPT_FAILURE(
        on_temperror, "tempfail",
        "when the rules end unknown for a DNS error: tempfail or accept"),
    OPT_BOOL(delay_reject, "yes",
             "answer rejects decided before RCPT TO at RCPT TO"),
    OPT_BOOL(dry_run, "no",
             "never refuse: add the header and log what would have happened"),
};

const size_t conf_option_count = sizeof(conf_options) / sizeof(conf_options[0]);

/* conf_option_find - the row for a key, or NULL */
const struct conf_option *
conf_option_find(const char *name)
{
	for (size_t i = 0; i < conf_option_count; i++)
		if (strcmp(conf_options[i].name, name) == 0)
			return &conf_options[i];
	return NULL;
}
