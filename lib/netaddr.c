/*
 * netaddr - IPv4/IPv6 addresses and CIDR networks (see netaddr.h)
 */
#include "lib/netaddr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const unsigned char v4mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
                                                  0, 0, 0, 0, 0xff, 0xff};

/* fold_mapped - turn ::ffff:a.b.c.d into plain IPv4 */
static void
fold_mapped(struct netaddr *addr)
{
	if (addr->family != AF_INET6 ||
	    memcmp(addr->bytes, v4mapped_prefix, sizeof(v4mapped_prefix)) != 0)
		return;
	memmove(addr->bytes, addr->bytes + 12, 4);
	memset(addr->bytes + 4, 0, 12);
	addr->family = AF_INET;
}

/* netaddr_parse - parse an IPv4 or IPv6 address, "IPv6:" prefix allowed */
int
netaddr_parse(const char *text, struct netaddr *out)
{
	char buf[NETADDR_TEXT_MAX];
	size_t len;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return -1;
	if (strncasecmp(text, "IPv6:", 5) == 0)
		text += 5;
	len = strlen(text);
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, text, len + 1);
	if (buf[0] == '[' && buf[len - 1] == ']') {
		buf[len - 1] = '\0';
		memmove(buf, buf + 1, len - 1);
	}
	if (inet_pton(AF_INET, buf, out->bytes) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->bytes) == 1) {
		out->family = AF_INET6;
		fold_mapped(out);
		return 0;
	}
	return -1;
}

/* netaddr_from_sockaddr - take the address out of a socket address */
int
netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		out->family = AF_INET;
		memcpy(out->bytes, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;
		out->family = AF_INET6;
		memcpy(out->bytes, &in6->sin6_addr, 16);
		fold_mapped(out);
		return 0;
	}
	return -1;
}

/* netaddr_format - canonical text form; "?" for an unset address */
void
netaddr_format(const struct netaddr *addr, char *buf, size_t len)
{
	if (len == 0)
		return;
	if (addr->family == 0 ||
	    inet_ntop(addr->family, addr->bytes, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

/* netaddr_equal - same family and same bytes */
int
netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family != 0 && a->family == b->family &&
	       memcmp(a->bytes, b->bytes, n) == 0;
}

/* netaddr_is_loopback - 127.0.0.0/8 or ::1 */
int
netaddr_is_loopback(const struct netaddr *addr)
{
	static const unsigned char v6lo[16] = {[15] = 1};

	if (addr->family == AF_INET)
		return addr->bytes[0] == 127;
	return addr->family == AF_INET6 && memcmp(addr->bytes, v6lo, 16) == 0;
}

/* cidr_parse - "addr/prefix" or a bare address */
int
cidr_parse(const char *text, struct cidr *out)
{
	char buf[NETADDR_TEXT_MAX];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned max;
	int mapped;
	char *end;
	unsigned long prefix;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (netaddr_parse(buf, &out->net) != 0)
		return -1;
	/* A mapped network written as ::ffff:a.b.c.d/n was folded to IPv4. */
	mapped = out->net.family == AF_INET && strchr(buf, ':') != NULL;
	max = out->net.family == AF_INET && !mapped ? 32 : 128;
	if (slash == NULL) {
		out->prefix = out->net.family == AF_INET ? 32 : 128;
		return 0;
	}
	if (!isdigit((unsigned char)slash[1]))
		return -1;
	prefix = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || prefix > max || (mapped && prefix < 96))
		return -1;
	out->prefix = (unsigned)(mapped ? prefix - 96 : prefix);
	return 0;
}

/* cidr_contains - does net contain addr */
int
cidr_contains(const struct cidr *net, const struct netaddr *addr)
{
	unsigned full = net->prefix / 8, rest = net->prefix % 8;
	unsigned char mask;

	if (addr->family != net->net.family)
		return 0;
	if (memcmp(net->net.bytes, addr->bytes, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (net->net.bytes[full] & mask) == (addr->bytes[full] & mask);
}

/* cidr_format - "addr/prefix" */
void
cidr_format(const struct cidr *net, char *buf, size_t len)
{
	char abuf[NETADDR_TEXT_MAX];

	netaddr_format(&net->net, abuf, sizeof(abuf));
	snprintf(buf, len, "%s/%u", abuf, net->prefix);
}

/* cidr_list_parse - comma or white space separated networks */
int
cidr_list_parse(const char *text, struct cidr_list *out, size_t *bad)
{
	const char *p = text;
	struct cidr_list list = {NULL, 0};

	while (*p != '\0') {
		char tok[NETADDR_TEXT_MAX + 8];
		size_t n = strcspn(p, ", \t");
		struct cidr *grown;

		if (n == 0) {
			p++;
			continue;
		}
		if (n >= sizeof(tok))
			goto fail;
		memcpy(tok, p, n);
		tok[n] = '\0';
		grown = realloc(list.items, (list.count + 1) * sizeof(*grown));
		if (grown == NULL)
			goto fail;
		list.items = grown;
		if (cidr_parse(tok, &list.items[list.count]) != 0)
			goto fail;
		list.count++;
		p += n;
	}
	cidr_list_free(out);
	*out = list;
	return 0;
fail:
	if (bad != NULL)
		*bad = (size_t)(p - text);
	free(list.items);
	return -1;
}

/* cidr_list_contains - any network of the list contains addr */
int
cidr_list_contains(const struct cidr_list *list, const struct netaddr *addr)
{
	for (size_t i = 0; i < list->count; i++)
		if (cidr_contains(&list->items[i], addr))
			return 1;
	return 0;
}

/* cidr_list_free - release the items; the list itself may be reused */
void
cidr_list_free(struct cidr_list *list)
{
	if (list == NULL)
		return;
	free(list->items);
	list->items = NULL;
	list->count = 0;
}
