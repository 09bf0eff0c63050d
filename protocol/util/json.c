/* JSON output with jansson into a bounded mla_buf (see include/mlagw/json.h): the writer
 * behind every JSON answer of the daemon and every --json output of the CLI. */
#include "mlagw/json.h"

struct dump_ctx {
	mla_buf *out;
	mla_err r;
};

/* json_dump_callback writes string values straight from the object, so a secret buffer
 * (mla_buf_init_secret) gets the only copy of the text. */
static int dump_cb(const char *buffer, size_t size, void *data)
{
	struct dump_ctx *c = data;

	c->r = mla_buf_append(c->out, buffer, size);
	return c->r == MLA_OK ? 0 : -1;
}

mla_err mla_json_dump(json_t *v, mla_buf *out)
{
	struct dump_ctx c = {out, MLA_OK};
	mla_err r = MLA_ERR_ARG;

	if (v == NULL)
		goto out;
	if (json_dump_callback(v, dump_cb, &c, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
		r = c.r != MLA_OK ? c.r : MLA_ERR_NOMEM;
		goto out;
	}
	r = mla_buf_append(out, "\n", 1);
out:
	json_decref(v);
	return r;
}

int mla_json_set_opt(json_t *o, const char *key, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return 0;
	return json_object_set_new(o, key, json_string(v));
}

static json_t *error_object(const char *code, const char *message)
{
	json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);

	/* messages may quote outside input; one that is not UTF-8 is withheld, not fatal */
	if (e == NULL)
		e = json_pack("{s:s, s:s}", "code", code, "message",
			      "(the message is not valid UTF-8)");
	return e;
}

mla_err mla_json_error_problems(mla_buf *out, const char *code, const char *message,
				const char *problems_json)
{
	json_t *e = error_object(code, message);
	json_t *p = problems_json != NULL ? json_loads(problems_json, JSON_REJECT_DUPLICATES, NULL)
					  : NULL;

	if (e != NULL && json_is_array(p))
		(void)json_object_set(e, "problems", p);
	json_decref(p);
	return mla_json_dump(e, out);
}

mla_err mla_json_error(mla_buf *out, const char *code, const char *message, const char *field)
{
	json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);

	/* messages may quote outside input; one that is not UTF-8 is withheld, not fatal */
	if (e == NULL)
		e = json_pack("{s:s, s:s}", "code", code, "message",
			      "(the message is not valid UTF-8)");
	if (e != NULL && field != NULL &&
	    json_object_set_new(e, "field", json_string(field)) != 0)
		(void)json_object_set_new(e, "field", json_string("(not valid UTF-8)"));
	return mla_json_dump(e, out);
}
