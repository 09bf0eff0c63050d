/* The table of error names and messages, the diagnostic helpers, and the abort of a failed
 * internal invariant (mla_require). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "mlagw/error.h"
#include "mlagw/text.h"

struct err_entry {
	mla_err code;
	const char *name;
	const char *msg;
};

static const struct err_entry err_table[] = {
	{MLA_OK, "ok", "success"},
	{MLA_ERR_INTERNAL, "internal", "internal error"},
	{MLA_ERR_NOMEM, "nomem", "out of memory"},
	{MLA_ERR_IO, "io", "input/output error"},
	{MLA_ERR_ARG, "bad-argument", "invalid argument"},
	{MLA_ERR_USAGE, "usage", "invalid command line"},
	{MLA_ERR_CONFIG, "config", "invalid configuration"},
	{MLA_ERR_KEY_FILE, "key-file", "unusable private key file"},
	{MLA_ERR_CERT_FILE, "cert-file", "unusable certificate file"},
	{MLA_ERR_EXISTS, "exists", "refusing to overwrite existing file"},
	{MLA_ERR_NOT_FOUND, "not-found", "no such item"},
	{MLA_ERR_FORBIDDEN, "forbidden", "not allowed to this caller"},
	{MLA_ERR_TOO_LARGE, "too-large", "input exceeds the configured size limit"},
	{MLA_ERR_XML_MALFORMED, "xml-malformed", "malformed XML"},
	{MLA_ERR_XML_DOCTYPE, "xml-doctype", "DOCTYPE declarations are not allowed"},
	{MLA_ERR_XML_EXTERNAL_ENTITY, "xml-external-entity", "external entities are not allowed"},
	{MLA_ERR_XML_ENTITY_EXPANSION, "xml-entity-expansion", "entity declarations are not allowed"},
	{MLA_ERR_XML_DEPTH, "xml-depth", "XML nesting exceeds the limit"},
	{MLA_ERR_XML_NODES, "xml-nodes", "XML element count exceeds the limit"},
	{MLA_ERR_XML_ATTRS, "xml-attributes", "XML attribute count exceeds the limit"},
	{MLA_ERR_SCHEMA, "schema", "envelope does not match the schema"},
	{MLA_ERR_BASE64, "base64", "invalid base64 data"},
	{MLA_ERR_HEADER, "header", "invalid envelope header"},
	{MLA_ERR_ALG_WEAK, "alg-weak", "weak algorithm refused"},
	{MLA_ERR_ALG_UNKNOWN, "alg-unknown", "unknown algorithm refused"},
	{MLA_ERR_SIG_INVALID, "sig-invalid", "signature verification failed"},
	{MLA_ERR_SIG_WRAPPING, "sig-wrapping", "envelope structure allows signature wrapping"},
	{MLA_ERR_SIG_NOT_COVERED, "sig-not-covered", "signature does not cover the signed parts"},
	{MLA_ERR_CERT_UNTRUSTED, "cert-untrusted", "certificate does not chain to a trusted root"},
	{MLA_ERR_CERT_WRONG_STATE, "cert-wrong-state", "certificate belongs to another State"},
	{MLA_ERR_CERT_EXPIRED, "cert-expired", "certificate expired"},
	{MLA_ERR_CERT_NOT_YET_VALID, "cert-not-yet-valid", "certificate not yet valid"},
	{MLA_ERR_CERT_USAGE, "cert-usage", "certificate key usage does not allow this use"},
	{MLA_ERR_CERT_WEAK_KEY, "cert-weak-key", "certificate key too weak"},
	{MLA_ERR_UNKNOWN_STATE, "unknown-state", "no trusted root for that State"},
	{MLA_ERR_WRONG_RECIPIENT, "wrong-recipient", "envelope addressed to another State"},
	{MLA_ERR_NO_DECRYPT_KEY, "no-decrypt-key", "no private key for this envelope"},
	{MLA_ERR_DECRYPT, "decrypt", "payload decryption failed"},
	{MLA_ERR_INFLATE, "inflate", "payload decompression failed"},
	{MLA_ERR_ZIP_BOMB, "zip-bomb", "payload decompression exceeds the size or ratio limit"},
	{MLA_ERR_RECEIPT_MISMATCH, "receipt-mismatch", "receipt is not for the message that was sent"},
	{MLA_ERR_DUPLICATE, "duplicate-id", "message id already received with another digest"},
	{MLA_ERR_REPLAY, "replay", "envelope is older than the replay window"},
	{MLA_ERR_CLOCK_SKEW, "clock-skew", "envelope is dated beyond the clock-skew tolerance"},
	{MLA_ERR_PEER_MISMATCH, "peer-mismatch", "TLS peer State differs from the envelope sender"},
	{MLA_ERR_UNKNOWN_PEER, "unknown-peer", "State is not a configured peer"},
	{MLA_ERR_STORE, "store", "persistent store error"},
	{MLA_ERR_DEADLINE, "deadline", "delivery deadline passed"},
	{MLA_ERR_TRANSPORT, "transport", "transport error"},
	{MLA_ERR_PEER_REFUSED, "peer-refused", "the peer refused with an error this gateway does not know"},
	{MLA_ERR_CASE_STEP, "case-step", "the case lifecycle does not allow this step in the case's state"},
	{MLA_ERR_CASE_CONFLICT, "case-conflict", "the step follows another than the case's last step"},
	{MLA_ERR_UNSUPPORTED_VERSION, "unsupported-version", "a format version this reader does not read"},
	{MLA_ERR_DIR_SERIAL, "directory-serial", "the directory's serial is not above the one held"},
	{MLA_ERR_DIR_EXPIRED, "directory-expired", "the directory expired past its grace period"},
	{MLA_ERR_NO_AUTHORITY, "no-authority", "no competent authority for that request kind"},
	{MLA_ERR_LANGUAGE, "language-refused", "the authority does not accept that language"},
	{MLA_ERR_CERT_REVOKED, "revoked", "certificate revoked"},
	{MLA_ERR_REVOCATION_UNKNOWN, "revocation-unknown", "certificate revocation status unknown or stale"},
};

static const struct err_entry *err_lookup(mla_err err)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == err)
			return &err_table[i];
	return NULL;
}

const char *mla_strerror(mla_err err)
{
	const struct err_entry *e = err_lookup(err);
	return e != NULL ? e->msg : "unknown error";
}

const char *mla_errname(mla_err err)
{
	const struct err_entry *e = err_lookup(err);
	return e != NULL ? e->name : "unknown";
}

mla_err mla_fail(mla_diag *diag, mla_err err, const char *fmt, ...)
{
	va_list ap;

	if (diag == NULL)
		return err;
	diag->code = err;
	va_start(ap, fmt);
	/* Truncation only shortens a message; it is never an error here. */
	(void)vsnprintf(diag->msg, sizeof(diag->msg), fmt, ap);
	va_end(ap);
	/* Messages name what was wrong, often quoting it: made safe here, once, so that no
	 * refusal fails to reach a log line or a negative receipt (issue 10 finding 3). */
	mla_text_copy_safe(diag->msg, sizeof(diag->msg), diag->msg);
	return err;
}

const char *mla_diag_message(const mla_diag *diag)
{
	if (diag == NULL)
		return "";
	if (diag->msg[0] == '\0')
		return mla_strerror(diag->code);
	return diag->msg;
}

void mla_require_failed(const char *expr, const char *file, int line)
{
	/* unbuffered stderr, one call: the line is out before the abort */
	fprintf(stderr, "mlagw: invariant failed: %s at %s:%d\n", expr, file, line);
	abort();
}
