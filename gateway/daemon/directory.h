/* The signed directory in the gateway (SPEC 18.6): loading at start and reload, the serial
 * held across restarts, the peers it gives, its expiry and grace. */
#ifndef MLAGW_GATEWAY_DIRECTORY_H
#define MLAGW_GATEWAY_DIRECTORY_H

#include <stdint.h>
#include <time.h>

#include "core/gw.h"
#include "mlagw/directory.h"

/* With [directory]: reads and verifies its file (against [trust], the publisher, the current
 * time, the grace period and the serial held in store), then makes every State it lists
 * other than ours a peer of c, the keys set in a [peer CC] section overriding the
 * directory's (each override logged). A [peer CC] the directory does not list needs its url
 * and encrypt_cert. With [directory] entry, that file is verified as this State's signed
 * entry. *out (NULL without [directory]) is the caller's; on success the document's and the
 * entry's bytes replace *doc_out and *entry_out (initialised buffers; either may be NULL). */
mla_err gw_directory_load(gw_store *store, struct gw_config *c, mla_directory **out,
			  mla_buf *doc_out, mla_buf *entry_out, mla_diag *diag);

/* What a load gives a new configuration snapshot. */
struct gw_dir_loaded {
	mla_directory *dir;
	mla_buf doc, entry;
};
void gw_dir_loaded_init(struct gw_dir_loaded *l);
/* Moves everything l holds into s (whose own are released first); l is left empty. */
void gw_dir_loaded_move(struct gw_dir_loaded *l, struct gw_snapshot *s);
void gw_dir_loaded_free(struct gw_dir_loaded *l);
/* Records dir (NULL: nothing) as the one held, for the next start and reload, and logs
 * it; nothing when prev (the one in force before, or NULL) has its serial. */
mla_err gw_directory_adopted(gw_store *store, const mla_directory *dir,
			     const mla_directory *prev, mla_diag *diag);

/* dir_record.c: records the directory in force (g->snap->dir; nothing without one) in the
 * audit log unless its serial is recorded already: its signed bytes kept by digest, the
 * serial held, a directory-adopted entry whose reason is how ("start", "reload"), and the
 * serial recorded, in one transaction (the group commit open, or one of its own). */
mla_err gw_directory_record(struct gw *g, const char *how, mla_diag *diag);

/* How the directory in force stands at now: warning (past an expiry, within the grace
 * period) or refusal (past it), "" otherwise; seconds to the earliest expiry. */
struct gw_dir_judgement {
	int64_t seconds_left;
	char warning[MLA_DIAG_MAX];
	char refusal[MLA_DIAG_MAX];
};
void gw_directory_judge(const mla_directory *dir, uint64_t grace_ms, time_t now,
			struct gw_dir_judgement *j);

/* The earliest time after `after` at which an entry's announced next encryption certificate
 * takes over (its next_from), or 0 when none does. */
time_t gw_directory_next_takeover(const mla_directory *dir, time_t after);

/* Notices a replaced file without reading it. 0 when it cannot be stat'ed. */
struct gw_dir_stamp {
	int64_t size, mtime_ns;
};
int gw_directory_file_stamp(const char *path, struct gw_dir_stamp *s);

#endif
