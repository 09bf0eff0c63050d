/* Parser of a submission on the unix socket (see submit_parse.h): the header fields come as
 * X-MLA-* request headers, the document is the body as it is. */
#include <stddef.h>
#include <string.h>

#include <event2/http.h>
#include <openssl/evp.h>

#include "submit_parse.h"

struct field_map {
	const char *header;
	size_t offset, size;
};

#define FIELD(h, member) {h, offsetof(mla_header, member), sizeof(((mla_header *)0)->member)}
static const struct field_map fields[] = {
	FIELD("X-MLA-To", to_state),
	FIELD("X-MLA-Kind", kind),
	FIELD("X-MLA-Action", action),
	FIELD("X-MLA-Case-Id", case_id),
	FIELD("X-MLA-In-Reply-To", in_reply_to),
	FIELD("X-MLA-From-Authority", from_authority),
	FIELD("X-MLA-To-Authority", to_authority),
	FIELD("X-MLA-Handling", handling),
};
#undef FIELD

mla_err submit_parse_request(const struct evkeyvalq *headers, const char from_state[3],
			     mla_header *h, const char **field, mla_diag *diag)
{
	const char *v;
	mla_err r;

	*field = NULL;
	if ((r = mla_header_init(h)) != MLA_OK)
		return r;
	memcpy(h->from_state, from_state, 3);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if ((v = evhttp_find_header(headers, fields[i].header)) == NULL)
			continue;
		*field = fields[i].header;
		if (strlen(v) >= fields[i].size)
			return mla_fail(diag, MLA_ERR_HEADER, "%s is longer than %zu bytes",
					fields[i].header, fields[i].size - 1);
		memcpy((char *)h + fields[i].offset, v, strlen(v) + 1);
	}
	*field = "X-MLA-Priority";
	if ((v = evhttp_find_header(headers, "X-MLA-Priority")) != NULL &&
	    mla_priority_parse(v, &h->priority) != MLA_OK)
		return mla_fail(diag, MLA_ERR_HEADER, "X-MLA-Priority must be normal, urgent or crisis");
	*field = NULL;
	/* every version's vocabulary here; submit_set_version holds it to the peer's */
	h->version = MLA_ENVELOPE_VERSION_MAX;
	return mla_header_check(h, diag);
}

mla_err submit_parse_idem_key(const struct evkeyvalq *headers, struct submit_idem *out,
			      mla_diag *diag)
{
	static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				      "0123456789._:-";
	const char *v = evhttp_find_header(headers, SUBMIT_IDEM_HEADER);
	size_t n;

	memset(out, 0, sizeof(*out));
	if (v == NULL)
		return MLA_OK;
	n = strlen(v);
	if (n == 0 || n > STORE_IDEM_KEY_MAX || strspn(v, allowed) != n)
		return mla_fail(diag, MLA_ERR_HEADER,
				SUBMIT_IDEM_HEADER " must be 1 to %d characters of A-Z a-z 0-9 . _ : -",
				STORE_IDEM_KEY_MAX);
	memcpy(out->key, v, n + 1);
	return MLA_OK;
}

mla_err submit_parse_digest(const struct evkeyvalq *headers, const uint8_t *doc, size_t len,
			    uint8_t digest[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const size_t n_fields = sizeof(fields) / sizeof(fields[0]);
	int ok = md != NULL && EVP_DigestInit_ex2(md, EVP_sha256(), NULL) == 1;
	const char *v, *name;

	for (size_t i = 0; ok && i <= n_fields; i++) {
		name = i < n_fields ? fields[i].header : "X-MLA-Priority";
		/* name NUL value NUL, or name NUL NUL NUL when absent: values hold no NUL */
		v = evhttp_find_header(headers, name);
		ok = EVP_DigestUpdate(md, name, strlen(name) + 1) == 1 &&
		     EVP_DigestUpdate(md, v != NULL ? v : "", v != NULL ? strlen(v) + 1 : 1) == 1 &&
		     (v != NULL || EVP_DigestUpdate(md, "", 1) == 1);
	}
	ok = ok && EVP_DigestUpdate(md, doc, len) == 1 &&
	     EVP_DigestFinal_ex(md, digest, NULL) == 1;
	EVP_MD_CTX_free(md);
	return ok ? MLA_OK : MLA_ERR_NOMEM;
}
