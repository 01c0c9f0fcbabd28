/*
 * dkim - DKIM verification (RFC 6376, RFC 8463) over libopendkim and
 * mailvet's DNS layer
 *
 * One DKIM_LIB serves the whole process (dkim_global_init, before any
 * thread; dkim_global_free at exit). Each message gets a dkim_msg: the
 * milter streams headers and body chunks into it as they arrive, and
 * libopendkim canonicalizes and hashes them on the fly (no copy of the
 * whole message is kept).
 *
 * Key lookups never use libresolv's resolver: libopendkim's DNS hooks are
 * pointed at this module, which serves them from the message's own
 * dns_resolver. At end of headers (dkim_msg_eoh) every signature's
 * "selector._domainkey.domain" TXT query starts at once; at end of
 * message (dkim_msg_eom) libopendkim verifies, and its key lookups are
 * answered from those prefetched packets, waiting up to the deadline for
 * any still in flight. The hooks find their message through a
 * thread-local pointer that is set only for the duration of
 * dkim_msg_eom, so no thread-local state survives a milter callback.
 *
 * Results per signature (enum result):
 *   pass       signature and body hash verified
 *   fail       signature or body hash mismatch
 *   neutral    expired (x=) or not yet valid (t=) signature
 *   policy     verified but the RSA key is shorter than min_key_bits
 *   temperror  key lookup SERVFAIL / timeout / transport error
 *   permerror  malformed signature (missing, duplicate or bad tags, bad
 *              base64, absurd lengths), key absent (NXDOMAIN / NODATA),
 *              key revoked (empty p=), unusable key record, l= beyond
 *              the body
 * Signatures beyond max_sigs are not verified and not reported.
 *
 * The message-wide result (dkim_msg_result, fact "dkim") is the best
 * one in this order: pass > temperror > policy > fail > neutral >
 * permerror > none. A temperror therefore is never hidden behind a fail
 * or permerror when no signature passed: a retry might pass.
 *
 * Ownership: a dkim_msg borrows the resolver and must be freed while the
 * resolver is alive: dkim_msg_free tells the resolver to forget the key
 * queries still in flight (dns_forget), so a message can end (abort, a
 * new MAIL FROM) while its connection and resolver go on. Strings
 * returned by the accessors belong to the message.
 *
 * Diagnostics: functions returning int give 0 on success and -1 on an
 * internal failure (out of memory, library not initialized). DNS trouble
 * and bad input are results, not failures.
 */
#ifndef MAILVET_DKIM_H
#define MAILVET_DKIM_H

#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"
#include "milter/dns/dns.h"
#include "rules/facts.h"

#define DKIM_MIN_KEY_BITS_DEFAULT 1024
#define DKIM_MAX_SIGS_DEFAULT     8
#define DKIM_SIG_HEADER_MAX       8192 /* longer DKIM-Signature: permerror */

struct dkim_sig_result {
	enum result result;
	char domain[256];      /* d= (empty when missing) */
	char identity[260];    /* i=, or "@" d= when absent */
	char selector[128];    /* s= */
	char algorithm[32];    /* a= */
	char b8[9];            /* first 8 characters of b= */
	char reason[128];      /* why, when not pass ("" on a plain pass) */
	long long body_length; /* l= value, -1 when absent */
	unsigned key_bits;     /* 0 when unknown */
};

struct dkim_msg;

/*
 * dkim_global_init - create the process's DKIM_LIB. min_key_bits 0 means
 * DKIM_MIN_KEY_BITS_DEFAULT. Call once, before any thread.
 */
int dkim_global_init(unsigned min_key_bits);
void dkim_global_free(void);

/* dkim_ed25519_supported - 1 when libopendkim verifies ed25519-sha256 */
int dkim_ed25519_supported(void);

/*
 * dkim_msg_new - verification state for one message. resolver is
 * borrowed (see Ownership). max_sigs 0 means DKIM_MAX_SIGS_DEFAULT. id is
 * a queue or connection id used in libopendkim's diagnostics (may be
 * NULL). Returns NULL on failure.
 */
struct dkim_msg *dkim_msg_new(struct dns_resolver *resolver, unsigned max_sigs,
                              const char *id);
void dkim_msg_free(struct dkim_msg *m);

/*
 * dkim_msg_header - one header as the milter gives it: name, and value
 * without the separating space, folded with bare LF or CRLF.
 */
int dkim_msg_header(struct dkim_msg *m, const char *name, const char *value);

/*
 * dkim_msg_exact_headers - exact 1: header values are given exactly as
 * after the colon (the milter negotiated SMFIP_HDR_LEADSPC); 0 (the
 * default): the one space libmilter strips is put back.
 */
void dkim_msg_exact_headers(struct dkim_msg *m, int exact);

/* dkim_msg_eoh - end of headers: read the signatures, start key queries */
int dkim_msg_eoh(struct dkim_msg *m);

/* dkim_msg_body - one body chunk, as the milter gives it */
int dkim_msg_body(struct dkim_msg *m, const unsigned char *buf, size_t len);

/*
 * dkim_msg_eom - verify every signature. Key answers still missing at
 * deadline_ms (dns_now_ms clock) give temperror.
 */
int dkim_msg_eom(struct dkim_msg *m, uint64_t deadline_ms);

/* Accessors, valid after dkim_msg_eom. */
enum result dkim_msg_result(const struct dkim_msg *m); /* "dkim" */
const char *const *dkim_msg_domains(const struct dkim_msg *m,
                                    size_t *count); /* "dkim.domains" */
size_t dkim_msg_nsigs(const struct dkim_msg *m);
const struct dkim_sig_result *dkim_msg_sig(const struct dkim_msg *m, size_t i);
size_t dkim_msg_skipped(const struct dkim_msg *m); /* over max_sigs */

/*
 * dkim_result_rank - position in the "best result" order (higher is
 * better); dkim_result_best - the better of two results.
 */
int dkim_result_rank(enum result r);
enum result dkim_result_best(enum result a, enum result b);

/*
 * dkim_authres - append the RFC 8601 dkim method results to sb: one
 * "dkim=RESULT (reason) header.d=... header.i=... header.s=...
 * header.a=... header.b=..." per reported signature, separated by "; ",
 * or "dkim=none" when unsigned. The caller writes the authserv-id and
 * the separator before it. Every value from the message is escaped.
 * dkim_authres_sigs does the same from a plain array (for tests).
 */
void dkim_authres(const struct dkim_msg *m, struct strbuf *sb);
void dkim_authres_sigs(const struct dkim_sig_result *sigs, size_t n,
                       struct strbuf *sb);

/*
 * dkim_sig_precheck - syntax check of one DKIM-Signature value (RFC 6376
 * 3.2 tag-list and 3.5 tags): fills r (result left PASS when it found
 * nothing wrong, PERMERROR with a reason otherwise). Exposed for tests.
 */
void dkim_sig_precheck(const char *value, size_t len,
                       struct dkim_sig_result *r);

#endif
