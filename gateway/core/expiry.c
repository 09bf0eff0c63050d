/* Expiry warnings (see expiry.h): thresholds, what has been warned of, and the warning's log
 * line and command. Only names of a fixed shape and times reach the log and the command. */
#include <string.h>

#include "mlagw/codec.h"
#include "expiry.h"
#include "log.h"

#define DAY_S 86400

static char env_path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
static char env_lang[] = "LC_ALL=C";

const char *gw_expiry_what_name(enum gw_expiry_what w)
{
	return w == GW_EXPIRY_DIRECTORY ? "directory" : w == GW_EXPIRY_CRL ? "crl" : "certificate";
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < GW_EXPIRY_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789/-ABCDEFGHIJKLMNOPQRSTUVWXYZ") == n;
}

int gw_expiry_threshold(const struct expiry_config *cfg, time_t not_after, time_t now,
			int *days_left)
{
	int64_t left = (int64_t)not_after - (int64_t)now;
	int t = GW_EXPIRY_NONE;

	/* whole days, rounded toward minus infinity: 0 on the last day, -1 the day after */
	*days_left = (int)(left >= 0 ? left / DAY_S : -((-left + DAY_S - 1) / DAY_S));
	if (left <= 0)
		return GW_EXPIRY_EXPIRED;
	for (size_t i = 0; i < cfg->n_warn; i++)
		if (left <= (int64_t)cfg->warn_days[i] * DAY_S)
			t = (int)cfg->warn_days[i]; /* decreasing: the last reached is the smallest */
	return t;
}

mla_err gw_expiry_add(struct gw_expiry_list *l, const struct expiry_config *cfg,
		      enum gw_expiry_what what, const char *name, const char *subject,
		      time_t not_after, time_t now)
{
	struct gw_expiry_item *it;

	if (!name_ok(name))
		return MLA_ERR_ARG;
	if (l->n == GW_EXPIRY_MAX_ITEMS) {
		l->dropped++;
		return MLA_ERR_TOO_LARGE;
	}
	it = &l->items[l->n++];
	memset(it, 0, sizeof(*it));
	it->what = what;
	memcpy(it->name, name, strlen(name) + 1);
	(void)mla_snprintf_cut(it->subject, sizeof(it->subject), "%s", subject);
	it->not_after = not_after;
	it->threshold = gw_expiry_threshold(cfg, not_after, now, &it->days_left);
	return MLA_OK;
}

static int fired_find(const struct gw_expiry_fired *f, const struct gw_expiry_item *it)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->f[i].not_after == it->not_after && strcmp(f->f[i].name, it->name) == 0)
			return (int)i;
	return -1;
}

/* A threshold is closer to the expiry than another: EXPIRED (0) is the closest of all. */
static int closer(int t, int than)
{
	return than == GW_EXPIRY_NONE ? t != GW_EXPIRY_NONE : t != GW_EXPIRY_NONE && t < than;
}

/* Forgets the items of fired that l no longer lists (renewed, removed). */
static void fired_prune(const struct gw_expiry_list *l, struct gw_expiry_fired *fired)
{
	size_t kept = 0;

	for (size_t i = 0; i < fired->n; i++) {
		int listed = 0;

		for (size_t j = 0; j < l->n && !listed; j++)
			listed = l->items[j].not_after == fired->f[i].not_after &&
				 strcmp(l->items[j].name, fired->f[i].name) == 0;
		if (listed)
			fired->f[kept++] = fired->f[i];
	}
	fired->n = kept;
}

size_t gw_expiry_due(const struct gw_expiry_list *l, struct gw_expiry_fired *fired,
		     unsigned char *due)
{
	size_t n_due = 0;

	fired_prune(l, fired);
	for (size_t i = 0; i < l->n; i++) {
		const struct gw_expiry_item *it = &l->items[i];
		int k = fired_find(fired, it);

		due[i] = 0;
		if (k < 0) { /* fired has room: it holds only listed items, at most as many */
			k = (int)fired->n++;
			memcpy(fired->f[k].name, it->name, sizeof(it->name));
			fired->f[k].not_after = it->not_after;
			fired->f[k].threshold = GW_EXPIRY_NONE;
		}
		if (closer(it->threshold, fired->f[k].threshold)) {
			due[i] = 1;
			n_due++;
			fired->f[k].threshold = it->threshold;
		}
	}
	return n_due;
}

struct warn_args {
	char *argv[1 + DEADLINE_HOOK_ARGS_MAX + 5 + 1];
	char what[16], name[GW_EXPIRY_NAME_MAX], threshold[12], at[MLA_TIME_LEN], days[16];
};

static mla_err build_argv(const struct expiry_config *cfg, const struct gw_expiry_item *it,
			  struct warn_args *a)
{
	size_t n = 0;
	mla_err r;

	if ((r = mla_snprintf(a->what, sizeof(a->what), "%s", gw_expiry_what_name(it->what))) !=
		    MLA_OK ||
	    (r = mla_snprintf(a->name, sizeof(a->name), "%s", it->name)) != MLA_OK ||
	    (r = mla_snprintf(a->threshold, sizeof(a->threshold), "%d",
			      it->threshold < 0 ? 0 : it->threshold)) != MLA_OK ||
	    (r = mla_snprintf(a->days, sizeof(a->days), "%d", it->days_left)) != MLA_OK)
		return r;
	mla_time_format(it->not_after, a->at);
	a->argv[n++] = (char *)(uintptr_t)cfg->command; /* execve does not write it */
	for (size_t i = 0; i < cfg->n_command_args; i++)
		a->argv[n++] = (char *)(uintptr_t)cfg->command_args[i];
	a->argv[n++] = a->what;
	a->argv[n++] = a->name;
	a->argv[n++] = a->threshold;
	a->argv[n++] = a->at;
	a->argv[n++] = a->days;
	a->argv[n] = NULL;
	return MLA_OK;
}

mla_err gw_expiry_warn(const struct expiry_config *cfg, const struct gw_expiry_item *it,
		       struct gw_hook_result *res, mla_diag *diag)
{
	char *envp[] = {env_path, env_lang, NULL};
	char at[MLA_TIME_LEN], how[96];
	struct warn_args a;
	mla_err r;

	memset(res, 0, sizeof(*res));
	if (!name_ok(it->name))
		return mla_fail(diag, MLA_ERR_ARG, "expiry warning: a name of the wrong shape");
	mla_time_format(it->not_after, at);
	gw_log(it->threshold == GW_EXPIRY_EXPIRED ? GW_LOG_ERROR : GW_LOG_WARN,
	       it->threshold == GW_EXPIRY_EXPIRED ? "expired" : "expiry-warning", NULL,
	       "what=%s name=%s threshold=%d not_after=%s days_left=%d", gw_expiry_what_name(it->what),
	       it->name, it->threshold < 0 ? 0 : it->threshold, at, it->days_left);
	if (cfg->command[0] == '\0') {
		res->outcome = GW_HOOK_NOT_RUN;
		return MLA_OK;
	}
	if ((r = build_argv(cfg, it, &a)) != MLA_OK)
		return mla_fail(diag, r, "expiry warning: arguments too long");
	if ((r = gw_hook_run(a.argv, envp, cfg->command_timeout_ms, res, diag)) != MLA_OK) {
		gw_log(GW_LOG_ERROR, "expiry-command", NULL, "name=%s result=failed error=%s",
		       it->name, mla_errname(r));
		return r;
	}
	gw_hook_describe(res, how, sizeof(how));
	gw_log(res->outcome == GW_HOOK_EXITED && res->status == 0 ? GW_LOG_INFO : GW_LOG_WARN,
	       "expiry-command", NULL, "name=%s threshold=%d result=\"%s\" ms=%lld", it->name,
	       it->threshold < 0 ? 0 : it->threshold, how, (long long)res->ms);
	return MLA_OK;
}
