/*
 * facts - the vocabulary shared by the checks and the rules: result
 * values, fact types, SMTP stages, and the one registry of fact names.
 *
 * Checks (in milter/) produce facts; rules (here) consume them. Nothing in
 * this header knows libmilter or DNS.
 */
#ifndef MAILVET_FACTS_H
#define MAILVET_FACTS_H

#include <stddef.h>

#include "lib/netaddr.h"

/* Results per RFC 8601 / RFC 7208 / RFC 6376; "policy" for DKIM. */
enum result {
	RESULT_NONE = 0,
	RESULT_PASS,
	RESULT_FAIL,
	RESULT_SOFTFAIL,
	RESULT_NEUTRAL,
	RESULT_POLICY,
	RESULT_TEMPERROR,
	RESULT_PERMERROR,
	RESULT_COUNT
};

const char *result_name(enum result r);               /* "pass" ... */
int result_parse(const char *text, enum result *out); /* 0 ok, -1 */

enum fact_type {
	FACT_RESULT,  /* one of enum result */
	FACT_STRING,  /* text, or absent ("none") */
	FACT_NUMBER,  /* integer */
	FACT_BOOL,    /* yes / no */
	FACT_IP,      /* an address */
	FACT_STRLIST, /* list of texts (recipients, list names, domains) */
};

/* SMTP stages, in order; a fact is known from its stage on. */
enum stage {
	STAGE_CONNECT,
	STAGE_HELO,
	STAGE_MAIL,
	STAGE_RCPT,
	STAGE_EOM,
	STAGE_COUNT
};

const char *stage_name(enum stage s);

/*
 * Every fact, in registry order: facts_table[id] is its row, and a fact
 * provider may index its own table by it (fact_id_of).
 */
enum fact_id {
	FACT_ID_CLIENT_IP,
	FACT_ID_CLIENT_PTR,
	FACT_ID_CLIENT_CONNECTIONS,
	FACT_ID_IPREV,
	FACT_ID_HELO,
	FACT_ID_HELO_SYNTAX,
	FACT_ID_HELO_FQDN,
	FACT_ID_HELO_LITERAL,
	FACT_ID_HELO_RESOLVES,
	FACT_ID_HELO_MATCHES_IP,
	FACT_ID_HELO_MATCHES_PTR,
	FACT_ID_HELO_CLAIMS_LOCAL,
	FACT_ID_TLS,
	FACT_ID_MAILFROM,
	FACT_ID_MAILFROM_DOMAIN,
	FACT_ID_AUTH,
	FACT_ID_RCPT,
	FACT_ID_SCORE,
	FACT_ID_DNSBL_SCORE,
	FACT_ID_DNSBL_LISTED,
	FACT_ID_DNSBL_COMPLETE,
	FACT_ID_DNSBL_FAILED,
	FACT_ID_DNSBL_REASON,
	FACT_ID_RHSBL_SCORE,
	FACT_ID_RHSBL_LISTED,
	FACT_ID_RHSBL_COMPLETE,
	FACT_ID_RHSBL_FAILED,
	FACT_ID_RHSBL_REASON,
	FACT_ID_DKIM,
	FACT_ID_DKIM_DOMAINS,
	FACT_ID_DKIM_SIGNATURES,
	FACT_ID_SPF,
	FACT_ID_SPF_HELO,
	FACT_ID_SPF_DOMAIN,
	FACT_ID_SPF_EXPLANATION,
	FACT_ID_COUNT
};

struct fact_def {
	const char *name; /* "iprev", "helo.matches_ip", ... */
	enum fact_type type;
	enum stage stage; /* earliest stage at which it is known */
	const char *doc;  /* one line for mailvet.rules(5) */
};

/*
 * A fact's value as handed to the evaluator. temperror set means the
 * check behind it could not decide (DNS trouble): any comparison on it is
 * unknown, except an explicit "is temperror". For FACT_RESULT facts the
 * result field carries RESULT_TEMPERROR too. absent means "none" (no HELO,
 * not authenticated, no PTR name...). Pointers belong to the provider and
 * stay valid for the whole evaluation.
 */
struct fact_value {
	int temperror;
	int absent;
	enum result result;
	const char *str;
	long long num;
	int boolean;
	struct netaddr ip;
	const char *const *list;
	size_t nlist;
};

/* The registry: one row per fact, in rules/facts.c. */
extern const struct fact_def facts_table[];
extern const size_t facts_count;

const struct fact_def *facts_lookup(const char *name);

/* fact_id_of - the id of a registry row */
enum fact_id fact_id_of(const struct fact_def *def);

#endif
