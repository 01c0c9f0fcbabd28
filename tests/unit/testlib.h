/*
 * testlib - the smallest table-driven test harness that does the job.
 *
 * Each unit test program includes this header once, calls CHECK*() as it
 * goes and returns test_summary() from main. The summary line reads
 * "NAME: N passed, N failed, 0 skipped" (the shape every runner ends with;
 * a unit test has nothing to skip) and tests/run.sh adds them up.
 */
#ifndef MAILVET_TESTLIB_H
#define MAILVET_TESTLIB_H

#include <stdio.h>
#include <string.h>

static int test_passed, test_failed;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (cond) {                                                    \
			test_passed++;                                         \
		} else {                                                       \
			test_failed++;                                         \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);            \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		}                                                              \
	} while (0)

#define CHECK_STR(got, want, name)                                             \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		CHECK(g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0,         \
		      "%s: got \"%s\", want \"%s\"", (name),                   \
		      g_ ? g_ : "(null)", w_ ? w_ : "(null)");                 \
	} while (0)

#define CHECK_INT(got, want, name)                                             \
	do {                                                                   \
		long long g_ = (long long)(got), w_ = (long long)(want);       \
		CHECK(g_ == w_, "%s: got %lld, want %lld", (name), g_, w_);    \
	} while (0)

static inline int
test_summary(const char *name)
{
	printf("%s: %d passed, %d failed, 0 skipped\n", name, test_passed,
	       test_failed);
	return test_failed == 0 ? 0 : 1;
}

#endif
