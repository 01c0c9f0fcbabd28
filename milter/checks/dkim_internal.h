/*
 * dkim_internal - what dkim.c and dkim_dns.c share: the per-message state
 * and the key prefetch.
 *
 * A dkim_msg owns its libopendkim handle, one entry per DKIM-Signature
 * header (up to max_sigs; later ones are only counted), and one dkim_key
 * per distinct key name, each holding the raw answer packet. The key
 * array is allocated once (DNS callbacks keep pointers into it).
 */
#ifndef MAILVET_DKIM_INTERNAL_H
#define MAILVET_DKIM_INTERNAL_H

#include <opendkim/dkim.h>

#include "milter/checks/dkim.h"

struct dkim_key {
	char name[DNS_NAME_MAX]; /* selector._domainkey.domain */
	int started;
	int done;
	enum dns_status status;
	const char *why;       /* static text of a TEMPERROR */
	unsigned char *packet; /* owned copy, or NULL */
	size_t len;
};

struct dkim_entry {
	struct dkim_sig_result r;
	int bad; /* failed the precheck */
};

struct dkim_msg {
	DKIM *dkim;
	struct dns_resolver *resolver;
	unsigned max_sigs;
	int lib_state; /* 0 ok, -1 unusable */
	char lib_error[96];
	struct strbuf line; /* scratch for one header */
	struct dkim_entry *ent;
	size_t nent;
	size_t skipped;
	struct dkim_key *key;
	size_t nkey, capkey;
	uint64_t deadline_ms;
	int eoh_done, eom_done;
	int exact_headers; /* values keep the text after the colon exactly */
	enum result result;
	const char **domains;
	size_t ndomains;
	struct dkim_sig_result *res; /* reported, in header order */
	size_t nres;
};

/* dkim_dns.c */
void dkim_dns_install(DKIM_LIB *lib);
struct dkim_key *dkim_key_find(struct dkim_msg *m, const char *name);
struct dkim_key *dkim_key_start(struct dkim_msg *m, const char *name);
void dkim_keys_free(struct dkim_msg *m);
void dkim_dns_current(struct dkim_msg *m);

#endif
