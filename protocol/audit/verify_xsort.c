/* The audit verifier's external merge sort (verify_xsort.h, SPEC 15 "Verifier memory"): the
 * message checks join entries, envelopes and receipts by message, and a log holds millions of
 * messages; their rows are sorted on disk in runs of bounded size, then merged k ways. */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlagw/codec.h"
#include "verify_xsort.h"

/* A temporary file, removed from its directory at once (nothing is left behind, whatever
 * happens); -1 when it cannot be made. */
static int temp_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (mla_snprintf(path, sizeof(path), "%s/.mlagw-verify-sort.XXXXXX",
			 dir != NULL && dir[0] != '\0' ? dir : "/tmp") != MLA_OK ||
	    (fd = mkstemp(path)) < 0)
		return -1;
	if (unlink(path) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int io_all(int fd, void *p, size_t len, uint64_t at, int write)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write ? pwrite(fd, (char *)p + done, len - done, (off_t)(at + done))
				  : pread(fd, (char *)p + done, len - done, (off_t)(at + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int cmp_rows(const void *a, const void *b, void *key)
{
	return memcmp(a, b, *(const size_t *)key);
}

int xsort_init(struct xsort *s, size_t row, size_t key, size_t mem)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->row = row;
	s->key = key;
	mla_require(row > 0 && key > 0 && key <= row);
	s->cap = mem / row > 0 ? mem / row : 1;
	/* the run grows as rows come: a sort of few rows takes little of its memory */
	s->bufcap = s->cap < XSORT_FIRST_ROWS ? s->cap : XSORT_FIRST_ROWS;
	if ((s->buf = malloc(s->bufcap * row)) == NULL) {
		s->failed = 1;
		return -1;
	}
	return 0;
}

void xsort_free(struct xsort *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	free(s->runs);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static int fail(struct xsort *s)
{
	s->failed = 1;
	return -1;
}

/* The run in memory sorted and appended to the file as one more run. */
static int spill(struct xsort *s)
{
	uint64_t at = s->total - s->n; /* its first row */
	uint64_t *p;

	if (s->fd < 0 && (s->fd = temp_file()) < 0)
		return fail(s);
	if ((p = mla_grow(s->runs, &s->capruns, s->nruns, sizeof(*p))) == NULL)
		return fail(s);
	s->runs = p;
	qsort_r(s->buf, s->n, s->row, cmp_rows, &s->key);
	if (io_all(s->fd, s->buf, s->n * s->row, at * s->row, 1) != 0)
		return fail(s);
	s->runs[s->nruns++] = at;
	s->n = 0;
	return 0;
}

int xsort_put(struct xsort *s, const void *row)
{
	if (s->failed || s->finished)
		return fail(s);
	if (s->n == s->cap && spill(s) != 0)
		return -1;
	if (s->n == s->bufcap) { /* below cap: twice the rows, at most cap */
		size_t want = s->bufcap > s->cap / 2 ? s->cap : 2 * s->bufcap;
		uint8_t *p = realloc(s->buf, want * s->row);

		if (p == NULL)
			return fail(s);
		s->buf = p;
		s->bufcap = want;
	}
	memcpy(s->buf + s->n * s->row, row, s->row);
	s->n++;
	s->total++;
	return 0;
}

/* One run being merged: rows [at, end) of the input file, a window of them in b. */
struct mrun {
	uint64_t at, end;
	uint8_t *b;
	size_t bn, bi; /* rows in b, the next one */
};

struct merge {
	struct xsort *s;
	int in, out;
	struct mrun *r;
	size_t *heap, nheap, per; /* per: rows of a run's window */
	uint8_t *ob;
	size_t on, oper;
	uint64_t written;
};

static const uint8_t *run_head(const struct merge *m, size_t i)
{
	return m->r[i].b + m->r[i].bi * m->s->row;
}

/* Whether run a's next row goes before run b's (equal keys: the earlier run first). */
static int before(const struct merge *m, size_t a, size_t b)
{
	int c = memcmp(run_head(m, a), run_head(m, b), m->s->key);

	return c < 0 || (c == 0 && a < b);
}

static void sift_down(struct merge *m, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, k = i, t;

		if (l < m->nheap && before(m, m->heap[l], m->heap[k]))
			k = l;
		if (r < m->nheap && before(m, m->heap[r], m->heap[k]))
			k = r;
		if (k == i)
			return;
		t = m->heap[i];
		m->heap[i] = m->heap[k];
		m->heap[k] = t;
		i = k;
	}
}

/* Run i's window refilled; 0 with bn = 0 at its end, -1 when the file failed. */
static int refill(struct merge *m, size_t i)
{
	struct mrun *r = &m->r[i];
	uint64_t left = r->end - r->at;
	size_t n = left < m->per ? (size_t)left : m->per;

	r->bi = 0;
	r->bn = n;
	if (n > 0 && io_all(m->in, r->b, n * m->s->row, r->at * m->s->row, 0) != 0)
		return -1;
	r->at += n;
	return 0;
}

static int out_flush(struct merge *m)
{
	if (m->on > 0 && io_all(m->out, m->ob, m->on * m->s->row, m->written * m->s->row, 1) != 0)
		return -1;
	m->written += m->on;
	m->on = 0;
	return 0;
}

/* Runs [first, first + k) of the input merged into one run of the output. */
static int merge_group(struct merge *m, const uint64_t *starts, size_t k, uint64_t end)
{
	m->nheap = 0;
	for (size_t i = 0; i < k; i++) {
		m->r[i].at = starts[i];
		m->r[i].end = i + 1 < k ? starts[i + 1] : end;
		if (refill(m, i) != 0)
			return -1;
		if (m->r[i].bn > 0)
			m->heap[m->nheap++] = i;
	}
	for (size_t i = m->nheap; i-- > 0;)
		sift_down(m, i);
	while (m->nheap > 0) {
		size_t i = m->heap[0];
		struct mrun *r = &m->r[i];

		memcpy(m->ob + m->on * m->s->row, run_head(m, i), m->s->row);
		if (++m->on == m->oper && out_flush(m) != 0)
			return -1;
		if (++r->bi == r->bn && refill(m, i) != 0)
			return -1;
		if (r->bn == 0)
			m->heap[0] = m->heap[--m->nheap];
		sift_down(m, 0);
	}
	return out_flush(m);
}

static void merge_free(struct merge *m)
{
	for (size_t i = 0; m->r != NULL && i < XSORT_FANIN; i++)
		free(m->r[i].b);
	free(m->r);
	free(m->heap);
	free(m->ob);
}

static int merge_setup(struct merge *m, struct xsort *s)
{
	memset(m, 0, sizeof(*m));
	m->s = s;
	/* the windows of all runs together take no more than the run in memory did */
	m->per = (s->cap * s->row / XSORT_FANIN < XSORT_MERGE_BUF ? s->cap * s->row / XSORT_FANIN
								    : XSORT_MERGE_BUF) / s->row;
	if (m->per == 0)
		m->per = 1;
	m->oper = m->per;
	if ((m->r = calloc(XSORT_FANIN, sizeof(*m->r))) == NULL ||
	    (m->heap = calloc(XSORT_FANIN, sizeof(*m->heap))) == NULL ||
	    (m->ob = malloc(m->oper * s->row)) == NULL)
		return -1;
	for (size_t i = 0; i < XSORT_FANIN; i++)
		if ((m->r[i].b = malloc(m->per * s->row)) == NULL)
			return -1;
	return 0;
}

/* One level: every XSORT_FANIN runs of s->fd become one run of a new file. */
static int merge_level(struct xsort *s, struct merge *m)
{
	size_t k = 0;

	m->in = s->fd;
	m->written = 0;
	if ((m->out = temp_file()) < 0)
		return -1;
	for (size_t g = 0; g < s->nruns; g += XSORT_FANIN) {
		size_t n = s->nruns - g < XSORT_FANIN ? s->nruns - g : XSORT_FANIN;
		uint64_t end = g + n < s->nruns ? s->runs[g + n] : s->total, first = m->written;

		if (merge_group(m, s->runs + g, n, end) != 0) {
			close(m->out);
			return -1;
		}
		s->runs[k++] = first;
	}
	close(s->fd);
	s->fd = m->out;
	s->nruns = k;
	return 0;
}

int xsort_finish(struct xsort *s)
{
	struct merge m;
	int rc = 0;

	if (s->failed || s->finished)
		return fail(s);
	s->finished = 1;
	if (s->nruns == 0) { /* one run: sorted in memory, no file */
		qsort_r(s->buf, s->n, s->row, cmp_rows, &s->key);
		s->in_mem = 1;
		return 0;
	}
	if (s->n > 0 && spill(s) != 0)
		return -1;
	free(s->buf); /* the merge's windows instead */
	s->buf = NULL;
	if (merge_setup(&m, s) != 0)
		rc = -1;
	while (rc == 0 && s->nruns > 1)
		rc = merge_level(s, &m);
	merge_free(&m);
	if (rc == 0 && (s->buf = malloc(XSORT_READ_ROWS * s->row)) == NULL)
		rc = -1;
	s->blk_n = 0;
	return rc == 0 ? 0 : fail(s);
}

const void *xsort_row(struct xsort *s, uint64_t i)
{
	uint64_t left;

	mla_require(s->finished && i < s->total);
	if (s->in_mem)
		return s->buf + i * s->row;
	if (s->failed)
		return NULL;
	if (i < s->blk_first || i >= s->blk_first + s->blk_n) {
		left = s->total - i;
		s->blk_first = i;
		s->blk_n = left < XSORT_READ_ROWS ? (size_t)left : XSORT_READ_ROWS;
		s->file_reads++;
		if (io_all(s->fd, s->buf, s->blk_n * s->row, i * s->row, 0) != 0) {
			s->blk_n = 0;
			s->failed = 1;
			return NULL;
		}
	}
	return s->buf + (i - s->blk_first) * s->row;
}

void xsort_put_be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

uint64_t xsort_get_be64(const uint8_t in[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}
