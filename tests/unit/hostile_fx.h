/* Shared by the hostile-envelope tests (test_hostile_parse.c, test_hostile_sig.c,
					 * test_hostile_crypto.c): expectations on a refusal's error and message, envelopes sealed by
					 * legitimate or made-up signers, and mutations of an envelope's document (text replacement,
					 * DOM edit unsigned, DOM edit re-signed by a legitimate signer). */
#ifndef MLAGW_TESTS_HOSTILE_FX_H
#define MLAGW_TESTS_HOSTILE_FX_H

#include <stddef.h>
#include <time.h>

#include <libxml/tree.h>

#include "fixture.h"

#define DAY ((time_t)86400)
#define SMALL_DOC "<Request><Item>bank records</Item></Request>"

void check_result(const char *what, mla_err got, const mla_diag *d, mla_err want,
		  const char *msg);
void expect_open(const struct fixture *f, const void *env, size_t len,
		 const mla_keyring *keys, const char *state, const mla_limits *l,
		 mla_err want, const char *msg);
void expect_refused_l(const struct fixture *f, const void *env, size_t len,
		      const mla_limits *l, mla_err want, const char *msg);
void expect_refused(const struct fixture *f, const mla_buf *env, mla_err want,
		    const char *msg);
void expect_refused_str(const struct fixture *f, const char *xml, mla_err want,
			const char *msg);
void seal_small(const struct fixture *f, mla_buf *env);
void seal_as(const struct fixture *f, const mla_signer *s, const void *doc, size_t len,
	     const mla_limits *l, mla_buf *env);
void load_issuer(const struct fixture *f, const char *state, X509 **cert,
		 EVP_PKEY **key);
mla_signer *make_signer(const struct fixture *f, const char *name, X509 *issuer,
			EVP_PKEY *issuer_key, time_t nb, time_t na);
mla_signer *make_es_signer(const struct fixture *f, const char *name, time_t nb,
			   time_t na);
xmlNodePtr child(xmlNodePtr n, const char *name);
xmlNodePtr env_part(xmlDocPtr doc, const char *name);
void mutate(mla_buf *env, void (*edit)(xmlDocPtr, void *), void *arg);
void resign(mla_buf *env, const mla_signer *signer, void (*edit)(xmlDocPtr, void *),
	    void *arg);
void flip_middle(char *s, size_t len);
void flip_payload_text(mla_buf *env);
void edit_flip_payload(xmlDocPtr doc, void *arg);
void edit_duplicate_part(xmlDocPtr doc, void *arg);
void edit_header_in_signature(xmlDocPtr doc, void *arg);
void edit_swap_parts(xmlDocPtr doc, void *arg);
void edit_from_state(xmlDocPtr doc, void *arg);
void copy_value(const mla_buf *env, const char *start, const char *stop, char *out,
		size_t n);

#endif
