/* The shared test fixture (see fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>

#include "mlagw/codec.h"
#include "fixture.h"
#include "protocol_ns.h"
#include "seal_internal.h"

const char *fixture_path(const struct fixture *f, const char *rel, char out[PATH_MAX])
{
	int n = snprintf(out, PATH_MAX, "%s/%s", f->dir, rel);

	assert_true(n > 0 && n < PATH_MAX);
	return out;
}

static void make_state(struct fixture *f, const char *state)
{
	mla_pki_opts o;
	mla_diag d = {MLA_OK, ""};

	memset(&o, 0, sizeof(o));
	o.state = state;
	o.out_dir = f->dir;
	o.rsa_bits = 2048; /* keeps sanitizer runs fast; the default 3072 is tested in test_pki */
	if (mla_pki_init(&o, &d) != MLA_OK)
		fail_msg("pki init %s: %s", state, d.msg);
}

static void load_keys(struct fixture *f)
{
	char a[PATH_MAX], b[PATH_MAX];
	mla_diag d = {MLA_OK, ""};
	const char *states[] = {"ES", "CO", "MX"};

	assert_int_equal(mla_trust_new(&f->trust), MLA_OK);
	for (int i = 0; i < 3; i++) {
		char rel[16];
		assert_int_equal(mla_snprintf(rel, sizeof(rel), "%s/root.crt", states[i]), MLA_OK);
		assert_int_equal(mla_trust_add_file(f->trust, fixture_path(f, rel, a), &d), MLA_OK);
	}
	assert_int_equal(mla_signer_load(fixture_path(f, "ES/sign.crt", a),
					 fixture_path(f, "ES/sign.key", b), &f->es_signer, &d),
			 MLA_OK);
	assert_int_equal(mla_signer_load(fixture_path(f, "CO/sign.crt", a),
					 fixture_path(f, "CO/sign.key", b), &f->co_signer, &d),
			 MLA_OK);
	assert_int_equal(mla_recipient_load(fixture_path(f, "CO/encrypt.crt", a), &f->co_rcpt, &d),
			 MLA_OK);
	assert_int_equal(mla_keyring_new(&f->co_keys), MLA_OK);
	assert_int_equal(mla_keyring_add_file(f->co_keys, fixture_path(f, "CO/encrypt.crt", a),
					      fixture_path(f, "CO/encrypt.key", b), &d),
			 MLA_OK);
}

int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	mla_diag d = {MLA_OK, ""};
	const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";

	assert_non_null(f);
	assert_int_equal(mla_crypto_init(&d), MLA_OK);
	assert_int_equal(mla_snprintf(f->dir, sizeof(f->dir), "%s/mlagw-test-XXXXXX", tmp), MLA_OK);
	assert_non_null(mkdtemp(f->dir));
	make_state(f, "ES");
	make_state(f, "CO");
	make_state(f, "MX");
	load_keys(f);
	mla_limits_default(&f->limits);
	*state = f;
	return 0;
}

int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX + 16];

	mla_trust_free(f->trust);
	mla_signer_free(f->es_signer);
	mla_signer_free(f->co_signer);
	mla_recipient_free(f->co_rcpt);
	mla_keyring_free(f->co_keys);
	assert_int_equal(mla_snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir), MLA_OK);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", f->dir);
	free(f);
	mla_crypto_shutdown();
	return 0;
}

void fixture_header(mla_header *h)
{
	assert_int_equal(mla_header_init(h), MLA_OK);
	memcpy(h->from_state, "ES", 3);
	memcpy(h->to_state, "CO", 3);
	assert_int_equal(mla_snprintf(h->kind, sizeof(h->kind), "mla"), MLA_OK);
	assert_int_equal(mla_snprintf(h->from_authority, sizeof(h->from_authority),
			"Ministerio de Justicia"), MLA_OK);
	assert_int_equal(mla_snprintf(h->to_authority, sizeof(h->to_authority),
			"Fiscalia General de la Nacion"), MLA_OK);
}

mla_err fixture_seal(const struct fixture *f, const void *doc, size_t len, mla_buf *env)
{
	mla_header h;
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	fixture_header(&h);
	r = mla_envelope_seal(&h, doc, len, f->es_signer, f->co_rcpt, &f->limits, env, &d);
	if (r != MLA_OK)
		print_error("seal: %s\n", d.msg);
	return r;
}

void fixture_document(uint8_t *buf, size_t len, unsigned seed)
{
	static const char words[] = "<Item id=\"%u\">evidence request bank record tracing %u</Item>\n";
	uint64_t x = 0x9e3779b97f4a7c15ull ^ seed;
	size_t off = 0;

	while (off < len) {
		char line[128];
		int n;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = snprintf(line, sizeof(line), words, (unsigned)(x & 0xffff),
			     (unsigned)(x >> 20 & 0xffffff));
		for (int i = 0; i < n && off < len; i++)
			buf[off++] = (uint8_t)line[i];
	}
}

xmlDocPtr fixture_parse(const mla_buf *env)
{
	xmlDocPtr doc = xmlReadMemory((const char *)env->data, (int)env->len, "t.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_HUGE);

	assert_non_null(doc);
	return doc;
}

void fixture_serialize(xmlDocPtr doc, mla_buf *env)
{
	xmlChar *mem = NULL;
	int size = 0;

	xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	assert_non_null(mem);
	mla_buf_free(env);
	mla_buf_init(env, (size_t)1 << 30);
	assert_int_equal(mla_buf_append(env, mem, (size_t)size), MLA_OK);
	xmlFree(mem);
}

static xmlNodePtr child_named(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name))
			return c;
	return NULL;
}

static void register_id(xmlNodePtr el, char *out, size_t n)
{
	xmlAttrPtr a = xmlHasProp(el, BAD_CAST "Id");
	xmlChar *v;

	assert_non_null(a);
	v = xmlNodeListGetString(el->doc, a->children, 1);
	assert_int_equal(mla_snprintf(out, n, "%s", (const char *)v), MLA_OK);
	if (xmlGetID(el->doc, v) == NULL)
		assert_non_null(xmlAddID(NULL, el->doc, v, a));
	xmlFree(v);
}

void fixture_resign(xmlDocPtr doc, const mla_signer *signer, void (*edit)(xmlDocPtr, void *),
		    void *arg, mla_buf *env)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), sig = child_named(root, "Signature");
	char hid[64], pid[64];
	mla_diag d = {MLA_OK, ""};

	if (sig != NULL) {
		xmlUnlinkNode(sig);
		xmlFreeNode(sig);
	}
	if (edit != NULL)
		edit(doc, arg);
	register_id(child_named(root, "Header"), hid, sizeof(hid));
	register_id(child_named(root, "Payload"), pid, sizeof(pid));
	if (seal_sign_doc(root, hid, pid, signer, &d) != MLA_OK)
		fail_msg("re-sign: %s", d.msg);
	fixture_serialize(doc, env);
}

void fixture_replace(mla_buf *env, const char *from, const char *to)
{
	char *p;
	size_t fl = strlen(from), tl = strlen(to), off;
	mla_buf out;

	assert_int_equal(mla_buf_terminate(env), MLA_OK);
	p = strstr((char *)env->data, from);
	if (p == NULL)
		fail_msg("'%s' not found in envelope", from);
	off = (size_t)(p - (char *)env->data);
	mla_buf_init(&out, (size_t)1 << 30);
	assert_int_equal(mla_buf_append(&out, env->data, off), MLA_OK);
	assert_int_equal(mla_buf_append(&out, to, tl), MLA_OK);
	assert_int_equal(mla_buf_append(&out, env->data + off + fl, env->len - off - fl), MLA_OK);
	mla_buf_free(env);
	*env = out;
}
