/* mlagw bench evidence (issue 15 §6, a skeleton for one gateway): one attachment of --size
 * bytes uploaded to a running gateway through its local API and submitted to --to CC (the
 * 202 comes once it is sealed and stored), timed, beside the bound measured in the same run
 * on this machine: the slowest of AES-256-GCM and SHA-256 over 1 MiB segments on one core
 * (mla_attach_measure_speed) and fsynced sequential writes in --dir. Not yet: the transfer to
 * a second gateway and its receipt, and the gateways' peak memory. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_util.h"
#include "cmd_api.h"
#include "commands.h"
#include "mlagw/attach.h"
#include "mlagw/codec.h"

#define BOUND_BYTES ((uint64_t)64 << 20)

static const char usage[] =
	"usage: mlagw bench evidence --gateway URL (--token-file F | --cert C --key K) [--ca ROOT]\n"
	"                            --to CC --size BYTES [--dir DIR] [--json]\n"
	"Uploads one generated file of BYTES to a running gateway, submits it as an attachment\n"
	"to CC (whose [peer CC] envelope_versions lists 3) and prints MB/s of the upload and of\n"
	"the sealing, beside the bound measured now: the slowest of AES-256-GCM, SHA-256 (one\n"
	"core) and fsynced writes in DIR (default /tmp; use the gateway's disk). Figures only.\n";

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Writes bytes of a fixed pattern to a new file in dir (fsynced every 8 MiB if sync), the
 * path in path; returns the MB/s (10^6 bytes), or a negative value on failure. */
static double write_file(const char *dir, uint64_t bytes, int sync, char *path, size_t n)
{
	static uint8_t block[1 << 20];
	double t0;
	uint64_t done = 0;
	int fd;

	for (size_t i = 0; i < sizeof block; i++)
		block[i] = (uint8_t)(i * 2654435761u >> 24);
	if (mla_snprintf(path, n, "%s/mlagw-bench-evidence-XXXXXX", dir) != MLA_OK ||
	    (fd = mkstemp(path)) < 0)
		return -1;
	t0 = now_s();
	while (done < bytes) {
		size_t len = bytes - done < sizeof block ? (size_t)(bytes - done) : sizeof block;
		block[0] = (uint8_t)(done >> 20); /* no two blocks alike */
		if (write(fd, block, len) != (ssize_t)len ||
		    (sync && (done + len) % (8u << 20) == 0 && fdatasync(fd) != 0)) {
			close(fd);
			return -1;
		}
		done += len;
	}
	if ((sync && fdatasync(fd) != 0) || close(fd) != 0)
		return -1;
	return (double)bytes / 1e6 / (now_s() - t0);
}

struct ev_args {
	struct api_args a;
	const char *dir, *size;
};

static int parse(int argc, char **argv, struct ev_args *e)
{
	static const struct option opts[] = {
		{"gateway", 1, NULL, 'g'}, {"token-file", 1, NULL, 't'}, {"cert", 1, NULL, 'c'},
		{"key", 1, NULL, 'k'},	   {"ca", 1, NULL, 'a'},	 {"to", 1, NULL, 'o'},
		{"size", 1, NULL, 's'},	   {"dir", 1, NULL, 'd'},	 {"json", 0, NULL, 'j'},
		{"help", 0, NULL, 'h'},	   {NULL, 0, NULL, 0}};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'g': e->a.c.gateway = optarg; break;
		case 't': e->a.token_file = optarg; break;
		case 'c': e->a.c.cert = optarg; break;
		case 'k': e->a.c.key = optarg; break;
		case 'a': e->a.c.ca = optarg; break;
		case 'o': e->a.f[e->a.nf][0] = "to"; e->a.f[e->a.nf++][1] = optarg; break;
		case 's': e->size = optarg; break;
		case 'd': e->dir = optarg; break;
		case 'j': e->a.json = 1; break;
		case 'h': fputs(usage, stdout); return -1;
		default: return cli_usage_error("bench evidence", "unknown option or missing value");
		}
	}
	return CLI_OK;
}

struct ev_figures {
	uint64_t size;
	double upload_s, seal_s, disk_mbps;
	mla_attach_speed speed;
};

static void print(const struct ev_args *e, const struct ev_figures *f)
{
	double mb = (double)f->size / 1e6, bound = f->speed.aes_gcm_mbps;

	if (f->speed.sha256_mbps < bound)
		bound = f->speed.sha256_mbps;
	if (f->disk_mbps < bound)
		bound = f->disk_mbps;
	if (e->a.json) {
		printf("{\"size\": %llu, \"upload_mbps\": %.1f, \"seal_mbps\": %.1f, "
		       "\"end_to_end_mbps\": %.1f, \"bound_mbps\": %.1f, \"aes_gcm_mbps\": %.1f, "
		       "\"sha256_mbps\": %.1f, \"disk_mbps\": %.1f, \"ratio\": %.3f}\n",
		       (unsigned long long)f->size, mb / f->upload_s, mb / f->seal_s,
		       mb / (f->upload_s + f->seal_s), bound, f->speed.aes_gcm_mbps,
		       f->speed.sha256_mbps, f->disk_mbps, mb / f->seal_s / bound);
		return;
	}
	printf("attachment of %llu bytes\n", (unsigned long long)f->size);
	printf("  upload      %8.1f MB/s  (%.2f s)\n", mb / f->upload_s, f->upload_s);
	printf("  seal+store  %8.1f MB/s  (%.2f s)\n", mb / f->seal_s, f->seal_s);
	printf("  bound       %8.1f MB/s  (AES-256-GCM %.1f, SHA-256 %.1f, fsynced disk %.1f)\n",
	       bound, f->speed.aes_gcm_mbps, f->speed.sha256_mbps, f->disk_mbps);
	printf("  sealing at %.0f%% of the bound\n", 100.0 * mb / f->seal_s / bound);
}

/* The timed part: the upload (api_add_attachments), then the submission. */
static int run(struct ev_args *e, const char *file, struct ev_figures *f)
{
	json_t *req = json_pack("{s:s, s:s, s:b, s:s, s:s}", "to", api_field(&e->a, "to"),
				"kind", "mla", "new_case", 1, "content_type", "application/xml",
				"document_b64", "PEJlbmNoLz4="); /* <Bench/> */
	json_t *ans = NULL;
	double t0;
	int rc;

	e->a.attach[0] = file;
	e->a.n_attach = 1;
	t0 = now_s();
	if ((rc = api_add_attachments(&e->a, req)) == CLI_OK) {
		f->upload_s = now_s() - t0;
		t0 = now_s();
		rc = api_call(&e->a.c, "bench evidence", "POST", "/api/v1/messages", req, &ans);
		f->seal_s = now_s() - t0;
	}
	json_decref(ans);
	json_decref(req);
	return rc;
}

int bench_evidence(int argc, char **argv)
{
	struct ev_args e;
	struct ev_figures f;
	char disk[4096], file[4096];
	int rc;

	memset(&e, 0, sizeof(e));
	memset(&f, 0, sizeof(f));
	e.a.cmd = "bench evidence";
	if ((rc = parse(argc, argv, &e)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	if (e.size == NULL || api_field(&e.a, "to") == NULL ||
	    mla_parse_u64(e.size, 0, MLA_ATTACH_CEILING, &f.size) != MLA_OK)
		return cli_usage_error("bench evidence", "--to CC and --size BYTES are required");
	if ((rc = api_client_ready(&e.a.c, "bench evidence", e.a.token_file)) != CLI_OK)
		return rc;
	if (e.dir == NULL)
		e.dir = "/tmp";
	if (mla_attach_measure_speed(BOUND_BYTES, &f.speed) != MLA_OK ||
	    (f.disk_mbps = write_file(e.dir, BOUND_BYTES, 1, disk, sizeof disk)) < 0 ||
	    unlink(disk) != 0 || write_file(e.dir, f.size, 0, file, sizeof file) < 0) {
		fprintf(stderr, "mlagw bench evidence: cannot measure the bound or write the file "
			"in %s: %s\n", e.dir, strerror(errno));
		api_client_wipe(&e.a.c);
		return CLI_IO;
	}
	rc = run(&e, file, &f);
	unlink(file);
	if (rc == CLI_OK)
		print(&e, &f);
	api_client_wipe(&e.a.c);
	return rc;
}
