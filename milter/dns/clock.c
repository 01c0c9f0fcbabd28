/*
 * clock - the monotonic millisecond clock that DNS deadlines and cache
 * expiry are measured on
 *
 * Functions: dns_now_ms.
 *
 * It lives alone so that the cache (cache.c) and the resolver
 * (resolver.c), which both read it, depend on it and not on each other.
 */
#include <time.h>

#include "milter/dns/dns.h"

/* dns_now_ms - CLOCK_MONOTONIC in milliseconds */
uint64_t
dns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
