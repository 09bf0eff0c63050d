/* The HTTPS client of the local API (docs/api/openapi.yaml) used by mlagw submit, status,
 * inbox, fetch, answer and health when --gateway is given: credentials, one call, the JSON
 * answer or the API's error object turned into a message and an exit code. */
#ifndef MLAGW_CLI_API_CLIENT_H
#define MLAGW_CLI_API_CLIENT_H

#include <stdint.h>

#include <jansson.h>

#include "mlagw/buf.h"

struct api_client {
	const char *gateway; /* https://host:port */
	const char *token;   /* bearer token (or NULL) */
	const char *cert, *key; /* client certificate instead of a token */
	const char *ca;      /* the gateway's root certificate (PEM) */
	char token_buf[512]; /* token read from --token-file or MLAGW_TOKEN_FILE (wiped) */
	char config_buf[4096]; /* values read from --config */
};

/* Reads a client configuration ("key = value" lines: gateway, ca, token_file, cert, key;
 * '#' comments) for what the command line did not set. Returns a CLI exit code. */
int api_client_config(struct api_client *c, const char *cmd, const char *path,
		      const char **token_file);

/* Fills unset fields from MLAGW_GATEWAY, MLAGW_TOKEN, MLAGW_TOKEN_FILE, MLAGW_CA; reads a
 * token file. Returns a CLI exit code (CLI_OK when usable). */
int api_client_ready(struct api_client *c, const char *cmd, const char *token_file);
void api_client_wipe(struct api_client *c);

/* One call: method GET or POST, path with its query (already escaped), body JSON or NULL.
 * On 2xx *out is the parsed answer (the caller json_decref()s it) and CLI_OK is returned;
 * otherwise the API's error is printed as "mlagw CMD: <message> [code, field]" and the exit
 * code returned (1 refused, 3 cannot reach, 4 server error). */
int api_call(const struct api_client *c, const char *cmd, const char *method, const char *path,
	     json_t *body, json_t **out);

/* A request with a raw body (body NULL: none; len may be 0) and one extra header line (or
 * NULL): *status the HTTP status (0 when unreachable, already reported), *out the JSON
 * answer or error object (NULL if none; the caller's). CLI_OK for 2xx, CLI_REJECTED for
 * another status (not printed: the caller decides), CLI_IO when unreachable. */
int api_call_bytes(const struct api_client *c, const char *cmd, const char *method,
		   const char *path, const char *header, const uint8_t *body, size_t len,
		   long *status, json_t **out);

/* What a download's answer said. */
struct api_download_info {
	long status;
	char sha256[65]; /* X-Attachment-Sha256, "" if absent */
	uint64_t size;   /* X-Attachment-Size */
	uint64_t written; /* bytes written to the file by this call */
};
/* GET path streamed into fd as it arrives (with "Range: bytes=first-" when first > 0),
 * progress(done) after each piece. CLI_OK only for a whole 200/206 answer; a refusal is
 * printed (its exit code returned); a cut stream is CLI_IO (the bytes written are kept:
 * every one was authenticated, so a later call resumes after them). */
int api_download(const struct api_client *c, const char *cmd, const char *path,
		 uint64_t first, int fd, struct api_download_info *info,
		 void (*progress)(uint64_t done, void *arg), void *progress_arg);

/* Percent-encodes s for a path segment or query value (curl_easy_escape); free() it. */
char *api_escape(const char *s);

#endif
