/* JSON string escaping (see include/mlagw/json.h). */
#include <stdio.h>

#include "mlagw/json.h"

mla_err mla_json_string(mla_buf *out, const char *s)
{
	mla_err r = mla_buf_append(out, "\"", 1);
	char esc[8];

	for (const unsigned char *p = (const unsigned char *)s; r == MLA_OK && *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			r = mla_buf_append(out, esc, 2);
		} else if (*p < 0x20) {
			(void)snprintf(esc, sizeof(esc), "\\u%04x", *p);
			r = mla_buf_append(out, esc, 6);
		} else {
			r = mla_buf_append(out, p, 1);
		}
	}
	return r == MLA_OK ? mla_buf_append(out, "\"", 1) : r;
}

mla_err mla_json_error(mla_buf *out, const char *code, const char *message, const char *field)
{
	mla_err r;

	if ((r = mla_buf_append_str(out, "{\"code\":")) != MLA_OK ||
	    (r = mla_json_string(out, code)) != MLA_OK ||
	    (r = mla_buf_append_str(out, ",\"message\":")) != MLA_OK ||
	    (r = mla_json_string(out, message)) != MLA_OK)
		return r;
	if (field != NULL && ((r = mla_buf_append_str(out, ",\"field\":")) != MLA_OK ||
			      (r = mla_json_string(out, field)) != MLA_OK))
		return r;
	return mla_buf_append_str(out, "}\n");
}
