/* Unit tests of the [api] section reader (gateway/api_config.c): what it takes, what it
 * refuses and the exact "FILE:LINE: [api] key: problem" messages, the whole-section checks
 * and the derived body limit. Keys are fed one by one, as config_parse.c will. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "conf/api_config.h"

#define HASH "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define HASH2 "sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"

static struct api_config a;

/* key = value on line, against a fresh section unless keep. */
static mla_err key(unsigned line, const char *k, const char *v, mla_diag *d)
{
	return api_config_key(&a, "es.conf", line, "/etc/mlagw", k, v, d);
}

static void refused(unsigned line, const char *k, const char *v, const char *msg)
{
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(key(line, k, v, &d), MLA_ERR_CONFIG);
	assert_string_equal(d.msg, msg);
}

static void test_accept(void **state)
{
	mla_diag d = {MLA_OK, ""};

	(void)state;
	api_config_defaults(&a);
	assert_int_equal(key(21, "listen", "127.0.0.1:9441", &d), MLA_OK);
	assert_int_equal(key(22, "client_ca", "pki/ES/api-ca.crt", &d), MLA_OK);
	assert_int_equal(key(23, "tls_cert", "/etc/mlagw/pki/api.crt", &d), MLA_OK);
	assert_int_equal(key(24, "tls_key", "../pki/api.key", &d), MLA_OK);
	assert_int_equal(key(25, "token", "authority ca-madrid " HASH, &d), MLA_OK);
	assert_int_equal(key(26, "token", "admin   prometheus  " HASH2, &d), MLA_OK);
	assert_int_equal(key(27, "client", "agency  Policía Nacional UDEF", &d), MLA_OK);
	assert_int_equal(key(28, "max_body_bytes", "8 MiB", &d), MLA_OK);
	assert_string_equal(a.listen, "127.0.0.1:9441");
	assert_string_equal(a.client_ca, "/etc/mlagw/pki/ES/api-ca.crt");
	assert_string_equal(a.tls_cert, "/etc/mlagw/pki/api.crt");
	assert_string_equal(a.tls_key, "/etc/pki/api.key");
	assert_int_equal(a.n_tokens, 2);
	assert_int_equal(a.tokens[0].role, API_ROLE_AUTHORITY);
	assert_string_equal(a.tokens[0].name, "ca-madrid");
	assert_int_equal(a.tokens[0].sha256[0], 0x9f);
	assert_int_equal(a.tokens[0].sha256[31], 0x08);
	assert_int_equal(a.tokens[1].role, API_ROLE_ADMIN);
	assert_string_equal(a.tokens[1].name, "prometheus");
	assert_int_equal(a.n_clients, 1);
	assert_int_equal(a.clients[0].role, API_ROLE_AGENCY);
	assert_string_equal(a.clients[0].cn, "Policía Nacional UDEF");
	assert_int_equal(a.max_body_bytes, 8u << 20);
	assert_int_equal(api_config_finish(&a, "es.conf", 20, &d), MLA_OK);
	assert_int_equal(api_config_body_limit(&a, 40u << 20), 8u << 20);
	a.max_body_bytes = 0;
	assert_int_equal(api_config_body_limit(&a, 3 * 1024), 4 * 1024 + 64 * 1024);
	assert_int_equal(api_config_body_limit(&a, 1), 4 + 64 * 1024);
}

static void test_refuse(void **state)
{
	(void)state;
	api_config_defaults(&a);
	refused(3, "listn", "127.0.0.1:1", "es.conf:3: unknown key 'listn' in [api]");
	refused(3, "listen", "127.0.0.1", "es.conf:3: [api] listen: expected host:port");
	refused(3, "listen", "", "es.conf:3: [api] listen: empty value");
	refused(3, "token", "authority x\x01y " HASH,
		"es.conf:3: [api] token: control character in value");
	assert_int_equal(key(4, "listen", "[::1]:9441", NULL), MLA_OK);
	refused(9, "listen", "[::1]:9442", "es.conf:9: [api] listen: repeated (first set on line 4)");
	refused(5, "token", "authority ca-1", "es.conf:5: [api] token: expected ROLE NAME sha256:HEX");
	refused(5, "token", "authority ca-1 " HASH " extra",
		"es.conf:5: [api] token: expected ROLE NAME sha256:HEX");
	refused(5, "token", "root ca-1 " HASH,
		"es.conf:5: [api] token: unknown role (authority, agency, auditor, admin)");
	refused(5, "token", "authority ca/1 " HASH,
		"es.conf:5: [api] token: the name must be 1-64 of A-Z a-z 0-9 . _ @ -");
	refused(5, "token", "authority ca-1 sha512:00",
		"es.conf:5: [api] token: the hash must be sha256: followed by 64 hex digits");
	refused(5, "token", "authority ca-1 sha256:9f86d0",
		"es.conf:5: [api] token: the hash must have exactly 64 hex digits (a SHA-256)");
	refused(5, "token",
		"authority ca-1 sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
		"es.conf:5: [api] token: the hash must be lower-case hex digits");
	assert_int_equal(key(6, "token", "auditor aud-1 " HASH, NULL), MLA_OK);
	refused(7, "token", "auditor aud-1 " HASH2,
		"es.conf:7: [api] token: name repeated (first on line 6)");
	refused(7, "token", "admin adm-1 " HASH, "es.conf:7: [api] token: same hash as line 6");
	refused(8, "client", "agency", "es.conf:8: [api] client: expected ROLE CN");
	refused(8, "client", "boss Someone",
		"es.conf:8: [api] client: unknown role (authority, agency, auditor, admin)");
	refused(8, "client", "agency a\tb", "es.conf:8: [api] client: control character in value");
	assert_int_equal(key(10, "client", "agency UDEF", NULL), MLA_OK);
	refused(11, "client", "auditor UDEF", "es.conf:11: [api] client: CN repeated (first on line 10)");
	refused(12, "max_body_bytes", "1 KiB",
		"es.conf:12: [api] max_body_bytes: 1024 is out of range (4 KiB..2 GiB)");
	refused(12, "max_body_bytes", "-5", "es.conf:12: [api] max_body_bytes: not a number (decimal digits expected)");
	/* issue 10 finding 10: the submission socket's identity is nobody else's */
	refused(13, "token", "authority socket " HASH2, "es.conf:13: [api] token: the name 'socket' "
		"is reserved for the local submission socket");
	refused(13, "client", "authority socket", "es.conf:13: [api] client: the CN 'socket' "
		"is reserved for the local submission socket");
	assert_int_equal(key(13, "client", "authority Socket Office", NULL), MLA_OK);
	refused(14, "client", "agency Office \xe2\x80\xae", "es.conf:14: [api] client: the CN must "
		"be UTF-8 text without invisible or control characters, no space at either end");
	assert_int_equal(a.n_tokens, 1); /* nothing refused was kept */
	assert_int_equal(a.n_clients, 2);
}

static void finish_refused(unsigned section_line, const char *msg)
{
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(api_config_finish(&a, "es.conf", section_line, &d), MLA_ERR_CONFIG);
	assert_string_equal(d.msg, msg);
}

static void test_finish(void **state)
{
	mla_diag d = {MLA_OK, ""};

	(void)state;
	api_config_defaults(&a);
	assert_int_equal(api_config_finish(&a, "es.conf", 0, &d), MLA_OK); /* no [api]: off */
	finish_refused(30, "es.conf: [api] listen is required");
	assert_int_equal(key(31, "listen", "localhost:9441", NULL), MLA_OK);
	finish_refused(30, "es.conf:30: [api] no token and no client: nobody could call it");
	assert_int_equal(key(32, "client", "admin ops", NULL), MLA_OK);
	finish_refused(30, "es.conf:32: [api] client: needs client_ca");
	assert_int_equal(key(33, "client_ca", "ca.crt", NULL), MLA_OK);
	assert_int_equal(api_config_finish(&a, "es.conf", 30, &d), MLA_OK);
	assert_int_equal(key(34, "tls_key", "api.key", NULL), MLA_OK);
	finish_refused(30, "es.conf:34: [api] tls_cert and tls_key go together");
	assert_int_equal(key(35, "tls_cert", "api.crt", NULL), MLA_OK);
	assert_int_equal(api_config_finish(&a, "es.conf", 30, &d), MLA_OK);

	api_config_defaults(&a);
	assert_int_equal(key(41, "listen", "localhost:9441", NULL), MLA_OK);
	assert_int_equal(key(42, "client_ca", "ca.crt", NULL), MLA_OK);
	assert_int_equal(key(43, "token", "auditor a " HASH, NULL), MLA_OK);
	finish_refused(40, "es.conf:42: [api] client_ca: no client is listed");
}

/* Grants over cases: supervisor = NAME, delegate = OWNER DELEGATE, names of authorities
 * (token names or client CNs, which may hold spaces) listed anywhere in the section. */
static void grants_section(void)
{
	api_config_defaults(&a);
	assert_int_equal(key(51, "listen", "localhost:9441", NULL), MLA_OK);
	assert_int_equal(key(52, "supervisor", "Fiscalía Jefe", NULL), MLA_OK);
	assert_int_equal(key(53, "delegate", "ca-madrid Oficina de Apoyo", NULL), MLA_OK);
	assert_int_equal(key(54, "client_ca", "ca.crt", NULL), MLA_OK);
	assert_int_equal(key(55, "token", "authority ca-madrid " HASH, NULL), MLA_OK);
	assert_int_equal(key(56, "token", "agency udef " HASH2, NULL), MLA_OK);
	assert_int_equal(key(57, "client", "authority Fiscalía Jefe", NULL), MLA_OK);
	assert_int_equal(key(58, "client", "authority Oficina de Apoyo", NULL), MLA_OK);
}

static void test_grants(void **state)
{
	mla_diag d = {MLA_OK, ""};

	(void)state;
	grants_section();
	assert_int_equal(api_config_finish(&a, "es.conf", 50, &d), MLA_OK);
	assert_int_equal(a.n_supervisors, 1);
	assert_string_equal(a.delegations[0].owner, "ca-madrid");
	assert_string_equal(a.delegations[0].delegate, "Oficina de Apoyo");
	assert_true(api_config_may_act(&a, "authority:ca-madrid", "authority:ca-madrid"));
	assert_true(api_config_may_act(&a, "authority:Oficina de Apoyo", "authority:ca-madrid"));
	assert_false(api_config_may_act(&a, "authority:ca-madrid", "authority:Oficina de Apoyo"));
	assert_false(api_config_may_act(&a, "authority:Oficina de Apoyo", "authority:socket"));
	assert_true(api_config_may_act(&a, "authority:Fiscalía Jefe", "authority:socket"));
	assert_true(api_config_supervisor(&a, "authority:Fiscalía Jefe"));
	assert_false(api_config_supervisor(&a, "agency:Fiscalía Jefe"));
	assert_false(api_config_may_act(&a, "agency:Oficina de Apoyo", "authority:ca-madrid"));

	grants_section();
	assert_int_equal(key(59, "supervisor", "udef", NULL), MLA_OK);
	finish_refused(50, "es.conf:59: [api] supervisor: udef is not an authority's token name or "
		       "client CN");
	grants_section();
	assert_int_equal(key(59, "supervisor", "socket", NULL), MLA_OK);
	finish_refused(50, "es.conf:59: [api] supervisor: socket is not an authority's token name "
		       "or client CN");
	grants_section();
	assert_int_equal(key(59, "delegate", "ca-madrid nobody", NULL), MLA_OK);
	finish_refused(50, "es.conf:59: [api] delegate: nobody is not an authority's token name or "
		       "client CN");
	grants_section();
	assert_int_equal(key(59, "delegate", "udef ca-madrid", NULL), MLA_OK);
	finish_refused(50, "es.conf:59: [api] delegate: udef is not an authority's token name or "
		       "client CN");
	grants_section();
	assert_int_equal(key(59, "delegate", "ca-madrid", NULL), MLA_OK);
	finish_refused(50, "es.conf:59: [api] delegate: expected OWNER DELEGATE");
	grants_section();
	assert_int_equal(key(59, "delegate", "ca-madrid ca-madrid", NULL), MLA_OK);
	finish_refused(50, "es.conf:59: [api] delegate: OWNER and DELEGATE are the same");
	grants_section();
	assert_int_equal(key(59, "delegate", "Oficina de Apoyo nobody here", NULL), MLA_OK);
	finish_refused(50, "es.conf:59: [api] delegate: OWNER and DELEGATE must be authorities' "
		       "token names or client CNs");
	/* "a b c" read two ways when "a", "b c", "a b" and "c" are all authorities */
	grants_section();
	assert_int_equal(key(60, "client", "authority a", NULL), MLA_OK);
	assert_int_equal(key(61, "client", "authority b c", NULL), MLA_OK);
	assert_int_equal(key(62, "client", "authority a b", NULL), MLA_OK);
	assert_int_equal(key(63, "client", "authority c", NULL), MLA_OK);
	assert_int_equal(key(64, "delegate", "a b c", NULL), MLA_OK);
	finish_refused(50, "es.conf:64: [api] delegate: ambiguous, more than one way to read OWNER "
		       "DELEGATE");
}

static void test_limits(void **state)
{
	char v[200];

	(void)state;
	api_config_defaults(&a);
	for (unsigned i = 0; i < API_MAX_TOKENS; i++) {
		char name[16];
		assert_int_equal(mla_snprintf(name, sizeof(name), "t%u", i), MLA_OK);
		assert_int_equal(mla_snprintf(v, sizeof(v), "agency %s sha256:%064x", name, i),
				MLA_OK);
		assert_int_equal(key(i + 1, "token", v, NULL), MLA_OK);
	}
	refused(999, "token", "agency one-more " HASH, "es.conf:999: [api] token: more than 256 tokens");
	memset(v, 'a', 66);
	memcpy(v, "admin ", 6);
	v[66] = '\0'; /* a 60-byte name is fine, 65 bytes is not */
	assert_int_equal(key(1, "client", v, NULL), MLA_OK);
	memset(v, 'b', 71);
	memcpy(v, "admin ", 6);
	v[71] = '\0';
	refused(2, "client", v, "es.conf:2: [api] client: the CN must be at most 64 bytes, no tabs");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept), cmocka_unit_test(test_refuse),
		cmocka_unit_test(test_finish), cmocka_unit_test(test_grants),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
