/* Attachments' segments and Merkle proofs (protocol/attach/, SPEC 17): sizes around segment
 * boundaries round trip; truncated, dropped, reordered, duplicated, altered segments and
 * segments moved from another attachment or another message fail; the root and every
 * inclusion proof of several tree sizes verify, tampered ones do not; the list's checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/sha.h>

#include "mlagw/attach.h"
#include "mlagw/codec.h"

#define SEG MLA_ATTACH_SEGMENT_MIN
static const char MSG1[] = "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f";
static const char MSG2[] = "0b0e4f5e-3d5c-4c2a-9a7e-1f2d3c4b5a69";

/* A sealed attachment held in memory for the tests: its segments one after another. */
struct sealed {
	mla_attach_entry e;
	uint8_t secret[MLA_ATTACH_SECRET_LEN];
	uint8_t plain_sha[32];
	uint8_t *ct;
	size_t ct_len;
	uint8_t *pt;
	size_t pt_len;
};

static void set(char *dst, size_t n, const char *v)
{
	assert_int_equal(mla_snprintf(dst, n, "%s", v), MLA_OK);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31u + seed * 7u + (i >> 8));
}

static void seal_bytes(struct sealed *s, const char *msg, uint32_t index, size_t plain,
		       uint32_t seg, unsigned seed)
{
	mla_attach_sealer *sl = NULL;
	mla_diag d = {MLA_OK, ""};
	uint64_t n, ct_size;
	size_t off = 0, out = 0, len;

	memset(s, 0, sizeof(*s));
	assert_int_equal(mla_attach_secret_new(s->secret), MLA_OK);
	assert_int_equal(mla_attach_geometry(plain, seg, &n, &ct_size), MLA_OK);
	s->pt = malloc(plain + 1);
	s->ct = malloc(ct_size);
	s->pt_len = plain;
	s->ct_len = ct_size;
	assert_non_null(s->pt);
	assert_non_null(s->ct);
	fill(s->pt, plain, seed);
	assert_int_equal(mla_attach_sealer_new(s->secret, msg, index, seg,
					       MLA_ATTACH_DEFAULT_MAX_BYTES, &sl, &d), MLA_OK);
	for (uint64_t k = 0; k < n; k++) {
		size_t take = plain - off < seg ? plain - off : seg;
		assert_int_equal(mla_attach_sealer_segment(sl, s->pt + off, take, k + 1 == n,
							   s->ct + out, &len, &d), MLA_OK);
		off += take;
		out += len;
	}
	assert_int_equal(out, ct_size);
	assert_int_equal(mla_attach_sealer_finish(sl, &s->e, s->plain_sha, &d), MLA_OK);
	mla_attach_sealer_free(sl);
	assert_int_equal(s->e.size, ct_size);
	assert_int_equal(s->e.segments, n);
	assert_int_equal(mla_attach_entry_check(&s->e, MLA_ATTACH_DEFAULT_MAX_BYTES, &d), MLA_OK);
}

static void sealed_free(struct sealed *s)
{
	free(s->ct);
	free(s->pt);
}

static const uint8_t *segment(const struct sealed *s, uint64_t k, size_t *len)
{
	*len = (size_t)mla_attach_segment_ct_len(&s->e, k);
	return s->ct + k * ((size_t)s->e.segment_size + MLA_ATTACH_TAG_LEN);
}

/* Reads the segments in the order given (k[i] is the segment given i-th) through _next and
 * _finish: MLA_OK when all decrypt and the end checks, else the first error. */
static mla_err read_order(const struct sealed *s, const char *msg, const uint64_t *order,
			  size_t count, const uint8_t *secret)
{
	mla_attach_opener *o = NULL;
	mla_diag d = {MLA_OK, ""};
	uint8_t *pt = malloc(s->e.segment_size);
	size_t len, pl, off = 0;
	mla_err r;

	assert_non_null(pt);
	assert_int_equal(mla_attach_opener_new(&s->e, secret != NULL ? secret : s->secret, msg,
					       &o, &d), MLA_OK);
	r = MLA_OK;
	for (size_t i = 0; i < count && r == MLA_OK; i++) {
		const uint8_t *c = segment(s, order[i], &len);
		if ((r = mla_attach_opener_next(o, c, len, pt, &pl, &d)) == MLA_OK) {
			assert_true(off + pl <= s->pt_len);
			assert_memory_equal(pt, s->pt + off, pl);
			off += pl;
		}
	}
	if (r == MLA_OK)
		r = mla_attach_opener_finish(o, &d);
	if (r == MLA_OK)
		assert_int_equal(off, s->pt_len);
	mla_attach_opener_free(o);
	free(pt);
	return r;
}

static mla_err read_all(const struct sealed *s)
{
	uint64_t *order = calloc(s->e.segments, sizeof(*order));
	mla_err r;

	for (uint64_t k = 0; k < s->e.segments; k++)
		order[k] = k;
	r = read_order(s, MSG1, order, (size_t)s->e.segments, NULL);
	free(order);
	return r;
}

static void test_sizes_round_trip(void **state)
{
	const size_t sizes[] = {0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG - 1, 2 * SEG, 2 * SEG + 1,
				7 * SEG + 123};
	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct sealed s;
		uint8_t sha[32];
		seal_bytes(&s, MSG1, 1, sizes[i], SEG, (unsigned)i);
		assert_int_equal(s.e.segments, sizes[i] == 0 ? 1 : (sizes[i] + SEG - 1) / SEG);
		assert_int_equal(mla_attach_plain_size(&s.e), sizes[i]);
		SHA256(s.pt, sizes[i], sha);
		assert_memory_equal(sha, s.plain_sha, 32);
		assert_int_equal(read_all(&s), MLA_OK);
		sealed_free(&s);
	}
}

/* The empty attachment is one segment: its tag alone. */
static void test_empty_is_one_tag(void **state)
{
	struct sealed s;

	(void)state;
	seal_bytes(&s, MSG1, 3, 0, SEG, 1);
	assert_int_equal(s.e.segments, 1);
	assert_int_equal(s.e.size, MLA_ATTACH_TAG_LEN);
	assert_int_equal(read_all(&s), MLA_OK);
	sealed_free(&s);
}

static void test_many_segments_default_size(void **state)
{
	struct sealed s;

	(void)state;
	seal_bytes(&s, MSG1, 1, 5 * MLA_ATTACH_SEGMENT_DEFAULT + 17, MLA_ATTACH_SEGMENT_DEFAULT, 4);
	assert_int_equal(s.e.segments, 6);
	assert_int_equal(read_all(&s), MLA_OK);
	sealed_free(&s);
}

static void test_stream_attacks(void **state)
{
	static const uint64_t truncated[] = {0, 1, 2};
	static const uint64_t dropped[] = {0, 2, 3};
	static const uint64_t reordered[] = {0, 2, 1, 3};
	static const uint64_t duplicated[] = {0, 1, 1, 3};
	static const uint64_t extra[] = {0, 1, 2, 3, 3};
	struct sealed s;

	(void)state;
	seal_bytes(&s, MSG1, 1, 3 * SEG + 100, SEG, 9);
	assert_int_equal(s.e.segments, 4);
	/* truncation: the stream ends early */
	assert_int_equal(read_order(&s, MSG1, truncated, 3, NULL), MLA_ERR_DECRYPT);
	assert_int_equal(read_order(&s, MSG1, dropped, 3, NULL), MLA_ERR_DECRYPT);
	assert_int_equal(read_order(&s, MSG1, reordered, 4, NULL), MLA_ERR_DECRYPT);
	assert_int_equal(read_order(&s, MSG1, duplicated, 4, NULL), MLA_ERR_DECRYPT);
	assert_int_equal(read_order(&s, MSG1, extra, 5, NULL), MLA_ERR_DECRYPT);
	/* altered: one bit of the second segment, then of the last tag */
	s.ct[SEG + 16 + 5] ^= 1;
	assert_int_equal(read_all(&s), MLA_ERR_DECRYPT);
	s.ct[SEG + 16 + 5] ^= 1;
	s.ct[s.ct_len - 1] ^= 0x80;
	assert_int_equal(read_all(&s), MLA_ERR_DECRYPT);
	s.ct[s.ct_len - 1] ^= 0x80;
	assert_int_equal(read_all(&s), MLA_OK);
	sealed_free(&s);
}

/* A full segment presented as the last one (a stream cut at a segment boundary and the
 * count lowered in a forged list) fails: the last-segment flag is in the nonce. */
static void test_boundary_truncation(void **state)
{
	mla_attach_opener *o = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_attach_entry cut;
	struct sealed s;
	uint8_t *pt = malloc(SEG);
	size_t pl;

	(void)state;
	seal_bytes(&s, MSG1, 1, 2 * SEG, SEG, 2);
	cut = s.e;
	cut.segments = 1;
	cut.size = SEG + MLA_ATTACH_TAG_LEN;
	assert_int_equal(mla_attach_opener_new(&cut, s.secret, MSG1, &o, &d), MLA_OK);
	assert_int_equal(mla_attach_opener_segment(o, 0, s.ct, SEG + 16, pt, &pl, &d),
			 MLA_ERR_DECRYPT);
	mla_attach_opener_free(o);
	free(pt);
	sealed_free(&s);
}

/* The same bytes under another index or message id, even with the same secret, and a
 * segment of another attachment at the same position: none authenticates. */
static void test_moved_segments(void **state)
{
	static const uint64_t order[] = {0, 1, 2};
	struct sealed a, b, c;
	mla_attach_opener *o = NULL;
	mla_diag d = {MLA_OK, ""};
	uint8_t *pt = malloc(SEG);
	const uint8_t *seg;
	size_t len, pl;

	(void)state;
	seal_bytes(&a, MSG1, 1, 2 * SEG + 5, SEG, 1);
	seal_bytes(&b, MSG1, 2, 2 * SEG + 5, SEG, 1);
	seal_bytes(&c, MSG2, 1, 2 * SEG + 5, SEG, 1);
	/* from another attachment of the same message: b's segment 1 where a's belongs */
	assert_int_equal(mla_attach_opener_new(&a.e, a.secret, MSG1, &o, &d), MLA_OK);
	seg = segment(&b, 1, &len);
	assert_int_equal(mla_attach_opener_segment(o, 1, seg, len, pt, &pl, &d), MLA_ERR_DECRYPT);
	/* from another message */
	seg = segment(&c, 1, &len);
	assert_int_equal(mla_attach_opener_segment(o, 1, seg, len, pt, &pl, &d), MLA_ERR_DECRYPT);
	seg = segment(&a, 1, &len);
	assert_int_equal(mla_attach_opener_segment(o, 1, seg, len, pt, &pl, &d), MLA_OK);
	mla_attach_opener_free(o);
	/* the right secret bound to another index or message id does not open it either */
	b.e = a.e;
	b.e.index = 2;
	assert_int_equal(read_order(&b, MSG1, order, 3, a.secret), MLA_ERR_DECRYPT);
	assert_int_equal(read_order(&a, MSG2, order, 3, a.secret), MLA_ERR_DECRYPT);
	free(pt);
	sealed_free(&a);
	sealed_free(&b);
	sealed_free(&c);
}

/* Every segment decrypts, but the list's root is not theirs: the stream's end says so. */
static void test_wrong_root(void **state)
{
	struct sealed s;

	(void)state;
	seal_bytes(&s, MSG1, 1, 3 * SEG, SEG, 5);
	s.e.root[0] ^= 1;
	assert_int_equal(read_all(&s), MLA_ERR_SIG_INVALID);
	sealed_free(&s);
}

/* The keyless check of a whole ciphertext: complete and unaltered passes; a short stream,
 * an extra, an altered or a reordered segment, a wrong length fail. */
static mla_err check_keyless(const struct sealed *s, const uint64_t *order, size_t count)
{
	mla_attach_checker *c = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_err r = MLA_OK;
	size_t len;

	assert_int_equal(mla_attach_checker_new(&s->e, &c, &d), MLA_OK);
	for (size_t i = 0; i < count && r == MLA_OK; i++) {
		const uint8_t *seg = segment(s, order[i], &len);
		r = mla_attach_checker_next(c, seg, len, &d);
	}
	if (r == MLA_OK)
		r = mla_attach_checker_finish(c, &d);
	mla_attach_checker_free(c);
	return r;
}

static void test_keyless_check(void **state)
{
	static const uint64_t all[] = {0, 1, 2}, shorter[] = {0, 1}, swapped[] = {1, 0, 2};
	static const uint64_t extra[] = {0, 1, 2, 2};
	struct sealed s;

	(void)state;
	seal_bytes(&s, MSG1, 1, 2 * SEG + 7, SEG, 3);
	assert_int_equal(check_keyless(&s, all, 3), MLA_OK);
	assert_int_equal(check_keyless(&s, shorter, 2), MLA_ERR_SIG_INVALID);
	assert_int_equal(check_keyless(&s, extra, 4), MLA_ERR_SIG_INVALID);
	assert_int_equal(check_keyless(&s, swapped, 3), MLA_ERR_SIG_INVALID);
	s.ct[3] ^= 4;
	assert_int_equal(check_keyless(&s, all, 3), MLA_ERR_SIG_INVALID);
	sealed_free(&s);
}

/* Every index of trees of several sizes, from real segments; a tampered proof, segment,
 * index or root fails; the bytes of a proof round trip and have the exact length. */
static void test_inclusion_proofs(void **state)
{
	const size_t trees[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17};
	mla_diag d = {MLA_OK, ""};

	(void)state;
	for (size_t t = 0; t < sizeof(trees) / sizeof(trees[0]); t++) {
		struct sealed s;
		uint8_t (*leaves)[32];
		size_t n = trees[t], len;

		seal_bytes(&s, MSG1, 1, (n - 1) * SEG + 10, SEG, (unsigned)n);
		assert_int_equal(s.e.segments, n);
		leaves = calloc(n, 32);
		for (size_t k = 0; k < n; k++) {
			const uint8_t *c = segment(&s, k, &len);
			assert_int_equal(mla_attach_leaf(c, len, leaves[k]), MLA_OK);
		}
		for (size_t k = 0; k < n; k++) {
			mla_merkle_proof p, q;
			uint8_t bytes[MLA_MERKLE_PROOF_MAX * 32];
			const uint8_t *c = segment(&s, k, &len);
			size_t bl;
			assert_int_equal(mla_attach_proof(MLA_MERKLE_LEAVES(leaves), n, k, &p), MLA_OK);
			assert_int_equal(p.len, mla_attach_proof_len(k, n));
			assert_int_equal(mla_attach_proof_verify(&s.e, k, c, len, &p, &d), MLA_OK);
			bl = mla_attach_proof_encode(&p, bytes);
			assert_int_equal(mla_attach_proof_decode(bytes, bl, k, n, &q, &d), MLA_OK);
			assert_int_equal(mla_attach_proof_verify(&s.e, k, c, len, &q, &d), MLA_OK);
			if (bl > 0) {
				assert_int_equal(mla_attach_proof_decode(bytes, bl - 32, k, n, &q, &d),
						 MLA_ERR_HEADER);
				q = p;
				q.hash[p.len - 1][3] ^= 1;
				assert_int_equal(mla_attach_proof_verify(&s.e, k, c, len, &q, &d),
						 MLA_ERR_SIG_INVALID);
			}
			assert_int_equal(mla_attach_proof_decode(bytes, bl + 32, k, n, &q, &d),
					 MLA_ERR_HEADER);
			/* the segment at another index, or altered */
			if (n > 1 && k + 1 < n)
				assert_int_equal(mla_attach_proof_verify(&s.e, (k + 1) % n, c, len, &p,
									 &d), MLA_ERR_SIG_INVALID);
			s.ct[(size_t)(c - s.ct)] ^= 1;
			assert_int_equal(mla_attach_proof_verify(&s.e, k, c, len, &p, &d),
					 MLA_ERR_SIG_INVALID);
			s.ct[(size_t)(c - s.ct)] ^= 1;
			s.e.root[31] ^= 1;
			assert_int_equal(mla_attach_proof_verify(&s.e, k, c, len, &p, &d),
					 MLA_ERR_SIG_INVALID);
			s.e.root[31] ^= 1;
		}
		free(leaves);
		sealed_free(&s);
	}
}

/* Proof lengths at the edges: powers of two, one past, and sizes near 2^64. */
static void test_proof_len(void **state)
{
	(void)state;
	assert_int_equal(mla_attach_proof_len(0, 1), 0);
	assert_int_equal(mla_attach_proof_len(0, 2), 1);
	assert_int_equal(mla_attach_proof_len(4, 5), 1);
	assert_int_equal(mla_attach_proof_len(3, 5), 3);
	assert_int_equal(mla_attach_proof_len(65535, 65536), 16);
	assert_int_equal(mla_attach_proof_len(65536, 65537), 1);
	assert_int_equal(mla_attach_proof_len(0, UINT64_MAX), 64);
	assert_int_equal(mla_attach_proof_len(UINT64_MAX - 1, UINT64_MAX), 63);
}

static void test_sealer_refusals(void **state)
{
	mla_attach_sealer *sl = NULL;
	mla_diag d = {MLA_OK, ""};
	uint8_t secret[32] = {1}, *pt = calloc(1, SEG + 1), *ct = malloc(SEG + 32);
	size_t len;

	(void)state;
	assert_int_equal(mla_attach_sealer_new(secret, MSG1, 1, SEG + 1, 1 << 30, &sl, &d),
			 MLA_ERR_ARG);
	assert_int_equal(mla_attach_sealer_new(secret, MSG1, 0, SEG, 1 << 30, &sl, &d),
			 MLA_ERR_ARG);
	assert_int_equal(mla_attach_sealer_new(secret, "short", 1, SEG, 1 << 30, &sl, &d),
			 MLA_ERR_ARG);
	assert_int_equal(mla_attach_sealer_new(secret, MSG1, 1, SEG, SEG + 10, &sl, &d), MLA_OK);
	/* a short segment that is not the last */
	assert_int_equal(mla_attach_sealer_segment(sl, pt, SEG - 1, 0, ct, &len, &d), MLA_ERR_ARG);
	assert_int_equal(mla_attach_sealer_segment(sl, pt, SEG, 0, ct, &len, &d), MLA_OK);
	/* an empty last segment after others */
	assert_int_equal(mla_attach_sealer_segment(sl, pt, 0, 1, ct, &len, &d), MLA_ERR_ARG);
	/* beyond the limit */
	assert_int_equal(mla_attach_sealer_segment(sl, pt, 11, 1, ct, &len, &d),
			 MLA_ERR_TOO_LARGE);
	assert_non_null(strstr(d.msg, "limit"));
	assert_int_equal(mla_attach_sealer_segment(sl, pt, 10, 1, ct, &len, &d), MLA_OK);
	assert_int_equal(mla_attach_sealer_segment(sl, pt, 10, 1, ct, &len, &d), MLA_ERR_ARG);
	mla_attach_sealer_free(sl);
	free(pt);
	free(ct);
}

static void entry(mla_attach_entry *e, uint32_t index, uint64_t plain, uint32_t seg)
{
	memset(e, 0, sizeof(*e));
	e->index = index;
	e->segment_size = seg;
	assert_int_equal(mla_attach_geometry(plain, seg, &e->segments, &e->size), MLA_OK);
}

static void test_entry_checks(void **state)
{
	mla_diag d = {MLA_OK, ""};
	mla_attach_entry e;

	(void)state;
	entry(&e, 1, (uint64_t)64 << 30, MLA_ATTACH_SEGMENT_DEFAULT);
	assert_int_equal(e.segments, 65536);
	assert_int_equal(mla_attach_entry_check(&e, MLA_ATTACH_DEFAULT_MAX_BYTES, &d), MLA_OK);
	assert_int_equal(mla_attach_entry_check(&e, MLA_ATTACH_DEFAULT_MAX_BYTES - 1, &d),
			 MLA_ERR_TOO_LARGE);
	e.segments++; /* count vs size and segment size */
	assert_int_equal(mla_attach_entry_check(&e, MLA_ATTACH_DEFAULT_MAX_BYTES, &d),
			 MLA_ERR_HEADER);
	entry(&e, 1, 2 * SEG, SEG);
	e.size += 1; /* one byte more than two full segments hold */
	assert_int_equal(mla_attach_entry_check(&e, MLA_ATTACH_DEFAULT_MAX_BYTES, &d),
			 MLA_ERR_HEADER);
	entry(&e, 1, 0, SEG);
	e.segments = 0;
	e.size = 0;
	assert_int_equal(mla_attach_entry_check(&e, 1 << 20, &d), MLA_ERR_HEADER);
	entry(&e, 1, 5, SEG);
	e.segment_size = 3 * SEG; /* not a power of two */
	assert_int_equal(mla_attach_entry_check(&e, 1 << 20, &d), MLA_ERR_HEADER);
	e.segment_size = SEG / 2;
	assert_int_equal(mla_attach_entry_check(&e, 1 << 20, &d), MLA_ERR_HEADER);
	entry(&e, 1, 5, SEG);
	e.size = 5; /* less than its tags */
	assert_int_equal(mla_attach_entry_check(&e, 1 << 20, &d), MLA_ERR_HEADER);
	e.size = UINT64_MAX;
	e.segments = UINT64_MAX;
	assert_int_equal(mla_attach_entry_check(&e, UINT64_MAX, &d), MLA_ERR_HEADER);
}

static void test_list_checks(void **state)
{
	mla_attach_list *l = NULL;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	assert_int_equal(mla_attach_list_new(&l), MLA_OK);
	assert_int_equal(mla_attach_list_check(l, 1 << 20, &d), MLA_ERR_HEADER);
	l->n = 3;
	for (uint32_t i = 0; i < 3; i++)
		entry(&l->item[i].pub, i + 1, 100 * i, SEG);
	assert_int_equal(mla_attach_list_check(l, 1 << 20, &d), MLA_OK);
	l->item[2].pub.index = 2;
	assert_int_equal(mla_attach_list_check(l, 1 << 20, &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "twice"));
	l->item[2].pub.index = 4;
	assert_int_equal(mla_attach_list_check(l, 1 << 20, &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "in order"));
	l->item[2].pub.index = 3;
	l->has_private = 1;
	for (size_t i = 0; i < 3; i++) {
		set(l->item[i].priv.name, sizeof(l->item[i].priv.name), "statement.pdf");
		set(l->item[i].priv.type, sizeof(l->item[i].priv.type), "application/pdf");
		l->item[i].priv.plain_size = 100 * i;
	}
	assert_int_equal(mla_attach_list_check(l, 1 << 20, &d), MLA_OK);
	l->item[1].priv.plain_size = 99;
	assert_int_equal(mla_attach_list_check(l, 1 << 20, &d), MLA_ERR_HEADER);
	l->item[1].priv.gzip = 1; /* compressed: the file's size is its own */
	assert_int_equal(mla_attach_list_check(l, 1 << 20, &d), MLA_OK);
	/* ... within what deflate gives from 100 bytes, and the limit of a file */
	l->item[1].priv.plain_size = 1032 * 100 + 1031;
	assert_int_equal(mla_attach_list_check(l, 1 << 20, &d), MLA_OK);
	l->item[1].priv.plain_size = 1032 * 101;
	assert_int_equal(mla_attach_list_check(l, 1 << 20, &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "cannot inflate"));
	l->item[1].priv.plain_size = 1032 * 100;
	assert_int_equal(mla_attach_list_check(l, 1000, &d), MLA_ERR_TOO_LARGE);
	l->item[1].priv.plain_size = 99;
	set(l->item[0].priv.name, sizeof(l->item[0].priv.name), "../etc/passwd");
	assert_int_equal(mla_attach_list_check(l, 1 << 20, &d), MLA_ERR_HEADER);
	set(l->item[0].priv.name, sizeof(l->item[0].priv.name), "a");
	set(l->item[0].priv.type, sizeof(l->item[0].priv.type), "application");
	assert_int_equal(mla_attach_list_check(l, 1 << 20, &d), MLA_ERR_HEADER);
	l->n = MLA_ATTACH_MAX + 1;
	assert_int_equal(mla_attach_list_check(l, 1 << 20, &d), MLA_ERR_HEADER);
	mla_attach_list_free(l);
	assert_true(mla_attach_name_ok("Ext\xc3\xa9rieur 2026.mp4"));
	assert_false(mla_attach_name_ok(".."));
	assert_false(mla_attach_name_ok("a\\b"));
	assert_false(mla_attach_name_ok("a\nb"));
	assert_false(mla_attach_name_ok(""));
	assert_true(mla_attach_type_ok("video/mp4"));
	assert_true(mla_attach_type_ok("application/vnd.ms-excel"));
	assert_false(mla_attach_type_ok("video/"));
	assert_false(mla_attach_type_ok("video/mp4; x=1"));
}

/* HKDF's output depends on each input, and is stable (a vector for other implementations). */
static void test_derive(void **state)
{
	uint8_t secret[32], k1[32], k2[32], p1[7], p2[7];

	(void)state;
	for (int i = 0; i < 32; i++)
		secret[i] = (uint8_t)i;
	assert_int_equal(mla_attach_derive(secret, MSG1, 1, k1, p1), MLA_OK);
	assert_int_equal(mla_attach_derive(secret, MSG1, 1, k2, p2), MLA_OK);
	assert_memory_equal(k1, k2, 32);
	assert_memory_equal(p1, p2, 7);
	assert_int_equal(mla_attach_derive(secret, MSG1, 2, k2, p2), MLA_OK);
	assert_memory_not_equal(k1, k2, 32);
	assert_int_equal(mla_attach_derive(secret, MSG2, 1, k2, p2), MLA_OK);
	assert_memory_not_equal(k1, k2, 32);
	secret[0] ^= 1;
	assert_int_equal(mla_attach_derive(secret, MSG1, 1, k2, p2), MLA_OK);
	assert_memory_not_equal(k1, k2, 32);
}

static void unhex(const char *h, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(h), 2 * n);
	assert_int_equal(mla_hex_decode(h, 2 * n, out, n, NULL), MLA_OK);
}

#define SPEC_CT "9f95b5e295b8a95b231d55729d3eaf7e2f5864"
#define SPEC_ROOT "14aea07aecd467fafcd9fce1ebc5445d585ed8e1fa510dc882d8785ee0b2be65"

static void spec_secret(uint8_t secret[32])
{
	for (int i = 0; i < 32; i++)
		secret[i] = (uint8_t)i;
}

/* The sealer of SPEC 17.12's vector (attachment 1 of MSG1, secret 0, 1, ..., 31) after its
 * one segment "abc", whose ciphertext is checked; keep_plain 0: it keeps no plaintext digest
 * (mla_attach_sealer_no_plain_digest). The caller frees it. */
static mla_attach_sealer *spec_sealed_abc(int keep_plain)
{
	uint8_t secret[32], ct[19], want_ct[19];
	mla_attach_sealer *sl = NULL;
	mla_diag d = {MLA_OK, ""};
	size_t len;

	spec_secret(secret);
	unhex(SPEC_CT, want_ct, 19);
	assert_int_equal(mla_attach_sealer_new(secret, MSG1, 1, MLA_ATTACH_SEGMENT_DEFAULT,
					       MLA_ATTACH_DEFAULT_MAX_BYTES, &sl, &d), MLA_OK);
	if (!keep_plain)
		mla_attach_sealer_no_plain_digest(sl);
	assert_int_equal(mla_attach_sealer_segment(sl, (const uint8_t *)"abc", 3, 1, ct, &len, &d),
			 MLA_OK);
	assert_int_equal(len, 19);
	assert_memory_equal(ct, want_ct, 19);
	return sl;
}

/* The test vector of SPEC 17.12, computed independently (Python's hmac and the cryptography
 * package's AES-GCM): key, nonce prefix, the sealed segment "abc" and its root. */
static void test_spec_vector(void **state)
{
	uint8_t secret[32], key[32], prefix[7], want_key[32], want_prefix[7], want_root[32];
	uint8_t sha[32];
	mla_attach_sealer *sl;
	mla_diag d = {MLA_OK, ""};
	mla_attach_entry e;

	(void)state;
	spec_secret(secret);
	unhex("d3dbb9404c36c1e24706ae06c6a5e8d333524faab3c41b14e1d2bf669a07d589", want_key, 32);
	unhex("0d59a4eec93e2d", want_prefix, 7);
	unhex(SPEC_ROOT, want_root, 32);
	assert_int_equal(mla_attach_derive(secret, MSG1, 1, key, prefix), MLA_OK);
	assert_memory_equal(key, want_key, 32);
	assert_memory_equal(prefix, want_prefix, 7);
	sl = spec_sealed_abc(1);
	assert_int_equal(mla_attach_sealer_finish(sl, &e, sha, &d), MLA_OK);
	assert_memory_equal(e.root, want_root, 32);
	assert_int_equal(e.size, 19);
	mla_attach_sealer_free(sl);
}

static void test_speed(void **state)
{
	mla_attach_speed sp;

	(void)state;
	assert_int_equal(mla_attach_measure_speed(4 << 20, &sp), MLA_OK);
	assert_true(sp.aes_gcm_mbps > 0);
	assert_true(sp.sha256_mbps > 0);
}

/* A sealer told to keep no plaintext digest seals the same segment and root (the spec
 * vector), and refuses to give a digest it did not keep. */
static void test_sealer_without_plain_digest(void **state)
{
	uint8_t want_root[32], sha[32];
	mla_attach_sealer *sl = spec_sealed_abc(0);
	mla_diag d = {MLA_OK, ""};
	mla_attach_entry e;

	(void)state;
	unhex(SPEC_ROOT, want_root, 32);
	assert_int_equal(mla_attach_sealer_finish(sl, &e, sha, &d), MLA_ERR_ARG);
	assert_non_null(strstr(d.msg, "plaintext digest was not kept"));
	assert_int_equal(mla_attach_sealer_finish(sl, &e, NULL, &d), MLA_OK);
	assert_memory_equal(e.root, want_root, 32);
	assert_int_equal(e.size, 19);
	mla_attach_sealer_free(sl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_round_trip),
		cmocka_unit_test(test_empty_is_one_tag),
		cmocka_unit_test(test_many_segments_default_size),
		cmocka_unit_test(test_stream_attacks),
		cmocka_unit_test(test_boundary_truncation),
		cmocka_unit_test(test_moved_segments),
		cmocka_unit_test(test_wrong_root),
		cmocka_unit_test(test_inclusion_proofs),
		cmocka_unit_test(test_keyless_check),
		cmocka_unit_test(test_proof_len),
		cmocka_unit_test(test_sealer_refusals),
		cmocka_unit_test(test_entry_checks),
		cmocka_unit_test(test_list_checks),
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_spec_vector),
		cmocka_unit_test(test_speed),
		cmocka_unit_test(test_sealer_without_plain_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
