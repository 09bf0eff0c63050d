/* The local API's uploads of attachment files (SPEC 17.14, docs/api/README.md "Uploads"):
 * one file per upload under "<store folder>/uploads/", appended to by bounded ranged requests
 * and durable (fdatasync) before a chunk is acknowledged; no SQLite row. An upload is
 * "<id>.part" while it grows and "<id>.up" once its last chunk declared the total, so the
 * held size is the file's size and a restart keeps every acknowledged byte. */
#ifndef MLAGW_GATEWAY_UPLOAD_H
#define MLAGW_GATEWAY_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/error.h"

/* lower-case hex: 8 random bytes, then the first 8 of SHA-256 of the owner ("role:name"),
 * so that an upload is only ever its creator's (upload_owned_by) without a table */
#define UPLOAD_ID_LEN 32
#define UPLOAD_CHUNK_MAX ((size_t)8 << 20) /* bytes of one PUT, at most */
#define UPLOAD_PATH_MAX 4096

struct upload_state {
	uint64_t received; /* bytes held */
	int complete;      /* the last chunk came: received is the upload's size */
	int64_t mtime_ms;  /* last change (for expiry) */
};

/* Why an append was refused (beside its mla_err), for the API's answer. */
enum upload_refusal {
	UPLOAD_OK = 0,
	UPLOAD_OFFSET,    /* the chunk does not start at the held size (409, held in state) */
	UPLOAD_DONE,      /* the upload is complete already (409) */
	UPLOAD_TOO_LARGE, /* beyond max_attachment_bytes (413) */
	UPLOAD_NO_SPACE,  /* the disk would keep less than the configured free space (507) */
	UPLOAD_BAD_TOTAL, /* the declared total is not offset + length (400) */
	UPLOAD_BUSY,      /* another chunk of the upload is being written (409) */
};

/* One chunk: bytes [offset, offset + len) of the file; last: total is declared (= offset +
 * len). The caps: max_bytes per upload, min_free bytes the disk must keep after the write. */
struct upload_chunk {
	uint64_t offset;
	const uint8_t *data;
	size_t len;
	int last;
	uint64_t total;
	uint64_t max_bytes;
	uint64_t min_free;
};

/* 1 if id is UPLOAD_ID_LEN lower-case hex digits (so it never names another path). Inline:
 * the API's pure parsers use it too. */
static inline int upload_id_ok(const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0' && i < UPLOAD_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return i == UPLOAD_ID_LEN && id[i] == '\0';
}
/* A new empty upload of owner with a fresh id (the folder is made and synced if missing). */
mla_err upload_create(const char *store_db, const char *owner, char id[UPLOAD_ID_LEN + 1],
		      mla_diag *diag);
/* 1 if the (well-formed) id was made for owner. */
int upload_owned_by(const char *id, const char *owner);
/* The upload's state; MLA_ERR_NOT_FOUND when there is no such upload. */
mla_err upload_stat(const char *store_db, const char *id, struct upload_state *st,
		    mla_diag *diag);
/* Appends the chunk (write, fdatasync; the last one renames the file complete and syncs the
 * folder). On a refusal nothing of the chunk is kept (a failed write is cut back off), *why
 * says which, and st holds the upload's state. */
mla_err upload_append(const char *store_db, const char *id, const struct upload_chunk *c,
		      struct upload_state *st, enum upload_refusal *why, mla_diag *diag);
/* The path of a complete upload ("<id>.up"), for sealing; MLA_ERR_NOT_FOUND when it is not
 * complete (or absent). */
mla_err upload_complete_path(const char *store_db, const char *id, char *out, size_t cap,
			     mla_diag *diag);
/* Removes the upload, complete or not; a missing one is MLA_OK. */
mla_err upload_remove(const char *store_db, const char *id, mla_diag *diag);
/* Removes every upload not changed since before_ms (wall clock); *n counts them. */
mla_err upload_expire(const char *store_db, int64_t before_ms, size_t *n, mla_diag *diag);
/* upload_expire, and *owned counts owner's uploads left (complete or not), for the cap on
 * the uploads one caller may hold ([limits] max_uploads_per_actor). */
mla_err upload_expire_count(const char *store_db, int64_t before_ms, const char *owner,
			    size_t *n, size_t *owned, mla_diag *diag);

#endif
