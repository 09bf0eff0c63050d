/* The sender's Merkle tree file (attach_files.h): built level by level with two fixed
 * buffers, read one node per level for a proof. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/attach_files.h"

#define H MLA_MERKLE_HASH_LEN
#define CHUNK_NODES 2048 /* an even count: a pair never straddles two reads */

static uint64_t level_len(uint64_t len)
{
	return len / 2 + (len & 1);
}

uint64_t attach_tree_bytes(uint64_t n)
{
	uint64_t nodes = n;

	for (uint64_t len = n; len > 1; len = level_len(len))
		nodes += level_len(len);
	return nodes * H;
}

static mla_err read_exact(int fd, void *buf, size_t len, uint64_t off, mla_diag *diag)
{
	size_t done = 0;

	while (done < len) {
		ssize_t got = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return mla_fail(diag, MLA_ERR_IO, "attachment tree: cannot read: %s",
					got == 0 ? "file too short" : strerror(errno));
		done += (size_t)got;
	}
	return MLA_OK;
}

static mla_err write_exact(int fd, const void *buf, size_t len, uint64_t off, mla_diag *diag)
{
	size_t done = 0;

	while (done < len) {
		ssize_t put = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));
		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0)
			return mla_fail(diag, MLA_ERR_IO, "attachment tree: cannot write: %s",
					strerror(errno));
		done += (size_t)put;
	}
	return MLA_OK;
}

/* Writes level i+1 (at out_off) from level i of len nodes (at in_off). */
static mla_err build_level(int fd, uint64_t in_off, uint64_t len, uint64_t out_off,
			   uint8_t (*in)[H], uint8_t (*out)[H], mla_diag *diag)
{
	for (uint64_t first = 0; first < len; first += CHUNK_NODES) {
		size_t take = len - first < CHUNK_NODES ? (size_t)(len - first) : CHUNK_NODES;
		size_t made = 0;
		mla_err r = read_exact(fd, in, take * H, in_off + first * H, diag);

		for (size_t j = 0; r == MLA_OK && j < take; j += 2, made++) {
			if (j + 1 < take)
				r = mla_merkle_node_hash(in[j], in[j + 1], out[made]);
			else
				memcpy(out[made], in[j], H); /* no right sibling: promoted */
		}
		if (r == MLA_OK)
			r = write_exact(fd, out, made * H, out_off + first / 2 * H, diag);
		if (r != MLA_OK)
			return r;
	}
	return MLA_OK;
}

mla_err attach_tree_build(const char *tree_path, uint64_t n,
			  uint8_t root[MLA_MERKLE_HASH_LEN], mla_diag *diag)
{
	uint8_t (*in)[H] = NULL, (*out)[H] = NULL;
	uint64_t off = 0, len = n;
	mla_err r = MLA_OK;
	int fd;

	if (n == 0)
		return mla_fail(diag, MLA_ERR_ARG, "attachment tree: no leaves");
	in = malloc(CHUNK_NODES * H);
	out = malloc(CHUNK_NODES / 2 * H);
	if (in == NULL || out == NULL) {
		free(in);
		free(out);
		return mla_fail(diag, MLA_ERR_NOMEM, "attachment tree: out of memory");
	}
	if ((fd = open(tree_path, O_RDWR | O_CLOEXEC)) < 0) {
		free(in);
		free(out);
		return mla_fail(diag, MLA_ERR_IO, "attachment tree: cannot open: %s",
				strerror(errno));
	}
	while (r == MLA_OK && len > 1) {
		r = build_level(fd, off, len, off + len * H, in, out, diag);
		off += len * H;
		len = level_len(len);
	}
	if (r == MLA_OK)
		r = read_exact(fd, root, H, off, diag);
	if (r == MLA_OK && (ftruncate(fd, (off_t)(off + H)) != 0 || fsync(fd) != 0))
		r = mla_fail(diag, MLA_ERR_IO, "attachment tree: cannot sync: %s", strerror(errno));
	close(fd);
	free(in);
	free(out);
	return r;
}

mla_err attach_tree_proof(int fd, uint64_t n, uint64_t k, mla_merkle_proof *proof,
			  mla_diag *diag)
{
	uint64_t off = 0, len = n;
	mla_err r;

	if (k >= n)
		return mla_fail(diag, MLA_ERR_ARG, "attachment tree: no segment %llu of %llu",
				(unsigned long long)k, (unsigned long long)n);
	proof->len = 0;
	for (; len > 1; off += len * H, len = level_len(len), k >>= 1) {
		uint64_t sib = k ^ 1;
		if (sib >= len)
			continue; /* promoted: no hash at this level */
		if (proof->len == MLA_MERKLE_PROOF_MAX)
			return mla_fail(diag, MLA_ERR_ARG, "attachment tree: proof too long");
		if ((r = read_exact(fd, proof->hash[proof->len], H, off + sib * H, diag)) != MLA_OK)
			return r;
		proof->len++;
	}
	return MLA_OK;
}
