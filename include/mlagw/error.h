/* mlagw error codes: the one error type every function returns.
 * Codes are negative; mla_strerror() gives the generic message and an mla_diag
 * carries the specific one ("envelope addressed to CO, this gateway is ES"). */
#ifndef MLAGW_ERROR_H
#define MLAGW_ERROR_H

#include <stddef.h>

typedef enum mla_err {
	MLA_OK = 0,
	MLA_ERR_INTERNAL = -1,
	MLA_ERR_NOMEM = -2,
	MLA_ERR_IO = -3,
	MLA_ERR_ARG = -4,
	MLA_ERR_USAGE = -5,
	MLA_ERR_CONFIG = -6,
	MLA_ERR_KEY_FILE = -7,
	MLA_ERR_CERT_FILE = -8,
	MLA_ERR_EXISTS = -9,
	MLA_ERR_NOT_FOUND = -10,
	MLA_ERR_FORBIDDEN = -11,
	/* parsing and structure */
	MLA_ERR_TOO_LARGE = -20,
	MLA_ERR_XML_MALFORMED = -21,
	MLA_ERR_XML_DOCTYPE = -22,
	MLA_ERR_XML_EXTERNAL_ENTITY = -23,
	MLA_ERR_XML_ENTITY_EXPANSION = -24,
	MLA_ERR_XML_DEPTH = -25,
	MLA_ERR_XML_NODES = -26,
	MLA_ERR_SCHEMA = -27,
	MLA_ERR_BASE64 = -28,
	MLA_ERR_HEADER = -29,
	MLA_ERR_XML_ATTRS = -31,
	/* a format version this reader does not read (SPEC 11 rule 2, 8) */
	MLA_ERR_UNSUPPORTED_VERSION = -30,
	/* algorithms and signature */
	MLA_ERR_ALG_WEAK = -40,
	MLA_ERR_ALG_UNKNOWN = -41,
	MLA_ERR_SIG_INVALID = -42,
	MLA_ERR_SIG_WRAPPING = -43,
	MLA_ERR_SIG_NOT_COVERED = -44,
	/* certificates */
	MLA_ERR_CERT_UNTRUSTED = -60,
	MLA_ERR_CERT_WRONG_STATE = -61,
	MLA_ERR_CERT_EXPIRED = -62,
	MLA_ERR_CERT_NOT_YET_VALID = -63,
	MLA_ERR_CERT_USAGE = -64,
	MLA_ERR_CERT_WEAK_KEY = -65,
	MLA_ERR_UNKNOWN_STATE = -66,
	MLA_ERR_CERT_REVOKED = -67,        /* a CRL or OCSP answer says revoked (SPEC 18.7) */
	MLA_ERR_REVOCATION_UNKNOWN = -68,  /* no current CRL or OCSP answer: fail closed */

	MLA_ERR_CASE_STEP = -70,      /* a step the case lifecycle does not allow (SPEC 16.8) */
	MLA_ERR_CASE_CONFLICT = -71,  /* a step made on a stale case state (crossing steps) */
	/* confidentiality */
	MLA_ERR_WRONG_RECIPIENT = -80,
	MLA_ERR_NO_DECRYPT_KEY = -81,
	MLA_ERR_DECRYPT = -82,
	MLA_ERR_INFLATE = -83,
	MLA_ERR_ZIP_BOMB = -84,
	/* gateway exchange */
	MLA_ERR_RECEIPT_MISMATCH = -90,
	MLA_ERR_DUPLICATE = -91,
	MLA_ERR_REPLAY = -92,
	MLA_ERR_CLOCK_SKEW = -93,
	MLA_ERR_PEER_MISMATCH = -94,
	MLA_ERR_UNKNOWN_PEER = -95,
	MLA_ERR_STORE = -96,
	MLA_ERR_DEADLINE = -97,
	MLA_ERR_TRANSPORT = -98,
	MLA_ERR_PEER_REFUSED = -99,
	/* the signed directory (SPEC 18) */
	MLA_ERR_DIR_SERIAL = -50,    /* serial lower than the held one, or equal with other bytes */
	MLA_ERR_DIR_EXPIRED = -51,   /* directory or entry expired past the grace period */
	MLA_ERR_NO_AUTHORITY = -52,  /* no competent authority for the kind in that State */
	MLA_ERR_LANGUAGE = -53,      /* a language the authority does not accept */
	MLA_ERR_LAST_ = -100
} mla_err;

/* Generic message for a code; never NULL. */
const char *mla_strerror(mla_err err);
/* Stable short name of a code ("sig-not-covered"), for JSON and receipts. */
const char *mla_errname(mla_err err);

/* The specific message of a failure. Bounded; never holds secrets or content. */
#define MLA_DIAG_MAX 256
typedef struct mla_diag {
	mla_err code;
	char msg[MLA_DIAG_MAX];
} mla_diag;

/* Records err with a printf-style message in diag (if diag is not NULL) and returns err. */
mla_err mla_fail(mla_diag *diag, mla_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* diag's message, or the generic one when none was set. */
const char *mla_diag_message(const mla_diag *diag);

/* Internal invariants (STYLE item 7): what no input, file or library can cause is checked
 * with mla_require(cond), which writes "mlagw: invariant failed: COND at FILE:LINE" to stderr
 * and aborts. cond is always evaluated, in every build. Anything input, the environment or a
 * library can cause returns an error instead. */
#define mla_require(cond) \
	((cond) ? (void)0 : mla_require_failed(#cond, __FILE__, __LINE__))
_Noreturn void mla_require_failed(const char *expr, const char *file, int line);

#endif
