/* The local API's HTTPS client (see api_client.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "mlagw/codec.h"
#include "api_client.h"
#include "cli_util.h"
#include "mlagw/privkey.h"

#define MAX_ANSWER ((size_t)64 << 20)

static int read_token(struct api_client *c, const char *cmd, const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "mlagw %s: cannot read the token file %s\n", cmd, path);
		return CLI_IO;
	}
	setvbuf(f, NULL, _IONBF, 0);
	n = fread(c->token_buf, 1, sizeof(c->token_buf) - 1, f);
	fclose(f);
	while (n > 0 && (c->token_buf[n - 1] == '\n' || c->token_buf[n - 1] == '\r'))
		n--;
	c->token_buf[n] = '\0';
	c->token = c->token_buf;
	return n > 0 ? CLI_OK : cli_usage_error(cmd, "the token file %s is empty", path);
}

/* Copies v into dst (a field of the client's file buffer) unless set on the command line. */
static void from_file(const char **dst, char *v)
{
	if (*dst == NULL)
		*dst = v;
}

/* One "key = value" line of the client configuration; 0 on success. */
static int config_line(struct api_client *c, char *line, const char **token_file)
{
	char *eq = strchr(line, '='), *k = line, *v, *end;

	if (eq == NULL)
		return -1;
	*eq = '\0';
	v = eq + 1;
	for (end = eq; end > k && (end[-1] == ' ' || end[-1] == '\t'); end--)
		end[-1] = '\0';
	v += strspn(v, " \t");
	for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t'); end--)
		end[-1] = '\0';
	if (*v == '\0')
		return -1;
	if (strcmp(k, "gateway") == 0)
		from_file(&c->gateway, v);
	else if (strcmp(k, "ca") == 0)
		from_file(&c->ca, v);
	else if (strcmp(k, "token_file") == 0)
		from_file(token_file, v);
	else if (strcmp(k, "cert") == 0)
		from_file(&c->cert, v);
	else if (strcmp(k, "key") == 0)
		from_file(&c->key, v);
	else
		return -1;
	return 0;
}

int api_client_config(struct api_client *c, const char *cmd, const char *path,
		      const char **token_file)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t used = 0;
	unsigned n = 0;

	if (f == NULL) {
		fprintf(stderr, "mlagw %s: cannot read %s\n", cmd, path);
		return CLI_IO;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strcspn(line, "\r\n");
		n++;
		line[len] = '\0';
		if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
			continue;
		/* the values live in the client's buffer for the rest of the command */
		if (used + len + 1 > sizeof(c->config_buf) ||
		    config_line(c, memcpy(c->config_buf + used, line, len + 1), token_file) != 0) {
			fclose(f);
			fprintf(stderr, "mlagw %s: %s:%u: expected gateway, ca, token_file, cert or "
					"key = VALUE\n", cmd, path, n);
			return CLI_USAGE;
		}
		used += len + 1;
	}
	fclose(f);
	return CLI_OK;
}

int api_client_ready(struct api_client *c, const char *cmd, const char *token_file)
{
	if (c->gateway == NULL)
		c->gateway = getenv("MLAGW_GATEWAY");
	if (c->ca == NULL)
		c->ca = getenv("MLAGW_CA");
	if (token_file == NULL && c->token == NULL && c->cert == NULL)
		token_file = getenv("MLAGW_TOKEN_FILE");
	if (token_file != NULL)
		return read_token(c, cmd, token_file);
	if (c->token == NULL && c->cert == NULL)
		c->token = getenv("MLAGW_TOKEN");
	if (c->gateway == NULL || strncmp(c->gateway, "https://", 8) != 0)
		return cli_usage_error(cmd, "--gateway https://HOST:PORT is required");
	if (c->token == NULL && (c->cert == NULL || c->key == NULL))
		return cli_usage_error(cmd, "give --token-file (or --token), or --cert and --key");
	return CLI_OK;
}

/* The easy handle api_call_bytes keeps between calls: its connection to the gateway stays
 * open, so the chunks of an upload do not each pay a TLS handshake. A command is one thread. */
static CURL *bytes_handle;

void api_client_wipe(struct api_client *c)
{
	OPENSSL_cleanse(c->token_buf, sizeof(c->token_buf));
	curl_easy_cleanup(bytes_handle);
	bytes_handle = NULL;
}

char *api_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *copy = e != NULL ? strdup(e) : NULL;

	curl_free(e);
	return copy;
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	return mla_buf_append(arg, data, size * n) == MLA_OK ? size * n : 0;
}

/* auth holds the Authorization line when there is a token (formatted by api_call). */
static struct curl_slist *headers(const struct api_client *c, int has_body, const char *auth)
{
	struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");

	if (has_body)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (c->token != NULL)
		h = curl_slist_append(h, auth);
	return h;
}

/* What the connection's SSL_CTX gets: our certificate file and key (privkey.h). */
struct client_identity {
	const char *cert;
	mla_privkey *key;
};

/* CURLOPT_SSL_CTX_FUNCTION: the certificate chain and the key on the SSL_CTX. Curl never
 * reads the key file itself: the key is loaded with its permission check, and no second
 * copy of its bytes exists. */
static CURLcode use_identity(CURL *e, void *sslctx, void *arg)
{
	const struct client_identity *id = arg;

	(void)e;
	if (SSL_CTX_use_certificate_chain_file(sslctx, id->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(sslctx, mla_privkey_evp(id->key)) != 1 ||
	    SSL_CTX_check_private_key(sslctx) != 1)
		return CURLE_SSL_CERTPROBLEM;
	return CURLE_OK;
}

static int set_tls(CURL *e, const struct api_client *c, const char *cmd,
		   struct client_identity *id)
{
	mla_diag d = {MLA_OK, ""};

	if (c->ca != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca);
	if (c->cert != NULL) {
		id->cert = c->cert;
		if (mla_privkey_load(c->key, &id->key, &d) != MLA_OK) {
			fprintf(stderr, "mlagw %s: %s\n", cmd, mla_diag_message(&d));
			return CLI_IO;
		}
		curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, use_identity);
		curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, id);
	}
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	return CLI_OK;
}

static int report(const char *cmd, long code, const mla_buf *ans)
{
	json_t *j = json_loadb((const char *)ans->data, ans->len, 0, NULL);
	const char *msg = json_string_value(json_object_get(j, "message"));
	const char *name = json_string_value(json_object_get(j, "code"));
	const char *field = json_string_value(json_object_get(j, "field"));

	fprintf(stderr, "mlagw %s: gateway answered %ld: %s [%s%s%s]\n", cmd, code,
		msg != NULL ? msg : "no detail", name != NULL ? name : "?", field ? ", " : "",
		field ? field : "");
	cli_print_problems(stderr, json_object_get(j, "problems")); /* all of them, not the first */
	json_decref(j);
	return code >= 500 ? CLI_INTERNAL : CLI_REJECTED;
}

int api_call(const struct api_client *c, const char *cmd, const char *method, const char *path,
	     json_t *body, json_t **out)
{
	char url[1024], auth[600], *json = NULL;
	struct client_identity id = {NULL, NULL};
	CURL *e = curl_easy_init();
	struct curl_slist *h = NULL;
	mla_buf ans;
	long code = 0;
	CURLcode res;
	int rc;

	*out = NULL;
	/* a cut URL would ask for another resource, a cut token would fail to authenticate */
	if (mla_snprintf(url, sizeof(url), "%s%s", c->gateway, path) != MLA_OK ||
	    (c->token != NULL &&
	     mla_snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token) != MLA_OK)) {
		OPENSSL_cleanse(auth, sizeof(auth));
		curl_easy_cleanup(e);
		return cli_usage_error(cmd, "the gateway URL, path or token is too long");
	}
	mla_buf_init(&ans, MAX_ANSWER);
	if (e == NULL || (body != NULL && (json = json_dumps(body, JSON_COMPACT)) == NULL))
		return CLI_INTERNAL;
	h = headers(c, body != NULL, auth);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (json != NULL)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &ans);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 120L);
	if ((rc = set_tls(e, c, cmd, &id)) != CLI_OK)
		goto out;
	res = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	if (res != CURLE_OK) {
		fprintf(stderr, "mlagw %s: cannot reach %s: %s\n", cmd, c->gateway,
			curl_easy_strerror(res));
		rc = CLI_IO;
	} else if (code < 200 || code > 299) {
		rc = report(cmd, code, &ans);
	} else if ((*out = json_loadb((const char *)ans.data, ans.len, 0, NULL)) == NULL) {
		fprintf(stderr, "mlagw %s: the gateway's answer is not JSON\n", cmd);
		rc = CLI_INTERNAL;
	} else {
		rc = CLI_OK;
	}
out:
	OPENSSL_cleanse(auth, sizeof(auth));
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	mla_privkey_free(id.key); /* after the handle that may still call back */
	if (json != NULL)
		OPENSSL_cleanse(json, strlen(json)); /* it may carry a document */
	free(json);
	mla_buf_free(&ans);
	return rc;
}

/* ---- attachments: raw bodies and streamed downloads (SPEC 17.14) ---- */

/* The easy handle for one request to path: URL, credentials, TLS; the header lines in *h
 * (extra, if any, added). CLI_OK or an exit code. */
static int prepare(const struct api_client *c, const char *cmd, const char *path,
		   const char *extra, CURL *e, struct curl_slist **h, char *auth, size_t auth_n,
		   struct client_identity *id)
{
	char url[1024];

	if (mla_snprintf(url, sizeof(url), "%s%s", c->gateway, path) != MLA_OK ||
	    (c->token != NULL &&
	     mla_snprintf(auth, auth_n, "Authorization: Bearer %s", c->token) != MLA_OK))
		return cli_usage_error(cmd, "the gateway URL, path or token is too long");
	*h = headers(c, 0, auth);
	if (extra != NULL)
		*h = curl_slist_append(*h, extra);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, *h);
	return set_tls(e, c, cmd, id);
}

int api_call_bytes(const struct api_client *c, const char *cmd, const char *method,
		   const char *path, const char *header, const uint8_t *body, size_t len,
		   long *status, json_t **out)
{
	char auth[600] = "";
	struct client_identity id = {NULL, NULL};
	CURL *e;
	struct curl_slist *h = NULL;
	mla_buf ans;
	CURLcode res;
	int rc;

	*out = NULL;
	*status = 0;
	mla_buf_init(&ans, (size_t)1 << 20);
	if (bytes_handle == NULL && (bytes_handle = curl_easy_init()) == NULL)
		return CLI_INTERNAL;
	e = bytes_handle;
	curl_easy_reset(e); /* the options of the last call go; its open connection stays */
	if ((rc = prepare(c, cmd, path, header, e, &h, auth, sizeof auth, &id)) != CLI_OK)
		goto out;
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/octet-stream");
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, len > 0 ? (const char *)body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &ans);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 300L);
	res = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	if (res != CURLE_OK) {
		fprintf(stderr, "mlagw %s: cannot reach %s: %s\n", cmd, c->gateway,
			curl_easy_strerror(res));
		*status = 0;
		rc = CLI_IO;
	} else {
		*out = ans.len > 0 ? json_loadb((const char *)ans.data, ans.len, 0, NULL) : NULL;
		rc = *status >= 200 && *status <= 299 ? CLI_OK : CLI_REJECTED;
	}
out:
	OPENSSL_cleanse(auth, sizeof(auth));
	curl_slist_free_all(h);
	mla_privkey_free(id.key); /* a kept connection's TLS holds its own reference */
	mla_buf_free(&ans);
	return rc;
}

struct download {
	CURL *e;
	int fd;
	int failed;           /* a write to the file failed */
	char sha256[65];      /* X-Attachment-Sha256 */
	uint64_t size;        /* X-Attachment-Size */
	uint64_t written;
	mla_buf err;          /* the body of a refusal (JSON) */
	void (*progress)(uint64_t done, void *arg);
	void *progress_arg;
};

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	static const char sha[] = "X-Attachment-Sha256: ", len_h[] = "X-Attachment-Size: ";
	struct download *d = arg;
	size_t len = size * n;
	uint64_t v;

	/* not memcpy: GCC's -Warray-bounds, with -O2 and the sanitizers, takes the header line for
	 * an empty object and refuses the build */
	if (len >= sizeof sha - 1 + 64 && strncasecmp(line, sha, sizeof sha - 1) == 0)
		(void)mla_snprintf_cut(d->sha256, sizeof(d->sha256), "%.64s", line + sizeof sha - 1);
	if (len > sizeof len_h - 1 && strncasecmp(line, len_h, sizeof len_h - 1) == 0 &&
	    mla_parse_u64n(line + sizeof len_h - 1, strcspn(line + sizeof len_h - 1, "\r\n"), 0,
			   UINT64_MAX, &v) == MLA_OK)
		d->size = v;
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct download *d = arg;
	size_t len = size * n, done = 0;
	long status = 0;
	ssize_t w;

	curl_easy_getinfo(d->e, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200 && status != 206)
		return mla_buf_append(&d->err, data, len) == MLA_OK ? len : 0;
	while (done < len) {
		if ((w = write(d->fd, data + done, len - done)) <= 0) {
			d->failed = 1;
			return 0;
		}
		done += (size_t)w;
	}
	d->written += len;
	if (d->progress != NULL)
		d->progress(d->written, d->progress_arg);
	return len;
}

int api_download(const struct api_client *c, const char *cmd, const char *path,
		 uint64_t first, int fd, struct api_download_info *info,
		 void (*progress)(uint64_t done, void *arg), void *progress_arg)
{
	char auth[600] = "", range[64];
	struct client_identity id = {NULL, NULL};
	struct download d;
	struct curl_slist *h = NULL;
	CURLcode res;
	int rc;

	memset(&d, 0, sizeof(d));
	memset(info, 0, sizeof(*info));
	d.e = curl_easy_init();
	d.fd = fd;
	d.progress = progress;
	d.progress_arg = progress_arg;
	mla_buf_init(&d.err, (size_t)64 << 10);
	if (d.e == NULL)
		return CLI_INTERNAL;
	if (mla_snprintf(range, sizeof range, "Range: bytes=%llu-", (unsigned long long)first) !=
		    MLA_OK ||
	    (rc = prepare(c, cmd, path, first > 0 ? range : NULL, d.e, &h, auth, sizeof auth,
			  &id)) != CLI_OK) {
		rc = CLI_INTERNAL;
		goto out;
	}
	curl_easy_setopt(d.e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(d.e, CURLOPT_WRITEDATA, &d);
	curl_easy_setopt(d.e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(d.e, CURLOPT_HEADERDATA, &d);
	/* no overall timeout for a file of any size; a stalled stream ends instead */
	curl_easy_setopt(d.e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(d.e, CURLOPT_LOW_SPEED_TIME, 120L);
	res = curl_easy_perform(d.e);
	curl_easy_getinfo(d.e, CURLINFO_RESPONSE_CODE, &info->status);
	memcpy(info->sha256, d.sha256, sizeof info->sha256);
	info->size = d.size;
	info->written = d.written;
	if (res == CURLE_OK && (info->status == 200 || info->status == 206)) {
		rc = CLI_OK;
	} else if (res == CURLE_OK) {
		rc = report(cmd, info->status, &d.err);
	} else {
		/* a stream cut by the gateway (a segment that failed) or the network */
		fprintf(stderr, "mlagw %s: the download stopped after %llu bytes: %s\n", cmd,
			(unsigned long long)d.written,
			d.failed ? "cannot write the output file" : curl_easy_strerror(res));
		rc = CLI_IO;
	}
out:
	OPENSSL_cleanse(auth, sizeof(auth));
	curl_slist_free_all(h);
	curl_easy_cleanup(d.e);
	mla_privkey_free(id.key);
	mla_buf_free(&d.err);
	return rc;
}
