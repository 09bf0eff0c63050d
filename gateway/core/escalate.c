/* The escalation hook (see escalate.h): its argument vector from the configuration and the
 * deadline, checked so that only identifiers of a fixed shape ever reach the command or the
 * log, and the thresholds fired in order. */
#include <string.h>

#include "mlagw/codec.h"
#include "escalate.h"
#include "log.h"

#define ESC_ARGV_MAX (1 + DEADLINE_HOOK_ARGS_MAX + GW_ESCALATE_ARGS + 1)

/* The hook's whole environment: no variable of the daemon's reaches it. */
static char env_path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
static char env_lang[] = "LC_ALL=C";

static int shaped(const char *s, size_t max, const char *allowed)
{
	size_t n = s != NULL ? strlen(s) : 0;

	return n > 0 && n <= max && strspn(s, allowed) == n;
}

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define DIGITS "0123456789"

static int escalation_ok(const struct gw_escalation *e)
{
	return shaped(e->case_id, 64, "ABCDEFGHIJKLMNOPQRSTUVWXYZ" LOWER DIGITS "._/-") &&
	       shaped(e->kind, 32, LOWER DIGITS "-") && shaped(e->deadline, 16, LOWER) &&
	       shaped(e->rule, 32, LOWER "_") && e->due_ms >= 0 &&
	       e->due_ms <= MLA_TIME_MS_MAX;
}

struct esc_args {
	char *argv[ESC_ARGV_MAX];
	char pct[8];
	char due[MLA_TIME_MS_LEN];
	char case_id[65], kind[33], deadline[17], rule[33];
};

/* argv: the command, its configured arguments, then GW_ESCALATE_ARGS of e (copied: argv's
 * strings are not const). */
static mla_err build_argv(const struct deadline_config *cfg, const struct gw_escalation *e,
			  unsigned pct, struct esc_args *a)
{
	size_t n = 0;
	mla_err r;

	if ((r = mla_snprintf(a->pct, sizeof(a->pct), "%u", pct)) != MLA_OK ||
	    (r = mla_snprintf(a->case_id, sizeof(a->case_id), "%s", e->case_id)) != MLA_OK ||
	    (r = mla_snprintf(a->kind, sizeof(a->kind), "%s", e->kind)) != MLA_OK ||
	    (r = mla_snprintf(a->deadline, sizeof(a->deadline), "%s", e->deadline)) != MLA_OK ||
	    (r = mla_snprintf(a->rule, sizeof(a->rule), "%s", e->rule)) != MLA_OK)
		return r;
	mla_time_ms_format(e->due_ms, a->due);
	a->argv[n++] = (char *)(uintptr_t)cfg->escalate; /* execve does not write it */
	for (size_t i = 0; i < cfg->n_escalate_args; i++)
		a->argv[n++] = (char *)(uintptr_t)cfg->escalate_args[i];
	a->argv[n++] = a->case_id;
	a->argv[n++] = a->pct;
	a->argv[n++] = a->due;
	a->argv[n++] = a->kind;
	a->argv[n++] = a->deadline;
	a->argv[n++] = a->rule;
	a->argv[n] = NULL;
	return MLA_OK;
}

mla_err gw_escalate_run(const struct deadline_config *cfg, const struct gw_escalation *e,
			unsigned threshold_pct, struct gw_hook_result *res, mla_diag *diag)
{
	char *envp[] = {env_path, env_lang, NULL};
	struct esc_args a;
	char what[96];
	mla_err r;

	memset(res, 0, sizeof(*res));
	if (cfg->escalate[0] == '\0')
		return mla_fail(diag, MLA_ERR_NOT_FOUND, "escalation: no command configured");
	if (!escalation_ok(e)) {
		/* the fields are not quoted: their shape is what is wrong */
		gw_log(GW_LOG_ERROR, "escalation", NULL, "threshold=%u result=refused "
		       "reason=\"a field has the wrong shape\"", threshold_pct);
		return mla_fail(diag, MLA_ERR_ARG, "escalation: a field has the wrong shape");
	}
	if ((r = build_argv(cfg, e, threshold_pct, &a)) != MLA_OK)
		return mla_fail(diag, r, "escalation: arguments too long");
	if ((r = gw_hook_run(a.argv, envp, cfg->escalate_timeout_ms, res, diag)) != MLA_OK) {
		gw_log(GW_LOG_ERROR, "escalation", NULL, "case=%s threshold=%u deadline=%s rule=%s "
		       "result=failed error=%s", e->case_id, threshold_pct, e->deadline, e->rule,
		       mla_errname(r));
		return r;
	}
	gw_hook_describe(res, what, sizeof(what));
	gw_log(res->outcome == GW_HOOK_EXITED && res->status == 0 ? GW_LOG_INFO : GW_LOG_WARN,
	       "escalation", NULL, "case=%s threshold=%u deadline=%s rule=%s result=\"%s\" ms=%lld",
	       e->case_id, threshold_pct, e->deadline, e->rule, what, (long long)res->ms);
	return MLA_OK;
}

size_t gw_escalate_due(const struct deadline_config *cfg, const struct gw_escalation *e,
		       const mla_deadline_clock *clock, unsigned *fired_pct)
{
	unsigned pct[MLA_DEADLINE_THRESHOLDS];
	struct gw_escalation now = *e;
	struct gw_hook_result res;
	size_t n, ran = 0;

	if (!clock->set || cfg->escalate[0] == '\0')
		return 0;
	now.due_ms = clock->due_ms;
	n = mla_deadline_escalations(clock->permille, *fired_pct, pct);
	for (size_t i = 0; i < n; i++) {
		(void)gw_escalate_run(cfg, &now, pct[i], &res, NULL); /* logged there */
		*fired_pct = pct[i];
		ran++;
	}
	return ran;
}
