/* C2SP signed notes with Ed25519 (signing, strict parsing and verification, vkey strings) and
 * C2SP tlog-checkpoints inside them (protocol/SPEC.md, section 14). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "mlagw/buf.h"
#include "mlagw/checkpoint.h"
#include "mlagw/codec.h"
#include "mlagw/text.h"

#define SIG_TYPE_ED25519 MLA_NOTE_SIG_ED25519
#define COSIG_TS_LEN 8 /* the big-endian POSIX time before a cosignature */
#define EM_DASH_SP "\xe2\x80\x94 " /* U+2014 and a space: starts every signature line */
#define EM_DASH_SP_LEN 4
#define KEY_ID_LEN 4
#define ED_SIG_B64_LEN 92 /* base64 of 4 + 64 bytes */

/* ---- text rules: UTF-8, control characters, names (base64: mlagw/codec.h) ---- */

/* Length of the UTF-8 sequence at s (n bytes left) and its code point; 0 when invalid
 * (truncated, overlong, surrogate, beyond U+10FFFF). */

/* Valid UTF-8 with no ASCII control character other than newline (signed-note "Format"). */
static int valid_note_text(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	uint32_t cp;

	for (size_t i = 0, l; i < n; i += l) {
		if ((l = mla_utf8_next(p + i, n - i, &cp)) == 0)
			return 0;
		if (cp < 0x20 && cp != '\n')
			return 0;
	}
	return 1;
}

/* Unicode White_Space, as Go's unicode.IsSpace. */
static int is_unicode_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

/* Key names: non-empty, bounded, UTF-8, no Unicode spaces, '+' or control characters. */
static int valid_key_name(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	uint32_t cp;

	if (n == 0 || n > MLA_NOTE_NAME_MAX)
		return 0;
	for (size_t i = 0, l; i < n; i += l) {
		if ((l = mla_utf8_next(p + i, n - i, &cp)) == 0)
			return 0;
		if (cp < 0x20 || cp == 0x7f || cp == '+' || is_unicode_space(cp))
			return 0;
	}
	return 1;
}

/* ---- keys ---- */

static mla_err key_id(const char *name, size_t name_len, uint8_t type,
		      const uint8_t key[MLA_ED25519_KEY_LEN], uint32_t *id)
{
	const uint8_t sep[2] = {'\n', type};
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t md[EVP_MAX_MD_SIZE];
	mla_err r = MLA_ERR_INTERNAL;

	if (ctx == NULL)
		return MLA_ERR_NOMEM;
	if (EVP_DigestInit_ex2(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, name, name_len) == 1 && EVP_DigestUpdate(ctx, sep, 2) == 1 &&
	    EVP_DigestUpdate(ctx, key, MLA_ED25519_KEY_LEN) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, NULL) == 1) {
		*id = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
		r = MLA_OK;
	}
	EVP_MD_CTX_free(ctx);
	return r;
}

static mla_err verifier_from_key(const char *name, const EVP_PKEY *key, uint8_t type,
				 mla_note_verifier *v, mla_diag *diag)
{
	size_t n = strlen(name), klen = MLA_ED25519_KEY_LEN;

	memset(v, 0, sizeof(*v));
	if (!valid_key_name(name, n))
		return mla_fail(diag, MLA_ERR_ARG, "invalid note key name");
	if (!EVP_PKEY_is_a(key, "ED25519") ||
	    EVP_PKEY_get_raw_public_key(key, v->key, &klen) != 1 || klen != MLA_ED25519_KEY_LEN)
		return mla_fail(diag, MLA_ERR_ARG, "note key %s is not an Ed25519 key", name);
	memcpy(v->name, name, n + 1);
	v->type = type;
	if (key_id(name, n, type, v->key, &v->id) != MLA_OK)
		return mla_fail(diag, MLA_ERR_INTERNAL, "SHA-256 failed");
	return MLA_OK;
}

mla_err mla_note_verifier_from_key(const char *name, const EVP_PKEY *key, mla_note_verifier *v,
				   mla_diag *diag)
{
	return verifier_from_key(name, key, MLA_NOTE_SIG_ED25519, v, diag);
}

mla_err mla_cosig_verifier_from_key(const char *name, const EVP_PKEY *key,
				    mla_note_verifier *v, mla_diag *diag)
{
	return verifier_from_key(name, key, MLA_NOTE_SIG_COSIG_V1, v, diag);
}

mla_err mla_note_vkey_parse(const char *vkey, mla_note_verifier *v, mla_diag *diag)
{
	const char *plus = strchr(vkey, '+'), *b64;
	uint8_t raw[48];
	size_t name_len, raw_len;
	uint8_t idb[KEY_ID_LEN];
	uint32_t id;

	memset(v, 0, sizeof(*v));
	if (plus == NULL || !valid_key_name(vkey, name_len = (size_t)(plus - vkey)))
		return mla_fail(diag, MLA_ERR_SCHEMA, "verifier key: missing or invalid key name");
	/* either case, as Go's note package reads it; the ID is checked against the key below */
	if (mla_hex_decode_anycase(plus + 1, 2 * KEY_ID_LEN, idb, KEY_ID_LEN, NULL) != MLA_OK ||
	    plus[9] != '+')
		return mla_fail(diag, MLA_ERR_SCHEMA, "verifier key: key ID is not 8 hex digits");
	id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
	b64 = plus + 10;
	if (mla_b64_decode(b64, strlen(b64), raw, sizeof(raw), &raw_len) != MLA_OK || raw_len < 1)
		return mla_fail(diag, MLA_ERR_SCHEMA, "verifier key: key is not valid base64");
	if (raw[0] != MLA_NOTE_SIG_ED25519 && raw[0] != MLA_NOTE_SIG_COSIG_V1)
		return mla_fail(diag, MLA_ERR_ALG_UNKNOWN,
				"verifier key: signature type 0x%02x is not Ed25519 (0x01) or an "
				"Ed25519 cosignature (0x04)", raw[0]);
	if (raw_len != 1 + MLA_ED25519_KEY_LEN)
		return mla_fail(diag, MLA_ERR_SCHEMA, "verifier key: Ed25519 key is not 32 bytes");
	memcpy(v->name, vkey, name_len);
	v->name[name_len] = '\0';
	memcpy(v->key, raw + 1, MLA_ED25519_KEY_LEN);
	v->type = raw[0];
	if (key_id(v->name, name_len, v->type, v->key, &v->id) != MLA_OK)
		return mla_fail(diag, MLA_ERR_INTERNAL, "SHA-256 failed");
	if (v->id != id)
		return mla_fail(diag, MLA_ERR_SCHEMA,
				"verifier key: key ID %08" PRIx32 " is not the one of the key "
				"(%08" PRIx32 ")", id, v->id);
	return MLA_OK;
}

mla_err mla_note_vkey_format(const mla_note_verifier *v, char *out, size_t outlen)
{
	uint8_t raw[1 + MLA_ED25519_KEY_LEN];
	char b64[45];

	raw[0] = v->type;
	memcpy(raw + 1, v->key, MLA_ED25519_KEY_LEN);
	if (mla_b64_encode(raw, sizeof(raw), b64, sizeof(b64)) != MLA_OK)
		return MLA_ERR_INTERNAL; /* b64 is sized for raw */
	return mla_snprintf(out, outlen, "%s+%08" PRIx32 "+%s", v->name, v->id, b64);
}

/* ---- signing ---- */

/* The Ed25519 signature of msg, through the private-key interface (include/mlagw/privkey.h). */
static mla_err ed25519_sign(const mla_privkey *key, const char *msg, size_t len,
			    uint8_t sig[MLA_ED25519_SIG_LEN])
{
	size_t sig_len = MLA_ED25519_SIG_LEN;
	mla_err r;

	if ((r = mla_privkey_sign(key, (const uint8_t *)msg, len, sig, &sig_len, NULL)) != MLA_OK)
		return r;
	return sig_len == MLA_ED25519_SIG_LEN ? MLA_OK : MLA_ERR_INTERNAL;
}

mla_err mla_note_sign(const char *text, size_t len, const char *key_name, const mla_privkey *key,
		      char **notep, size_t *lenp, mla_diag *diag)
{
	mla_note_verifier v;
	mla_buf b;
	uint8_t sig[KEY_ID_LEN + MLA_ED25519_SIG_LEN];
	char b64[ED_SIG_B64_LEN + 1];
	mla_err r;

	*notep = NULL;
	mla_buf_init(&b, MLA_NOTE_MAX + 1);
	if (len == 0 || text[len - 1] != '\n' || !valid_note_text(text, len) ||
	    memchr(text, '\0', len) != NULL) {
		r = mla_fail(diag, MLA_ERR_ARG, "note text must be UTF-8 lines without control "
						"characters, ending in a newline");
		goto out;
	}
	if ((r = mla_note_verifier_from_key(key_name, mla_privkey_public(key), &v, diag)) !=
	    MLA_OK)
		goto out;
	sig[0] = (uint8_t)(v.id >> 24);
	sig[1] = (uint8_t)(v.id >> 16);
	sig[2] = (uint8_t)(v.id >> 8);
	sig[3] = (uint8_t)v.id;
	if ((r = ed25519_sign(key, text, len, sig + KEY_ID_LEN)) != MLA_OK) {
		r = mla_fail(diag, r, "Ed25519 signing failed");
		goto out;
	}
	if ((r = mla_b64_encode(sig, sizeof(sig), b64, sizeof(b64))) != MLA_OK ||
	    (r = mla_buf_append(&b, text, len)) != MLA_OK ||
	    (r = mla_buf_printf(&b, "\n" EM_DASH_SP "%s %s\n", key_name, b64)) != MLA_OK ||
	    b.len > MLA_NOTE_MAX || (r = mla_buf_terminate(&b)) != MLA_OK) {
		r = mla_fail(diag, r == MLA_OK ? MLA_ERR_TOO_LARGE : r, "signed note too large");
		goto out;
	}
	*notep = (char *)mla_buf_detach(&b, lenp);
	r = MLA_OK;
out:
	mla_buf_free(&b);
	return r;
}

/* ---- opening ---- */

static int ed25519_verify(const uint8_t key[MLA_ED25519_KEY_LEN], const char *msg, size_t len,
			  const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key,
						   MLA_ED25519_KEY_LEN);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = 0;

	if (pk != NULL && ctx != NULL && sig_len == MLA_ED25519_SIG_LEN &&
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1)
		ok = EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return ok;
}

/* One signature line, without its newline. */
struct sig_line {
	const char *name;
	size_t name_len;
	uint32_t id;
};

static mla_err parse_sig_line(const char *s, size_t n, struct sig_line *sl, uint8_t *sig,
			      size_t sig_max, size_t *sig_len, mla_diag *diag)
{
	const char *sp;

	if (n < EM_DASH_SP_LEN || memcmp(s, EM_DASH_SP, EM_DASH_SP_LEN) != 0)
		return mla_fail(diag, MLA_ERR_SCHEMA,
				"signed note: signature line does not start with an em dash");
	s += EM_DASH_SP_LEN;
	n -= EM_DASH_SP_LEN;
	if ((sp = memchr(s, ' ', n)) == NULL || !valid_key_name(s, (size_t)(sp - s)))
		return mla_fail(diag, MLA_ERR_SCHEMA, "signed note: invalid key name in signature");
	sl->name = s;
	sl->name_len = (size_t)(sp - s);
	s = sp + 1;
	n -= sl->name_len + 1;
	if (mla_b64_decode(s, n, sig, sig_max, sig_len) != MLA_OK || *sig_len <= KEY_ID_LEN)
		return mla_fail(diag, MLA_ERR_SCHEMA,
				"signed note: signature of %.*s is not valid base64",
				(int)sl->name_len, sl->name);
	sl->id = (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 | (uint32_t)sig[2] << 8 | sig[3];
	return MLA_OK;
}

/* The message a cosignature/v1 signs (C2SP tlog-cosignature): a header line, the time line,
 * then the whole note text. */
static char *cosig_message(uint64_t ts, const char *text, size_t text_len, size_t *lenp)
{
	char head[48];
	int n = snprintf(head, sizeof(head), "cosignature/v1\ntime %" PRIu64 "\n", ts);
	char *m = n > 0 ? malloc((size_t)n + text_len) : NULL;

	if (m == NULL)
		return NULL;
	memcpy(m, head, (size_t)n);
	memcpy(m + n, text, text_len);
	*lenp = (size_t)n + text_len;
	return m;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Verifies a cosignature: key ID, 8-byte time, Ed25519 over the cosigned message. */
static int cosig_verify(const mla_note_verifier *v, const uint8_t *sig, size_t sig_len,
			const char *text, size_t text_len)
{
	size_t mlen = 0;
	uint64_t ts;
	char *m;
	int ok;

	if (sig_len != KEY_ID_LEN + COSIG_TS_LEN + MLA_ED25519_SIG_LEN)
		return 0;
	if ((ts = be64(sig + KEY_ID_LEN)) > (uint64_t)INT64_MAX ||
	    (m = cosig_message(ts, text, text_len, &mlen)) == NULL)
		return 0;
	ok = ed25519_verify(v->key, m, mlen, sig + KEY_ID_LEN + COSIG_TS_LEN, MLA_ED25519_SIG_LEN);
	free(m);
	return ok;
}

/* Checks one signature against the known keys; sets its bit when a known key signed. */
static mla_err check_sig(const struct sig_line *sl, const uint8_t *sig, size_t sig_len,
			 const char *text, size_t text_len, const mla_note_verifier *keys,
			 size_t nkeys, uint64_t *signers, mla_diag *diag)
{
	for (size_t k = 0; k < nkeys; k++) {
		const mla_note_verifier *v = &keys[k];
		int ok;
		if (v->id != sl->id || strlen(v->name) != sl->name_len ||
		    memcmp(v->name, sl->name, sl->name_len) != 0)
			continue;
		if (v->type == MLA_NOTE_SIG_COSIG_V1)
			ok = cosig_verify(v, sig, sig_len, text, text_len);
		else
			ok = ed25519_verify(v->key, text, text_len, sig + KEY_ID_LEN,
					    sig_len - KEY_ID_LEN);
		if (!ok)
			return mla_fail(diag, MLA_ERR_SIG_INVALID,
					"signed note: %s by %s does not verify",
					v->type == MLA_NOTE_SIG_COSIG_V1 ? "cosignature" : "signature",
					v->name);
		*signers |= UINT64_C(1) << k;
	}
	return MLA_OK;
}

mla_err mla_cosignature_sign(const char *text, size_t len, const char *name,
			     const mla_privkey *key,
			     uint64_t ts, char *line, size_t line_max, mla_diag *diag)
{
	uint8_t sig[KEY_ID_LEN + COSIG_TS_LEN + MLA_ED25519_SIG_LEN];
	char b64[((sizeof(sig) + 2) / 3) * 4 + 1];
	mla_note_verifier v;
	size_t mlen = 0;
	char *m = NULL;
	mla_err r;

	if (len == 0 || text[len - 1] != '\n' || !valid_note_text(text, len) ||
	    ts > (uint64_t)INT64_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "cosignature: bad note text or time");
	if ((r = mla_cosig_verifier_from_key(name, mla_privkey_public(key), &v, diag)) != MLA_OK)
		return r;
	for (int i = 0; i < KEY_ID_LEN; i++)
		sig[i] = (uint8_t)(v.id >> (24 - 8 * i));
	for (int i = 0; i < COSIG_TS_LEN; i++)
		sig[KEY_ID_LEN + i] = (uint8_t)(ts >> (56 - 8 * i));
	if ((m = cosig_message(ts, text, len, &mlen)) == NULL)
		return MLA_ERR_NOMEM;
	r = ed25519_sign(key, m, mlen, sig + KEY_ID_LEN + COSIG_TS_LEN);
	free(m);
	if (r != MLA_OK)
		return mla_fail(diag, r, "Ed25519 cosigning failed");
	if (mla_b64_encode(sig, sizeof(sig), b64, sizeof(b64)) != MLA_OK ||
	    mla_snprintf(line, line_max, EM_DASH_SP "%s %s\n", name, b64) != MLA_OK)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "cosignature line does not fit");
	return MLA_OK;
}

/* Walks the signature lines sigs[0 .. n), which end in a newline. */
static mla_err check_sig_lines(const char *sigs, size_t n, const char *text, size_t text_len,
			       const mla_note_verifier *keys, size_t nkeys, uint64_t *signers,
			       mla_diag *diag)
{
	struct sig_line seen[MLA_NOTE_SIGS_MAX];
	uint8_t *sig = malloc(n);
	size_t count = 0, sig_len;
	mla_err r = MLA_OK;

	if (sig == NULL)
		return MLA_ERR_NOMEM;
	for (const char *p = sigs, *end = sigs + n, *nl; p < end && r == MLA_OK; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p)); /* found: the note ends in a newline */
		if (count == MLA_NOTE_SIGS_MAX) {
			r = mla_fail(diag, MLA_ERR_TOO_LARGE, "signed note: more than %d signatures",
				     MLA_NOTE_SIGS_MAX);
			break;
		}
		if ((r = parse_sig_line(p, (size_t)(nl - p), &seen[count], sig, n, &sig_len,
					diag)) != MLA_OK)
			break;
		for (size_t i = 0; i < count && r == MLA_OK; i++)
			if (seen[i].id == seen[count].id && seen[i].name_len == seen[count].name_len &&
			    memcmp(seen[i].name, seen[count].name, seen[i].name_len) == 0)
				r = mla_fail(diag, MLA_ERR_SCHEMA,
					     "signed note: two signatures by the same key");
		if (r == MLA_OK)
			r = check_sig(&seen[count], sig, sig_len, text, text_len, keys, nkeys,
				      signers, diag);
		count++;
	}
	free(sig);
	return r;
}

mla_err mla_note_open(const char *note, size_t len, const mla_note_verifier *keys, size_t nkeys,
		      size_t *text_lenp, uint64_t *signersp, mla_diag *diag)
{
	size_t text_len = 0;
	uint64_t signers = 0;
	mla_err r;

	*text_lenp = 0;
	if (signersp != NULL)
		*signersp = 0;
	if (nkeys > MLA_NOTE_VERIFIERS_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "more than %d verifier keys",
				MLA_NOTE_VERIFIERS_MAX);
	if (len > MLA_NOTE_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "signed note larger than %d bytes",
				MLA_NOTE_MAX);
	if (len == 0 || note[len - 1] != '\n')
		return mla_fail(diag, MLA_ERR_SCHEMA, "signed note: does not end in a newline");
	if (!valid_note_text(note, len) || memchr(note, '\0', len) != NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA,
				"signed note: not UTF-8 or holds control characters");
	/* the text ends at the last blank line: signature lines are never empty */
	for (size_t i = len - 1; i > 0; i--)
		if (note[i] == '\n' && note[i - 1] == '\n') {
			text_len = i;
			break;
		}
	if (text_len == 0)
		return mla_fail(diag, MLA_ERR_SCHEMA,
				"signed note: no blank line between text and signatures");
	if (text_len + 1 == len)
		return mla_fail(diag, MLA_ERR_SCHEMA, "signed note: no signature lines");
	if ((r = check_sig_lines(note + text_len + 1, len - text_len - 1, note, text_len, keys,
				 nkeys, &signers, diag)) != MLA_OK)
		return r;
	if (signers == 0)
		return mla_fail(diag, MLA_ERR_CERT_UNTRUSTED,
				"signed note: no signature by a known key");
	*text_lenp = text_len;
	if (signersp != NULL)
		*signersp = signers;
	return MLA_OK;
}

/* ---- checkpoints ---- */

mla_err mla_checkpoint_sign(const mla_checkpoint *cp, const char *key_name,
			    const mla_privkey *key,
			    char **notep, size_t *lenp, mla_diag *diag)
{
	char text[MLA_CHECKPOINT_ORIGIN_MAX + 1 + 21 + 45 + 1], b64[45];
	size_t olen = strnlen(cp->origin, sizeof(cp->origin));
	int n;

	*notep = NULL;
	if (olen == 0 || olen > MLA_CHECKPOINT_ORIGIN_MAX || !valid_note_text(cp->origin, olen) ||
	    memchr(cp->origin, '\n', olen) != NULL)
		return mla_fail(diag, MLA_ERR_ARG,
				"checkpoint origin must be one non-empty line of UTF-8");
	if (mla_b64_encode(cp->root, MLA_MERKLE_HASH_LEN, b64, sizeof(b64)) != MLA_OK)
		return mla_fail(diag, MLA_ERR_INTERNAL, "checkpoint root not encoded");
	n = snprintf(text, sizeof(text), "%s\n%" PRIu64 "\n%s\n", cp->origin, cp->size, b64);
	mla_require(n > 0 && (size_t)n < sizeof(text)); /* text is sized for the longest origin */
	return mla_note_sign(text, (size_t)n, key_name, key, notep, lenp, diag);
}

/* The checkpoint text: origin, size, root, then optional non-empty extension lines. */
static mla_err parse_checkpoint(const char *text, size_t len, mla_checkpoint *cp,
				mla_diag *diag)
{
	uint8_t root[MLA_MERKLE_HASH_LEN];
	size_t line = 0;

	for (const char *p = text, *end = text + len, *nl; p < end; p = nl + 1, line++) {
		size_t n;
		nl = memchr(p, '\n', (size_t)(end - p)); /* the text ends in a newline */
		n = (size_t)(nl - p);
		if (n == 0)
			return mla_fail(diag, MLA_ERR_SCHEMA, "checkpoint: empty line %zu", line + 1);
		if (line == 0) {
			if (n > MLA_CHECKPOINT_ORIGIN_MAX)
				return mla_fail(diag, MLA_ERR_SCHEMA, "checkpoint: origin too long");
			memcpy(cp->origin, p, n);
			cp->origin[n] = '\0';
		} else if (line == 1 && mla_parse_u64n(p, n, 0, UINT64_MAX, &cp->size) != MLA_OK) {
			return mla_fail(diag, MLA_ERR_SCHEMA,
					"checkpoint: tree size is not a canonical decimal number");
		} else if (line == 2 &&
			   mla_b64_decode(p, n, root, MLA_MERKLE_HASH_LEN, NULL) != MLA_OK) {
			return mla_fail(diag, MLA_ERR_SCHEMA,
					"checkpoint: root hash is not the base64 of 32 bytes");
		} else if (line >= 3) {
			cp->extensions++;
		}
	}
	if (line < 3)
		return mla_fail(diag, MLA_ERR_SCHEMA,
				"checkpoint: needs origin, tree size and root hash lines");
	memcpy(cp->root, root, MLA_MERKLE_HASH_LEN);
	return MLA_OK;
}

mla_err mla_checkpoint_open(const char *note, size_t len, const mla_note_verifier *keys,
			    size_t nkeys, mla_checkpoint *cp, uint64_t *signersp, mla_diag *diag)
{
	size_t text_len;
	uint64_t signers;
	mla_err r;

	memset(cp, 0, sizeof(*cp));
	if (signersp != NULL) /* optional: a caller with one key needs no bitmask */
		*signersp = 0;
	if ((r = mla_note_open(note, len, keys, nkeys, &text_len, &signers, diag)) != MLA_OK)
		return r;
	if ((r = parse_checkpoint(note, text_len, cp, diag)) != MLA_OK) {
		memset(cp, 0, sizeof(*cp));
		return r;
	}
	if (signersp != NULL)
		*signersp = signers;
	return MLA_OK;
}
