/*
 * addr - envelope addresses as the MTA hands them over
 *
 * Functions: addr_strip_brackets (a view, no copy),
 * addr_strip_brackets_dup (a copy the caller frees).
 *
 * The MTA passes MAIL FROM and RCPT TO arguments as "<local@domain>"
 * (the null sender as "<>"). Only a string that both starts with '<' and
 * ends with '>' loses them; anything else is taken as it stands.
 */
#ifndef MAILVET_ADDR_H
#define MAILVET_ADDR_H

#include <stddef.h>

/*
 * addr_strip_brackets - the address inside "<...>": returns where it
 * starts and sets *len to its length (not NUL-terminated there). Without
 * both brackets: addr itself and strlen(addr).
 */
const char *addr_strip_brackets(const char *addr, size_t *len);

/* addr_strip_brackets_dup - the same as a new string; NULL without memory */
char *addr_strip_brackets_dup(const char *addr);

#endif
