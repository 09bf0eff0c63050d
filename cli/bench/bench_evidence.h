/* mlagw bench evidence with two gateways (issue 15 §6): the steps after the upload and the
 * submission to A, which cmd_bench_evidence.c times with the local-API client: waiting for A's
 * message to be delivered (its verified receipt), the download at B, and the receipt's version
 * read back from A's store once both have stopped. Set-up and stop are bench_gateway_proc.c's
 * (struct bgw_args attach = 1). */
#ifndef MLAGW_CLI_BENCH_EVIDENCE_H
#define MLAGW_CLI_BENCH_EVIDENCE_H

#include <stdint.h>

#include "../api_client.h"
#include "mlagw/attach.h"
#include "mlagw/envelope.h"
#include "mlagw/error.h"

/* The API client of gateway i of a started environment (https://127.0.0.1:api_port in url, its
 * token, its State's root as CA, that path in a static buffer per gateway). The token points
 * into e: the client lives no longer than e. */
struct bgw_env;
void bev_client(const struct bgw_env *e, int i, char url[64], struct api_client *c);

/* Polls A's GET /api/v1/messages/ID until its state is delivered (CLI_OK), rejected or
 * failed (CLI_REJECTED, said on stderr), or timeout_s passes (CLI_IO). */
int bev_wait_delivered(const struct api_client *a, const char *id, double timeout_s);

/* Downloads attachment 1 of ID at B (reason "bench") into a new file of dir, checks its
 * SHA-256 against sha256 (hex) and removes it. A CLI exit code. */
int bev_download(const struct api_client *b, const char *id, const char *dir,
		 const char *sha256);

/* After the stop: whether A's store holds a receipt version 3 for ID (MLA_OK) or not. */
mla_err bev_receipt_v3(const char *store, const char *id, mla_diag *d);

/* What one run measured (bench_evidence_print.c prints it). */
struct bev_figures {
	uint64_t size;
	char id[MLA_UUID_LEN + 1], sha256[65];
	double upload_s, seal_s, transfer_s, download_s, disk_mbps;
	int two, downloaded;
	long cores;
	long hwm_kib[2];
	double cpu_s[2]; /* each gateway's user + system CPU seconds over the whole run */
	mla_attach_speed speed;
};

/* The figures as text or (json) one JSON object, on standard output. */
void bev_print(int json, const struct bev_figures *f);

#endif
