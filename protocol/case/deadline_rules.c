/* The deadline rules (SPEC 16.9): their names and defaults from the instruments, their text
 * in the configuration ("60d extend 30d pause"), and which rules run for a case. */
#include <string.h>

#include "mlagw/codec.h"
#include "mlagw/deadline.h"

static const char *const rule_names[MLA_DEADLINE_RULE_N] = {
	"production", "production_emergency", "production_objection", "preservation",
	"eio_recognition", "eio_execution", "eaw", "eaw_consent", "other",
};

const char *mla_deadline_rule_name(mla_deadline_rule_id id)
{
	return (unsigned)id < MLA_DEADLINE_RULE_N ? rule_names[id] : "unknown";
}

mla_deadline_rule_id mla_deadline_rule_by_name(const char *s)
{
	for (unsigned i = 0; s != NULL && i < MLA_DEADLINE_RULE_N; i++)
		if (strcmp(s, rule_names[i]) == 0)
			return (mla_deadline_rule_id)i;
	return MLA_DEADLINE_RULE_N;
}

void mla_deadline_rules_default(mla_deadline_rules *r)
{
	/* sources: conf/README.md [deadlines]; no text checked suspends these periods while
	 * information is awaited, so none pauses by default */
	static const mla_deadline_rule def[MLA_DEADLINE_RULE_N] = {
		[MLA_DEADLINE_PRODUCTION] = {MLA_DEADLINE_DAYS, 10, 0, 0},
		[MLA_DEADLINE_PRODUCTION_EMERGENCY] = {MLA_DEADLINE_HOURS, 8, 0, 0},
		[MLA_DEADLINE_PRODUCTION_OBJECTION] = {MLA_DEADLINE_HOURS, 96, 0, 0},
		[MLA_DEADLINE_PRESERVATION] = {MLA_DEADLINE_DAYS, 60, 30, 0},
		[MLA_DEADLINE_EIO_RECOGNITION] = {MLA_DEADLINE_DAYS, 30, 30, 0},
		[MLA_DEADLINE_EIO_EXECUTION] = {MLA_DEADLINE_DAYS, 90, 0, 0},
		[MLA_DEADLINE_EAW] = {MLA_DEADLINE_DAYS, 60, 30, 0},
		[MLA_DEADLINE_EAW_CONSENT] = {MLA_DEADLINE_DAYS, 10, 30, 0},
		[MLA_DEADLINE_OTHER] = {MLA_DEADLINE_OFF, 0, 0, 0},
	};
	memcpy(r->rule, def, sizeof(def));
}

/* "N(d|h)": a count of 1..MLA_DEADLINE_COUNT_MAX and its unit. */
static const char *parse_amount(const char *w, uint32_t *count, mla_deadline_unit *unit)
{
	size_t n = strlen(w), digits = strspn(w, "0123456789");
	uint32_t v = 0;

	if (digits == 0 || digits + 1 != n || (w[n - 1] != 'd' && w[n - 1] != 'h'))
		return "a duration is a whole number of days (d) or hours (h): 10d, 8h";
	if (digits > 5)
		return "a duration is at most 3660 days or hours";
	for (size_t i = 0; i < digits; i++)
		v = v * 10 + (uint32_t)(w[i] - '0');
	if (v == 0 || v > MLA_DEADLINE_COUNT_MAX)
		return "a duration is 1 to 3660 days or hours";
	*count = v;
	*unit = w[n - 1] == 'd' ? MLA_DEADLINE_DAYS : MLA_DEADLINE_HOURS;
	return NULL;
}

#define RULE_WORDS_MAX 5

/* Splits s (at most 63 bytes) into blank-separated words in buf. */
static size_t split_words(const char *s, char buf[64], char *w[RULE_WORDS_MAX + 1])
{
	size_t n = 0, len = strlen(s);
	char *p = buf;

	memcpy(buf, s, len + 1);
	while (n <= RULE_WORDS_MAX) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		w[n++] = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
	}
	return n;
}

static const char *parse_words(char *const *w, size_t n, mla_deadline_rule *r)
{
	mla_deadline_unit unit = MLA_DEADLINE_OFF;
	const char *why;
	size_t i = 1;

	if ((why = parse_amount(w[0], &r->count, &r->unit)) != NULL)
		return why;
	if (i < n && strcmp(w[i], "extend") == 0) {
		if (i + 1 == n)
			return "extend needs a duration: extend 30d";
		if ((why = parse_amount(w[i + 1], &r->extension, &unit)) != NULL)
			return why;
		if (unit != r->unit)
			return "the extension must be in the deadline's unit (days or hours)";
		i += 2;
	}
	if (i < n && strcmp(w[i], "pause") == 0) {
		r->pauses = 1;
		i++;
	}
	if (i < n)
		return "expected none, or DURATION [extend DURATION] [pause]";
	return NULL;
}

mla_err mla_deadline_rule_parse(const char *s, mla_deadline_rule *out, const char **why)
{
	mla_deadline_rule r = {MLA_DEADLINE_OFF, 0, 0, 0};
	char buf[64], *w[RULE_WORDS_MAX + 1];
	size_t n;

	*why = NULL;
	if (strlen(s) >= sizeof(buf)) {
		*why = "longer than 63 bytes";
		return MLA_ERR_CONFIG;
	}
	n = split_words(s, buf, w);
	if (n == 1 && strcmp(w[0], "none") == 0) {
		*out = r;
		return MLA_OK;
	}
	if (n == 0 || n > 4)
		*why = "expected none, or DURATION [extend DURATION] [pause]";
	else
		*why = parse_words(w, n, &r);
	if (*why != NULL)
		return MLA_ERR_CONFIG;
	*out = r;
	return MLA_OK;
}

mla_err mla_deadline_rule_format(const mla_deadline_rule *r, char *out, size_t n)
{
	char u;

	if (r->unit == MLA_DEADLINE_OFF)
		return mla_snprintf(out, n, "none");
	u = r->unit == MLA_DEADLINE_DAYS ? 'd' : 'h';
	if (r->extension > 0)
		return mla_snprintf(out, n, "%u%c extend %u%c%s", (unsigned)r->count, u,
				    (unsigned)r->extension, u, r->pauses ? " pause" : "");
	return mla_snprintf(out, n, "%u%c%s", (unsigned)r->count, u, r->pauses ? " pause" : "");
}

size_t mla_deadline_rules_for(const mla_deadline_case *c,
			      mla_deadline_rule_id out[MLA_DEADLINE_RULES_PER_CASE])
{
	switch (c->type) {
	case MLA_CASE_PRODUCTION_ORDER:
		if (!c->emergency) {
			out[0] = MLA_DEADLINE_PRODUCTION;
			return 1;
		}
		out[0] = MLA_DEADLINE_PRODUCTION_EMERGENCY;
		out[1] = MLA_DEADLINE_PRODUCTION_OBJECTION;
		return 2;
	case MLA_CASE_PRESERVATION_ORDER:
		out[0] = MLA_DEADLINE_PRESERVATION;
		return 1;
	case MLA_CASE_MUTUAL_ASSISTANCE:
	case MLA_CASE_ASSET_MEASURES:
		out[0] = !c->eio	  ? MLA_DEADLINE_OTHER
			 : c->decided ? MLA_DEADLINE_EIO_EXECUTION
				      : MLA_DEADLINE_EIO_RECOGNITION;
		return 1;
	case MLA_CASE_EXTRADITION:
	case MLA_CASE_PROVISIONAL_ARREST:
		if (c->eaw && c->decided) /* the final decision on execution (art. 17(1)) */
			return 0;
		out[0] = !c->eaw ? MLA_DEADLINE_OTHER
			 : c->consent ? MLA_DEADLINE_EAW_CONSENT : MLA_DEADLINE_EAW;
		return 1;
	default: /* spontaneous information asks nothing; answers have no deadline of their own */
		return 0;
	}
}
