/* The one codec layer (include/mlagw/codec.h), times and decimal numbers: fixed-shape UTC
 * times in seconds and milliseconds, and canonical decimal integers. A parse accepts exactly
 * what this code writes: every field in its range, the day within its month (2026-02-31 and
 * 24:00:00 are refused, not carried), no sign, no leading zero. */
#include <stdio.h>
#include <string.h>

#include "mlagw/codec.h"

#define MS_PER_DAY INT64_C(86400000)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* v as width decimal digits at out (v < 10^width). */
static void put_digits(char *out, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		out[i] = (char)('0' + v % 10);
}

/* "YYYY-MM-DDThh:mm:ss" of ms (0 .. MLA_TIME_MS_MAX) into out (at least 20 bytes). Digits
 * written directly: audit entries format one per entry, millions per bundle. */
static void format_seconds(int64_t ms, char *out)
{
	int64_t rest = ms % MS_PER_DAY, y;
	unsigned m, d;

	civil_from_days(ms / MS_PER_DAY, &y, &m, &d);
	put_digits(out, (unsigned)y, 4);
	put_digits(out + 5, m, 2);
	put_digits(out + 8, d, 2);
	put_digits(out + 11, (unsigned)(rest / 3600000), 2);
	put_digits(out + 14, (unsigned)(rest / 60000 % 60), 2);
	put_digits(out + 17, (unsigned)(rest / 1000 % 60), 2);
	out[4] = out[7] = '-';
	out[10] = 'T';
	out[13] = out[16] = ':';
	out[19] = '\0';
}

void mla_time_ms_format(int64_t ms, char out[MLA_TIME_MS_LEN])
{
	out[0] = '\0';
	if (ms < 0 || ms > MLA_TIME_MS_MAX)
		return;
	format_seconds(ms, out);
	out[19] = '.';
	put_digits(out + 20, (unsigned)(ms % 1000), 3);
	out[23] = 'Z';
	out[24] = '\0';
}

void mla_time_format(time_t t, char out[MLA_TIME_LEN])
{
	out[0] = '\0';
	if (t < 0 || (int64_t)t > MLA_TIME_MS_MAX / 1000)
		return;
	format_seconds((int64_t)t * 1000, out);
	out[19] = 'Z';
	out[20] = '\0';
}

/* n ASCII digits at s as a number; -1 when one is not a digit. */
static int64_t digits(const char *s, size_t n)
{
	int64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int days_in_month(int64_t y, int64_t m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

/* The milliseconds of "YYYY-MM-DDThh:mm:ss" at s, or -1 when a field is not digits or out of
 * its range (the day within its month; no 24:00, no leap second). */
static int64_t parse_seconds(const char *s)
{
	int64_t y, mo, d, h, mi, sec;

	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return -1;
	y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
		return -1;
	return ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60000 +
	       sec * 1000;
}

time_t mla_time_parse(const char *s)
{
	int64_t ms;

	if (strlen(s) != MLA_TIME_LEN - 1 || s[19] != 'Z' || (ms = parse_seconds(s)) < 0 ||
	    ms / 1000 > MLA_TIME_MS_MAX / 1000)
		return -1;
	return (time_t)(ms / 1000);
}

mla_err mla_time_ms_parse(const char *s, size_t n, int64_t *ms)
{
	int64_t v, frac;

	if (n != MLA_TIME_MS_LEN - 1 || s[19] != '.' || s[23] != 'Z' ||
	    (frac = digits(s + 20, 3)) < 0 || (v = parse_seconds(s)) < 0 ||
	    v + frac > MLA_TIME_MS_MAX)
		return MLA_ERR_ARG;
	*ms = v + frac;
	return MLA_OK;
}

/* ---- decimal numbers ---- */

mla_err mla_parse_u64n(const char *s, size_t n, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || n == 0 || (s[0] == '0' && n > 1))
		return MLA_ERR_ARG;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return MLA_ERR_ARG;
	for (size_t i = 0; i < n; i++) {
		unsigned dg = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - dg) / 10)
			return MLA_ERR_TOO_LARGE; /* overflow: more than 2^64 - 1 */
		v = v * 10 + dg;
	}
	if (v > max)
		return MLA_ERR_TOO_LARGE;
	if (v < min)
		return MLA_ERR_ARG;
	*out = v;
	return MLA_OK;
}

mla_err mla_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	return mla_parse_u64n(s, s != NULL ? strlen(s) : 0, min, max, out);
}

mla_err mla_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	const uint64_t lim = (uint64_t)INT64_MAX + 1; /* the magnitude of INT64_MIN */
	int neg = s != NULL && s[0] == '-';
	uint64_t mag = 0;
	int64_t v;
	mla_err r;

	if (s == NULL || min > max)
		return MLA_ERR_ARG;
	/* "-0" is not canonical: zero has one spelling */
	if ((r = mla_parse_u64(s + neg, neg, neg ? lim : (uint64_t)INT64_MAX, &mag)) != MLA_OK)
		return r;
	v = neg ? (mag == lim ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
	if (v < min || v > max)
		return MLA_ERR_TOO_LARGE;
	*out = v;
	return MLA_OK;
}
