/*
 * editdist - edit distance between two short strings, for the "did you
 * mean" hints of the rules parser and the config loader
 *
 * Functions: editdist.
 *
 * Two metrics, chosen by flags: Levenshtein (insert, delete, substitute)
 * and, with EDITDIST_TRANSPOSE, optimal string alignment, where swapping
 * two adjacent characters is one edit instead of two. The config loader
 * counts "dyr_run" one edit from "dry_run"; the rules parser does not.
 */
#ifndef MAILVET_EDITDIST_H
#define MAILVET_EDITDIST_H

#include <stddef.h>

#define EDITDIST_LEN_MAX   64 /* longer strings are given cap: no hint */
#define EDITDIST_TRANSPOSE 1u /* adjacent transposition costs one edit */

/*
 * editdist - the distance from a to b, at most cap. Strings longer than
 * EDITDIST_LEN_MAX give cap without comparing, so that a hint is never
 * bought with an unbounded table.
 */
size_t editdist(const char *a, const char *b, size_t cap, unsigned flags);

#endif
