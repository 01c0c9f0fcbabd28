/*
 * facts - the registry of fact names shared by the checks and the rules,
 * and the names of results and stages.
 *
 * Functions:
 *   result_name, result_parse  enum result <-> "pass", "fail", ...
 *   stage_name                 enum stage -> "connect", "helo", ...
 *   facts_lookup               fact name -> registry row, or NULL
 *
 * To add a fact, append a row to facts_table (and teach the milter to
 * provide it): the rules parser, printer, evaluator and the manual page
 * all read this one table. The "score" row is a pseudo-fact that the
 * evaluator supplies itself.
 */
#include <string.h>
#include <strings.h>

#include "rules/facts.h"

const struct fact_def facts_table[] = {
    {"client.ip", FACT_IP, STAGE_CONNECT, "the client's IP address"},
    {"client.ptr", FACT_STRING, STAGE_CONNECT,
     "the client's verified reverse DNS name (absent when none)"},
    {"client.connections", FACT_NUMBER, STAGE_CONNECT,
     "connections from the client's IP address open now"},
    {"iprev", FACT_RESULT, STAGE_CONNECT,
     "reverse DNS check of the client IP (RFC 8601 iprev)"},
    {"helo", FACT_STRING, STAGE_HELO,
     "the HELO/EHLO name as sent (absent when none)"},
    {"helo.syntax", FACT_RESULT, STAGE_HELO,
     "the HELO name is a syntactically valid hostname or literal"},
    {"helo.fqdn", FACT_RESULT, STAGE_HELO,
     "the HELO name is a fully qualified domain name"},
    {"helo.literal", FACT_RESULT, STAGE_HELO,
     "an address literal HELO matches the client IP"},
    {"helo.resolves", FACT_RESULT, STAGE_HELO,
     "the HELO name has A or AAAA records"},
    {"helo.matches_ip", FACT_RESULT, STAGE_HELO,
     "the HELO name resolves to the client IP"},
    {"helo.matches_ptr", FACT_RESULT, STAGE_HELO,
     "the HELO name equals the verified PTR name"},
    {"helo.claims_local", FACT_RESULT, STAGE_HELO,
     "pass when the HELO name claims to be this host"},
    {"tls", FACT_STRING, STAGE_HELO,
     "TLS protocol version (absent without TLS)"},
    {"mailfrom", FACT_STRING, STAGE_MAIL,
     "MAIL FROM address without <>, \"\" for the null sender"},
    {"mailfrom.domain", FACT_STRING, STAGE_MAIL,
     "domain of the MAIL FROM address"},
    {"auth", FACT_STRING, STAGE_MAIL,
     "SMTP AUTH user name (absent when not authenticated)"},
    {"rcpt", FACT_STRLIST, STAGE_RCPT, "the RCPT TO addresses so far"},
    {"score", FACT_NUMBER, STAGE_CONNECT,
     "sum of the score actions of the rules matched so far"},
    {"dnsbl.score", FACT_NUMBER, STAGE_CONNECT,
     "sum of the weights of the DNSBL lists listing the client IP "
     "(lists that answered)"},
    {"dnsbl.listed", FACT_STRLIST, STAGE_CONNECT,
     "DNSBL zones listing the client IP"},
    {"dnsbl.complete", FACT_BOOL, STAGE_CONNECT,
     "every DNSBL list answered (no timeout or error)"},
    {"dnsbl.failed", FACT_STRLIST, STAGE_CONNECT,
     "DNSBL zones that timed out, failed or answered wrongly"},
    {"dnsbl.reason", FACT_STRING, STAGE_CONNECT,
     "TXT reasons of the listing zones (fetched when read)"},
    {"rhsbl.score", FACT_NUMBER, STAGE_MAIL,
     "sum of the weights of the domain lists listing the HELO, MAIL "
     "FROM domain or PTR name"},
    {"rhsbl.listed", FACT_STRLIST, STAGE_MAIL,
     "domain-list zones with a listing"},
    {"rhsbl.complete", FACT_BOOL, STAGE_MAIL,
     "every domain-list lookup answered"},
    {"rhsbl.failed", FACT_STRLIST, STAGE_MAIL,
     "domain-list zones that timed out or failed"},
    {"rhsbl.reason", FACT_STRING, STAGE_MAIL,
     "TXT reasons of the listing domain lists"},
    {"dkim", FACT_RESULT, STAGE_EOM,
     "best DKIM result: pass > temperror > policy > fail > neutral > "
     "permerror > none"},
    {"dkim.domains", FACT_STRLIST, STAGE_EOM,
     "d= of the DKIM signatures that passed"},
    {"dkim.signatures", FACT_NUMBER, STAGE_EOM,
     "DKIM signatures verified and reported"},
    {"spf", FACT_RESULT, STAGE_MAIL,
     "SPF result for MAIL FROM (postmaster@HELO for <>), RFC 7208"},
    {"spf.helo", FACT_RESULT, STAGE_HELO,
     "SPF result for the HELO identity, RFC 7208"},
    {"spf.domain", FACT_STRING, STAGE_MAIL,
     "the domain whose SPF record decided the spf fact"},
    {"spf.explanation", FACT_STRING, STAGE_MAIL,
     "the exp= text of an SPF fail (absent when none)"},
};

const size_t facts_count = sizeof(facts_table) / sizeof(facts_table[0]);

static const char *const result_names[RESULT_COUNT] = {
    [RESULT_NONE] = "none",           [RESULT_PASS] = "pass",
    [RESULT_FAIL] = "fail",           [RESULT_SOFTFAIL] = "softfail",
    [RESULT_NEUTRAL] = "neutral",     [RESULT_POLICY] = "policy",
    [RESULT_TEMPERROR] = "temperror", [RESULT_PERMERROR] = "permerror",
};

static const char *const stage_names[STAGE_COUNT] = {
    [STAGE_CONNECT] = "connect", [STAGE_HELO] = "helo", [STAGE_MAIL] = "mail",
    [STAGE_RCPT] = "rcpt",       [STAGE_EOM] = "eom",
};

/* result_name - the RFC 8601 name of a result */
const char *
result_name(enum result r)
{
	if ((unsigned)r >= RESULT_COUNT)
		return "?";
	return result_names[r];
}

/* result_parse - a result name (case-insensitive) to enum result */
int
result_parse(const char *text, enum result *out)
{
	unsigned i;

	for (i = 0; i < RESULT_COUNT; i++) {
		if (strcasecmp(text, result_names[i]) == 0) {
			*out = (enum result)i;
			return 0;
		}
	}
	return -1;
}

/* stage_name - the name of an SMTP stage */
const char *
stage_name(enum stage s)
{
	if ((unsigned)s >= STAGE_COUNT)
		return "?";
	return stage_names[s];
}

/* facts_lookup - the registry row of a fact name, or NULL */
const struct fact_def *
facts_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < facts_count; i++)
		if (strcmp(facts_table[i].name, name) == 0)
			return &facts_table[i];
	return NULL;
}
