/* The store's integrity checks at the bench audit's N entries (bench_store_check.c): what a
 * start costs (every entry re-hashed against its leaf while the tree is built, as
 * gateway/tlog/checkpoint.c does; beside it the tree from the leaves alone, as a clean start
 * did before), quick_check, `mlagw store check` (quick_check plus the
 * log), and `mlagw store backup` (copy and the check of the copy). */
#ifndef MLAGW_CLI_BENCH_STORE_CHECK_H
#define MLAGW_CLI_BENCH_STORE_CHECK_H

#include <stdint.h>

#include "mlagw/error.h"

struct bench_store_check {
	double start_leaves_s, start_rehash_s, quick_s, log_s, check_s, backup_copy_s, backup_check_s;
	uint64_t db_bytes, backup_bytes;
	int ok; /* every check passed */
};

/* On the store db (its latest checkpoint signed by the key of the certificate crt under
 * origin), backing it up to backup (a path that must not exist). */
mla_err bench_store_check(const char *db, const char *crt, const char *origin, const char *backup,
			  struct bench_store_check *out, mla_diag *d);

#endif
