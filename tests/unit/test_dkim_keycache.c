/*
 * test_dkim_keycache - d2i_PUBKEY_bio() with the table in front
 *
 * The calls below reach milter/checks/dkim_keycache.c's definition, as
 * libopendkim's do in the daemon. Keys are made here (EC P-256 for
 * speed, one RSA key for the type libopendkim verifies most).
 */
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "milter/checks/dkim_keycache.h"
#include "tests/unit/testlib.h"

#define MANY 600 /* more than the table's slots: replacements happen */

/* der_of - the SubjectPublicKeyInfo bytes of a key (malloc'd) */
static unsigned char *
der_of(EVP_PKEY *k, int *len)
{
	unsigned char *der = NULL;

	*len = i2d_PUBKEY(k, &der);
	return *len > 0 ? der : NULL;
}

/* decode - as libopendkim does: a memory BIO, no out-parameter */
static EVP_PKEY *
decode(const unsigned char *der, int len)
{
	BIO *bio = BIO_new_mem_buf(der, len);
	EVP_PKEY *k = d2i_PUBKEY_bio(bio, NULL);

	BIO_free(bio);
	return k;
}

/* same_key - the two keys are equal */
static int
same_key(const EVP_PKEY *a, const EVP_PKEY *b)
{
	return a != NULL && b != NULL && EVP_PKEY_eq(a, b) == 1;
}

/* test_hit_and_miss - the second decode of the same bytes is a hit */
static void
test_hit_and_miss(void)
{
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *a, *b;
	unsigned long h0, m0, h1, m1;
	unsigned char *der;
	int len;

	dkim_keycache_stats(&h0, &m0);
	der = der_of(rsa, &len);
	a = decode(der, len);
	b = decode(der, len);
	dkim_keycache_stats(&h1, &m1);
	CHECK(same_key(a, rsa) && same_key(b, rsa), "RSA key decoded");
	CHECK(a == b, "second decode shares the first one's key");
	CHECK_INT(h1 - h0, 1, "hits");
	CHECK_INT(m1 - m0, 1, "misses");
	/* Each caller frees its own reference; the table keeps one. */
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	b = decode(der, len);
	CHECK(same_key(b, rsa), "still there after the callers freed");
	CHECK(EVP_PKEY_get_bits(b) == 2048, "RSA bits through it");
	EVP_PKEY_free(b);
	OPENSSL_free(der);
	EVP_PKEY_free(rsa);
}

/* test_bad_bytes - garbage decodes to NULL and is not kept */
static void
test_bad_bytes(void)
{
	static const unsigned char junk[] = "\x30\x03\x02\x01";
	unsigned long h0, m0, h1, m1;

	dkim_keycache_stats(&h0, &m0);
	CHECK(decode(junk, (int)sizeof(junk) - 1) == NULL, "garbage: NULL");
	CHECK(decode(junk, (int)sizeof(junk) - 1) == NULL, "again: NULL");
	dkim_keycache_stats(&h1, &m1);
	CHECK_INT(h1 - h0, 0, "garbage never hits");
}

/* test_passthrough - an out-parameter goes straight to OpenSSL */
static void
test_passthrough(void)
{
	EVP_PKEY *ec = EVP_EC_gen("P-256"), *out = NULL, *got;
	unsigned long h0, m0, h1, m1;
	unsigned char *der;
	BIO *bio;
	int len;

	der = der_of(ec, &len);
	dkim_keycache_stats(&h0, &m0);
	bio = BIO_new_mem_buf(der, len);
	got = d2i_PUBKEY_bio(bio, &out);
	BIO_free(bio);
	dkim_keycache_stats(&h1, &m1);
	CHECK(got != NULL && got == out && same_key(got, ec),
	      "out-parameter filled by OpenSSL");
	CHECK_INT((h1 - h0) + (m1 - m0), 0, "the table was not asked");
	EVP_PKEY_free(got);
	OPENSSL_free(der);
	EVP_PKEY_free(ec);
}

/*
 * test_many_keys - more keys than slots: entries are replaced while
 * callers still hold them (ASan sees any use after free), and every
 * decode returns its own key
 */
static void
test_many_keys(void)
{
	EVP_PKEY *want[MANY], *held[MANY];
	unsigned char *der[MANY];
	int len[MANY], wrong = 0;

	for (int i = 0; i < MANY; i++) {
		want[i] = EVP_EC_gen("P-256");
		der[i] = der_of(want[i], &len[i]);
		held[i] = decode(der[i], len[i]);
	}
	for (int i = 0; i < MANY; i++) {
		EVP_PKEY *again = decode(der[i], len[i]);
		wrong +=
		    !same_key(held[i], want[i]) || !same_key(again, want[i]);
		EVP_PKEY_free(again);
	}
	CHECK_INT(wrong, 0, "keys that came back wrong");
	for (int i = 0; i < MANY; i++) {
		EVP_PKEY_free(held[i]);
		OPENSSL_free(der[i]);
		EVP_PKEY_free(want[i]);
	}
}

int
main(void)
{
	test_hit_and_miss();
	test_bad_bytes();
	test_passthrough();
	test_many_keys();
	dkim_keycache_free();
	return test_summary("test_dkim_keycache");
}
