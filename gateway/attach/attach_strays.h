/* A receiver killed between reserving a transfer's part files and storing its row leaves a
 * folder no message of the store holds, with nothing but "<n>.ct.part" files, fallocated to
 * the full ciphertext (SPEC 17.13, Disk). No receipt was given for it and the sender resends
 * the whole transfer. A sender killed while it seals a submission leaves one with its
 * "<n>.tree" files, complete "<n>.ct" and the "<n>.ct.part" being written (SPEC 17.14,
 * Submission): its row is stored only once every file is complete, so no 202 was given and
 * the client's retry seals it again. Either folder holds nothing anyone was told is kept:
 * mlagwd removes such folders at start, before it serves, and logs each. Any other stray (a
 * folder of complete files only, a name outside the layout) is only reported by the check
 * (attach_check.h): it may be the evidence of a message a restore lost. */
#ifndef GW_ATTACH_STRAYS_H
#define GW_ATTACH_STRAYS_H
#include <stdint.h>

#include "mlagw/envelope.h"
#include "mlagw/error.h"
#include "store/store_reader.h"

struct attach_stray {
	char message_id[MLA_UUID_LEN + 1];
	uint64_t files, bytes; /* the files it held */
	int sealing;           /* a sender's sealing cut short, else a receiver's reservation */
	mla_err err;           /* MLA_OK once removed */
	mla_diag diag;
};

typedef void (*attach_stray_fn)(const struct attach_stray *s, void *arg);

/* Removes every such folder under the attachments root of store_db (r: a reader of that
 * store), calling fn for each (removed, or why not). Only while no reservation can be under
 * way: at start. MLA_OK unless the store could not be read. */
mla_err attach_strays_remove(const char *store_db, store_reader *r, attach_stray_fn fn,
			     void *arg, mla_diag *diag);

#endif
