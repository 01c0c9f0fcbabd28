/*
 * dnslist - the postscreen-style DNS list syntax (dnsbl_sites,
 * rhsbl_sites, rhsbl_targets): parsing, printing, answer-code filters.
 * Pure text: the config parser and the DNSBL check both use it.
 *
 * Grammar (no blanks inside an entry; entries split by commas/blanks):
 *   entry   = zone [ "=" pattern ] [ "*" weight ]
 *   pattern = octet "." octet "." octet "." octet
 *   octet   = number | "[" elem *( ";" elem ) "]"
 *   elem    = number | number ".." number        (0..255, low <= high)
 *   weight  = [ "+" | "-" ] digits               (|weight| <= 1000)
 * A pattern's first octet must be 127: other codes are errors, never
 * listings, so such a pattern could never match.
 *
 * Functions:
 *   dnsbl_sites_parse, dnsbl_sites_free, dnsbl_sites_print,
 *   dnsbl_pattern_match, dnsbl_targets_parse, dnsbl_targets_print,
 *   dnsbl_target_name, dnsbl_ip_qname, dnsbl_name_qname
 *
 * Diagnostics (err, without the option name):
 *   bad entry "E": empty zone | bad zone name | zone too long |
 *   bad pattern | pattern too long | pattern must start with 127 |
 *   bad weight | weight out of range -1000..1000
 *   too many entries (at most 32)
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/dnslist.h"

/* cursor - a bounds-checked read position in one entry's pattern */
struct cursor {
	const char *p, *end;
};

/* cur_number - a decimal 0..255; -1 when none or too big */
static int
cur_number(struct cursor *c)
{
	int v = 0, n = 0;

	while (c->p < c->end && isdigit((unsigned char)*c->p) && n < 4) {
		v = v * 10 + (*c->p++ - '0');
		n++;
	}
	return n == 0 || n > 3 || v > 255 ? -1 : v;
}

/* cur_elem - number or number..number into the octet's bitmap */
static int
cur_elem(struct cursor *c, unsigned char *bits)
{
	int lo = cur_number(c), hi = lo;

	if (lo < 0)
		return -1;
	if (c->end - c->p >= 2 && c->p[0] == '.' && c->p[1] == '.') {
		c->p += 2;
		if ((hi = cur_number(c)) < lo)
			return -1;
	}
	for (int v = lo; v <= hi; v++)
		bits[v / 8] |= (unsigned char)(1u << (v % 8));
	return 0;
}

/* cur_octet - a number, or a bracketed list of elements */
static int
cur_octet(struct cursor *c, unsigned char *bits)
{
	int v;

	if (c->p < c->end && *c->p != '[') {
		if ((v = cur_number(c)) < 0)
			return -1;
		bits[v / 8] |= (unsigned char)(1u << (v % 8));
		return 0;
	}
	if (c->p >= c->end)
		return -1;
	c->p++;
	for (;;) {
		if (cur_elem(c, bits) < 0 || c->p >= c->end)
			return -1;
		if (*c->p == ']') {
			c->p++;
			return 0;
		}
		if (*c->p++ != ';')
			return -1;
	}
}

/* pattern_parse - four octets separated by dots into filter */
static const char *
pattern_parse(const char *text, size_t len, struct dnsbl_site *site)
{
	struct cursor c = {text, text + len};

	if (len == 0)
		return "bad pattern";
	if (len >= sizeof(site->pattern))
		return "pattern too long";
	for (int i = 0; i < 4; i++) {
		if (i > 0 && (c.p >= c.end || *c.p++ != '.'))
			return "bad pattern";
		if (cur_octet(&c, site->filter[i]) < 0)
			return "bad pattern";
	}
	if (c.p != c.end)
		return "bad pattern";
	for (int v = 0; v < 256; v++)
		if (v != 127 && (site->filter[0][v / 8] & (1u << (v % 8))))
			return "pattern must start with 127";
	if (!(site->filter[0][127 / 8] & (1u << (127 % 8))))
		return "pattern must start with 127";
	memcpy(site->pattern, text, len);
	site->pattern[len] = '\0';
	return NULL;
}

/* zone_parse - a DNS name: labels of [A-Za-z0-9_-], 1..63 octets */
static const char *
zone_parse(const char *text, size_t len, struct dnsbl_site *site)
{
	size_t label = 0;

	if (len > 0 && text[len - 1] == '.')
		len--;
	if (len == 0)
		return "empty zone";
	if (len > DNSBL_ZONE_MAX)
		return "zone too long";
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch == '.') {
			if (label == 0)
				return "bad zone name";
			label = 0;
			site->zone[i] = '.';
			continue;
		}
		if (!isalnum(ch) && ch != '-' && ch != '_')
			return "bad zone name";
		if (++label > 63)
			return "bad zone name";
		site->zone[i] = (char)tolower(ch);
	}
	if (label == 0)
		return "bad zone name";
	site->zone[len] = '\0';
	return NULL;
}

/* weight_parse - [+-]digits within the bounds */
static const char *
weight_parse(const char *text, size_t len, int *out)
{
	size_t i = 0;
	int neg = 0;
	long v = 0;

	if (len > 0 && (text[0] == '-' || text[0] == '+')) {
		neg = text[0] == '-';
		i = 1;
	}
	if (i == len)
		return "bad weight";
	for (; i < len; i++) {
		if (!isdigit((unsigned char)text[i]))
			return "bad weight";
		v = v * 10 + (text[i] - '0');
		if (v > DNSBL_WEIGHT_MAX)
			return "weight out of range -1000..1000";
	}
	*out = (int)(neg ? -v : v);
	return NULL;
}

/* entry_parse - one "zone[=pattern][*weight]" into site */
static const char *
entry_parse(const char *text, size_t len, struct dnsbl_site *site)
{
	const char *star = memchr(text, '*', len);
	const char *eq = memchr(text, '=', len);
	size_t zlen = len;
	const char *why;

	memset(site, 0, sizeof(*site));
	site->weight = 1;
	if (star != NULL) {
		if ((why =
		         weight_parse(star + 1, (size_t)(text + len - star - 1),
		                      &site->weight)) != NULL)
			return why;
		len = (size_t)(star - text);
		zlen = len;
	}
	if (eq != NULL && eq < text + len) {
		zlen = (size_t)(eq - text);
		if ((why = pattern_parse(eq + 1, len - zlen - 1, site)) != NULL)
			return why;
	} else {
		/* No pattern: any code in 127.0.0.0/8. */
		site->filter[0][127 / 8] = (unsigned char)(1u << (127 % 8));
		for (int i = 1; i < 4; i++)
			memset(site->filter[i], 0xff, sizeof(site->filter[i]));
	}
	return zone_parse(text, zlen, site);
}

/* sites_link - entries of one zone share the first one's query */
static void
sites_link(struct dnsbl_sites *s)
{
	for (size_t i = 0; i < s->count; i++) {
		s->site[i].zone_index = (unsigned)i;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(s->site[j].zone, s->site[i].zone) == 0) {
				s->site[i].zone_index = (unsigned)j;
				break;
			}
		}
	}
}

/* dnsbl_sites_parse - the whole option value into a new list */
int
dnsbl_sites_parse(const char *text, struct dnsbl_sites **out, char *err,
                  size_t errlen)
{
	struct dnsbl_sites *s = calloc(1, sizeof(*s));
	const char *p = text;

	*out = NULL;
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, ", \t");
		const char *why;

		if (n == 0) {
			p++;
			continue;
		}
		if (s->count == DNSBL_MAX_SITES) {
			snprintf(err, errlen, "too many entries (at most %d)",
			         DNSBL_MAX_SITES);
			free(s);
			return -1;
		}
		if ((why = entry_parse(p, n, &s->site[s->count])) != NULL) {
			snprintf(err, errlen, "bad entry \"%.*s\": %s",
			         n > 200 ? 200 : (int)n, p, why);
			free(s);
			return -1;
		}
		s->count++;
		p += n;
	}
	if (s->count == 0)
		free(s);
	else {
		sites_link(s);
		*out = s;
	}
	return 0;
}

/* dnsbl_sites_free - release a list */
void
dnsbl_sites_free(struct dnsbl_sites *sites)
{
	free(sites);
}

/* dnsbl_sites_print - "zone=pattern*weight, zone" */
void
dnsbl_sites_print(const struct dnsbl_sites *sites, FILE *out)
{
	for (size_t i = 0; sites != NULL && i < sites->count; i++) {
		const struct dnsbl_site *s = &sites->site[i];

		fprintf(out, "%s%s", i > 0 ? ", " : "", s->zone);
		if (s->pattern[0] != '\0')
			fprintf(out, "=%s", s->pattern);
		if (s->weight != 1)
			fprintf(out, "*%d", s->weight);
	}
}

/* dnsbl_pattern_match - every octet of code is in its octet's set */
int
dnsbl_pattern_match(const struct dnsbl_site *site, uint32_t code)
{
	for (int i = 0; i < 4; i++) {
		unsigned v = (code >> (24 - 8 * i)) & 0xff;

		if (!(site->filter[i][v / 8] & (1u << (v % 8))))
			return 0;
	}
	return 1;
}

static const struct {
	const char *name;
	enum dnsbl_target target;
} target_names[] = {
    {"helo", DNSBL_T_HELO},
    {"mailfrom", DNSBL_T_MAILFROM},
    {"ptr", DNSBL_T_PTR},
    {"ip", DNSBL_T_IP},
};

#define NTARGET_NAMES (sizeof(target_names) / sizeof(target_names[0]))

/* dnsbl_target_name - "helo", "mailfrom", "ptr", "ip" */
const char *
dnsbl_target_name(enum dnsbl_target t)
{
	for (size_t i = 0; i < NTARGET_NAMES; i++)
		if (target_names[i].target == t)
			return target_names[i].name;
	return "?";
}

/* dnsbl_targets_parse - names of RHSBL targets into a mask */
int
dnsbl_targets_parse(const char *text, unsigned *mask, char *bad, size_t badlen)
{
	unsigned m = 0;

	for (const char *p = text; *p != '\0';) {
		size_t n = strcspn(p, ", \t"), i;

		if (n == 0) {
			p++;
			continue;
		}
		for (i = 0; i < NTARGET_NAMES - 1; i++)
			if (strlen(target_names[i].name) == n &&
			    strncasecmp(target_names[i].name, p, n) == 0)
				break;
		if (i == NTARGET_NAMES - 1) {
			snprintf(bad, badlen, "%.*s", n > 64 ? 64 : (int)n, p);
			return -1;
		}
		m |= (unsigned)target_names[i].target;
		p += n;
	}
	*mask = m;
	return 0;
}

/* dnsbl_targets_print - "helo, mailfrom, ptr" */
void
dnsbl_targets_print(unsigned mask, FILE *out)
{
	int n = 0;

	for (size_t i = 0; i < NTARGET_NAMES - 1; i++)
		if (mask & (unsigned)target_names[i].target)
			fprintf(out, "%s%s", n++ ? ", " : "",
			        target_names[i].name);
}
