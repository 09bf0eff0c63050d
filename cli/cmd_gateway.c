/* mlagw submit | status | health | cases: talking to the local gateway daemon over its submission
 * socket (unix domain, HTTP). Output is human by default and the daemon's JSON with --json. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cases_due.h"
#include "cli_util.h"
#include "commands.h"
#include "mlagw/codec.h"
#include "mlagw/envelope.h"

#define MAX_REPLY ((size_t)4 << 20)

struct gw_args {
	const char *socket, *in;
	const char *fields[16][2]; /* header name, value */
	int nfields, json;
	int due; /* cases: 0 all, 1 --due, 2 --overdue */
};

static const char gateway_usage[] =
	"usage: mlagw submit --socket PATH --to CC --kind KIND --in DOC [options] [--json]\n"
	"       mlagw status --socket PATH MESSAGE_ID [--json]\n"
	"       mlagw health --socket PATH [--json]\n"
	"       mlagw cases --socket PATH [CASE_ID] [--json]   the case lifecycle (SPEC 16.8):\n"
	"         every case, or the cases of CASE_ID with their steps\n"
	"       mlagw cases --socket PATH --due | --overdue [--json]   cases with a due time\n"
	"         (or past it), crisis and urgent first, then by due time (SPEC 16.9)\n"
	"submit options: --action A, --priority normal|urgent|crisis, --case-id ID,\n"
	"  --in-reply-to UUID, --from-authority T, --to-authority T, --handling H,\n"
	"  --idempotency-key K (1-64 of A-Z a-z 0-9 . _ : -: a retry with the same K and the same\n"
	"  request gets the first message id back instead of a new message)\n"
	"The socket is the gateway's submit_socket (conf/README.md). submit returns once the\n"
	"sealed message is stored durably in the outbox (state queued).\n"
	"exit: 0 ok, 1 refused by the gateway, 2 usage, 3 cannot reach the gateway, 4 internal\n";

static const struct {
	const char *opt, *header;
} field_opts[] = {
	{"to", "X-MLA-To"},		{"kind", "X-MLA-Kind"},
	{"action", "X-MLA-Action"},	{"priority", "X-MLA-Priority"},
	{"case-id", "X-MLA-Case-Id"},	{"in-reply-to", "X-MLA-In-Reply-To"},
	{"from-authority", "X-MLA-From-Authority"}, {"to-authority", "X-MLA-To-Authority"},
	{"handling", "X-MLA-Handling"},	{"idempotency-key", "Idempotency-Key"},
};
#define N_FIELDS (sizeof(field_opts) / sizeof(field_opts[0]))

static size_t on_reply(char *data, size_t size, size_t n, void *arg)
{
	return mla_buf_append(arg, data, size * n) == MLA_OK ? size * n : 0;
}

/* One HTTP exchange with the daemon; *code is the HTTP status. */
static mla_err call_gateway(const struct gw_args *a, const char *path, const mla_buf *body,
			    mla_buf *reply, long *code, mla_diag *d)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[256], line[300];
	CURLcode res;

	mla_buf_init(reply, MAX_REPLY);
	if (c == NULL)
		return MLA_ERR_INTERNAL;
	if (mla_snprintf(url, sizeof(url), "http://localhost%s", path) != MLA_OK) {
		curl_easy_cleanup(c);
		return mla_fail(d, MLA_ERR_ARG, "request path longer than %zu bytes", sizeof(url));
	}
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, a->socket);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/xml");
		h = curl_slist_append(h, "Expect:");
		for (int i = 0; i < a->nfields; i++) {
			/* a cut header would send another value than the one given */
			if (mla_snprintf(line, sizeof(line), "%s: %s", a->fields[i][0],
					 a->fields[i][1]) != MLA_OK) {
				curl_slist_free_all(h);
				curl_easy_cleanup(c);
				return mla_fail(d, MLA_ERR_ARG, "%s is longer than %zu bytes",
						a->fields[i][0], sizeof(line));
			}
			h = curl_slist_append(h, line);
		}
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body->data);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	}
	res = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (res != CURLE_OK)
		return mla_fail(d, MLA_ERR_IO, "cannot reach the gateway at %s: %s", a->socket,
				curl_easy_strerror(res));
	return MLA_OK;
}

/* Prints the daemon's error object ({"code","message","field"}) and maps it to an exit. */
static int report_error(const char *cmd, long code, const mla_buf *reply)
{
	json_t *j = json_loadb((const char *)reply->data, reply->len, 0, NULL);
	const char *msg = j != NULL ? json_string_value(json_object_get(j, "message")) : NULL;
	const char *name = j != NULL ? json_string_value(json_object_get(j, "code")) : NULL;

	fprintf(stderr, "mlagw %s: gateway answered %ld: %s [%s]\n", cmd, code,
		msg != NULL ? msg : "no detail", name != NULL ? name : "?");
	if (j != NULL) /* a refused document: every problem, not the first */
		cli_print_problems(stderr, json_object_get(j, "problems"));
	json_decref(j);
	return code >= 500 ? CLI_INTERNAL : CLI_REJECTED;
}

static void print_history(json_t *hist)
{
	size_t i;
	json_t *e;

	json_array_foreach(hist, i, e) {
		const char *detail = json_string_value(json_object_get(e, "detail"));
		printf("  %s  %-16s %s\n", json_string_value(json_object_get(e, "at")),
		       json_string_value(json_object_get(e, "state")), detail != NULL ? detail : "");
	}
}

static const char *jstr(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v != NULL && v[0] != '\0' ? v : "-";
}

/* A step's line; what its document says for the deadlines after it (SPEC 16.8). */
static void print_step(json_t *st)
{
	printf("  %s  %-34s by %-10s -> %s  %s", jstr(st, "at"), jstr(st, "action"),
	       jstr(st, "by"), jstr(st, "to"), jstr(st, "message_id"));
	if (json_object_get(st, "rule") != NULL)
		printf("  rule %s", jstr(st, "rule"));
	if (json_object_get(st, "recorded") != NULL)
		printf("  recorded %s", jstr(st, "recorded"));
	printf("\n");
}

/* One line per case; its steps below it when the answer has them. */
static void print_cases(json_t *items)
{
	size_t i, k;
	json_t *c, *st;

	json_array_foreach(items, i, c) {
		printf("case %s (%s, %s with %s): %s, last step %s, pending %s %s\n",
		       jstr(c, "case_id"), jstr(c, "requesting"), jstr(c, "side"), jstr(c, "peer"),
		       jstr(c, "state"), jstr(c, "last_step"), jstr(c, "pending"),
		       jstr(c, "pending_action"));
		printf("  received %s; allowed now: %s\n", jstr(c, "received"), jstr(c, "allowed"));
		json_array_foreach(json_object_get(c, "steps"), k, st)
			print_step(st);
	}
}

/* The --due / --overdue table, times left counted from the gateway's now (its answer's). */
static int print_due(json_t *j, enum cases_due_filter f)
{
	struct cases_due_row *rows = NULL;
	size_t n = 0;
	mla_buf out;
	int rc = CLI_INTERNAL;

	mla_buf_init(&out, MAX_REPLY);
	if (cases_due_rows(json_object_get(j, "items"), &rows, &n) == MLA_OK &&
	    cases_due_format(rows, n, f, (int64_t)json_integer_value(json_object_get(j, "now_ms")),
			     &out) == MLA_OK)
		rc = fwrite(out.data, 1, out.len, stdout) == out.len ? CLI_OK : CLI_IO;
	else
		fputs("mlagw cases: out of memory\n", stderr);
	free(rows);
	mla_buf_free(&out);
	return rc;
}

static int print_human(const char *cmd, const struct gw_args *a, const mla_buf *reply)
{
	json_t *j = json_loadb((const char *)reply->data, reply->len, 0, NULL);
	const char *s;
	int rc = CLI_OK;

	if (j == NULL) {
		fprintf(stderr, "mlagw %s: the gateway's answer is not JSON\n", cmd);
		return CLI_INTERNAL;
	}
	if (strcmp(cmd, "submit") == 0) {
		printf("queued message %s case %s to %s%s\n",
		       json_string_value(json_object_get(j, "message_id")),
		       json_string_value(json_object_get(j, "case_id")),
		       json_string_value(json_object_get(j, "to")),
		       json_is_true(json_object_get(j, "replayed")) ?
			       " (already submitted with this idempotency key)" : "");
	} else if (strcmp(cmd, "status") == 0) {
		s = json_string_value(json_object_get(j, "direction"));
		printf("message %s (%s): %s\n", json_string_value(json_object_get(j, "message_id")),
		       s != NULL && strcmp(s, "in") == 0 ? "received" : "sent",
		       json_string_value(json_object_get(j, "state")));
		print_history(json_object_get(j, "history"));
		cli_print_problems(stdout, json_object_get(j, "problems"));
	} else if (strcmp(cmd, "cases") == 0 && a->due != 0) {
		rc = print_due(j, a->due == 2 ? CASES_DUE_OVERDUE : CASES_DUE_ALL);
	} else if (strcmp(cmd, "cases") == 0) {
		print_cases(json_object_get(j, "items"));
	} else {
		char *dump = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (dump != NULL)
			puts(dump);
		free(dump);
	}
	json_decref(j);
	return rc;
}

static int run(const char *cmd, const struct gw_args *a, const char *path, const mla_buf *body)
{
	mla_diag d = {MLA_OK, ""};
	mla_buf reply;
	long code = 0;
	mla_err r;
	int rc;

	if ((r = call_gateway(a, path, body, &reply, &code, &d)) != MLA_OK)
		rc = cli_fail(cmd, r, &d);
	else if (code < 200 || code > 299)
		rc = report_error(cmd, code, &reply);
	else if (a->json)
		rc = fwrite(reply.data, 1, reply.len, stdout) == reply.len ? CLI_OK : CLI_IO;
	else
		rc = print_human(cmd, a, &reply);
	mla_buf_free(&reply);
	return rc;
}

static int add_field(struct gw_args *a, const char *header, const char *value)
{
	if (a->nfields >= 16)
		return cli_usage_error("submit", "too many options");
	a->fields[a->nfields][0] = header;
	a->fields[a->nfields][1] = value;
	a->nfields++;
	return CLI_OK;
}

static int parse(const char *cmd, int argc, char **argv, struct gw_args *a)
{
	struct option opts[N_FIELDS + 7];
	size_t n = 0;
	int c, idx = 0;

	for (; n < N_FIELDS; n++)
		opts[n] = (struct option){field_opts[n].opt, required_argument, NULL, 0};
	opts[n++] = (struct option){"socket", required_argument, NULL, 's'};
	opts[n++] = (struct option){"in", required_argument, NULL, 'i'};
	opts[n++] = (struct option){"json", no_argument, NULL, 'j'};
	opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	opts[n++] = (struct option){"due", no_argument, NULL, 'd'};
	opts[n++] = (struct option){"overdue", no_argument, NULL, 'o'};
	opts[n] = (struct option){NULL, 0, NULL, 0};
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		if (c == 0 && add_field(a, field_opts[idx].header, optarg) != CLI_OK)
			return CLI_USAGE;
		else if (c == 's')
			a->socket = optarg;
		else if (c == 'i')
			a->in = optarg;
		else if (c == 'j')
			a->json = 1;
		else if ((c == 'd' || c == 'o') && strcmp(cmd, "cases") == 0 && a->due == 0)
			a->due = c == 'd' ? 1 : 2;
		else if (c == 'd' || c == 'o')
			return cli_usage_error(cmd, "--due or --overdue: once, and with cases only");
		else if (c == 'h') {
			fputs(gateway_usage, stdout);
			return -1;
		} else if (c != 0)
			return cli_usage_error(cmd, "unknown option or missing value: %s",
					       argv[optind - 1]);
	}
	if (a->socket == NULL)
		return cli_usage_error(cmd, "--socket is required");
	return CLI_OK;
}

int cmd_gateway(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct gw_args a;
	mla_diag d = {MLA_OK, ""};
	mla_buf body;
	char path[128];
	mla_err r;
	int rc;

	memset(&a, 0, sizeof(a));
	if ((rc = parse(cmd, argc, argv, &a)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	if (strcmp(cmd, "health") == 0)
		return optind == argc ? run(cmd, &a, "/local/v1/health", NULL)
				      : cli_usage_error(cmd, "unexpected argument");
	if (strcmp(cmd, "cases") == 0) {
		if (a.due != 0 && optind != argc)
			return cli_usage_error(cmd, "--due and --overdue list every case: no case id");
		if (optind == argc)
			return run(cmd, &a, "/local/v1/cases", NULL);
		if (optind != argc - 1 || argv[optind][0] == '\0' ||
		    strlen(argv[optind]) > MLA_CASE_ID_MAX || strchr(argv[optind], '?') != NULL)
			return cli_usage_error(cmd, "give at most one case id");
		if (mla_snprintf(path, sizeof(path), "/local/v1/cases/%s", argv[optind]) != MLA_OK)
			return CLI_INTERNAL; /* path is sized for a case id */
		return run(cmd, &a, path, NULL);
	}
	if (strcmp(cmd, "status") == 0) {
		if (optind != argc - 1 || strlen(argv[optind]) != MLA_UUID_LEN)
			return cli_usage_error(cmd, "give one message id (a UUID)");
		if (mla_snprintf(path, sizeof(path), "/local/v1/messages/%s", argv[optind]) != MLA_OK)
			return CLI_INTERNAL; /* path is sized for a UUID */
		return run(cmd, &a, path, NULL);
	}
	if (a.in == NULL || optind != argc)
		return cli_usage_error(cmd, "--in DOC is required, and nothing else");
	if ((r = cli_read_file(a.in, MLA_DEFAULT_MAX_DOCUMENT_BYTES, &body, &d)) != MLA_OK)
		return cli_fail(cmd, r, &d);
	rc = run(cmd, &a, "/local/v1/submit", &body);
	mla_buf_free(&body);
	return rc;
}
