/*
 * reverse - reverse-lookup names of IPv4 and IPv6 addresses
 *
 * IPv4 a.b.c.d becomes "d.c.b.a.in-addr.arpa", IPv6 becomes its 32 nibbles
 * in reverse order followed by "ip6.arpa". A suffix (a DNSBL zone) takes
 * the place of in-addr.arpa / ip6.arpa. An IPv4-mapped IPv6 address is
 * already folded to IPv4 by netaddr, so it gets the IPv4 form.
 *
 * Functions:
 *   dns_reverse_name   address (+ optional suffix) -> query name
 *
 * Diagnostics: -1 when the address is unset or the buffer too small.
 */
#include <stdio.h>
#include <sys/socket.h>

#include "milter/dns/dns.h"

/* put_text - append text at *pos; -1 on overflow */
static int
put_text(char *buf, size_t len, size_t *pos, const char *text)
{
	int n;

	if (*pos >= len)
		return -1;
	n = snprintf(buf + *pos, len - *pos, "%s", text);
	if (n < 0 || (size_t)n >= len - *pos)
		return -1;
	*pos += (size_t)n;
	return 0;
}

/* reverse_v4 - "d.c.b.a." */
static int
reverse_v4(const unsigned char *b, char *buf, size_t len, size_t *pos)
{
	char label[8];
	int i;

	for (i = 3; i >= 0; i--) {
		snprintf(label, sizeof(label), "%u.", b[i]);
		if (put_text(buf, len, pos, label) < 0)
			return -1;
	}
	return 0;
}

/* reverse_v6 - the 32 nibbles from the last to the first, dot after each */
static int
reverse_v6(const unsigned char *b, char *buf, size_t len, size_t *pos)
{
	static const char hex[] = "0123456789abcdef";
	char label[3] = {0, '.', 0};
	int i;

	for (i = 31; i >= 0; i--) {
		label[0] = hex[(i % 2 == 0 ? b[i / 2] >> 4 : b[i / 2]) & 0xf];
		if (put_text(buf, len, pos, label) < 0)
			return -1;
	}
	return 0;
}

/*
 * dns_reverse_name - the PTR (suffix NULL or "") or DNSBL (suffix = zone)
 * query name of addr into buf. Returns 0, or -1 if it does not fit.
 */
int
dns_reverse_name(const struct netaddr *addr, const char *suffix, char *buf,
                 size_t len)
{
	size_t pos = 0;
	int r;

	if (len > 0)
		buf[0] = '\0';
	if (addr->family == AF_INET) {
		r = reverse_v4(addr->bytes, buf, len, &pos);
		if (suffix == NULL || *suffix == '\0')
			suffix = "in-addr.arpa";
	} else if (addr->family == AF_INET6) {
		r = reverse_v6(addr->bytes, buf, len, &pos);
		if (suffix == NULL || *suffix == '\0')
			suffix = "ip6.arpa";
	} else
		return -1;
	if (r < 0 || put_text(buf, len, &pos, suffix) < 0) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return 0;
}
