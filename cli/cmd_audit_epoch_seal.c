/* mlagw audit new-epoch --key: a store restored from a backup taken under load, or left by a
 * crash, holds entries beyond its latest checkpoint, and a bundle holds only what a checkpoint
 * covers. With the audit key the old epoch is closed by a last checkpoint over all of them, so
 * that the archive keeps them, after checking that they are the history the known heads
 * (the store's own checkpoint, the peers') signed at their sizes: a prefix of what the peers
 * cosigned, never a fork. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "audit_epoch.h"
#include "cli_util.h"
#include "mlagw/checkpoint.h"
#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "mlagw/privkey.h"
#include "store/store.h"
#include "store/store_reader.h"

#define CMD "audit new-epoch"
#define TREE_MAX (UINT64_C(1) << 40)

struct tail {
	mla_merkle_tree *tree;
	uint64_t bad; /* the first entry not dense or not its leaf, or UINT64_MAX */
};

static mla_err take_row(const struct store_audit_row *row, void *arg)
{
	struct tail *t = arg;
	uint8_t leaf[32];

	if (row->seq != mla_merkle_tree_size(t->tree) || row->leaf == NULL || row->entry == NULL ||
	    mla_merkle_leaf_hash(row->entry, row->len, leaf) != MLA_OK ||
	    memcmp(leaf, row->leaf, 32) != 0) {
		t->bad = row->seq;
		return MLA_ERR_STORE;
	}
	return mla_merkle_tree_append(t->tree, leaf);
}

/* The tree of the store's entries, each checked against its leaf. */
static int read_tree(const char *store, mla_merkle_tree *tree)
{
	struct tail t = {tree, UINT64_MAX};
	mla_diag d = {MLA_OK, ""};
	store_reader *r = NULL;
	mla_err e;

	if ((e = store_reader_open(store, &r, &d)) != MLA_OK)
		return cli_fail(CMD, e, &d);
	e = store_reader_audit(r, 0, UINT64_MAX, take_row, &t, &d);
	store_reader_close(r);
	if (t.bad != UINT64_MAX) {
		fprintf(stderr, "mlagw " CMD ": audit entry %llu is missing or not its leaf: no last "
			"checkpoint signed (inspect the store: mlagw store check)\n",
			(unsigned long long)t.bad);
		return CLI_REJECTED;
	}
	return e == MLA_OK ? CLI_OK : cli_fail(CMD, e, &d);
}

/* The entries against every known head of at most their number. */
static int agrees(mla_merkle_tree *tree, const struct epoch_known *known, size_t n)
{
	uint64_t size = mla_merkle_tree_size(tree);
	uint8_t root[32];

	for (size_t i = 0; i < n; i++)
		if (known[i].size <= size &&
		    (mla_merkle_tree_root(tree, known[i].size, root) != MLA_OK ||
		     memcmp(root, known[i].root, 32) != 0)) {
			fprintf(stderr, "mlagw " CMD ": the store's entries are not the history "
				"signed at %llu entries: no last checkpoint signed over them\n",
				(unsigned long long)known[i].size);
			return 0;
		}
	return 1;
}

/* Signs the checkpoint of the whole tree and stores it. */
static int sign_store(const char *store, const mla_privkey *key, const char *origin,
		      mla_merkle_tree *tree, uint64_t *size, char **notep)
{
	mla_checkpoint cp;
	mla_diag d = {MLA_OK, ""};
	gw_store *s = NULL;
	char *note = NULL;
	size_t len = 0;
	mla_err e;

	memset(&cp, 0, sizeof(cp));
	cp.size = mla_merkle_tree_size(tree);
	if ((e = mla_strcpy(cp.origin, sizeof(cp.origin), origin)) != MLA_OK ||
	    (e = mla_merkle_tree_root(tree, cp.size, cp.root)) != MLA_OK ||
	    (e = mla_checkpoint_sign(&cp, origin, key, &note, &len, &d)) != MLA_OK ||
	    (e = store_open(store, &s, &d)) != MLA_OK ||
	    (e = store_checkpoint_put(s, cp.size, note, len, (int64_t)time(NULL) * 1000, &d)) !=
		    MLA_OK ||
	    (e = store_mark_clean(s, &d)) != MLA_OK) { /* an offline tool's close: clean */
		store_close(s);
		free(note);
		return cli_fail(CMD, e, &d);
	}
	store_close(s);
	*size = cp.size;
	*notep = note;
	return CLI_OK;
}

int epoch_seal(const char *store, const char *key_path, const char *origin,
	       const uint8_t cert_key[32], uint64_t covered, const struct epoch_known *known,
	       size_t n, uint64_t *size, char **notep)
{
	uint8_t pub[32];
	size_t plen = sizeof(pub);
	mla_merkle_tree *tree = NULL;
	mla_privkey *key = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_err e;
	int rc;

	*size = 0;
	*notep = NULL;
	if ((e = mla_privkey_load(key_path, &key, &d)) != MLA_OK)
		return cli_fail(CMD, e, &d);
	if (EVP_PKEY_get_raw_public_key(mla_privkey_public(key), pub, &plen) != 1 ||
	    plen != 32 || memcmp(pub, cert_key, 32) != 0) {
		mla_privkey_free(key);
		fprintf(stderr, "mlagw " CMD ": %s is not the key of the audit certificate\n",
			key_path);
		return CLI_REJECTED;
	}
	if (mla_merkle_tree_new(TREE_MAX, &tree) != MLA_OK) {
		mla_privkey_free(key);
		return cli_fail(CMD, MLA_ERR_NOMEM, &d);
	}
	if ((rc = read_tree(store, tree)) == CLI_OK) {
		if (!agrees(tree, known, n))
			rc = CLI_REJECTED;
		else if (mla_merkle_tree_size(tree) > covered)
			rc = sign_store(store, key, origin, tree, size, notep);
	}
	mla_merkle_tree_free(tree);
	mla_privkey_free(key);
	return rc;
}
