/*
 * netaddr - IPv4/IPv6 addresses and CIDR networks
 *
 * An address is stored as 16 bytes; IPv4 is kept as family AF_INET in the
 * first 4 bytes. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is folded to
 * IPv4 at every entry point, so checks and rules never see the mapped form.
 *
 * Functions:
 *   netaddr_parse      text -> address (IPv4, IPv6, "IPv6:" prefix ok)
 *   netaddr_from_sockaddr  struct sockaddr -> address
 *   netaddr_format     address -> text (canonical, compressed IPv6)
 *   netaddr_equal      compare two addresses
 *   netaddr_is_loopback
 *   cidr_parse         "a.b.c.d/n", "x::/n" or a bare address (host route)
 *   cidr_contains      address within network
 *   cidr_format        network -> text
 *   cidr_list_parse    comma/space separated list of networks
 *
 * Diagnostics: parse functions return 0 on success, -1 on bad input.
 */
#ifndef MAILVET_NETADDR_H
#define MAILVET_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

#define NETADDR_TEXT_MAX 64 /* > INET6_ADDRSTRLEN, with room for "IPv6:" */

struct netaddr {
	int family;              /* AF_INET or AF_INET6; 0 = unset */
	unsigned char bytes[16]; /* network order; IPv4 uses bytes[0..3] */
};

struct cidr {
	struct netaddr net;
	unsigned prefix; /* 0..32 or 0..128 */
};

struct cidr_list {
	struct cidr *items;
	size_t count;
};

int netaddr_parse(const char *text, struct netaddr *out);
int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out);
void netaddr_format(const struct netaddr *addr, char *buf, size_t len);
int netaddr_equal(const struct netaddr *a, const struct netaddr *b);
int netaddr_is_loopback(const struct netaddr *addr);

int cidr_parse(const char *text, struct cidr *out);
int cidr_contains(const struct cidr *net, const struct netaddr *addr);
void cidr_format(const struct cidr *net, char *buf, size_t len);

/*
 * cidr_list_parse - parse "net, net ..." into *out (replacing its items).
 * On error returns -1 and, when bad != NULL, points *bad at the offending
 * token's offset within text. Free with cidr_list_free.
 */
int cidr_list_parse(const char *text, struct cidr_list *out, size_t *bad);
int cidr_list_contains(const struct cidr_list *list,
                       const struct netaddr *addr);
void cidr_list_free(struct cidr_list *list);

#endif
