/* mlagw bench evidence, the two-gateway steps (bench_evidence.h): the message's delivery
 * polled on A's local API, the download at B with its digest checked, and the receipt's
 * version read from A's store after the stop. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bench_evidence.h"
#include "bench_gateway.h"
#include "../cli_util.h"
#include "mlagw/buf.h"
#include "mlagw/codec.h"
#include "store/store.h"

#define POLL_MS 20
#define RECEIPT_V3 "urn:mlagw:receipt:3"

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void bev_client(const struct bgw_env *e, int i, char url[64], struct api_client *c)
{
	static char ca[2][PATH_MAX];

	memset(c, 0, sizeof(*c));
	if (mla_snprintf(url, 64, "https://127.0.0.1:%d", e->gw[i].api_port) != MLA_OK ||
	    mla_snprintf(ca[i], sizeof ca[i], "%s/pki/%s/root.crt", e->dir, e->gw[i].state) !=
		    MLA_OK)
		return; /* cannot happen: a port and a directory checked at set-up */
	c->gateway = url;
	c->token = e->gw[i].token;
	c->ca = ca[i];
}

int bev_wait_delivered(const struct api_client *a, const char *id, double timeout_s)
{
	struct timespec pause = {0, POLL_MS * 1000000L};
	char path[256];
	double t0 = now_s();

	if (mla_snprintf(path, sizeof path, "/api/v1/messages/%s", id) != MLA_OK)
		return CLI_INTERNAL;
	while (now_s() - t0 < timeout_s) {
		json_t *ans = NULL;
		const char *state;
		int rc = api_call(a, "bench evidence", "GET", path, NULL, &ans);

		if (rc != CLI_OK)
			return rc;
		state = json_string_value(json_object_get(ans, "state"));
		rc = state == NULL ? CLI_INTERNAL
		     : strcmp(state, "delivered") == 0 ? CLI_OK
		     : strcmp(state, "rejected") == 0 || strcmp(state, "failed") == 0 ? CLI_REJECTED
										      : -1;
		if (rc == CLI_REJECTED)
			fprintf(stderr, "mlagw bench evidence: the message ended %s at A, not "
				"delivered; see the gateways' logs\n", state);
		json_decref(ans);
		if (rc != -1)
			return rc;
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "mlagw bench evidence: the message was not delivered in %.0f s\n",
		timeout_s);
	return CLI_IO;
}

static int file_sha256(const char *file, char hex[65])
{
	static uint8_t buf[1 << 20];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t out[32];
	unsigned int n = 0;
	ssize_t got = 0;
	int fd = open(file, O_RDONLY | O_CLOEXEC),
	    ok = fd >= 0 && md != NULL && EVP_DigestInit_ex2(md, EVP_sha256(), NULL) == 1;

	while (ok && (got = read(fd, buf, sizeof buf)) > 0)
		ok = EVP_DigestUpdate(md, buf, (size_t)got) == 1;
	ok = ok && got == 0 && EVP_DigestFinal_ex(md, out, &n) == 1 &&
	     mla_hex_encode(out, 32, hex, 65) == MLA_OK;
	EVP_MD_CTX_free(md);
	if (fd >= 0)
		close(fd);
	return ok ? CLI_OK : CLI_IO;
}

int bev_download(const struct api_client *b, const char *id, const char *dir,
		 const char *sha256)
{
	struct api_download_info info;
	char path[256], file[PATH_MAX], hex[65];
	int fd, rc;

	memset(&info, 0, sizeof info);
	if (mla_snprintf(path, sizeof path, "/api/v1/inbox/%s/attachments/1?reason=bench", id) !=
		    MLA_OK ||
	    mla_snprintf(file, sizeof file, "%s/download-XXXXXX", dir) != MLA_OK)
		return CLI_INTERNAL;
	if ((fd = mkstemp(file)) < 0) {
		fprintf(stderr, "mlagw bench evidence: cannot create %s: %s\n", file,
			strerror(errno));
		return CLI_IO;
	}
	rc = api_download(b, "bench evidence", path, 0, fd, &info, NULL, NULL);
	if (close(fd) != 0 && rc == CLI_OK)
		rc = CLI_IO;
	if (rc == CLI_OK && (rc = file_sha256(file, hex)) == CLI_OK &&
	    (strcmp(hex, sha256) != 0 || strcmp(info.sha256, sha256) != 0)) {
		fprintf(stderr, "mlagw bench evidence: the attachment downloaded at B has SHA-256 "
			"%s (its header says %s), not the uploaded file's %s\n", hex, info.sha256,
			sha256);
		rc = CLI_REJECTED;
	}
	unlink(file);
	return rc;
}

static int contains(const uint8_t *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(p + i, s, k) == 0)
			return 1;
	return 0;
}

mla_err bev_receipt_v3(const char *store, const char *id, mla_diag *d)
{
	gw_store *s = NULL;
	mla_buf rcpt;
	mla_err r;

	mla_buf_init(&rcpt, (size_t)1 << 24);
	if ((r = store_open(store, &s, d)) == MLA_OK &&
	    (r = store_outbox_receipt_get(s, id, &rcpt, d)) == MLA_OK &&
	    !contains(rcpt.data, rcpt.len, RECEIPT_V3))
		r = mla_fail(d, MLA_ERR_UNSUPPORTED_VERSION, "A's receipt for %s is not version 3",
			     id);
	mla_buf_free(&rcpt);
	if (s != NULL)
		store_close(s);
	return r;
}
