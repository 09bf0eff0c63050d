/* PKCS#11 key generation (see pki_token.h). The templates say everything explicitly: token
 * objects, the private half private, sensitive and not extractable, usable to sign (EC) or
 * to decrypt (RSA, which also signs its certificate request), whatever the token's
 * defaults. */
#include <stdlib.h>
#include <string.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>

#include "pki_token.h"

struct pki_token {
	CK_FUNCTION_LIST *f;
	CK_SESSION_HANDLE s;
	int initialized, open, logged_in;
};

/* DER of the OID of prime256v1 (1.2.840.10045.3.1.7), CKA_EC_PARAMS */
static const unsigned char p256_oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

static mla_err ck_fail(mla_diag *diag, const char *what, CK_RV rv)
{
	return mla_fail(diag, MLA_ERR_KEY_FILE, "PKCS#11 %s failed (CKR 0x%lx)", what,
			(unsigned long)rv);
}

/* The token's 32-byte blank-padded label equals label. */
static int same_label(const CK_UTF8CHAR *padded, const char *label)
{
	size_t n = strlen(label);

	if (n > 32 || memcmp(padded, label, n) != 0)
		return 0;
	for (size_t i = n; i < 32; i++)
		if (padded[i] != ' ')
			return 0;
	return 1;
}

static mla_err find_slot(CK_FUNCTION_LIST *f, const char *label, CK_SLOT_ID *slot,
			 mla_diag *diag)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	CK_TOKEN_INFO info;
	CK_RV rv = f->C_GetSlotList(CK_TRUE, slots, &n);

	if (rv != CKR_OK)
		return ck_fail(diag, "C_GetSlotList", rv);
	for (CK_ULONG i = 0; i < n; i++)
		if (f->C_GetTokenInfo(slots[i], &info) == CKR_OK && same_label(info.label, label)) {
			*slot = slots[i];
			return MLA_OK;
		}
	return mla_fail(diag, MLA_ERR_NOT_FOUND, "no PKCS#11 token labelled %s", label);
}

mla_err pki_token_open(const char *module_path, const char *label, const char *pin,
		       size_t pin_len, struct pki_token **out, mla_diag *diag)
{
	struct pki_token *t = calloc(1, sizeof(*t));
	CK_SLOT_ID slot = 0;
	CK_RV rv;
	mla_err r;

	*out = NULL;
	if (t == NULL)
		return MLA_ERR_NOMEM;
	if ((t->f = p11_kit_module_load(module_path, 0)) == NULL) {
		free(t);
		return mla_fail(diag, MLA_ERR_NOT_FOUND, "cannot load the PKCS#11 module %s",
				module_path);
	}
	if ((rv = p11_kit_module_initialize(t->f)) != CKR_OK) {
		r = ck_fail(diag, "C_Initialize", rv);
		goto fail;
	}
	t->initialized = 1;
	if ((r = find_slot(t->f, label, &slot, diag)) != MLA_OK)
		goto fail;
	if ((rv = t->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
				      &t->s)) != CKR_OK) {
		r = ck_fail(diag, "C_OpenSession", rv);
		goto fail;
	}
	t->open = 1;
	if ((rv = t->f->C_Login(t->s, CKU_USER, (CK_UTF8CHAR_PTR)(uintptr_t)pin,
				(CK_ULONG)pin_len)) != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		r = rv == CKR_PIN_INCORRECT ? mla_fail(diag, MLA_ERR_KEY_FILE, "the token %s "
						       "refused the PIN", label)
					    : ck_fail(diag, "C_Login", rv);
		goto fail;
	}
	t->logged_in = 1;
	*out = t;
	return MLA_OK;
fail:
	pki_token_close(t);
	return r;
}

/* Up to n objects labelled label into objs; their number, or -1. */
static long find_labelled(struct pki_token *t, const char *label, CK_OBJECT_HANDLE *objs,
			  CK_ULONG n)
{
	CK_ATTRIBUTE tmpl[] = {{CKA_LABEL, (void *)(uintptr_t)label, strlen(label)}};
	CK_ULONG got = 0;
	CK_RV rv;

	if (t->f->C_FindObjectsInit(t->s, tmpl, 1) != CKR_OK)
		return -1;
	rv = t->f->C_FindObjects(t->s, objs, n, &got);
	(void)t->f->C_FindObjectsFinal(t->s);
	return rv == CKR_OK ? (long)got : -1;
}

int pki_token_has(struct pki_token *t, const char *label)
{
	CK_OBJECT_HANDLE o[1];
	long n = find_labelled(t, label, o, 1);

	return n < 0 ? -1 : n > 0;
}

mla_err pki_token_destroy(struct pki_token *t, const char *label, mla_diag *diag)
{
	CK_OBJECT_HANDLE o[16];
	long n = find_labelled(t, label, o, 16);
	CK_RV rv;

	if (n < 0)
		return mla_fail(diag, MLA_ERR_KEY_FILE, "cannot search the token for %s", label);
	for (long i = 0; i < n; i++)
		if ((rv = t->f->C_DestroyObject(t->s, o[i])) != CKR_OK)
			return ck_fail(diag, "C_DestroyObject", rv);
	return MLA_OK;
}

mla_err pki_token_generate(struct pki_token *t, mla_key_type type, int bits, const char *label,
			   unsigned char id, mla_diag *diag)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG modulus_bits = (CK_ULONG)bits, label_len = strlen(label);
	CK_BYTE e65537[] = {0x01, 0x00, 0x01};
	CK_ATTRIBUTE_TYPE use_pub = type == MLA_KEY_RSA ? CKA_ENCRYPT : CKA_VERIFY;
	CK_BBOOL rsa = type == MLA_KEY_RSA ? CK_TRUE : CK_FALSE;
	CK_MECHANISM mech = {type == MLA_KEY_RSA ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN,
			     NULL, 0};
	CK_ATTRIBUTE pub[] = {
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_LABEL, (void *)(uintptr_t)label, label_len},
		{CKA_ID, &id, 1},
		{use_pub, &yes, sizeof(yes)},
		{CKA_EC_PARAMS, (void *)(uintptr_t)p256_oid, sizeof(p256_oid)}, /* or, RSA: */
		{CKA_PUBLIC_EXPONENT, e65537, sizeof(e65537)},
	};
	CK_ATTRIBUTE priv[] = {
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_SENSITIVE, &yes, sizeof(yes)},
		{CKA_EXTRACTABLE, &no, sizeof(no)},
		{CKA_LABEL, (void *)(uintptr_t)label, label_len},
		{CKA_ID, &id, 1},
		/* uses said, as tokens default to all: EC keys sign; the RSA key decrypts, and
		 * signs its own certificate request (proof of possession) */
		{CKA_SIGN, &yes, sizeof(yes)},
		{CKA_DECRYPT, &rsa, sizeof(rsa)},
		{CKA_UNWRAP, &no, sizeof(no)},
	};
	CK_OBJECT_HANDLE hpub, hpriv;
	CK_ULONG n_pub = 5;
	CK_RV rv;

	if (type != MLA_KEY_RSA && type != MLA_KEY_EC_P256)
		return mla_fail(diag, MLA_ERR_ARG, "a token key is EC P-256 or RSA");
	if (type == MLA_KEY_RSA) { /* modulus bits and exponent instead of the curve */
		pub[4] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &modulus_bits, sizeof(modulus_bits)};
		n_pub = 6;
	}
	if ((rv = t->f->C_GenerateKeyPair(t->s, &mech, pub, n_pub, priv,
					  sizeof(priv) / sizeof(priv[0]), &hpub, &hpriv)) != CKR_OK)
		return ck_fail(diag, "C_GenerateKeyPair", rv);
	return MLA_OK;
}

void pki_token_close(struct pki_token *t)
{
	if (t == NULL)
		return;
	if (t->logged_in)
		(void)t->f->C_Logout(t->s);
	if (t->open)
		(void)t->f->C_CloseSession(t->s);
	if (t->initialized)
		(void)p11_kit_module_finalize(t->f);
	p11_kit_module_release(t->f);
	free(t);
}
