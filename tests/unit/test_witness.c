/* Unit tests of witnessing (protocol/checkpoint.c cosignatures, protocol/witness.c): C2SP
 * cosignature/v1 lines verify with the cosigner's type-0x04 key only, over the exact text and
 * time; the tlog-witness add-checkpoint bodies round-trip and malformed ones are refused. */
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
#include "mlagw/codec.h"
#include "mlagw/witness.h"

struct fixture {
	EVP_PKEY *log, *wit;
	mla_privkey *klog, *kwit; /* the same keys, for signing */
	mla_note_verifier vlog, vwit;
	char *note;	  /* a checkpoint signed by log */
	size_t text_len; /* its text, up to the blank line */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	mla_checkpoint cp = {.size = 77};
	size_t len;

	if (f == NULL)
		return -1;
	f->log = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	f->wit = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	memcpy(cp.origin, "mlagw.co/audit", sizeof("mlagw.co/audit"));
	memset(cp.root, 0xab, sizeof(cp.root));
	if (f->log == NULL || f->wit == NULL ||
	    mla_privkey_from_evp(f->log, &f->klog, NULL) != MLA_OK ||
	    mla_privkey_from_evp(f->wit, &f->kwit, NULL) != MLA_OK ||
	    mla_note_verifier_from_key("mlagw.co/audit", f->log, &f->vlog, NULL) != MLA_OK ||
	    mla_cosig_verifier_from_key("mlagw.es/witness", f->wit, &f->vwit, NULL) != MLA_OK ||
	    mla_checkpoint_sign(&cp, "mlagw.co/audit", f->klog, &f->note, &len, NULL) != MLA_OK)
		return -1;
	f->text_len = (size_t)(strstr(f->note, "\n\n") - f->note) + 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mla_privkey_free(f->klog);
	mla_privkey_free(f->kwit);
	EVP_PKEY_free(f->log);
	EVP_PKEY_free(f->wit);
	free(f->note);
	free(f);
	return 0;
}

/* The note with the witness's cosignature at time ts appended (free() it). */
static char *cosigned(const struct fixture *f, uint64_t ts)
{
	char line[MLA_COSIG_LINE_MAX];
	size_t n;
	char *out;

	assert_int_equal(mla_cosignature_sign(f->note, f->text_len, "mlagw.es/witness", f->kwit, ts,
					      line, sizeof(line), NULL),
			 MLA_OK);
	n = strlen(f->note) + strlen(line) + 1;
	out = malloc(n);
	assert_non_null(out);
	assert_int_equal(mla_snprintf(out, n, "%s%s", f->note, line), MLA_OK);
	return out;
}

static mla_err open_with(const char *note, const mla_note_verifier *keys, size_t n,
			 uint64_t *signers)
{
	mla_checkpoint cp;
	mla_diag d = {0};
	mla_err r = mla_checkpoint_open(note, strlen(note), keys, n, &cp, signers, &d);

	if (r != MLA_OK)
		print_message("  refused: %s\n", mla_diag_message(&d));
	return r;
}

static void test_cosignature_verifies(void **state)
{
	struct fixture *f = *state;
	mla_note_verifier both[2] = {f->vlog, f->vwit}, plain;
	char *note = cosigned(f, 1679315147), *line = strstr(note, "\n\n") + 1, vkey[400];
	uint64_t signers = 0;

	/* the signature field is base64 of 4 + 8 + 64 bytes */
	line = strstr(line + 1, "\xe2\x80\x94 mlagw.es/witness ");
	assert_non_null(line);
	assert_int_equal(strlen(line), 4 + strlen("mlagw.es/witness ") + 104 + 1);
	assert_int_equal(open_with(note, both, 2, &signers), MLA_OK);
	assert_int_equal(signers, 3);
	/* the same key as a plain note signer: another key ID, so the line is ignored */
	assert_int_equal(mla_note_verifier_from_key("mlagw.es/witness", f->wit, &plain, NULL),
			 MLA_OK);
	assert_true(plain.id != f->vwit.id);
	both[1] = plain;
	assert_int_equal(open_with(note, both, 2, &signers), MLA_OK);
	assert_int_equal(signers, 1);
	/* the cosigner's vkey has type 0x04 and round-trips */
	assert_int_equal(mla_note_vkey_format(&f->vwit, vkey, sizeof(vkey)), MLA_OK);
	assert_int_equal(mla_note_vkey_parse(vkey, &plain, NULL), MLA_OK);
	assert_int_equal(plain.type, MLA_NOTE_SIG_COSIG_V1);
	assert_int_equal(plain.id, f->vwit.id);
	free(note);
}

/* The signature line starting at line with byte i of its decoded field XORed with x. */
static void flip_field_byte(char *line, size_t i, uint8_t x)
{
	char *b64 = strchr(line, ' ') + 1;
	b64 = strchr(b64, ' ') + 1;
	uint8_t raw[76];
	char text[MLA_B64_LEN(76) + 1];

	assert_int_equal(mla_b64_decode(b64, 104, raw, sizeof(raw), NULL), MLA_OK);
	raw[i] ^= x;
	assert_int_equal(mla_b64_encode(raw, sizeof(raw), text, sizeof(text)), MLA_OK);
	memcpy(b64, text, 104); /* in place, keeping the newline after it */
}

/* The cosignature covers the time and the text: a changed time or root refuses the note. */
static void test_cosignature_tampered(void **state)
{
	struct fixture *f = *state;
	mla_note_verifier both[2] = {f->vlog, f->vwit};
	char *a = cosigned(f, 1000), *b = cosigned(f, 1001);
	char *la = strrchr(a, '\n');
	uint64_t signers;

	la[0] = '\0';
	la = strrchr(a, '\n') + 1;
	la[strlen(la)] = '\n';
	/* a byte of the time (key ID 4 bytes, then 8 of time) changed */
	flip_field_byte(la, 11, 0x01);
	assert_int_equal(open_with(a, both, 2, &signers), MLA_ERR_SIG_INVALID);
	/* a time beyond 2^63 - 1 is refused too */
	flip_field_byte(la, 11, 0x01);
	assert_int_equal(open_with(a, both, 2, &signers), MLA_OK);
	flip_field_byte(la, 4, 0x80);
	assert_int_equal(open_with(a, both, 2, &signers), MLA_ERR_SIG_INVALID);
	/* the text changed under a valid cosignature: the log's signature fails first */
	b[strlen("mlagw.co/audit\n")] = '8';
	assert_int_equal(open_with(b, both, 2, &signers), MLA_ERR_SIG_INVALID);
	assert_int_equal(open_with(b, &f->vwit, 1, &signers), MLA_ERR_SIG_INVALID);
	free(a);
	free(b);
}

static void test_request_roundtrip(void **state)
{
	struct fixture *f = *state;
	uint8_t proof[3][MLA_MERKLE_HASH_LEN];
	mla_witness_request w;
	mla_buf body;
	uint64_t size = 0;

	for (int i = 0; i < 3; i++)
		memset(proof[i], i + 1, MLA_MERKLE_HASH_LEN);
	mla_buf_init(&body, MLA_WITNESS_BODY_MAX);
	assert_int_equal(mla_witness_request_format(42, (const uint8_t(*)[32])proof, 3, f->note,
						    strlen(f->note), &body, NULL),
			 MLA_OK);
	assert_memory_equal(body.data, "old 42\nAQEB", 11);
	assert_int_equal(mla_witness_request_parse((const char *)body.data, body.len, &w, NULL),
			 MLA_OK);
	assert_true(w.old_size == 42);
	assert_int_equal(w.nproof, 3);
	assert_memory_equal(w.proof, proof, sizeof(proof));
	assert_int_equal(w.note_len, strlen(f->note));
	assert_memory_equal(w.note, f->note, w.note_len);
	/* no proof at all */
	assert_int_equal(mla_witness_request_format(0, NULL, 0, f->note, strlen(f->note), &body,
						    NULL),
			 MLA_OK);
	assert_int_equal(mla_witness_request_parse((const char *)body.data, body.len, &w, NULL),
			 MLA_OK);
	assert_true(w.old_size == 0 && w.nproof == 0);
	mla_buf_free(&body);
	assert_int_equal(mla_witness_size_parse("1234\n", 5, &size, NULL), MLA_OK);
	assert_true(size == 1234);
}

static void test_request_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"old\n\nx\n",
		"old 01\n\nx\n",
		"old -1\n\nx\n",
		"old 18446744073709551616\n\nx\n",
		"new 1\n\nx\n",
		"old 1\n",					      /* no empty line */
		"old 1\n\n",					      /* no checkpoint */
		"old 1\nAQEB\n\nx\n",				      /* not 32 bytes */
		"old 1\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQF=\n\nx\n", /* pad bits */
		"old 1\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE\n\nx\n",  /* unpadded */
	};
	mla_witness_request w;
	mla_buf many;
	uint64_t size;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mla_diag d = {0};
		assert_int_equal(mla_witness_request_parse(bad[i], strlen(bad[i]), &w, &d),
				 MLA_ERR_SCHEMA);
		assert_true(strstr(mla_diag_message(&d), "witness request") != NULL);
	}
	/* 64 proof lines: one more than allowed */
	mla_buf_init(&many, 1 << 16);
	assert_int_equal(mla_buf_printf(&many, "old 1\n"), MLA_OK);
	for (int i = 0; i < 64; i++)
		assert_int_equal(mla_buf_printf(&many, "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"),
				 MLA_OK);
	assert_int_equal(mla_buf_printf(&many, "\nx\n"), MLA_OK);
	assert_int_equal(mla_witness_request_parse((const char *)many.data, many.len, &w, NULL),
			 MLA_ERR_SCHEMA);
	mla_buf_free(&many);
	assert_int_equal(mla_witness_size_parse("12", 2, &size, NULL), MLA_ERR_SCHEMA);
	assert_int_equal(mla_witness_size_parse("012\n", 4, &size, NULL), MLA_ERR_SCHEMA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cosignature_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cosignature_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_roundtrip, setup, teardown),
		cmocka_unit_test(test_request_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
