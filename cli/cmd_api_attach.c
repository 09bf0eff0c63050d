/* The attachment side of mlagw submit and fetch (SPEC 17.14): each --attach FILE uploaded in
 * chunks that resume from what the gateway reports it holds, and --attachment N downloaded
 * as a stream that resumes from the output file's size, its SHA-256 checked at the end. A
 * progress bar goes to stderr when it is a terminal. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli_util.h"
#include "cmd_api.h"
#include "mlagw/codec.h"

#define CHUNK_DEFAULT ((size_t)8 << 20)
#define RETRIES 5

struct progress {
	const char *what;
	uint64_t total;
	int tty;
};

static void show(uint64_t done, void *arg)
{
	const struct progress *p = arg;
	int pct = p->total > 0 ? (int)(done * 100 / p->total) : 100, bars = pct / 5;

	if (!p->tty)
		return;
	fprintf(stderr, "\r%-24.24s [%.*s%*s] %3d%% %llu/%llu", p->what, bars,
		"####################", 20 - bars, "", pct, (unsigned long long)done,
		(unsigned long long)p->total);
	if (done >= p->total)
		fputc('\n', stderr);
}

/* The upload's state from the gateway: received and chunk_max. */
static int upload_state(const struct api_args *a, const char *path, uint64_t *received,
			size_t *chunk_max, int *complete)
{
	json_t *ans = NULL;
	long status = 0;
	int rc = api_call_bytes(&a->c, a->cmd, "GET", path, NULL, NULL, 0, &status, &ans);

	if (rc == CLI_OK) {
		*received = (uint64_t)json_integer_value(json_object_get(ans, "received"));
		*chunk_max = (size_t)json_integer_value(json_object_get(ans, "chunk_max"));
		*complete = json_is_true(json_object_get(ans, "complete"));
		if (*chunk_max == 0 || *chunk_max > CHUNK_DEFAULT)
			*chunk_max = CHUNK_DEFAULT;
	} else if (rc == CLI_REJECTED) {
		fprintf(stderr, "mlagw %s: the gateway answered %ld for the upload\n", a->cmd, status);
	}
	json_decref(ans);
	return rc;
}

/* One chunk [off, off + n) of fd; last: it ends the file of size total. */
static int put_chunk(const struct api_args *a, const char *path, int fd, uint8_t *buf,
		     uint64_t off, size_t n, uint64_t total, long *status)
{
	char range[96];
	json_t *ans = NULL;
	ssize_t got;
	mla_err e;
	int rc;

	if (n > 0 && ((got = pread(fd, buf, n, (off_t)off)) < 0 || (size_t)got != n))
		return CLI_IO;
	if (n == 0)
		e = mla_snprintf(range, sizeof range, "Content-Range: bytes */%llu",
				 (unsigned long long)total);
	else if (off + n == total) /* the last chunk declares the total */
		e = mla_snprintf(range, sizeof range, "Content-Range: bytes %llu-%llu/%llu",
				 (unsigned long long)off, (unsigned long long)(off + n - 1),
				 (unsigned long long)total);
	else
		e = mla_snprintf(range, sizeof range, "Content-Range: bytes %llu-%llu/*",
				 (unsigned long long)off, (unsigned long long)(off + n - 1));
	if (e != MLA_OK)
		return CLI_INTERNAL;
	rc = api_call_bytes(&a->c, a->cmd, "PUT", path, range, buf, n, status, &ans);
	if (rc == CLI_REJECTED && *status != 409)
		fprintf(stderr, "mlagw %s: upload refused (%ld): %s\n", a->cmd, *status,
			json_string_value(json_object_get(ans, "message")) ?
			json_string_value(json_object_get(ans, "message")) : "no detail");
	json_decref(ans);
	return rc;
}

/* Sends fd (total bytes) to the upload at path, going on from what the gateway holds after
 * any failure or lost answer, up to RETRIES times in a row. */
static int send_file(const struct api_args *a, const char *path, int fd, uint64_t total,
		     size_t chunk_max, struct progress *pg)
{
	uint8_t *buf = malloc(CHUNK_DEFAULT); /* chunk_max is at most that */
	uint64_t off = 0;
	int rc = CLI_OK, fails = 0, complete = 0;
	long status = 0;
	size_t n;

	if (buf == NULL)
		return CLI_INTERNAL;
	for (;;) {
		n = total - off < chunk_max ? (size_t)(total - off) : chunk_max;
		rc = put_chunk(a, path, fd, buf, off, n, total, &status);
		if (rc == CLI_OK) {
			off += n;
			fails = 0;
			show(off, pg);
			if (off == total)
				break;
			continue;
		}
		if ((rc != CLI_IO && status != 409) || ++fails > RETRIES)
			break;
		/* a lost answer, a cut link, a restart: ask what is held and go on from there */
		sleep(fails > 1 ? 2 : 0);
		if ((rc = upload_state(a, path, &off, &chunk_max, &complete)) != CLI_OK ||
		    (complete && off == total))
			break; /* complete: the last answer was lost, not the chunk */
		if (off > total) {
			fprintf(stderr, "mlagw %s: the upload holds more than the file\n", a->cmd);
			rc = CLI_REJECTED;
			break;
		}
	}
	free(buf);
	return rc;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

/* Uploads file and appends {"upload", "name", "type"} to arr. */
static int attach_one(const struct api_args *a, const char *file, json_t *arr)
{
	char path[128];
	struct progress pg = {base_name(file), 0, isatty(2)};
	json_t *ans = NULL;
	struct stat st;
	size_t chunk_max;
	long status = 0;
	int fd, rc;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "mlagw %s: cannot read %s: %s\n", a->cmd, file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return CLI_IO;
	}
	pg.total = (uint64_t)st.st_size;
	if ((rc = api_call_bytes(&a->c, a->cmd, "POST", "/api/v1/uploads", NULL, NULL, 0,
				 &status, &ans)) != CLI_OK ||
	    json_string_value(json_object_get(ans, "upload_id")) == NULL ||
	    mla_snprintf(path, sizeof path, "/api/v1/uploads/%s",
			 json_string_value(json_object_get(ans, "upload_id"))) != MLA_OK) {
		if (rc == CLI_OK || rc == CLI_REJECTED)
			fprintf(stderr, "mlagw %s: the gateway did not create an upload (%ld)\n",
				a->cmd, status);
		rc = rc == CLI_OK ? CLI_INTERNAL : rc;
		goto out;
	}
	chunk_max = (size_t)json_integer_value(json_object_get(ans, "chunk_max"));
	if (chunk_max == 0 || chunk_max > CHUNK_DEFAULT)
		chunk_max = CHUNK_DEFAULT;
	if ((rc = send_file(a, path, fd, pg.total, chunk_max, &pg)) == CLI_OK &&
	    json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b}", "upload",
						 json_string_value(json_object_get(ans,
										   "upload_id")),
						 "name", base_name(file), "type",
						 "application/octet-stream", "compress",
						 a->compress)) != 0)
		rc = CLI_INTERNAL;
out:
	json_decref(ans);
	close(fd);
	return rc;
}

int api_add_attachments(const struct api_args *a, json_t *req)
{
	json_t *arr;
	int rc = CLI_OK;

	if (a->n_attach == 0)
		return CLI_OK;
	if ((arr = json_array()) == NULL)
		return CLI_INTERNAL;
	for (int i = 0; i < a->n_attach && rc == CLI_OK; i++)
		rc = attach_one(a, a->attach[i], arr);
	if (rc == CLI_OK && json_object_set_new(req, "attachments", arr) != 0)
		return CLI_INTERNAL;
	if (rc != CLI_OK)
		json_decref(arr);
	return rc;
}

/* The SHA-256 of the file at fd as lower-case hex. */
static int file_sha256(int fd, char hex[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t buf[1 << 16], out[32];
	unsigned int n = 0;
	off_t at = 0;
	ssize_t got;
	int ok = md != NULL && EVP_DigestInit_ex2(md, EVP_sha256(), NULL) == 1;

	while (ok && (got = pread(fd, buf, sizeof buf, at)) > 0) {
		ok = EVP_DigestUpdate(md, buf, (size_t)got) == 1;
		at += got;
	}
	ok = ok && EVP_DigestFinal_ex(md, out, &n) == 1 &&
	     mla_hex_encode(out, 32, hex, 65) == MLA_OK;
	EVP_MD_CTX_free(md);
	return ok ? CLI_OK : CLI_IO;
}

int api_fetch_attachment(struct api_args *a)
{
	char path[1024], hex[65], *id = NULL, *why = NULL;
	struct api_download_info info;
	struct progress pg = {"attachment", 0, isatty(2)};
	struct stat st;
	uint64_t index = 0;
	int fd, rc;

	if (mla_parse_u64(a->attachment, 1, 64, &index) != MLA_OK)
		return cli_usage_error(a->cmd, "--attachment is an index from 1 to 64");
	id = api_escape(a->rest[0]);
	why = api_escape(a->reason);
	rc = id == NULL || why == NULL ||
	     mla_snprintf(path, sizeof path, "/api/v1/inbox/%s/attachments/%llu?reason=%s", id,
			  (unsigned long long)index, why) != MLA_OK;
	free(id);
	free(why);
	if (rc)
		return cli_usage_error(a->cmd, "the id or the reason is too long");
	/* an existing output is the start of this attachment, from an interrupted fetch */
	if ((fd = open(a->out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0 ||
	    fstat(fd, &st) != 0) {
		fprintf(stderr, "mlagw %s: cannot write %s: %s\n", a->cmd, a->out, strerror(errno));
		if (fd >= 0)
			close(fd);
		return CLI_IO;
	}
	rc = api_download(&a->c, a->cmd, path, (uint64_t)st.st_size, fd, &info, show, &pg);
	if (rc == CLI_OK && (close(fd) != 0 || (fd = open(a->out, O_RDONLY | O_CLOEXEC)) < 0))
		rc = CLI_IO;
	if (rc == CLI_OK && ((rc = file_sha256(fd, hex)) != CLI_OK || strcmp(hex, info.sha256) != 0)) {
		fprintf(stderr, "mlagw %s: %s does not match the attachment's SHA-256; remove it "
			"and fetch again\n", a->cmd, a->out);
		rc = CLI_REJECTED;
	}
	if (fd >= 0)
		close(fd);
	if (rc == CLI_REJECTED && info.status == 416 && st.st_size > 0)
		fprintf(stderr, "mlagw %s: %s already holds %llu bytes, the whole attachment or "
			"more; remove it to fetch again\n", a->cmd, a->out,
			(unsigned long long)st.st_size);
	if (rc == CLI_IO)
		fprintf(stderr, "mlagw %s: %s holds what arrived; the same command resumes\n",
			a->cmd, a->out);
	else if (rc == CLI_OK && !a->json)
		printf("fetched attachment %llu of %s (%llu bytes, sha256 %s) -> %s\n",
		       (unsigned long long)index, a->rest[0],
		       (unsigned long long)(st.st_size + (off_t)info.written), hex, a->out);
	return rc;
}
