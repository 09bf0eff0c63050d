/* Unit tests of expiry warnings (gateway/core/expiry.c, gateway/conf/expiry_config.c, SPEC
 * 18.8): thresholds at their exact edges, each threshold warned once per item and a skipped
 * one not warned late, a renewed certificate starting afresh, names of the wrong shape
 * refused, a full list counted; the [expiry] keys and their errors; the command's recorded
 * arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_test_util.h"
#include "core/expiry.h"

#define DAY 86400
#define NOW ((time_t)1800000000)

static struct expiry_config def(void)
{
	struct expiry_config x;

	expiry_config_defaults(&x);
	return x;
}

static void test_thresholds_at_edges(void **state)
{
	struct expiry_config x = def();
	int days;

	(void)state;
	assert_int_equal(gw_expiry_threshold(&x, NOW + 60 * DAY + 1, NOW, &days), GW_EXPIRY_NONE);
	assert_int_equal(days, 60);
	assert_int_equal(gw_expiry_threshold(&x, NOW + 60 * DAY, NOW, &days), 60);
	assert_int_equal(gw_expiry_threshold(&x, NOW + 30 * DAY + 1, NOW, &days), 60);
	assert_int_equal(gw_expiry_threshold(&x, NOW + 30 * DAY, NOW, &days), 30);
	assert_int_equal(gw_expiry_threshold(&x, NOW + 7 * DAY, NOW, &days), 7);
	assert_int_equal(days, 7);
	assert_int_equal(gw_expiry_threshold(&x, NOW + 1, NOW, &days), 7);
	assert_int_equal(days, 0);
	assert_int_equal(gw_expiry_threshold(&x, NOW, NOW, &days), GW_EXPIRY_EXPIRED);
	assert_int_equal(gw_expiry_threshold(&x, NOW - 1, NOW, &days), GW_EXPIRY_EXPIRED);
	assert_int_equal(days, -1); /* the day after: -1, not 0 */
	assert_int_equal(gw_expiry_threshold(&x, NOW - DAY - 1, NOW, &days), GW_EXPIRY_EXPIRED);
	assert_int_equal(days, -2);
}

static struct gw_expiry_list *list_at(time_t now, time_t tls_end, time_t dir_end)
{
	static struct gw_expiry_list l;
	struct expiry_config x = def();

	memset(&l, 0, sizeof(l));
	assert_int_equal(gw_expiry_add(&l, &x, GW_EXPIRY_CERTIFICATE, "own/tls", "CN=tls",
				       tls_end, now), MLA_OK);
	assert_int_equal(gw_expiry_add(&l, &x, GW_EXPIRY_DIRECTORY, "directory", "", dir_end,
				       now), MLA_OK);
	return &l;
}

/* Each threshold once; a check that finds the same threshold warns of nothing; thresholds
 * jumped over (the gateway was down) are not warned late: only the closest reached. */
static void test_each_threshold_once(void **state)
{
	static struct gw_expiry_fired fired;
	unsigned char due[GW_EXPIRY_MAX_ITEMS];
	const time_t tls_end = NOW + 100 * DAY, dir_end = NOW + 100 * DAY;
	struct gw_expiry_list *l;

	(void)state;
	memset(&fired, 0, sizeof(fired));
	l = list_at(NOW, tls_end, dir_end);
	assert_int_equal(gw_expiry_due(l, &fired, due), 0);
	l = list_at(NOW + 41 * DAY, tls_end, dir_end); /* 59 days left */
	assert_int_equal(gw_expiry_due(l, &fired, due), 2);
	assert_true(due[0] && due[1]);
	assert_int_equal(gw_expiry_due(l, &fired, due), 0);
	l = list_at(NOW + 42 * DAY, tls_end, dir_end);
	assert_int_equal(gw_expiry_due(l, &fired, due), 0);
	/* down from 59 to 5 days left: 7 alone, 30 is not warned late */
	l = list_at(NOW + 95 * DAY, tls_end, dir_end);
	assert_int_equal(l->items[0].threshold, 7);
	assert_int_equal(gw_expiry_due(l, &fired, due), 2);
	l = list_at(NOW + 100 * DAY, tls_end, dir_end);
	assert_int_equal(l->items[0].threshold, GW_EXPIRY_EXPIRED);
	assert_int_equal(gw_expiry_due(l, &fired, due), 2);
	assert_int_equal(gw_expiry_due(l, &fired, due), 0);
	/* the certificate renewed: a new not_after starts afresh, the old record is forgotten */
	l = list_at(NOW + 100 * DAY, NOW + 120 * DAY, dir_end);
	assert_int_equal(gw_expiry_due(l, &fired, due), 1);
	assert_true(due[0] && !due[1]);
	assert_int_equal(l->items[0].threshold, 30);
	assert_int_equal(fired.n, 2);
}

static void test_names_and_full_list(void **state)
{
	static struct gw_expiry_list l;
	struct expiry_config x = def();
	char name[GW_EXPIRY_NAME_MAX];

	(void)state;
	memset(&l, 0, sizeof(l));
	assert_int_equal(gw_expiry_add(&l, &x, GW_EXPIRY_CERTIFICATE, "own/tls;rm", "", NOW, NOW),
			 MLA_ERR_ARG);
	assert_int_equal(gw_expiry_add(&l, &x, GW_EXPIRY_CERTIFICATE, "", "", NOW, NOW),
			 MLA_ERR_ARG);
	assert_int_equal(gw_expiry_add(&l, &x, GW_EXPIRY_CERTIFICATE, "own/t ls", "", NOW, NOW),
			 MLA_ERR_ARG);
	assert_int_equal(l.n, 0);
	for (size_t i = 0; i < GW_EXPIRY_MAX_ITEMS; i++) {
		assert_true((size_t)snprintf(name, sizeof(name), "dir/CO/ca-%zu", i) < sizeof(name));
		assert_int_equal(gw_expiry_add(&l, &x, GW_EXPIRY_CERTIFICATE, name, "", NOW, NOW),
				 MLA_OK);
	}
	assert_int_equal(gw_expiry_add(&l, &x, GW_EXPIRY_CERTIFICATE, "own/tls", "", NOW, NOW),
			 MLA_ERR_TOO_LARGE);
	assert_int_equal(l.dropped, 1);
}

static void test_parse_days(void **state)
{
	unsigned d[EXPIRY_WARN_MAX];
	const char *why = NULL;
	size_t n;

	(void)state;
	assert_int_equal(expiry_parse_days("90, 14,1", d, &n, &why), MLA_OK);
	assert_int_equal(n, 3);
	assert_int_equal(d[0], 90);
	assert_int_equal(d[2], 1);
	assert_int_equal(expiry_parse_days("30 60", d, &n, &why), MLA_ERR_CONFIG);
	assert_non_null(strstr(why, "decreasing"));
	assert_int_equal(expiry_parse_days("30, 30", d, &n, &why), MLA_ERR_CONFIG);
	assert_int_equal(expiry_parse_days("0", d, &n, &why), MLA_ERR_CONFIG);
	assert_non_null(strstr(why, "out of range"));
	assert_int_equal(expiry_parse_days("3651", d, &n, &why), MLA_ERR_CONFIG);
	assert_int_equal(expiry_parse_days("99999999999999999999", d, &n, &why), MLA_ERR_CONFIG);
	assert_int_equal(expiry_parse_days("7d", d, &n, &why), MLA_ERR_CONFIG);
	assert_int_equal(expiry_parse_days("-7", d, &n, &why), MLA_ERR_CONFIG);
	assert_int_equal(expiry_parse_days(" , ", d, &n, &why), MLA_ERR_CONFIG);
	assert_int_equal(expiry_parse_days("9,8,7,6,5,4,3,2,1", d, &n, &why), MLA_ERR_CONFIG);
	assert_non_null(strstr(why, "more than 8"));
}

static void test_config_section(void **state)
{
	struct gw_config *c = new_config();

	(void)state;
	expect_base_ok("", c);
	assert_int_equal(c->expiry.n_warn, 3);
	assert_int_equal(c->expiry.warn_days[0], 60);
	assert_string_equal(c->expiry.command, "");
	assert_int_equal(c->expiry.check_interval_ms, 600000);
	expect_base_ok("[expiry]\nwarn_days = 90, 14\ncommand = /usr/bin/page --queue pki\n"
		       "command_timeout = 5s\ncheck_interval = 1h\n", c);
	assert_int_equal(c->expiry.n_warn, 2);
	assert_int_equal(c->expiry.warn_days[1], 14);
	assert_string_equal(c->expiry.command, "/usr/bin/page");
	assert_int_equal(c->expiry.n_command_args, 2);
	assert_string_equal(c->expiry.command_args[1], "pki");
	assert_int_equal(c->expiry.command_timeout_ms, 5000);
	assert_int_equal(c->expiry.check_interval_ms, 3600000);
	expect_base_error("[expiry]\nwarn_days = 7, 30\n", 2, "[expiry] warn_days: thresholds");
	expect_base_error("[expiry]\nsoon = 1\n", 2, "unknown key 'soon' in [expiry]");
	expect_base_error("[expiry]\ncheck_interval = 1d\ncheck_interval = 1h\n", 3,
			  "[expiry] check_interval: repeated (first set on line 17)");
	expect_base_error("[expiry]\ncheck_interval = 100ms\n", 2,
			  "[expiry] check_interval: 100ms is out of range");
	expect_base_error("[expiry]\ncommand_timeout = 1h\n", 2,
			  "[expiry] command_timeout: 1h is out of range");
	free(c);
}

/* The command gets what, name, threshold, not_after and days left after its own arguments,
 * nothing of the daemon's environment. */
static void test_command_arguments(void **state)
{
	char dir[] = "/tmp/mlagw-expiry-XXXXXX", hook[64], out[64], buf[512], cmd[96];
	struct expiry_config x = def();
	struct gw_expiry_list *l = list_at(NOW, NOW + 10 * DAY, NOW - 2);
	struct gw_hook_result res;
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true((size_t)snprintf(hook, sizeof(hook), "%s/hook", dir) < sizeof(hook));
	assert_true((size_t)snprintf(out, sizeof(out), "%s/out", dir) < sizeof(out));
	assert_non_null(f = fopen(hook, "w"));
	assert_true(fprintf(f, "#!/bin/sh\nprintf '%%s|' \"$@\" \"${MLAGW_TEST_LEAK-unset}\" "
			       ">> %s\nprintf '\\n' >> %s\n", out, out) > 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(hook, 0755), 0);
	assert_int_equal(setenv("MLAGW_TEST_LEAK", "yes", 1), 0);
	memcpy(x.command, hook, strlen(hook) + 1);
	memcpy(x.command_args[0], "--queue", sizeof("--queue"));
	x.n_command_args = 1;
	x.command_timeout_ms = 5000;
	assert_int_equal(gw_expiry_warn(&x, &l->items[0], &res, NULL), MLA_OK);
	assert_int_equal(res.outcome, GW_HOOK_EXITED);
	assert_int_equal(gw_expiry_warn(&x, &l->items[1], &res, NULL), MLA_OK);
	assert_non_null(f = fopen(out, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "--queue|certificate|own/tls|30|2027-01-25T08:00:00Z|10|unset|\n"
				 "--queue|directory|directory|0|2027-01-15T07:59:58Z|-1|unset|\n");
	/* no command: the log line alone, nothing run */
	x.command[0] = '\0';
	assert_int_equal(gw_expiry_warn(&x, &l->items[0], &res, NULL), MLA_OK);
	assert_int_equal(res.outcome, GW_HOOK_NOT_RUN);
	assert_true((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) < sizeof(cmd));
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thresholds_at_edges),
		cmocka_unit_test(test_each_threshold_once),
		cmocka_unit_test(test_names_and_full_list),
		cmocka_unit_test(test_parse_days),
		cmocka_unit_test(test_config_section),
		cmocka_unit_test(test_command_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
