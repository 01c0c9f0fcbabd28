/*
 * facts - the registry of fact names shared by the checks and the rules,
 * and the names of results and stages.
 *
 * Functions:
 *   result_name, result_parse  enum result <-> "pass", "fail", ...
 *   stage_name                 enum stage -> "connect", "helo", ...
 *   facts_lookup               fact name -> registry row, or NULL
 *
 * To add a fact, add its id to enum fact_id (facts.h), its row to
 * facts_table and its getter to the milter's table (session_facts.c):
 * the rules parser, printer, evaluator and the manual page all read this
 * one table, indexed by fact id. The "score" row is a pseudo-fact that the
 * evaluator supplies itself.
 */
#include <string.h>
#include <strings.h>

#include "rules/facts.h"

const struct fact_def facts_table[] = {
    [FACT_ID_CLIENT_IP] = {"client.ip", FACT_IP, STAGE_CONNECT,
                           "the client's IP address"},
    [FACT_ID_CLIENT_PTR] =
        {"client.ptr", FACT_STRING, STAGE_CONNECT,
         "the client's verified reverse DNS name (absent when none)"},
    [FACT_ID_CLIENT_CONNECTIONS] =
        {"client.connections", FACT_NUMBER, STAGE_CONNECT,
         "connections from the client's IP address open now"},
    [FACT_ID_IPREV] = {"iprev", FACT_RESULT, STAGE_CONNECT,
                       "reverse DNS check of the client IP (RFC 8601 iprev)"},
    [FACT_ID_HELO] = {"helo", FACT_STRING, STAGE_HELO,
                      "the HELO/EHLO name as sent (absent when none)"},
    [FACT_ID_HELO_SYNTAX] =
        {"helo.syntax", FACT_RESULT, STAGE_HELO,
         "the HELO name is a syntactically valid hostname or literal"},
    [FACT_ID_HELO_FQDN] = {"helo.fqdn", FACT_RESULT, STAGE_HELO,
                           "the HELO name is a fully qualified domain name"},
    [FACT_ID_HELO_LITERAL] = {"helo.literal", FACT_RESULT, STAGE_HELO,
                              "an address literal HELO matches the client IP"},
    [FACT_ID_HELO_RESOLVES] = {"helo.resolves", FACT_RESULT, STAGE_HELO,
                               "the HELO name has A or AAAA records"},
    [FACT_ID_HELO_MATCHES_IP] = {"helo.matches_ip", FACT_RESULT, STAGE_HELO,
                                 "the HELO name resolves to the client IP"},
    [FACT_ID_HELO_MATCHES_PTR] = {"helo.matches_ptr", FACT_RESULT, STAGE_HELO,
                                  "the HELO name equals the verified PTR name"},
    [FACT_ID_HELO_CLAIMS_LOCAL] =
        {"helo.claims_local", FACT_RESULT, STAGE_HELO,
         "pass when the HELO name claims to be this host"},
    [FACT_ID_TLS] = {"tls", FACT_STRING, STAGE_HELO,
                     "TLS protocol version (absent without TLS)"},
    [FACT_ID_MAILFROM] =
        {"mailfrom", FACT_STRING, STAGE_MAIL,
         "MAIL FROM address without <>, \"\" for the null sender"},
    [FACT_ID_MAILFROM_DOMAIN] = {"mailfrom.domain", FACT_STRING, STAGE_MAIL,
                                 "domain of the MAIL FROM address"},
    [FACT_ID_AUTH] = {"auth", FACT_STRING, STAGE_MAIL,
                      "SMTP AUTH user name (absent when not authenticated)"},
    [FACT_ID_RCPT] = {"rcpt", FACT_STRLIST, STAGE_RCPT,
                      "the RCPT TO addresses so far"},
    [FACT_ID_SCORE] = {"score", FACT_NUMBER, STAGE_CONNECT,
                       "sum of the score actions of the rules matched so far"},
    [FACT_ID_DNSBL_SCORE] =
        {"dnsbl.score", FACT_NUMBER, STAGE_CONNECT,
         "sum of the weights of the DNSBL lists listing the client IP "
         "(lists that answered)"},
    [FACT_ID_DNSBL_LISTED] = {"dnsbl.listed", FACT_STRLIST, STAGE_CONNECT,
                              "DNSBL zones listing the client IP"},
    [FACT_ID_DNSBL_COMPLETE] =
        {"dnsbl.complete", FACT_BOOL, STAGE_CONNECT,
         "every DNSBL list answered (no timeout or error)"},
    [FACT_ID_DNSBL_FAILED] =
        {"dnsbl.failed", FACT_STRLIST, STAGE_CONNECT,
         "DNSBL zones that timed out, failed or answered wrongly"},
    [FACT_ID_DNSBL_REASON] =
        {"dnsbl.reason", FACT_STRING, STAGE_CONNECT,
         "TXT reasons of the listing zones (fetched when read)"},
    [FACT_ID_RHSBL_SCORE] =
        {"rhsbl.score", FACT_NUMBER, STAGE_MAIL,
         "sum of the weights of the domain lists listing the HELO, MAIL "
         "FROM domain or PTR name"},
    [FACT_ID_RHSBL_LISTED] = {"rhsbl.listed", FACT_STRLIST, STAGE_MAIL,
                              "domain-list zones with a listing"},
    [FACT_ID_RHSBL_COMPLETE] = {"rhsbl.complete", FACT_BOOL, STAGE_MAIL,
                                "every domain-list lookup answered"},
    [FACT_ID_RHSBL_FAILED] = {"rhsbl.failed", FACT_STRLIST, STAGE_MAIL,
                              "domain-list zones that timed out or failed"},
    [FACT_ID_RHSBL_REASON] = {"rhsbl.reason", FACT_STRING, STAGE_MAIL,
                              "TXT reasons of the listing domain lists"},
    [FACT_ID_DKIM] =
        {"dkim", FACT_RESULT, STAGE_EOM,
         "best DKIM result: pass > temperror > policy > fail > neutral > "
         "permerror > none"},
    [FACT_ID_DKIM_DOMAINS] = {"dkim.domains", FACT_STRLIST, STAGE_EOM,
                              "d= of the DKIM signatures that passed"},
    [FACT_ID_DKIM_SIGNATURES] = {"dkim.signatures", FACT_NUMBER, STAGE_EOM,
                                 "DKIM signatures verified and reported"},
    [FACT_ID_SPF] =
        {"spf", FACT_RESULT, STAGE_MAIL,
         "SPF result for MAIL FROM (postmaster@HELO for <>), RFC 7208"},
    [FACT_ID_SPF_HELO] = {"spf.helo", FACT_RESULT, STAGE_HELO,
                          "SPF result for the HELO identity, RFC 7208"},
    [FACT_ID_SPF_DOMAIN] = {"spf.domain", FACT_STRING, STAGE_MAIL,
                            "the domain whose SPF record decided the spf fact"},
    [FACT_ID_SPF_EXPLANATION] =
        {"spf.explanation", FACT_STRING, STAGE_MAIL,
         "the exp= text of an SPF fail (absent when none)"},
};

const size_t facts_count = sizeof(facts_table) / sizeof(facts_table[0]);

/* A row per fact id, no more: a missing row leaves a NULL name. */
_Static_assert(sizeof(facts_table) / sizeof(facts_table[0]) == FACT_ID_COUNT,
               "facts_table has one row per enum fact_id");

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

/* fact_id_of - see facts.h */
enum fact_id
fact_id_of(const struct fact_def *def)
{
	return (enum fact_id)(def - facts_table);
}
