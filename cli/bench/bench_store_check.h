/* The store's integrity checks at the bench audit's N entries (bench_store_check.c): what a
 * start costs in time and memory (every entry and persisted tree hash checked against the
 * leaves in one scan and the right edge read from the store, as gateway/tlog/checkpoint.c
 * does; beside it the in-memory tree of every hash the daemon built until schema 6), quick_check, `mlagw store check` (quick_check plus the
 * log), and `mlagw store backup` (copy and the check of the copy). */
#ifndef MLAGW_CLI_BENCH_STORE_CHECK_H
#define MLAGW_CLI_BENCH_STORE_CHECK_H

#include <stdint.h>

#include "mlagw/error.h"

/* The daemon's start path in a child process: seconds, VmRSS before it, VmHWM after. */
struct bench_start {
	double s;
	long base_kib, hwm_kib;
};

struct bench_store_check {
	struct bench_start before; /* until schema 6: re-hash into a tree of every hash */
	struct bench_start now;    /* schema 7: re-hash + tree hashes checked, edge from store */
	double quick_s, log_s, check_s, backup_copy_s, backup_check_s;
	uint64_t db_bytes, backup_bytes;
	int ok; /* every check passed */
};

/* On the store db (its latest checkpoint signed by the key of the certificate crt under
 * origin), backing it up to backup (a path that must not exist). */
mla_err bench_store_check(const char *db, const char *crt, const char *origin, const char *backup,
			  struct bench_store_check *out, mla_diag *d);

#endif
