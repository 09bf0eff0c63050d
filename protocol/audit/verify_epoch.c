/* Audit bundle verification across log epochs (SPEC 14 "Log epochs", 15 "Several bundles"):
 * a log of epoch N >= 2 opens with an epoch-opened entry naming the head of epoch N-1 it
 * continues from. With that epoch's bundle among the inputs the link is checked (signed by
 * that log's audit key, and the archive's history at its size when the archive reaches it)
 * and the gap reported honestly: entries the peers cosigned that no bundle holds. */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "verify_internal.h"

#define LINK_MSG_MAX 400

/* The root of the first n entries of v (n <= v->nentries), read again from its bundle. */
static int leaves_root(const struct vctx *v, uint64_t n, uint8_t root[32])
{
	return audit_roots_at(v, &n, 1, (uint8_t(*)[32])root) == 0;
}

/* The latest checkpoint of v that opened (0: none). */
static uint64_t archived_size(const struct vctx *v)
{
	return v->last_cp_size;
}

/* The link of e (entry 0 of cur) against prev, the previous epoch's bundle. */
static void check_link(const struct vctx *prev, const mla_audit_entry *e, mla_audit_link *l,
		       char *msg, size_t cap)
{
	uint8_t root[32];
	mla_checkpoint cp;
	mla_buf note;
	int sig_ok;

	mla_buf_init(&note, MLA_NOTE_MAX);
	/* the head was signed by the previous log's last audit key (SPEC 14 "Audit key
	 * changes": the key in force at its end) */
	sig_ok = prev->have_key && prev->nkeys > 0 &&
		 mla_audit_entry_link_note(e, &note) == MLA_OK &&
		 mla_checkpoint_open((const char *)note.data, note.len,
				     &prev->keys[prev->nkeys - 1].v, 1, &cp, NULL, NULL) == MLA_OK;
	mla_buf_free(&note);
	l->checked = 1;
	l->archived = archived_size(prev);
	if (!sig_ok) {
		l->failed = 1;
		(void)mla_snprintf_cut(msg, cap, "%s links to %s at %" PRIu64 " entries: the link "
				       "is not signed by that log's audit key", l->origin,
				       l->prev_origin, l->prev_size);
	} else if (l->prev_size > l->archived) {
		l->lost = l->prev_size - l->archived;
		(void)mla_snprintf_cut(msg, cap, "%s links to %s at %" PRIu64 " entries (signature "
				       "verified); the archive holds %" PRIu64 ": entries %" PRIu64
				       "..%" PRIu64 " (%" PRIu64 ") were cosigned by peers and are in "
				       "no bundle (lost with the store)", l->origin, l->prev_origin,
				       l->prev_size, l->archived, l->archived, l->prev_size - 1,
				       l->lost);
	} else if (l->prev_size > prev->nentries || !leaves_root(prev, l->prev_size, root) ||
		   memcmp(root, e->prev_root, 32) != 0) {
		l->failed = 1;
		(void)mla_snprintf_cut(msg, cap, "%s links to %s at %" PRIu64 " entries, whose root "
				       "is not the archive's root at that size (another history)",
				       l->origin, l->prev_origin, l->prev_size);
	} else {
		(void)mla_snprintf_cut(msg, cap, "%s links to %s at %" PRIu64 " entries (signature "
				       "and root verified against the archive of %" PRIu64
				       " entries): no entry lost%s", l->origin, l->prev_origin,
				       l->prev_size, l->archived, l->prev_size < l->archived
				       ? "; the archive's later entries were signed but not continued"
				       : "");
	}
}

static int add_link(const struct vctx *vs, size_t n, size_t i, mla_audit_result *res)
{
	const struct vctx *v = &vs[i];
	const mla_audit_entry *e = &v->first;
	mla_audit_link *l = &res->links[res->nlinks];
	char msg[LINK_MSG_MAX];

	memset(l, 0, sizeof(*l));
	l->bundle = i;
	l->prev = SIZE_MAX;
	memcpy(l->origin, v->origin, sizeof(l->origin));
	mla_require(mla_strcpy(l->prev_origin, sizeof(l->prev_origin), e->prev_origin) == MLA_OK);
	l->prev_size = e->prev_size;
	for (size_t j = 0; j < n && l->prev == SIZE_MAX; j++)
		if (j != i && vs[j].b != NULL && strcmp(vs[j].origin, e->prev_origin) == 0)
			l->prev = j;
	if (l->prev == SIZE_MAX)
		(void)mla_snprintf_cut(msg, sizeof(msg), "%s links to %s at %" PRIu64 " entries: "
				       "not checked (give that epoch's bundle too)", l->origin,
				       l->prev_origin, l->prev_size);
	else
		check_link(&vs[l->prev], e, l, msg, sizeof(msg));
	if ((l->message = strdup(msg)) == NULL)
		return -1;
	res->nlinks++;
	res->failures += (size_t)l->failed;
	return 0;
}

int audit_epoch_links(const struct vctx *vs, size_t n, mla_audit_result *res)
{
	if ((res->links = calloc(n, sizeof(*res->links))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct vctx *v = &vs[i];

		if (v->b == NULL || v->epoch < 2 || !v->have_first ||
		    v->first.event != MLA_AUDIT_EPOCH_OPENED)
			continue; /* verify_entries reported it */
		if (add_link(vs, n, i, res) != 0)
			return -1;
	}
	return 0;
}
