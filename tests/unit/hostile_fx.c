/* Helpers of the hostile-envelope tests (hostile_fx.h). */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libxml/tree.h>

#include "fixture.h"
#include "hostile_fx.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/receipt.h"
#include "mlagw/privkey.h"
#include "protocol_ns.h"
#include "xml_safe.h"

/* ---- expectations ---- */

void check_result(const char *what, mla_err got, const mla_diag *d, mla_err want,
		  const char *msg)
{
	if (got != want)
		fail_msg("%s: got %s (%s), want %s", what, mla_errname(got), d->msg,
			 mla_errname(want));
	if (msg != NULL && strstr(d->msg, msg) == NULL)
		fail_msg("%s: message '%s' lacks '%s'", what, d->msg, msg);
}

/* Opening with the given keys, State and limits fails with want and a message holding msg. */
void expect_open(const struct fixture *f, const void *env, size_t len,
		 const mla_keyring *keys, const char *state, const mla_limits *l,
		 mla_err want, const char *msg)
{
	mla_verified v;
	mla_buf doc;
	mla_diag d = {MLA_OK, ""};
	mla_err r = mla_envelope_open(env, len, f->trust, keys, state, l, &v, &doc, &d);

	check_result("open", r, &d, want, msg);
	assert_null(doc.data);
	mla_buf_free(&doc);
}

/* Both verification and opening (as CO) refuse with want and msg. */
void expect_refused_l(const struct fixture *f, const void *env, size_t len,
		      const mla_limits *l, mla_err want, const char *msg)
{
	mla_verified v;
	mla_diag d = {MLA_OK, ""};
	mla_err r = mla_envelope_verify(env, len, f->trust, l, &v, &d);

	check_result("verify", r, &d, want, msg);
	expect_open(f, env, len, f->co_keys, "CO", l, want, msg);
}

void expect_refused(const struct fixture *f, const mla_buf *env, mla_err want,
		    const char *msg)
{
	expect_refused_l(f, env->data, env->len, &f->limits, want, msg);
}

void expect_refused_str(const struct fixture *f, const char *xml, mla_err want,
			const char *msg)
{
	expect_refused_l(f, xml, strlen(xml), &f->limits, want, msg);
}

/* ---- envelopes and signers ---- */

void seal_small(const struct fixture *f, mla_buf *env)
{
	assert_int_equal(fixture_seal(f, SMALL_DOC, sizeof(SMALL_DOC) - 1, env), MLA_OK);
}

void seal_as(const struct fixture *f, const mla_signer *s, const void *doc, size_t len,
	     const mla_limits *l, mla_buf *env)
{
	mla_header h;
	mla_diag d = {MLA_OK, ""};

	fixture_header(&h);
	if (mla_envelope_seal(&h, doc, len, s, f->co_rcpt, l, env, &d) != MLA_OK)
		fail_msg("seal: %s", d.msg);
}

void load_issuer(const struct fixture *f, const char *state, X509 **cert,
		 EVP_PKEY **key)
{
	char rel[32], p[PATH_MAX];
	mla_diag d = {MLA_OK, ""};
	mla_privkey *k = NULL;

	assert_int_equal(mla_snprintf(rel, sizeof(rel), "%s/root.crt", state), MLA_OK);
	assert_int_equal(mla_pem_load_cert(fixture_path(f, rel, p), cert, &d), MLA_OK);
	assert_int_equal(mla_snprintf(rel, sizeof(rel), "%s/root.key", state), MLA_OK);
	assert_int_equal(mla_privkey_load(fixture_path(f, rel, p), &k, &d), MLA_OK);
	assert_int_equal(EVP_PKEY_up_ref(mla_privkey_evp(k)), 1); /* the CA key, for issuing */
	*key = mla_privkey_evp(k);
	mla_privkey_free(k);
}

/* A signing certificate for ES issued by issuer, valid nb..na, loaded as a signer. */
mla_signer *make_signer(const struct fixture *f, const char *name, X509 *issuer,
			EVP_PKEY *issuer_key, time_t nb, time_t na)
{
	char rel[64], cp[PATH_MAX], kp[PATH_MAX];
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	mla_signer *s = NULL;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(mla_pki_keygen(MLA_KEY_EC_P256, 0, &key, &d), MLA_OK);
	if (mla_pki_issue(MLA_ROLE_SIGN, "ES", "hostile signer", key, issuer, issuer_key, nb, na,
			  NULL, &cert, &d) != MLA_OK)
		fail_msg("issue: %s", d.msg);
	assert_int_equal(mla_snprintf(rel, sizeof(rel), "%s.crt", name), MLA_OK);
	assert_int_equal(mla_pem_write_cert(fixture_path(f, rel, cp), cert, 1, &d), MLA_OK);
	assert_int_equal(mla_snprintf(rel, sizeof(rel), "%s.key", name), MLA_OK);
	assert_int_equal(mla_pem_write_key(fixture_path(f, rel, kp), key, 1, &d), MLA_OK);
	if (mla_signer_load(cp, kp, &s, &d) != MLA_OK)
		fail_msg("signer load: %s", d.msg);
	X509_free(cert);
	EVP_PKEY_free(key);
	return s;
}

/* A signer issued by the real ES root, valid nb..na. */
mla_signer *make_es_signer(const struct fixture *f, const char *name, time_t nb,
			   time_t na)
{
	X509 *root = NULL;
	EVP_PKEY *root_key = NULL;
	mla_signer *s;

	load_issuer(f, "ES", &root, &root_key);
	s = make_signer(f, name, root, root_key, nb, na);
	X509_free(root);
	EVP_PKEY_free(root_key);
	return s;
}

/* ---- mutations ---- */

xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name))
			return c;
	return NULL;
}

xmlNodePtr env_part(xmlDocPtr doc, const char *name)
{
	xmlNodePtr n = child(xmlDocGetRootElement(doc), name);

	assert_non_null(n);
	return n;
}

/* Parses env, lets edit change it and serialises it again, with the old signature. */
void mutate(mla_buf *env, void (*edit)(xmlDocPtr, void *), void *arg)
{
	xmlDocPtr doc = fixture_parse(env);

	edit(doc, arg);
	fixture_serialize(doc, env);
	xmlFreeDoc(doc);
}

/* Parses env, lets edit change it and has signer sign the result. */
void resign(mla_buf *env, const mla_signer *signer, void (*edit)(xmlDocPtr, void *),
	    void *arg)
{
	xmlDocPtr doc = fixture_parse(env);

	fixture_resign(doc, signer, edit, arg, env);
	xmlFreeDoc(doc);
}

/* Changes one base64 character in the middle of s, keeping it valid base64. */
void flip_middle(char *s, size_t len)
{
	size_t i = len / 2;

	while (i < len && !isalnum((unsigned char)s[i]))
		i++;
	assert_true(i < len);
	s[i] = s[i] == 'A' ? 'B' : 'A';
}

/* Flips a character in the last CipherValue of the text (the payload's). */
void flip_payload_text(mla_buf *env)
{
	char *p, *last = NULL, *end;

	assert_int_equal(mla_buf_terminate(env), MLA_OK);
	for (p = (char *)env->data; (p = strstr(p, "<CipherValue>")) != NULL; p++)
		last = p;
	assert_non_null(last);
	last += strlen("<CipherValue>");
	assert_non_null(end = strstr(last, "</CipherValue>"));
	flip_middle(last, (size_t)(end - last));
}

void edit_flip_payload(xmlDocPtr doc, void *arg)
{
	xmlNodePtr cv = child(child(child(env_part(doc, "Payload"), "EncryptedData"),
				    "CipherData"), "CipherValue");
	xmlChar *text;

	(void)arg;
	assert_non_null(cv);
	text = xmlNodeGetContent(cv);
	flip_middle((char *)text, (size_t)xmlStrlen(text));
	xmlNodeSetContent(cv, text);
	xmlFree(text);
}

/* Adds a deep copy of the named part as a sibling right after the original. */
void edit_duplicate_part(xmlDocPtr doc, void *arg)
{
	xmlNodePtr n = env_part(doc, arg);

	assert_non_null(xmlAddNextSibling(n, xmlDocCopyNode(n, doc, 1)));
}

/* Copies the Header into ds:Signature: into its KeyInfo, or as a ds:Object. */
void edit_header_in_signature(xmlDocPtr doc, void *arg)
{
	xmlNodePtr sig = env_part(doc, "Signature"), copy;
	xmlNodePtr where = arg != NULL ? child(sig, "KeyInfo") : sig;

	copy = xmlDocCopyNode(env_part(doc, "Header"), doc, 1);
	if (arg == NULL) {
		xmlNodePtr obj = xmlNewChild(sig, sig->ns, BAD_CAST "Object", NULL);
		assert_non_null(obj);
		where = obj;
	}
	assert_non_null(where);
	assert_non_null(xmlAddChild(where, copy));
}

void edit_swap_parts(xmlDocPtr doc, void *arg)
{
	xmlNodePtr payload = env_part(doc, "Payload");

	(void)arg;
	xmlUnlinkNode(payload);
	assert_non_null(xmlAddPrevSibling(env_part(doc, "Header"), payload));
}

void edit_from_state(xmlDocPtr doc, void *arg)
{
	xmlNodePtr from = child(env_part(doc, "Header"), "From");

	assert_non_null(from);
	assert_non_null(xmlSetProp(from, BAD_CAST "state", BAD_CAST arg));
}

/* The text of env between the first occurrence of start and the next quote, or "<". */
void copy_value(const mla_buf *env, const char *start, const char *stop, char *out,
		size_t n)
{
	const char *p = strstr((const char *)env->data, start), *e;

	assert_non_null(p);
	p += strlen(start);
	assert_non_null(e = strstr(p, stop));
	assert_true((size_t)(e - p) < n);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

