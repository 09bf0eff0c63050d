/* libFuzzer harness: the submission socket's request parser (gateway/submit/submit_parse.c).
 * The input is a header block, "Name: value" lines as evhttp hands them over; whatever it
 * holds, the parser refuses it naming a header, or accepts a header that passes
 * mla_header_check and whose "queued" answer can be written as JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "mlagw/json.h"
#include "submit/submit_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits s into "Name: value" lines into q (lines without a colon are skipped). */
static void headers(char *s, struct evkeyvalq *q)
{
	char *line = s, *nl, *colon, *v;

	while (line != NULL && *line != '\0') {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if ((colon = strchr(line, ':')) != NULL) {
			*colon = '\0';
			for (v = colon + 1; *v == ' '; v++)
				;
			(void)evhttp_add_header(q, line, v); /* refuses CR/LF in values, as evhttp */
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct evkeyvalq q = {NULL, &q.tqh_first};
	mla_diag d = {MLA_OK, ""};
	const char *field = NULL;
	mla_header h;
	mla_buf b;

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	headers(s, &q);
	mla_buf_init(&b, 1 << 16);
	if (submit_parse_request(&q, "ES", &h, &field, &d) == MLA_OK) {
		/* what submit_handle would answer once it is queued */
		if (mla_header_check(&h, &d) != MLA_OK ||
		    mla_json_dump(json_pack("{s:s, s:s, s:s, s:s}", "message_id", h.message_id,
					    "case_id", h.case_id, "to", h.to_state, "state",
					    "queued"),
				  &b) != MLA_OK)
			abort();
	} else if (mla_json_error(&b, "header", mla_diag_message(&d), field) != MLA_OK) {
		abort();
	}
	mla_buf_free(&b);
	evhttp_clear_headers(&q);
	free(s);
	return 0;
}
