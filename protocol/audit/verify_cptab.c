/* Audit bundle verification: what the checks learn of each checkpoint record (signed size and
 * root, signing key, its entries' verdict, its proof), kept in a temporary file rather than in
 * memory (SPEC 15 "Verification", memory bound): a log with a checkpoint per entry has as
 * many of them as entries. One block of rows is cached; the checks walk the rows in order,
 * and a lookup by size is a binary search of single-row reads. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlagw/codec.h"
#include "verify_internal.h"

#define BLOCK_ROWS 1024 /* 64 KiB cached */

int cptab_open(struct vcptab *t)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (mla_snprintf(path, sizeof(path), "%s/.mlagw-verify.XXXXXX",
			 dir != NULL && dir[0] != '\0' ? dir : "/tmp") != MLA_OK ||
	    (t->blk = calloc(BLOCK_ROWS, sizeof(*t->blk))) == NULL)
		return -1;
	/* removed from the directory at once: nothing is left behind, whatever happens */
	if ((t->fd = mkstemp(path)) < 0 || unlink(path) != 0) {
		if (t->fd >= 0)
			(void)unlink(path);
		cptab_close(t);
		return -1;
	}
	return 0;
}

void cptab_close(struct vcptab *t)
{
	if (t->fd >= 0)
		close(t->fd);
	free(t->blk);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

static int io_all(struct vcptab *t, void *p, size_t len, off_t at, int write)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write ? pwrite(t->fd, (char *)p + done, len - done, at + (off_t)done)
				  : pread(t->fd, (char *)p + done, len - done, at + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Rows [first, first + n) of the file that exist (below t->n), the rest zero. */
static int read_rows(struct vcptab *t, size_t first, struct vcp *out, size_t n)
{
	size_t have = first < t->n ? t->n - first : 0;

	if (have > n)
		have = n;
	memset(out + have, 0, (n - have) * sizeof(*out));
	t->reads += have > 0;
	return have == 0 ? 0 : io_all(t, out, have * sizeof(*out),
				      (off_t)(first * sizeof(*out)), 0);
}

static int flush(struct vcptab *t)
{
	size_t n;

	if (!t->dirty)
		return 0;
	n = t->n - t->blk_first < BLOCK_ROWS ? t->n - t->blk_first : BLOCK_ROWS;
	t->dirty = 0;
	return io_all(t, t->blk, n * sizeof(*t->blk), (off_t)(t->blk_first * sizeof(*t->blk)), 1);
}

/* The block holding row i into the cache. */
static int cache(struct vcptab *t, size_t i)
{
	size_t first = i - i % BLOCK_ROWS;

	if (t->have_blk && t->blk_first == first)
		return 0;
	if (flush(t) != 0)
		return -1;
	t->have_blk = 0;
	if (read_rows(t, first, t->blk, BLOCK_ROWS) != 0)
		return -1;
	t->blk_first = first;
	t->have_blk = 1;
	return 0;
}

int cptab_get(struct vcptab *t, size_t i, struct vcp *out)
{
	if (i >= t->n || cache(t, i) != 0)
		return -1;
	*out = t->blk[i - t->blk_first];
	return 0;
}

int cptab_put(struct vcptab *t, size_t i, const struct vcp *in)
{
	struct vcp *row;

	if (i > t->n || cache(t, i) != 0)
		return -1;
	row = &t->blk[i - t->blk_first];
	if (i == t->n) { /* a new row: its floor follows the rows before it */
		t->last_floor = in->size != 0 ? in->size : t->last_floor;
		*row = *in;
		row->floor = t->last_floor;
		t->n++;
	} else { /* a row's checks: its size and floor stay as written */
		uint64_t size = row->size, floor = row->floor;

		*row = *in;
		row->size = size;
		row->floor = floor;
	}
	t->dirty = 1;
	return 0;
}

int cptab_flush(struct vcptab *t)
{
	return flush(t);
}

/* Row i without moving the cache: from it when it holds i, else one row from the file. */
static int peek(struct vcptab *t, size_t i, struct vcp *out)
{
	if (i >= t->n)
		return -1;
	if (t->have_blk && i >= t->blk_first && i - t->blk_first < BLOCK_ROWS) {
		*out = t->blk[i - t->blk_first];
		return 0;
	}
	if (flush(t) != 0)
		return -1;
	return read_rows(t, i, out, 1);
}

/* The first row in [lo, hi) whose floor is above `above`, or hi: a binary search of
 * single-row reads (the floors ascend). */
static size_t first_above(struct vcptab *t, size_t lo, size_t hi, uint64_t above, int *err)
{
	struct vcp row;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (peek(t, mid, &row) != 0) {
			*err = 1;
			return hi;
		}
		if (row.floor > above)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

long cptab_find(struct vcptab *t, uint64_t n, int *err)
{
	struct vcp row;
	size_t i;

	*err = 0;
	if (n == 0)
		return -1;
	/* the first row whose floor reaches n is the opened row of size n, if there is one:
	 * opened sizes ascend, and the refused rows after it carry its size */
	i = first_above(t, 0, t->n, n - 1, err);
	if (*err || i >= t->n)
		return -1;
	if (peek(t, i, &row) != 0) {
		*err = 1;
		return -1;
	}
	return row.size == n ? (long)i : -1;
}

long cptab_next(struct vcptab *t, long k, int *err)
{
	struct vcp row;
	size_t j;

	*err = 0;
	if (k < 0 || (size_t)k >= t->n)
		return -1;
	if (peek(t, (size_t)k, &row) != 0) {
		*err = 1;
		return -1;
	}
	/* the next opened row is the first one whose floor rises above row k's */
	j = first_above(t, (size_t)k + 1, t->n, row.floor, err);
	return *err || j >= t->n ? -1 : (long)j;
}
