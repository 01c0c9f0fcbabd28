/*
 * editdist - edit distance between two short strings (editdist.h)
 *
 * Three rows of the classic table are kept: the one being filled, the one
 * above it, and the one above that for transpositions.
 */
#include "lib/editdist.h"

#include <string.h>

/* editdist_min - the smaller of two distances */
static size_t
editdist_min(size_t x, size_t y)
{
	return x < y ? x : y;
}

/* editdist_cell - table cell (i, j) from the rows above and to the left */
static size_t
editdist_cell(const char *a, const char *b, size_t i, size_t j,
              const size_t *two, const size_t *prev, const size_t *cur,
              unsigned flags)
{
	size_t v = prev[j - 1] + (a[i - 1] != b[j - 1]);

	v = editdist_min(v, prev[j] + 1);
	v = editdist_min(v, cur[j - 1] + 1);
	if ((flags & EDITDIST_TRANSPOSE) && i > 1 && j > 1 &&
	    a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
		v = editdist_min(v, two[j - 2] + 1);
	return v;
}

/* editdist - the distance from a to b, at most cap */
size_t
editdist(const char *a, const char *b, size_t cap, unsigned flags)
{
	size_t rows[3][EDITDIST_LEN_MAX + 1] = {{0}};
	size_t *two = rows[0], *prev = rows[1], *cur = rows[2], *spare;
	size_t la = strlen(a), lb = strlen(b);

	if (la > EDITDIST_LEN_MAX || lb > EDITDIST_LEN_MAX)
		return cap;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++)
			cur[j] =
			    editdist_cell(a, b, i, j, two, prev, cur, flags);
		spare = two;
		two = prev;
		prev = cur;
		cur = spare;
	}
	return editdist_min(prev[lb], cap);
}
