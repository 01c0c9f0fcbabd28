/*
 * dkim - DKIM verification of one message over libopendkim (see dkim.h)
 *
 * Functions: dkim_global_init, dkim_global_free, dkim_ed25519_supported,
 * dkim_msg_new, dkim_msg_free, dkim_msg_header, dkim_msg_eoh,
 * dkim_msg_body, dkim_msg_eom, the accessors and dkim_authres.
 *
 * The library runs with DKIM_LIBFLAGS_DELAYSIGPROC (key work at eom, so
 * keys are prefetched in parallel at eoh), DKIM_LIBFLAGS_FIXCRLF (milter
 * text has bare LF) and DKIM_LIBFLAGS_BADSIGHANDLES (a malformed
 * signature keeps its place in the signature list, so the list lines up
 * with the DKIM-Signature headers this module saw, in order).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter/checks/dkim_internal.h"
#include "milter/checks/dkim_keycache.h"

static DKIM_LIB *dkim_lib;

/* dkim_global_init - see dkim.h */
int
dkim_global_init(unsigned min_key_bits)
{
	uint32_t flags = DKIM_LIBFLAGS_DELAYSIGPROC | DKIM_LIBFLAGS_FIXCRLF |
	                 DKIM_LIBFLAGS_BADSIGHANDLES;
	u_int bits = min_key_bits ? min_key_bits : DKIM_MIN_KEY_BITS_DEFAULT;

	if (dkim_lib != NULL)
		return 0;
	dkim_lib = dkim_init(NULL, NULL);
	if (dkim_lib == NULL)
		return -1;
	if (dkim_options(dkim_lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	                 sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_options(dkim_lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits,
	                 sizeof(bits)) != DKIM_STAT_OK) {
		dkim_global_free();
		return -1;
	}
	dkim_dns_install(dkim_lib);
	return 0;
}

/* dkim_global_free - see dkim.h */
void
dkim_global_free(void)
{
	if (dkim_lib != NULL)
		dkim_close(dkim_lib);
	dkim_lib = NULL;
	dkim_keycache_free();
}

/* dkim_ed25519_supported - see dkim.h */
int
dkim_ed25519_supported(void)
{
	return dkim_lib != NULL &&
	       dkim_libfeature(dkim_lib, DKIM_FEATURE_ED25519);
}

/* dkim_msg_new - see dkim.h */
struct dkim_msg *
dkim_msg_new(struct dns_resolver *resolver, unsigned max_sigs, const char *id)
{
	struct dkim_msg *m;
	DKIM_STAT st;

	if (dkim_lib == NULL || resolver == NULL)
		return NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->resolver = resolver;
	m->max_sigs = max_sigs ? max_sigs : DKIM_MAX_SIGS_DEFAULT;
	m->capkey = 2 * (size_t)m->max_sigs;
	m->result = RESULT_NONE;
	strbuf_init(&m->line);
	m->ent = calloc(m->max_sigs, sizeof(*m->ent));
	m->key = calloc(m->capkey, sizeof(*m->key));
	m->dkim = dkim_verify(
	    dkim_lib, (const unsigned char *)(id ? id : "mailvet"), NULL, &st);
	if (m->ent == NULL || m->key == NULL || m->dkim == NULL) {
		dkim_msg_free(m);
		return NULL;
	}
	return m;
}

/* dkim_msg_free - see dkim.h */
void
dkim_msg_free(struct dkim_msg *m)
{
	if (m == NULL)
		return;
	if (m->dkim != NULL)
		dkim_free(m->dkim);
	dkim_keys_free(m);
	strbuf_free(&m->line);
	free(m->ent);
	free(m->domains);
	free(m->res);
	free(m);
}

/* dkim_msg_sighdr - remember one DKIM-Signature header, prechecked */
static void
dkim_msg_sighdr(struct dkim_msg *m, const char *value)
{
	if (m->nent == m->max_sigs) {
		m->skipped++;
		return;
	}
	dkim_sig_precheck(value, strlen(value), &m->ent[m->nent].r);
	m->ent[m->nent].bad = m->ent[m->nent].r.result != RESULT_PASS;
	m->nent++;
}

/*
 * dkim_add_crlf - append text with every bare LF made CRLF. libopendkim's
 * own DKIM_LIBFLAGS_FIXCRLF conversion of headers keeps the unconverted
 * length (2.11.0~beta2) and so cuts one byte per fold off the end.
 */
static void
dkim_add_crlf(struct strbuf *sb, const char *s)
{
	const char *nl;

	while ((nl = strchr(s, '\n')) != NULL) {
		strbuf_addn(sb, s, (size_t)(nl - s));
		if (nl == s || nl[-1] != '\r')
			strbuf_addc(sb, '\r');
		strbuf_addc(sb, '\n');
		s = nl + 1;
	}
	strbuf_add(sb, s);
}

/* dkim_msg_exact_headers - header values come with their leading space */
void
dkim_msg_exact_headers(struct dkim_msg *m, int exact)
{
	if (m != NULL)
		m->exact_headers = exact;
}

/* dkim_msg_header - see dkim.h */
int
dkim_msg_header(struct dkim_msg *m, const char *name, const char *value)
{
	if (m == NULL || m->eoh_done || name[0] == '\0')
		return -1;
	if (strcasecmp(name, "DKIM-Signature") == 0)
		dkim_msg_sighdr(m, value);
	m->line.len = 0;
	if (m->line.data != NULL)
		m->line.data[0] = '\0';
	strbuf_add(&m->line, name);
	strbuf_addc(&m->line, ':');
	/*
	 * Without SMFIP_HDR_LEADSPC libmilter drops the space after the
	 * colon; put one back. With it the value is exact: keep it so.
	 */
	if (!m->exact_headers && value[0] != ' ' && value[0] != '\t')
		strbuf_addc(&m->line, ' ');
	dkim_add_crlf(&m->line, value);
	if (strbuf_failed(&m->line))
		return -1;
	/* a header libopendkim refuses (bad name bytes) is simply not used */
	(void)dkim_header(m->dkim, (u_char *)m->line.data, m->line.len);
	return 0;
}

/* dkim_key_name - "selector._domainkey.domain" of an entry */
static int
dkim_key_name(const struct dkim_sig_result *r, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s._domainkey.%s", r->selector, r->domain);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* dkim_msg_eoh - see dkim.h */
int
dkim_msg_eoh(struct dkim_msg *m)
{
	DKIM_SIGINFO **sigs = NULL;
	char name[DNS_NAME_MAX];
	DKIM_STAT st;
	int i, nsigs = 0;

	if (m == NULL || m->eoh_done)
		return -1;
	m->eoh_done = 1;
	st = dkim_eoh(m->dkim);
	if (st == DKIM_STAT_NOSIG)
		return 0;
	if (st != DKIM_STAT_OK) {
		m->lib_state = -1;
		snprintf(m->lib_error, sizeof(m->lib_error), "%s",
		         dkim_geterror(m->dkim) ? dkim_geterror(m->dkim)
		                                : dkim_getresultstr(st));
		return 0;
	}
	if (dkim_getsiglist(m->dkim, &sigs, &nsigs) != DKIM_STAT_OK)
		nsigs = 0;
	for (i = 0; i < nsigs; i++) {
		struct dkim_entry *e = (size_t)i < m->nent ? &m->ent[i] : NULL;

		if (e == NULL || e->bad ||
		    dkim_key_name(&e->r, name, sizeof(name)) < 0) {
			dkim_sig_ignore(sigs[i]);
			continue;
		}
		(void)dkim_key_start(m, name);
	}
	return 0;
}

/* dkim_msg_body - see dkim.h */
int
dkim_msg_body(struct dkim_msg *m, const unsigned char *buf, size_t len)
{
	if (m == NULL || !m->eoh_done || m->eom_done)
		return -1;
	if (m->lib_state < 0 || len == 0)
		return 0;
	(void)dkim_body(m->dkim, (u_char *)(uintptr_t)buf, len);
	return 0;
}

/* dkim_sig_error_map - libopendkim's per-signature errors, as results */
static const struct {
	int err;
	enum result result;
	const char *reason;
} dkim_errmap[] = {
    {DKIM_SIGERROR_BADSIG, RESULT_FAIL, "signature did not verify"},
    {DKIM_SIGERROR_NOKEY, RESULT_PERMERROR, "no key"},
    {DKIM_SIGERROR_KEYREVOKED, RESULT_PERMERROR, "key revoked"},
    {DKIM_SIGERROR_KEYFAIL, RESULT_TEMPERROR, "key lookup failed"},
    {DKIM_SIGERROR_KEYTOOSMALL, RESULT_POLICY, "key too small"},
    {DKIM_SIGERROR_EXPIRED, RESULT_NEUTRAL, "signature expired (x=)"},
    {DKIM_SIGERROR_FUTURE, RESULT_NEUTRAL,
     "signature timestamp in the future (t=)"},
    {DKIM_SIGERROR_TOOLARGE_L, RESULT_PERMERROR, "l= exceeds the body length"},
    {DKIM_SIGERROR_MULTIREPLY, RESULT_PERMERROR, "several key records"},
    {DKIM_SIGERROR_DNSSYNTAX, RESULT_PERMERROR, "key record malformed"},
};

/* dkim_keyfail_reason - the DNS outcome behind a KEYFAIL, when known */
static void
dkim_keyfail_reason(struct dkim_msg *m, struct dkim_sig_result *r)
{
	char name[DNS_NAME_MAX];
	struct dkim_key *k;

	if (dkim_key_name(r, name, sizeof(name)) < 0 ||
	    (k = dkim_key_find(m, name)) == NULL)
		return;
	if (!k->done)
		snprintf(r->reason, sizeof(r->reason), "key lookup timed out");
	else if (k->status == DNS_TEMPERROR)
		snprintf(r->reason, sizeof(r->reason), "key lookup: %s",
		         k->why != NULL ? k->why : "DNS error");
}

/* dkim_sig_map - one verified signature's result and reason */
static void
dkim_sig_map(struct dkim_msg *m, DKIM_SIGINFO *sig, struct dkim_sig_result *r)
{
	unsigned flags = dkim_sig_getflags(sig), bits = 0;
	int err = dkim_sig_geterror(sig);
	size_t i;

	if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		r->key_bits = bits;
	if (err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_UNKNOWN) {
		if ((flags & DKIM_SIGFLAG_PROCESSED) == 0)
			r->result = RESULT_TEMPERROR;
		else if ((flags & DKIM_SIGFLAG_PASSED) == 0)
			r->result = RESULT_FAIL;
		else if (dkim_sig_getbh(sig) != DKIM_SIGBH_MATCH)
			r->result = RESULT_FAIL;
		else
			r->result = RESULT_PASS;
		snprintf(r->reason, sizeof(r->reason), "%s",
		         r->result == RESULT_TEMPERROR ? "not verified"
		         : r->result == RESULT_FAIL
		             ? ((flags & DKIM_SIGFLAG_PASSED)
		                    ? "body hash did not verify"
		                    : "signature did not verify")
		             : "");
		return;
	}
	r->result = RESULT_PERMERROR;
	snprintf(r->reason, sizeof(r->reason), "%s",
	         dkim_sig_geterrorstr(err) ? dkim_sig_geterrorstr(err)
	                                   : "unusable signature");
	for (i = 0; i < sizeof(dkim_errmap) / sizeof(dkim_errmap[0]); i++)
		if (dkim_errmap[i].err == err) {
			r->result = dkim_errmap[i].result;
			snprintf(r->reason, sizeof(r->reason), "%s",
			         dkim_errmap[i].reason);
		}
	if (err == DKIM_SIGERROR_KEYTOOSMALL && bits > 0)
		snprintf(r->reason, sizeof(r->reason),
		         "key too small (%u bits)", bits);
	if (err == DKIM_SIGERROR_KEYFAIL)
		dkim_keyfail_reason(m, r);
	/* the header signature held but the body hash did not */
	if (err == DKIM_SIGERROR_BADSIG && (flags & DKIM_SIGFLAG_PASSED) &&
	    dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH)
		snprintf(r->reason, sizeof(r->reason),
		         "body hash did not verify");
}

/* dkim_note_length - mention a passing l= signature in its comment */
static void
dkim_note_length(struct dkim_sig_result *r)
{
	if (r->result == RESULT_PASS && r->body_length >= 0)
		snprintf(r->reason, sizeof(r->reason),
		         "body length limit l=%lld", r->body_length);
}

/* dkim_msg_domains_build - the d= of each passing signature, once */
static void
dkim_msg_domains_build(struct dkim_msg *m)
{
	size_t i, j;

	m->domains = calloc(m->nres + 1, sizeof(*m->domains));
	if (m->domains == NULL)
		return;
	for (i = 0; i < m->nres; i++) {
		if (m->res[i].result != RESULT_PASS)
			continue;
		for (j = 0; j < m->ndomains; j++)
			if (strcasecmp(m->domains[j], m->res[i].domain) == 0)
				break;
		if (j == m->ndomains)
			m->domains[m->ndomains++] = m->res[i].domain;
	}
}

/* dkim_msg_collect - the per-signature results after dkim_eom */
static int
dkim_msg_collect(struct dkim_msg *m)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	size_t i;

	if (m->lib_state == 0 &&
	    dkim_getsiglist(m->dkim, &sigs, &nsigs) != DKIM_STAT_OK)
		nsigs = 0;
	m->res = calloc(m->nent + 1, sizeof(*m->res));
	if (m->res == NULL)
		return -1;
	for (i = 0; i < m->nent; i++) {
		struct dkim_sig_result *r = &m->res[m->nres++];

		*r = m->ent[i].r;
		if (m->ent[i].bad)
			continue;
		if (m->lib_state < 0) {
			r->result = RESULT_PERMERROR;
			snprintf(r->reason, sizeof(r->reason), "%s",
			         m->lib_error);
		} else if (i < (size_t)nsigs) {
			dkim_sig_map(m, sigs[i], r);
		} else {
			r->result = RESULT_PERMERROR;
			snprintf(r->reason, sizeof(r->reason),
			         "signature not parsed");
		}
		dkim_note_length(r);
	}
	for (i = 0; i < m->nres; i++)
		m->result = dkim_result_best(m->result, m->res[i].result);
	dkim_msg_domains_build(m);
	return 0;
}

/* dkim_msg_eom - see dkim.h */
int
dkim_msg_eom(struct dkim_msg *m, uint64_t deadline_ms)
{
	if (m == NULL || !m->eoh_done || m->eom_done)
		return -1;
	m->eom_done = 1;
	m->deadline_ms = deadline_ms;
	if (m->lib_state == 0 && m->nent > 0) {
		dkim_dns_current(m);
		(void)dkim_eom(m->dkim, NULL);
		dkim_dns_current(NULL);
	}
	return dkim_msg_collect(m);
}

/* dkim_msg_result - see dkim.h */
enum result
dkim_msg_result(const struct dkim_msg *m)
{
	return m != NULL ? m->result : RESULT_NONE;
}

/* dkim_msg_domains - see dkim.h */
const char *const *
dkim_msg_domains(const struct dkim_msg *m, size_t *count)
{
	*count = m != NULL ? m->ndomains : 0;
	return m != NULL ? m->domains : NULL;
}

/* dkim_msg_nsigs - see dkim.h */
size_t
dkim_msg_nsigs(const struct dkim_msg *m)
{
	return m != NULL ? m->nres : 0;
}

/* dkim_msg_sig - see dkim.h */
const struct dkim_sig_result *
dkim_msg_sig(const struct dkim_msg *m, size_t i)
{
	return m != NULL && i < m->nres ? &m->res[i] : NULL;
}

/* dkim_msg_skipped - see dkim.h */
size_t
dkim_msg_skipped(const struct dkim_msg *m)
{
	return m != NULL ? m->skipped : 0;
}

/* dkim_authres - see dkim.h */
void
dkim_authres(const struct dkim_msg *m, struct strbuf *sb)
{
	dkim_authres_sigs(m != NULL ? m->res : NULL, m != NULL ? m->nres : 0,
	                  sb);
}
