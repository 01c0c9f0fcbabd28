/*
 * test_facts - the fact registry and the milter's getters agree
 *
 * facts_table (rules/facts.c) and the getter table (milter/
 * session_facts.c) are both indexed by enum fact_id; the compiler checks
 * their lengths. This checks what it cannot: every row is filled in,
 * names are unique and found again by name, and every fact but the
 * evaluator's own "score" has a getter.
 */
#include <string.h>

#include "milter/session.h"
#include "rules/facts.h"
#include "tests/unit/testlib.h"

int
main(void)
{
	CHECK_INT(facts_count, FACT_ID_COUNT, "rows");
	for (size_t i = 0; i < facts_count; i++) {
		const struct fact_def *def = &facts_table[i];
		const char *name = def->name ? def->name : "(null)";

		CHECK(def->name != NULL && def->doc != NULL,
		      "row %zu is filled in", i);
		if (def->name == NULL)
			continue;
		CHECK(facts_lookup(def->name) == def, "%s found by name", name);
		CHECK_INT(fact_id_of(def), i, name);
		if (strcmp(def->name, "score") == 0)
			CHECK(!session_fact_known(def),
			      "score is the evaluator's, not a getter's");
		else
			CHECK(session_fact_known(def), "%s has a getter", name);
	}
	CHECK_STR(facts_table[FACT_ID_HELO_SYNTAX].name, "helo.syntax",
	          "an id names its row");
	CHECK_STR(facts_table[FACT_ID_SPF_EXPLANATION].name, "spf.explanation",
	          "the last id names its row");
	return test_summary("test_facts");
}
