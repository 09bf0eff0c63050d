/* The local-API operations behind mlagw submit, status, inbox, fetch, answer, health and
 * whoami (see cmd_api.h): each builds its request, makes one call and prints the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "cli_util.h"
#include "cmd_api.h"
#include "mlagw/codec.h"
#include "mlagw/envelope.h"

/* Prints the answer as JSON (--json) or with the given human printer. */
static int output(const struct api_args *a, json_t *ans, void (*human)(json_t *))
{
	char *dump;

	if (a->json || human == NULL) {
		if ((dump = json_dumps(ans, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) != NULL)
			puts(dump);
		free(dump);
	} else {
		human(ans);
	}
	json_decref(ans);
	return CLI_OK;
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "-";
}

/* The document of --in as base64 in the request (and its type). */
static int add_document(const struct api_args *a, json_t *req)
{
	mla_diag d = {MLA_OK, ""};
	mla_buf doc;
	char *b64;
	mla_err r;
	int rc = CLI_OK;

	if ((r = cli_read_file(a->in, MLA_DEFAULT_MAX_DOCUMENT_BYTES, &doc, &d)) != MLA_OK)
		return cli_fail(a->cmd, r, &d);
	if ((b64 = malloc(MLA_B64_LEN(doc.len) + 1)) == NULL) {
		mla_buf_free(&doc);
		return CLI_INTERNAL;
	}
	if (mla_b64_encode(doc.data, doc.len, b64, MLA_B64_LEN(doc.len) + 1) != MLA_OK ||
	    json_object_set_new(req, "document_b64", json_string(b64)) != 0 ||
	    json_object_set_new(req, "content_type",
				json_string(a->content_type ? a->content_type : "application/xml")))
		rc = CLI_INTERNAL;
	OPENSSL_cleanse(b64, strlen(b64));
	free(b64);
	mla_buf_free(&doc);
	return rc;
}

static void set_opt(json_t *o, const char *key, const char *v)
{
	if (v != NULL)
		json_object_set_new(o, key, json_string(v));
}

static void print_accepted(json_t *j)
{
	printf("queued message %s case %s to %s\n", str(j, "message_id"), str(j, "case_id"),
	       str(j, "to"));
}

int api_submit(struct api_args *a)
{
	json_t *req = json_object(), *ans = NULL;
	const char *case_id = api_field(a, "case-id");
	int rc;

	if (api_field(a, "to") == NULL || api_field(a, "kind") == NULL || a->in == NULL)
		rc = cli_usage_error(a->cmd, "--to, --kind and --in are required");
	else if (case_id != NULL && a->new_case)
		rc = cli_usage_error(a->cmd, "give --case-id or --new-case, not both");
	else if ((rc = add_document(a, req)) == CLI_OK) {
		set_opt(req, "to", api_field(a, "to"));
		set_opt(req, "kind", api_field(a, "kind"));
		set_opt(req, "priority", api_field(a, "priority"));
		set_opt(req, "handling", api_field(a, "handling"));
		set_opt(req, "from_authority", api_field(a, "from-authority"));
		set_opt(req, "to_authority", api_field(a, "to-authority"));
		if (case_id != NULL)
			set_opt(req, "case_id", case_id);
		else
			json_object_set_new(req, "new_case", json_true());
		if ((rc = api_add_attachments(a, req)) == CLI_OK &&
		    (rc = api_call(&a->c, a->cmd, "POST", "/api/v1/messages", req, &ans)) == CLI_OK)
			rc = output(a, ans, print_accepted);
	}
	json_decref(req);
	return rc;
}

/* The SHA-256 of --in as lower-case hex into hex (65 bytes). */
static int file_digest(const struct api_args *a, char *hex)
{
	mla_diag d = {MLA_OK, ""};
	uint8_t md[32];
	mla_buf doc;
	mla_err r;

	if ((r = cli_read_file(a->in, MLA_DEFAULT_MAX_DOCUMENT_BYTES, &doc, &d)) != MLA_OK)
		return cli_fail(a->cmd, r, &d);
	SHA256(doc.data, doc.len, md);
	mla_buf_free(&doc);
	return mla_hex_encode(md, 32, hex, 65) == MLA_OK ? CLI_OK : CLI_INTERNAL;
}

int api_other_channel(struct api_args *a)
{
	json_t *req = json_object(), *ans = NULL;
	const char *case_id = api_field(a, "case-id"), *sha = api_field(a, "sha256");
	char hex[65] = "";
	int rc = CLI_OK;

	if (api_field(a, "to") == NULL || api_field(a, "kind") == NULL ||
	    api_field(a, "means") == NULL || api_field(a, "sent-at") == NULL ||
	    (a->in == NULL) == (sha == NULL))
		rc = cli_usage_error(a->cmd, "--to, --kind, --means, --sent-at and one of --in and "
				     "--sha256 are required");
	else if ((case_id != NULL) == (a->new_case != 0))
		rc = cli_usage_error(a->cmd, "give --case-id or --new-case");
	else if (a->in != NULL)
		rc = file_digest(a, hex);
	if (rc == CLI_OK) {
		set_opt(req, "to", api_field(a, "to"));
		set_opt(req, "kind", api_field(a, "kind"));
		set_opt(req, "priority", api_field(a, "priority"));
		set_opt(req, "means", api_field(a, "means"));
		set_opt(req, "sent_at", api_field(a, "sent-at"));
		set_opt(req, "document_sha256", sha != NULL ? sha : hex);
		if (case_id != NULL)
			set_opt(req, "case_id", case_id);
		else
			json_object_set_new(req, "new_case", json_true());
		if ((rc = api_call(&a->c, a->cmd, "POST", "/api/v1/other-channel", req, &ans)) ==
		    CLI_OK)
			rc = output(a, ans, print_accepted);
	}
	json_decref(req);
	return rc;
}

static void print_history(json_t *hist)
{
	size_t i;
	json_t *e;

	json_array_foreach(hist, i, e)
		printf("  %s  %-16s %s\n", str(e, "at"), str(e, "state"),
		       json_string_value(json_object_get(e, "detail")) ? str(e, "detail") : "");
}

static void print_message(json_t *j)
{
	printf("message %s (%s %s) case %s: %s/%s, %s\n", str(j, "message_id"),
	       strcmp(str(j, "direction"), "in") == 0 ? "from" : "to", str(j, "peer"),
	       str(j, "case_id"), str(j, "kind"), str(j, "action"), str(j, "state"));
	print_history(json_object_get(j, "history"));
	cli_print_problems(stdout, json_object_get(j, "problems"));
}

static void print_case(json_t *j)
{
	size_t i;
	json_t *m;

	printf("case %s\n", str(j, "case_id"));
	json_array_foreach(json_object_get(j, "messages"), i, m)
		print_message(m);
}

int api_status(struct api_args *a)
{
	const char *case_id = api_field(a, "case-id");
	char path[512], *esc;
	json_t *ans = NULL;
	int rc;
	mla_err r;

	if ((case_id == NULL) == (a->nrest != 1))
		return cli_usage_error(a->cmd, "give one MESSAGE_ID, or --case-id ID");
	if ((esc = api_escape(case_id != NULL ? case_id : a->rest[0])) == NULL)
		return CLI_INTERNAL;
	r = mla_snprintf(path, sizeof(path),
			 case_id != NULL ? "/api/v1/cases/%s" : "/api/v1/messages/%s", esc);
	free(esc);
	if (r != MLA_OK)
		return cli_usage_error(a->cmd, "the id is too long");
	if ((rc = api_call(&a->c, a->cmd, "GET", path, NULL, &ans)) == CLI_OK)
		rc = output(a, ans, case_id != NULL ? print_case : print_message);
	return rc;
}

static void print_inbox(json_t *j)
{
	size_t i;
	json_t *m;

	printf("%-36s  %-4s %-16s %-34s %-8s %s\n", "message", "from", "kind", "action",
	       "priority", "answers");
	json_array_foreach(json_object_get(j, "items"), i, m)
		printf("%-36s  %-4s %-16s %-34s %-8s %zu\n", str(m, "message_id"), str(m, "peer"),
		       str(m, "kind"), str(m, "action"), str(m, "priority"),
		       json_array_size(json_object_get(m, "answers")));
}

/* Appends "&name=value" (escaped) for each filter given. */
static int inbox_query(const struct api_args *a, char *q, size_t n)
{
	static const char *const map[][2] = {{"case-id", "case_id"}, {"peer", "peer"},
					     {"kind", "kind"},	       {"action", "action"},
					     {"priority", "priority"}, {"limit", "limit"}};
	size_t used;
	mla_err r;

	/* each append checked: offsets stay inside q, and a cut query is never sent */
	if (mla_strcpy(q, n, "/api/v1/inbox?") != MLA_OK)
		return -1;
	used = strlen(q);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = api_field(a, map[i][0]);
		char *esc;
		if (v == NULL)
			continue;
		if ((esc = api_escape(v)) == NULL)
			return -1;
		r = mla_snprintf(q + used, n - used, "%s=%s&", map[i][1], esc);
		free(esc);
		if (r != MLA_OK)
			return -1;
		used += strlen(q + used);
	}
	if (a->unanswered && mla_snprintf(q + used, n - used, "unanswered=true&") != MLA_OK)
		return -1;
	used += strlen(q + used);
	q[used - 1] = '\0'; /* the last '&' or the '?' */
	return 0;
}

int api_inbox(struct api_args *a)
{
	char path[1024];
	json_t *ans = NULL;
	int rc;

	if (a->nrest != 0)
		return cli_usage_error(a->cmd, "unexpected argument '%s'", a->rest[0]);
	if (inbox_query(a, path, sizeof(path)) != 0)
		return cli_usage_error(a->cmd, "filters too long");
	if ((rc = api_call(&a->c, a->cmd, "GET", path, NULL, &ans)) == CLI_OK)
		rc = output(a, ans, print_inbox);
	return rc;
}

/* Decodes the document, checks its SHA-256 against the gateway's, writes it mode 0600. */
static int save_document(const struct api_args *a, json_t *ans)
{
	const char *b64 = json_string_value(json_object_get(ans, "document_b64"));
	const char *want = json_string_value(json_object_get(ans, "sha256"));
	size_t len = b64 != NULL ? strlen(b64) : 0, n = 0;
	unsigned char *doc = malloc(len / 4 * 3 + 3), md[32];
	char hex[65];
	int rc = CLI_OK;
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	if (doc == NULL || b64 == NULL || want == NULL ||
	    mla_b64_decode(b64, len, doc, len / 4 * 3, &n) != MLA_OK) {
		fprintf(stderr, "mlagw %s: the gateway's document is not valid base64\n", a->cmd);
		rc = CLI_INTERNAL;
		goto out;
	}
	SHA256(doc, n, md);
	if (mla_hex_encode(md, sizeof(md), hex, sizeof(hex)) != MLA_OK || strcmp(hex, want) != 0) {
		fprintf(stderr, "mlagw %s: the document does not match its SHA-256\n", a->cmd);
		rc = CLI_INTERNAL;
	} else if ((r = cli_write_file(a->out, doc, n, 0600, &d)) != MLA_OK) {
		rc = cli_fail(a->cmd, r, &d);
	} else if (!a->json) {
		printf("fetched %s (%zu bytes, sha256 %s) -> %s\n", a->rest[0], n, hex, a->out);
		if (json_is_true(json_object_get(ans, "redacted")))
			printf("protected persons redacted: %lld (SPEC 16.12)\n",
			       (long long)json_integer_value(json_object_get(ans,
								     "protected_persons")));
	}
out:
	if (doc != NULL)
		OPENSSL_cleanse(doc, len / 4 * 3 + 3);
	free(doc);
	return rc;
}

int api_fetch(struct api_args *a)
{
	char path[1024], *id, *why;
	json_t *ans = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_err e;
	int rc;
	mla_err r;

	if (a->nrest != 1 || a->reason == NULL || a->out == NULL)
		return cli_usage_error(a->cmd, "give MESSAGE_ID, --reason TEXT and --out FILE");
	if (a->attachment != NULL)
		return api_fetch_attachment(a);
	id = api_escape(a->rest[0]);
	why = api_escape(a->reason);
	if (id == NULL || why == NULL) {
		free(id);
		free(why);
		return CLI_INTERNAL;
	}
	r = mla_snprintf(path, sizeof(path), "/api/v1/inbox/%s/document?reason=%s", id, why);
	free(id);
	free(why);
	if (r != MLA_OK)
		return cli_usage_error(a->cmd, "the id or the reason is too long");
	if ((rc = api_call(&a->c, a->cmd, "GET", path, NULL, &ans)) != CLI_OK)
		return rc;
	rc = save_document(a, ans);
	if (rc == CLI_OK && a->json &&
	    (e = cli_json_print(json_pack("{s:s, s:s}", "message_id", a->rest[0], "out", a->out),
				&d)) != MLA_OK)
		rc = cli_fail(a->cmd, e, &d);
	json_decref(ans);
	return rc;
}

int api_answer(struct api_args *a)
{
	json_t *req = json_object(), *ans = NULL;
	char path[256], *id;
	int rc = CLI_OK;
	mla_err r;

	if (a->nrest != 1 || api_field(a, "action") == NULL) {
		json_decref(req);
		return cli_usage_error(a->cmd, "give MESSAGE_ID and --action ACTION");
	}
	set_opt(req, "action", api_field(a, "action"));
	set_opt(req, "priority", api_field(a, "priority"));
	set_opt(req, "handling", api_field(a, "handling"));
	if (a->in != NULL)
		rc = add_document(a, req);
	if (rc == CLI_OK)
		rc = api_add_attachments(a, req);
	if (rc == CLI_OK && (id = api_escape(a->rest[0])) != NULL) {
		r = mla_snprintf(path, sizeof(path), "/api/v1/messages/%s/answers", id);
		free(id);
		if (r != MLA_OK)
			rc = cli_usage_error(a->cmd, "the id is too long");
		else if ((rc = api_call(&a->c, a->cmd, "POST", path, req, &ans)) == CLI_OK)
			rc = output(a, ans, print_accepted);
	}
	json_decref(req);
	return rc;
}

int api_simple(struct api_args *a, const char *path)
{
	json_t *ans = NULL;
	int rc;

	if (a->nrest != 0)
		return cli_usage_error(a->cmd, "unexpected argument '%s'", a->rest[0]);
	if ((rc = api_call(&a->c, a->cmd, "GET", path, NULL, &ans)) == CLI_OK)
		rc = output(a, ans, NULL);
	return rc;
}
