/* attach_seal: puts an outbox message with attachments into a (stopped) gateway's store, as
 * the local submission with attachments will (SPEC 17.13): each attachment's plaintext
 * (deterministic bytes) sealed segment by segment into "<n>.ct", its leaf hashes into
 * "<n>.tree" and the tree built, then the envelope version 3 sealed and queued. Test-only,
 * not installed: the integration tests of the transfer run it.
 *   attach_seal STORE FROM TO SIGN_CERT SIGN_KEY RECIPIENT_CERT SEGMENT_SIZE DEADLINE_S SIZE...
 * prints the message id; exit 0 done, 1 failed, 2 usage. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "attach/attach_files.h"
#include "mlagw/codec.h"
#include "store/store.h"

struct args {
	const char *store, *from, *to, *sign_cert, *sign_key, *rcpt;
	uint64_t seg, deadline_s;
	uint64_t sizes[MLA_ATTACH_MAX];
	size_t n;
};

static int usage(void)
{
	fputs("usage: attach_seal STORE FROM TO SIGN_CERT SIGN_KEY RECIPIENT_CERT SEGMENT_SIZE "
	      "DEADLINE_S SIZE...\n", stderr);
	return 2;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The plaintext byte at offset off of attachment index: the same for every run. */
static uint8_t plain_byte(unsigned index, uint64_t off)
{
	return (uint8_t)((off * 131 + index * 7 + (off >> 12)) & 0xff);
}

static mla_err seal_one(const struct args *a, const char *id, unsigned index, mla_attachment *at,
			mla_diag *d)
{
	char ct[ATTACH_PATH_MAX], tree[ATTACH_PATH_MAX];
	uint64_t size = a->sizes[index - 1], n = 0, total = 0, off = 0;
	uint8_t *pt = malloc(a->seg), *out = malloc(a->seg + 16), leaf[32], root[32];
	mla_attach_sealer *s = NULL;
	int fc = -1, ft = -1;
	size_t len = 0;
	mla_err r = MLA_ERR_IO;

	if (pt == NULL || out == NULL ||
	    (r = attach_file_path(a->store, id, index, ATTACH_CT_PART, ct, sizeof(ct), d)) != MLA_OK ||
	    (r = attach_file_path(a->store, id, index, ATTACH_TREE, tree, sizeof(tree), d)) != MLA_OK ||
	    (r = mla_attach_geometry(size, (uint32_t)a->seg, &n, &total)) != MLA_OK ||
	    (r = mla_attach_secret_new(at->priv.secret)) != MLA_OK ||
	    (r = mla_attach_sealer_new(at->priv.secret, id, index, (uint32_t)a->seg,
				       MLA_ATTACH_DEFAULT_MAX_BYTES, &s, d)) != MLA_OK)
		goto out;
	r = MLA_ERR_IO;
	if ((fc = open(ct, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    (ft = open(tree, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		goto out;
	for (uint64_t k = 0; k < n; k++) {
		size_t take = size - off < a->seg ? (size_t)(size - off) : (size_t)a->seg;
		for (size_t i = 0; i < take; i++)
			pt[i] = plain_byte(index, off + i);
		if ((r = mla_attach_sealer_segment(s, pt, take, k + 1 == n, out, &len, d)) != MLA_OK ||
		    (r = mla_attach_leaf(out, len, leaf)) != MLA_OK)
			goto out;
		r = MLA_ERR_IO;
		if (write_all(fc, out, len) != 0 || write_all(ft, leaf, 32) != 0)
			goto out;
		off += take;
	}
	if (fsync(fc) != 0 || close(ft) != 0)
		goto out;
	ft = -1;
	if ((r = mla_attach_sealer_finish(s, &at->pub, at->priv.plain_sha256, d)) != MLA_OK ||
	    (r = attach_tree_build(tree, n, root, d)) != MLA_OK)
		goto out;
	if (memcmp(root, at->pub.root, 32) != 0) {
		r = mla_fail(d, MLA_ERR_INTERNAL, "tree file root differs from the sealer's");
		goto out;
	}
	(void)mla_snprintf_cut(at->priv.name, sizeof(at->priv.name), "evidence-%u.bin", index);
	(void)mla_snprintf_cut(at->priv.type, sizeof(at->priv.type), "application/octet-stream");
	at->priv.plain_size = size;
	r = attach_file_complete(a->store, id, index, d);
out:
	if (fc >= 0)
		close(fc);
	if (ft >= 0)
		close(ft);
	mla_attach_sealer_free(s);
	free(pt);
	free(out);
	return r;
}

static mla_err run(const struct args *a, mla_diag *d)
{
	mla_signer *sg = NULL;
	mla_recipient *rc = NULL;
	mla_attach_list *list = NULL;
	gw_store *st = NULL;
	struct out_msg m;
	mla_limits lim;
	mla_header h;
	mla_buf env;
	mla_err r;

	mla_buf_init(&env, 0);
	mla_limits_default(&lim);
	if ((r = mla_header_init(&h)) != MLA_OK || (r = mla_attach_list_new(&list)) != MLA_OK ||
	    (r = mla_signer_load(a->sign_cert, a->sign_key, &sg, d)) != MLA_OK ||
	    (r = mla_recipient_load(a->rcpt, &rc, d)) != MLA_OK)
		goto out;
	/* a chosen id (tests of id collisions): MLAGW_ATTACH_SEAL_ID */
	if (getenv("MLAGW_ATTACH_SEAL_ID") != NULL &&
	    mla_strcpy(h.message_id, sizeof(h.message_id), getenv("MLAGW_ATTACH_SEAL_ID")) !=
		    MLA_OK) {
		r = mla_fail(d, MLA_ERR_ARG, "MLAGW_ATTACH_SEAL_ID is too long");
		goto out;
	}
	if ((r = attach_dir_make(a->store, h.message_id, d)) != MLA_OK)
		goto out;
	h.version = 3;
	memcpy(h.from_state, a->from, 3);
	memcpy(h.to_state, a->to, 3);
	(void)mla_snprintf_cut(h.kind, sizeof(h.kind), "mla");
	list->n = a->n;
	list->has_private = 1;
	for (size_t i = 0; i < a->n; i++)
		if ((r = seal_one(a, h.message_id, (unsigned)i + 1, &list->item[i], d)) != MLA_OK)
			goto out;
	if ((r = mla_envelope_seal_attached(&h, (const uint8_t *)"<Request>evidence</Request>", 27,
					    list, sg, rc, &lim, &env, d)) != MLA_OK ||
	    (r = store_open(a->store, &st, d)) != MLA_OK)
		goto out;
	memset(&m, 0, sizeof(m));
	memcpy(m.message_id, h.message_id, sizeof(m.message_id));
	memcpy(m.to_state, a->to, 3);
	(void)mla_snprintf_cut(m.kind, sizeof(m.kind), "mla");
	m.created_ms = (int64_t)time(NULL) * 1000;
	m.next_attempt_ms = m.created_ms;
	m.deadline_ms = m.created_ms + (int64_t)a->deadline_s * 1000;
	SHA256(env.data, env.len, m.digest);
	if ((r = store_outbox_put(st, &m, env.data, env.len, d)) != MLA_OK ||
	    (r = store_mark_clean(st, d)) != MLA_OK)
		goto out;
	printf("%s\n", h.message_id);
out:
	if (st != NULL)
		store_close(st);
	mla_buf_free(&env);
	mla_attach_list_free(list);
	mla_signer_free(sg);
	mla_recipient_free(rc);
	return r;
}

int main(int argc, char **argv)
{
	struct args a;
	mla_diag d = {MLA_OK, ""};

	memset(&a, 0, sizeof(a));
	if (argc < 10 || argc - 9 > (int)MLA_ATTACH_MAX)
		return usage();
	a.store = argv[1];
	a.from = argv[2];
	a.to = argv[3];
	a.sign_cert = argv[4];
	a.sign_key = argv[5];
	a.rcpt = argv[6];
	if (strlen(a.from) != 2 || strlen(a.to) != 2 ||
	    mla_parse_u64(argv[7], MLA_ATTACH_SEGMENT_MIN, MLA_ATTACH_SEGMENT_MAX, &a.seg) != MLA_OK ||
	    mla_parse_u64(argv[8], 1, 365 * 86400, &a.deadline_s) != MLA_OK)
		return usage();
	for (int i = 9; i < argc; i++)
		if (mla_parse_u64(argv[i], 0, (uint64_t)1 << 36, &a.sizes[a.n++]) != MLA_OK)
			return usage();
	if (mla_crypto_init(&d) != MLA_OK || run(&a, &d) != MLA_OK) {
		fprintf(stderr, "attach_seal: %s\n", d.msg[0] ? d.msg : "failed");
		return 1;
	}
	return 0;
}
