/* Signing with a key the keyholder holds (docs/internals/keys.md, "The keyholder"): xmlsec
 * builds the signature as usual but with a stand-in key of the same kind, keeping the exact
 * bytes it signed (the canonical SignedInfo, XMLSEC_DSIG_FLAGS_STORE_SIGNATURE); the
 * keyholder signs those bytes and its signature replaces the stand-in's in SignatureValue.
 * xmlsec cannot drive a key whose private half is elsewhere: OpenSSL 3 answers its
 * parameter queries only for keys it holds. */
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <xmlsec/base64.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>

#include "keys_internal.h"
#include "seal_internal.h"

/* Throwaway keys, never a secret, each made the first time a signer of its kind needs it: an
 * EC gateway (the default) never pays for an RSA key generation at start. The RSA one is as
 * small as OpenSSL makes: its signature is thrown away, and every signature made elsewhere
 * also pays for this one (RSA-512 signs in 0.04 ms here, RSA-2048 in 0.28: about a tenth of
 * an exchange's private-key work with RSA-3072 keys). */
static pthread_once_t once[2] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};
static EVP_PKEY *stand_in[2]; /* [0] RSA, [1] EC */

static void make_rsa(void)
{
	stand_in[0] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
}

static void make_ec(void)
{
	stand_in[1] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

EVP_PKEY *seal_stand_in_key(int is_ec)
{
	if (pthread_once(&once[is_ec ? 1 : 0], is_ec ? make_ec : make_rsa) != 0)
		return NULL;
	return stand_in[is_ec ? 1 : 0];
}

/* XML-DSig's ECDSA value (RFC 4050 / 6931): r and s, each padded to the group order's size. */
static mla_err ecdsa_raw(const mla_privkey *key, const uint8_t *der, size_t len, uint8_t *out,
			 size_t *out_len, mla_diag *diag)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r = NULL, *s = NULL;
	BIGNUM *order = NULL;
	int half;
	mla_err e = MLA_ERR_INTERNAL;

	if (sig != NULL &&
	    EVP_PKEY_get_bn_param(mla_privkey_public(key), OSSL_PKEY_PARAM_EC_ORDER, &order) == 1 &&
	    (half = BN_num_bytes(order)) > 0 && (size_t)half * 2 <= *out_len) {
		ECDSA_SIG_get0(sig, &r, &s);
		if (BN_bn2binpad(r, out, half) == half && BN_bn2binpad(s, out + half, half) == half) {
			*out_len = (size_t)half * 2;
			e = MLA_OK;
		}
	}
	ECDSA_SIG_free(sig);
	BN_free(order);
	return e == MLA_OK ? e : mla_fail(diag, e, "the keyholder's ECDSA signature does not decode");
}

mla_err seal_sign_elsewhere(xmlSecDSigCtxPtr ctx, xmlNodePtr sig, const mla_signer *signer,
			    mla_diag *diag)
{
	xmlSecBufferPtr pre = xmlSecDSigCtxGetPreSignBuffer(ctx);
	uint8_t der[2048], raw[2048];
	size_t len = sizeof(der), raw_len = sizeof(raw);
	xmlNodePtr value = xmlSecFindNode(sig, xmlSecNodeSignatureValue, xmlSecDSigNs);
	xmlChar *b64;
	mla_err r;

	if (pre == NULL || value == NULL)
		return mla_fail(diag, MLA_ERR_INTERNAL, "signing: no signed bytes kept");
	if ((r = mla_privkey_sign(signer->key, xmlSecBufferGetData(pre), xmlSecBufferGetSize(pre),
				  der, &len, diag)) != MLA_OK)
		return r;
	if (signer->is_ec)
		r = ecdsa_raw(signer->key, der, len, raw, &raw_len, diag);
	else { /* rsa-sha256's value is the PKCS#1 v1.5 signature itself */
		memcpy(raw, der, len);
		raw_len = len;
	}
	if (r != MLA_OK)
		return r;
	if ((b64 = xmlSecBase64Encode(raw, (xmlSecSize)raw_len,
				      xmlSecBase64GetDefaultLineSize())) == NULL)
		return MLA_ERR_NOMEM;
	xmlNodeSetContent(value, b64);
	xmlFree(b64);
	return MLA_OK;
}
