/* The directories adopted in the store (store_directory.c, schema 14, SPEC 18.6): a document
 * kept by its SHA-256 and read back through the read-only reader, a second put of the same
 * digest keeping the first bytes, an unknown digest not found, and the serial last recorded
 * in the log (meta directory_logged) surviving a reopen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "mlagw/buf.h"
#include "store/store_fault.h"
#include "store_fx.h"

static mla_err keep(const uint8_t *p, size_t len, void *arg)
{
	return mla_buf_append(arg, p, len);
}

static void test_docs_and_logged(void **state)
{
	const struct fx *f = *state;
	static const char doc[] = "<dir:Directory>42</dir:Directory>";
	uint8_t digest[32], other[32];
	uint64_t serial = 0;
	mla_diag d = {0};
	store_reader *r = NULL;
	gw_store *s = open_ok(f);
	mla_buf got;

	SHA256((const uint8_t *)doc, sizeof(doc) - 1, digest);
	memset(other, 0x5a, sizeof(other));
	assert_int_equal(store_directory_logged_get(s, &serial, &d), MLA_ERR_NOT_FOUND);
	assert_int_equal(store_directory_doc_put(s, 42, digest, (const uint8_t *)doc,
						 sizeof(doc) - 1, &d), MLA_OK);
	/* the same digest again: the row stays as it is */
	assert_int_equal(store_directory_doc_put(s, 42, digest, (const uint8_t *)"x", 1, &d),
			 MLA_OK);
	assert_int_equal(store_directory_doc_put(s, 0, other, (const uint8_t *)"x", 1, &d),
			 MLA_ERR_ARG);
	assert_int_equal(store_directory_logged_put(s, 42, &d), MLA_OK);
	store_close(s);

	s = open_ok(f);
	assert_int_equal(store_directory_logged_get(s, &serial, &d), MLA_OK);
	assert_int_equal(serial, 42);
	store_close(s);

	assert_int_equal(store_reader_open(f->path, &r, &d), MLA_OK);
	mla_buf_init(&got, 1 << 20);
	assert_int_equal(store_reader_directory_doc(r, digest, keep, &got, &d), MLA_OK);
	assert_int_equal(got.len, sizeof(doc) - 1);
	assert_memory_equal(got.data, doc, got.len);
	assert_int_equal(store_reader_directory_doc(r, other, keep, &got, &d), MLA_ERR_NOT_FOUND);
	mla_buf_free(&got);
	store_reader_close(r);
	assert_int_equal(schema_version(f->path), 14);
}

/* A store of schema 13 is brought to 14 at open, its meta kept, the table empty. */
static void test_upgrade_from_13(void **state)
{
	const struct fx *f = *state;
	uint8_t digest[32];
	mla_diag d = {0};
	gw_store *s = open_ok(f);

	memset(digest, 7, sizeof(digest));
	assert_int_equal(store_directory_held_put(s, 3, digest, &d), MLA_OK);
	assert_int_equal(store_mark_clean(s, &d), MLA_OK);
	store_close(s);
	assert_int_equal(store_fault_make_v13(f->path, &d), MLA_OK);
	assert_int_equal(schema_version(f->path), 13);
	s = open_ok(f);
	assert_int_equal(schema_version(f->path), 14);
	assert_int_equal(store_directory_doc_put(s, 3, digest, (const uint8_t *)"d", 1, &d),
			 MLA_OK);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_docs_and_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_13, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
