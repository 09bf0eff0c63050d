/* Hostile envelopes, parsing and base64: each attack is refused with its own error code and a
 * message naming what was wrong, without crashing or leaking (helpers: hostile_fx.h). */
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

/* ---- 1-5: parsing ---- */

static void test_xxe(void **state)
{
	expect_refused_str(*state,
			   "<?xml version=\"1.0\"?>\n"
			   "<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
			   "<mla:Envelope xmlns:mla=\"urn:mlagw:envelope:1\" version=\"1\">"
			   "<mla:Header>&xxe;</mla:Header></mla:Envelope>",
			   MLA_ERR_XML_EXTERNAL_ENTITY, "external entity");
}

#define LOL(a) "&" a ";&" a ";&" a ";&" a ";&" a ";&" a ";&" a ";&" a ";&" a ";&" a ";"

static const char billion_laughs[] =
	"<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
	"<!ENTITY lol1 \"" LOL("lol") "\">\n<!ENTITY lol2 \"" LOL("lol1") "\">\n"
	"<!ENTITY lol3 \"" LOL("lol2") "\">\n<!ENTITY lol4 \"" LOL("lol3") "\">\n"
	"<!ENTITY lol5 \"" LOL("lol4") "\">\n<!ENTITY lol6 \"" LOL("lol5") "\">\n"
	"<!ENTITY lol7 \"" LOL("lol6") "\">\n<!ENTITY lol8 \"" LOL("lol7") "\">\n"
	"<!ENTITY lol9 \"" LOL("lol8") "\">\n]>\n<lolz>&lol9;</lolz>";

static void test_billion_laughs(void **state)
{
	expect_refused_str(*state, billion_laughs, MLA_ERR_XML_ENTITY_EXPANSION,
			   "entity declarations refused (10 declared)");
}

static void test_doctype(void **state)
{
	struct fixture *f = *state;
	mla_buf env;

	seal_small(f, &env);
	fixture_replace(&env, "<mla:Envelope", "<!DOCTYPE mla:Envelope>\n<mla:Envelope");
	expect_refused(f, &env, MLA_ERR_XML_DOCTYPE, "DOCTYPE");
	mla_buf_free(&env);
}

/* Other DOCTYPE shapes: each stops the parser before the root, with the most dangerous code. */
static void test_doctype_variants(void **state)
{
	static const struct {
		const char *xml;
		mla_err want;
	} cases[] = {
		{"<!DOCTYPE x SYSTEM \"http://127.0.0.1:9/x.dtd\"><x/>",
		 MLA_ERR_XML_EXTERNAL_ENTITY},
		{"<!DOCTYPE x [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]><x/>",
		 MLA_ERR_XML_EXTERNAL_ENTITY},
		{"<!DOCTYPE x [<!ENTITY % p \"<!ENTITY q 'a'>\"> %p;]><x>&q;</x>",
		 MLA_ERR_XML_ENTITY_EXPANSION},
		{"<!DOCTYPE x [<!ELEMENT x ANY><!ATTLIST x Id ID #IMPLIED a CDATA \"d\">"
		 "<!NOTATION n SYSTEM \"n\">]><x Id=\"H-1\"/>",
		 MLA_ERR_XML_DOCTYPE}, /* a notation names a file but fetches nothing */
		{"<!DOCTYPE x [<!ELEMENT x ANY><!ATTLIST x Id ID #IMPLIED>]><x Id=\"H-1\"/>",
		 MLA_ERR_XML_DOCTYPE},
		{"<!DOCTYPE x>", MLA_ERR_XML_DOCTYPE},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("doctype case %zu\n", i);
		expect_refused_str(*state, cases[i].xml, cases[i].want, "refused");
	}
}

static void test_oversized(void **state)
{
	struct fixture *f = *state;
	mla_limits l = f->limits;
	mla_buf env;

	seal_small(f, &env);
	l.max_envelope_bytes = env.len - 1;
	expect_refused_l(f, env.data, env.len, &l, MLA_ERR_TOO_LARGE, "exceeds the limit");
	l.max_envelope_bytes = env.len; /* the limit itself is allowed */
	expect_open(f, env.data, env.len, f->co_keys, "MX", &l, MLA_ERR_WRONG_RECIPIENT, NULL);
	mla_buf_free(&env);
}

/* <mla:Envelope> holding n copies of open, then n of close. */
static char *repeat_doc(const char *open, const char *close, unsigned n)
{
	mla_buf b;

	mla_buf_init(&b, (size_t)1 << 20);
	assert_int_equal(mla_buf_append_str(&b, "<mla:Envelope xmlns:mla=\"" MLA_NS "\">"),
			 MLA_OK);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(mla_buf_append_str(&b, open), MLA_OK);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(mla_buf_append_str(&b, close), MLA_OK);
	assert_int_equal(mla_buf_append_str(&b, "</mla:Envelope>"), MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	return (char *)mla_buf_detach(&b, NULL);
}

static void test_deep_nesting(void **state)
{
	char *xml = repeat_doc("<a>", "</a>", 100);

	expect_refused_str(*state, xml, MLA_ERR_XML_DEPTH, "nesting depth exceeds the limit of 32");
	free(xml);
}

static void test_too_many_nodes(void **state)
{
	struct fixture *f = *state;
	char *xml = repeat_doc("<a/>", "", f->limits.max_nodes + 1);

	expect_refused_str(f, xml, MLA_ERR_XML_NODES, "element count exceeds the limit of 256");
	free(xml);
}

/* Comments and processing instructions count as nodes: each costs a tree node, and forty
 * million bytes of "<!---->" cost gigabytes (attack review finding 5). */
static void test_too_many_comments_or_pis(void **state)
{
	struct fixture *f = *state;
	char *xml = repeat_doc("<!---->", "", f->limits.max_nodes + 1);

	expect_refused_str(f, xml, MLA_ERR_XML_NODES,
			   "node count (elements, comments, processing instructions)");
	free(xml);
	xml = repeat_doc("<?p?>", "", f->limits.max_nodes + 1);
	expect_refused_str(f, xml, MLA_ERR_XML_NODES,
			   "node count (elements, comments, processing instructions)");
	free(xml);
}

/* <mla:Envelope> whose first child element carries n attributes (quadratic in libxml2). */
static char *attrs_doc(unsigned n)
{
	mla_buf b;
	char a[32];

	mla_buf_init(&b, (size_t)64 << 20);
	assert_int_equal(mla_buf_append_str(&b, "<mla:Envelope xmlns:mla=\"" MLA_NS "\"><a"),
			 MLA_OK);
	for (unsigned i = 0; i < n; i++) {
		assert_true(snprintf(a, sizeof(a), " a%u=\"x\"", i) < (int)sizeof(a));
		assert_int_equal(mla_buf_append_str(&b, a), MLA_OK);
	}
	assert_int_equal(mla_buf_append_str(&b, "/></mla:Envelope>"), MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	return (char *)mla_buf_detach(&b, NULL);
}

/* Issue 10 finding 2: 50,000 attributes on one element cost libxml2 about 22 s of CPU before
 * any SAX hook ran. The count before parsing refuses it at the 17th. */
static void test_many_attributes_one_element(void **state)
{
	char *xml = attrs_doc(50000);

	expect_refused_str(*state, xml, MLA_ERR_XML_ATTRS,
			   "element at line 1 has more than 16 attributes");
	free(xml);
}

static void test_many_attributes_in_all(void **state)
{
	struct fixture *f = *state;
	char *xml = repeat_doc("<a b=\"1\" c=\"2\" d=\"3\" e=\"4\" f=\"5\" g=\"6\" h=\"7\" i=\"8\"/>", "",
			       130); /* 1,040 attributes on 130 elements: under max_nodes */

	expect_refused_str(f, xml, MLA_ERR_XML_ATTRS, "attribute count exceeds the limit of 1024");
	free(xml);
}

/* '=' in comments, processing instructions, CDATA and quoted values is no attribute: a valid
 * envelope behind such markup still opens. */
static void test_attribute_count_skips_markup(void **state)
{
	struct fixture *f = *state;
	mla_buf env, doc;
	mla_verified v;
	mla_diag d = {MLA_OK, ""};
	char *eqs = calloc(1, 4001);

	assert_non_null(eqs);
	memset(eqs, '=', 4000);
	seal_small(f, &env);
	fixture_replace(&env, "?>", "?><!-- b=2 <x c='3'> --><?pi d=\"4\" e=5?>");
	assert_int_equal(mla_buf_append_str(&env, "<!-- "), MLA_OK);
	assert_int_equal(mla_buf_append_str(&env, eqs), MLA_OK);
	assert_int_equal(mla_buf_append_str(&env, " -->"), MLA_OK);
	assert_int_equal(mla_envelope_open(env.data, env.len, f->trust, f->co_keys, "CO",
					   &f->limits, &v, &doc, &d), MLA_OK);
	mla_buf_free(&doc);
	mla_buf_free(&env);
	free(eqs);
}

/* The count and libxml2 read the same bytes as UTF-8: a UTF-16 document (whose markup the
 * byte scan would not see) is malformed, whatever its declaration says. */
static void test_utf16_refused(void **state)
{
	const char *ascii = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><mla:Envelope xmlns:mla=\""
			    MLA_NS "\"/>";
	size_t n = strlen(ascii);
	uint8_t *u16 = malloc(2 * n + 2);

	assert_non_null(u16);
	u16[0] = 0xFF;
	u16[1] = 0xFE;
	for (size_t i = 0; i < n; i++) {
		u16[2 + 2 * i] = (uint8_t)ascii[i];
		u16[3 + 2 * i] = 0;
	}
	expect_refused_l(*state, u16, 2 * n + 2, &((struct fixture *)*state)->limits,
			 MLA_ERR_XML_MALFORMED, "malformed XML");
	free(u16);
}

/* The count's edges, on xml_prescan itself: the limit is allowed; quoted '=' and '>' (either
 * quote), end tags and declarations hold no attribute; an unclosed quote ends the scan. */
static void test_attribute_count_edges(void **state)
{
	const struct fixture *f = *state;
	mla_diag d = {MLA_OK, ""};
	char *at_limit = attrs_doc(16), *over = attrs_doc(17);
	const char *quoted = "<r a='x=y>z' b=\"=>=\" c='\"='></r b=1 c=2><!DOCTYPE q a=1>"
			     "<![CDATA[ d=1 e=2 ]]>";

	assert_int_equal(xml_prescan(at_limit, strlen(at_limit), &f->limits, &d), MLA_OK);
	assert_int_equal(xml_prescan(over, strlen(over), &f->limits, &d), MLA_ERR_XML_ATTRS);
	mla_limits l = f->limits;
	l.max_element_attrs = 3;
	assert_int_equal(xml_prescan(quoted, strlen(quoted), &l, &d), MLA_OK);
	l.max_element_attrs = 2;
	assert_int_equal(xml_prescan(quoted, strlen(quoted), &l, &d), MLA_ERR_XML_ATTRS);
	assert_int_equal(xml_prescan("<a b='1 c=2 d=3", 15, &l, &d), MLA_OK);
	free(at_limit);
	free(over);
}

/* The same count guards receipts: a hostile peer answering with one (issue 10 finding 2). */
static void test_receipt_many_attributes(void **state)
{
	struct fixture *f = *state;
	char *xml = attrs_doc(70000);
	mla_receipt rc;
	mla_diag d = {MLA_OK, ""};

	check_result("receipt", mla_receipt_verify((const uint8_t *)xml, strlen(xml), f->trust,
						   &f->limits, &rc, &d),
		     &d, MLA_ERR_XML_ATTRS, "more than 16 attributes");
	free(xml);
}

/* ---- 6: base64 ---- */

static void test_garbled_base64_signature(void **state)
{
	struct fixture *f = *state;
	mla_buf env;

	seal_small(f, &env);
	fixture_replace(&env, "<ds:SignatureValue>", "<ds:SignatureValue>!!!");
	expect_refused(f, &env, MLA_ERR_BASE64, "invalid base64 in SignatureValue");
	mla_buf_free(&env);
}

static void test_garbled_base64_cipher(void **state)
{
	struct fixture *f = *state;
	mla_buf env;

	seal_small(f, &env);
	fixture_replace(&env, "<CipherValue>", "<CipherValue>!!!");
	expect_refused(f, &env, MLA_ERR_BASE64, "invalid base64 in CipherValue");
	mla_buf_free(&env);
}

/* Base64 that decodes but is not canonical (non-zero pad bits, data after the padding) was
 * let through by OpenSSL's decoder; the codec refuses it (SPEC section 6). */
static void test_noncanonical_base64_digest(void **state)
{
	struct fixture *f = *state;
	mla_diag d = {MLA_OK, ""};
	mla_verified ok;
	mla_buf env;
	char *v, *end;

	seal_small(f, &env);
	assert_int_equal(mla_buf_terminate(&env), MLA_OK);
	v = strstr((char *)env.data, "<ds:DigestValue>");
	assert_non_null(v);
	v += strlen("<ds:DigestValue>");
	end = strchr(v, '<');
	/* 32 bytes: 43 characters and '='; the last one's two low bits are unused (zero) */
	assert_int_equal(end - v, 44);
	assert_int_equal(v[43], '=');
	v[42] = (char)(v[42] + 1); /* A->B, c->d, 0->1, ...: a pad bit set, same bytes */
	expect_refused(f, &env, MLA_ERR_BASE64, "invalid base64 in DigestValue");
	v[42] = (char)(v[42] - 1); /* restored: verifies again, so the edit alone was refused */
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &ok, &d),
			 MLA_OK);
	mla_buf_free(&env);
}

static void test_base64_after_padding(void **state)
{
	struct fixture *f = *state;
	mla_buf env;

	seal_small(f, &env);
	fixture_replace(&env, "=</ds:DigestValue>", "= AAAA</ds:DigestValue>");
	expect_refused(f, &env, MLA_ERR_BASE64, "invalid base64 in DigestValue");
	mla_buf_free(&env);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xxe),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_doctype),
		cmocka_unit_test(test_doctype_variants),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_too_many_nodes),
		cmocka_unit_test(test_too_many_comments_or_pis),
		cmocka_unit_test(test_many_attributes_one_element),
		cmocka_unit_test(test_many_attributes_in_all),
		cmocka_unit_test(test_attribute_count_skips_markup),
		cmocka_unit_test(test_utf16_refused),
		cmocka_unit_test(test_attribute_count_edges),
		cmocka_unit_test(test_receipt_many_attributes),
		cmocka_unit_test(test_garbled_base64_signature),
		cmocka_unit_test(test_garbled_base64_cipher),
		cmocka_unit_test(test_noncanonical_base64_digest),
		cmocka_unit_test(test_base64_after_padding),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
