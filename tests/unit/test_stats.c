/* The statistics engine (protocol/audit/stats*.c, SPEC 16.13): cases from entries on both
 * sides, months (and their boundaries), outcomes (withdrawn, refused then closed), the times'
 * mean, median and 90th percentile, refusals and other events ignored, art. 28 figures, the
 * empty log, and CSV beside JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "mlagw/codec.h"
#include "mlagw/stats.h"

#define T0 INT64_C(1795000000000) /* 2026-11-18T... UTC */
#define DAY INT64_C(86400000)

static int msg_counter;
/* the priority and grounds the next step entries carry (entry version 6); "" for none */
static const char *cur_priority = "", *cur_grounds = "";

#define SET(dst, src) assert_int_equal(mla_snprintf((dst), sizeof(dst), "%s", (src)), MLA_OK)

/* A message id made from n. */
static void msg_id(int n, char out[MLA_UUID_LEN + 1])
{
	assert_int_equal(mla_snprintf(out, MLA_UUID_LEN + 1, "00000000-0000-4000-8000-%012d", n),
			 MLA_OK);
}

static void feed(mla_stats *s, const char *state, mla_audit_event ev, int msg,
		 const char *case_id, const char *kind, const char *action, const char *from,
		 const char *to, int64_t t)
{
	mla_audit_entry e;
	mla_diag d = {MLA_OK, ""};

	mla_audit_entry_init(&e);
	e.event = ev;
	e.time_ms = t;
	msg_id(msg, e.message_id);
	SET(e.case_id, case_id);
	SET(e.kind, kind);
	SET(e.action, action);
	SET(e.from, from);
	SET(e.to, to);
	SET(e.actor, "gateway");
	if (ev == MLA_AUDIT_SUBMITTED || ev == MLA_AUDIT_ANSWERED || ev == MLA_AUDIT_RECEIVED) {
		SET(e.priority, cur_priority);
		if (strcmp(action, "refused") == 0)
			SET(e.grounds, cur_grounds);
	}
	assert_int_equal(mla_stats_add(s, state, &e, &d), MLA_OK);
}

/* delivered names the message only, as the gateway writes it (SPEC 14) */
static void delivered(mla_stats *s, const char *state, int msg, const char *from,
		      const char *to, int64_t t)
{
	mla_audit_entry e;
	mla_diag d = {MLA_OK, ""};

	mla_audit_entry_init(&e);
	e.event = MLA_AUDIT_DELIVERED;
	e.time_ms = t;
	msg_id(msg, e.message_id);
	SET(e.from, from);
	SET(e.to, to);
	SET(e.actor, to);
	assert_int_equal(mla_stats_add(s, state, &e, &d), MLA_OK);
}

/* A step `state` takes: submitted at t, delivered at t + receipt. */
static void out_step(mla_stats *s, const char *state, const char *id, const char *kind,
		     const char *action, const char *to, int64_t t, int64_t receipt)
{
	int m = ++msg_counter;
	feed(s, state, MLA_AUDIT_SUBMITTED, m, id, kind, action, state, to, t);
	feed(s, state, MLA_AUDIT_SENT, m, id, kind, action, state, to, t);
	delivered(s, state, m, state, to, t + receipt);
}

/* ES requests case id of kind from CO: submitted at t, delivered at t + receipt. */
static void out_request(mla_stats *s, const char *id, const char *kind, int64_t t,
			int64_t receipt)
{
	out_step(s, "ES", id, kind, "request", "CO", t, receipt);
}

/* CO's answer step to ES's case, received by ES at t. */
static void in_step(mla_stats *s, const char *id, const char *kind, const char *action,
		    int64_t t)
{
	feed(s, "ES", MLA_AUDIT_RECEIVED, ++msg_counter, id, kind, action, "CO", "ES", t);
}

static json_t *as_json(mla_stats *s)
{
	mla_diag d = {MLA_OK, ""};
	json_error_t je;
	mla_buf b;
	json_t *j;

	mla_buf_init(&b, 1 << 24);
	assert_int_equal(mla_stats_json(s, &b, &d), MLA_OK);
	j = json_loadb((const char *)b.data, b.len, 0, &je);
	assert_non_null(j);
	mla_buf_free(&b);
	return j;
}

static char *as_csv(mla_stats *s)
{
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	mla_buf_init(&b, 1 << 24);
	assert_int_equal(mla_stats_csv(s, &b, &d), MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	return (char *)mla_buf_detach(&b, NULL);
}

/* states[si].months[mi] (mi -1: the "all" group, last) */
static json_t *group(json_t *j, size_t si, int mi)
{
	json_t *months = json_object_get(json_array_get(json_object_get(j, "states"), si),
					 "months");
	assert_non_null(months);
	return json_array_get(months, mi < 0 ? json_array_size(months) - 1 : (size_t)mi);
}

static json_int_t num(json_t *g, const char *dim, const char *value)
{
	json_t *v = value ? json_object_get(json_object_get(g, dim), value) :
			    json_object_get(g, dim);
	return v ? json_integer_value(v) : -1;
}

static json_int_t tnum(json_t *g, const char *measure, const char *field)
{
	json_t *v = json_object_get(json_object_get(json_object_get(g, "time"), measure), field);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static void test_empty(void **state)
{
	mla_stats *s = mla_stats_new();
	char *csv;
	json_t *j;
	(void)state;

	j = as_json(s);
	assert_string_equal(json_string_value(json_object_get(j, "format")), "mlagw-stats/1");
	assert_int_equal(json_array_size(json_object_get(j, "states")), 0);
	csv = as_csv(s);
	assert_string_equal(csv, "state,month,dimension,value,count,mean_ms,median_ms,p90_ms\n");
	free(csv);
	json_decref(j);
	mla_stats_free(s);
}

/* The CSV of test_single_case up to its "all" group, exactly (SPEC 16.13, CSV). */
static const char single_csv[] =
	"state,month,dimension,value,count,mean_ms,median_ms,p90_ms\n"
	"ES,2026-11,cases,all,1,,,\n"
	"ES,2026-11,kind,mla,1,,,\n"
	"ES,2026-11,partner,CO,1,,,\n"
	"ES,2026-11,direction,outgoing,1,,,\n"
	"ES,2026-11,direction,incoming,0,,,\n"
	"ES,2026-11,outcome,executed,1,,,\n"
	"ES,2026-11,priority,unknown,1,,,\n"
	"ES,2026-11,time,to-receipt,1,1000,1000,1000\n"
	"ES,2026-11,time,to-decision,1,5000,5000,5000\n"
	"ES,2026-11,time,to-execution,1,9000,9000,9000\n"
	"ES,2026-11,art28,production-order:issued,0,,,\n"
	"ES,2026-11,art28,production-order:issued-emergency,0,,,\n"
	"ES,2026-11,art28,production-order:fulfilled,0,,,\n"
	"ES,2026-11,art28,production-order:not-fulfilled,0,,,\n"
	"ES,2026-11,art28,production-order:refused,0,,,\n"
	"ES,2026-11,art28,production-order:received,0,,,\n"
	"ES,2026-11,art28,production-order:received-fulfilled,0,,,\n"
	"ES,2026-11,art28,production-order:fulfilled-emergency,0,,,\n"
	"ES,2026-11,art28,production-order:not-fulfilled-emergency,0,,,\n"
	"ES,2026-11,art28,production-order:refused-emergency,0,,,\n"
	"ES,2026-11,art28,production-order:time-to-fulfilment,0,,,\n"
	"ES,2026-11,art28,production-order:time-to-fulfilment-emergency,0,,,\n"
	"ES,2026-11,art28,preservation-order:issued,0,,,\n"
	"ES,2026-11,art28,preservation-order:issued-emergency,0,,,\n"
	"ES,2026-11,art28,preservation-order:fulfilled,0,,,\n"
	"ES,2026-11,art28,preservation-order:not-fulfilled,0,,,\n"
	"ES,2026-11,art28,preservation-order:refused,0,,,\n"
	"ES,2026-11,art28,preservation-order:received,0,,,\n"
	"ES,2026-11,art28,preservation-order:received-fulfilled,0,,,\n"
	"ES,2026-11,art28,preservation-order:fulfilled-emergency,0,,,\n"
	"ES,2026-11,art28,preservation-order:not-fulfilled-emergency,0,,,\n"
	"ES,2026-11,art28,preservation-order:refused-emergency,0,,,\n"
	"ES,2026-11,art28,preservation-order:time-to-fulfilment,0,,,\n"
	"ES,2026-11,art28,preservation-order:time-to-fulfilment-emergency,0,,,\n";

static void test_single_case(void **state)
{
	mla_stats *s = mla_stats_new();
	json_t *j, *g;
	char *csv;
	(void)state;

	out_request(s, "ES-1", "mla", T0, 1000);
	in_step(s, "ES-1", "mla", "received", T0 + 2000);
	in_step(s, "ES-1", "mla", "accepted", T0 + 5000);
	in_step(s, "ES-1", "mla", "executed", T0 + 9000);
	j = as_json(s);
	assert_int_equal(json_array_size(json_object_get(j, "states")), 1);
	g = group(j, 0, 0);
	assert_string_equal(json_string_value(json_object_get(g, "month")), "2026-11");
	assert_int_equal(num(g, "cases", NULL), 1);
	assert_int_equal(num(g, "kind", "mla"), 1);
	assert_int_equal(num(g, "partner", "CO"), 1);
	assert_int_equal(num(g, "direction", "outgoing"), 1);
	assert_int_equal(num(g, "direction", "incoming"), 0);
	assert_int_equal(num(g, "outcome", "executed"), 1);
	assert_int_equal(num(g, "outcome", "accepted"), -1); /* only the final one counts */
	assert_int_equal(num(g, "priority", "unknown"), 1); /* entries before version 6 */
	assert_null(json_object_get(g, "ground"));
	assert_int_equal(tnum(g, "to-receipt", "median_ms"), 1000);
	assert_int_equal(tnum(g, "to-decision", "mean_ms"), 5000);
	assert_int_equal(tnum(g, "to-execution", "p90_ms"), 9000);
	g = group(j, 0, -1);
	assert_string_equal(json_string_value(json_object_get(g, "month")), "all");
	assert_int_equal(num(g, "cases", NULL), 1);
	json_decref(j);
	csv = as_csv(s);
	assert_int_equal(strncmp(csv, single_csv, strlen(single_csv)), 0);
	/* then the "all" group, the same rows */
	assert_ptr_equal(strstr(csv, "ES,all,cases,all,1,,,\n"), csv + strlen(single_csv));
	free(csv);
	mla_stats_free(s);
}

/* 2026-01-31T23:59:59.999Z is January, even when its receipt is in February; a leap day. */
static void test_month_boundaries(void **state)
{
	const int64_t feb1 = INT64_C(1769904000000); /* 2026-02-01T00:00:00.000Z */
	const int64_t leap = INT64_C(1709164800000); /* 2024-02-29T00:00:00.000Z */
	const int64_t dec31 = INT64_C(1767225599999); /* 2025-12-31T23:59:59.999Z */
	mla_stats *s = mla_stats_new();
	json_t *j;
	(void)state;

	out_request(s, "ES-L", "mla", leap + DAY - 1, 10);
	out_request(s, "ES-D", "mla", dec31, 5);
	out_request(s, "ES-J", "mla", feb1 - 1, 2);
	out_request(s, "ES-F", "mla", feb1, 2);
	out_request(s, "ES-G", "mla", feb1 + 27 * DAY + DAY - 1, 2); /* Feb 28, 2026: no 29th */
	j = as_json(s);
	assert_string_equal(json_string_value(json_object_get(group(j, 0, 0), "month")),
			    "2024-02");
	assert_string_equal(json_string_value(json_object_get(group(j, 0, 1), "month")),
			    "2025-12");
	assert_string_equal(json_string_value(json_object_get(group(j, 0, 2), "month")),
			    "2026-01");
	assert_int_equal(num(group(j, 0, 2), "cases", NULL), 1);
	assert_string_equal(json_string_value(json_object_get(group(j, 0, 3), "month")),
			    "2026-02");
	assert_int_equal(num(group(j, 0, 3), "cases", NULL), 2);
	assert_int_equal(num(group(j, 0, -1), "cases", NULL), 5);
	assert_int_equal(json_array_size(json_object_get(
				 json_array_get(json_object_get(j, "states"), 0), "months")),
			 5);
	json_decref(j);
	mla_stats_free(s);
}

/* 10 received requests whose receipts took 1..10 s: mean 5500, median (rank 5) 5000, p90
 * (rank 9) 9000; and odd times whose mean rounds down. */
static void test_percentiles(void **state)
{
	mla_stats *s = mla_stats_new();
	char id[16];
	json_t *j, *g;
	(void)state;

	for (int i = 10; i >= 1; i--) {
		int m = ++msg_counter;
		assert_int_equal(mla_snprintf(id, sizeof(id), "CO-%d", i), MLA_OK);
		feed(s, "ES", MLA_AUDIT_RECEIVED, m, id, "evidence", "request", "CO", "ES",
		     T0 + i * 100000);
		feed(s, "ES", MLA_AUDIT_RECEIPT_ISSUED, m, id, "evidence", "request", "CO", "ES",
		     T0 + i * 100000 + i * 1000);
	}
	/* two decisions of 1 ms and 2 ms: mean 1 (1.5 rounded down), median 1, p90 2 */
	out_step(s, "ES", "CO-1", "evidence", "accepted", "CO", T0 + 100000, 1);
	out_step(s, "ES", "CO-2", "evidence", "refused", "CO", T0 + 200000 + 1, 1);
	/* a delivered entry of a message this log never issued counts for nothing */
	delivered(s, "ES", 9999, "ES", "CO", T0 + 300000);
	/* CO withdraws CO-1 after its acceptance (the decision time stays), and a refusal sent
	 * by CO names a case whose requesting State is ES: no case of this log */
	in_step(s, "CO-1", "evidence", "withdrawn", T0 + 100000 + 3);
	in_step(s, "CO-3", "evidence", "refused", T0 + 300000 + 3);
	j = as_json(s);
	g = group(j, 0, -1);
	assert_int_equal(num(g, "direction", "incoming"), 10);
	assert_int_equal(num(g, "partner", "CO"), 10);
	assert_int_equal(tnum(g, "to-receipt", "n"), 10);
	assert_int_equal(tnum(g, "to-receipt", "mean_ms"), 5500);
	assert_int_equal(tnum(g, "to-receipt", "median_ms"), 5000);
	assert_int_equal(tnum(g, "to-receipt", "p90_ms"), 9000);
	assert_int_equal(tnum(g, "to-decision", "n"), 2);
	assert_int_equal(tnum(g, "to-decision", "mean_ms"), 1);
	assert_int_equal(tnum(g, "to-decision", "median_ms"), 1);
	assert_int_equal(tnum(g, "to-decision", "p90_ms"), 2);
	assert_int_equal(tnum(g, "to-execution", "n"), 0);
	assert_true(json_is_null(json_object_get(
		json_object_get(json_object_get(g, "time"), "to-execution"), "mean_ms")));
	assert_int_equal(num(g, "outcome", "received"), 8);
	assert_int_equal(num(g, "outcome", "withdrawn"), 1);
	assert_int_equal(num(g, "outcome", "refused"), 1);
	assert_int_equal(num(g, "outcome", "accepted"), -1);
	json_decref(j);
	mla_stats_free(s);
}

/* Withdrawn and closed; refused then closed keeps refused; art. 28 figures. */
static void test_outcomes_art28(void **state)
{
	mla_stats *s = mla_stats_new();
	json_t *j, *g;
	char *csv;
	(void)state;

	out_request(s, "ES-W", "production-order", T0, 10);
	out_step(s, "ES", "ES-W", "production-order", "withdrawn", "CO", T0 + 20, 10);
	in_step(s, "ES-W", "production-order", "closed", T0 + 40);
	out_request(s, "ES-R", "production-order", T0, 10);
	in_step(s, "ES-R", "production-order", "refused", T0 + 50);
	out_step(s, "ES", "ES-R", "production-order", "closed", "CO", T0 + 55, 5);
	out_request(s, "ES-X", "production-order", T0, 10);
	in_step(s, "ES-X", "production-order", "accepted", T0 + 70);
	in_step(s, "ES-X", "production-order", "deadline-extended", T0 + 75);
	in_step(s, "ES-X", "production-order", "partially-executed", T0 + 4000);
	/* a received preservation order executed by ES */
	feed(s, "ES", MLA_AUDIT_RECEIVED, 902, "CO-P", "preservation-order", "request", "CO",
	     "ES", T0);
	out_step(s, "ES", "CO-P", "preservation-order", "accepted", "CO", T0 + 90, 10);
	out_step(s, "ES", "CO-P", "preservation-order", "executed", "CO", T0 + 190, 10);
	j = as_json(s);
	g = group(j, 0, -1);
	assert_int_equal(num(g, "cases", NULL), 4);
	assert_int_equal(num(g, "outcome", "withdrawn"), 1);
	assert_int_equal(num(g, "outcome", "refused"), 1);
	assert_int_equal(num(g, "outcome", "partially-executed"), 1);
	assert_int_equal(num(g, "outcome", "executed"), 1);
	assert_int_equal(num(g, "art28", "production-order:issued"), 3);
	assert_int_equal(num(g, "art28", "production-order:fulfilled"), 1);
	assert_int_equal(num(g, "art28", "production-order:not-fulfilled"), 2);
	assert_int_equal(num(g, "art28", "production-order:refused"), 1);
	/* entries before version 6: no priority, so no emergency, and the ground unknown */
	assert_int_equal(num(g, "art28", "production-order:refused-emergency"), 0);
	assert_int_equal(num(g, "art28", "production-order:fulfilled-emergency"), 0);
	assert_int_equal(num(g, "art28", "production-order:ground:unknown"), 1);
	assert_int_equal(num(g, "art28", "preservation-order:received"), 1);
	assert_int_equal(num(g, "art28", "preservation-order:received-fulfilled"), 1);
	assert_int_equal(num(g, "art28", "preservation-order:issued"), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
				 g, "art28"), "production-order:time-to-fulfilment"), "mean_ms")),
			 4000);
	csv = as_csv(s);
	assert_non_null(strstr(csv, "\nES,2026-11,outcome,withdrawn,1,,,\n"));
	assert_non_null(strstr(csv, "\nES,all,ground,unknown,1,,,\n"));
	assert_non_null(strstr(csv, "\nES,all,priority,unknown,4,,,\n"));
	assert_non_null(strstr(csv, "\nES,all,time,to-execution,2,2100,200,4000\n"));
	assert_non_null(strstr(csv, "\nES,all,art28,production-order:fulfilled,1,,,\n"));
	free(csv);
	json_decref(j);
	mla_stats_free(s);
}

/* Refused envelopes, a request never delivered, a step of an unknown case and events that are
 * no step count for nothing; a bad State is refused. */
static void test_ignored(void **state)
{
	mla_stats *s = mla_stats_new();
	mla_audit_entry e;
	mla_diag d = {MLA_OK, ""};
	json_t *j;
	(void)state;

	feed(s, "ES", MLA_AUDIT_SUBMITTED, 700, "ES-N", "mla", "request", "ES", "CO", T0);
	in_step(s, "ES-U", "mla", "accepted", T0);
	feed(s, "ES", MLA_AUDIT_DOCUMENT_FETCHED, 701, "ES-U", "mla", "request", "CO", "ES", T0);
	mla_audit_entry_init(&e);
	e.event = MLA_AUDIT_REJECTED;
	msg_id(702, e.message_id);
	SET(e.case_id, "CO-R");
	SET(e.kind, "mla");
	SET(e.action, "request");
	SET(e.from, "CO");
	SET(e.to, "ES");
	SET(e.error, "case-step");
	assert_int_equal(mla_stats_add(s, "ES", &e, &d), MLA_OK);
	/* what no parsed entry holds: a lower-case State, a time before 1970 */
	feed(s, "ES", MLA_AUDIT_RECEIVED, 703, "CO-L", "mla", "request", "co", "ES", T0);
	feed(s, "ES", MLA_AUDIT_RECEIVED, 704, "CO-T", "mla", "request", "CO", "ES", -5);
	j = as_json(s);
	assert_int_equal(json_array_size(json_object_get(j, "states")), 0);
	json_decref(j);
	/* entries fed out of time order give no negative time */
	feed(s, "ES", MLA_AUDIT_RECEIVED, 705, "CO-O", "mla", "request", "CO", "ES", T0 + 1000);
	out_step(s, "ES", "CO-O", "mla", "accepted", "CO", T0, 10);
	j = as_json(s);
	assert_int_equal(num(group(j, 0, -1), "outcome", "accepted"), 1);
	assert_int_equal(tnum(group(j, 0, -1), "to-decision", "n"), 0);
	json_decref(j);
	assert_int_equal(mla_stats_add(s, "es", &e, &d), MLA_ERR_ARG);
	assert_int_equal(mla_stats_add(s, "ESP", &e, &d), MLA_ERR_ARG);
	mla_stats_free(s);
}

/* Two States' logs interleaved: each State its own figures, the same case counted once on
 * each side; the output is the same whatever the interleaving. */
static void test_two_states(void **state)
{
	mla_stats *a = mla_stats_new(), *b = mla_stats_new();
	mla_diag d = {MLA_OK, ""};
	mla_buf ja, jb;
	json_t *j;
	(void)state;

	out_request(a, "ES-2", "mla", T0, 10);
	feed(a, "CO", MLA_AUDIT_RECEIVED, 800, "ES-2", "mla", "request", "ES", "CO", T0 + 5);
	feed(b, "CO", MLA_AUDIT_RECEIVED, 800, "ES-2", "mla", "request", "ES", "CO", T0 + 5);
	out_request(b, "ES-2", "mla", T0, 10);
	mla_buf_init(&ja, 1 << 20);
	mla_buf_init(&jb, 1 << 20);
	assert_int_equal(mla_stats_json(a, &ja, &d), MLA_OK);
	assert_int_equal(mla_stats_json(b, &jb, &d), MLA_OK);
	assert_int_equal(ja.len, jb.len);
	assert_memory_equal(ja.data, jb.data, ja.len);
	j = as_json(a);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "states"), 0), "state")),
			    "CO");
	assert_int_equal(num(group(j, 0, -1), "direction", "incoming"), 1);
	assert_int_equal(num(group(j, 1, -1), "direction", "outgoing"), 1);
	json_decref(j);
	mla_buf_free(&ja);
	mla_buf_free(&jb);
	mla_stats_free(a);
	mla_stats_free(b);
}

/* Entries of version 6: the requests' priorities and the refusals' coded grounds; a refusal
 * without coded grounds (opaque) and one before version 6; art. 28's emergency figure. */
static void test_priority_grounds(void **state)
{
	mla_stats *s = mla_stats_new();
	json_t *j, *g;
	char *csv;
	(void)state;

	cur_priority = "urgent";
	out_request(s, "ES-U", "production-order", T0, 10);
	cur_grounds = "untoc-18-21-a,eio-11-1-b";
	in_step(s, "ES-U", "production-order", "refused", T0 + 100);
	cur_priority = "crisis";
	out_request(s, "ES-C", "production-order", T0, 10);
	cur_grounds = "eio-11-1-b";
	in_step(s, "ES-C", "production-order", "refused", T0 + 100);
	cur_priority = "normal";
	cur_grounds = "";
	out_request(s, "ES-N", "mla", T0, 10);
	in_step(s, "ES-N", "mla", "refused", T0 + 100); /* opaque: no coded grounds */
	feed(s, "ES", MLA_AUDIT_RECEIVED, 950, "CO-N", "mla", "request", "CO", "ES", T0);
	cur_priority = "";
	out_request(s, "ES-O", "mla", T0, 10); /* written before version 6 */
	in_step(s, "ES-O", "mla", "refused", T0 + 100);
	j = as_json(s);
	g = group(j, 0, -1);
	assert_int_equal(num(g, "priority", "normal"), 2);
	assert_int_equal(num(g, "priority", "urgent"), 1);
	assert_int_equal(num(g, "priority", "crisis"), 1);
	assert_int_equal(num(g, "priority", "unknown"), 1);
	assert_int_equal(num(g, "ground", "untoc-18-21-a"), 1);
	assert_int_equal(num(g, "ground", "eio-11-1-b"), 2);
	assert_int_equal(num(g, "ground", "none"), 1);
	assert_int_equal(num(g, "ground", "unknown"), 1);
	assert_int_equal(num(g, "outcome", "refused"), 4);
	assert_int_equal(num(g, "art28", "production-order:issued"), 2);
	assert_int_equal(num(g, "art28", "production-order:issued-emergency"), 2);
	assert_int_equal(num(g, "art28", "production-order:refused"), 2);
	/* the breakdowns of art. 28(2): (c)-(d) by emergency, (d)'s grounds by Kind */
	assert_int_equal(num(g, "art28", "production-order:refused-emergency"), 2);
	assert_int_equal(num(g, "art28", "production-order:not-fulfilled-emergency"), 2);
	assert_int_equal(num(g, "art28", "production-order:fulfilled-emergency"), 0);
	assert_int_equal(num(g, "art28", "production-order:ground:untoc-18-21-a"), 1);
	assert_int_equal(num(g, "art28", "production-order:ground:eio-11-1-b"), 2);
	assert_int_equal(num(g, "art28", "production-order:ground:none"), -1);
	assert_int_equal(num(g, "art28", "preservation-order:refused-emergency"), 0);
	json_decref(j);
	csv = as_csv(s);
	/* grounds in the list's order, then none and unknown */
	assert_non_null(strstr(csv, "\nES,all,ground,untoc-18-21-a,1,,,\n"
				    "ES,all,ground,eio-11-1-b,2,,,\n"
				    "ES,all,ground,none,1,,,\n"
				    "ES,all,ground,unknown,1,,,\n"));
	assert_non_null(strstr(csv, "\nES,all,priority,normal,2,,,\n"
				    "ES,all,priority,urgent,1,,,\n"
				    "ES,all,priority,crisis,1,,,\n"
				    "ES,all,priority,unknown,1,,,\n"));
	free(csv);
	mla_stats_free(s);
}

/* art. 28(2)(c), (e) by emergency: an urgent order fulfilled beside a normal one. */
static void test_art28_emergency(void **state)
{
	mla_stats *s = mla_stats_new();
	json_t *j, *g, *t;
	(void)state;

	cur_priority = "urgent";
	out_request(s, "ES-U", "production-order", T0, 10);
	in_step(s, "ES-U", "production-order", "accepted", T0 + 100);
	in_step(s, "ES-U", "production-order", "executed", T0 + 3000);
	cur_priority = "normal";
	out_request(s, "ES-N", "production-order", T0, 10);
	in_step(s, "ES-N", "production-order", "executed", T0 + 9000);
	cur_priority = "";
	j = as_json(s);
	g = group(j, 0, -1);
	assert_int_equal(num(g, "art28", "production-order:fulfilled"), 2);
	assert_int_equal(num(g, "art28", "production-order:fulfilled-emergency"), 1);
	assert_int_equal(num(g, "art28", "production-order:not-fulfilled-emergency"), 0);
	t = json_object_get(json_object_get(g, "art28"), "production-order:time-to-fulfilment");
	assert_int_equal(json_integer_value(json_object_get(t, "n")), 2);
	assert_int_equal(json_integer_value(json_object_get(t, "mean_ms")), 6000);
	t = json_object_get(json_object_get(g, "art28"),
			    "production-order:time-to-fulfilment-emergency");
	assert_int_equal(json_integer_value(json_object_get(t, "n")), 1);
	assert_int_equal(json_integer_value(json_object_get(t, "mean_ms")), 3000);
	json_decref(j);
	mla_stats_free(s);
}

/* The log of test_outcomes_art28 (its cases and steps), fed once or twice. */
static void outcome_log(mla_stats *s, int times)
{
	for (int i = 0; i < times; i++) {
		msg_counter = 100;
		out_request(s, "ES-W", "production-order", T0, 10);
		out_step(s, "ES", "ES-W", "production-order", "withdrawn", "CO", T0 + 20, 10);
		out_request(s, "ES-X", "mla", T0 + DAY * 40, 10);
		in_step(s, "ES-X", "mla", "accepted", T0 + DAY * 40 + 70);
		in_step(s, "ES-X", "mla", "executed", T0 + DAY * 41);
		feed(s, "ES", MLA_AUDIT_RECEIVED, 902, "CO-P", "evidence", "request", "CO", "ES",
		     T0 + 5);
		feed(s, "ES", MLA_AUDIT_RECEIPT_ISSUED, 902, "CO-P", "evidence", "request", "CO",
		     "ES", T0 + 6);
	}
}

/* A bundle given twice (SPEC 16.13): the same figures. */
static void test_same_log_twice(void **state)
{
	mla_stats *a = mla_stats_new(), *b = mla_stats_new();
	mla_diag d = {MLA_OK, ""};
	mla_buf ja, jb;
	(void)state;

	outcome_log(a, 1);
	outcome_log(b, 2);
	mla_buf_init(&ja, 1 << 20);
	mla_buf_init(&jb, 1 << 20);
	assert_int_equal(mla_stats_csv(a, &ja, &d), MLA_OK);
	assert_int_equal(mla_stats_csv(b, &jb, &d), MLA_OK);
	assert_int_equal(ja.len, jb.len);
	assert_memory_equal(ja.data, jb.data, ja.len);
	assert_int_equal(mla_buf_terminate(&ja), MLA_OK);
	assert_non_null(strstr((const char *)ja.data, "\nES,all,cases,all,3,,,\n"));
	assert_non_null(strstr((const char *)ja.data, "\nES,2026-12,cases,all,1,,,\n"));
	mla_buf_free(&ja);
	mla_buf_free(&jb);
	mla_stats_free(a);
	mla_stats_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_single_case),
		cmocka_unit_test(test_month_boundaries),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_outcomes_art28),
		cmocka_unit_test(test_ignored),
		cmocka_unit_test(test_two_states),
		cmocka_unit_test(test_same_log_twice),
		cmocka_unit_test(test_priority_grounds),
		cmocka_unit_test(test_art28_emergency),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
