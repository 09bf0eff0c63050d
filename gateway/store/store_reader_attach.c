/* The messages whose attachment files lie beside the store (store_reader.h): the listing the
 * attachment check and the backup walk. The namespace filter keeps envelopes of versions 1
 * and 2 from being parsed at all: instr() over the blob costs a memory scan, not a parse. */
#include <string.h>

#include "store_internal.h"

#define V3_NS "CAST('urn:mlagw:envelope:3' AS BLOB)"

struct att_ctx {
	store_attach_msg_fn fn;
	void *arg;
};

static mla_err attach_row(sqlite3_stmt *st, void *arg, mla_diag *diag)
{
	const struct att_ctx *c = arg;
	struct store_attach_msg_row row;
	char id[64];
	mla_err e;

	if ((e = store_col_text(st, 0, id, sizeof(id), "attachments", diag)) != MLA_OK)
		return e;
	row.message_id = id;
	row.envelope = store_reader_blob(st, 1, &row.envelope_len);
	row.in_progress = sqlite3_column_int(st, 2);
	return c->fn(&row, c->arg);
}

mla_err store_reader_attach_msgs(store_reader *r, store_attach_msg_fn fn, void *arg,
				 mla_diag *diag)
{
#define ATT_BASE                                                                              \
	"SELECT message_id, envelope, 0 FROM outbox_envelope WHERE instr(envelope, " V3_NS     \
	") > 0 UNION ALL SELECT message_id, envelope, 0 FROM inbox WHERE envelope IS NOT NULL " \
	"AND instr(envelope, " V3_NS ") > 0"
	struct att_ctx c = {fn, arg};
	sqlite3_stmt *st = NULL;
	mla_err e;

	/* transfer_in from schema 13 (SPEC 17.13); before it, only the two tables */
	e = store_reader_stmt(r, SR_ATTACH_MSGS,
			      r->version >= 13 ? ATT_BASE " UNION ALL SELECT message_id, envelope, "
						 "1 FROM transfer_in ORDER BY 1"
					       : ATT_BASE " ORDER BY 1",
			      &st, diag);
#undef ATT_BASE
	if (e != MLA_OK)
		return e;
	return store_reader_each(r, st, attach_row, &c, "attachments", diag);
}

mla_err store_reader_attach_known(store_reader *r, const char *message_id, int *known,
				  mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err e;
	int rc;

	*known = 0;
	if ((e = store_reader_stmt(r, SR_ATTACH_KNOWN,
				   r->version >= 13
					   ? "SELECT 1 FROM outbox WHERE message_id = ?1 UNION ALL "
					     "SELECT 1 FROM inbox WHERE message_id = ?1 UNION ALL "
					     "SELECT 1 FROM transfer_in WHERE message_id = ?1"
					   : "SELECT 1 FROM outbox WHERE message_id = ?1 UNION ALL "
					     "SELECT 1 FROM inbox WHERE message_id = ?1",
				   &st, diag)) != MLA_OK)
		return e;
	if (sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC) != SQLITE_OK)
		return mla_fail(diag, MLA_ERR_STORE, "store: attachments: bind failed");
	rc = sqlite3_step(st);
	*known = rc == SQLITE_ROW;
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return mla_fail(diag, MLA_ERR_STORE, "store: attachments: %s",
				sqlite3_errmsg(r->db));
	return MLA_OK;
}
