/*
 * conf_internal - the option table and the value types behind conf.h
 *
 * Shared by conf/conf.c (the line parser and the life cycle),
 * conf/conf_types.c (one parser, printer and destructor per value type),
 * conf/conf_net.c (socket specs and DNS server lists), conf/conf_host.c
 * (the host's own name) and conf/options.c (the table itself). Nothing
 * outside conf/ and its unit test includes this file.
 *
 * Every option is one struct conf_option row; its value lives at
 * "offset" inside struct conf and its storage type follows "type":
 *   CONF_T_STRING, _SOCKET, _DNS_SERVERS, _DOMAIN, _NAMES   char *
 *   CONF_T_BOOL, _FACILITY                                   int
 *   CONF_T_UINT, _MODE                                       unsigned
 *   CONF_T_FAILURE                                           enum conf_failure
 *   CONF_T_CIDRS                                             struct cidr_list
 *   CONF_T_DNSBL_SITES                               struct dnsbl_sites *
 *   CONF_T_RHSBL_TARGETS                        unsigned (DNSBL_T_* mask)
 * The table macros in options.c check the storage type at compile time.
 *
 * An option whose default is NULL is "unset" until the file sets it;
 * an empty value sets it back to unset. Options with a default refuse an
 * empty value, except CIDR lists, where empty means "no networks".
 */
#ifndef MAILVET_CONF_INTERNAL_H
#define MAILVET_CONF_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include "conf/conf.h"

#define CONF_LINE_MAX 4096    /* longest line, without its newline */
#define CONF_FILE_MAX 1048576 /* largest file conf_load reads */
#define CONF_NAME_MAX 253     /* longest DNS-style name */

enum conf_type {
	CONF_T_STRING,
	CONF_T_BOOL,
	CONF_T_UINT,
	CONF_T_MODE,
	CONF_T_FAILURE,
	CONF_T_FACILITY,
	CONF_T_CIDRS,
	CONF_T_SOCKET,
	CONF_T_DNS_SERVERS,
	CONF_T_DOMAIN,
	CONF_T_NAMES,
	CONF_T_DNSBL_SITES,
	CONF_T_RHSBL_TARGETS,
	CONF_T_COUNT
};

struct conf_option {
	const char *name; /* key in the file, same as the struct field */
	enum conf_type type;
	const char *def;        /* default, as text in the file; NULL: unset */
	unsigned long min, max; /* bounds for CONF_T_UINT and CONF_T_MODE */
	size_t offset;          /* of the value within struct conf */
	const char *help;       /* one line for -n output and documentation */
};

extern const struct conf_option conf_options[];
extern const size_t conf_option_count;

/* conf_option_find - the row for a key, or NULL */
const struct conf_option *conf_option_find(const char *name);

/*
 * conf_value_set - parse value (already unquoted) into the option's field,
 * replacing what was there. Returns 0, or -1 with "option: message" in err.
 */
int conf_value_set(const struct conf_option *opt, const char *value,
                   struct conf *conf, char *err, size_t errlen);

/* conf_value_print - the field as text that conf_value_set accepts */
void conf_value_print(const struct conf_option *opt, const struct conf *conf,
                      FILE *out);

/* conf_value_free - release the field and leave it unset */
void conf_value_free(const struct conf_option *opt, struct conf *conf);

/* conf_names_normalize - "A, b c" -> "a,b,c" (lower case, no repeats) */
int conf_names_normalize(const char *text, char **out, char *bad,
                         size_t badlen);

/* conf_name_valid - letters, digits, '-', '.', '_' only; 1..253 bytes */
int conf_name_valid(const char *name);

/*
 * conf_socket_check - validate a milter socket spec. Returns 0, or -1 with
 * the reason (no option name, no value) in why.
 */
int conf_socket_check(const char *spec, char *why, size_t whylen);

/*
 * conf_dns_servers_normalize - "1.2.3.4 ::1, [::2]:5353" into the
 * ares_set_servers_ports_csv form "1.2.3.4:53,[::1]:53,[::2]:5353".
 * *out is NULL when text holds no server. On a bad entry returns -1 and
 * copies the entry into bad.
 */
int conf_dns_servers_normalize(const char *text, char **out, char *bad,
                               size_t badlen);

/* conf_hostname - this host's name, qualified from /etc/hosts if short */
void conf_hostname(char *buf, size_t len);

/*
 * conf_hosts_fqdn - look short name up in an /etc/hosts style stream: the
 * first dotted name on a line naming it, whose first label is the name.
 * Returns 0 with the name in buf, -1 when there is none.
 */
int conf_hosts_fqdn(FILE *hosts, const char *name, char *buf, size_t len);

/* conf_edit_distance - optimal string alignment distance, capped at 99 */
unsigned conf_edit_distance(const char *a, const char *b);

#endif
