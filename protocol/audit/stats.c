/* The statistics engine's first half (SPEC 16.13): audit entries of case steps kept as small
 * facts, then grouped per case (State, requesting State, case id) into one summary each: its
 * month, kind, partner, direction, outcome and the times from issue to receipt, decision and
 * execution. Pure: no I/O, no clock. */
#include <stdlib.h>
#include <string.h>

#include "stats_internal.h"

enum fact_type {
	F_ISSUE,      /* submitted/answered: this State issued a step (the request or another) */
	F_DELIVERED,  /* delivered: a step of this State took effect (positive receipt verified);
		       * the entry names only the message, resolved through its F_ISSUE */
	F_OUT_TAKEN,  /* a delivered request, resolved */
	F_IN_TAKEN,   /* received: a request from the partner accepted */
	F_IN_RECEIPT, /* receipt-issued for a request */
	F_STEP,	      /* a later step took effect: delivered (resolved) or received */
	F_NONE	      /* a delivered entry of a message this log did not issue */
};

#define NO_OUTCOME 0xff

struct fact {
	uint64_t order; /* place in the input */
	int64_t time_ms;
	char state[3], req[3], from[3], to[3];
	char case_id[MLA_CASE_ID_MAX + 1];
	char msg[MLA_UUID_LEN + 1];
	uint8_t type, kind, outcome;
	uint8_t priority; /* enum stats_priority: SP_UNKNOWN for an entry before version 6 */
	uint16_t grounds; /* bit k: mla_audit_grounds[k] */
};

struct mla_stats {
	struct fact *f;
	size_t n, cap;
};

static const char *const outcome_names[SO_N] = {
	"received", "acknowledged", "forwarded", "additional-information-requested",
	"additional-information-provided", "accepted", "postponed", "in-execution", "executed",
	"partially-executed", "refused", "withdrawn",
};

const char *stats_outcome_name(unsigned o)
{
	return o < SO_N ? outcome_names[o] : NULL;
}

static const char *const priority_names[SP_N] = {"normal", "urgent", "crisis", "unknown"};

const char *stats_priority_name(unsigned p)
{
	return p < SP_N ? priority_names[p] : NULL;
}

static uint8_t priority_of(const char *p)
{
	for (uint8_t i = 0; i < SP_UNKNOWN; i++)
		if (strcmp(p, priority_names[i]) == 0)
			return i;
	return SP_UNKNOWN;
}

/* The grounds field (distinct known codes, comma-separated: the entry parsed) as bits. */
static uint16_t grounds_of(const char *g)
{
	uint16_t bits = 0;

	while (*g != '\0') {
		const char *comma = strchr(g, ',');
		size_t n = comma != NULL ? (size_t)(comma - g) : strlen(g);
		for (unsigned k = 0; k < 16 && mla_audit_grounds[k] != NULL; k++)
			if (strlen(mla_audit_grounds[k]) == n && memcmp(mla_audit_grounds[k], g, n) == 0)
				bits |= (uint16_t)(1u << k);
		g += n + (comma != NULL);
	}
	return bits;
}

mla_stats *mla_stats_new(void)
{
	return calloc(1, sizeof(mla_stats));
}

void mla_stats_free(mla_stats *s)
{
	if (s == NULL)
		return;
	free(s->f);
	free(s);
}

static int is_request(const char *action)
{
	return strcmp(action, "request") == 0 || strcmp(action, "other-channel") == 0;
}

/* The outcome a step leads to; -1 for the actions that change none (closed,
 * deadline-extended, the retrieval notices). */
static int step_outcome(const char *action)
{
	if (is_request(action))
		return SO_RECEIVED;
	if (strcmp(action, "received") == 0)
		return SO_ACKNOWLEDGED;
	for (int o = SO_FORWARDED; o < SO_N; o++)
		if (strcmp(action, outcome_names[o]) == 0)
			return o;
	return -1;
}

/* Steps the requesting State takes (so it is the entry's from); the others are the
 * requested State's (so the requesting State is the entry's to). */
static int requesting_step(const char *action)
{
	return is_request(action) || strcmp(action, "additional-information-provided") == 0 ||
	       strcmp(action, "withdrawn") == 0;
}

static int kind_index(const char *kind)
{
	for (int i = 0; mla_kinds[i] != NULL; i++)
		if (strcmp(kind, mla_kinds[i]) == 0)
			return i;
	return -1;
}

/* The fact an entry is, or -1 when it is none. */
static int fact_type_of(const mla_audit_entry *e)
{
	int req = is_request(e->action);

	switch (e->event) {
	case MLA_AUDIT_SUBMITTED:
	case MLA_AUDIT_ANSWERED:
		return F_ISSUE;
	case MLA_AUDIT_RECEIVED:
		return req ? F_IN_TAKEN : F_STEP;
	case MLA_AUDIT_RECEIPT_ISSUED:
		return req ? F_IN_RECEIPT : -1;
	default:
		return -1;
	}
}

static int state_ok(const char *s)
{
	return s != NULL && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
	       s[2] == '\0';
}

mla_err mla_stats_add(mla_stats *s, const char *state, const mla_audit_entry *e,
		      mla_diag *diag)
{
	struct fact *f, *grown;
	int type, kind = 0, outcome = -1;

	if (!state_ok(state))
		return mla_fail(diag, MLA_ERR_ARG, "statistics: the log's State must be two "
				"upper-case letters");
	if (e->message_id[0] == '\0' || !state_ok(e->from) || !state_ok(e->to) ||
	    e->error[0] != '\0' || e->time_ms < 0 || e->time_ms > MLA_AUDIT_TIME_MAX_MS)
		return MLA_OK; /* no message, a refusal, or not an entry parse accepts */
	if (e->event == MLA_AUDIT_DELIVERED) {
		type = F_DELIVERED;
	} else {
		if (e->case_id[0] == '\0' || e->action[0] == '\0')
			return MLA_OK; /* no case step */
		if ((type = fact_type_of(e)) < 0 || (kind = kind_index(e->kind)) < 0)
			return MLA_OK;
		outcome = step_outcome(e->action);
		if ((type == F_STEP || type == F_ISSUE) && outcome < 0)
			return MLA_OK; /* closed, deadline-extended, notices: no outcome */
	}
	if (s->n >= MLA_STATS_FACTS_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "statistics: more than %u case entries",
				MLA_STATS_FACTS_MAX);
	if ((grown = mla_grow(s->f, &s->cap, s->n, sizeof(*s->f))) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "statistics: out of memory");
	s->f = grown;
	f = &s->f[s->n];
	memset(f, 0, sizeof(*f));
	f->order = s->n++;
	f->time_ms = e->time_ms;
	memcpy(f->state, state, 3);
	memcpy(f->from, e->from, 3);
	memcpy(f->to, e->to, 3);
	if (type != F_DELIVERED)
		memcpy(f->req, requesting_step(e->action) ? e->from : e->to, 3);
	memcpy(f->case_id, e->case_id, sizeof(f->case_id));
	memcpy(f->msg, e->message_id, sizeof(f->msg));
	f->type = (uint8_t)type;
	f->kind = (uint8_t)kind;
	f->outcome = outcome < 0 ? NO_OUTCOME : (uint8_t)outcome;
	f->priority = e->priority[0] != '\0' ? priority_of(e->priority) : SP_UNKNOWN;
	f->grounds = grounds_of(e->grounds);
	return MLA_OK;
}

static int cmp_case(const void *pa, const void *pb)
{
	const struct fact *a = pa, *b = pb;
	int c;

	if ((c = strcmp(a->state, b->state)) != 0 || (c = strcmp(a->req, b->req)) != 0 ||
	    (c = strcmp(a->case_id, b->case_id)) != 0)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* The index of issues and receipts: by State, message, then order. */
static int cmp_msg(const void *pa, const void *pb)
{
	const struct fact *a = *(const struct fact *const *)pa, *b = *(const struct fact *const *)pb;
	int c;

	if ((c = strcmp(a->state, b->state)) != 0 || (c = strcmp(a->msg, b->msg)) != 0)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

struct index {
	struct fact **p;
	size_t n;
};

/* The first fact of type `type` in the index for key's State and message placed after
 * `after` (UINT64_MAX: anywhere), or NULL. Binary search to the message, then forward. */
static const struct fact *index_find(const struct index *ix, const struct fact *key,
				     int type, uint64_t after)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct fact *m = ix->p[mid];
		int c = strcmp(m->state, key->state);
		if (c == 0)
			c = strcmp(m->msg, key->msg);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ix->n; lo++) {
		const struct fact *m = ix->p[lo];
		if (strcmp(m->state, key->state) != 0 || strcmp(m->msg, key->msg) != 0)
			return NULL;
		if (m->type == type && (after == UINT64_MAX || m->order > after))
			return m;
	}
	return NULL;
}

/* Days since 1970-01-01 to the month number year * 12 + month - 1 (civil calendar, UTC). */
static int32_t month_of(int64_t ms)
{
	int64_t z = ms / 86400000 + 719468;
	int64_t era = z / 146097, doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153, m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);

	return (int32_t)(y * 12 + m - 1);
}

/* The request that opens a case: c set and 1, or 0 when f is no such request. */
static int case_open(const struct fact *f, const struct index *ix, struct stats_case *c,
		     int64_t *issuep)
{
	const struct fact *other;
	int64_t issue = f->time_ms;

	if (f->type != F_OUT_TAKEN && f->type != F_IN_TAKEN)
		return 0;
	memset(c, 0, sizeof(*c));
	memcpy(c->state, f->state, 3);
	c->kind = f->kind;
	c->outcome = SO_RECEIVED;
	c->priority = f->priority;
	for (int t = 0; t < ST_N; t++)
		c->time[t] = STATS_NO_TIME;
	if (f->type == F_OUT_TAKEN) {
		c->dir = SD_OUTGOING;
		memcpy(c->partner, f->to, 3);
		if ((other = index_find(ix, f, F_ISSUE, UINT64_MAX)) != NULL &&
		    other->order < f->order && other->time_ms <= f->time_ms)
			issue = other->time_ms;
		c->time[ST_RECEIPT] = f->time_ms - issue;
	} else {
		c->dir = SD_INCOMING;
		memcpy(c->partner, f->from, 3);
		if ((other = index_find(ix, f, F_IN_RECEIPT, f->order)) != NULL &&
		    other->time_ms >= issue)
			c->time[ST_RECEIPT] = other->time_ms - issue;
	}
	c->month = month_of(issue);
	*issuep = issue;
	return 1;
}

/* One case's facts [a, b): its summary into *c, 1; 0 when no request of it took effect. */
static int case_of(const struct fact *a, const struct fact *b, const struct index *ix,
		   struct stats_case *c)
{
	int64_t issue = 0;
	int open = 0;

	for (const struct fact *f = a; f < b; f++) {
		if (!open) {
			open = case_open(f, ix, c, &issue);
			continue;
		}
		if (f->type != F_STEP || f->outcome == NO_OUTCOME)
			continue; /* a request repeated in an open case changes nothing */
		c->outcome = f->outcome;
		if (f->outcome == SO_REFUSED) {
			c->grounds = f->grounds;
			c->ground_state = f->priority == SP_UNKNOWN ? SG_UNKNOWN
					  : f->grounds != 0	     ? SG_CODED
								     : SG_NONE;
		}
		/* times never go back along a log (SPEC 14), so none is negative; the guard
		 * keeps the sums right for a caller that feeds entries out of order */
		if ((f->outcome == SO_ACCEPTED || f->outcome == SO_REFUSED) &&
		    c->time[ST_DECISION] == STATS_NO_TIME && f->time_ms >= issue)
			c->time[ST_DECISION] = f->time_ms - issue;
		if ((f->outcome == SO_EXECUTED || f->outcome == SO_PARTIAL) &&
		    c->time[ST_EXECUTION] == STATS_NO_TIME && f->time_ms >= issue)
			c->time[ST_EXECUTION] = f->time_ms - issue;
	}
	return open;
}

static int cmp_summary(const void *pa, const void *pb)
{
	const struct stats_case *a = pa, *b = pb;
	int c = strcmp(a->state, b->state);

	if (c != 0)
		return c;
	return a->month < b->month ? -1 : a->month > b->month;
}

static mla_err build_index(mla_stats *s, struct index *ix)
{
	ix->n = 0;
	if ((ix->p = malloc((s->n ? s->n : 1) * sizeof(*ix->p))) == NULL)
		return MLA_ERR_NOMEM;
	for (size_t i = 0; i < s->n; i++)
		if (s->f[i].type == F_ISSUE || s->f[i].type == F_IN_RECEIPT)
			ix->p[ix->n++] = &s->f[i];
	qsort(ix->p, ix->n, sizeof(*ix->p), cmp_msg);
	return MLA_OK;
}

/* Each delivered entry takes the case, kind and step of the entry that issued its message
 * (earlier in the same State's log); one of a message this log did not issue is none. */
static mla_err resolve_delivered(mla_stats *s)
{
	struct index ix;
	const struct fact *issue;

	if (build_index(s, &ix) != MLA_OK)
		return MLA_ERR_NOMEM;
	for (size_t i = 0; i < s->n; i++) {
		struct fact *f = &s->f[i];
		if (f->type != F_DELIVERED)
			continue;
		issue = index_find(&ix, f, F_ISSUE, UINT64_MAX);
		if (issue == NULL || issue->order > f->order) {
			f->type = F_NONE;
			continue;
		}
		memcpy(f->req, issue->req, 3);
		memcpy(f->case_id, issue->case_id, sizeof(f->case_id));
		f->kind = issue->kind;
		f->outcome = issue->outcome;
		f->priority = issue->priority;
		f->grounds = issue->grounds;
		f->type = issue->outcome == SO_RECEIVED ? F_OUT_TAKEN : F_STEP;
	}
	free(ix.p);
	return MLA_OK;
}

mla_err stats_cases(mla_stats *s, struct stats_case **cases, size_t *n, mla_diag *diag)
{
	struct stats_case *out = NULL;
	struct index ix = {NULL, 0};
	size_t k = 0;

	*cases = NULL;
	*n = 0;
	if (resolve_delivered(s) != MLA_OK)
		return mla_fail(diag, MLA_ERR_NOMEM, "statistics: out of memory");
	/* by case first: the index points into the sorted array */
	if (s->n > 0) /* s->f is NULL before the first fact */
		qsort(s->f, s->n, sizeof(*s->f), cmp_case);
	if (build_index(s, &ix) != MLA_OK ||
	    (out = malloc((s->n ? s->n : 1) * sizeof(*out))) == NULL) {
		free(ix.p);
		return mla_fail(diag, MLA_ERR_NOMEM, "statistics: out of memory");
	}
	for (size_t i = 0, j; i < s->n; i = j) {
		for (j = i + 1; j < s->n && strcmp(s->f[j].state, s->f[i].state) == 0 &&
				strcmp(s->f[j].req, s->f[i].req) == 0 &&
				strcmp(s->f[j].case_id, s->f[i].case_id) == 0;
		     j++)
			;
		if (case_of(&s->f[i], &s->f[j], &ix, &out[k]))
			k++;
	}
	free(ix.p);
	qsort(out, k, sizeof(*out), cmp_summary);
	*cases = out;
	*n = k;
	return MLA_OK;
}
