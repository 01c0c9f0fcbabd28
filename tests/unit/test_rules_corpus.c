/*
 * test_rules_corpus - replay the fuzz corpus (tests/fuzz/corpus/rules)
 * and every golden .rules file through the parser and printer. It checks
 * that nothing crashes and that whatever parses prints a canonical form
 * that parses again to the same print; its real value is under the
 * sanitizer build (make test runs it with ASan and UBSan).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "tests/unit/testlib.h"

/* corpus_one - parse a file; if it parses, print, reparse, compare */
static int
corpus_one(const char *path)
{
	struct rules_error err;
	struct ruleset *rs = rules_load(path, &err), *again;
	char fmt[1024], *a, *b = NULL;

	if (rs == NULL) {
		rules_error_format(&err, fmt, sizeof(fmt));
		CHECK(err.message[0] != '\0', "%s: error without message",
		      path);
		return 0;
	}
	a = rules_print_text(rs);
	again = a != NULL ? rules_parse(a, strlen(a), path, &err) : NULL;
	CHECK(again != NULL, "%s: canonical print does not parse", path);
	if (again != NULL)
		b = rules_print_text(again);
	CHECK_STR(b, a, path);
	free(a);
	free(b);
	rules_unref(again);
	rules_unref(rs);
	return 1;
}

/* corpus_dir - every regular file in dir (ending in suffix, if given) */
static int
corpus_dir(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];
	int n = 0;

	CHECK(d != NULL, "cannot open %s", dir);
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name), sl = strlen(suffix);

		if (e->d_name[0] == '.' ||
		    (sl > 0 &&
		     (l < sl || strcmp(e->d_name + l - sl, suffix) != 0)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		corpus_one(path);
		n++;
	}
	if (d != NULL)
		closedir(d);
	return n;
}

int
main(void)
{
	CHECK(corpus_dir("tests/fuzz/corpus/rules", "") >= 20,
	      "corpus has at least 20 inputs");
	CHECK(corpus_dir("tests/rules/parse", ".rules") >= 5, "parse files");
	CHECK(corpus_dir("tests/rules/errors", ".rules") >= 5, "error files");
	CHECK(corpus_dir("rules", ".rules") >= 2, "shipped rules");
	return test_summary("test_rules_corpus");
}
