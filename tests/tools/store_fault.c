/* store_fault: damages a gateway's store on purpose for the integration tests (which never
 * run SQL themselves), through the test-only gateway/store/store_fault.h. Not installed.
 *   store_fault set-entry STORE SEQ FILE [--rehash]   entry SEQ := FILE's bytes (and its
 *                                                      leaf hash with --rehash)
 *   store_fault delete-entry STORE SEQ                 leaves a gap at SEQ
 *   store_fault wal-truncate STORE                     prints "PAGES PAGE_SIZE"
 *   store_fault set-checkpoint STORE SIZE FILE         the note of checkpoint SIZE := FILE
 *   store_fault pages STORE NAME                       prints the leaf pages of table or
 *                                                      index NAME, then a line PAGE_SIZE
 *   store_fault set-tree-hash STORE SEQ LEVEL          the persisted audit tree hash of the
 *                                                      2^LEVEL entries ending at SEQ := 0x5a..
 *   store_fault make-v13 STORE                         the store as an mlagw of schema 13
 *                                                      left it (the package upgrade test)
 *   store_fault set-envelope STORE MESSAGE_ID FILE     sent message's envelope := FILE's
 *                                                      bytes, its digest their SHA-256
 *   store_fault dir-doc-alter STORE                    a byte appended to the adopted
 *                                                      directory of the lowest serial
 * exit 0 done, 1 failed, 2 usage. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "mlagw/codec.h"
#include "store/store_fault.h"

#define ENTRY_MAX 65536

static int usage(void)
{
	fputs("usage: store_fault set-entry STORE SEQ FILE [--rehash] | delete-entry STORE SEQ |"
	      " wal-truncate STORE | set-checkpoint STORE SIZE FILE | pages STORE NAME |"
	      " set-tree-hash STORE SEQ LEVEL | set-envelope STORE MESSAGE_ID FILE |"
	      " dir-doc-alter STORE | make-v13 STORE\n", stderr);
	return 2;
}

static int parse_seq(const char *s, uint64_t *seq)
{
	return s != NULL && mla_parse_u64(s, 0, UINT64_MAX - 1, seq) == MLA_OK ? 0 : -1;
}

static int set_entry(const char *store, uint64_t seq, const char *file, int rehash,
		     mla_diag *d)
{
	static uint8_t buf[ENTRY_MAX + 1];
	uint8_t leaf[32], pre[ENTRY_MAX + 2];
	FILE *f = fopen(file, "rb");
	size_t n;

	if (f == NULL)
		return mla_fail(d, MLA_ERR_IO, "cannot read %s", file);
	n = fread(buf, 1, sizeof(buf), f);
	(void)fclose(f);
	if (n > ENTRY_MAX)
		return mla_fail(d, MLA_ERR_TOO_LARGE, "%s is too large", file);
	pre[0] = 0x00; /* RFC 6962 leaf hash: SHA-256(0x00 || entry) */
	memcpy(pre + 1, buf, n);
	(void)SHA256(pre, n + 1, leaf);
	return store_fault_set_entry(store, seq, buf, n, rehash ? leaf : NULL, d);
}

static int read_file(const char *file, uint8_t *buf, size_t cap, size_t *n, mla_diag *d)
{
	FILE *f = fopen(file, "rb");

	if (f == NULL)
		return mla_fail(d, MLA_ERR_IO, "cannot read %s", file);
	*n = fread(buf, 1, cap, f);
	(void)fclose(f);
	return *n < cap ? MLA_OK : mla_fail(d, MLA_ERR_TOO_LARGE, "%s is too large", file);
}

static mla_err print_page(int64_t page, void *arg)
{
	(void)arg;
	printf(" %lld", (long long)page);
	return MLA_OK;
}

static mla_err list_pages(const char *store, const char *name, mla_diag *d)
{
	int64_t size = 0;
	mla_err e;

	if ((e = store_fault_pages(store, name, &size, print_page, NULL, d)) == MLA_OK)
		printf("\n%lld\n", (long long)size);
	return e;
}

static mla_err set_checkpoint(const char *store, uint64_t size, const char *file, mla_diag *d)
{
	static uint8_t buf[ENTRY_MAX + 1];
	size_t n = 0;
	mla_err e = read_file(file, buf, sizeof(buf), &n, d);

	return e == MLA_OK ? store_fault_set_checkpoint(store, size, (const char *)buf, n, d) : e;
}

/* Replaces a sent message's envelope by FILE's bytes (a hand-sealed one, same message id). */
static mla_err set_envelope(const char *store, const char *id, const char *file, mla_diag *d)
{
	static uint8_t buf[1 << 20];
	uint8_t digest[32];
	size_t n = 0;
	mla_err e = read_file(file, buf, sizeof(buf), &n, d);

	if (e != MLA_OK)
		return e;
	(void)SHA256(buf, n, digest);
	return store_fault_set_outbox_envelope(store, id, buf, n, digest, d);
}

/* Replaces the persisted tree hash of the subtree of 2^level entries ending at seq. */
static mla_err set_tree_hash(const char *store, uint64_t seq, const char *level, mla_diag *d)
{
	uint64_t lv = 0;
	uint8_t h[32];

	if (mla_parse_u64(level, 1, 62, &lv) != MLA_OK)
		return mla_fail(d, MLA_ERR_ARG, "bad level %s", level);
	memset(h, 0x5a, sizeof(h));
	return store_fault_set_tree_hash(store, seq, (unsigned)lv, h, d);
}

int main(int argc, char **argv)
{
	mla_diag d = {MLA_OK, ""};
	int64_t pages = 0, size = 0;
	uint64_t seq = 0;
	mla_err e;

	if (argc == 3 && strcmp(argv[1], "wal-truncate") == 0) {
		if ((e = store_fault_wal_truncate(argv[2], &pages, &size, &d)) == MLA_OK)
			printf("%lld %lld\n", (long long)pages, (long long)size);
	} else if (argc == 4 && strcmp(argv[1], "pages") == 0) {
		e = list_pages(argv[2], argv[3], &d);
	} else if (argc == 5 && strcmp(argv[1], "set-checkpoint") == 0 &&
		   parse_seq(argv[3], &seq) == 0) {
		e = set_checkpoint(argv[2], seq, argv[4], &d);
	} else if (argc == 4 && strcmp(argv[1], "delete-entry") == 0 &&
		   parse_seq(argv[3], &seq) == 0) {
		e = store_fault_delete_entry(argv[2], seq, &d);
	} else if ((argc == 5 || (argc == 6 && strcmp(argv[5], "--rehash") == 0)) &&
		   strcmp(argv[1], "set-entry") == 0 && parse_seq(argv[3], &seq) == 0) {
		e = set_entry(argv[2], seq, argv[4], argc == 6, &d);
	} else if (argc == 5 && strcmp(argv[1], "set-envelope") == 0) {
		e = set_envelope(argv[2], argv[3], argv[4], &d);
	} else if (argc == 3 && strcmp(argv[1], "dir-doc-alter") == 0) {
		e = store_fault_dir_doc_alter(argv[2], &d);
	} else if (argc == 5 && strcmp(argv[1], "set-tree-hash") == 0 &&
		   parse_seq(argv[3], &seq) == 0) {
		e = set_tree_hash(argv[2], seq, argv[4], &d);
	} else if (argc == 3 && strcmp(argv[1], "make-v13") == 0) {
		e = store_fault_make_v13(argv[2], &d);
	} else {
		return usage();
	}
	if (e != MLA_OK)
		fprintf(stderr, "store_fault: %s\n", d.msg[0] != '\0' ? d.msg : mla_strerror(e));
	return e == MLA_OK ? 0 : 1;
}
