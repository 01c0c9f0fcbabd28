/*
 * fuzz_rules - libFuzzer target for the rules parser and printer.
 *
 * Parses the input as a rules file; when it parses, prints it to
 * /dev/null, checks that the canonical print parses again, evaluates it
 * at every stage against fixed facts (some temperror, some with CR/LF),
 * and frees everything. Built and run by tests/fuzz/build.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_facts - fixed facts: every third one temperror, strings with CR */
static int
fuzz_facts(void *ctx, const struct fact_def *def, struct fact_value *out)
{
	static const char *const list[] = {"a@b.example", "x\r\ny"};
	size_t i = (size_t)(def - facts_table);

	(void)ctx;
	memset(out, 0, sizeof(*out));
	out->temperror = i % 3 == 2;
	out->result = (enum result)(i % RESULT_COUNT);
	out->str = "host\r\n.dyn.example";
	out->num = (long long)i;
	out->list = list;
	out->nlist = 2;
	netaddr_parse(i % 2 ? "192.0.2.1" : "2001:db8::1", &out->ip);
	return i % 7 == 6 ? -1 : 0;
}

/* fuzz_eval - evaluate at every stage; check the sanitising */
static void
fuzz_eval(const struct ruleset *rs)
{
	struct rules_options opt = {0, 0};
	struct rules_verdict v;
	size_t i;
	int s;

	for (s = 0; s < STAGE_COUNT; s++) {
		opt.on_temperror_accept = s & 1;
		if (rules_evaluate(rs, (enum stage)s, fuzz_facts, NULL, &opt,
		                   &v) != 0)
			continue;
		for (i = 0; i < v.nheaders; i++)
			if (strpbrk(v.headers[i].value, "\r\n") != NULL)
				abort();
		if (v.text != NULL && strpbrk(v.text, "\r\n") != NULL)
			abort();
		rules_verdict_free(&v);
	}
}

/* fuzz_reparse - the canonical print must parse again */
static void
fuzz_reparse(const struct ruleset *rs)
{
	char *buf = rules_print_text(rs);
	struct ruleset *again;

	if (buf == NULL)
		return;
	again = rules_parse(buf, strlen(buf), "reprint", NULL);
	if (again == NULL)
		abort();
	rules_unref(again);
	free(buf);
}

/* LLVMFuzzerTestOneInput - one input */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct rules_error err;
	struct ruleset *rs;

	if (null == NULL && (null = fopen("/dev/null", "w")) == NULL)
		return 0;
	rs = rules_parse((const char *)data, size, "fuzz", &err);
	if (rs != NULL) {
		rules_print(rs, null);
		fuzz_reparse(rs);
		fuzz_eval(rs);
	} else {
		char buf[1024];

		rules_error_format(&err, buf, sizeof(buf));
	}
	rules_unref(rs);
	return 0;
}
