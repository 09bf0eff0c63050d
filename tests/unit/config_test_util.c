/* Helpers of the configuration reader's unit tests (config_test_util.h). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config_test_util.h"
#include "mlagw/buf.h"

void write_file(char *path, size_t len, const char *dir, const char *text, size_t n)
{
	int fd;

	assert_true(snprintf(path, len, "%s/mlagw-conf-XXXXXX", dir) < (int)len);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write(fd, text, n) == (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

struct gw_config *new_config(void)
{
	struct gw_config *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	return c;
}

/* Loads n bytes of text written to a temporary file in dir; fills path with its name. */
mla_err load_in(const char *dir, const char *text, size_t n, struct gw_config *c,
		mla_diag *d, char *path, size_t plen)
{
	mla_err r;

	memset(d, 0, sizeof(*d));
	write_file(path, plen, dir, text, n);
	r = gw_config_load(path, c, d);
	(void)unlink(path);
	return r;
}

mla_err load_text(const char *text, struct gw_config *c, mla_diag *d, char *path,
		  size_t plen)
{
	return load_in("/tmp", text, strlen(text), c, d, path, plen);
}

/* The text loads; *c is the result. */
void expect_ok(const char *text, struct gw_config *c)
{
	char path[PATH_MAX];
	mla_diag d;
	mla_err r = load_text(text, c, &d, path, sizeof(path));

	if (r != MLA_OK)
		fail_msg("load failed: %s (%s)", mla_errname(r), d.msg);
}

void check_diag(mla_err r, const mla_diag *d, const char *path, unsigned line,
		const char *part)
{
	char prefix[PATH_MAX + 32];

	if (line == 0)
		assert_true(snprintf(prefix, sizeof(prefix), "%s: ", path) < (int)sizeof(prefix));
	else
		assert_true(snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line) <
			    (int)sizeof(prefix));
	if (r != MLA_ERR_CONFIG)
		fail_msg("got %s (%s), want config error '%s'", mla_errname(r), d->msg, part);
	if (strncmp(d->msg, prefix, strlen(prefix)) != 0)
		fail_msg("message '%s' does not start with '%s'", d->msg, prefix);
	if (strstr(d->msg + strlen(prefix), part) == NULL)
		fail_msg("message '%s' lacks '%s'", d->msg, part);
}

/* n bytes of text are refused with "FILE:line: ...part..." (line 0: "FILE: ...part..."),
 * and the caller's config is left as it was. */
void expect_error_n(const char *text, size_t n, unsigned line, const char *part)
{
	struct gw_config *c = new_config();
	char path[PATH_MAX];
	mla_diag d;
	mla_err r;

	memcpy(c->state, "ZZ", 3);
	r = load_in("/tmp", text, n, c, &d, path, sizeof(path));
	check_diag(r, &d, path, line, part);
	assert_string_equal(c->state, "ZZ");
	assert_int_equal(c->n_roots, 0);
	free(c);
}

void expect_error(const char *text, unsigned line, const char *part)
{
	expect_error_n(text, strlen(text), line, part);
}

/* BASE followed by extra, refused at BASE_LINES + offset (offset 0: "FILE: ", no line). */
void expect_base_error(const char *extra, unsigned offset, const char *part)
{
	mla_buf b;

	mla_buf_init(&b, 1 << 20);
	assert_int_equal(mla_buf_append_str(&b, BASE), MLA_OK);
	assert_int_equal(mla_buf_append_str(&b, extra), MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	expect_error((const char *)b.data, offset == 0 ? 0 : BASE_LINES + offset, part);
	mla_buf_free(&b);
}

/* BASE followed by extra loads into c. */
void expect_base_ok(const char *extra, struct gw_config *c)
{
	mla_buf b;

	mla_buf_init(&b, 1 << 20);
	assert_int_equal(mla_buf_append_str(&b, BASE), MLA_OK);
	assert_int_equal(mla_buf_append_str(&b, extra), MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	expect_ok((const char *)b.data, c);
	mla_buf_free(&b);
}

/* BASE without the line that sets key, as a malloc'd string. */
char *base_without(const char *key)
{
	const char *s = BASE;
	size_t klen = strlen(key);
	mla_buf b;

	mla_buf_init(&b, 1 << 16);
	while (*s != '\0') {
		const char *nl = strchr(s, '\n');
		size_t n = (size_t)(nl - s) + 1;
		if (!(strncmp(s, key, klen) == 0 && s[klen] == ' '))
			assert_int_equal(mla_buf_append(&b, s, n), MLA_OK);
		s += n;
	}
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	return (char *)mla_buf_detach(&b, NULL);
}

void tmp_real(char *out)
{
	assert_non_null(realpath("/tmp", out));
}
