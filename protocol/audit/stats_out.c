/* The statistics engine's second half (SPEC 16.13): the cases summed per State and month (and
 * over all months), the times' count, mean, median and 90th percentile, the figures of
 * Regulation 2023/1543 art. 28 the entries allow, written as JSON or CSV. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mlagw/codec.h"
#include "mlagw/json.h"
#include "stats_internal.h"

#define N_KINDS 16 /* mla_kinds has 15 */
#define N_PARTNERS (26 * 26)

static const char *const dir_names[SD_N] = {"outgoing", "incoming"};
static const char *const time_names[ST_N] = {"to-receipt", "to-decision", "to-execution"};
/* art. 28 is about European Production and Preservation Orders (SPEC 16.13) */
static const char *const art28_kinds[] = {"production-order", "preservation-order"};
enum { A_ISSUED, A_ISSUED_EMERGENCY, A_FULFILLED, A_NOT_FULFILLED, A_REFUSED, A_RECEIVED,
       A_RECEIVED_FULFILLED, A_FULFILLED_EMERGENCY, A_NOT_FULFILLED_EMERGENCY,
       A_REFUSED_EMERGENCY, A_N };
static const char *const art28_names[A_N] = {
	"issued",	       "issued-emergency",	  "fulfilled",
	"not-fulfilled",       "refused",		  "received",
	"received-fulfilled",  "fulfilled-emergency",	  "not-fulfilled-emergency",
	"refused-emergency"};
#define N_GROUNDS 16 /* mla_audit_grounds has 14 */

/* count, mean (rounded down), median and 90th percentile (nearest rank) of some times */
struct summary {
	size_t n;
	int64_t mean, median, p90;
};

struct agg {
	size_t cases, kind[N_KINDS], partner[N_PARTNERS], dir[SD_N], outcome[SO_N];
	size_t priority[SP_N];
	size_t ground[N_GROUNDS], ground_none, ground_unknown; /* refused cases */
	struct summary time[ST_N];
	size_t art28[2][A_N];
	/* the grounds of the refused outgoing orders of each Kind (point (d)) */
	size_t art28_ground[2][N_GROUNDS], art28_ground_none[2], art28_ground_unknown[2];
	/* outgoing fulfilled orders: issue to execution, all and the emergency ones */
	struct summary fulfil[2], fulfil_emergency[2];
};

static int cmp_i64(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	return a < b ? -1 : a > b;
}

/* v[0..n) sorted in place. The mean without overflow: quotients and remainders by n. */
static struct summary summarise(int64_t *v, size_t n)
{
	struct summary s = {n, 0, 0, 0};
	uint64_t q = 0, r = 0;

	if (n == 0)
		return s;
	qsort(v, n, sizeof(*v), cmp_i64);
	for (size_t i = 0; i < n; i++) {
		q += (uint64_t)v[i] / n;
		r += (uint64_t)v[i] % n;
		q += r / n;
		r %= n;
	}
	s.mean = (int64_t)q;
	s.median = v[(50 * n + 99) / 100 - 1];
	s.p90 = v[(90 * n + 99) / 100 - 1];
	return s;
}

static int art28_of(unsigned kind)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(mla_kinds[kind], art28_kinds[i]) == 0)
			return i;
	return -1;
}

static int emergency(const struct stats_case *c)
{
	return c->priority == SP_URGENT || c->priority == SP_CRISIS;
}

static void count_art28_grounds(struct agg *g, const struct stats_case *c, int k)
{
	if (c->ground_state == SG_UNKNOWN)
		g->art28_ground_unknown[k]++;
	else if (c->ground_state == SG_NONE)
		g->art28_ground_none[k]++;
	else
		for (unsigned i = 0; i < N_GROUNDS; i++)
			g->art28_ground[k][i] += (c->grounds >> i) & 1u;
}

static void count_art28(struct agg *g, const struct stats_case *c, int k)
{
	int done = c->outcome == SO_EXECUTED || c->outcome == SO_PARTIAL;
	int failed = c->outcome == SO_REFUSED || c->outcome == SO_WITHDRAWN;
	int urgent = emergency(c);

	if (c->dir == SD_OUTGOING) {
		g->art28[k][A_ISSUED]++;
		g->art28[k][A_ISSUED_EMERGENCY] += urgent;
		g->art28[k][A_FULFILLED] += done;
		g->art28[k][A_FULFILLED_EMERGENCY] += done && urgent;
		g->art28[k][A_NOT_FULFILLED] += failed;
		g->art28[k][A_NOT_FULFILLED_EMERGENCY] += failed && urgent;
		g->art28[k][A_REFUSED] += c->outcome == SO_REFUSED;
		g->art28[k][A_REFUSED_EMERGENCY] += c->outcome == SO_REFUSED && urgent;
		if (c->outcome == SO_REFUSED)
			count_art28_grounds(g, c, k);
	} else {
		g->art28[k][A_RECEIVED]++;
		g->art28[k][A_RECEIVED_FULFILLED] += done;
	}
}

/* A refused case counts once under each of its grounds, or under none or unknown. */
static void count_grounds(struct agg *g, const struct stats_case *c)
{
	if (c->ground_state == SG_UNKNOWN)
		g->ground_unknown++;
	else if (c->ground_state == SG_NONE)
		g->ground_none++;
	else
		for (unsigned k = 0; k < N_GROUNDS; k++)
			g->ground[k] += (c->grounds >> k) & 1u;
}

/* The times to execution of the outgoing fulfilled orders of art. 28 Kind k among [a, b),
 * only the emergency ones when only_urgent; tmp has room for b - a times. */
static struct summary fulfilment(const struct stats_case *a, const struct stats_case *b, int k,
				 int only_urgent, int64_t *tmp)
{
	size_t m = 0;

	for (const struct stats_case *c = a; c < b; c++)
		if (art28_of(c->kind) == k && c->dir == SD_OUTGOING &&
		    c->time[ST_EXECUTION] != STATS_NO_TIME && (!only_urgent || emergency(c)))
			tmp[m++] = c->time[ST_EXECUTION];
	return summarise(tmp, m);
}

/* Sums cases [a, b) into g; tmp has room for b - a times. */
static void aggregate(const struct stats_case *a, const struct stats_case *b, int64_t *tmp,
		      struct agg *g)
{
	size_t m;

	memset(g, 0, sizeof(*g));
	for (const struct stats_case *c = a; c < b; c++) {
		int k = art28_of(c->kind);
		g->cases++;
		g->kind[c->kind]++;
		g->partner[(c->partner[0] - 'A') * 26 + (c->partner[1] - 'A')]++;
		g->dir[c->dir]++;
		g->outcome[c->outcome]++;
		g->priority[c->priority]++;
		if (c->outcome == SO_REFUSED)
			count_grounds(g, c);
		if (k >= 0)
			count_art28(g, c, k);
	}
	for (int t = 0; t < ST_N; t++) {
		m = 0;
		for (const struct stats_case *c = a; c < b; c++)
			if (c->time[t] != STATS_NO_TIME)
				tmp[m++] = c->time[t];
		g->time[t] = summarise(tmp, m);
	}
	for (int k = 0; k < 2; k++) {
		g->fulfil[k] = fulfilment(a, b, k, 0, tmp);
		g->fulfil_emergency[k] = fulfilment(a, b, k, 1, tmp);
	}
}

static void month_name(int32_t month, char out[8])
{
	if (month < 0) {
		memcpy(out, "all", 4);
		return;
	}
	/* years 1970-9999: four digits, then the month */
	int y = month / 12, m = month % 12 + 1;
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '\0';
}

/* ---- output: one writer, two formats ---- */

struct writer {
	int csv;
	mla_buf *out;	    /* CSV */
	json_t *group;	    /* JSON: the month's object */
	const char *state;
	char month[8];
	mla_err err;
};

static void csv_row(struct writer *w, const char *dim, const char *value, size_t n,
		    const struct summary *s)
{
	if (w->err != MLA_OK)
		return;
	w->err = mla_buf_printf(w->out, "%s,%s,%s,%s,%zu", w->state, w->month, dim, value, n);
	if (w->err == MLA_OK && s != NULL && s->n > 0)
		w->err = mla_buf_printf(w->out, ",%lld,%lld,%lld\n", (long long)s->mean,
					(long long)s->median, (long long)s->p90);
	else if (w->err == MLA_OK)
		w->err = mla_buf_append_str(w->out, ",,,\n");
}

static json_t *summary_json(const struct summary *s)
{
	if (s->n == 0)
		return json_pack("{sIsnsnsn}", "n", (json_int_t)0, "mean_ms", "median_ms",
				 "p90_ms");
	return json_pack("{sIsIsIsI}", "n", (json_int_t)s->n, "mean_ms", (json_int_t)s->mean,
			 "median_ms", (json_int_t)s->median, "p90_ms", (json_int_t)s->p90);
}

/* One figure: a CSV row, or the value set at group[dim][value] (group[dim] when value is
 * NULL). */
static void put(struct writer *w, const char *dim, const char *value, size_t n,
		const struct summary *s)
{
	json_t *o, *v;

	if (w->csv) {
		csv_row(w, dim, value != NULL ? value : "all", n, s);
		return;
	}
	if (w->err != MLA_OK)
		return;
	v = s != NULL ? summary_json(s) : json_integer((json_int_t)n);
	if (value == NULL) {
		o = w->group;
		value = dim;
	} else if ((o = json_object_get(w->group, dim)) == NULL) {
		o = json_object();
		if (json_object_set_new(w->group, dim, o) != 0)
			o = NULL;
	}
	if (v == NULL || o == NULL || json_object_set_new(o, value, v) != 0)
		w->err = MLA_ERR_NOMEM;
}

/* An art. 28 figure of one Kind: "<kind>:<figure>". */
static void put_art28(struct writer *w, const char *kind, const char *figure, size_t n,
		      const struct summary *s)
{
	char name[64];

	if (mla_snprintf(name, sizeof(name), "%s:%s", kind, figure) != MLA_OK)
		w->err = MLA_ERR_INTERNAL;
	put(w, "art28", name, n, s);
}

static void put_art28_ground(struct writer *w, const char *kind, const char *ground, size_t n)
{
	char figure[48];

	if (mla_snprintf(figure, sizeof(figure), "ground:%s", ground) != MLA_OK)
		w->err = MLA_ERR_INTERNAL;
	put_art28(w, kind, figure, n, NULL);
}

static void put_group(struct writer *w, const struct agg *g)
{
	char cc[3] = "";

	put(w, "cases", NULL, g->cases, NULL);
	for (unsigned k = 0; k < N_KINDS && mla_kinds[k] != NULL; k++)
		if (g->kind[k] > 0)
			put(w, "kind", mla_kinds[k], g->kind[k], NULL);
	for (unsigned p = 0; p < N_PARTNERS; p++)
		if (g->partner[p] > 0) {
			cc[0] = (char)('A' + p / 26);
			cc[1] = (char)('A' + p % 26);
			put(w, "partner", cc, g->partner[p], NULL);
		}
	for (unsigned d = 0; d < SD_N; d++)
		put(w, "direction", dir_names[d], g->dir[d], NULL);
	for (unsigned o = 0; o < SO_N; o++)
		if (g->outcome[o] > 0)
			put(w, "outcome", stats_outcome_name(o), g->outcome[o], NULL);
	for (unsigned p = 0; p < SP_N; p++)
		if (g->priority[p] > 0)
			put(w, "priority", stats_priority_name(p), g->priority[p], NULL);
	for (unsigned k = 0; k < N_GROUNDS && mla_audit_grounds[k] != NULL; k++)
		if (g->ground[k] > 0)
			put(w, "ground", mla_audit_grounds[k], g->ground[k], NULL);
	if (g->ground_none > 0)
		put(w, "ground", "none", g->ground_none, NULL);
	if (g->ground_unknown > 0)
		put(w, "ground", "unknown", g->ground_unknown, NULL);
	for (unsigned t = 0; t < ST_N; t++)
		put(w, "time", time_names[t], g->time[t].n, &g->time[t]);
	for (unsigned k = 0; k < 2; k++) {
		for (unsigned a = 0; a < A_N; a++)
			put_art28(w, art28_kinds[k], art28_names[a], g->art28[k][a], NULL);
		put_art28(w, art28_kinds[k], "time-to-fulfilment", g->fulfil[k].n, &g->fulfil[k]);
		put_art28(w, art28_kinds[k], "time-to-fulfilment-emergency",
			  g->fulfil_emergency[k].n, &g->fulfil_emergency[k]);
		for (unsigned i = 0; i < N_GROUNDS && mla_audit_grounds[i] != NULL; i++)
			if (g->art28_ground[k][i] > 0)
				put_art28_ground(w, art28_kinds[k], mla_audit_grounds[i],
						 g->art28_ground[k][i]);
		if (g->art28_ground_none[k] > 0)
			put_art28_ground(w, art28_kinds[k], "none", g->art28_ground_none[k]);
		if (g->art28_ground_unknown[k] > 0)
			put_art28_ground(w, art28_kinds[k], "unknown", g->art28_ground_unknown[k]);
	}
}

/* One group (a month, or month -1: all): summed and written. */
static void write_group(struct writer *w, const struct stats_case *a,
			const struct stats_case *b, int32_t month, int64_t *tmp, json_t *months)
{
	struct agg g;

	month_name(month, w->month);
	aggregate(a, b, tmp, &g);
	if (!w->csv) {
		w->group = json_pack("{ss}", "month", w->month);
		if (w->group == NULL || json_array_append_new(months, w->group) != 0) {
			w->err = MLA_ERR_NOMEM;
			return;
		}
	}
	put_group(w, &g);
}

/* One State's cases [a, b): each month, then all months. */
static void write_state(struct writer *w, const struct stats_case *a,
			const struct stats_case *b, int64_t *tmp, json_t *states)
{
	json_t *months = NULL;

	w->state = a->state;
	if (!w->csv) {
		months = json_array();
		if (months == NULL ||
		    json_array_append_new(states, json_pack("{ssso}", "state", a->state, "months",
							    months)) != 0) {
			w->err = MLA_ERR_NOMEM;
			return;
		}
	}
	for (const struct stats_case *m = a, *e; m < b; m = e) {
		for (e = m + 1; e < b && e->month == m->month; e++)
			;
		write_group(w, m, e, m->month, tmp, months);
	}
	write_group(w, a, b, -1, tmp, months);
}

static mla_err write_all(mla_stats *s, struct writer *w, json_t *states, mla_diag *diag)
{
	struct stats_case *cases = NULL;
	int64_t *tmp = NULL;
	size_t n = 0;
	mla_err r;

	if ((r = stats_cases(s, &cases, &n, diag)) != MLA_OK)
		return r;
	if ((tmp = malloc((n ? n : 1) * sizeof(*tmp))) == NULL) {
		free(cases);
		return mla_fail(diag, MLA_ERR_NOMEM, "statistics: out of memory");
	}
	for (size_t i = 0, j; i < n && w->err == MLA_OK; i = j) {
		for (j = i + 1; j < n && strcmp(cases[j].state, cases[i].state) == 0; j++)
			;
		write_state(w, &cases[i], &cases[j], tmp, states);
	}
	free(tmp);
	free(cases);
	if (w->err != MLA_OK)
		return mla_fail(diag, w->err, "statistics: cannot write the figures: %s",
				mla_strerror(w->err));
	return MLA_OK;
}

mla_err mla_stats_csv(mla_stats *s, mla_buf *out, mla_diag *diag)
{
	struct writer w = {1, out, NULL, "", "", MLA_OK};

	w.err = mla_buf_append_str(out, "state,month,dimension,value,count,mean_ms,median_ms,"
				   "p90_ms\n");
	return write_all(s, &w, NULL, diag);
}

mla_err mla_stats_json(mla_stats *s, mla_buf *out, mla_diag *diag)
{
	struct writer w = {0, NULL, NULL, "", "", MLA_OK};
	json_t *states = json_array();
	json_t *top = json_pack("{ssso}", "format", "mlagw-stats/1", "states", states);
	mla_err r;

	if (top == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "statistics: out of memory");
	if ((r = write_all(s, &w, states, diag)) != MLA_OK) {
		json_decref(top);
		return r;
	}
	if ((r = mla_json_dump(top, out)) != MLA_OK) /* it releases top */
		r = mla_fail(diag, r, "statistics: cannot write the JSON: %s", mla_strerror(r));
	return r;
}
