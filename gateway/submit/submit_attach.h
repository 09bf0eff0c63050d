/* Attachments of a submission (SPEC 17.14): the uploads a submission names, checked in the
 * loop thread before anything is sealed, then sealed in a worker, streaming in constant
 * memory, into the message's attachment files (SPEC 17.13) and the list that
 * mla_envelope_seal_attached signs. */
#ifndef MLAGW_GATEWAY_SUBMIT_ATTACH_H
#define MLAGW_GATEWAY_SUBMIT_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/attach.h"
#include "mlagw/error.h"
#include "upload.h"

struct gw_config;
struct gw_peer;

/* One attachment as the submission names it. */
struct submit_attach_spec {
	char upload[UPLOAD_ID_LEN + 1];
	char name[MLA_ATTACH_NAME_MAX + 1];
	char type[MLA_ATTACH_TYPE_MAX + 1];
	int compress; /* gzip before segmenting (SPEC 17.6); off by default */
	uint64_t size; /* the upload's bytes, set by submit_attach_check */
};

struct submit_attach {
	size_t n; /* 1 to MLA_ATTACH_MAX; 0: none */
	struct submit_attach_spec item[MLA_ATTACH_MAX];
};

/* Whether peer reads envelope version 3 ([peer CC] envelope_versions lists 3). */
int submit_peer_reads_attachments(const struct gw_peer *peer);

/* Before sealing, in the loop thread: each upload is complete and the caller's (owner), each
 * within [limits] max_attachment_bytes, all within max_message_attachment_bytes, and the disk
 * has room for their ciphertext and trees beside upload_min_free_bytes. Fills each size.
 * MLA_ERR_NOT_FOUND (an upload missing, not complete or another's), MLA_ERR_TOO_LARGE,
 * MLA_ERR_IO (no room: *no_space set); diag names the attachment, never its name. */
mla_err submit_attach_check(const struct gw_config *c, const char *owner,
			    struct submit_attach *a, int *no_space, mla_diag *diag);

/* In a worker: seals every attachment of a for message_id into the message's files (each
 * "<n>.ct" and "<n>.tree" complete and synced when this returns MLA_OK) and fills list
 * (public and private parts) for mla_envelope_seal_attached. On failure the message's folder
 * is removed. */
mla_err submit_attach_seal(const struct gw_config *c, const char *message_id,
			   const struct submit_attach *a, mla_attach_list *list, mla_diag *diag);

#endif
