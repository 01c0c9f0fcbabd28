/*
 * dnslist - the postscreen-style DNS list syntax, as text
 *
 * An entry is ZONE[=PATTERN][*WEIGHT]:
 *   zen.example=127.0.0.[2..11]*3, bl.example, wl.example=127.0.[0..255].1*-2
 * PATTERN has four octets, each a number, [a..b] or [a;b;c] (elements of a
 * list may be ranges); without one, any code in 127.0.0.0/8 matches.
 * WEIGHT defaults to 1; negative weights are allowlists. Entries naming the
 * same zone share one query. rhsbl_targets is a list of helo, mailfrom,
 * ptr. No DNS here: the config parser (conf/) and the check
 * (milter/checks/dnsbl.c) share it.
 */
#ifndef MAILVET_DNSLIST_H
#define MAILVET_DNSLIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DNSBL_MAX_SITES   32  /* entries per list option */
#define DNSBL_ZONE_MAX    180 /* room for 64 nibbles + '.' in 253 */
#define DNSBL_PATTERN_MAX 96
#define DNSBL_WEIGHT_MAX  1000 /* |weight| */

/* What a name was looked up as; rhsbl_targets is a mask of these. */
enum dnsbl_target {
	DNSBL_T_IP = 1,
	DNSBL_T_HELO = 2,
	DNSBL_T_MAILFROM = 4,
	DNSBL_T_PTR = 8,
};
#define DNSBL_T_NAMES (DNSBL_T_HELO | DNSBL_T_MAILFROM | DNSBL_T_PTR)

struct dnsbl_site {
	char zone[DNSBL_ZONE_MAX + 1];   /* lower case, no final dot */
	char pattern[DNSBL_PATTERN_MAX]; /* as written; "" = any 127/8 */
	unsigned char filter[4][32];     /* per octet, bit per value */
	int weight;
	unsigned zone_index; /* first entry with this zone */
};

struct dnsbl_sites {
	size_t count;
	struct dnsbl_site site[DNSBL_MAX_SITES];
};

/*
 * dnsbl_sites_parse - "zone[=pattern][*weight], ..." (commas and/or
 * blanks between entries) into a new list (*out; NULL for an empty
 * text). Returns 0, or -1 with a message (no option name, no FILE:LINE)
 * in err; out of memory also gives -1.
 */
int dnsbl_sites_parse(const char *text, struct dnsbl_sites **out, char *err,
                      size_t errlen);
void dnsbl_sites_free(struct dnsbl_sites *sites); /* NULL: no-op */
/* dnsbl_sites_print - text dnsbl_sites_parse accepts again */
void dnsbl_sites_print(const struct dnsbl_sites *sites, FILE *out);
/* dnsbl_pattern_match - does code (host order) pass the site's filter */
int dnsbl_pattern_match(const struct dnsbl_site *site, uint32_t code);

/*
 * dnsbl_targets_parse - "helo, mailfrom, ptr" into a DNSBL_T_* mask.
 * Returns 0, or -1 with the unknown word in bad.
 */
int dnsbl_targets_parse(const char *text, unsigned *mask, char *bad,
                        size_t badlen);
void dnsbl_targets_print(unsigned mask, FILE *out);
const char *dnsbl_target_name(enum dnsbl_target t); /* "helo" ... */

#endif
