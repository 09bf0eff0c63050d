/* The audit verifier's external merge sort (verify_xsort.c): fixed-size rows, compared by
 * their first key bytes (memcmp), sorted in bounded memory. Rows are gathered in runs of a
 * bounded number; each full run is sorted and written to a temporary file (TMPDIR, else /tmp,
 * unlinked at creation); finishing merges the runs (k-way, at most XSORT_FANIN at a time) into
 * one sorted file, read back by row number through one cached block. A sort whose rows fit one
 * run never touches the disk. Order among rows of equal keys is unspecified. */
#ifndef MLAGW_AUDIT_VERIFY_XSORT_H
#define MLAGW_AUDIT_VERIFY_XSORT_H

#include <stddef.h>
#include <stdint.h>

#define XSORT_FANIN 64		       /* runs merged at once */
#define XSORT_MERGE_BUF ((size_t)64 << 10) /* at most, read ahead per run while merging */
#define XSORT_READ_ROWS 512		       /* rows of the cached block of the output */
#define XSORT_FIRST_ROWS 1024		       /* rows of a run's first allocation */

struct xsort {
	size_t row, key;	 /* bytes of a row; its first key bytes are its key */
	size_t cap;		 /* rows of one run in memory */
	uint8_t *buf;		 /* the run being gathered; after finish, the output when in_mem */
	size_t bufcap;		 /* rows buf holds while gathering (grows up to cap) */
	size_t n;		 /* rows in buf */
	uint64_t total;		 /* rows put */
	int fd;			 /* the runs (then the output), or -1 */
	uint64_t *runs;		 /* first row of each run in fd; a run ends where the next begins */
	size_t nruns, capruns;
	int finished, in_mem, failed;
	uint64_t blk_first;	 /* the cached block of the output (buf reused) */
	size_t blk_n;
	uint64_t file_reads;	 /* blocks read back (the tests bound the cost) */
};

/* A sort of rows of row bytes keyed by their first key bytes (1 <= key <= row), in about
 * mem bytes of memory (at least one row a run). 0, else -1 (no memory). */
int xsort_init(struct xsort *s, size_t row, size_t key, size_t mem);
/* Adds one row (before finish). 0, else -1: the temporary file failed or no memory (failed). */
int xsort_put(struct xsort *s, const void *row);
/* Sorts what was put; rows are then read with xsort_row. 0, else -1 (failed). */
int xsort_finish(struct xsort *s);
/* Sorted row i (below s->total, after finish), valid until the next call; NULL when the file
 * cannot be read (failed). Sequential reads and small steps back cost no read. */
const void *xsort_row(struct xsort *s, uint64_t i);
/* Frees the memory and closes the file. */
void xsort_free(struct xsort *s);
/* A number as a key's bytes (big-endian: memcmp orders them as numbers), and back. */
void xsort_put_be64(uint8_t out[8], uint64_t v);
uint64_t xsort_get_be64(const uint8_t in[8]);

#endif
