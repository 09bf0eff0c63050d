/* The read-only check of a store (store_check.h): quick_check on the reader's connection, then
 * one pass over the audit table re-hashing each entry against its stored leaf, the stored
 * leaves folded into a compact Merkle range up to the latest checkpoint's size, whose note
 * must verify under a held key and whose root must be the range's. Memory stays flat. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mlagw/audit_entry.h"
#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "store_check.h"
#include "store_internal.h"

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void store_reader_interrupt(store_reader *r)
{
	sqlite3_interrupt(r->db);
}

struct scan {
	struct store_check_result *res;
	mla_merkle_compact range; /* stored leaves 0 .. checkpoint size */
	uint64_t want, covered;
	const volatile int *stop;
	/* schema 7: the persisted tree hashes, recomputed from every stored leaf in order and
	 * compared with their rows (a second cursor, key order), as the daemon's start does */
	sqlite3_stmt *rows;
	mla_merkle_compact edge;
	int tree_bad;
};

/* The next stored tree row must be (seq, level) with hash h. */
static mla_err tree_row(void *arg, uint64_t seq, unsigned level, const uint8_t h[32])
{
	struct scan *sc = arg;

	int rc = store_tree_row_step(sc->rows, seq, level, h, sc->res->log, sizeof(sc->res->log));

	if (rc == SQLITE_ROW)
		return MLA_OK;
	sc->tree_bad = 1; /* reported once; the entries' check goes on */
	if (rc != SQLITE_MISMATCH)
		(void)mla_snprintf_cut(sc->res->log, sizeof(sc->res->log), "reading the audit "
				       "tree: %s", sqlite3_errstr(rc));
	return MLA_OK;
}

/* After the scan: no tree row may lie beyond the leaves. */
static void tree_end(struct scan *sc)
{
	if (sc->rows == NULL || sc->tree_bad || sqlite3_step(sc->rows) != SQLITE_ROW)
		return;
	(void)mla_snprintf_cut(sc->res->log, sizeof(sc->res->log), "audit tree hash at level %d "
			       "covering entry %lld is beyond the log's %llu entries",
			       sqlite3_column_int(sc->rows, 1),
			       (long long)sqlite3_column_int64(sc->rows, 0),
			       (unsigned long long)sc->edge.size);
}

static void bad(struct scan *sc, uint64_t seq)
{
	if (sc->res->bad_entries++ == 0)
		sc->res->first_bad = seq;
}

/* One entry: its bytes hash to its stored leaf and parse as the canonical entry of its seq. */
static int entry_ok(const struct store_audit_row *row)
{
	mla_audit_entry e;
	uint8_t want[32];

	return row->entry != NULL && row->leaf != NULL &&
	       mla_merkle_leaf_hash(row->entry, row->len, want) == MLA_OK &&
	       memcmp(want, row->leaf, sizeof(want)) == 0 &&
	       mla_audit_entry_parse(row->entry, row->len, &e, NULL) == MLA_OK && e.seq == row->seq;
}

static mla_err scan_row(const struct store_audit_row *row, void *arg)
{
	struct scan *sc = arg;

	if (sc->stop != NULL && *sc->stop)
		return MLA_ERR_INTERNAL;
	if (row->seq != sc->want) { /* entries want .. seq - 1 are missing */
		bad(sc, sc->want);
		sc->res->bad_entries += row->seq - sc->want - 1;
		sc->want = row->seq;
	}
	sc->want++;
	sc->res->entries++;
	if (!entry_ok(row))
		bad(sc, row->seq);
	if (sc->rows != NULL && !sc->tree_bad && row->leaf != NULL && row->seq == sc->edge.size)
		(void)store_tree_push(&sc->edge, row->leaf, tree_row, sc);
	if (row->seq == sc->covered && row->leaf != NULL && row->seq < sc->res->checkpoint &&
	    mla_merkle_compact_append(&sc->range, row->leaf) == MLA_OK)
		sc->covered++;
	return MLA_OK;
}

struct latest {
	uint64_t size;
	mla_buf note;
	mla_err r;
};

static mla_err latest_row(const struct store_checkpoint_row *row, void *arg)
{
	struct latest *l = arg;

	l->size = row->size;
	l->note.len = 0;
	return l->r = mla_buf_append(&l->note, row->note, row->len);
}

/* The latest checkpoint against the keys and the range of the stored leaves. */
static void check_checkpoint(const struct store_keyring *k, const struct latest *l,
			     const struct scan *sc, struct store_check_result *res)
{
	uint8_t root[MLA_MERKLE_HASH_LEN];
	mla_diag d = {MLA_OK, ""};
	mla_checkpoint cp;
	size_t which = 0;

	res->keys = k->n;
	if (k->n == 0)
		(void)mla_snprintf_cut(res->cp, sizeof(res->cp), "checkpoint of %llu entries: "
				       "the store records no audit key (it predates the key list): "
				       "name the audit certificate with --audit-cert",
				       (unsigned long long)l->size);
	else if (store_keyring_open(k, (const char *)l->note.data, l->note.len, &cp, &which,
				    &d) != MLA_OK)
		(void)mla_snprintf_cut(res->cp, sizeof(res->cp), "checkpoint of %llu entries %s",
				       (unsigned long long)l->size, d.msg);
	else if (cp.size != l->size)
		(void)mla_snprintf_cut(res->cp, sizeof(res->cp), "checkpoint of %llu entries "
				       "names size %llu", (unsigned long long)l->size,
				       (unsigned long long)cp.size);
	else if (sc->covered != l->size || mla_merkle_compact_root(&sc->range, root) != MLA_OK)
		(void)mla_snprintf_cut(res->cp, sizeof(res->cp), "checkpoint of %llu entries: "
				       "only %llu leaves read", (unsigned long long)l->size,
				       (unsigned long long)sc->covered);
	else if (memcmp(root, cp.root, sizeof(root)) != 0)
		(void)mla_snprintf_cut(res->cp, sizeof(res->cp), "checkpoint of %llu entries: its "
				       "root is not the root of the stored leaves",
				       (unsigned long long)l->size);
	if (res->cp[0] != '\0') {
		res->cp_failed = 1;
		return;
	}
	res->key_first = k->first[which];
	(void)mla_note_vkey_format(&k->v[which], res->vkey, sizeof(res->vkey));
}

static mla_err check_log(store_reader *r, const struct store_keyring *extra,
			 const volatile int *stop, struct store_check_result *res, mla_diag *diag)
{
	struct store_keyring k = {0};
	struct latest l = {0, {0}, MLA_OK};
	struct scan sc = {res, {0}, 0, 0, stop, NULL, {0}, 0};
	mla_diag d = {MLA_OK, ""};
	mla_err e = MLA_OK;

	mla_buf_init(&l.note, MLA_NOTE_MAX + 1);
	mla_merkle_compact_init(&sc.range);
	for (size_t i = 0; extra != NULL && i < extra->n && e == MLA_OK; i++)
		e = store_keyring_add(&k, &extra->v[i], extra->first[i]);
	if (e != MLA_OK)
		goto out;
	if ((e = store_reader_keyring(r, &k, &d)) != MLA_OK && e != MLA_ERR_NOMEM) {
		(void)mla_snprintf_cut(res->log, sizeof(res->log), "%s", d.msg);
		e = MLA_OK;
	} else if (e == MLA_OK && (e = store_reader_checkpoints(r, latest_row, &l, &d)) != MLA_OK &&
		   e != MLA_ERR_NOMEM) {
		(void)mla_snprintf_cut(res->log, sizeof(res->log), "reading the checkpoints: %s",
				       d.msg);
		e = MLA_OK;
	}
	if (e != MLA_OK || res->log[0] != '\0')
		goto out;
	res->checkpoint = l.size;
	mla_merkle_compact_init(&sc.edge);
	if (store_reader_version(r) >= 7 &&
	    (e = store_reader_stmt(r, SR_TREE_ROWS, "SELECT seq, level, hash FROM audit_tree ORDER "
				   "BY seq, level", &sc.rows, &d)) != MLA_OK) {
		(void)mla_snprintf_cut(res->log, sizeof(res->log), "reading the audit tree: %s",
				       d.msg);
		e = MLA_OK;
		goto out;
	}
	if ((e = store_reader_audit(r, 0, UINT64_MAX, scan_row, &sc, &d)) != MLA_OK) {
		if (stop != NULL && *stop)
			goto out;
		(void)mla_snprintf_cut(res->log, sizeof(res->log), "reading the audit log at entry "
				       "%llu: %s", (unsigned long long)sc.want,
				       d.msg[0] ? d.msg : mla_strerror(e));
		e = MLA_OK;
	}
	else
		tree_end(&sc);
	if (res->checkpoint > 0)
		check_checkpoint(&k, &l, &sc, res);
out:
	if (sc.rows != NULL)
		store_stmt_done(sc.rows);
	if (res->log[0] != '\0' || res->bad_entries > 0 || res->cp_failed)
		res->failed |= STORE_CHECK_LOG;
	store_keyring_free(&k);
	mla_buf_free(&l.note);
	if (e == MLA_ERR_INTERNAL)
		return mla_fail(diag, e, "store check: stopped");
	return e == MLA_OK ? MLA_OK : mla_fail(diag, e, "store check: out of memory");
}

mla_err store_check_run(store_reader *r, unsigned what, const struct store_keyring *extra,
			const volatile int *stop, struct store_check_result *res, mla_diag *diag)
{
	double t0 = mono_s();
	mla_err e = MLA_OK;

	memset(res, 0, sizeof(*res));
	if (what & STORE_CHECK_QUICK) {
		if (store_quick_check_db(r->db, res->quick, sizeof(res->quick), NULL) != MLA_OK)
			res->failed |= STORE_CHECK_QUICK;
		res->quick_s = mono_s() - t0;
		if (stop != NULL && *stop)
			return mla_fail(diag, MLA_ERR_INTERNAL, "store check: stopped");
	}
	if (what & STORE_CHECK_LOG) {
		t0 = mono_s();
		e = check_log(r, extra, stop, res, diag);
		res->log_s = mono_s() - t0;
	}
	if (e == MLA_OK && (what & STORE_CHECK_CASES))
		e = store_check_cases(r, res, diag);
	if (e == MLA_OK && (what & STORE_CHECK_DIRS))
		e = store_check_dirs(r, NULL, NULL, res, diag);
	return e;
}
