/*
 * parse - read DNS answer packets: record sets, outcome, caching lifetime
 *
 * Every packet goes through libresolv's ns_initparse(), which walks all
 * sections against the packet's end before anything is trusted, and then
 * through ns_parserr()/ns_name_uncompress(), which are bounded by the same
 * end. RDATA is only read within the record's own rdlen.
 *
 * Functions:
 *   dns_rrset_parse    answer records of one type, following a CNAME chain
 *   dns_rrset_free     release what dns_rrset_parse allocated
 *   dns_classify       packet -> ANSWER / NXDOMAIN / NODATA / TEMPERROR
 *   dns_packet_ttl     caching lifetime of a classified packet
 *   dns_name_valid     could this presentation name exist at all
 *
 * Ownership: a dns_rrset owns its record array and every TXT text.
 *
 * Diagnostics: dns_rrset_parse returns -1 for a malformed packet or a
 * record whose RDATA does not fit its type, and on memory shortage.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter/dns/dns_internal.h"

/* The owner names whose records answer the question: qname + CNAMEs. */
struct dns_chain {
	char names[DNS_CNAME_CHAIN_MAX + 1][DNS_NAME_MAX];
	size_t count;
};

typedef int rdata_decoder(const ns_msg *msg, const ns_rr *rr,
                          struct dns_rr *out);

static rdata_decoder decode_a, decode_aaaa, decode_name, decode_mx, decode_txt;

static const struct {
	int type;
	rdata_decoder *decode;
} decoders[] = {
    {ns_t_a, decode_a},      {ns_t_aaaa, decode_aaaa},
    {ns_t_ptr, decode_name}, {ns_t_cname, decode_name},
    {ns_t_ns, decode_name},  {ns_t_mx, decode_mx},
    {ns_t_txt, decode_txt},
};

static const struct {
	int rcode;
	const char *reason;
} rcode_names[] = {
    {ns_r_formerr, "FORMERR"},   {ns_r_servfail, "SERVFAIL"},
    {ns_r_notimpl, "NOTIMP"},    {ns_r_refused, "REFUSED"},
    {ns_r_yxdomain, "YXDOMAIN"}, {ns_r_yxrrset, "YXRRSET"},
    {ns_r_nxrrset, "NXRRSET"},   {ns_r_notauth, "NOTAUTH"},
    {ns_r_notzone, "NOTZONE"},
};

/* copy_name - bounded copy; returns -1 when src does not fit */
static int
copy_name(char *dst, size_t len, const char *src)
{
	int n;

	n = snprintf(dst, len, "%s", src);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* decode_a - RDATA of an A record */
static int
decode_a(const ns_msg *msg, const ns_rr *rr, struct dns_rr *out)
{
	(void)msg;
	if (ns_rr_rdlen(*rr) != 4)
		return -1;
	out->addr.family = AF_INET;
	memcpy(out->addr.bytes, ns_rr_rdata(*rr), 4);
	return 0;
}

/* decode_aaaa - RDATA of an AAAA record, IPv4-mapped folded to IPv4 */
static int
decode_aaaa(const ns_msg *msg, const ns_rr *rr, struct dns_rr *out)
{
	struct sockaddr_in6 sin6;

	(void)msg;
	if (ns_rr_rdlen(*rr) != 16)
		return -1;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	memcpy(&sin6.sin6_addr, ns_rr_rdata(*rr), 16);
	return netaddr_from_sockaddr((const struct sockaddr *)&sin6,
	                             &out->addr);
}

/* uncompress_at - a domain name at p inside rr's RDATA */
static int
uncompress_at(const ns_msg *msg, const ns_rr *rr, const unsigned char *p,
              char *buf, size_t len)
{
	const unsigned char *end = ns_rr_rdata(*rr) + ns_rr_rdlen(*rr);
	int n;

	if (p >= end)
		return -1;
	n = ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg), p, buf,
	                       len);
	if (n < 0 || p + n != end)
		return -1;
	return 0;
}

/* decode_name - RDATA that is one domain name (PTR, CNAME, NS) */
static int
decode_name(const ns_msg *msg, const ns_rr *rr, struct dns_rr *out)
{
	return uncompress_at(msg, rr, ns_rr_rdata(*rr), out->name,
	                     sizeof(out->name));
}

/* decode_mx - preference and exchange of an MX record */
static int
decode_mx(const ns_msg *msg, const ns_rr *rr, struct dns_rr *out)
{
	if (ns_rr_rdlen(*rr) < 3)
		return -1;
	out->preference = ns_get16(ns_rr_rdata(*rr));
	return uncompress_at(msg, rr, ns_rr_rdata(*rr) + 2, out->name,
	                     sizeof(out->name));
}

/* decode_txt - join the character-strings of a TXT record */
static int
decode_txt(const ns_msg *msg, const ns_rr *rr, struct dns_rr *out)
{
	const unsigned char *p = ns_rr_rdata(*rr);
	size_t rdlen = ns_rr_rdlen(*rr), pos = 0, n = 0, seg;

	(void)msg;
	if ((out->text = malloc(rdlen + 1)) == NULL)
		return -1;
	while (pos < rdlen) {
		seg = p[pos++];
		if (seg > rdlen - pos)
			return -1; /* text freed with the rrset */
		memcpy(out->text + n, p + pos, seg);
		n += seg;
		pos += seg;
	}
	out->text[n] = '\0';
	out->text_len = n;
	return 0;
}

/* decode_rr - fill out from rr; unknown types keep only type and TTL */
static int
decode_rr(const ns_msg *msg, const ns_rr *rr, struct dns_rr *out)
{
	size_t i;

	out->type = (int)ns_rr_type(*rr);
	out->ttl = ns_rr_ttl(*rr);
	for (i = 0; i < sizeof(decoders) / sizeof(decoders[0]); i++)
		if (decoders[i].type == out->type)
			return decoders[i].decode(msg, rr, out);
	return 0;
}

/* read_question - the single question of msg */
static int
read_question(ns_msg *msg, char *qname, size_t len, int *qtype)
{
	ns_rr rr;

	if (ns_msg_count(*msg, ns_s_qd) != 1 ||
	    ns_parserr(msg, ns_s_qd, 0, &rr) < 0)
		return -1;
	*qtype = (int)ns_rr_type(rr);
	return copy_name(qname, len, ns_rr_name(rr));
}

/* chain_has - whether name is the qname or a CNAME target reached */
static int
chain_has(const struct dns_chain *chain, const char *name)
{
	size_t i;

	for (i = 0; i < chain->count; i++)
		if (strcasecmp(chain->names[i], name) == 0)
			return 1;
	return 0;
}

/* chain_next - append the CNAME target of the chain's last name, if any */
static int
chain_next(ns_msg *msg, struct dns_chain *chain)
{
	const char *last = chain->names[chain->count - 1];
	char target[DNS_NAME_MAX];
	struct dns_rr tmp;
	ns_rr rr;
	int i;

	for (i = 0; i < ns_msg_count(*msg, ns_s_an); i++) {
		if (ns_parserr(msg, ns_s_an, i, &rr) < 0)
			return -1;
		if (ns_rr_type(rr) != ns_t_cname ||
		    strcasecmp(ns_rr_name(rr), last) != 0)
			continue;
		if (decode_name(msg, &rr, &tmp) < 0)
			return -1;
		if (copy_name(target, sizeof(target), tmp.name) < 0 ||
		    chain_has(chain, target))
			return 0; /* a loop ends the chain */
		memcpy(chain->names[chain->count++], target, sizeof(target));
		return 1;
	}
	return 0;
}

/* chain_build - the qname and the CNAME chain starting from it */
static int
chain_build(ns_msg *msg, int type, struct dns_chain *chain)
{
	int qtype, r;

	chain->count = 0;
	if (read_question(msg, chain->names[0], sizeof(chain->names[0]),
	                  &qtype) < 0)
		return -1;
	chain->count = 1;
	if (type == ns_t_cname)
		return 0;
	while (chain->count <= DNS_CNAME_CHAIN_MAX) {
		if ((r = chain_next(msg, chain)) < 0)
			return -1;
		if (r == 0)
			break;
	}
	return 0;
}

/* rr_matches - an answer record of the wanted type owned by the chain */
static int
rr_matches(const ns_rr *rr, int type, const struct dns_chain *chain)
{
	return (int)ns_rr_type(*rr) == type && ns_rr_class(*rr) == ns_c_in &&
	       chain_has(chain, ns_rr_name(*rr));
}

/* rrset_fill - decode the matching answer records into out */
static int
rrset_fill(ns_msg *msg, int type, const struct dns_chain *chain,
           struct dns_rrset *out)
{
	size_t n = 0, max;
	ns_rr rr;
	int i;

	max = (size_t)ns_msg_count(*msg, ns_s_an);
	if ((out->rr = calloc(max == 0 ? 1 : max, sizeof(*out->rr))) == NULL)
		return -1;
	for (i = 0; i < ns_msg_count(*msg, ns_s_an); i++) {
		if (ns_parserr(msg, ns_s_an, i, &rr) < 0)
			return -1;
		if (!rr_matches(&rr, type, chain))
			continue;
		out->count = n + 1; /* so a failure frees its text */
		if (decode_rr(msg, &rr, &out->rr[n]) < 0)
			return -1;
		n++;
	}
	return 0;
}

/*
 * dns_rrset_parse - the answer records of type for the packet's question,
 * following the CNAME chain. Returns 0 (count may be 0) or -1.
 */
int
dns_rrset_parse(const unsigned char *packet, size_t len, int type,
                struct dns_rrset *out)
{
	struct dns_chain chain;
	ns_msg msg;

	memset(out, 0, sizeof(*out));
	if (packet == NULL || len > NS_MAXMSG ||
	    ns_initparse(packet, (int)len, &msg) < 0 ||
	    chain_build(&msg, type, &chain) < 0)
		return -1;
	if (rrset_fill(&msg, type, &chain, out) < 0) {
		dns_rrset_free(out);
		return -1;
	}
	return 0;
}

/* dns_rrset_free - free the records and their texts; set stays usable */
void
dns_rrset_free(struct dns_rrset *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; set->rr != NULL && i < set->count; i++)
		free(set->rr[i].text);
	free(set->rr);
	set->rr = NULL;
	set->count = 0;
}

/* set_outcome - fill the status and reason of res */
static void
set_outcome(struct dns_result *res, enum dns_status status, const char *reason)
{
	res->status = status;
	res->reason = reason;
}

/* classify_noerror - ANSWER when a record of qtype is there, else NODATA */
static void
classify_noerror(const unsigned char *packet, size_t len, int qtype,
                 struct dns_result *res)
{
	struct dns_rrset set;

	if (dns_rrset_parse(packet, len, qtype, &set) < 0) {
		set_outcome(res, DNS_TEMPERROR, "malformed");
		return;
	}
	if (set.count > 0)
		set_outcome(res, DNS_ANSWER, "answer");
	else
		set_outcome(res, DNS_NODATA, "NODATA");
	dns_rrset_free(&set);
}

/* classify_rcode - outcome of an rcode other than NOERROR */
static void
classify_rcode(int rcode, struct dns_result *res)
{
	size_t i;

	if (rcode == ns_r_nxdomain) {
		set_outcome(res, DNS_NXDOMAIN, "NXDOMAIN");
		return;
	}
	set_outcome(res, DNS_TEMPERROR, "rcode");
	for (i = 0; i < sizeof(rcode_names) / sizeof(rcode_names[0]); i++)
		if (rcode_names[i].rcode == rcode)
			res->reason = rcode_names[i].reason;
}

/* lower - ASCII-only case folding, as DNS compares names */
static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* same_name - two presentation names equal in wire form, ignoring case */
static int
same_name(const char *a, const char *b)
{
	unsigned char wa[NS_MAXCDNAME], wb[NS_MAXCDNAME];
	size_t i, n;

	if (ns_name_pton(a, wa, sizeof(wa)) < 0 ||
	    ns_name_pton(b, wb, sizeof(wb)) < 0)
		return 0;
	for (i = 0; i < sizeof(wa); i += n + 1) {
		n = wa[i];
		if (n != wb[i] || n > 63 || i + n >= sizeof(wa))
			return 0;
		if (n == 0)
			return 1;
		while (n > 0 && lower(wa[i + n]) == lower(wb[i + n]))
			n--;
		if (n > 0)
			return 0;
		n = wa[i];
	}
	return 0;
}

/*
 * dns_classify - outcome of an answer packet to (qname, qtype). A packet
 * that does not parse, is not a response, or answers another question is
 * TEMPERROR ("malformed", "mismatch"): it says nothing about the name.
 */
void
dns_classify(const unsigned char *packet, size_t len, const char *qname,
             int qtype, struct dns_result *res)
{
	char name[DNS_NAME_MAX];
	ns_msg msg;
	int type;

	res->rcode = -1;
	if (packet == NULL || len > NS_MAXMSG ||
	    ns_initparse(packet, (int)len, &msg) < 0 ||
	    !ns_msg_getflag(msg, ns_f_qr) ||
	    read_question(&msg, name, sizeof(name), &type) < 0) {
		set_outcome(res, DNS_TEMPERROR, "malformed");
		return;
	}
	if (type != qtype || !same_name(name, qname)) {
		set_outcome(res, DNS_TEMPERROR, "mismatch");
		return;
	}
	res->rcode = ns_msg_getflag(msg, ns_f_rcode);
	if (res->rcode == ns_r_noerror)
		classify_noerror(packet, len, qtype, res);
	else
		classify_rcode(res->rcode, res);
}

/* soa_ttl - min(TTL, MINIMUM) of an SOA record, or -1 if malformed */
static long
soa_ttl(const ns_rr *rr)
{
	const unsigned char *p = ns_rr_rdata(*rr);
	const unsigned char *end = p + ns_rr_rdlen(*rr);
	unsigned long minimum;
	int i, n;

	for (i = 0; i < 2; i++) { /* MNAME, RNAME */
		if ((n = dn_skipname(p, end)) < 0)
			return -1;
		p += n;
	}
	if (end - p != 20)
		return -1;
	minimum = ns_get32(p + 16);
	return (long)(minimum < ns_rr_ttl(*rr) ? minimum : ns_rr_ttl(*rr));
}

/* min_section_ttl - smallest TTL of the answers, or the SOA's for NX */
static long
min_section_ttl(ns_msg *msg, ns_sect sect)
{
	long best = -1, t;
	ns_rr rr;
	int i;

	for (i = 0; i < ns_msg_count(*msg, sect); i++) {
		if (ns_parserr(msg, sect, i, &rr) < 0)
			return -1;
		if (sect == ns_s_ns && ns_rr_type(rr) != ns_t_soa)
			continue;
		t = sect == ns_s_ns ? soa_ttl(&rr) : (long)ns_rr_ttl(rr);
		if (t < 0)
			return -1;
		if (best < 0 || t < best)
			best = t;
	}
	if (best < 0 && sect == ns_s_ns)
		best = DNS_NEG_TTL_DEFAULT;
	return best;
}

/*
 * dns_packet_ttl - caching lifetime in seconds of a classified packet;
 * 0 = do not cache.
 */
unsigned
dns_packet_ttl(const unsigned char *packet, size_t len, enum dns_status status)
{
	ns_msg msg;
	long ttl;

	if (status == DNS_TEMPERROR || packet == NULL || len > NS_MAXMSG ||
	    ns_initparse(packet, (int)len, &msg) < 0)
		return 0;
	ttl = min_section_ttl(&msg, status == DNS_ANSWER ? ns_s_an : ns_s_ns);
	return ttl < 0 ? 0 : (unsigned)ttl;
}

/*
 * dns_name_valid - 1 when name could exist: 1..253 octets, labels of
 * 1..63, no space, control, DEL or backslash (c-ares would read escapes).
 */
int
dns_name_valid(const char *name)
{
	size_t total = 0, label = 0;
	const unsigned char *p;

	if (name == NULL || *name == '\0')
		return 0;
	for (p = (const unsigned char *)name; *p != '\0'; p++, total++) {
		if (*p <= ' ' || *p == 0x7f || *p == '\\')
			return 0;
		if (*p != '.') {
			if (++label > 63)
				return 0;
			continue;
		}
		if (label == 0)
			return 0; /* empty label */
		label = 0;
	}
	return total <= 253 && label > 0;
}
