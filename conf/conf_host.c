/*
 * conf_host - the host's own name, the default authserv-id
 *
 * gethostname() often returns a short name. It is qualified from
 * /etc/hosts, read here directly rather than through getaddrinfo(): the
 * resolver may be slow or unreachable when the daemon starts, and unit
 * tests must never query it. A name that is not a valid domain-ish token
 * falls back to "localhost".
 *
 * Functions:
 *   conf_hostname     this host's name, qualified when /etc/hosts knows it
 *   conf_hosts_fqdn   the lookup itself, over any hosts-format stream
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf/conf_internal.h"

#define HOSTS_LINE_MAX 1024

/* hosts_line_match - does a hosts line name name; its dotted form in buf */
static int
hosts_line_match(char *line, const char *name, char *buf, size_t len)
{
	size_t nlen = strlen(name);
	char *save = NULL, *tok;
	int named = 0, found = 0;

	line[strcspn(line, "#\r\n")] = '\0';
	if (strtok_r(line, " \t", &save) == NULL)
		return 0; /* blank line, or the address alone */
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		if (strcasecmp(tok, name) == 0)
			named = 1;
		else if (!found && strncasecmp(tok, name, nlen) == 0 &&
		         tok[nlen] == '.' && tok[nlen + 1] != '\0' &&
		         strlen(tok) < len) {
			snprintf(buf, len, "%s", tok);
			found = 1;
		}
	}
	return named && found;
}

/* conf_hosts_fqdn - a dotted name for a short one from a hosts stream */
int
conf_hosts_fqdn(FILE *hosts, const char *name, char *buf, size_t len)
{
	char line[HOSTS_LINE_MAX];

	if (hosts == NULL || *name == '\0' || strchr(name, '.') != NULL)
		return -1;
	while (fgets(line, sizeof(line), hosts) != NULL) {
		if (hosts_line_match(line, name, buf, len))
			return 0;
	}
	return -1;
}

/* conf_hostname - this host's name, qualified when /etc/hosts knows it */
void
conf_hostname(char *buf, size_t len)
{
	char host[CONF_NAME_MAX + 2], fqdn[CONF_NAME_MAX + 2];
	FILE *hosts;

	if (len == 0)
		return;
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (strchr(host, '.') == NULL &&
	    (hosts = fopen("/etc/hosts", "re")) != NULL) {
		if (conf_hosts_fqdn(hosts, host, fqdn, sizeof(fqdn)) == 0)
			snprintf(host, sizeof(host), "%s", fqdn);
		fclose(hosts);
	}
	if (!conf_name_valid(host) || strlen(host) >= len)
		snprintf(host, sizeof(host), "localhost");
	snprintf(buf, len, "%s", host);
}
