/* Unit tests of the local API's authorisation (gateway/api_auth.c): the role x operation matrix
 * of the table generated from docs/api/openapi.yaml, routing, bearer tokens (hash, constant-time
 * comparison, malformed and unknown tokens) and client certificates mapped by CN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509.h>

#include "mlagw/codec.h"
#include "api/api_auth.h"

/* The matrix, restated by hand: one letter per role (authority, agency, auditor, admin):
 * A allowed, O own messages and cases only, - forbidden. An operation added to openapi.yaml
 * without a line here fails test_matrix. */
static const struct {
	const char *id;
	const char *roles;
	int audit;
} matrix[] = {
	{"whoami", "AAAA", 0},        {"submitMessage", "A---", 1}, {"listMessages", "O-A-", 0},
	{"getMessage", "O-A-", 0},    {"answerMessage", "OA--", 1}, {"getCase", "O-A-", 0},
	{"listInbox", "-AA-", 0},     {"getInboxItem", "-AA-", 0},  {"fetchDocument", "OA--", 1},
	{"getConfig", "---A", 0},     {"reloadConfig", "---A", 1},  {"getHealth", "---A", 0},
	{"getMetrics", "---A", 0},
	{"getAuditCheckpoint", "--A-", 0}, {"getAuditEntry", "--A-", 0},
	{"getInclusionProof", "--A-", 0},  {"getConsistencyProof", "--A-", 0},
	{"listCases", "OAA-", 0},
	{"recordOtherChannel", "A---", 1},
	{"getStats", "--AA", 0},
	/* attachments (SPEC 17.14): uploads are each caller's own by their id, not by case */
	{"createUpload", "AA--", 0},  {"putUploadChunk", "AA--", 0}, {"getUpload", "AA--", 0},
	{"deleteUpload", "AA--", 0},  {"fetchAttachment", "OA--", 1},
};
#define N_MATRIX (sizeof(matrix) / sizeof(matrix[0]))

static void test_roles(void **state)
{
	enum api_role r;

	(void)state;
	for (int i = 0; i < API_ROLE_N; i++) {
		assert_int_equal(api_role_parse(api_role_name((enum api_role)i), &r), MLA_OK);
		assert_int_equal(r, i);
	}
	assert_string_equal(api_role_name(API_ROLE_AGENCY), "agency");
	assert_string_equal(api_role_name(API_ROLE_N), "unknown");
	assert_int_equal(api_role_parse("Admin", &r), MLA_ERR_ARG);
	assert_int_equal(api_role_parse("", &r), MLA_ERR_ARG);
	assert_int_equal(api_role_parse("root", &r), MLA_ERR_ARG);
	assert_int_equal(api_role_parse(NULL, &r), MLA_ERR_ARG);
}

static void test_matrix(void **state)
{
	static const enum api_decision want[] = {['A'] = API_ALLOW, ['O'] = API_ALLOW_OWN,
						 ['-'] = API_DENY};

	(void)state;
	assert_int_equal(api_ops_n, N_MATRIX);
	for (size_t i = 0; i < N_MATRIX; i++) {
		const struct api_op *op = api_op_find(api_ops, api_ops_n, matrix[i].id);
		assert_non_null(op);
		assert_int_equal(op->audit, matrix[i].audit);
		for (int r = 0; r < API_ROLE_N; r++) {
			enum api_decision d = api_authorize(api_ops, api_ops_n, (enum api_role)r,
							    matrix[i].id);
			if (d != want[(unsigned char)matrix[i].roles[r]])
				fail_msg("%s as %s: got %d", matrix[i].id,
					 api_role_name((enum api_role)r), (int)d);
		}
		assert_int_equal(api_authorize(api_ops, api_ops_n, API_ROLE_N, matrix[i].id), API_DENY);
		assert_int_equal(api_authorize(api_ops, api_ops_n, (enum api_role)-1, matrix[i].id),
				 API_DENY);
	}
	for (int r = 0; r < API_ROLE_N; r++) {
		assert_int_equal(api_authorize(api_ops, api_ops_n, (enum api_role)r, "nosuchOp"),
				 API_DENY);
		assert_int_equal(api_authorize(api_ops, api_ops_n, (enum api_role)r, NULL), API_DENY);
		assert_int_equal(api_authorize(api_ops, api_ops_n, (enum api_role)r, "getmessage"),
				 API_DENY);
	}
}

/* Every generated entry is sane: unique ids, roles set, own within roles. */
static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < api_ops_n; i++) {
		assert_true(api_ops[i].roles != 0);
		assert_true(api_ops[i].roles < API_ROLE_BIT(API_ROLE_N));
		assert_int_equal(api_ops[i].own & ~api_ops[i].roles, 0);
		assert_int_equal(api_ops[i].path[0], '/');
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(api_ops[i].id, api_ops[j].id);
			assert_false(api_ops[i].method == api_ops[j].method &&
				     strcmp(api_ops[i].path, api_ops[j].path) == 0);
		}
	}
}

static void route(enum api_method m, const char *path, mla_err want, const char *id,
		  const char *param)
{
	const struct api_op *op = NULL;
	const char *p = NULL;
	size_t pl = 0;

	assert_int_equal(api_route(api_ops, api_ops_n, m, path, &op, &p, &pl), want);
	if (want != MLA_OK) {
		assert_null(op);
		return;
	}
	assert_string_equal(op->id, id);
	if (param == NULL) {
		assert_null(p);
		return;
	}
	assert_int_equal(pl, strlen(param));
	assert_memory_equal(p, param, pl);
}

static void test_route(void **state)
{
	const char *uuid = "0b8f2a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
	char path[128];

	(void)state;
	route(API_POST, "/api/v1/messages", MLA_OK, "submitMessage", NULL);
	route(API_GET, "/api/v1/messages", MLA_OK, "listMessages", NULL);
	route(API_DELETE, "/api/v1/messages", MLA_ERR_ARG, NULL, NULL);
	assert_int_equal(mla_snprintf(path, sizeof(path), "/api/v1/messages/%s", uuid), MLA_OK);
	route(API_GET, path, MLA_OK, "getMessage", uuid);
	route(API_POST, path, MLA_ERR_ARG, NULL, NULL);
	assert_int_equal(mla_snprintf(path, sizeof(path), "/api/v1/messages/%s/answers", uuid),
			MLA_OK);
	route(API_POST, path, MLA_OK, "answerMessage", uuid);
	assert_int_equal(mla_snprintf(path, sizeof(path), "/api/v1/inbox/%s/document", uuid),
			MLA_OK);
	route(API_GET, path, MLA_OK, "fetchDocument", uuid);
	route(API_GET, "/api/v1/cases/ES%2F2026%2F0042", MLA_OK, "getCase", "ES%2F2026%2F0042");
	route(API_GET, "/api/v1/cases/ES/2026", MLA_ERR_NOT_FOUND, NULL, NULL);
	route(API_GET, "/healthz", MLA_OK, "getHealth", NULL);
	route(API_GET, "/metrics", MLA_OK, "getMetrics", NULL);
	route(API_GET, "/api/v1/audit/checkpoint", MLA_OK, "getAuditCheckpoint", NULL);
	route(API_GET, "/api/v1/audit/entries/42", MLA_OK, "getAuditEntry", "42");
	route(API_GET, "/api/v1/audit/proof/inclusion", MLA_OK, "getInclusionProof", NULL);
	route(API_GET, "/api/v1/audit/proof/consistency", MLA_OK, "getConsistencyProof", NULL);
	route(API_POST, "/api/v1/audit/checkpoint", MLA_ERR_ARG, NULL, NULL);
	route(API_GET, "/api/v1/messages/", MLA_ERR_NOT_FOUND, NULL, NULL);
	route(API_GET, "/api/v1/messagesx", MLA_ERR_NOT_FOUND, NULL, NULL);
	route(API_GET, "/api/v1//answers", MLA_ERR_NOT_FOUND, NULL, NULL);
	route(API_GET, "/api/v1/inbox//document", MLA_ERR_NOT_FOUND, NULL, NULL);
	route(API_GET, "/healthz/", MLA_ERR_NOT_FOUND, NULL, NULL);
	route(API_GET, "healthz", MLA_ERR_NOT_FOUND, NULL, NULL);
	route(API_GET, "", MLA_ERR_NOT_FOUND, NULL, NULL);
	route(API_GET, "/", MLA_ERR_NOT_FOUND, NULL, NULL);
	route(API_GET, NULL, MLA_ERR_NOT_FOUND, NULL, NULL);
}

/* ---- tokens ---- */

#define TOKEN_AUTH "q1bV0m7s9JkT4xZyW2cR8uEoP5nL3aHdGfQiY6tBv0M="  /* 44: 32 random bytes */
#define TOKEN_AUD "Zt9xLq2Wm4Vb7Ns1Kc8Rj3Hd6Fg0Yp5Ta2Ue9Io1Qw4=" /* same length */

static void add_token(struct api_config *a, const char *role, const char *name, const char *tok)
{
	uint8_t h[32];
	char v[200];
	int n = snprintf(v, sizeof(v), "%s %s sha256:", role, name);
	mla_diag d = {MLA_OK, ""};

	api_token_hash(tok, strlen(tok), h);
	for (int i = 0; i < 32; i++)
		n += snprintf(v + n, sizeof(v) - (size_t)n, "%02x", h[i]);
	assert_int_equal(api_config_key(a, "t.conf", 1, "/etc", "token", v, &d), MLA_OK);
}

static void test_token_hash(void **state)
{
	static const uint8_t abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	uint8_t h[32], g[32];

	(void)state;
	api_token_hash("abc", 3, h);
	assert_memory_equal(h, abc, 32);
	assert_true(api_token_hash_equal(h, abc));
	memcpy(g, h, 32);
	g[31] ^= 1; /* last byte */
	assert_false(api_token_hash_equal(h, g));
	g[31] ^= 1;
	g[0] ^= 0x80; /* first byte */
	assert_false(api_token_hash_equal(h, g));
	api_token_hash("", 0, g); /* the empty string's hash is not the empty string's */
	assert_false(api_token_hash_equal(h, g));
}

static void expect_token(const struct api_config *a, const char *tok, size_t len, mla_err want)
{
	struct api_principal p;
	mla_diag d = {MLA_OK, ""};

	memset(&p, 0, sizeof(p));
	assert_int_equal(api_auth_token(a, tok, len, &p, &d), want);
	if (want != MLA_OK && len >= 8) /* the message never repeats the token */
		assert_null(strstr(d.msg, "q1bV0m7s"));
}

static void test_tokens(void **state)
{
	static struct api_config a;
	struct api_principal p;
	mla_diag d = {MLA_OK, ""};
	char tok[300];

	(void)state;
	api_config_defaults(&a);
	add_token(&a, "authority", "ca-madrid", TOKEN_AUTH);
	add_token(&a, "auditor", "audit-1", TOKEN_AUD);
	assert_int_equal(api_auth_token(&a, TOKEN_AUD, strlen(TOKEN_AUD), &p, &d), MLA_OK);
	assert_int_equal(p.role, API_ROLE_AUDITOR);
	assert_int_equal(p.via, API_VIA_TOKEN);
	assert_string_equal(p.name, "audit-1");
	assert_int_equal(api_auth_token(&a, TOKEN_AUTH, strlen(TOKEN_AUTH), &p, &d), MLA_OK);
	assert_string_equal(p.name, "ca-madrid");
	/* wrong token of the right length; right token with a byte changed, cut, extended */
	memcpy(tok, TOKEN_AUTH, sizeof(TOKEN_AUTH));
	tok[5] = tok[5] == 'A' ? 'B' : 'A';
	expect_token(&a, tok, strlen(tok), MLA_ERR_NOT_FOUND);
	expect_token(&a, TOKEN_AUTH, strlen(TOKEN_AUTH) - 1, MLA_ERR_NOT_FOUND);
	assert_int_equal(mla_snprintf(tok, sizeof(tok), "%sx", TOKEN_AUTH), MLA_OK);
	expect_token(&a, tok, strlen(tok), MLA_ERR_ARG); /* 'x' after the '=' padding */
	assert_int_equal(mla_snprintf(tok, sizeof(tok), "x%s", TOKEN_AUTH), MLA_OK);
	expect_token(&a, tok, strlen(tok), MLA_ERR_NOT_FOUND);
	/* wrong lengths, empty, bad characters */
	expect_token(&a, TOKEN_AUTH, API_TOKEN_MIN - 1, MLA_ERR_ARG);
	memset(tok, 'a', API_TOKEN_MAX + 1);
	expect_token(&a, tok, API_TOKEN_MAX + 1, MLA_ERR_ARG);
	expect_token(&a, tok, API_TOKEN_MAX, MLA_ERR_NOT_FOUND);
	expect_token(&a, "", 0, MLA_ERR_ARG);
	expect_token(&a, NULL, 0, MLA_ERR_ARG);
	expect_token(&a, "================================", 32, MLA_ERR_ARG);
	memcpy(tok, TOKEN_AUTH, sizeof(TOKEN_AUTH));
	tok[3] = ' ';
	expect_token(&a, tok, strlen(tok), MLA_ERR_ARG);
	tok[3] = '\0'; /* an embedded NUL is not part of any token */
	expect_token(&a, tok, sizeof(TOKEN_AUTH) - 1, MLA_ERR_ARG);
	/* no token configured at all */
	api_config_defaults(&a);
	expect_token(&a, TOKEN_AUTH, strlen(TOKEN_AUTH), MLA_ERR_NOT_FOUND);
}

static void test_bearer(void **state)
{
	static struct api_config a;
	struct api_principal p;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	api_config_defaults(&a);
	add_token(&a, "agency", "policia-1", TOKEN_AUTH);
	assert_int_equal(api_auth_bearer(&a, "Bearer " TOKEN_AUTH, &p, &d), MLA_OK);
	assert_int_equal(p.role, API_ROLE_AGENCY);
	assert_int_equal(api_auth_bearer(&a, "bearer " TOKEN_AUTH, &p, &d), MLA_OK);
	assert_int_equal(api_auth_bearer(&a, "Bearer  " TOKEN_AUTH, &p, &d), MLA_ERR_ARG);
	assert_int_equal(api_auth_bearer(&a, "Bearer " TOKEN_AUTH " ", &p, &d), MLA_ERR_ARG);
	assert_int_equal(api_auth_bearer(&a, "Basic " TOKEN_AUTH, &p, &d), MLA_ERR_ARG);
	assert_int_equal(api_auth_bearer(&a, "Bearer", &p, &d), MLA_ERR_ARG);
	assert_int_equal(api_auth_bearer(&a, "Bearer ", &p, &d), MLA_ERR_ARG);
	assert_int_equal(api_auth_bearer(&a, NULL, &p, &d), MLA_ERR_ARG);
}

/* ---- client certificates ---- */

static X509 *cert_with(const char *cn1, const char *cn2)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);

	assert_non_null(x);
	/* a plain string type, not MBSTRING_*: OpenSSL's own CN length bound stays out of the way,
	 * as it would for a certificate parsed from DER */
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "C", V_ASN1_PRINTABLESTRING,
						    (const unsigned char *)"ES", -1, -1, 0), 1);
	if (cn1 != NULL)
		assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", V_ASN1_UTF8STRING,
							    (const unsigned char *)cn1, -1, -1, 0), 1);
	if (cn2 != NULL)
		assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", V_ASN1_UTF8STRING,
							    (const unsigned char *)cn2, -1, -1, 0), 1);
	return x;
}

static void expect_cert(const struct api_config *a, const char *cn1, const char *cn2,
			mla_err want, enum api_role role)
{
	X509 *x = cert_with(cn1, cn2);
	struct api_principal p;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(api_auth_cert(a, x, &p, &d), want);
	if (want == MLA_OK) {
		assert_int_equal(p.role, role);
		assert_int_equal(p.via, API_VIA_CERTIFICATE);
		assert_string_equal(p.name, cn1);
	}
	X509_free(x);
}

static void test_certs(void **state)
{
	static struct api_config a;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	api_config_defaults(&a);
	assert_int_equal(api_config_key(&a, "t", 1, "/etc", "client", "agency Fiscalía Madrid 01",
					&d), MLA_OK);
	assert_int_equal(api_config_key(&a, "t", 2, "/etc", "client", "admin ops-1", &d), MLA_OK);
	expect_cert(&a, "Fiscalía Madrid 01", NULL, MLA_OK, API_ROLE_AGENCY);
	expect_cert(&a, "ops-1", NULL, MLA_OK, API_ROLE_ADMIN);
	expect_cert(&a, "ops-2", NULL, MLA_ERR_CERT_UNTRUSTED, API_ROLE_ADMIN);
	expect_cert(&a, "OPS-1", NULL, MLA_ERR_CERT_UNTRUSTED, API_ROLE_ADMIN);
	expect_cert(&a, NULL, NULL, MLA_ERR_CERT_UNTRUSTED, API_ROLE_ADMIN);
	expect_cert(&a, "ops-1", "ops-1", MLA_ERR_CERT_UNTRUSTED, API_ROLE_ADMIN);
	expect_cert(&a, "ops-1\n", NULL, MLA_ERR_CERT_UNTRUSTED, API_ROLE_ADMIN);
	expect_cert(&a, "0123456789012345678901234567890123456789012345678901234567890123456789",
		    NULL, MLA_ERR_CERT_UNTRUSTED, API_ROLE_ADMIN);
	{
		/* "ops-1\0x": an embedded NUL must not make it "ops-1" */
		X509 *x = cert_with(NULL, NULL);
		struct api_principal p;
		assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
							    V_ASN1_UTF8STRING,
							    (const unsigned char *)"ops-1\0x", 7,
							    -1, 0), 1);
		assert_int_equal(api_auth_cert(&a, x, &p, &d), MLA_ERR_CERT_UNTRUSTED);
		X509_free(x);
		assert_int_equal(api_auth_cert(&a, NULL, &p, &d), MLA_ERR_CERT_UNTRUSTED);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),  cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_table),  cmocka_unit_test(test_route),
		cmocka_unit_test(test_token_hash), cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_bearer), cmocka_unit_test(test_certs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
