/* The transfer status of SPEC 17.13 in JSON (jansson): written by the receiver, read by the
 * sender strictly (exact members, bounded sizes, ranges checked against the signed list), so
 * a peer's answer can only ever make the sender send segments that exist. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "attach_status.h"
#include "mlagw/codec.h"

static json_t *item_json(const struct attach_status_item *it)
{
	json_t *o = json_object(), *ranges = json_array();

	if (o == NULL || ranges == NULL)
		goto fail;
	for (size_t i = 0; i < it->n_missing; i++)
		if (json_array_append_new(ranges, json_pack("[II]", (json_int_t)it->missing[i][0],
							    (json_int_t)it->missing[i][1])) != 0)
			goto fail;
	if (json_object_set_new(o, "index", json_integer((json_int_t)it->index)) != 0 ||
	    json_object_set_new(o, "segments", json_integer((json_int_t)it->segments)) != 0 ||
	    json_object_set_new(o, "held", json_integer((json_int_t)it->held)) != 0 ||
	    json_object_set_new(o, "missing", ranges) != 0)
		goto fail_o;
	if (json_object_set_new(o, "more_missing", json_boolean(it->more)) != 0)
		goto fail_o;
	return o;
fail:
	json_decref(ranges);
fail_o:
	json_decref(o);
	return NULL;
}

mla_err attach_status_json(const struct attach_status *s, char **out, mla_diag *diag)
{
	json_t *o = json_object(), *items = json_array();
	mla_err r = MLA_ERR_NOMEM;

	*out = NULL;
	if (o == NULL || items == NULL)
		goto out;
	for (size_t i = 0; i < s->n; i++) {
		json_t *it = item_json(&s->item[i]);
		if (it == NULL || json_array_append_new(items, it) != 0)
			goto out;
	}
	if (json_object_set_new(o, "message_id", json_string(s->message_id)) != 0 ||
	    json_object_set_new(o, "state", json_string("transferring")) != 0 ||
	    json_object_set(o, "attachments", items) != 0)
		goto out;
	if ((*out = json_dumps(o, JSON_COMPACT)) != NULL)
		r = MLA_OK;
out:
	json_decref(items);
	json_decref(o);
	return r == MLA_OK ? MLA_OK : mla_fail(diag, r, "transfer status: out of memory");
}

/* An object with exactly these n members. */
static int exact_members(json_t *o, const char *const *names, size_t n)
{
	if (!json_is_object(o) || json_object_size(o) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (json_object_get(o, names[i]) == NULL)
			return 0;
	return 1;
}

static int u64_of(json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return 0;
	*out = (uint64_t)json_integer_value(v);
	return 1;
}

static mla_err read_ranges(json_t *a, const mla_attach_entry *e, struct attach_status_item *it,
			   mla_diag *diag)
{
	uint64_t next = 0; /* the lowest segment a range may start at */
	size_t i;
	json_t *r;

	if (!json_is_array(a) || json_array_size(a) > ATTACH_STATUS_RANGES_MAX)
		return mla_fail(diag, MLA_ERR_HEADER, "transfer status: attachment %lu: missing is "
				"not an array of at most %d ranges", (unsigned long)e->index,
				ATTACH_STATUS_RANGES_MAX);
	json_array_foreach(a, i, r) {
		uint64_t lo, hi;
		if (!json_is_array(r) || json_array_size(r) != 2 ||
		    !u64_of(json_array_get(r, 0), &lo) || !u64_of(json_array_get(r, 1), &hi) ||
		    lo < next || hi < lo || hi >= e->segments)
			return mla_fail(diag, MLA_ERR_HEADER, "transfer status: attachment %lu: range "
					"%zu is not ascending within its %llu segments",
					(unsigned long)e->index, i + 1,
					(unsigned long long)e->segments);
		it->missing[i][0] = lo;
		it->missing[i][1] = hi;
		next = hi + 2; /* disjoint and not adjacent: adjacent ranges would be one */
	}
	it->n_missing = json_array_size(a);
	return MLA_OK;
}

static mla_err read_item(json_t *o, const mla_attach_entry *e, struct attach_status_item *it,
			 mla_diag *diag)
{
	static const char *const names[] = {"index", "segments", "held", "missing", "more_missing"};
	uint64_t index = 0;
	mla_err r;

	memset(it, 0, sizeof(*it));
	if (!exact_members(o, names, 5) || !u64_of(json_object_get(o, "index"), &index) ||
	    !u64_of(json_object_get(o, "segments"), &it->segments) ||
	    !u64_of(json_object_get(o, "held"), &it->held) ||
	    !json_is_boolean(json_object_get(o, "more_missing")))
		return mla_fail(diag, MLA_ERR_HEADER, "transfer status: attachment %lu is not an "
				"object of index, segments, held, missing, more_missing",
				(unsigned long)e->index);
	if (index != e->index || it->segments != e->segments || it->held > e->segments)
		return mla_fail(diag, MLA_ERR_HEADER, "transfer status: attachment %lu does not "
				"match the list sealed (index %llu, %llu segments)",
				(unsigned long)e->index, (unsigned long long)index,
				(unsigned long long)it->segments);
	it->index = e->index;
	it->more = json_is_true(json_object_get(o, "more_missing"));
	if ((r = read_ranges(json_object_get(o, "missing"), e, it, diag)) != MLA_OK)
		return r;
	/* more only beyond a full list: a receiver that says "more" with one range listed
	 * would have the sender ask again at once, round after round, for a segment each */
	if (it->more && it->n_missing != ATTACH_STATUS_RANGES_MAX)
		return mla_fail(diag, MLA_ERR_HEADER, "transfer status: attachment %lu says more "
				"segments are missing than its %zu ranges, which are not the %d a "
				"status lists first", (unsigned long)e->index, it->n_missing,
				ATTACH_STATUS_RANGES_MAX);
	return MLA_OK;
}

mla_err attach_status_parse(const uint8_t *json, size_t len, const char *message_id,
			    const mla_attach_entry *att, size_t n, struct attach_status *out,
			    mla_diag *diag)
{
	static const char *const names[] = {"message_id", "state", "attachments"};
	json_error_t err;
	json_t *o = NULL, *items;
	mla_err r = MLA_OK;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (len > ATTACH_STATUS_JSON_MAX ||
	    (o = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &err)) == NULL)
		return mla_fail(diag, MLA_ERR_HEADER, "transfer status: not JSON of at most 1 MiB");
	items = json_object_get(o, "attachments");
	if (!exact_members(o, names, 3) || !json_is_string(json_object_get(o, "message_id")) ||
	    strcmp(json_string_value(json_object_get(o, "message_id")), message_id) != 0 ||
	    !json_is_string(json_object_get(o, "state")) ||
	    strcmp(json_string_value(json_object_get(o, "state")), "transferring") != 0 ||
	    !json_is_array(items) || json_array_size(items) != n) {
		r = mla_fail(diag, MLA_ERR_HEADER, "transfer status: not the status of message "
			     "%.36s with its %zu attachments", message_id, n);
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((r = read_item(json_array_get(items, i), &att[i], &out->item[i], diag)) != MLA_OK)
			goto out;
	if (mla_strcpy(out->message_id, sizeof(out->message_id), message_id) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_ARG, "transfer status: message id too long");
	out->n = n;
out:
	json_decref(o);
	return r;
}
