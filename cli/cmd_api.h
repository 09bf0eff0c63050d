/* Internal interface of the local-API commands: the parsed options (cmd_api.c) and the
 * operations (cmd_api_ops.c). */
#ifndef MLAGW_CLI_CMD_API_H
#define MLAGW_CLI_CMD_API_H

#include "api_client.h"

struct api_args {
	struct api_client c;
	const char *token_file, *config, *in, *out, *reason, *content_type;
	const char *f[16][2]; /* field option name, value */
	int nf, json, new_case, unanswered;
	const char *attach[64]; /* --attach FILE, in order (SPEC 17.14) */
	int n_attach, compress;
	const char *attachment; /* --attachment N of fetch */
	const char *cmd;
	char **rest;          /* positional arguments */
	int nrest;
};

/* The value of a field option ("to", "case-id", ...) or NULL. */
const char *api_field(const struct api_args *a, const char *name);

int api_submit(struct api_args *a);
int api_status(struct api_args *a);
int api_inbox(struct api_args *a);
int api_fetch(struct api_args *a);
int api_answer(struct api_args *a);
/* POST /api/v1/other-channel (SPEC 16.11): the digest of --in, or --sha256, is sent; never
 * the document. */
int api_other_channel(struct api_args *a);
/* cmd_api_attach.c: uploads every --attach file (resuming from what the gateway holds) and
 * sets "attachments" on req; fetch of --attachment N into --out, resuming from its size. */
int api_add_attachments(const struct api_args *a, json_t *req);
int api_fetch_attachment(struct api_args *a);
/* GET path and print the answer (health, whoami). */
int api_simple(struct api_args *a, const char *path);

#endif
