/* Envelope version 3 (protocol/SPEC.md 17): attachments listed in the signed Header, their
 * descriptor encrypted beside the document; sealed and opened through the envelope API with
 * the segments decrypting under the secrets it carries; an altered list breaks the signature,
 * an inconsistent one signed by a legitimate key is refused naming what is wrong; versions 1
 * and 2 as before; the list and descriptor parsers on their own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/attach.h"
#include "mlagw/codec.h"
#include "fixture.h"

#define SEG MLA_ATTACH_SEGMENT_MIN
#define N_ATT 3
static const size_t sizes[N_ATT] = {0, 1, SEG + 1};

/* What the sender kept of each attachment: its encrypted segments, one after another. */
struct sent {
	mla_header h;
	mla_attach_list *list;
	uint8_t *ct[N_ATT];
	uint8_t *pt[N_ATT];
};

static void set(char *dst, size_t n, const char *v)
{
	assert_int_equal(mla_snprintf(dst, n, "%s", v), MLA_OK);
}

static int contains(mla_buf *env, const char *s)
{
	assert_int_equal(mla_buf_terminate(env), MLA_OK);
	return strstr((const char *)env->data, s) != NULL;
}

/* Seals attachment i of s (plaintext of sizes[i] bytes) with the sealer. */
static void seal_one(struct sent *s, size_t i)
{
	mla_attachment *a = &s->list->item[i];
	mla_attach_sealer *sl = NULL;
	mla_diag d = {MLA_OK, ""};
	uint64_t n, ct_size;
	size_t off = 0, out = 0, len;

	assert_int_equal(mla_attach_geometry(sizes[i], SEG, &n, &ct_size), MLA_OK);
	s->pt[i] = malloc(sizes[i] + 1);
	s->ct[i] = malloc(ct_size);
	for (size_t k = 0; k < sizes[i]; k++)
		s->pt[i][k] = (uint8_t)(k * 13 + i);
	assert_int_equal(mla_attach_secret_new(a->priv.secret), MLA_OK);
	assert_int_equal(mla_attach_sealer_new(a->priv.secret, s->h.message_id, (uint32_t)i + 1,
					       SEG, MLA_ATTACH_DEFAULT_MAX_BYTES, &sl, &d), MLA_OK);
	for (uint64_t k = 0; k < n; k++) {
		size_t take = sizes[i] - off < SEG ? sizes[i] - off : SEG;
		assert_int_equal(mla_attach_sealer_segment(sl, s->pt[i] + off, take, k + 1 == n,
							   s->ct[i] + out, &len, &d), MLA_OK);
		off += take;
		out += len;
	}
	assert_int_equal(mla_attach_sealer_finish(sl, &a->pub, a->priv.plain_sha256, &d), MLA_OK);
	mla_attach_sealer_free(sl);
	set(a->priv.name, sizeof(a->priv.name), i == 0 ? "empty.txt" : "statement <2026>.pdf");
	set(a->priv.type, sizeof(a->priv.type), "application/pdf");
	a->priv.plain_size = sizes[i];
}

static void sent_init(struct sent *s)
{
	memset(s, 0, sizeof(*s));
	fixture_header(&s->h);
	s->h.version = MLA_ENVELOPE_VERSION_ATTACH;
	assert_int_equal(mla_attach_list_new(&s->list), MLA_OK);
	s->list->n = N_ATT;
	s->list->has_private = 1;
	for (size_t i = 0; i < N_ATT; i++)
		seal_one(s, i);
}

static void sent_free(struct sent *s)
{
	for (size_t i = 0; i < N_ATT; i++) {
		free(s->ct[i]);
		free(s->pt[i]);
	}
	mla_attach_list_free(s->list);
}

static mla_err seal3(const struct fixture *f, const struct sent *s, mla_buf *env)
{
	mla_diag d = {MLA_OK, ""};
	mla_err r = mla_envelope_seal_attached(&s->h, (const uint8_t *)"<doc/>", 6, s->list,
					       f->es_signer, f->co_rcpt, &f->limits, env, &d);
	if (r != MLA_OK)
		print_message("seal: %s\n", d.msg);
	return r;
}

static mla_err open3(const struct fixture *f, mla_buf *env, mla_attach_list **att,
		     mla_diag *d)
{
	mla_verified v;
	mla_buf doc;
	mla_err r = mla_envelope_open_attached(env->data, env->len, f->trust, f->co_keys, "CO",
					       &f->limits, &v, &doc, att, d);
	if (r == MLA_OK)
		mla_buf_free(&doc);
	return r;
}

/* Decrypts attachment i of got from the sender's ciphertext: equal to what was sent. */
static void read_back(const struct sent *s, const mla_attach_list *got, size_t i)
{
	const mla_attachment *a = &got->item[i];
	mla_attach_opener *o = NULL;
	mla_diag d = {MLA_OK, ""};
	uint8_t *pt = malloc(SEG);
	size_t off = 0, ct_off = 0, pl;

	assert_int_equal(mla_attach_opener_new(&a->pub, a->priv.secret, s->h.message_id, &o, &d),
			 MLA_OK);
	for (uint64_t k = 0; k < a->pub.segments; k++) {
		size_t len = (size_t)mla_attach_segment_ct_len(&a->pub, k);
		assert_int_equal(mla_attach_opener_next(o, s->ct[i] + ct_off, len, pt, &pl, &d),
				 MLA_OK);
		assert_memory_equal(pt, s->pt[i] + off, pl);
		off += pl;
		ct_off += len;
	}
	assert_int_equal(mla_attach_opener_finish(o, &d), MLA_OK);
	assert_int_equal(off, sizes[i]);
	mla_attach_opener_free(o);
	free(pt);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	mla_attach_list *got = NULL, *pub = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_verified v;
	struct sent s;
	mla_buf env, doc;

	sent_init(&s);
	assert_int_equal(seal3(f, &s, &env), MLA_OK);
	assert_int_equal(mla_envelope_sealed_version(env.data, env.len), 3);
	/* names and types never in clear */
	assert_false(contains(&env, "statement"));
	assert_false(contains(&env, "application/pdf"));
	assert_true(contains(&env, "segmentSize=\"65536\""));
	assert_int_equal(mla_envelope_open_attached(env.data, env.len, f->trust, f->co_keys, "CO",
						    &f->limits, &v, &doc, &got, &d), MLA_OK);
	assert_int_equal(doc.len, 6);
	assert_memory_equal(doc.data, "<doc/>", 6);
	assert_int_equal(v.header.version, 3);
	assert_non_null(got);
	assert_int_equal(got->n, N_ATT);
	assert_true(got->has_private);
	for (size_t i = 0; i < N_ATT; i++) {
		assert_memory_equal(&got->item[i].pub, &s.list->item[i].pub, sizeof(mla_attach_entry));
		assert_string_equal(got->item[i].priv.name, s.list->item[i].priv.name);
		assert_string_equal(got->item[i].priv.type, s.list->item[i].priv.type);
		assert_memory_equal(got->item[i].priv.secret, s.list->item[i].priv.secret, 32);
		assert_memory_equal(got->item[i].priv.plain_sha256, s.list->item[i].priv.plain_sha256,
				    32);
		read_back(&s, got, i);
	}
	/* an auditor: the signed list, no private part */
	assert_int_equal(mla_envelope_verify_attached(env.data, env.len, f->trust, &f->limits, &v,
						      &pub, &d), MLA_OK);
	assert_non_null(pub);
	assert_false(pub->has_private);
	assert_memory_equal(&pub->item[2].pub, &s.list->item[2].pub, sizeof(mla_attach_entry));
	mla_attach_list_free(pub);
	mla_attach_list_free(got);
	mla_buf_free(&doc);
	mla_buf_free(&env);
	sent_free(&s);
}

/* The functions of versions 1 and 2 refuse version 3 as before; versions 1 and 2 go through
 * the *_attached functions without a list. */
static void test_versions_kept_apart(void **state)
{
	struct fixture *f = *state;
	mla_attach_list *att = (mla_attach_list *)1;
	mla_diag d = {MLA_OK, ""};
	mla_verified v;
	mla_header h;
	struct sent s;
	mla_buf env, doc;

	sent_init(&s);
	assert_int_equal(seal3(f, &s, &env), MLA_OK);
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			 MLA_ERR_UNSUPPORTED_VERSION);
	assert_string_equal(d.msg, "envelope version 3; this reader reads versions 1 to 2");
	assert_int_equal(mla_envelope_open(env.data, env.len, f->trust, f->co_keys, "CO",
					   &f->limits, &v, &doc, &d), MLA_ERR_UNSUPPORTED_VERSION);
	mla_buf_free(&env);
	/* version 3 only with attachments, attachments only in version 3 */
	assert_int_equal(mla_envelope_seal(&s.h, (const uint8_t *)"<a/>", 4, f->es_signer,
					   f->co_rcpt, &f->limits, &env, &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "version 3 carries attachments"));
	s.h.version = 2;
	assert_int_equal(mla_envelope_seal_attached(&s.h, (const uint8_t *)"<a/>", 4, s.list,
						    f->es_signer, f->co_rcpt, &f->limits, &env,
						    &d), MLA_ERR_HEADER);
	for (int version = 1; version <= 2; version++) {
		fixture_header(&h);
		h.version = version;
		assert_int_equal(mla_envelope_seal(&h, (const uint8_t *)"<a/>", 4, f->es_signer,
						   f->co_rcpt, &f->limits, &env, &d), MLA_OK);
		assert_int_equal(mla_envelope_sealed_version(env.data, env.len), version);
		assert_false(contains(&env, "Attachments"));
		assert_int_equal(mla_envelope_open_attached(env.data, env.len, f->trust, f->co_keys,
							    "CO", &f->limits, &v, &doc, &att, &d),
				 MLA_OK);
		assert_null(att);
		assert_int_equal(v.header.version, version);
		mla_buf_free(&doc);
		att = (mla_attach_list *)1;
		assert_int_equal(mla_envelope_verify_attached(env.data, env.len, f->trust,
							      &f->limits, &v, &att, &d), MLA_OK);
		assert_null(att);
		mla_buf_free(&env);
	}
	sent_free(&s);
}

/* One hex digit of a root, or a segment count, changed after signing: the header's digest. */
static void test_altered_list_breaks_signature(void **state)
{
	struct fixture *f = *state;
	mla_attach_list *att = NULL;
	mla_diag d = {MLA_OK, ""};
	char from[80], to[80];
	mla_verified v;
	struct sent s;
	mla_buf env;

	sent_init(&s);
	assert_int_equal(seal3(f, &s, &env), MLA_OK);
	assert_int_equal(mla_hex_encode(s.list->item[1].pub.root, 32, from, sizeof(from)), MLA_OK);
	memcpy(to, from, sizeof(to));
	to[0] = to[0] == 'a' ? 'b' : 'a';
	fixture_replace(&env, from, to);
	assert_int_equal(mla_envelope_verify_attached(env.data, env.len, f->trust, &f->limits, &v,
						      &att, &d), MLA_ERR_SIG_INVALID);
	assert_non_null(strstr(d.msg, "header altered"));
	assert_null(att);
	mla_buf_free(&env);
	assert_int_equal(seal3(f, &s, &env), MLA_OK);
	fixture_replace(&env, "segments=\"2\"", "segments=\"3\"");
	assert_int_equal(open3(f, &env, &att, &d), MLA_ERR_SIG_INVALID);
	mla_buf_free(&env);
	sent_free(&s);
}

/* Re-signs env after replacing from by to in its text, as a sender with a legitimate key. */
static void resign_replaced(const struct fixture *f, mla_buf *env, const char *from,
			    const char *to)
{
	xmlDocPtr doc;

	fixture_replace(env, from, to);
	doc = fixture_parse(env);
	fixture_resign(doc, f->es_signer, NULL, NULL, env);
	xmlFreeDoc(doc);
}

static mla_err verify_replaced(const struct fixture *f, const struct sent *s,
			       const mla_limits *lim, const char *from, const char *to,
			       mla_diag *d)
{
	mla_attach_list *att = NULL;
	mla_verified v;
	mla_buf env;
	mla_err r;

	assert_int_equal(seal3(f, s, &env), MLA_OK);
	resign_replaced(f, &env, from, to);
	r = mla_envelope_verify_attached(env.data, env.len, f->trust, lim, &v, &att, d);
	if (r == MLA_OK)
		mla_attach_list_free(att);
	mla_buf_free(&env);
	return r;
}

/* A signed list that contradicts itself or the limits is refused, naming what is wrong. */
static void test_inconsistent_list_refused(void **state)
{
	struct fixture *f = *state;
	mla_diag d = {MLA_OK, ""};
	mla_limits lim = f->limits;
	struct sent s;

	sent_init(&s);
	/* the resigned envelope is valid as it is */
	assert_int_equal(verify_replaced(f, &s, &f->limits, "<?xml", "<?xml", &d), MLA_OK);
	assert_int_equal(verify_replaced(f, &s, &f->limits, "segments=\"2\"", "segments=\"3\"", &d),
			 MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "attachment 3: 3 segments of 65536 bytes cannot hold"));
	assert_int_equal(verify_replaced(f, &s, &f->limits, "index=\"3\"", "index=\"2\"", &d),
			 MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "index 2 appears twice"));
	assert_int_equal(verify_replaced(f, &s, &f->limits, "index=\"1\"", "index=\"0\"", &d),
			 MLA_ERR_SCHEMA);
	assert_int_equal(verify_replaced(f, &s, &f->limits, "segmentSize=\"65536\"",
					 "segmentSize=\"65537\"", &d), MLA_ERR_HEADER);
	assert_int_equal(verify_replaced(f, &s, &f->limits, "size=\"16\"", "size=\"016\"", &d),
			 MLA_ERR_SCHEMA);
	lim.max_attachment_bytes = SEG;
	assert_int_equal(verify_replaced(f, &s, &lim, "<?xml", "<?xml", &d), MLA_ERR_TOO_LARGE);
	assert_non_null(strstr(d.msg, "attachment 3 of 65537 bytes exceeds the limit of 65536"));
	sent_free(&s);
}

/* Re-sealing (SPEC 13 Time) keeps the list and the descriptor as they were. */
static void test_reseal_keeps_attachments(void **state)
{
	struct fixture *f = *state;
	mla_attach_list *att = NULL;
	mla_diag d = {MLA_OK, ""};
	struct sent s;
	mla_buf env, again;

	sent_init(&s);
	assert_int_equal(seal3(f, &s, &env), MLA_OK);
	assert_int_equal(mla_envelope_reseal(env.data, env.len, f->trust, f->es_signer,
					     s.h.created + 60, &f->limits, &again, &d), MLA_OK);
	assert_int_equal(mla_envelope_sealed_version(again.data, again.len), 3);
	assert_int_equal(open3(f, &again, &att, &d), MLA_OK);
	assert_int_equal(att->n, N_ATT);
	assert_memory_equal(&att->item[2].pub, &s.list->item[2].pub, sizeof(mla_attach_entry));
	assert_memory_equal(att->item[2].priv.secret, s.list->item[2].priv.secret, 32);
	read_back(&s, att, 2);
	mla_attach_list_free(att);
	mla_buf_free(&again);
	mla_buf_free(&env);
	sent_free(&s);
}

/* A Header of another version inside a version 3 envelope, and a version 3 Header inside a
 * version 2 envelope, are refused as wrapping before anything is read. */
static void test_wrapping_across_versions(void **state)
{
	struct fixture *f = *state;
	mla_attach_list *att = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_verified v;
	mla_header h;
	struct sent s;
	mla_buf env;

	sent_init(&s);
	assert_int_equal(seal3(f, &s, &env), MLA_OK);
	fixture_replace(&env, "</mla:Envelope>",
			"<x:Header xmlns:x=\"urn:mlagw:envelope:2\"/></mla:Envelope>");
	assert_int_equal(mla_envelope_verify_attached(env.data, env.len, f->trust, &f->limits, &v,
						      &att, &d), MLA_ERR_SIG_WRAPPING);
	mla_buf_free(&env);
	fixture_header(&h);
	h.version = 2;
	assert_int_equal(mla_envelope_seal(&h, (const uint8_t *)"<a/>", 4, f->es_signer,
					   f->co_rcpt, &f->limits, &env, &d), MLA_OK);
	fixture_replace(&env, "</mla:Envelope>",
			"<x:Payload xmlns:x=\"urn:mlagw:envelope:3\"/></mla:Envelope>");
	assert_int_equal(mla_envelope_verify_attached(env.data, env.len, f->trust, &f->limits, &v,
						      &att, &d), MLA_ERR_SIG_WRAPPING);
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			 MLA_ERR_SIG_WRAPPING);
	mla_buf_free(&env);
	sent_free(&s);
}

/* ---- the parsers on their own ---- */

static const char LIST_HEAD[] = "<mla:Attachments xmlns:mla=\"urn:mlagw:envelope:3\">";
static const char ROOT0[] = "0000000000000000000000000000000000000000000000000000000000000000";

static mla_err parse_list(const char *body, mla_diag *d)
{
	char xml[16384];
	mla_attach_list *l = NULL;
	mla_limits lim;
	mla_err r;

	mla_limits_default(&lim);
	assert_int_equal(mla_snprintf(xml, sizeof(xml), "%s%s</mla:Attachments>", LIST_HEAD, body),
			 MLA_OK);
	r = mla_envelope_attach_list_parse((const uint8_t *)xml, strlen(xml), &lim, &l, d);
	if (r == MLA_OK) {
		assert_non_null(l);
		mla_attach_list_free(l);
	} else {
		assert_null(l);
	}
	return r;
}

static void entry_xml(char *out, size_t n, const char *index, const char *size,
		      const char *seg, const char *count, const char *extra)
{
	assert_int_equal(mla_snprintf(out, n, "<mla:Attachment index=\"%s\" size=\"%s\" "
				      "segmentSize=\"%s\" segments=\"%s\" root=\"%s\"%s/>", index,
				      size, seg, count, ROOT0, extra), MLA_OK);
}

static void test_list_parser(void **state)
{
	mla_diag d = {MLA_OK, ""};
	char a[512], b[512], two[1100], many[16000] = "";

	(void)state;
	entry_xml(a, sizeof(a), "1", "16", "65536", "1", "");
	assert_int_equal(parse_list(a, &d), MLA_OK);
	entry_xml(b, sizeof(b), "2", "65569", "65536", "2", "");
	assert_int_equal(mla_snprintf(two, sizeof(two), "%s<!-- c -->\n%s", a, b), MLA_OK);
	assert_int_equal(parse_list(two, &d), MLA_OK);
	assert_int_equal(mla_snprintf(two, sizeof(two), "%s%s", b, a), MLA_OK);
	assert_int_equal(parse_list(two, &d), MLA_ERR_HEADER); /* out of order */
	assert_int_equal(parse_list("", &d), MLA_ERR_SCHEMA);
	entry_xml(a, sizeof(a), "1", "16", "65536", "1", " extra=\"1\"");
	assert_int_equal(parse_list(a, &d), MLA_ERR_SCHEMA);
	entry_xml(a, sizeof(a), "1", "16", "65536", "01", "");
	assert_int_equal(parse_list(a, &d), MLA_ERR_SCHEMA);
	entry_xml(a, sizeof(a), "1", "99999999999999999999999", "65536", "1", "");
	assert_int_equal(parse_list(a, &d), MLA_ERR_SCHEMA);
	entry_xml(a, sizeof(a), "1", "15", "65536", "1", "");
	assert_int_equal(parse_list(a, &d), MLA_ERR_HEADER);
	assert_int_equal(parse_list("<mla:Attachment index=\"1\"/>", &d), MLA_ERR_SCHEMA);
	assert_int_equal(parse_list("<mla:Other/>", &d), MLA_ERR_SCHEMA);
	assert_int_equal(parse_list("text", &d), MLA_ERR_SCHEMA);
	for (int i = 1; i <= 65; i++) {
		char idx[8];
		assert_int_equal(mla_snprintf(idx, sizeof(idx), "%d", i), MLA_OK);
		entry_xml(a, sizeof(a), idx, "16", "65536", "1", "");
		assert_int_equal(mla_snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s",
					      i == 65 ? "" : a), MLA_OK);
		if (i == 64 && parse_list(many, &d) != MLA_OK)
			fail_msg("64 attachments: %s", d.msg);
	}
	entry_xml(a, sizeof(a), "65", "16", "65536", "1", "");
	assert_true(strlen(many) + strlen(a) < sizeof(many));
	assert_int_equal(mla_snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s", a),
			 MLA_OK);
	assert_int_equal(parse_list(many, &d), MLA_ERR_TOO_LARGE);
}

static mla_err parse_desc(mla_attach_list *l, const char *entries, mla_diag *d)
{
	char xml[4096];
	mla_limits lim;

	mla_limits_default(&lim);
	assert_int_equal(mla_snprintf(xml, sizeof(xml), "<att:Descriptor xmlns:att=\"urn:mlagw:"
				      "attachments:1\" version=\"1\">%s</att:Descriptor>", entries),
			 MLA_OK);
	return mla_envelope_attach_descriptor_parse((const uint8_t *)xml, strlen(xml), &lim, l, d);
}

static void desc_xml(char *out, size_t n, const char *index, const char *name,
		     const char *size, const char *comp)
{
	assert_int_equal(mla_snprintf(out, n, "<att:Attachment index=\"%s\" name=\"%s\" "
				      "type=\"text/plain\" size=\"%s\" sha256=\"%s\" "
				      "compression=\"%s\" secret=\"%s\"/>", index, name, size, ROOT0,
				      comp, ROOT0), MLA_OK);
}

static void test_descriptor_parser(void **state)
{
	mla_attach_list *l = NULL;
	mla_diag d = {MLA_OK, ""};
	char a[600], two[1300];

	(void)state;
	assert_int_equal(mla_attach_list_new(&l), MLA_OK);
	l->n = 1;
	l->item[0].pub.index = 1;
	l->item[0].pub.segment_size = SEG;
	assert_int_equal(mla_attach_geometry(5, SEG, &l->item[0].pub.segments,
					     &l->item[0].pub.size), MLA_OK);
	desc_xml(a, sizeof(a), "1", "a.txt", "5", "none");
	assert_int_equal(parse_desc(l, a, &d), MLA_OK);
	assert_true(l->has_private);
	assert_string_equal(l->item[0].priv.name, "a.txt");
	desc_xml(a, sizeof(a), "1", "a.txt", "6", "none"); /* not what the segments hold */
	assert_int_equal(parse_desc(l, a, &d), MLA_ERR_HEADER);
	assert_false(l->has_private);
	desc_xml(a, sizeof(a), "1", "a.txt", "600", "gzip");
	assert_int_equal(parse_desc(l, a, &d), MLA_OK);
	desc_xml(a, sizeof(a), "1", "a.txt", "5", "zip");
	assert_int_equal(parse_desc(l, a, &d), MLA_ERR_SCHEMA);
	desc_xml(a, sizeof(a), "1", "../a.txt", "5", "none");
	assert_int_equal(parse_desc(l, a, &d), MLA_ERR_HEADER);
	desc_xml(a, sizeof(a), "2", "a.txt", "5", "none");
	assert_int_equal(parse_desc(l, a, &d), MLA_ERR_SCHEMA);
	assert_non_null(strstr(d.msg, "the signed list's has 1"));
	desc_xml(a, sizeof(a), "1", "a.txt", "5", "none");
	assert_int_equal(mla_snprintf(two, sizeof(two), "%s%s", a, a), MLA_OK);
	assert_int_equal(parse_desc(l, two, &d), MLA_ERR_SCHEMA);
	assert_non_null(strstr(d.msg, "describes 2 attachments; the signed list has 1"));
	mla_attach_list_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_versions_kept_apart),
		cmocka_unit_test(test_altered_list_breaks_signature),
		cmocka_unit_test(test_inconsistent_list_refused),
		cmocka_unit_test(test_reseal_keeps_attachments),
		cmocka_unit_test(test_wrapping_across_versions),
		cmocka_unit_test(test_list_parser),
		cmocka_unit_test(test_descriptor_parser),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
