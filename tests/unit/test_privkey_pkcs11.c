/* pkcs11: key names (protocol/util/privkey_pkcs11.c) without a token: the refusals that come
 * before any module is loaded, and a module that is not there. The exchange with keys in a
 * SoftHSM2 token is gw-pkcs11. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/privkey.h"

static void expect_refused(const char *uri, const char *part)
{
	mla_privkey *k = NULL;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(mla_privkey_load(uri, &k, &d), MLA_ERR_KEY_FILE);
	assert_null(k);
	if (strstr(d.msg, part) == NULL)
		fail_msg("message '%s' lacks '%s'", d.msg, part);
}

/* a PIN in the URI is refused, and the message does not repeat it */
static void test_pin_value_refused(void **state)
{
	mla_privkey *k = NULL;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	assert_int_equal(mla_privkey_load("pkcs11:token=t;object=sign?pin-value=918273", &k, &d),
			 MLA_ERR_KEY_FILE);
	assert_non_null(strstr(d.msg, "pin-source=file:"));
	assert_null(strstr(d.msg, "918273"));
}

/* module-path (RFC 7512 2.4): percent-decoded, once, no NUL; a module that is not there */
static void test_module_path(void **state)
{
	(void)state;
	expect_refused("pkcs11:object=sign?module-path=/usr/lib/x%zz.so", "malformed URI");
	expect_refused("pkcs11:object=sign?module-path=/a.so&module-path=/b.so", "malformed URI");
	expect_refused("pkcs11:object=sign?module-path=/a%00.so", "malformed URI");
	expect_refused("pkcs11:object=sign?module-path=/nonexistent/mod%2Dule.so&pin-source=file:/x",
		       "token key pkcs11:object=sign");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_value_refused),
		cmocka_unit_test(test_module_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
