/* Shared CLI helpers (see cli_util.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_util.h"
#include "mlagw/codec.h"
#include "mlagw/json.h"

int cli_exit_code(mla_err r)
{
	switch (r) {
	case MLA_OK:
		return CLI_OK;
	case MLA_ERR_USAGE:
	case MLA_ERR_ARG:
		return CLI_USAGE;
	case MLA_ERR_IO:
	case MLA_ERR_KEY_FILE:
	case MLA_ERR_CERT_FILE:
	case MLA_ERR_EXISTS:
	case MLA_ERR_CONFIG:
		return CLI_IO;
	case MLA_ERR_INTERNAL:
	case MLA_ERR_NOMEM:
		return CLI_INTERNAL;
	default:
		return CLI_REJECTED;
	}
}

int cli_fail(const char *cmd, mla_err r, const mla_diag *diag)
{
	fprintf(stderr, "mlagw %s: %s [%s]\n", cmd,
		diag != NULL && diag->msg[0] != '\0' ? diag->msg : mla_strerror(r), mla_errname(r));
	return cli_exit_code(r);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mlagw %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'mlagw %s --help'.\n", cmd);
	return CLI_USAGE;
}

/* Canonical decimal only (mla_parse_i64): no '+', spaces or leading zeros. */
int cli_parse_long(const char *s, long min, long max, long *out)
{
	int64_t v;

	if (mla_parse_i64(s, min, max, &v) != MLA_OK)
		return -1;
	*out = (long)v;
	return 0;
}

/* A regular file's size, as a first capacity for reading it; 0 when unknown or over max. */
static size_t size_hint(int fd, size_t max)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > max)
		return 0;
	return (size_t)st.st_size;
}

/* Reads straight into the buffer's spare room, sized up front for a regular file, so that a
 * bundle of hundreds of MB is neither copied through a chunk nor regrown; a pipe, or a file
 * that grows meanwhile, goes on in chunks, within max. */
static mla_err read_fd(int fd, const char *path, size_t max, mla_buf *out, mla_diag *diag)
{
	uint8_t chunk[65536];
	size_t hint = size_hint(fd, max);
	ssize_t n;
	mla_err r;

	mla_buf_init(out, max);
	if (hint > 0 && (r = mla_buf_reserve(out, hint)) != MLA_OK)
		return mla_fail(diag, r, "cannot read %s: out of memory", path);
	for (;;) {
		size_t room = out->cap > out->len + 1 ? out->cap - out->len - 1 : 0;
		n = room > 0 ? read(fd, out->data + out->len, room) : read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mla_fail(diag, MLA_ERR_IO, "cannot read %s: %s", path, strerror(errno));
		if (n == 0)
			return MLA_OK;
		if (room > 0)
			out->len += (size_t)n;
		else if ((r = mla_buf_append(out, chunk, (size_t)n)) != MLA_OK)
			return mla_fail(diag, r, "%s is larger than the limit of %zu bytes", path, max);
	}
}

mla_err cli_read_file(const char *path, size_t max, mla_buf *out, mla_diag *diag)
{
	int fd;
	mla_err r;

	if (strcmp(path, "-") == 0)
		return read_fd(STDIN_FILENO, "standard input", max, out, diag);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		mla_buf_init(out, max);
		return mla_fail(diag, MLA_ERR_IO, "cannot open %s: %s", path, strerror(errno));
	}
	r = read_fd(fd, path, max, out, diag);
	close(fd);
	if (r != MLA_OK)
		mla_buf_free(out);
	return r;
}

static mla_err write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return MLA_ERR_IO;
		p += n;
		len -= (size_t)n;
	}
	return MLA_OK;
}

mla_err cli_write_file(const char *path, const void *data, size_t len, mode_t mode,
		       mla_diag *diag)
{
	char tmp[PATH_MAX];
	int fd, n;
	mla_err r;

	if (strcmp(path, "-") == 0)
		return write_all(STDOUT_FILENO, data, len) == MLA_OK
			       ? MLA_OK
			       : mla_fail(diag, MLA_ERR_IO, "cannot write to standard output");
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return mla_fail(diag, MLA_ERR_IO, "output path is too long");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0)
		return mla_fail(diag, MLA_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
	r = write_all(fd, data, len);
	if (r == MLA_OK && fsync(fd) != 0)
		r = MLA_ERR_IO;
	if (close(fd) != 0)
		r = MLA_ERR_IO;
	if (r == MLA_OK && rename(tmp, path) != 0)
		r = MLA_ERR_IO;
	if (r != MLA_OK) {
		unlink(tmp);
		return mla_fail(diag, r, "cannot write %s: %s", path, strerror(errno));
	}
	return MLA_OK;
}

void cli_json_string(FILE *fp, const char *s)
{
	json_t *v = json_string(s);

	/* "" rather than nothing for a value jansson refuses (not UTF-8): the output stays JSON */
	if (v == NULL || json_dumpf(v, fp, JSON_ENCODE_ANY) != 0)
		fputs("\"\"", fp);
	json_decref(v);
}

mla_err cli_json_print(json_t *v, mla_diag *d)
{
	mla_buf b;
	mla_err r;

	mla_buf_init(&b, (size_t)64 << 20);
	if ((r = mla_json_dump(v, &b)) != MLA_OK)
		r = mla_fail(d, r, "the JSON output could not be written (a value is not UTF-8)");
	else if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0)
		r = mla_fail(d, MLA_ERR_IO, "cannot write to standard output");
	mla_buf_free(&b);
	return r;
}

int cli_parse_options(int argc, char **argv, const struct cli_optspec *spec, void *args)
{
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, spec->shortopts, spec->longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(spec->usage, stdout);
			return -1;
		}
		if (c == '?' || c == ':')
			return cli_usage_error(spec->cmd, "unknown option or missing value: %s",
					       argv[optind - 1]);
		if ((r = spec->apply(c, optarg, args)) != CLI_OK)
			return r;
	}
	if (optind < argc)
		return cli_usage_error(spec->cmd, "unexpected argument '%s'", argv[optind]);
	return CLI_OK;
}

/* The problems a peer's receipt listed for a document it refused (or a refusal before
 * sealing), to out: one a line, "PATH: CODE (DETAIL)", then "and N more". */
void cli_print_problems(FILE *out, json_t *problems)
{
	size_t i;
	json_t *e;

	if (json_array_size(problems) > 0)
		fprintf(out, "problems:\n");
	json_array_foreach(problems, i, e) {
		const char *detail = json_string_value(json_object_get(e, "detail"));
		const char *path = json_string_value(json_object_get(e, "path"));
		const char *code = json_string_value(json_object_get(e, "code"));
		json_t *more = json_object_get(e, "more");

		if (more != NULL)
			fprintf(out, "  and %lld more\n", (long long)json_integer_value(more));
		else
			fprintf(out, "  %s: %s%s%s%s\n", path != NULL ? path : "?",
				code != NULL ? code : "?", detail ? " (" : "", detail ? detail : "",
				detail ? ")" : "");
	}
}
