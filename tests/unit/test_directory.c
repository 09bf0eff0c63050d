/* The signed directory (protocol/directory, SPEC 18): a good directory verifies and answers
 * look-ups; tampering at either level, a wrong or foreign signer, a root other than the local
 * one, an unknown State, a serial that goes back, expiry within and past grace, missing
 * authorities, refused languages and hostile input are each refused with their own error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dir_internal.h"
#include "fixture.h"
#include "mlagw/codec.h"
#include "mlagw/directory.h"

#define DAY 86400

static struct fixture *F;
static mla_signer *mx_signer, *other_co_signer;
static mla_buf entry_es, entry_co, entry_mx; /* signed entries, made once */
static time_t now;

static void describe(char *out, size_t n, const char *state, const char *pki, const char *lower)
{
	assert_int_equal(mla_snprintf(out, n,
		"{\"state\":\"%s\",\"valid_from\":\"2020-01-01T00:00:00Z\","
		"\"valid_until\":\"2099-01-01T00:00:00Z\","
		"\"gateways\":[\"https://gw.%s.example:8443\"],\"root\":\"%s/root.crt\","
		"\"certificates\":{\"tls\":{\"current\":\"%s/tls.crt\"},"
		"\"signing\":{\"current\":\"%s/sign.crt\"},"
		"\"encryption\":{\"current\":\"%s/encrypt.crt\",\"next\":\"%s/encrypt.crt\","
		"\"next_from\":\"2030-01-01T00:00:00Z\"},\"audit\":{\"current\":\"%s/audit.crt\"}},"
		"\"authorities\":[{\"name\":\"Central authority of %s\",\"central\":true,"
		"\"kinds\":[\"mla\",\"evidence\"],\"languages\":[\"es\",\"en\"]},"
		"{\"name\":\"Extradition office\",\"kinds\":[\"extradition\"],\"languages\":[\"es\"]}],"
		"\"channels\":[{\"type\":\"email\",\"value\":\"mla@%s.example\"}],"
		"\"urgent_contact\":{\"name\":\"24/7 desk\",\"phone\":\"+1 555 0100\"}}",
		state, lower, pki, pki, pki, pki, pki, pki, state, lower), MLA_OK);
}

static void make_entry(const char *state, const char *pki, const char *lower,
		       const mla_signer *signer, mla_buf *out)
{
	char json[4096];
	mla_dir_entry e;
	mla_buf unsigned_;
	mla_diag d = {MLA_OK, ""};

	describe(json, sizeof(json), state, pki, lower);
	assert_int_equal(mla_dir_entry_from_json(json, strlen(json), F->dir, &e, &d), MLA_OK);
	assert_int_equal(mla_dir_entry_write(&e, &unsigned_, &d), MLA_OK);
	/* unchecked: some tests sign with a key the entry does not list, as an attacker would */
	if (dir_sign(unsigned_.data, unsigned_.len, signer, 0, out, &d) != MLA_OK)
		fail_msg("%s", d.msg);
	mla_dir_entry_clear(&e);
	mla_buf_free(&unsigned_);
}

static void make_dir(const mla_buf *entries, size_t n, uint64_t serial, time_t expires,
		     const mla_signer *publisher, mla_buf *out)
{
	mla_diag d = {MLA_OK, ""};
	mla_buf unsigned_;

	assert_int_equal(mla_dir_assemble(entries, n, serial, now - 60, expires, "ES", &unsigned_,
					  &d), MLA_OK);
	if (mla_dir_sign(unsigned_.data, unsigned_.len, publisher, out, &d) != MLA_OK)
		fail_msg("%s", d.msg);
	mla_buf_free(&unsigned_);
}

static void make_three(uint64_t serial, mla_buf *out)
{
	mla_buf e[3] = {entry_es, entry_co, entry_mx};

	make_dir(e, 3, serial, now + 7 * DAY, F->es_signer, out);
}

static void policy(mla_dir_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->trust = F->trust;
	p->publisher = "ES";
	p->now = now;
	p->grace = DAY;
}

/* Verifies buf under p and expects err with a message holding want. */
static void expect(const mla_buf *buf, const mla_dir_policy *p, mla_err err, const char *want)
{
	mla_directory *dir = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_err r = mla_directory_verify(buf->data, buf->len, p, &dir, NULL, &d);

	if (r != err || (want != NULL && strstr(d.msg, want) == NULL))
		fail_msg("got %s (%s), wanted %s with '%s'", mla_errname(r), d.msg,
			 mla_errname(err), want != NULL ? want : "");
	assert_true((dir != NULL) == (err == MLA_OK));
	mla_directory_free(dir);
}

static int setup(void **state)
{
	char path[PATH_MAX], key[PATH_MAX], other[PATH_MAX];
	mla_pki_opts o = {.state = "CO", .rsa_bits = 2048};
	mla_diag d = {MLA_OK, ""};

	fixture_setup(state);
	F = *state;
	now = time(NULL);
	assert_int_equal(mla_signer_load(fixture_path(F, "MX/sign.crt", path),
					 fixture_path(F, "MX/sign.key", key), &mx_signer, &d),
			 MLA_OK);
	/* a second PKI of CO, whose root no one configured */
	o.out_dir = fixture_path(F, "other", other);
	assert_int_equal(mla_pki_init(&o, &d), MLA_OK);
	assert_int_equal(mla_signer_load(fixture_path(F, "other/CO/sign.crt", path),
					 fixture_path(F, "other/CO/sign.key", key),
					 &other_co_signer, &d), MLA_OK);
	make_entry("ES", "ES", "es", F->es_signer, &entry_es);
	make_entry("CO", "CO", "co", F->co_signer, &entry_co);
	make_entry("MX", "MX", "mx", mx_signer, &entry_mx);
	return 0;
}

static int teardown(void **state)
{
	mla_buf_free(&entry_es);
	mla_buf_free(&entry_co);
	mla_buf_free(&entry_mx);
	mla_signer_free(mx_signer);
	mla_signer_free(other_co_signer);
	return fixture_teardown(state);
}

static void test_good_directory(void **state)
{
	const mla_dir_authority *a;
	mla_directory *dir = NULL;
	mla_dir_policy p;
	mla_dir_status st;
	mla_diag d = {MLA_OK, ""};
	const char *url;
	X509 *enc;
	mla_buf buf;

	(void)state;
	make_three(7, &buf);
	policy(&p);
	if (mla_directory_verify(buf.data, buf.len, &p, &dir, &st, &d) != MLA_OK)
		fail_msg("%s", d.msg);
	assert_int_equal(dir->serial, 7);
	assert_int_equal(dir->n, 3);
	assert_string_equal(dir->publisher, "ES");
	assert_false(st.unchanged);
	assert_false(st.in_grace);
	assert_int_equal(mla_directory_gateway(dir, "CO", &url, &d), MLA_OK);
	assert_string_equal(url, "https://gw.co.example:8443");
	assert_int_equal(mla_directory_authority(dir, "CO", "extradition", &a, &d), MLA_OK);
	assert_string_equal(a->name, "Extradition office");
	assert_int_equal(mla_dir_authority_accepts(a, "es", &d), MLA_OK);
	assert_int_equal(mla_directory_authority(dir, "MX", "mla", &a, &d), MLA_OK);
	assert_true(a->central);
	/* the next encryption certificate is announced from 2030 */
	assert_int_equal(mla_directory_cert(dir, "CO", MLA_DIR_ENCRYPTION, now, &enc, &d), MLA_OK);
	assert_ptr_equal(enc, mla_directory_find(dir, "CO")->certs[MLA_DIR_ENCRYPTION].current);
	assert_int_equal(mla_directory_cert(dir, "CO", MLA_DIR_ENCRYPTION, 1893456000, &enc, &d),
			 MLA_OK);
	assert_ptr_equal(enc, mla_directory_find(dir, "CO")->certs[MLA_DIR_ENCRYPTION].next);
	assert_int_equal(mla_directory_gateway(dir, "FR", &url, &d), MLA_ERR_UNKNOWN_STATE);
	mla_directory_free(dir);
	mla_buf_free(&buf);
}

static void test_kind_and_language(void **state)
{
	const mla_dir_authority *a;
	mla_directory *dir = NULL;
	mla_dir_policy p;
	mla_diag d = {MLA_OK, ""};
	mla_buf buf;

	(void)state;
	make_three(8, &buf);
	policy(&p);
	assert_int_equal(mla_directory_verify(buf.data, buf.len, &p, &dir, NULL, &d), MLA_OK);
	assert_int_equal(mla_directory_authority(dir, "CO", "confiscation", &a, &d),
			 MLA_ERR_NO_AUTHORITY);
	assert_non_null(strstr(d.msg, "CO has no competent authority for confiscation"));
	assert_int_equal(mla_directory_authority(dir, "CO", "extradition", &a, &d), MLA_OK);
	assert_int_equal(mla_dir_authority_accepts(a, "fr", &d), MLA_ERR_LANGUAGE);
	assert_non_null(strstr(d.msg, "does not accept language 'fr' (accepts es)"));
	mla_directory_free(dir);
	mla_buf_free(&buf);
}

static void replace(mla_buf *b, const char *from, const char *to)
{
	fixture_replace(b, from, to);
}

static void test_tampered_entry(void **state)
{
	mla_buf e[3], bad, buf;
	mla_dir_policy p;

	(void)state;
	/* a publisher alters CO's signed entry, then signs the directory properly */
	mla_buf_init(&bad, MLA_DIR_MAX_BYTES);
	assert_int_equal(mla_buf_append(&bad, entry_co.data, entry_co.len), MLA_OK);
	replace(&bad, "https://gw.co.example", "https://gw.evil.example");
	e[0] = entry_es;
	e[1] = bad;
	e[2] = entry_mx;
	make_dir(e, 3, 9, now + 7 * DAY, F->es_signer, &buf);
	policy(&p);
	expect(&buf, &p, MLA_ERR_SIG_INVALID, "entry of CO does not verify");
	mla_buf_free(&bad);
	mla_buf_free(&buf);
}

static void test_tampered_outer(void **state)
{
	mla_dir_policy p;
	mla_buf buf;

	(void)state;
	policy(&p);
	/* content altered after the publisher signed: the outer signature fails first */
	make_three(10, &buf);
	replace(&buf, "https://gw.mx.example", "https://gw.xx.example");
	expect(&buf, &p, MLA_ERR_SIG_INVALID, "signature of the directory does not verify");
	mla_buf_free(&buf);
	/* a higher serial claimed: the Body's Id no longer is what the signature covers */
	make_three(10, &buf);
	replace(&buf, "<dir:Serial>10<", "<dir:Serial>11<");
	replace(&buf, "Id=\"D-10\"", "Id=\"D-11\"");
	expect(&buf, &p, MLA_ERR_SIG_NOT_COVERED, "directory does not cover exactly");
	mla_buf_free(&buf);
}

static void test_wrong_publisher(void **state)
{
	mla_dir_policy p;
	mla_buf buf;

	(void)state;
	make_three(11, &buf);
	policy(&p);
	p.publisher = "CO";
	expect(&buf, &p, MLA_ERR_CERT_UNTRUSTED, "configured publisher is CO");
	mla_buf_free(&buf);
	/* signed by CO while it claims ES as its publisher */
	{
		mla_buf e[3] = {entry_es, entry_co, entry_mx};
		make_dir(e, 3, 12, now + 7 * DAY, F->co_signer, &buf);
	}
	policy(&p);
	expect(&buf, &p, MLA_ERR_CERT_WRONG_STATE, NULL);
	mla_buf_free(&buf);
}

static void test_entry_signed_by_wrong_state(void **state)
{
	mla_buf wrong, buf, e[2];
	mla_dir_policy p;

	(void)state;
	make_entry("CO", "CO", "co", F->es_signer, &wrong);
	e[0] = entry_es;
	e[1] = wrong;
	make_dir(e, 2, 13, now + 7 * DAY, F->es_signer, &buf);
	policy(&p);
	expect(&buf, &p, MLA_ERR_CERT_WRONG_STATE, NULL);
	mla_buf_free(&wrong);
	mla_buf_free(&buf);
}

static void test_entry_root_not_local(void **state)
{
	mla_buf other, buf, e[2];
	mla_dir_policy p;

	(void)state;
	/* CO's entry from a PKI whose root was never configured here: the publisher cannot
	 * bring a new root for CO */
	make_entry("CO", "other/CO", "co", other_co_signer, &other);
	e[0] = entry_es;
	e[1] = other;
	make_dir(e, 2, 14, now + 7 * DAY, F->es_signer, &buf);
	policy(&p);
	expect(&buf, &p, MLA_ERR_CERT_UNTRUSTED,
	       "root certificate other than the one configured locally for CO");
	mla_buf_free(&other);
	mla_buf_free(&buf);
}

static void test_unknown_state(void **state)
{
	char es[PATH_MAX], co[PATH_MAX];
	const char *roots[2] = {fixture_path(F, "ES/root.crt", es), fixture_path(F, "CO/root.crt", co)};
	mla_diag d = {MLA_OK, ""};
	mla_trust *t = NULL;
	mla_dir_policy p;
	mla_buf buf;

	(void)state;
	assert_int_equal(mla_trust_load_files(roots, 2, &t, &d), MLA_OK);
	make_three(15, &buf);
	policy(&p);
	p.trust = t;
	expect(&buf, &p, MLA_ERR_UNKNOWN_STATE, "no root of MX is configured locally");
	mla_trust_free(t);
	mla_buf_free(&buf);
}

static void test_serial(void **state)
{
	mla_directory *dir = NULL;
	mla_dir_policy p;
	mla_dir_status st;
	mla_diag d = {MLA_OK, ""};
	mla_buf buf, again;

	(void)state;
	make_three(20, &buf);
	policy(&p);
	assert_int_equal(mla_directory_verify(buf.data, buf.len, &p, &dir, &st, &d), MLA_OK);
	p.have_held = 1;
	p.held_serial = dir->serial;
	memcpy(p.held_digest, dir->digest, 32);
	mla_directory_free(dir);
	/* the same bytes again: nothing to do */
	assert_int_equal(mla_directory_verify(buf.data, buf.len, &p, &dir, &st, &d), MLA_OK);
	assert_true(st.unchanged);
	mla_directory_free(dir);
	/* the same serial with other bytes (signed anew: ECDSA is randomised) */
	make_three(20, &again);
	expect(&again, &p, MLA_ERR_DIR_SERIAL, "serial 20 is the one held");
	mla_buf_free(&again);
	/* lower */
	make_three(19, &again);
	expect(&again, &p, MLA_ERR_DIR_SERIAL, "serial went back: 19 is below the held 20");
	mla_buf_free(&again);
	/* higher */
	make_three(UINT64_C(18446744073709551615), &again);
	expect(&again, &p, MLA_OK, NULL);
	mla_buf_free(&again);
	mla_buf_free(&buf);
}

static void test_expiry_and_grace(void **state)
{
	mla_buf e[3] = {entry_es, entry_co, entry_mx};
	mla_directory *dir = NULL;
	mla_dir_policy p;
	mla_dir_status st;
	mla_diag d = {MLA_OK, ""};
	mla_buf buf;

	(void)state;
	make_dir(e, 3, 30, now + DAY, F->es_signer, &buf);
	policy(&p);
	p.now = now + DAY + 3600; /* an hour past expiry, within the day of grace */
	assert_int_equal(mla_directory_verify(buf.data, buf.len, &p, &dir, &st, &d), MLA_OK);
	assert_true(st.in_grace);
	assert_non_null(strstr(st.warning, "directory serial 30 expired at"));
	mla_directory_free(dir);
	p.now = now + 3 * DAY; /* past the grace period */
	expect(&buf, &p, MLA_ERR_DIR_EXPIRED, "past the grace period of 86400 s");
	mla_buf_free(&buf);
}

static void test_hostile_input(void **state)
{
	mla_dir_policy p;
	mla_buf buf;

	(void)state;
	policy(&p);
	/* larger than the bound: refused before parsing */
	mla_buf_init(&buf, MLA_DIR_MAX_BYTES + 2);
	assert_int_equal(mla_buf_append_str(&buf, "<a>"), MLA_OK);
	while (buf.len <= MLA_DIR_MAX_BYTES)
		assert_int_equal(mla_buf_append_str(&buf, " "), MLA_OK);
	expect(&buf, &p, MLA_ERR_TOO_LARGE, "exceeds the limit");
	mla_buf_free(&buf);
	/* nesting */
	mla_buf_init(&buf, 1 << 20);
	for (int i = 0; i < 40; i++)
		assert_int_equal(mla_buf_append_str(&buf, "<d>"), MLA_OK);
	expect(&buf, &p, MLA_ERR_XML_DEPTH, NULL);
	mla_buf_free(&buf);
	/* elements */
	mla_buf_init(&buf, 1 << 20);
	assert_int_equal(mla_buf_append_str(&buf, "<d>"), MLA_OK);
	for (int i = 0; i < 20000; i++)
		assert_int_equal(mla_buf_append_str(&buf, "<e/>"), MLA_OK);
	assert_int_equal(mla_buf_append_str(&buf, "</d>"), MLA_OK);
	expect(&buf, &p, MLA_ERR_XML_NODES, NULL);
	mla_buf_free(&buf);
	/* a DTD */
	mla_buf_init(&buf, 1 << 20);
	assert_int_equal(mla_buf_append_str(&buf, "<!DOCTYPE d [<!ENTITY x \"y\">]><d>&x;</d>"),
			 MLA_OK);
	expect(&buf, &p, MLA_ERR_XML_ENTITY_EXPANSION, NULL);
	mla_buf_free(&buf);
	/* another version */
	mla_buf_init(&buf, 1 << 20);
	assert_int_equal(mla_buf_append_str(&buf, "<Directory xmlns=\"urn:mlagw:directory:2\" "
					    "version=\"2\"/>"), MLA_OK);
	expect(&buf, &p, MLA_ERR_UNSUPPORTED_VERSION, "directory version 2");
	mla_buf_free(&buf);
	/* an entry is not a directory */
	expect(&entry_co, &p, MLA_ERR_SCHEMA, "not a directory");
}

static void test_diff(void **state)
{
	mla_buf e[2] = {entry_es, entry_co}, a, b, out;
	mla_directory *da = NULL, *db = NULL;
	mla_dir_policy p;
	mla_diag d = {MLA_OK, ""};
	mla_buf other_mx;
	size_t n = 0;

	(void)state;
	make_dir(e, 2, 40, now + 7 * DAY, F->es_signer, &a);
	/* MX joins; CO's entry is the one signed by another of CO's... the same key: no change */
	make_entry("MX", "MX", "mx", mx_signer, &other_mx);
	{
		mla_buf e3[3] = {entry_es, entry_co, other_mx};
		make_dir(e3, 3, 41, now + 7 * DAY, F->es_signer, &b);
	}
	policy(&p);
	assert_int_equal(mla_directory_verify(a.data, a.len, &p, &da, NULL, &d), MLA_OK);
	assert_int_equal(mla_directory_verify(b.data, b.len, &p, &db, NULL, &d), MLA_OK);
	mla_buf_init(&out, 1 << 16);
	assert_int_equal(mla_directory_diff(da, db, &out, &n), MLA_OK);
	assert_int_equal(n, 1);
	assert_int_equal(mla_buf_terminate(&out), MLA_OK);
	assert_string_equal((const char *)out.data, "+ MX added\n");
	mla_buf_reset(&out);
	assert_int_equal(mla_directory_diff(db, da, &out, &n), MLA_OK);
	assert_int_equal(n, 1);
	mla_buf_reset(&out);
	assert_int_equal(mla_directory_json(db, &out), MLA_OK);
	assert_int_equal(mla_buf_terminate(&out), MLA_OK);
	assert_non_null(strstr((const char *)out.data, "\"serial\":\"41\""));
	mla_buf_free(&out);
	mla_directory_free(da);
	mla_directory_free(db);
	mla_buf_free(&other_mx);
	mla_buf_free(&a);
	mla_buf_free(&b);
}

static void test_entry_alone(void **state)
{
	mla_diag d = {MLA_OK, ""};
	mla_dir_entry e;
	mla_buf wrong;

	(void)state;
	assert_int_equal(mla_dir_entry_verify(entry_co.data, entry_co.len, F->trust, now, &e, &d),
			 MLA_OK);
	assert_string_equal(e.state, "CO");
	mla_dir_entry_clear(&e);
	/* signed with MX's key */
	make_entry("CO", "CO", "co", mx_signer, &wrong);
	assert_int_equal(mla_dir_entry_verify(wrong.data, wrong.len, F->trust, now, &e, &d),
			 MLA_ERR_CERT_WRONG_STATE);
	mla_dir_entry_clear(&e);
	mla_buf_free(&wrong);
	/* signing with a key the entry does not list is refused at once */
	{
		char json[4096];
		mla_dir_entry co;
		mla_buf unsigned_;
		describe(json, sizeof(json), "CO", "CO", "co");
		assert_int_equal(mla_dir_entry_from_json(json, strlen(json), F->dir, &co, &d),
				 MLA_OK);
		assert_int_equal(mla_dir_entry_write(&co, &unsigned_, &d), MLA_OK);
		assert_int_equal(mla_dir_sign(unsigned_.data, unsigned_.len, mx_signer, &wrong, &d),
				 MLA_ERR_CERT_UNTRUSTED);
		assert_non_null(strstr(d.msg, "not the signing certificate the entry of CO lists"));
		mla_dir_entry_clear(&co);
		mla_buf_free(&unsigned_);
	}
	/* signing twice is refused */
	assert_int_equal(mla_dir_sign(entry_co.data, entry_co.len, F->co_signer, &wrong, &d),
			 MLA_ERR_EXISTS);
	mla_buf_free(&wrong);
}

/* A directory [ES, CO, CO] signed by ES, CO's entry copied in the text. */
static void twice_signed(mla_buf *out)
{
	mla_buf e[2] = {entry_es, entry_co}, unsigned_, twice;
	mla_diag d = {MLA_OK, ""};
	char *text, *from, *to;

	assert_int_equal(mla_dir_assemble(e, 2, 50, now - 60, now + DAY, "ES", &unsigned_, &d),
			 MLA_OK);
	assert_int_equal(mla_buf_terminate(&unsigned_), MLA_OK);
	text = (char *)unsigned_.data;
	assert_non_null(to = strstr(text, "</dir:Body>"));
	assert_non_null(from = strstr(text, "code=\"CO\""));
	while (from > text && strncmp(from, "<dir:Entry", 10) != 0)
		from--;
	mla_buf_init(&twice, MLA_DIR_MAX_BYTES);
	assert_int_equal(mla_buf_append(&twice, text, (size_t)(to - text)), MLA_OK);
	assert_int_equal(mla_buf_append(&twice, from, (size_t)(to - from)), MLA_OK);
	assert_int_equal(mla_buf_append_str(&twice, to), MLA_OK);
	assert_int_equal(mla_dir_sign(twice.data, twice.len, F->es_signer, out, &d), MLA_OK);
	mla_buf_free(&twice);
	mla_buf_free(&unsigned_);
}

static void test_state_twice_and_foreign_key(void **state)
{
	char path[PATH_MAX], key[PATH_MAX];
	mla_buf e[3] = {entry_es, entry_co, entry_co}, buf, by_tls;
	mla_signer *tls = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_dir_policy p;

	(void)state;
	policy(&p);
	/* CO listed twice: two elements with one Id is what signature wrapping needs; assembly
	 * refuses it, and a publisher that writes it anyway is refused on verification */
	assert_int_equal(mla_dir_assemble(e, 3, 50, now, now + DAY, "ES", &buf, &d), MLA_ERR_ARG);
	assert_non_null(strstr(d.msg, "document 3 is an entry of a State given before"));
	mla_buf_free(&buf);
	twice_signed(&buf);
	expect(&buf, &p, MLA_ERR_SIG_WRAPPING, "holds Id S-CO twice");
	mla_buf_free(&buf);
	/* signed with CO's TLS key: CO's root vouches for it, but it is not CO's listed
	 * signing certificate */
	assert_int_equal(mla_signer_load(fixture_path(F, "CO/tls.crt", path),
					 fixture_path(F, "CO/tls.key", key), &tls, &d), MLA_OK);
	make_entry("CO", "CO", "co", tls, &by_tls);
	e[1] = by_tls;
	make_dir(e, 2, 51, now + 7 * DAY, F->es_signer, &buf);
	expect(&buf, &p, MLA_ERR_CERT_UNTRUSTED, "does not list as its signing certificate");
	mla_buf_free(&buf);
	mla_buf_free(&by_tls);
	mla_signer_free(tls);
}

/* CO's entry with one certificate replaced (the JSON's from -> to), signed by CO. */
static void make_entry_with(const char *from, const char *to, mla_buf *out)
{
	char orig[4096], json[4096], *p;
	mla_diag d = {MLA_OK, ""};
	mla_dir_entry e;
	mla_buf unsigned_;

	describe(orig, sizeof(orig), "CO", "CO", "co");
	assert_non_null(p = strstr(orig, from));
	*p = '\0';
	assert_int_equal(mla_snprintf(json, sizeof(json), "%s%s%s", orig, to, p + strlen(from)),
			 MLA_OK);
	assert_int_equal(mla_dir_entry_from_json(json, strlen(json), F->dir, &e, &d), MLA_OK);
	assert_int_equal(mla_dir_entry_write(&e, &unsigned_, &d), MLA_OK);
	assert_int_equal(mla_dir_sign(unsigned_.data, unsigned_.len, F->co_signer, out, &d),
			 MLA_OK);
	mla_dir_entry_clear(&e);
	mla_buf_free(&unsigned_);
}

static void test_listed_certificates(void **state)
{
	mla_buf e[2] = {entry_es, {0}}, buf;
	mla_dir_policy p;

	(void)state;
	policy(&p);
	/* CO lists MX's TLS certificate as its own */
	make_entry_with("\"CO/tls.crt\"", "\"MX/tls.crt\"", &e[1]);
	make_dir(e, 2, 60, now + 7 * DAY, F->es_signer, &buf);
	expect(&buf, &p, MLA_ERR_CERT_UNTRUSTED, "its tls certificate does not chain to the root "
	       "of CO");
	mla_buf_free(&buf);
	mla_buf_free(&e[1]);
	/* an encryption certificate that cannot encrypt keys */
	make_entry_with("\"CO/encrypt.crt\",\"next", "\"CO/sign.crt\",\"next", &e[1]);
	make_dir(e, 2, 61, now + 7 * DAY, F->es_signer, &buf);
	expect(&buf, &p, MLA_ERR_CERT_USAGE, "its encryption certificate does not allow "
	       "keyEncipherment");
	mla_buf_free(&buf);
	mla_buf_free(&e[1]);
}

static void test_entry_period(void **state)
{
	mla_buf e[2] = {entry_es, {0}}, buf;
	mla_dir_policy p;

	(void)state;
	policy(&p);
	make_entry_with("\"valid_from\":\"2020", "\"valid_from\":\"2098", &e[1]);
	make_dir(e, 2, 70, now + 7 * DAY, F->es_signer, &buf);
	expect(&buf, &p, MLA_ERR_DIR_EXPIRED, "entry of CO is not valid before 2098-01-01");
	mla_buf_free(&buf);
	mla_buf_free(&e[1]);
	make_entry_with("\"valid_until\":\"2099", "\"valid_until\":\"2021", &e[1]);
	make_dir(e, 2, 71, now + 7 * DAY, F->es_signer, &buf);
	expect(&buf, &p, MLA_ERR_DIR_EXPIRED, "entry of CO expired at 2021-01-01T00:00:00Z, past");
	mla_buf_free(&buf);
	mla_buf_free(&e[1]);
}

static void test_unsigned_entry_inside(void **state)
{
	mla_buf e[2] = {entry_es, entry_co}, unsigned_, buf;
	mla_diag d = {MLA_OK, ""};
	mla_dir_policy p;
	char *text, *sig, *end;

	(void)state;
	/* a publisher drops CO's signature from its entry and signs the whole */
	assert_int_equal(mla_dir_assemble(e, 2, 80, now - 60, now + DAY, "ES", &unsigned_, &d),
			 MLA_OK);
	assert_int_equal(mla_buf_terminate(&unsigned_), MLA_OK);
	text = (char *)unsigned_.data;
	assert_non_null(sig = strstr(strstr(text, "code=\"CO\""), "<ds:Signature"));
	assert_non_null(end = strstr(sig, "</ds:Signature>"));
	end += strlen("</ds:Signature>");
	memmove(sig, end, strlen(end) + 1);
	unsigned_.len = strlen(text);
	assert_int_equal(mla_dir_sign(unsigned_.data, unsigned_.len, F->es_signer, &buf, &d),
			 MLA_OK);
	policy(&p);
	expect(&buf, &p, MLA_ERR_SCHEMA, "entry of CO is not signed");
	mla_buf_free(&buf);
	mla_buf_free(&unsigned_);
}

static void test_description_refused(void **state)
{
	const char *unknown = "{\"state\":\"CO\",\"colour\":\"red\"}";
	char json[4096], *p;
	mla_diag d = {MLA_OK, ""};
	mla_dir_entry e;

	(void)state;
	assert_int_equal(mla_dir_entry_from_json(unknown, strlen(unknown), F->dir, &e, &d),
			 MLA_ERR_CONFIG);
	assert_non_null(strstr(d.msg, "unknown member 'colour'"));
	mla_dir_entry_clear(&e);
	/* two central authorities */
	describe(json, sizeof(json), "CO", "CO", "co");
	p = strstr(json, "{\"name\":\"Extradition office\"");
	assert_non_null(p);
	memmove(p + 16, p + 1, strlen(p + 1) + 1);
	memcpy(p + 1, "\"central\":true,", 15);
	assert_int_equal(mla_dir_entry_from_json(json, strlen(json), F->dir, &e, &d),
			 MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "2 central authorities"));
	mla_dir_entry_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_directory),
		cmocka_unit_test(test_kind_and_language),
		cmocka_unit_test(test_tampered_entry),
		cmocka_unit_test(test_tampered_outer),
		cmocka_unit_test(test_wrong_publisher),
		cmocka_unit_test(test_entry_signed_by_wrong_state),
		cmocka_unit_test(test_entry_root_not_local),
		cmocka_unit_test(test_unknown_state),
		cmocka_unit_test(test_serial),
		cmocka_unit_test(test_expiry_and_grace),
		cmocka_unit_test(test_hostile_input),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_entry_alone),
		cmocka_unit_test(test_state_twice_and_foreign_key),
		cmocka_unit_test(test_listed_certificates),
		cmocka_unit_test(test_entry_period),
		cmocka_unit_test(test_unsigned_entry_inside),
		cmocka_unit_test(test_description_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
