/* Retrieval notices (protocol/SPEC.md 16.10): the small document a requested State's gateway
 * sends when its agency first opens a received request (retrieved), or when nobody opened it
 * within the configured time (not-retrieved). It names the message and a time, nothing else:
 * no case content, no reader. */
#ifndef MLAGW_NOTICE_H
#define MLAGW_NOTICE_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/buf.h"
#include "mlagw/envelope.h"
#include "mlagw/error.h"
#include "mlagw/limits.h"

#define MLA_NOTICE_NS "urn:mlagw:notice:1"
#define MLA_NOTICE_MAX 1024 /* bytes: a notice document is never longer */

typedef enum mla_notice_status {
	MLA_NOTICE_RETRIEVED = 0,     /* header Action retrieved: at is the first reading */
	MLA_NOTICE_NOT_RETRIEVED = 1, /* not-retrieved: at is when the period ran out */
} mla_notice_status;

typedef struct mla_notice {
	mla_notice_status status;
	char message_id[MLA_UUID_LEN + 1]; /* the request read (or not) */
	int64_t at_ms;                     /* 0 .. MLA_TIME_MS_MAX */
} mla_notice;

/* "retrieved", "not-retrieved" (the header Action of the notice); NULL out of range. */
const char *mla_notice_action(mla_notice_status s);
/* Non-zero when action is the Action of a retrieval notice. */
int mla_notice_is_action(const char *action);
/* Appends the document to out (reset first). MLA_ERR_ARG for a bad id, time or status. */
mla_err mla_notice_build(const mla_notice *n, mla_buf *out, mla_diag *diag);
/* The strict inverse: exactly the shape SPEC 16.10 gives (hardened parse under limits, at
 * most MLA_NOTICE_MAX bytes); MLA_ERR_SCHEMA naming what is wrong otherwise. */
mla_err mla_notice_parse(const uint8_t *doc, size_t len, const mla_limits *limits,
			 mla_notice *out, mla_diag *diag);

/* --- records of other channels (SPEC 16.11) --- */
/* A request that had to travel by other means (courier, diplomatic channel, fax, ...)
 * because the link was down, recorded by the requesting authority: the means, when it was
 * sent, the SHA-256 of the document sent. Never the document. */
#define MLA_OTHER_CHANNEL_NS "urn:mlagw:other-channel:1"
#define MLA_OTHER_CHANNEL_ACTION "other-channel"
#define MLA_OTHER_MEANS_MAX 16
typedef struct mla_other_channel {
	char means[MLA_OTHER_MEANS_MAX + 1]; /* one of mla_other_means */
	int64_t sent_ms;                     /* 0 .. MLA_TIME_MS_MAX */
	uint8_t sha256[32];                  /* of the document as sent */
} mla_other_channel;
/* courier, diplomatic, fax, post, email, hand, other; NULL-terminated. */
extern const char *const mla_other_means[];
/* Appends the document to out (reset first); MLA_ERR_ARG for an unknown means or bad time. */
mla_err mla_other_channel_build(const mla_other_channel *o, mla_buf *out, mla_diag *diag);
/* The strict inverse (MLA_ERR_SCHEMA naming what is wrong). */
mla_err mla_other_channel_parse(const uint8_t *doc, size_t len, const mla_limits *limits,
				mla_other_channel *out, mla_diag *diag);
/* "other-channel means=M sent-at=T document-sha256=HEX", the audit entry's reason for the
 * record (SPEC 14, 16.11): metadata and the digest only. out holds at least 160 bytes. */
mla_err mla_other_channel_reason(const mla_other_channel *o, char *out, size_t n);

#endif
