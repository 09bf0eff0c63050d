/* The one codec layer (include/mlagw/codec.h): strict, canonical text forms. */
#include <stdio.h>
#include <string.h>

#include "mlagw/codec.h"

void mla_time_format(time_t t, char out[MLA_TIME_LEN])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, MLA_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

time_t mla_time_parse(const char *s)
{
	struct tm tm;
	char check[MLA_TIME_LEN];
	int y, mo, d, h, mi, sec;
	time_t t;

	if (strlen(s) != MLA_TIME_LEN - 1 ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &sec) != 6)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	/* a round trip refuses out-of-range fields that timegm would normalise */
	mla_time_format(t, check);
	return strcmp(check, s) == 0 ? t : -1;
}
