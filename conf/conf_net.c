/*
 * conf_net - milter socket specs and DNS server lists
 *
 * Socket specs follow libmilter's smfi_setconn: unix:/path or local:/path
 * (absolute, short enough for sun_path), inet:PORT@HOST with an IPv4
 * address or a host name, inet6:PORT@HOST or inet6:PORT@[HOST] with an
 * IPv6 address or a host name; PORT is 1..65535. The spec is kept as
 * written: only libmilter reads it.
 *
 * DNS server lists are rewritten for c-ares 1.18's
 * ares_set_servers_ports_csv(), the only call of that version that keeps
 * ports: "a.b.c.d:PORT,[v6]:PORT", port 53 when none was given, addresses
 * in canonical form.
 *
 * Functions:
 *   conf_socket_check            validate a socket spec
 *   conf_dns_servers_normalize   resolver list -> c-ares csv
 *
 * Diagnostics: both return -1 on bad input, with the reason or the bad
 * entry in the caller's buffer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "conf/conf_internal.h"

#define SERVER_TEXT_MAX 80 /* "[" v6 "]:" port, with room to spare */

/* parse_port - 1..65535, digits only, written with n bytes */
static int
parse_port(const char *text, size_t n, unsigned *port)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(text[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/* host_name_valid - labels of letters, digits and inner '-' */
static int
host_name_valid(const char *name)
{
	const char *p = name;

	if (*name == '\0' || strlen(name) > CONF_NAME_MAX)
		return 0;
	/* "1.2.3.999" is a mistyped address, not a name. */
	if (strspn(name, "0123456789.") == strlen(name))
		return 0;
	for (;;) {
		size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz"
		                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");

		if (n == 0 || n > 63 || p[0] == '-' || p[n - 1] == '-')
			return 0;
		p += n;
		if (*p == '\0')
			return 1;
		if (*p != '.')
			return 0;
		if (*++p == '\0')
			return 1; /* a trailing dot: fully qualified */
	}
}

/* inet_host_valid - the HOST of inet: or inet6: */
static int
inet_host_valid(const char *host, int family)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(host);

	if (family == AF_INET6 && len > 1 && host[0] == '[') {
		if (host[len - 1] != ']' || len - 2 >= sizeof(buf))
			return 0;
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		return inet_pton(AF_INET6, buf, addr) == 1;
	}
	if (inet_pton(family, host, addr) == 1)
		return 1;
	return strchr(host, ':') == NULL && host_name_valid(host);
}

/* socket_check_inet - "PORT@HOST" after "inet:" or "inet6:" */
static int
socket_check_inet(const char *rest, int family, char *why, size_t whylen)
{
	const char *at = strchr(rest, '@');
	unsigned port;

	if (at == NULL) {
		snprintf(why, whylen, "expected PORT@HOST");
		return -1;
	}
	if (parse_port(rest, (size_t)(at - rest), &port) != 0) {
		snprintf(why, whylen, "port must be 1..65535");
		return -1;
	}
	if (!inet_host_valid(at + 1, family)) {
		snprintf(why, whylen, "bad host \"%s\"", at + 1);
		return -1;
	}
	return 0;
}

/* conf_socket_check - validate a milter socket spec */
int
conf_socket_check(const char *spec, char *why, size_t whylen)
{
	struct sockaddr_un sun;
	const char *path = NULL;

	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	else if (strncmp(spec, "inet:", 5) == 0)
		return socket_check_inet(spec + 5, AF_INET, why, whylen);
	else if (strncmp(spec, "inet6:", 6) == 0)
		return socket_check_inet(spec + 6, AF_INET6, why, whylen);
	if (path == NULL) {
		snprintf(why, whylen,
		         "expected unix:/path, local:/path, "
		         "inet:PORT@HOST or inet6:PORT@HOST");
		return -1;
	}
	if (path[0] != '/') {
		snprintf(why, whylen, "socket path must be absolute");
		return -1;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(why, whylen, "socket path longer than %zu bytes",
		         sizeof(sun.sun_path) - 1);
		return -1;
	}
	return 0;
}

/*
 * server_split - one entry into address text and port. Forms: a.b.c.d,
 * a.b.c.d:PORT, [v6], [v6]:PORT, bare v6 (two colons or more, no port).
 */
static int
server_split(char *tok, char **addr, unsigned *port)
{
	char *colon;

	*port = 53;
	if (tok[0] == '[') {
		char *close = strchr(tok, ']');

		if (close == NULL)
			return -1;
		*close = '\0';
		*addr = tok + 1;
		if (close[1] == '\0')
			return 0;
		if (close[1] != ':')
			return -1;
		return parse_port(close + 2, strlen(close + 2), port);
	}
	*addr = tok;
	colon = strchr(tok, ':');
	if (colon == NULL || strchr(colon + 1, ':') != NULL)
		return 0;
	*colon = '\0';
	return parse_port(colon + 1, strlen(colon + 1), port);
}

/* server_format - one entry in canonical c-ares csv form */
static int
server_format(const char *entry, char *out, size_t outlen)
{
	char tok[SERVER_TEXT_MAX], text[INET6_ADDRSTRLEN];
	unsigned char bytes[sizeof(struct in6_addr)];
	char *addr;
	unsigned port;
	int family, n;

	if (strlen(entry) >= sizeof(tok))
		return -1;
	memcpy(tok, entry, strlen(entry) + 1);
	if (server_split(tok, &addr, &port) != 0)
		return -1;
	family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	/* An IPv4 address in brackets is not a form c-ares documents. */
	if (family == AF_INET && tok[0] == '[')
		return -1;
	if (inet_pton(family, addr, bytes) != 1 ||
	    inet_ntop(family, bytes, text, sizeof(text)) == NULL)
		return -1;
	n = snprintf(out, outlen, family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	             text, port);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* conf_dns_servers_normalize - resolver list -> c-ares csv */
int
conf_dns_servers_normalize(const char *text, char **out, char *bad,
                           size_t badlen)
{
	size_t cap = 1, len = 0;
	char *csv = NULL;

	*out = NULL;
	if (badlen > 0)
		bad[0] = '\0';
	for (const char *p = text; *p != '\0';) {
		size_t n = strcspn(p, ", \t");
		char entry[SERVER_TEXT_MAX], one[SERVER_TEXT_MAX];
		char *grown;

		if (n == 0) {
			p++;
			continue;
		}
		snprintf(entry, sizeof(entry), "%.*s", (int)n, p);
		if (n >= sizeof(entry) ||
		    server_format(entry, one, sizeof(one)) != 0) {
			snprintf(bad, badlen, "%.*s", (int)n, p);
			free(csv);
			return -1;
		}
		cap += strlen(one) + 1;
		if ((grown = realloc(csv, cap)) == NULL) {
			free(csv);
			return -1;
		}
		csv = grown;
		len += (size_t)snprintf(csv + len, cap - len, "%s%s",
		                        len > 0 ? "," : "", one);
		p += n;
	}
	*out = csv;
	return 0;
}
