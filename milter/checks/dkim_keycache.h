/*
 * dkim_keycache - DKIM public keys decoded once and shared (see
 * dkim_keycache.c: the executable interposes d2i_PUBKEY_bio() for
 * libopendkim)
 */
#ifndef MAILVET_DKIM_KEYCACHE_H
#define MAILVET_DKIM_KEYCACHE_H

/* dkim_keycache_stats - lookups answered from the table, and not */
void dkim_keycache_stats(unsigned long *hit, unsigned long *miss);

/* dkim_keycache_free - drop every kept key (at dkim_global_free) */
void dkim_keycache_free(void);

#endif
