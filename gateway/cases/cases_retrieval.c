/* What a message's view shows of its reading (SPEC 16.10): on the requested side, when this
 * State's agencies first opened a request and the notices sent for it; on the requesting
 * side, the notices its peer sent. Times and message ids only: never who read it. */
#include <string.h>

#include "cases/cases.h"
#include "mlagw/codec.h"

/* Sets "<name>_ms", "<name>" (UTC) and "<name>_notice" (the notice's MessageId, or null when
 * none is or will be sent) on o when ms is set. */
static int set_one(json_t *o, const char *name, int64_t ms, const char *notice)
{
	char key[40], at[MLA_TIME_MS_LEN];
	int bad = 0;

	if (ms <= 0)
		return 0;
	mla_time_ms_format(ms, at);
	bad |= mla_snprintf(key, sizeof(key), "%s_ms", name) != MLA_OK ||
	       json_object_set_new(o, key, json_integer((json_int_t)ms)) != 0;
	bad |= json_object_set_new(o, name, json_string(at)) != 0;
	bad |= mla_snprintf(key, sizeof(key), "%s_notice", name) != MLA_OK ||
	       json_object_set_new(o, key, notice[0] != '\0' && strcmp(notice, "-") != 0 ?
				   json_string(notice) : json_null()) != 0;
	return bad;
}

mla_err cases_retrieval_json(gw_store *st, const char *message_id, json_t *o, mla_diag *diag)
{
	struct store_retrieval r;
	json_t *x;
	mla_err e;
	int bad = 0;

	if ((e = store_retrieval_get(st, message_id, &r, diag)) != MLA_OK)
		return e;
	if (!r.watched && r.got_retrieved_ms == 0 && r.got_not_retrieved_ms == 0)
		return MLA_OK;
	if ((x = json_object()) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
	if (r.watched) {
		bad |= json_object_set_new(x, "side", json_string("requested")) != 0;
		bad |= set_one(x, "retrieved", r.first_read_ms, r.retrieved_id);
		bad |= set_one(x, "not_retrieved", r.not_retrieved_ms, r.not_retrieved_id);
		bad |= json_object_set_new(x, "notices", json_boolean(
			strcmp(r.retrieved_id, "-") != 0 && strcmp(r.not_retrieved_id, "-") != 0)) != 0;
	} else {
		bad |= json_object_set_new(x, "side", json_string("requesting")) != 0;
		bad |= set_one(x, "retrieved", r.got_retrieved_ms, r.got_retrieved_id);
		bad |= set_one(x, "not_retrieved", r.got_not_retrieved_ms, r.got_not_retrieved_id);
	}
	if (bad || json_object_set_new(o, "retrieval", x) != 0)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
	return MLA_OK;
}
