/* Witnessing in the store (see store.h): the peers' checkpoints this gateway cosigned, their
 * audit certificates, and the cosignatures peers returned for our own checkpoints. */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include <openssl/sha.h>

#include "store_internal.h"

#define NOTE_MAX 16384 /* MLA_NOTE_MAX */
#define CERTS_PER_STATE 32 /* years of yearly renewals; a peer cycling keys is refused */

mla_err store_witness_latest(gw_store *s, const char *origin, uint64_t *size,
			     uint8_t root[32], mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_WIT_LATEST,
			    "SELECT size, root FROM witnessed WHERE origin = ?1 "
			    "ORDER BY size DESC LIMIT 1", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE))
		r = store_fail(s, rc, "witness latest", diag);
	else if (rc == SQLITE_DONE)
		r = MLA_ERR_NOT_FOUND;
	else if ((r = store_col_digest(st, 1, root, "witness latest", diag)) == MLA_OK)
		*size = (uint64_t)sqlite3_column_int64(st, 0);
	store_stmt_done(st);
	return r;
}

mla_err store_witness_latest_note(gw_store *s, const char *origin, mla_buf *note,
				  mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r = MLA_OK;
	int rc;

	if ((rc = sqlite3_prepare_v2(s->db, "SELECT note FROM witnessed WHERE origin = ?1 "
				     "ORDER BY size DESC LIMIT 1", -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE))
		r = store_fail(s, rc, "witness latest note", diag);
	else if (rc == SQLITE_DONE)
		r = MLA_ERR_NOT_FOUND;
	else
		r = store_col_blob(st, 0, note, "witness latest note", diag);
	(void)sqlite3_finalize(st);
	return r;
}

mla_err store_peer_certs_each(gw_store *s, const char *state,
			      int (*fn)(const uint8_t *der, size_t len, void *arg), void *arg,
			      mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r = MLA_OK;
	int rc;

	if ((rc = sqlite3_prepare_v2(s->db, "SELECT der FROM peer_audit_certs WHERE state = ?1 "
				     "ORDER BY at_ms DESC", -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC)) != SQLITE_OK) {
		r = store_fail(s, rc, "peer certificates", diag);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn((const uint8_t *)sqlite3_column_blob(st, 0),
		       (size_t)sqlite3_column_bytes(st, 0), arg))
			goto out; /* found what it looked for */
	if (rc != SQLITE_DONE)
		r = store_fail(s, rc, "peer certificates", diag);
out:
	(void)sqlite3_finalize(st);
	return r;
}

mla_err store_witness_put(gw_store *s, const char *origin, uint64_t size, const uint8_t root[32],
			  const char *note, size_t len, int64_t at_ms, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	uint8_t old_root[32];
	uint64_t latest = 0;
	mla_err r;
	int own = 0, rc;

	if (size == 0 || size > (uint64_t)INT64_MAX || len == 0 || len > NOTE_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "store: witness put: bad arguments");
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	r = store_witness_latest(s, origin, &latest, old_root, diag);
	if (r == MLA_OK && latest >= size) {
		r = mla_fail(diag, MLA_ERR_EXISTS, "store: %s already cosigned at size %llu", origin,
			     (unsigned long long)latest);
		goto out;
	}
	if (r != MLA_OK && r != MLA_ERR_NOT_FOUND)
		goto out;
	if ((r = store_stmt(s, ST_WIT_PUT,
			    "INSERT INTO witnessed (origin, size, root, note, at_ms) "
			    "VALUES (?1, ?2, ?3, ?4, ?5)", &st, diag)) != MLA_OK)
		goto out;
	if ((rc = sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)size)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob(st, 3, root, 32, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob64(st, 4, note, (sqlite3_uint64)len, SQLITE_STATIC)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 5, at_ms)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "witness put", diag);
out:
	store_stmt_done(st);
	return store_write_leave(s, own, r, diag);
}

/* MLA_OK when fp is known or state has fewer than CERTS_PER_STATE certificates. */
static mla_err peer_cert_room(gw_store *s, const char *state, const uint8_t fp[32],
			      mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc, known = 0, n = 0;

	if ((r = store_stmt(s, ST_PEER_CERT_COUNT,
			    "SELECT count(*), sum(fingerprint = ?2) FROM peer_audit_certs "
			    "WHERE state = ?1", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob(st, 2, fp, 32, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = store_fail(s, rc, "peer certificate count", diag);
	} else {
		n = sqlite3_column_int(st, 0);
		known = sqlite3_column_int(st, 1) > 0;
	}
	store_stmt_done(st);
	if (r == MLA_OK && !known && n >= CERTS_PER_STATE)
		r = mla_fail(diag, MLA_ERR_TOO_LARGE, "store: %s has presented %d audit "
			     "certificates already, the most kept", state, n);
	return r;
}

mla_err store_peer_cert_put(gw_store *s, const char *state, const uint8_t *der, size_t len,
			    mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	uint8_t fp[SHA256_DIGEST_LENGTH];
	mla_err r;
	int own = 0, rc;

	if (len == 0 || len > 65536)
		return mla_fail(diag, MLA_ERR_ARG, "store: peer certificate: bad length");
	SHA256(der, len, fp);
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((r = peer_cert_room(s, state, fp, diag)) != MLA_OK)
		goto out;
	if ((r = store_stmt(s, ST_PEER_CERT_PUT,
			    "INSERT OR IGNORE INTO peer_audit_certs (fingerprint, state, der, at_ms) "
			    "VALUES (?1, ?2, ?3, ?4)", &st, diag)) != MLA_OK)
		goto out;
	if ((rc = sqlite3_bind_blob(st, 1, fp, sizeof(fp), SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob64(st, 3, der, (sqlite3_uint64)len, SQLITE_STATIC)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 4, store_now_ms())) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "peer certificate put", diag);
out:
	store_stmt_done(st);
	return store_write_leave(s, own, r, diag);
}

/* "\n— <name> ": a signature line under name, anywhere after the text. */
static int has_signer(const mla_buf *note, const char *name)
{
	char pat[300];
	int n = snprintf(pat, sizeof(pat), "\n\xe2\x80\x94 %s ", name);

	return n > 0 && (size_t)n < sizeof(pat) &&
	       memmem(note->data, note->len, pat, (size_t)n) != NULL;
}

mla_err store_checkpoint_cosign(gw_store *s, uint64_t size, const char *name, const char *line,
				mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_buf note;
	mla_err r;
	int own = 0, rc;

	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((r = store_checkpoint_get(s, size, &note, NULL, diag)) != MLA_OK ||
	    has_signer(&note, name))
		goto out;
	if (note.len + strlen(line) > NOTE_MAX) {
		r = mla_fail(diag, MLA_ERR_TOO_LARGE, "store: checkpoint %llu: no room for "
						      "another cosignature", (unsigned long long)size);
		goto out;
	}
	if ((r = store_stmt(s, ST_CP_COSIGN,
			    "UPDATE checkpoints SET note = CAST(note || ?2 AS BLOB) WHERE size = ?1",
			    &st, diag)) != MLA_OK)
		goto out;
	if ((rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)size)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 2, line, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "checkpoint cosign", diag);
out:
	store_stmt_done(st);
	mla_buf_free(&note);
	return store_write_leave(s, own, r, diag);
}
