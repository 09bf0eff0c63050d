/* The signed directory (protocol/SPEC.md section 18): per State its gateways, root, current and
 * next certificates, competent authorities per request kind, languages, channels and urgent
 * contact, each entry signed by its State; the assembled directory signed by a publisher, with
 * a serial and an expiry. Build, sign, verify from memory, look up, compare. */
#ifndef MLAGW_DIRECTORY_H
#define MLAGW_DIRECTORY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "mlagw/buf.h"
#include "mlagw/envelope.h"
#include "mlagw/error.h"

#define MLA_DIRECTORY_NS "urn:mlagw:directory:1"
#define MLA_DIRECTORY_VERSION 1
/* Bounds of a directory document (SPEC 18, Limits): fixed, not configuration. */
#define MLA_DIR_MAX_BYTES ((size_t)4 << 20)
#define MLA_DIR_MAX_ENTRY_BYTES ((size_t)256 << 10)
#define MLA_DIR_MAX_NODES 16384u
#define MLA_DIR_MAX_DEPTH 16u
#define MLA_DIR_MAX_ATTRS 8192u
#define MLA_DIR_MAX_STATES 64
#define MLA_DIR_MAX_URLS 4
#define MLA_DIR_MAX_INTERMEDIATES 4
#define MLA_DIR_URL_MAX 255
#define MLA_DIR_MAX_AUTHORITIES 16
#define MLA_DIR_MAX_LANGS 8
#define MLA_DIR_MAX_CHANNELS 8
#define MLA_DIR_TEXT_MAX 128
/* The description of an entry read by mla_dir_entry_from_json. */
#define MLA_DIR_MAX_JSON_BYTES ((size_t)64 << 10)

/* The four certificates a State announces, in document order. */
typedef enum mla_dir_use {
	MLA_DIR_TLS = 0,
	MLA_DIR_SIGNING,
	MLA_DIR_ENCRYPTION,
	MLA_DIR_AUDIT,
	MLA_DIR_USES
} mla_dir_use;

/* "tls", "signing", "encryption", "audit". */
const char *mla_dir_use_name(mla_dir_use u);

/* A certificate in use and, when a rotation is announced, the next one and when it takes
 * over. Owned by the entry. */
typedef struct mla_dir_cert {
	X509 *current;
	X509 *next;       /* NULL: no rotation announced */
	time_t next_from; /* 0 when next is NULL */
} mla_dir_cert;

typedef struct mla_dir_authority {
	char name[MLA_DIR_TEXT_MAX + 1];
	int central;
	uint32_t kinds; /* bit i: competent for mla_kinds[i] */
	size_t n_langs;
	char langs[MLA_DIR_MAX_LANGS][4]; /* ISO 639 codes, lower case */
} mla_dir_authority;

typedef struct mla_dir_channel {
	char type[16]; /* email, phone, fax, post, diplomatic, interpol, eurojust, other */
	char value[MLA_DIR_TEXT_MAX + 1];
} mla_dir_channel;

typedef struct mla_dir_entry {
	char state[3];
	time_t valid_from, valid_until;
	size_t n_urls;
	char urls[MLA_DIR_MAX_URLS][MLA_DIR_URL_MAX + 1];
	X509 *root;
	/* CA certificates between the root and the listed certificates, if any */
	size_t n_inter;
	X509 *inter[MLA_DIR_MAX_INTERMEDIATES];
	mla_dir_cert certs[MLA_DIR_USES];
	size_t n_auth;
	mla_dir_authority auth[MLA_DIR_MAX_AUTHORITIES];
	size_t n_channels;
	mla_dir_channel channels[MLA_DIR_MAX_CHANNELS];
	char contact_name[MLA_DIR_TEXT_MAX + 1];
	char contact_phone[40];
	char contact_email[MLA_DIR_TEXT_MAX + 1]; /* may be empty */
} mla_dir_entry;

/* A verified directory. Everything in it is owned by it: free with mla_directory_free. */
typedef struct mla_directory {
	uint64_t serial;
	time_t issued_at, expires;
	char publisher[3];
	uint8_t digest[32]; /* SHA-256 of the document bytes */
	size_t n;
	mla_dir_entry *entries; /* n entries, in document order */
} mla_directory;

/* Releases an entry's certificates (the struct itself is the caller's). NULL-safe. */
void mla_dir_entry_clear(mla_dir_entry *e);
/* Releases everything d owns, and d. NULL-safe. */
void mla_directory_free(mla_directory *d);

/* ---- building and signing (mlagw directory build|sign) ---- */

/* Reads an entry's description (JSON, SPEC 18 "Building an entry", at most
 * MLA_DIR_MAX_JSON_BYTES) into *out (the caller clears it with mla_dir_entry_clear, also on
 * failure). Certificate paths are relative to base_dir (NULL: the current directory). */
mla_err mla_dir_entry_from_json(const char *json, size_t len, const char *base_dir,
				mla_dir_entry *out, mla_diag *diag);

/* The unsigned Entry document of e (checked first, as a reader would) into *out
 * (initialised here; the caller frees it). */
mla_err mla_dir_entry_write(const mla_dir_entry *e, mla_buf *out, mla_diag *diag);

/* The unsigned Directory holding the n signed Entry documents as they are, with serial,
 * issued_at, expires and the publisher's State code, into *out (initialised here). */
mla_err mla_dir_assemble(const mla_buf *entries, size_t n, uint64_t serial, time_t issued_at,
			 time_t expires, const char *publisher, mla_buf *out, mla_diag *diag);

/* Signs an unsigned Entry (its State, with the State's signing key) or an unsigned Directory
 * (its Body, with the publisher's signing key), chosen by the document's root, into *out
 * (initialised here). A document already signed is refused (MLA_ERR_EXISTS), an entry
 * whose listed signing certificates (current, next) do not include the signer's
 * MLA_ERR_CERT_UNTRUSTED. */
mla_err mla_dir_sign(const uint8_t *xml, size_t len, const mla_signer *signer, mla_buf *out,
		     mla_diag *diag);

/* ---- verification ---- */

typedef struct mla_dir_policy {
	const mla_trust *trust;        /* the roots configured locally, per State */
	const char *publisher;         /* the configured publisher's State code */
	const mla_trust *publisher_trust; /* its root; NULL: trust */
	time_t now;                    /* certificates, expiry and grace are judged at this
					 * time; 0: the current time */
	time_t grace;                  /* seconds past an expiry still accepted, with a warning */
	int have_held;                 /* a directory is held: */
	uint64_t held_serial;          /* its serial */
	uint8_t held_digest[32];       /* and the SHA-256 of its bytes */
} mla_dir_policy;

typedef struct mla_dir_status {
	int unchanged;   /* the held directory again (same serial, same bytes): nothing to do */
	int in_grace;    /* past an expiry but within the grace period: warning says which */
	char warning[MLA_DIAG_MAX];
} mla_dir_status;

/* Verifies a directory document (SPEC 18, Verification, every step in order) and gives the
 * parsed directory to the caller in *out (free with mla_directory_free; NULL on failure).
 * status may be NULL. */
mla_err mla_directory_verify(const uint8_t *xml, size_t len, const mla_dir_policy *policy,
			     mla_directory **out, mla_dir_status *status, mla_diag *diag);

/* Verifies one signed Entry document on its own (mlagw directory verify of an entry): its
 * signer chains to the local root of its State and is its listed signing certificate, its
 * root is the local one. *out is the caller's (mla_dir_entry_clear, also on failure). */
mla_err mla_dir_entry_verify(const uint8_t *xml, size_t len, const mla_trust *trust,
			     time_t now, mla_dir_entry *out, mla_diag *diag); /* now 0: current */

/* ---- look-ups on a verified directory ---- */

/* The entry of state, or NULL. */
const mla_dir_entry *mla_directory_find(const mla_directory *d, const char *state);
/* The first gateway URL of state, or MLA_ERR_UNKNOWN_STATE naming the State. */
mla_err mla_directory_gateway(const mla_directory *d, const char *state, const char **url,
			      mla_diag *diag);
/* The certificate of use that state uses at time at (the next one from its from time on). */
mla_err mla_directory_cert(const mla_directory *d, const char *state, mla_dir_use use,
			   time_t at, X509 **cert, mla_diag *diag);
/* The authority of state competent for kind: MLA_ERR_UNKNOWN_STATE (no entry),
 * MLA_ERR_NO_AUTHORITY (no authority lists kind). *a is borrowed from d. */
mla_err mla_directory_authority(const mla_directory *d, const char *state, const char *kind,
				const mla_dir_authority **a, mla_diag *diag);
/* MLA_OK when a accepts lang, else MLA_ERR_LANGUAGE naming what it accepts. */
mla_err mla_dir_authority_accepts(const mla_dir_authority *a, const char *lang, mla_diag *diag);

/* ---- presentation ---- */

/* The lines of what changed from a to b ("+ FR added", "~ CO signing certificate changed",
 * ...), one per line, into out (appended); *changes counts them (0: the same content). */
mla_err mla_directory_diff(const mla_directory *a, const mla_directory *b, mla_buf *out,
			   size_t *changes);
/* The directory as JSON (SPEC 18, Showing), compact with a newline, appended to out. */
mla_err mla_directory_json(const mla_directory *d, mla_buf *out);

/* ---- the directory a gateway holds, advertised to peers (SPEC 18.6) ---- */

#define MLA_DIR_ADVERT_MAX 48 /* "CC <20 digits> <5 digits>" and room */
/* The Mlagw-Directory header value "<publisher> <serial> <port>" into out. */
mla_err mla_dir_advert_format(const char *publisher, uint64_t serial, unsigned port, char *out,
			      size_t cap);
/* The n bytes at v parsed strictly: two upper-case letters, a serial from 1 and a port from 1
 * to 65535 (decimals without leading zeros), single spaces, nothing else, at most
 * MLA_DIR_ADVERT_MAX bytes. 1 when it is such a value, else 0. */
int mla_dir_advert_parse(const char *v, size_t n, char publisher[3], uint64_t *serial,
			 unsigned *port);

#endif
