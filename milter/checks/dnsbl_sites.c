/*
 * dnsbl_sites - DNS list query names: reversed octets or IPv6 nibbles,
 * or a domain name, followed by the list's zone. (The site-list syntax
 * itself is lib/dnslist.c.)
 *
 * Functions: dnsbl_ip_qname, dnsbl_name_qname
 */
#include <stdio.h>

#include "milter/checks/dnsbl.h"

/* dnsbl_ip_qname - reversed octets (IPv4) or 32 nibbles (IPv6) + zone */
int
dnsbl_ip_qname(const struct netaddr *ip, const char *zone, char *buf,
               size_t len)
{
	if (zone == NULL || *zone == '\0')
		return -1;
	return dns_reverse_name(ip, zone, buf, len);
}

/* dnsbl_name_qname - "name.zone" within the 253-octet limit */
int
dnsbl_name_qname(const char *name, const char *zone, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s.%s", name, zone);

	if (n < 0 || (size_t)n >= len || n > 253) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return 0;
}
