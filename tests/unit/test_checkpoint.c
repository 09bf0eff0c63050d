/* Unit tests of signed notes and checkpoints (protocol/checkpoint.c): the Go sumdb note test
 * vector, round trips, cosignatures, tampering, unknown keys, malformed notes and vkeys. */
#define _GNU_SOURCE /* asprintf */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "mlagw/checkpoint.h"

/* The example of golang.org/x/mod/sumdb/note (package documentation, "Verifying Notes";
 * also note_test.go): Peter Neumann's key and a note signed with it. */
static const char pn_vkey[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char pn_text[] = "If you think cryptography is the answer to your problem,\n"
			      "then you don't know what your problem is.\n";
static const char pn_note[] =
	"If you think cryptography is the answer to your problem,\n"
	"then you don't know what your problem is.\n"
	"\n"
	"\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	assert_non_null(k);
	return k;
}

/* k behind the private-key interface the signing functions take. */
static mla_privkey *signing_key(EVP_PKEY *k)
{
	mla_privkey *p = NULL;

	assert_int_equal(mla_privkey_from_evp(k, &p, NULL), MLA_OK);
	return p;
}

static mla_err open_str(const char *note, const mla_note_verifier *keys, size_t nkeys,
			uint64_t *signers)
{
	size_t text_len;
	mla_diag d = {0};
	mla_err r = mla_note_open(note, strlen(note), keys, nkeys, &text_len, signers, &d);

	if (r != MLA_OK)
		print_message("  refused: %s\n", mla_diag_message(&d));
	return r;
}

static mla_err open_cp(const char *note, const mla_note_verifier *keys, size_t nkeys,
		       mla_checkpoint *cp)
{
	uint64_t signers;
	mla_diag d = {0};
	mla_err r = mla_checkpoint_open(note, strlen(note), keys, nkeys, cp, &signers, &d);

	if (r != MLA_OK)
		print_message("  refused: %s\n", mla_diag_message(&d));
	return r;
}

/* Replaces the first occurrence of from in s (a copy) by to. */
static char *replaced(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n = strlen(s) - strlen(from) + strlen(to);
	char *out = malloc(n + 1);

	assert_non_null(at);
	assert_non_null(out);
	memcpy(out, s, (size_t)(at - s));
	memcpy(out + (at - s), to, strlen(to));
	memcpy(out + (at - s) + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
	return out;
}

static void expect_replaced(const char *note, const char *from, const char *to,
			    const mla_note_verifier *keys, size_t nkeys, mla_err want)
{
	char *t = replaced(note, from, to);
	mla_checkpoint cp;

	assert_int_equal(open_cp(t, keys, nkeys, &cp), want);
	free(t);
}

/* ---- the Go sumdb vector ---- */

static void test_vkey_go_vector(void **state)
{
	mla_note_verifier v;
	char out[MLA_NOTE_VKEY_MAX];

	(void)state;
	assert_int_equal(mla_note_vkey_parse(pn_vkey, &v, NULL), MLA_OK);
	assert_string_equal(v.name, "PeterNeumann");
	assert_int_equal(v.id, 0xc74f20a3);
	assert_int_equal(mla_note_vkey_format(&v, out, sizeof(out)), MLA_OK);
	assert_string_equal(out, pn_vkey);
	assert_int_equal(mla_note_vkey_format(&v, out, 20), MLA_ERR_TOO_LARGE);
}

static void test_note_go_vector(void **state)
{
	mla_note_verifier v, other;
	size_t text_len;
	uint64_t signers;
	char *t;

	(void)state;
	assert_int_equal(mla_note_vkey_parse(pn_vkey, &v, NULL), MLA_OK);
	assert_int_equal(mla_note_open(pn_note, strlen(pn_note), &v, 1, &text_len, &signers, NULL),
			 MLA_OK);
	assert_int_equal(text_len, strlen(pn_text));
	assert_memory_equal(pn_note, pn_text, text_len);
	assert_int_equal(signers, 1);
	/* tampered text */
	t = replaced(pn_note, "cryptography", "Cryptography");
	assert_int_equal(open_str(t, &v, 1, &signers), MLA_ERR_SIG_INVALID);
	free(t);
	/* tampered signature (a middle character) */
	t = replaced(pn_note, "S9UG", "S9UH");
	assert_int_equal(open_str(t, &v, 1, &signers), MLA_ERR_SIG_INVALID);
	free(t);
	/* same key under another name: its signature is unknown, so ignored */
	other = v;
	memcpy(other.name, "PeterNeuman", sizeof("PeterNeuman"));
	assert_int_equal(open_str(pn_note, &other, 1, &signers), MLA_ERR_CERT_UNTRUSTED);
	/* same name, another ID: unknown too */
	other = v;
	other.id ^= 1;
	assert_int_equal(open_str(pn_note, &other, 1, &signers), MLA_ERR_CERT_UNTRUSTED);
	assert_int_equal(open_str(pn_note, NULL, 0, &signers), MLA_ERR_CERT_UNTRUSTED);
}

/* ---- checkpoints ---- */

struct fixture {
	EVP_PKEY *a, *b;
	mla_privkey *ka, *kb; /* the same keys, for signing */
	mla_note_verifier va, vb;
	mla_checkpoint cp;
	char *note; /* cp signed by a */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	size_t len;

	if (f == NULL)
		return -1;
	f->a = new_key();
	f->b = new_key();
	f->ka = signing_key(f->a);
	f->kb = signing_key(f->b);
	if (mla_note_verifier_from_key("mlagw.es/audit", f->a, &f->va, NULL) != MLA_OK ||
	    mla_note_verifier_from_key("mlagw.co/audit", f->b, &f->vb, NULL) != MLA_OK)
		return -1;
	memcpy(f->cp.origin, "mlagw.es/audit", sizeof("mlagw.es/audit"));
	f->cp.size = 1234;
	for (int i = 0; i < MLA_MERKLE_HASH_LEN; i++)
		f->cp.root[i] = (uint8_t)(i * 7 + 1);
	if (mla_checkpoint_sign(&f->cp, "mlagw.es/audit", f->ka, &f->note, &len, NULL) != MLA_OK ||
	    len != strlen(f->note))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mla_privkey_free(f->ka);
	mla_privkey_free(f->kb);
	EVP_PKEY_free(f->a);
	EVP_PKEY_free(f->b);
	free(f->note);
	free(f);
	return 0;
}

static void test_checkpoint_roundtrip(void **state)
{
	struct fixture *f = *state;
	mla_checkpoint cp;
	uint64_t signers;
	char b64[45], *head, *n2 = NULL;
	const char *sig;
	size_t len;

	/* exactly the C2SP shape */
	(void)EVP_EncodeBlock((unsigned char *)b64, f->cp.root, MLA_MERKLE_HASH_LEN);
	assert_true(asprintf(&head, "mlagw.es/audit\n1234\n%s\n\n\xe2\x80\x94 mlagw.es/audit ",
			     b64) > 0);
	assert_memory_equal(f->note, head, strlen(head));
	sig = f->note + strlen(head);
	assert_int_equal(strlen(sig), 92 + 1);
	assert_int_equal(sig[92], '\n');
	free(head);

	assert_int_equal(mla_checkpoint_open(f->note, strlen(f->note), &f->va, 1, &cp, &signers,
					     NULL),
			 MLA_OK);
	assert_string_equal(cp.origin, "mlagw.es/audit");
	assert_int_equal(cp.size, 1234);
	assert_memory_equal(cp.root, f->cp.root, MLA_MERKLE_HASH_LEN);
	assert_int_equal(cp.extensions, 0);
	assert_int_equal(signers, 1);

	/* the empty tree, the largest size */
	memset(&cp, 0, sizeof(cp));
	memcpy(cp.origin, "o", 2);
	assert_int_equal(mla_merkle_empty_root(cp.root), MLA_OK);
	assert_int_equal(mla_checkpoint_sign(&cp, "mlagw.es/audit", f->ka, &n2, &len, NULL),
			 MLA_OK);
	assert_non_null(strstr(n2, "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n"));
	assert_int_equal(open_cp(n2, &f->va, 1, &cp), MLA_OK);
	assert_int_equal(cp.size, 0);
	free(n2);
	cp.size = UINT64_MAX;
	assert_int_equal(mla_checkpoint_sign(&cp, "mlagw.es/audit", f->ka, &n2, &len, NULL),
			 MLA_OK);
	assert_non_null(strstr(n2, "\n18446744073709551615\n"));
	assert_int_equal(open_cp(n2, &f->va, 1, &cp), MLA_OK);
	assert_true(cp.size == UINT64_MAX);
	free(n2);
}

/* A second gateway's signature line appended to the note: a cosignature. */
static void test_checkpoint_cosigned(void **state)
{
	struct fixture *f = *state;
	mla_note_verifier both[2] = {f->va, f->vb}, c;
	EVP_PKEY *k = new_key();
	char *nb = NULL, *cos, *twice;
	const char *text_end = strstr(f->note, "\n\n"), *line_b;
	size_t len;
	uint64_t signers;

	assert_int_equal(mla_note_sign(f->note, (size_t)(text_end - f->note) + 1, "mlagw.co/audit",
				       f->kb, &nb, &len, NULL),
			 MLA_OK);
	line_b = strstr(nb, "\n\n") + 2;
	assert_true(asprintf(&cos, "%s%s", f->note, line_b) > 0);
	assert_int_equal(open_str(cos, both, 2, &signers), MLA_OK);
	assert_int_equal(signers, 3);
	assert_int_equal(open_str(cos, &both[1], 1, &signers), MLA_OK);
	assert_int_equal(signers, 1);
	/* an unknown third key */
	assert_int_equal(mla_note_verifier_from_key("mlagw.fr/audit", k, &c, NULL), MLA_OK);
	assert_int_equal(open_str(cos, &c, 1, &signers), MLA_ERR_CERT_UNTRUSTED);
	/* a known name with another key: a different ID, so ignored */
	assert_int_equal(mla_note_verifier_from_key("mlagw.es/audit", k, &c, NULL), MLA_OK);
	assert_int_equal(open_str(cos, &c, 1, &signers), MLA_ERR_CERT_UNTRUSTED);
	/* the same signature line twice */
	assert_true(asprintf(&twice, "%s%s", cos, line_b) > 0);
	assert_int_equal(open_str(twice, both, 2, &signers), MLA_ERR_SCHEMA);
	free(twice);
	free(nb);
	free(cos);
	EVP_PKEY_free(k);
}

static void test_checkpoint_tampered(void **state)
{
	struct fixture *f = *state;
	char b64[45], *root2;
	const char *sig = strstr(f->note, "\xe2\x80\x94 ") + 4 + strlen("mlagw.es/audit ");
	char sigpart[9], sigbad[9];

	expect_replaced(f->note, "\n1234\n", "\n1235\n", &f->va, 1, MLA_ERR_SIG_INVALID);
	expect_replaced(f->note, "mlagw.es/audit\n", "mlagw.co/audit\n", &f->va, 1,
			MLA_ERR_SIG_INVALID);
	(void)EVP_EncodeBlock((unsigned char *)b64, f->cp.root, MLA_MERKLE_HASH_LEN);
	root2 = strdup(b64);
	assert_non_null(root2);
	root2[5] = root2[5] == 'A' ? 'B' : 'A';
	expect_replaced(f->note, b64, root2, &f->va, 1, MLA_ERR_SIG_INVALID);
	free(root2);
	/* a signature character (in the Ed25519 part, past the 4-byte key ID) */
	memcpy(sigpart, sig + 20, 8);
	sigpart[8] = '\0';
	memcpy(sigbad, sigpart, 9);
	sigbad[0] = sigbad[0] == 'A' ? 'B' : 'A';
	expect_replaced(f->note, sigpart, sigbad, &f->va, 1, MLA_ERR_SIG_INVALID);
	/* the key ID part: no longer the known key's, so no known signature */
	memcpy(sigpart, sig, 4);
	sigpart[4] = '\0';
	memcpy(sigbad, sigpart, 5);
	sigbad[0] = sigbad[0] == 'A' ? 'B' : 'A';
	expect_replaced(f->note, sigpart, sigbad, &f->va, 1, MLA_ERR_CERT_UNTRUSTED);
	/* unknown key only */
	assert_int_equal(open_cp(f->note, &f->vb, 1, &(mla_checkpoint){0}), MLA_ERR_CERT_UNTRUSTED);
}

/* Signs arbitrary text (good signature, bad checkpoint) and opens it as a checkpoint. */
static mla_err open_signed_text(struct fixture *f, const char *text, mla_checkpoint *cp)
{
	char *note = NULL;
	size_t len;
	mla_err r;

	assert_int_equal(mla_note_sign(text, strlen(text), "mlagw.es/audit", f->ka, &note, &len,
				       NULL),
			 MLA_OK);
	r = open_cp(note, &f->va, 1, cp);
	free(note);
	return r;
}

static void test_checkpoint_malformed_body(void **state)
{
	struct fixture *f = *state;
	mla_checkpoint cp;
	const char *root = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	char text[256];

#define BODY(o, s, r, rest) (snprintf(text, sizeof(text), "%s\n%s\n%s\n%s", o, s, r, rest), text)
	assert_int_equal(open_signed_text(f, BODY("o", "5", root, ""), &cp), MLA_OK);
	assert_int_equal(cp.size, 5);
	assert_int_equal(cp.root[31], 0x1f);
	/* extension lines are accepted and counted; empty lines are not */
	assert_int_equal(open_signed_text(f, BODY("o", "5", root, "ext one\next two\n"), &cp),
			 MLA_OK);
	assert_int_equal(cp.extensions, 2);
	assert_int_equal(open_signed_text(f, BODY("o", "5", root, "\next\n"), &cp), MLA_ERR_SCHEMA);
	/* sizes */
	assert_int_equal(open_signed_text(f, BODY("o", "12a", root, ""), &cp), MLA_ERR_SCHEMA);
	assert_int_equal(open_signed_text(f, BODY("o", "-1", root, ""), &cp), MLA_ERR_SCHEMA);
	assert_int_equal(open_signed_text(f, BODY("o", "+1", root, ""), &cp), MLA_ERR_SCHEMA);
	assert_int_equal(open_signed_text(f, BODY("o", "012", root, ""), &cp), MLA_ERR_SCHEMA);
	assert_int_equal(open_signed_text(f, BODY("o", " 1", root, ""), &cp), MLA_ERR_SCHEMA);
	assert_int_equal(open_signed_text(f, BODY("o", "18446744073709551616", root, ""), &cp),
			 MLA_ERR_SCHEMA);
	assert_int_equal(open_signed_text(f, BODY("o", "0", root, ""), &cp), MLA_OK);
	/* roots */
	assert_int_equal(open_signed_text(f, BODY("o", "1", "AAEC", ""), &cp), MLA_ERR_SCHEMA);
	assert_int_equal(
		open_signed_text(f, BODY("o", "1", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", ""),
				 &cp),
		MLA_ERR_SCHEMA); /* unpadded */
	assert_int_equal(
		open_signed_text(f, BODY("o", "1", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", ""),
				 &cp),
		MLA_ERR_SCHEMA); /* non-zero pad bits */
	assert_int_equal(
		open_signed_text(f, BODY("o", "1", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd Hh8=", ""),
				 &cp),
		MLA_ERR_SCHEMA);
	/* missing lines, empty origin; an origin with a newline is just another line */
	assert_int_equal(open_signed_text(f, "o\n5\n", &cp), MLA_ERR_SCHEMA);
	assert_int_equal(open_signed_text(f, BODY("", "5", root, ""), &cp), MLA_ERR_SCHEMA);
	assert_int_equal(open_signed_text(f, BODY("or\nigin", "5", root, ""), &cp), MLA_ERR_SCHEMA);
#undef BODY
}

static void test_checkpoint_malformed_note(void **state)
{
	struct fixture *f = *state;
	char *t, *big;
	mla_checkpoint cp;
	const char *line = strstr(f->note, "\xe2\x80\x94 ");
	size_t len;

	/* missing blank line */
	expect_replaced(f->note, "\n\n", "\n", &f->va, 1, MLA_ERR_SCHEMA);
	/* no signature lines, or no final newline */
	t = strdup(f->note);
	assert_non_null(t);
	t[line - f->note] = '\0';
	assert_int_equal(open_cp(t, &f->va, 1, &cp), MLA_ERR_SCHEMA);
	free(t);
	t = strndup(f->note, strlen(f->note) - 1);
	assert_int_equal(open_cp(t, &f->va, 1, &cp), MLA_ERR_SCHEMA);
	free(t);
	/* bad base64 in the signature, a wrong dash, a missing space, an invalid name */
	expect_replaced(f->note, "audit ", "audit !!!!", &f->va, 1, MLA_ERR_SCHEMA);
	expect_replaced(f->note, "\xe2\x80\x94 ", "- ", &f->va, 1, MLA_ERR_SCHEMA);
	expect_replaced(f->note, "\xe2\x80\x94 ", "\xe2\x80\x94", &f->va, 1, MLA_ERR_SCHEMA);
	expect_replaced(f->note, "\xe2\x80\x94 mlagw.es/audit", "\xe2\x80\x94 mlagw+es/audit",
			&f->va, 1, MLA_ERR_SCHEMA);
	/* trailing garbage: a line, or bytes without a newline */
	assert_true(asprintf(&t, "%sgarbage\n", f->note) > 0);
	assert_int_equal(open_cp(t, &f->va, 1, &cp), MLA_ERR_SCHEMA);
	free(t);
	assert_true(asprintf(&t, "%sgarbage", f->note) > 0);
	assert_int_equal(open_cp(t, &f->va, 1, &cp), MLA_ERR_SCHEMA);
	free(t);
	assert_true(asprintf(&t, "%s\n", f->note) > 0); /* a blank line after the signatures */
	assert_int_equal(open_cp(t, &f->va, 1, &cp), MLA_ERR_SCHEMA);
	free(t);
	/* control characters, invalid UTF-8, NUL */
	expect_replaced(f->note, "1234", "12\t4", &f->va, 1, MLA_ERR_SCHEMA);
	expect_replaced(f->note, "1234\n", "1234\r\n", &f->va, 1, MLA_ERR_SCHEMA);
	expect_replaced(f->note, "mlagw.es/audit\n", "mlagw\xc3.es/audit\n", &f->va, 1,
			MLA_ERR_SCHEMA);
	expect_replaced(f->note, "mlagw.es/audit\n", "mlagw\xc0\xae.es/audit\n", &f->va, 1,
			MLA_ERR_SCHEMA); /* overlong */
	len = strlen(f->note);
	t = strdup(f->note);
	assert_non_null(t);
	t[3] = '\0';
	assert_int_equal(mla_checkpoint_open(t, len, &f->va, 1, &cp, &(uint64_t){0}, NULL),
			 MLA_ERR_SCHEMA);
	free(t);
	/* too large, too many signatures */
	big = malloc(MLA_NOTE_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', MLA_NOTE_MAX + 1);
	big[MLA_NOTE_MAX] = '\n';
	big[MLA_NOTE_MAX + 1] = '\0';
	assert_int_equal(open_cp(big, &f->va, 1, &cp), MLA_ERR_TOO_LARGE);
	free(big);
	t = strdup(f->note);
	assert_non_null(t);
	for (int i = 0; i < MLA_NOTE_SIGS_MAX; i++) {
		char *u;
		assert_true(asprintf(&u, "%s\xe2\x80\x94 other%d AAAAAAAA\n", t, i) > 0);
		free(t);
		t = u;
	}
	assert_int_equal(open_cp(t, &f->va, 1, &cp), MLA_ERR_TOO_LARGE);
	free(t);
}

static void test_sign_refusals(void **state)
{
	struct fixture *f = *state;
	mla_checkpoint cp = f->cp;
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	mla_privkey *kec;
	char *note = NULL;
	size_t len;

	assert_non_null(ec);
	kec = signing_key(ec);
	memcpy(cp.origin, "bad\norigin", sizeof("bad\norigin"));
	assert_int_equal(mla_checkpoint_sign(&cp, "k", f->ka, &note, &len, NULL), MLA_ERR_ARG);
	cp.origin[0] = '\0';
	assert_int_equal(mla_checkpoint_sign(&cp, "k", f->ka, &note, &len, NULL), MLA_ERR_ARG);
	cp = f->cp;
	assert_int_equal(mla_checkpoint_sign(&cp, "", f->ka, &note, &len, NULL), MLA_ERR_ARG);
	assert_int_equal(mla_checkpoint_sign(&cp, "a b", f->ka, &note, &len, NULL), MLA_ERR_ARG);
	assert_int_equal(mla_checkpoint_sign(&cp, "a+b", f->ka, &note, &len, NULL), MLA_ERR_ARG);
	assert_int_equal(mla_checkpoint_sign(&cp, "a\xc2\xa0" "b", f->ka, &note, &len, NULL),
			 MLA_ERR_ARG); /* U+00A0 no-break space */
	assert_int_equal(mla_checkpoint_sign(&cp, "k", kec, &note, &len, NULL), MLA_ERR_ARG);
	assert_int_equal(mla_note_sign("no newline", 10, "k", f->ka, &note, &len, NULL),
			 MLA_ERR_ARG);
	assert_int_equal(mla_note_sign("tab\there\n", 10, "k", f->ka, &note, &len, NULL),
			 MLA_ERR_ARG);
	assert_null(note);
	mla_privkey_free(kec);
	EVP_PKEY_free(ec);
}

static void test_vkey_malformed(void **state)
{
	struct fixture *f = *state;
	mla_note_verifier v;
	char s[MLA_NOTE_VKEY_MAX], *t;

	assert_int_equal(mla_note_vkey_format(&f->va, s, sizeof(s)), MLA_OK);
	assert_int_equal(mla_note_vkey_parse(s, &v, NULL), MLA_OK);
	assert_memory_equal(&v, &f->va, sizeof(v));
	assert_int_equal(mla_note_vkey_parse("PeterNeumann", &v, NULL), MLA_ERR_SCHEMA);
	assert_int_equal(mla_note_vkey_parse("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
					     &v, NULL),
			 MLA_ERR_SCHEMA);
	assert_int_equal(mla_note_vkey_parse("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
					     "LDE4izWy10TW", &v, NULL),
			 MLA_ERR_SCHEMA);
	assert_int_equal(mla_note_vkey_parse("PeterNeumann+c74f20ag+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
					     "LDE4izWy10TW", &v, NULL),
			 MLA_ERR_SCHEMA);
	/* wrong key ID, name that does not match the ID */
	assert_int_equal(mla_note_vkey_parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
					     "LDE4izWy10TW", &v, NULL),
			 MLA_ERR_SCHEMA);
	assert_int_equal(mla_note_vkey_parse("PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
					     "LDE4izWy10TW", &v, NULL),
			 MLA_ERR_SCHEMA);
	/* bad base64, short key, another signature type (0x02) */
	assert_int_equal(mla_note_vkey_parse("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
					     "LDE4izWy10T!", &v, NULL),
			 MLA_ERR_SCHEMA);
	assert_int_equal(mla_note_vkey_parse("PeterNeumann+c74f20a3+ARpc", &v, NULL),
			 MLA_ERR_SCHEMA);
	assert_int_equal(mla_note_vkey_parse("PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
					     "LDE4izWy10TW", &v, NULL),
			 MLA_ERR_ALG_UNKNOWN);
	t = replaced(pn_vkey, "+c74f20a3+", "+C74F20A3+"); /* upper-case hex is accepted */
	assert_int_equal(mla_note_vkey_parse(t, &v, NULL), MLA_OK);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vkey_go_vector),
		cmocka_unit_test(test_note_go_vector),
		cmocka_unit_test_setup_teardown(test_checkpoint_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_cosigned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_malformed_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_malformed_note, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vkey_malformed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
