/*
 * conf_types - parse, print and free each kind of option value
 *
 * One row of type_ops per enum conf_type. A parser reads the unquoted
 * value text, builds the new value aside and only then replaces the
 * field, so a failed parse leaves the old value (usually the default)
 * in place. A printer writes text the parser accepts again, which is
 * what makes "mailvet -n" output a valid configuration file.
 *
 * Functions:
 *   conf_value_set        parse text into a field (empty: unset)
 *   conf_value_print      a field as text
 *   conf_value_free       release a field
 *   conf_names_normalize  name list -> "a,b,c"
 *   conf_name_valid       a domain-ish token
 *
 * Diagnostics, written to err without the "FILE:LINE: " prefix:
 *   "OPTION: VALUE is out of range MIN..MAX", "OPTION: bad number "V"",
 *   "OPTION: bad boolean "V" (expected yes or no)", "OPTION: bad mode ...",
 *   "OPTION: bad value "V" (expected tempfail or accept)",
 *   "OPTION: unknown facility "V"", "OPTION: bad network "V"",
 *   "OPTION: bad socket "V": REASON", "OPTION: bad server "V"",
 *   "OPTION: bad name "V"", "OPTION: empty value", "OPTION: out of memory",
 *   "OPTION: bad entry "E": REASON" (dnsbl_sites_parse),
 *   "OPTION: unknown target "V" (expected helo, mailfrom or ptr)".
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "conf/conf_internal.h"
#include "lib/dnslist.h"

typedef int type_parse_fn(const struct conf_option *, const char *, void *,
                          char *, size_t);
typedef void type_print_fn(const void *, FILE *, unsigned long);
typedef void type_free_fn(void *);

struct type_ops {
	type_parse_fn *parse;
	type_print_fn *print;
	type_free_fn *release;
};

struct name_value {
	const char *name;
	int value;
};

static const struct name_value bool_names[] = {
    {"yes", 1}, {"no", 0},  {"true", 1}, {"false", 0},
    {"on", 1},  {"off", 0}, {"1", 1},    {"0", 0},
};

static const struct name_value failure_names[] = {
    {"tempfail", CONF_FAIL_TEMPFAIL},
    {"accept", CONF_FAIL_ACCEPT},
};

static const struct name_value facility_names[] = {
    {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

#define NV_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* nv_lookup - value for a name (case-insensitive); -1 if absent */
static int
nv_lookup(const struct name_value *nv, size_t n, const char *name, int *out)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(nv[i].name, name) == 0) {
			*out = nv[i].value;
			return 0;
		}
	}
	return -1;
}

/* nv_name - first name for a value, or "?" */
static const char *
nv_name(const struct name_value *nv, size_t n, int value)
{
	for (size_t i = 0; i < n; i++)
		if (nv[i].value == value)
			return nv[i].name;
	return "?";
}

/* parse_unsigned - digits in base (8 or 10); ERANGE above ULONG_MAX */
static int
parse_unsigned(const char *text, int base, unsigned long *out)
{
	const char *digits = base == 8 ? "01234567" : "0123456789";
	char *end;

	if (*text == '\0' || strspn(text, digits) != strlen(text))
		return -1;
	errno = 0;
	*out = strtoul(text, &end, base);
	return errno == ERANGE ? 1 : 0;
}

/* type_bool_parse - yes/no/true/false/on/off/1/0 */
static int
type_bool_parse(const struct conf_option *opt, const char *val, void *field,
                char *err, size_t errlen)
{
	int v;

	if (nv_lookup(bool_names, NV_COUNT(bool_names), val, &v) != 0) {
		snprintf(err, errlen,
		         "%s: bad boolean \"%s\" (expected yes or no)",
		         opt->name, val);
		return -1;
	}
	*(int *)field = v;
	return 0;
}

/* type_bool_print - yes or no */
static void
type_bool_print(const void *field, FILE *out, unsigned long max)
{
	(void)max;
	fputs(*(const int *)field ? "yes" : "no", out);
}

/* type_uint_parse - decimal within [min, max] */
static int
type_uint_parse(const struct conf_option *opt, const char *val, void *field,
                char *err, size_t errlen)
{
	unsigned long v;
	int rc = parse_unsigned(val, 10, &v);

	if (rc < 0) {
		snprintf(err, errlen, "%s: bad number \"%s\"", opt->name, val);
		return -1;
	}
	if (rc > 0 || v < opt->min || v > opt->max) {
		snprintf(err, errlen, "%s: %s is out of range %lu..%lu",
		         opt->name, val, opt->min, opt->max);
		return -1;
	}
	*(unsigned *)field = (unsigned)v;
	return 0;
}

/* type_uint_print - decimal */
static void
type_uint_print(const void *field, FILE *out, unsigned long max)
{
	(void)max;
	fprintf(out, "%u", *(const unsigned *)field);
}

/* type_mode_parse - octal digits (leading 0 optional) up to max */
static int
type_mode_parse(const struct conf_option *opt, const char *val, void *field,
                char *err, size_t errlen)
{
	unsigned long v;
	int rc = parse_unsigned(val, 8, &v);

	if (rc < 0) {
		snprintf(err, errlen,
		         "%s: bad mode \"%s\" (expected octal, e.g. 0660)",
		         opt->name, val);
		return -1;
	}
	if (rc > 0 || v < opt->min || v > opt->max) {
		snprintf(err, errlen, "%s: %s is out of range %#lo..%#lo",
		         opt->name, val, opt->min, opt->max);
		return -1;
	}
	*(unsigned *)field = (unsigned)v;
	return 0;
}

/* type_mode_print - four octal digits */
static void
type_mode_print(const void *field, FILE *out, unsigned long max)
{
	(void)max;
	fprintf(out, "%04o", *(const unsigned *)field);
}

/* type_failure_parse - tempfail or accept */
static int
type_failure_parse(const struct conf_option *opt, const char *val, void *field,
                   char *err, size_t errlen)
{
	int v;

	if (nv_lookup(failure_names, NV_COUNT(failure_names), val, &v) != 0) {
		snprintf(err, errlen,
		         "%s: bad value \"%s\" (expected tempfail or accept)",
		         opt->name, val);
		return -1;
	}
	*(enum conf_failure *)field = (enum conf_failure)v;
	return 0;
}

/* type_failure_print - tempfail or accept */
static void
type_failure_print(const void *field, FILE *out, unsigned long max)
{
	(void)max;
	fputs(nv_name(failure_names, NV_COUNT(failure_names),
	              (int)*(const enum conf_failure *)field),
	      out);
}

/* type_facility_parse - a syslog facility name into LOG_* */
static int
type_facility_parse(const struct conf_option *opt, const char *val, void *field,
                    char *err, size_t errlen)
{
	int v;

	if (nv_lookup(facility_names, NV_COUNT(facility_names), val, &v)) {
		snprintf(err, errlen,
		         "%s: unknown facility \"%s\" (expected mail, daemon, "
		         "user or local0..local7)",
		         opt->name, val);
		return -1;
	}
	*(int *)field = v;
	return 0;
}

/* type_facility_print - the facility's name */
static void
type_facility_print(const void *field, FILE *out, unsigned long max)
{
	(void)max;
	fputs(nv_name(facility_names, NV_COUNT(facility_names),
	              *(const int *)field),
	      out);
}

/* type_cidrs_parse - a list of networks through cidr_list_parse */
static int
type_cidrs_parse(const struct conf_option *opt, const char *val, void *field,
                 char *err, size_t errlen)
{
	struct cidr_list list = {NULL, 0};
	size_t bad = 0;

	if (cidr_list_parse(val, &list, &bad) != 0) {
		const char *tok = val + bad;

		snprintf(err, errlen, "%s: bad network \"%.*s\"", opt->name,
		         (int)strcspn(tok, ", \t"), tok);
		return -1;
	}
	cidr_list_free(field);
	*(struct cidr_list *)field = list;
	return 0;
}

/* type_cidrs_print - "net/len, net/len" */
static void
type_cidrs_print(const void *field, FILE *out, unsigned long max)
{
	const struct cidr_list *list = field;
	char buf[NETADDR_TEXT_MAX + 8];

	(void)max;
	for (size_t i = 0; i < list->count; i++) {
		cidr_format(&list->items[i], buf, sizeof(buf));
		fprintf(out, "%s%s", i > 0 ? ", " : "", buf);
	}
}

/* type_cidrs_free - drop every network */
static void
type_cidrs_free(void *field)
{
	cidr_list_free(field);
}

/* store_string - replace the char * field with s (owned) */
static int
store_string(const struct conf_option *opt, void *field, char *s, char *err,
             size_t errlen)
{
	if (s == NULL) {
		snprintf(err, errlen, "%s: out of memory", opt->name);
		return -1;
	}
	free(*(char **)field);
	*(char **)field = s;
	return 0;
}

/* type_string_parse - any text */
static int
type_string_parse(const struct conf_option *opt, const char *val, void *field,
                  char *err, size_t errlen)
{
	return store_string(opt, field, strdup(val), err, errlen);
}

/* type_socket_parse - a milter socket spec, kept as written */
static int
type_socket_parse(const struct conf_option *opt, const char *val, void *field,
                  char *err, size_t errlen)
{
	char why[128];

	if (conf_socket_check(val, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: bad socket \"%s\": %s", opt->name,
		         val, why);
		return -1;
	}
	return store_string(opt, field, strdup(val), err, errlen);
}

/* type_dns_parse - a resolver list, normalized for c-ares */
static int
type_dns_parse(const struct conf_option *opt, const char *val, void *field,
               char *err, size_t errlen)
{
	char bad[80];
	char *csv = NULL;

	if (conf_dns_servers_normalize(val, &csv, bad, sizeof(bad)) != 0) {
		if (bad[0] == '\0')
			snprintf(err, errlen, "%s: out of memory", opt->name);
		else
			snprintf(err, errlen, "%s: bad server \"%s\"",
			         opt->name, bad);
		return -1;
	}
	if (csv == NULL) {
		free(*(char **)field);
		*(char **)field = NULL;
		return 0;
	}
	return store_string(opt, field, csv, err, errlen);
}

/* type_domain_parse - one domain-ish name, kept as written */
static int
type_domain_parse(const struct conf_option *opt, const char *val, void *field,
                  char *err, size_t errlen)
{
	if (!conf_name_valid(val)) {
		snprintf(err, errlen, "%s: bad name \"%s\"", opt->name, val);
		return -1;
	}
	return store_string(opt, field, strdup(val), err, errlen);
}

/* type_names_parse - a list of names, normalized to "a,b,c" */
static int
type_names_parse(const struct conf_option *opt, const char *val, void *field,
                 char *err, size_t errlen)
{
	char bad[CONF_NAME_MAX + 2];
	char *list = NULL;

	if (conf_names_normalize(val, &list, bad, sizeof(bad)) != 0) {
		if (bad[0] == '\0')
			snprintf(err, errlen, "%s: out of memory", opt->name);
		else
			snprintf(err, errlen, "%s: bad name \"%s\"", opt->name,
			         bad);
		return -1;
	}
	free(*(char **)field);
	*(char **)field = list;
	return 0;
}

/* type_dnsbl_parse - a DNSBL/RHSBL site list (lib/dnslist.h) */
static int
type_dnsbl_parse(const struct conf_option *opt, const char *val, void *field,
                 char *err, size_t errlen)
{
	struct dnsbl_sites *sites = NULL;
	char why[300];

	if (dnsbl_sites_parse(val, &sites, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: %s", opt->name, why);
		return -1;
	}
	dnsbl_sites_free(*(struct dnsbl_sites **)field);
	*(struct dnsbl_sites **)field = sites;
	return 0;
}

/* type_dnsbl_print - the entries, normalized */
static void
type_dnsbl_print(const void *field, FILE *out, unsigned long max)
{
	(void)max;
	dnsbl_sites_print(*(struct dnsbl_sites *const *)field, out);
}

/* type_dnsbl_free - free and unset */
static void
type_dnsbl_free(void *field)
{
	dnsbl_sites_free(*(struct dnsbl_sites **)field);
	*(struct dnsbl_sites **)field = NULL;
}

/* type_targets_parse - helo, mailfrom, ptr into a DNSBL_T_* mask */
static int
type_targets_parse(const struct conf_option *opt, const char *val, void *field,
                   char *err, size_t errlen)
{
	char bad[80];
	unsigned mask;

	if (dnsbl_targets_parse(val, &mask, bad, sizeof(bad)) != 0) {
		snprintf(err, errlen,
		         "%s: unknown target \"%s\" (expected helo, mailfrom "
		         "or ptr)",
		         opt->name, bad);
		return -1;
	}
	*(unsigned *)field = mask;
	return 0;
}

/* type_targets_print - "helo, mailfrom, ptr" */
static void
type_targets_print(const void *field, FILE *out, unsigned long max)
{
	(void)max;
	dnsbl_targets_print(*(const unsigned *)field, out);
}

/* type_string_print - the text, quoted when '#' or blanks would be lost */
static void
type_string_print(const void *field, FILE *out, unsigned long max)
{
	const char *s = *(char *const *)field;

	(void)max;
	if (s == NULL)
		return;
	if (strpbrk(s, "# \t") != NULL)
		fprintf(out, "\"%s\"", s);
	else
		fputs(s, out);
}

/* type_string_free - free and unset */
static void
type_string_free(void *field)
{
	free(*(char **)field);
	*(char **)field = NULL;
}

/* type_scalar_free - scalars own nothing */
static void
type_scalar_free(void *field)
{
	(void)field;
}

static const struct type_ops type_ops[CONF_T_COUNT] = {
    [CONF_T_STRING] = {type_string_parse, type_string_print, type_string_free},
    [CONF_T_BOOL] = {type_bool_parse, type_bool_print, type_scalar_free},
    [CONF_T_UINT] = {type_uint_parse, type_uint_print, type_scalar_free},
    [CONF_T_MODE] = {type_mode_parse, type_mode_print, type_scalar_free},
    [CONF_T_FAILURE] = {type_failure_parse, type_failure_print,
                        type_scalar_free},
    [CONF_T_FACILITY] = {type_facility_parse, type_facility_print,
                         type_scalar_free},
    [CONF_T_CIDRS] = {type_cidrs_parse, type_cidrs_print, type_cidrs_free},
    [CONF_T_SOCKET] = {type_socket_parse, type_string_print, type_string_free},
    [CONF_T_DNS_SERVERS] = {type_dns_parse, type_string_print,
                            type_string_free},
    [CONF_T_DOMAIN] = {type_domain_parse, type_string_print, type_string_free},
    [CONF_T_NAMES] = {type_names_parse, type_string_print, type_string_free},
    [CONF_T_DNSBL_SITES] = {type_dnsbl_parse, type_dnsbl_print,
                            type_dnsbl_free},
    [CONF_T_RHSBL_TARGETS] = {type_targets_parse, type_targets_print,
                              type_scalar_free},
};

/* conf_value_set - parse value into the option's field (empty: unset) */
int
conf_value_set(const struct conf_option *opt, const char *value,
               struct conf *conf, char *err, size_t errlen)
{
	void *field = (char *)conf + opt->offset;

	if (*value == '\0') {
		if (opt->def != NULL && opt->type != CONF_T_CIDRS) {
			snprintf(err, errlen, "%s: empty value", opt->name);
			return -1;
		}
		type_ops[opt->type].release(field);
		return 0;
	}
	return type_ops[opt->type].parse(opt, value, field, err, errlen);
}

/* conf_value_print - the field as text conf_value_set accepts */
void
conf_value_print(const struct conf_option *opt, const struct conf *conf,
                 FILE *out)
{
	const void *field = (const char *)conf + opt->offset;

	type_ops[opt->type].print(field, out, opt->max);
}

/* conf_value_free - release the field and leave it unset */
void
conf_value_free(const struct conf_option *opt, struct conf *conf)
{
	type_ops[opt->type].release((char *)conf + opt->offset);
}

/* conf_name_valid - letters, digits, '-', '.', '_' only; 1..253 bytes */
int
conf_name_valid(const char *name)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
	                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                         "0123456789-._";
	size_t len = strlen(name);

	return len > 0 && len <= CONF_NAME_MAX && strspn(name, ok) == len;
}

/* names_has - is name (len bytes) already an item of the list "a,b" */
static int
names_has(const char *list, size_t listlen, const char *name, size_t len)
{
	const char *p = list, *end = list + listlen;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);

		if (n == len && memcmp(p, name, len) == 0)
			return 1;
		p += n + 1;
	}
	return 0;
}

/* conf_names_normalize - "A, b c" -> "a,b,c" (lower case, no repeats) */
int
conf_names_normalize(const char *text, char **out, char *bad, size_t badlen)
{
	size_t cap = strlen(text) + 1, len = 0;
	char *list = malloc(cap);

	*out = NULL;
	if (badlen > 0)
		bad[0] = '\0';
	if (list == NULL)
		return -1;
	for (const char *p = text; *p != '\0';) {
		size_t n = strcspn(p, ", \t");
		char name[CONF_NAME_MAX + 1];

		if (n == 0) {
			p++;
			continue;
		}
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		if (n > CONF_NAME_MAX || !conf_name_valid(name)) {
			snprintf(bad, badlen, "%.*s", (int)n, p);
			free(list);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			name[i] = (char)tolower((unsigned char)name[i]);
		if (!names_has(list, len, name, n)) {
			if (len > 0)
				list[len++] = ',';
			memcpy(list + len, name, n);
			len += n;
		}
		p += n;
	}
	list[len] = '\0';
	if (len == 0)
		free(list);
	else
		*out = list;
	return 0;
}
