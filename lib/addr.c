/*
 * addr - envelope addresses as the MTA hands them over (addr.h)
 */
#include "lib/addr.h"

#include <stdlib.h>
#include <string.h>

/* addr_strip_brackets - the address inside "<...>", as start and length */
const char *
addr_strip_brackets(const char *addr, size_t *len)
{
	size_t n = strlen(addr);

	if (n >= 2 && addr[0] == '<' && addr[n - 1] == '>') {
		*len = n - 2;
		return addr + 1;
	}
	*len = n;
	return addr;
}

/* addr_strip_brackets_dup - "<a@b>" -> a new "a@b"; caller frees */
char *
addr_strip_brackets_dup(const char *addr)
{
	size_t n;
	const char *start = addr_strip_brackets(addr, &n);

	return strndup(start, n);
}
