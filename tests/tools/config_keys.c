/* Prints every key the configuration reader accepts, one "SECTION KEY" per line, from its own
 * tables (gw_config_each_key): tests/integration/man_pages.py checks mlagwd.conf(5) names each. */
#include <stdio.h>

#include "conf/config.h"

static void print_key(const char *section, const char *key, void *arg)
{
	(void)arg;
	printf("%s %s\n", section, key);
}

int main(void)
{
	gw_config_each_key(print_key, NULL);
	return fflush(stdout) == 0 ? 0 : 1;
}
