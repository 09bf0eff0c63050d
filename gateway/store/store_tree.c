/* The audit tree's persisted hashes (table audit_tree, schema version 7; docs/internals/
 * audit-tree.md): one row per complete subtree of 2^level leaves, level >= 1 (a leaf hash is
 * audit.leaf), keyed by (seq, level) where seq is the last leaf it covers, so a scan in key
 * order meets them in the order appends complete them. Rows are written in the transaction
 * of the entry that completes them, filled from the leaves on upgrade, and checked against
 * the leaves by the scan the daemon runs at every start. */
#include <string.h>

#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "store_internal.h"

#define TREE_LEVELS 64

/* The last leaf of the complete subtree (level, idx), or -1 when it is beyond any seq. */
static int64_t last_seq(unsigned level, uint64_t idx)
{
	if (level >= 63 || idx >= (UINT64_C(1) << (63 - level)))
		return -1;
	return (int64_t)(((idx + 1) << level) - 1);
}

static mla_err tree_put(gw_store *s, uint64_t seq, unsigned level, const uint8_t h[32],
			mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_TREE_INSERT, "INSERT INTO audit_tree (seq, level, hash) "
			    "VALUES (?1, ?2, ?3)", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)seq)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 2, (int)level)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob(st, 3, h, 32, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "audit tree put", diag);
	store_stmt_done(st);
	return r;
}

#define TREE_LEAF_SQL "SELECT leaf FROM audit WHERE seq = ?1"
#define TREE_NODE_SQL "SELECT hash FROM audit_tree WHERE seq = ?1 AND level = ?2"

/* The node (level, idx; seq its last leaf) read with st, the statement of TREE_LEAF_SQL (level
 * 0) or TREE_NODE_SQL; *rc the SQLite code of a failed bind or step (MLA_ERR_STORE then, for
 * the caller to report), else 0. Done with st either way. */
static mla_err tree_node_read(sqlite3_stmt *st, unsigned level, uint64_t idx, int64_t seq,
			      uint8_t out[32], int *rc, mla_diag *diag)
{
	mla_err r = MLA_ERR_STORE;

	if ((*rc = sqlite3_bind_int64(st, 1, seq)) != SQLITE_OK ||
	    (level > 0 && (*rc = sqlite3_bind_int(st, 2, (int)level)) != SQLITE_OK) ||
	    ((*rc = sqlite3_step(st)) != SQLITE_ROW && *rc != SQLITE_DONE)) {
		store_stmt_done(st);
		return MLA_ERR_STORE; /* the caller reports *rc */
	}
	if (*rc == SQLITE_DONE)
		r = mla_fail(diag, MLA_ERR_NOT_FOUND, "store: no audit tree hash at level %u index "
			     "%llu", level, (unsigned long long)idx);
	else
		r = store_col_digest(st, 0, out, "audit tree node", diag);
	*rc = 0;
	store_stmt_done(st);
	return r;
}

static mla_err node_out_of_range(unsigned level, uint64_t idx, mla_diag *diag)
{
	return mla_fail(diag, MLA_ERR_ARG, "store: audit tree node %u/%llu: out of range", level,
			(unsigned long long)idx);
}

mla_err store_tree_node(gw_store *s, unsigned level, uint64_t idx, uint8_t out[32],
			mla_diag *diag)
{
	int64_t seq = last_seq(level, idx);
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc = 0;

	if (seq < 0)
		return node_out_of_range(level, idx, diag);
	r = level == 0 ? store_stmt(s, ST_TREE_LEAF, TREE_LEAF_SQL, &st, diag)
		       : store_stmt(s, ST_TREE_GET, TREE_NODE_SQL, &st, diag);
	if (r == MLA_OK && (r = tree_node_read(st, level, idx, seq, out, &rc, diag)) != MLA_OK && rc)
		r = store_fail(s, rc, "audit tree node", diag);
	return r;
}

mla_err store_reader_tree_node(store_reader *rd, unsigned level, uint64_t idx, uint8_t out[32],
			       mla_diag *diag)
{
	int64_t seq = last_seq(level, idx);
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc = 0;

	if (seq < 0)
		return node_out_of_range(level, idx, diag);
	if (rd->version < 7)
		return mla_fail(diag, MLA_ERR_NOT_FOUND, "store: schema %d keeps no audit tree",
				rd->version);
	r = level == 0 ? store_reader_stmt(rd, SR_TREE_LEAF, TREE_LEAF_SQL, &st, diag)
		       : store_reader_stmt(rd, SR_TREE_NODE, TREE_NODE_SQL, &st, diag);
	if (r == MLA_OK && (r = tree_node_read(st, level, idx, seq, out, &rc, diag)) != MLA_OK && rc)
		r = store_fail_db(rd->db, rc, "audit tree node", diag);
	return r;
}

mla_err store_tree_add(gw_store *s, uint64_t seq, const uint8_t leaf[32], mla_diag *diag)
{
	uint8_t cur[32], left[32];
	mla_err r = MLA_OK;

	/* the subtrees seq completes: one per trailing 1 bit of seq, each from its left half
	 * (stored) and the right half just made */
	memcpy(cur, leaf, 32);
	for (unsigned k = 1; k < TREE_LEVELS && ((seq + 1) & ((UINT64_C(1) << k) - 1)) == 0; k++) {
		uint64_t idx = ((seq + 1) >> k) - 1;
		if ((r = store_tree_node(s, k - 1, 2 * idx, left, diag)) != MLA_OK ||
		    (r = mla_merkle_node_hash(left, cur, cur)) != MLA_OK ||
		    (r = tree_put(s, seq, k, cur, diag)) != MLA_OK)
			break;
	}
	return r;
}

/* The right edge of the leaves pushed so far, as in mla_merkle_compact_append, and fn for
 * each complete subtree a push completes (seq, level, hash). */
struct edge {
	mla_merkle_compact c;
	mla_err (*fn)(struct edge *e, uint64_t seq, unsigned level, const uint8_t h[32]);
	gw_store *s;
	sqlite3_stmt *rows; /* the check: the stored rows, in key order */
	mla_diag *diag;
};

mla_err store_tree_push(mla_merkle_compact *c, const uint8_t leaf[32], store_tree_node_fn fn,
			void *arg)
{
	uint64_t seq = c->size;
	uint8_t carry[32];
	unsigned k = 0;
	mla_err r;

	memcpy(carry, leaf, 32);
	for (; ((seq >> k) & 1) != 0; k++)
		if ((r = mla_merkle_node_hash(c->hash[k], carry, carry)) != MLA_OK ||
		    (r = fn(arg, seq, k + 1, carry)) != MLA_OK)
			return r;
	memcpy(c->hash[k], carry, 32);
	c->size++;
	return MLA_OK;
}

static mla_err edge_node(void *arg, uint64_t seq, unsigned level, const uint8_t h[32])
{
	struct edge *e = arg;

	return e->fn(e, seq, level, h);
}

static mla_err push(struct edge *e, const uint8_t leaf[32])
{
	return store_tree_push(&e->c, leaf, edge_node, e);
}

static mla_err fill_one(struct edge *e, uint64_t seq, unsigned level, const uint8_t h[32])
{
	return tree_put(e->s, seq, level, h, e->diag);
}

static mla_err fill_leaf(uint64_t seq, const uint8_t leaf[32], void *arg)
{
	(void)seq;
	return push(arg, leaf);
}

mla_err store_tree_fill(gw_store *s, mla_diag *diag)
{
	struct edge e = {.fn = fill_one, .s = s, .diag = diag};
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	mla_merkle_compact_init(&e.c);
	if ((r = store_audit_leaves(s, 0, fill_leaf, &e, &d)) != MLA_OK)
		return mla_fail(diag, r, "store: upgrade to schema 7: audit tree hashes from the "
				"stored leaves: %s", d.msg[0] != '\0' ? d.msg : mla_strerror(r));
	return MLA_OK;
}

/* The check: the next stored row must be this one with this hash. */
int store_tree_row_step(sqlite3_stmt *rows, uint64_t seq, unsigned level, const uint8_t h[32],
			char *why, size_t whylen)
{
	int rc = sqlite3_step(rows);

	if (rc == SQLITE_ROW && (uint64_t)sqlite3_column_int64(rows, 0) == seq &&
	    sqlite3_column_int(rows, 1) == (int)level && sqlite3_column_bytes(rows, 2) == 32 &&
	    memcmp(sqlite3_column_blob(rows, 2), h, 32) == 0)
		return SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return rc;
	(void)mla_snprintf_cut(why, whylen, "audit tree hash at level %u index %llu (entries "
			       "%llu..%llu) is missing or is not the hash of its entries' leaves",
			       level, (unsigned long long)(seq >> level),
			       (unsigned long long)(seq + 1 - (UINT64_C(1) << level)),
			       (unsigned long long)seq);
	return SQLITE_MISMATCH;
}

static mla_err check_one(struct edge *e, uint64_t seq, unsigned level, const uint8_t h[32])
{
	char why[MLA_DIAG_MAX];
	int rc = store_tree_row_step(e->rows, seq, level, h, why, sizeof(why));

	if (rc == SQLITE_ROW)
		return MLA_OK;
	if (rc != SQLITE_MISMATCH)
		return store_fail(e->s, rc, "audit tree rows", e->diag);
	return mla_fail(e->diag, MLA_ERR_STORE, "%s", why);
}

/* Steps the audit rows and the tree rows together: each entry to efn, then its leaf pushed
 * (which checks the tree rows it completes). */
static mla_err check_scan(struct edge *e, sqlite3_stmt *st, store_entry_fn efn, void *arg)
{
	mla_err r = MLA_OK;
	int rc;

	while (r == MLA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((uint64_t)sqlite3_column_int64(st, 0) != e->c.size ||
		    sqlite3_column_bytes(st, 1) != 32)
			return mla_fail(e->diag, MLA_ERR_STORE, "store: audit entry %llu is missing "
					"or bad", (unsigned long long)e->c.size);
		if ((r = efn(e->c.size, sqlite3_column_blob(st, 1), sqlite3_column_blob(st, 2),
			     (size_t)sqlite3_column_bytes(st, 2), arg)) == MLA_OK)
			r = push(e, sqlite3_column_blob(st, 1));
	}
	if (r == MLA_OK && rc != SQLITE_DONE)
		r = store_fail(e->s, rc, "audit rows", e->diag);
	if (r == MLA_OK && (rc = sqlite3_step(e->rows)) == SQLITE_ROW)
		r = mla_fail(e->diag, MLA_ERR_STORE, "audit tree hash at level %d covering entry "
			     "%lld is beyond the log's %llu entries",
			     sqlite3_column_int(e->rows, 1),
			     (long long)sqlite3_column_int64(e->rows, 0),
			     (unsigned long long)e->c.size);
	else if (r == MLA_OK && rc != SQLITE_DONE)
		r = store_fail(e->s, rc, "audit tree rows", e->diag);
	return r;
}

mla_err store_tree_check(gw_store *s, store_entry_fn efn, void *arg, mla_merkle_compact *edge,
			 mla_diag *diag)
{
	struct edge e = {.fn = check_one, .s = s, .diag = diag};
	sqlite3_stmt *st = NULL;
	mla_err r;

	mla_merkle_compact_init(&e.c);
	if ((r = store_stmt(s, ST_TREE_SCAN, "SELECT seq, leaf, entry FROM audit ORDER BY seq",
			    &st, diag)) != MLA_OK ||
	    (r = store_stmt(s, ST_TREE_ROWS, "SELECT seq, level, hash FROM audit_tree ORDER BY "
			    "seq, level", &e.rows, diag)) != MLA_OK)
		goto out;
	r = check_scan(&e, st, efn, arg);
	*edge = e.c;
out:
	store_stmt_done(st);
	store_stmt_done(e.rows);
	return r;
}
