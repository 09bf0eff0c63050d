/* Unit tests of case ownership in the store (gateway/store/store_cases.c): a case of this State
 * is opened by its first submission, another principal is refused without a grant and nothing
 * is stored, which case a message belongs to (this State's or the peer's), and the upgrade of
 * an older store keeps every case with the principal that opened it. */
#define _XOPEN_SOURCE 700 /* nftw(), to remove the temporary directories */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "store/store.h"
#include "store/store_fault.h"

#define A "authority:ca-madrid"
#define B "authority:ca-barcelona"

struct fx {
	char dir[64];
	char path[128];
	gw_store *s;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	mla_diag d = {MLA_OK, ""};

	if (f == NULL)
		return -1;
	if (mla_snprintf(f->dir, sizeof(f->dir), "/tmp/mlagw-test-cases-XXXXXX") != MLA_OK ||
	    mkdtemp(f->dir) == NULL ||
	    mla_snprintf(f->path, sizeof(f->path), "%s/gw.db", f->dir) != MLA_OK ||
	    store_init(f->path, &d) != MLA_OK || store_open(f->path, &f->s, &d) != MLA_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	(void)nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void make_id(char *id, size_t len, unsigned n)
{
	assert_int_equal(mla_snprintf(id, len, "00000000-0000-4000-8000-%012u", n), MLA_OK);
}

/* Message n to FR in case_id, submitted by who, answering reply (0: none). */
static struct out_msg out(unsigned n, const char *case_id, const char *who, unsigned reply)
{
	struct out_msg m;

	memset(&m, 0, sizeof(m));
	make_id(m.message_id, sizeof(m.message_id), n);
	if (reply != 0)
		make_id(m.in_reply_to, sizeof(m.in_reply_to), reply);
	assert_int_equal(mla_strcpy(m.case_id, sizeof(m.case_id), case_id), MLA_OK);
	assert_int_equal(mla_strcpy(m.to_state, sizeof(m.to_state), "FR"), MLA_OK);
	assert_int_equal(mla_strcpy(m.kind, sizeof(m.kind), "mla"), MLA_OK);
	assert_int_equal(mla_strcpy(m.action, sizeof(m.action), reply ? "withdrawn" : "request"),
			 MLA_OK);
	assert_int_equal(mla_strcpy(m.submitted_by, sizeof(m.submitted_by), who), MLA_OK);
	assert_int_equal(mla_strcpy(m.case_state, sizeof(m.case_state), "ES"), MLA_OK);
	m.created_ms = m.next_attempt_ms = 1000 + n;
	m.deadline_ms = m.created_ms + 86400000;
	memset(m.digest, (int)n, sizeof(m.digest));
	return m;
}

/* Message n from FR in case_id with action, answering reply (0: none). */
static struct in_msg in(unsigned n, const char *case_id, const char *action, unsigned reply)
{
	struct in_msg m;

	memset(&m, 0, sizeof(m));
	make_id(m.message_id, sizeof(m.message_id), n);
	if (reply != 0)
		make_id(m.in_reply_to, sizeof(m.in_reply_to), reply);
	assert_int_equal(mla_strcpy(m.case_id, sizeof(m.case_id), case_id), MLA_OK);
	assert_int_equal(mla_strcpy(m.from_state, sizeof(m.from_state), "FR"), MLA_OK);
	assert_int_equal(mla_strcpy(m.kind, sizeof(m.kind), "mla"), MLA_OK);
	assert_int_equal(mla_strcpy(m.action, sizeof(m.action), action), MLA_OK);
	m.priority = 0;
	m.created_ms = m.received_ms = 2000 + n;
	memset(m.digest, 0x80 + (int)n, sizeof(m.digest));
	return m;
}

static const uint8_t env[] = "<Envelope/>", rcpt[] = "<Receipt/>";

static mla_err put(gw_store *s, const struct out_msg *m)
{
	return store_outbox_put(s, m, env, sizeof(env), NULL);
}

static void put_in(gw_store *s, const struct in_msg *m)
{
	assert_int_equal(store_inbox_put(s, m, 1, env, sizeof(env), rcpt, sizeof(rcpt), NULL),
			 MLA_OK);
}

static void owner_is(gw_store *s, const char *case_id, const char *want)
{
	char owner[96];

	assert_int_equal(store_case_owner(s, "ES", case_id, owner, NULL), MLA_OK);
	assert_string_equal(owner, want);
}

static mla_err keep(const struct store_api_row *row, void *arg)
{
	*(struct store_api_row *)arg = *row;
	return MLA_OK;
}

/* peer_case of message n as the API reads it. */
static int peer_case_of(gw_store *s, unsigned n)
{
	struct store_api_filter f;
	struct store_api_row row;
	char id[MLA_UUID_LEN + 1];
	size_t k = 0;

	make_id(id, sizeof(id), n);
	memset(&f, 0, sizeof(f));
	f.priority = f.state = -1;
	f.message_id = id;
	assert_int_equal(store_api_select(s, &f, keep, &row, &k, NULL), MLA_OK);
	assert_int_equal(k, 1);
	return row.peer_case;
}

/* The first submission opens the case; another principal is refused and nothing is stored;
 * a granted one is let in and the case keeps its owner. */
static void test_open_refuse_grant(void **state)
{
	struct fx *f = *state;
	struct out_msg a = out(1, "ES/2026/7", A, 0), b = out(2, "ES/2026/7", B, 0), got;
	mla_diag d = {MLA_OK, ""};

	owner_is(f->s, "ES/2026/7", "");
	assert_int_equal(put(f->s, &a), MLA_OK);
	owner_is(f->s, "ES/2026/7", A);
	assert_int_equal(store_outbox_put(f->s, &b, env, sizeof(env), &d), MLA_ERR_FORBIDDEN);
	assert_non_null(strstr(d.msg, "belongs to another authority"));
	assert_null(strstr(d.msg, "ca-madrid")); /* never who */
	assert_int_equal(store_outbox_get(f->s, b.message_id, &got, NULL), MLA_ERR_NOT_FOUND);
	b.case_granted = 1;
	assert_int_equal(put(f->s, &b), MLA_OK);
	owner_is(f->s, "ES/2026/7", A);
	/* A answering its own message stays in its case; no case_state: no check (an agency) */
	a = out(3, "ES/2026/7", A, 1);
	assert_int_equal(put(f->s, &a), MLA_OK);
	b = out(4, "ES/2026/8", B, 0);
	b.case_state[0] = '\0';
	assert_int_equal(put(f->s, &b), MLA_OK);
	owner_is(f->s, "ES/2026/8", "");
}

/* Within a group commit the refusal undoes only itself. */
static void test_refusal_in_group(void **state)
{
	struct fx *f = *state;
	struct out_msg a = out(1, "c", A, 0), b = out(2, "c", B, 0), a2 = out(3, "d", A, 0);

	assert_int_equal(store_begin(f->s, NULL), MLA_OK);
	assert_int_equal(put(f->s, &a), MLA_OK);
	assert_int_equal(put(f->s, &b), MLA_ERR_FORBIDDEN);
	assert_int_equal(put(f->s, &a2), MLA_OK);
	assert_int_equal(store_commit(f->s, NULL), MLA_OK);
	owner_is(f->s, "c", A);
	owner_is(f->s, "d", A);
}

/* Whose case a message is in: a peer's request is the peer's even with our case id string;
 * answers follow the message they answer; a peer's follow-up in its own case stays its. */
static void test_case_key(void **state)
{
	struct fx *f = *state;
	struct out_msg a = out(1, "X", A, 0), ack;
	struct in_msg ans = in(2, "X", "accepted", 1), req = in(3, "X", "request", 0),
		      follow = in(5, "X", "additional-information-provided", 4),
		      stray = in(6, "X", "accepted", 0), forged = in(7, "X", "request", 1);
	int pc = -1;

	assert_int_equal(put(f->s, &a), MLA_OK);
	put_in(f->s, &ans);
	put_in(f->s, &req);
	ack = out(4, "X", "agency:udef", 3); /* the agency answers FR's request */
	ack.case_state[0] = '\0';
	assert_int_equal(put(f->s, &ack), MLA_OK);
	put_in(f->s, &follow);
	put_in(f->s, &stray);
	put_in(f->s, &forged);
	assert_int_equal(peer_case_of(f->s, 1), 0);
	assert_int_equal(peer_case_of(f->s, 2), 0);
	assert_int_equal(peer_case_of(f->s, 3), 1);
	assert_int_equal(peer_case_of(f->s, 4), 1);
	assert_int_equal(peer_case_of(f->s, 5), 1);
	assert_int_equal(peer_case_of(f->s, 6), 1); /* no in_reply_to: the sender's case */
	assert_int_equal(peer_case_of(f->s, 7), 1); /* a request is always its sender's */
	/* an answer naming another case id than the message it answers: its own key */
	assert_int_equal(store_case_key(f->s, 1, "Y", a.message_id, "FR", "accepted", &pc, NULL),
			 MLA_OK);
	assert_int_equal(pc, 1);
	/* the submission check's view of an authority's answer to FR's request */
	assert_int_equal(store_case_key(f->s, 0, "X", req.message_id, "FR", "withdrawn", &pc,
					NULL), MLA_OK);
	assert_int_equal(pc, 1);
}

/* Own filter: only this State's cases of the listed owners, or of all for a supervisor. */
static void test_own_filter(void **state)
{
	struct fx *f = *state;
	struct out_msg a = out(1, "X", A, 0), b = out(2, "Y", B, 0);
	struct in_msg ans = in(3, "X", "accepted", 1), req = in(4, "X", "request", 0);
	struct store_api_filter flt;
	struct store_api_row row;
	size_t n = 0;

	assert_int_equal(put(f->s, &a), MLA_OK);
	assert_int_equal(put(f->s, &b), MLA_OK);
	put_in(f->s, &ans);
	put_in(f->s, &req);
	memset(&flt, 0, sizeof(flt));
	flt.priority = flt.state = -1;
	flt.own_state = "ES";
	flt.owners = "[\"" A "\"]";
	assert_int_equal(store_api_select(f->s, &flt, keep, &row, &n, NULL), MLA_OK);
	assert_int_equal(n, 2); /* A's request and FR's answer, not FR's request */
	flt.owners = "[\"" B "\", \"" A "\"]";
	assert_int_equal(store_api_select(f->s, &flt, keep, &row, &n, NULL), MLA_OK);
	assert_int_equal(n, 3);
	flt.owners = "[\"authority:nobody\"]";
	assert_int_equal(store_api_select(f->s, &flt, keep, &row, &n, NULL), MLA_OK);
	assert_int_equal(n, 0);
	flt.own_all = 1;
	assert_int_equal(store_api_select(f->s, &flt, keep, &row, &n, NULL), MLA_OK);
	assert_int_equal(n, 3);
	flt.own_state = "FR"; /* another State's key: none of ours */
	assert_int_equal(store_api_select(f->s, &flt, keep, &row, &n, NULL), MLA_OK);
	assert_int_equal(n, 0);
}

/* An older store: the upgrade classifies every message and the daemon's adoption gives each
 * case of this State the submitter of its earliest message (the socket's rows, stored with
 * no submitter, to the socket's principal); nothing changes hands, and it runs once. */
static void test_upgrade_adopts(void **state)
{
	struct fx *f = *state;
	struct out_msg a = out(1, "X", A, 0), b = out(2, "X", B, 0), s0 = out(3, "Z", "", 0),
		       ack;
	struct in_msg ans = in(4, "X", "accepted", 1), req = in(5, "W", "request", 0),
		      follow = in(7, "W", "additional-information-provided", 6);
	mla_diag d = {MLA_OK, ""};
	size_t n = 9;

	a.case_state[0] = b.case_state[0] = s0.case_state[0] = '\0'; /* as before version 4 */
	assert_int_equal(put(f->s, &a), MLA_OK);
	assert_int_equal(put(f->s, &b), MLA_OK);
	assert_int_equal(put(f->s, &s0), MLA_OK);
	put_in(f->s, &ans);
	put_in(f->s, &req);
	ack = out(6, "W", "agency:udef", 5);
	ack.case_state[0] = '\0';
	assert_int_equal(put(f->s, &ack), MLA_OK);
	put_in(f->s, &follow);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_fault_make_v1(f->path, &d), MLA_OK);
	assert_int_equal(store_open(f->path, &f->s, &d), MLA_OK);
	assert_int_equal(store_cases_adopt(f->s, "ES", "authority:socket", &n, &d), MLA_OK);
	assert_int_equal(n, 2);
	owner_is(f->s, "X", A);
	owner_is(f->s, "Z", "authority:socket");
	owner_is(f->s, "W", "");
	assert_int_equal(peer_case_of(f->s, 1), 0);
	assert_int_equal(peer_case_of(f->s, 4), 0);
	assert_int_equal(peer_case_of(f->s, 5), 1);
	assert_int_equal(peer_case_of(f->s, 6), 1);
	assert_int_equal(peer_case_of(f->s, 7), 1);
	assert_int_equal(store_cases_adopt(f->s, "ES", "authority:socket", &n, &d), MLA_OK);
	assert_int_equal(n, 0);
	b = out(8, "X", B, 0);
	assert_int_equal(put(f->s, &b), MLA_ERR_FORBIDDEN);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_refuse_grant),
		T(test_refusal_in_group),
		T(test_case_key),
		T(test_own_filter),
		T(test_upgrade_adopts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
