/* Parsers of the attachment requests of the local API (api_parse.h; SPEC 17.14): a
 * submission's "attachments", an upload chunk's Content-Range, a download's Range. Pure, like
 * api_parse.c; every refusal names the field or header. */
#include <string.h>

#include "api_parse.h"

static mla_err refuse(struct api_perr *e, int status, const char *code, const char *message,
		      const char *field)
{
	e->status = status;
	e->code = code;
	e->message = message;
	e->field = field;
	return status == 413 ? MLA_ERR_TOO_LARGE : MLA_ERR_ARG;
}

/* Digits only, no sign, no leading zero (but "0"), at most 15 digits (2^49: beyond any
 * attachment), into *out; returns the characters read, 0 for none. */
static size_t take_u64(const char *s, uint64_t *out)
{
	size_t i = 0;

	*out = 0;
	while (s[i] >= '0' && s[i] <= '9' && i < 15) {
		if (i == 1 && s[0] == '0')
			return 0;
		*out = *out * 10 + (uint64_t)(s[i] - '0');
		i++;
	}
	return s[i] >= '0' && s[i] <= '9' ? 0 : i;
}

mla_err api_parse_content_range(const char *v, size_t body_len, struct api_range *out,
				struct api_perr *e)
{
	const char *p = v;
	uint64_t last_byte = 0;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (v == NULL)
		return refuse(e, 400, "missing-field", "Content-Range is required: bytes FIRST-LAST/"
			      "* (or /TOTAL on the last chunk), or bytes */TOTAL with no body",
			      "Content-Range");
	if (strncmp(p, "bytes ", 6) != 0)
		goto bad;
	p += 6;
	if (*p == '*') { /* no bytes: the end of an upload of TOTAL bytes */
		if (p[1] != '/' || body_len != 0 || (n = take_u64(p + 2, &out->total)) == 0 ||
		    p[2 + n] != '\0')
			goto bad;
		out->first = out->total;
		out->last = 1;
		return MLA_OK;
	}
	if ((n = take_u64(p, &out->first)) == 0 || p[n] != '-')
		goto bad;
	p += n + 1;
	if ((n = take_u64(p, &last_byte)) == 0 || p[n] != '/')
		goto bad;
	p += n + 1;
	if (last_byte < out->first || last_byte - out->first + 1 != body_len)
		return refuse(e, 400, "bad-field", "Content-Range does not span the body's bytes",
			      "Content-Range");
	if (p[0] == '*' && p[1] == '\0')
		return MLA_OK;
	if ((n = take_u64(p, &out->total)) == 0 || p[n] != '\0')
		goto bad;
	out->last = 1;
	return MLA_OK;
bad:
	return refuse(e, 400, "bad-field", "Content-Range must be bytes FIRST-LAST/* or "
		      "bytes FIRST-LAST/TOTAL or bytes */TOTAL", "Content-Range");
}

mla_err api_parse_range(const char *v, uint64_t *first, struct api_perr *e)
{
	size_t n;

	*first = 0;
	if (v == NULL)
		return MLA_OK;
	if (strncmp(v, "bytes=", 6) != 0 || (n = take_u64(v + 6, first)) == 0 ||
	    v[6 + n] != '-' || v[7 + n] != '\0')
		return refuse(e, 400, "bad-field", "Range must be bytes=FIRST- (one open range)",
			      "Range");
	return MLA_OK;
}

/* One entry {"upload", "name", "type", "compress"} into s. */
static mla_err parse_one(const json_t *o, struct submit_attach_spec *s, struct api_perr *e)
{
	const char *key, *id, *name, *type;
	json_t *v;

	if (!json_is_object(o))
		return refuse(e, 400, "bad-field", "each attachment is an object", "attachments");
	json_object_foreach((json_t *)o, key, v) {
		if (strcmp(key, "compress") == 0 ? !json_is_boolean(v) :
		    (strcmp(key, "upload") != 0 && strcmp(key, "name") != 0 &&
		     strcmp(key, "type") != 0) || !json_is_string(v))
			return refuse(e, 400, "bad-field", "an attachment has upload, name, type "
				      "(strings) and compress (boolean) only", "attachments");
	}
	id = json_string_value(json_object_get(o, "upload"));
	name = json_string_value(json_object_get(o, "name"));
	type = json_string_value(json_object_get(o, "type"));
	if (id == NULL || name == NULL || type == NULL)
		return refuse(e, 400, "missing-field", "an attachment needs upload, name and type",
			      "attachments");
	if (strlen(id) != UPLOAD_ID_LEN || !upload_id_ok(id))
		return refuse(e, 400, "bad-field", "upload is not an upload id", "attachments");
	if (strlen(name) != json_string_length(json_object_get(o, "name")) ||
	    !mla_attach_name_ok(name))
		return refuse(e, 400, "bad-field", "an attachment name is 1 to 255 bytes of UTF-8 "
			      "without control characters, / or \\, not . or ..", "attachments");
	if (strlen(type) > MLA_ATTACH_TYPE_MAX || !mla_attach_type_ok(type))
		return refuse(e, 400, "bad-field", "an attachment type is type/subtype (RFC 6838, "
			      "no parameters)", "attachments");
	memcpy(s->upload, id, UPLOAD_ID_LEN + 1);
	memcpy(s->name, name, strlen(name) + 1);
	memcpy(s->type, type, strlen(type) + 1);
	s->compress = json_is_true(json_object_get(o, "compress"));
	return MLA_OK;
}

mla_err api_parse_attachments(const json_t *body, struct submit_attach *out,
			      struct api_perr *e)
{
	const json_t *arr = json_object_get(body, "attachments");
	mla_err r;

	memset(out, 0, sizeof(*out));
	if (arr == NULL)
		return MLA_OK;
	if (!json_is_array(arr) || json_array_size(arr) < 1 ||
	    json_array_size(arr) > MLA_ATTACH_MAX)
		return refuse(e, 400, "bad-field", "attachments is an array of 1 to 64 entries",
			      "attachments");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		if ((r = parse_one(json_array_get(arr, i), &out->item[i], e)) != MLA_OK)
			return r;
		for (size_t k = 0; k < i; k++)
			if (strcmp(out->item[k].upload, out->item[i].upload) == 0)
				return refuse(e, 400, "bad-field", "an upload is named twice",
					      "attachments");
	}
	out->n = json_array_size(arr);
	return MLA_OK;
}
