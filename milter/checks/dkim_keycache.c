/*
 * dkim_keycache - DKIM public keys decoded once, shared by later messages
 *
 * Why: libopendkim decodes the signer's public key with d2i_PUBKEY_bio()
 * for every signature it verifies. OpenSSL 3 builds a decoder context
 * over every provider to do that; on the protocol driver the decoding was
 * 24 % of mailvet's CPU per message, five times the RSA verification
 * (perf, issue 19). libopendkim takes no decoded key, so, as with
 * accept() and poll() in milter/quickack.c, the executable defines
 * d2i_PUBKEY_bio(): the DER bytes of a memory BIO (libopendkim hands the
 * key over in one) are looked up in a small table; a hit returns the
 * decoded key with one more reference, a miss decodes with OpenSSL's own
 * d2i_PUBKEY_bio() (found with dlsym(RTLD_NEXT)) and keeps the result.
 * Every other call (another kind of BIO, an out-parameter) goes to
 * OpenSSL untouched, as does everything when the table cannot be used.
 *
 * Correctness: the bytes are the key, so a rotated key is another entry
 * and a revoked one (empty p=) never gets here; the DNS answer, its TTL
 * and its checks stay where they were. An EVP_PKEY is reference counted,
 * and verification only reads it (the legacy RSA copy libopendkim asks
 * for with EVP_PKEY_get1_RSA is cached inside the key under its own
 * lock), so threads may share one.
 *
 * Bounds: KEYCACHE_SLOTS entries, direct-mapped by a hash of the bytes (a
 * new key replaces whatever sat in its slot); keys over KEYCACHE_MAX_DER
 * bytes are not kept. dkim_keycache_free() empties it (dkim_global_free).
 */
#include "milter/checks/dkim_keycache.h"

#include <dlfcn.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEYCACHE_SLOTS   256
#define KEYCACHE_MAX_DER 2048 /* a 16384-bit RSA key's SPKI is ~2.1 KB */

struct keycache_slot {
	unsigned char *der;
	size_t len;
	EVP_PKEY *pkey; /* one reference held by the table */
};

typedef EVP_PKEY *(*d2i_fn)(BIO *, EVP_PKEY **);

static struct keycache_slot slots[KEYCACHE_SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long hits, misses;
static d2i_fn openssl_d2i;
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

/* resolve - OpenSSL's d2i_PUBKEY_bio() */
static void
resolve(void)
{
	*(void **)&openssl_d2i = dlsym(RTLD_NEXT, "d2i_PUBKEY_bio");
}

/* slot_of - FNV-1a of the bytes, folded onto the table */
static struct keycache_slot *
slot_of(const unsigned char *der, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ der[i]) * 16777619u;
	return &slots[h % KEYCACHE_SLOTS];
}

/* lookup - the cached key for these bytes with a reference, or NULL */
static EVP_PKEY *
lookup(const unsigned char *der, size_t len)
{
	struct keycache_slot *s = slot_of(der, len);
	EVP_PKEY *pkey = NULL;

	pthread_mutex_lock(&lock);
	if (s->pkey != NULL && s->len == len && memcmp(s->der, der, len) == 0 &&
	    EVP_PKEY_up_ref(s->pkey) == 1) {
		pkey = s->pkey;
		hits++;
	} else {
		misses++;
	}
	pthread_mutex_unlock(&lock);
	return pkey;
}

/* keep - put a decoded key in its slot (the table takes a reference) */
static void
keep(const unsigned char *der, size_t len, EVP_PKEY *pkey)
{
	struct keycache_slot *s = slot_of(der, len);
	unsigned char *copy = malloc(len);
	EVP_PKEY *old = NULL;
	unsigned char *old_der = NULL;

	if (copy == NULL || EVP_PKEY_up_ref(pkey) != 1) {
		free(copy);
		return;
	}
	memcpy(copy, der, len);
	pthread_mutex_lock(&lock);
	old = s->pkey;
	old_der = s->der;
	s->der = copy;
	s->len = len;
	s->pkey = pkey;
	pthread_mutex_unlock(&lock);
	EVP_PKEY_free(old);
	free(old_der);
}

/* mem_bytes - the unread bytes of a memory BIO; 0 when bp is none */
static size_t
mem_bytes(BIO *bp, const unsigned char **der)
{
	char *p = NULL;
	long n;

	if (bp == NULL || BIO_method_type(bp) != BIO_TYPE_MEM)
		return 0;
	n = BIO_get_mem_data(bp, &p);
	if (n <= 0 || p == NULL || (size_t)n > KEYCACHE_MAX_DER)
		return 0;
	*der = (const unsigned char *)p;
	return (size_t)n;
}

/*
 * d2i_PUBKEY_bio - OpenSSL's, with the table in front for keys in a
 * memory BIO. Interposed: see the top of this file. On a hit the BIO is
 * not read; libopendkim frees it right after.
 */
EVP_PKEY *
d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a)
{
	const unsigned char *der = NULL;
	size_t len;
	EVP_PKEY *pkey;

	pthread_once(&resolve_once, resolve);
	if (openssl_d2i == NULL)
		return NULL;
	len = a == NULL ? mem_bytes(bp, &der) : 0;
	if (len == 0)
		return openssl_d2i(bp, a);
	pkey = lookup(der, len);
	if (pkey != NULL)
		return pkey;
	pkey = openssl_d2i(bp, NULL);
	if (pkey != NULL)
		keep(der, len, pkey);
	return pkey;
}

/* dkim_keycache_stats - see dkim_keycache.h */
void
dkim_keycache_stats(unsigned long *hit, unsigned long *miss)
{
	pthread_mutex_lock(&lock);
	*hit = hits;
	*miss = misses;
	pthread_mutex_unlock(&lock);
}

/* dkim_keycache_free - see dkim_keycache.h */
void
dkim_keycache_free(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < KEYCACHE_SLOTS; i++) {
		EVP_PKEY_free(slots[i].pkey);
		free(slots[i].der);
		memset(&slots[i], 0, sizeof(slots[i]));
	}
	hits = misses = 0;
	pthread_mutex_unlock(&lock);
}
