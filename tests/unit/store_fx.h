/* The store tests' shared fixture (test_store.c, test_store_life.c): a temporary directory
 * and store path per test, and the helpers both files use. */
#ifndef MLAGW_TEST_STORE_FX_H
#define MLAGW_TEST_STORE_FX_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_reader.h"

struct fx {
	char dir[64];
	char path[128];
};

int setup(void **state);
int teardown(void **state);
/* Opens the test's store, creating it (store_init) on the first open. */
gw_store *open_ok(const struct fx *f);
void make_id(char *id, size_t len, unsigned n);
struct out_msg make_out(unsigned n, const char *to, int prio, int64_t created, int64_t next);
extern const uint8_t env_bytes[45];
void put_ok(gw_store *s, const struct out_msg *m);
/* The schema version and the rows per part, through the read-only reader. */
int schema_version(const char *path);
struct store_counts counts_of(const char *path);
/* An SQLite setting of the file (test-only access, store_fault.h). */
void pragma_is(const char *path, const char *name, const char *want);

#endif
