/* Shared test fixture: a temporary test PKI for ES, CO and MX (made once per test binary),
 * key holders loaded from it, and helpers to seal and re-sign envelopes. */
#ifndef MLAGW_TEST_FIXTURE_H
#define MLAGW_TEST_FIXTURE_H

#include <limits.h>

#include <libxml/tree.h>

#include "mlagw/envelope.h"
#include "mlagw/pki.h"

struct fixture {
	char dir[PATH_MAX];    /* the PKI lives in dir/ES, dir/CO, dir/MX */
	mla_limits limits;     /* defaults */
	mla_trust *trust;      /* roots of ES, CO and MX */
	mla_signer *es_signer; /* ES/sign */
	mla_signer *co_signer; /* CO/sign */
	mla_recipient *co_rcpt; /* CO/encrypt */
	mla_keyring *co_keys;  /* CO/encrypt with its key */
};

/* cmocka group setup/teardown: *state becomes a struct fixture *. */
int fixture_setup(void **state);
int fixture_teardown(void **state);

/* "dir/ES/sign.crt" into out. */
const char *fixture_path(const struct fixture *f, const char *rel, char out[PATH_MAX]);
/* A header ES -> CO, kind "mla", fresh ids. */
void fixture_header(mla_header *h);
/* Seals doc from ES to CO with the fixture's keys and default limits. */
mla_err fixture_seal(const struct fixture *f, const void *doc, size_t len, mla_buf *env);
/* Deterministic document of len bytes that looks like XML text and compresses like it. */
void fixture_document(uint8_t *buf, size_t len, unsigned seed);

/* Parses an envelope for tampering (no hardening: test input is ours). */
xmlDocPtr fixture_parse(const mla_buf *env);
/* Serialises doc into env (replacing its contents). */
void fixture_serialize(xmlDocPtr doc, mla_buf *env);
/* Removes the signature of doc, lets edit() change the document, then signs it again with
 * signer over the Header and Payload; the result goes to env. */
void fixture_resign(xmlDocPtr doc, const mla_signer *signer, void (*edit)(xmlDocPtr, void *),
		    void *arg, mla_buf *env);
/* Replaces the first occurrence of from by to in env's text (test fails if absent). */
void fixture_replace(mla_buf *env, const char *from, const char *to);

#endif
