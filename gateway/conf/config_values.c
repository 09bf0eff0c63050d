/* The values of a configuration file: numbers with units, State codes, addresses, URLs, TLS
 * pins and paths. Pure functions on strings; config_parse.c reports where a value was wrong. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "mlagw/codec.h"
#include "mlagw/text.h"

struct unit {
	const char *name;
	uint64_t mult;
};

/* Largest first, so formatting picks the largest exact unit. */
static const struct unit size_units[] = {
	{"GiB", CFG_GIB}, {"MiB", CFG_MIB}, {"KiB", CFG_KIB}, {"B", 1},
};
static const struct unit duration_units[] = {
	{"d", CFG_DAY}, {"h", CFG_HOUR}, {"m", CFG_MIN}, {"s", CFG_SEC}, {"ms", 1},
};
#define N_UNITS(a) (sizeof(a) / sizeof((a)[0]))

static int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Leading decimal digits of s into *v; *endp after them. Refuses signs, spaces and overflow.
 * Leading zeros are allowed ("007s"): people write these files, and the value is the same. */
static mla_err parse_digits(const char *s, uint64_t *v, const char **endp, const char **why)
{
	size_t n = strspn(s, "0123456789"), z = 0;

	if (s[0] == '\0') {
		*why = "empty value";
		return MLA_ERR_CONFIG;
	}
	if (n == 0) {
		*why = "not a number (decimal digits expected)";
		return MLA_ERR_CONFIG;
	}
	while (z + 1 < n && s[z] == '0')
		z++;
	if (mla_parse_u64n(s + z, n - z, 0, UINT64_MAX, v) != MLA_OK) {
		*why = "number too large"; /* digits only, no leading zero: only overflow is left */
		return MLA_ERR_CONFIG;
	}
	*endp = s + n;
	return MLA_OK;
}

mla_err cfg_parse_uint(const char *s, uint64_t *v, const char **why)
{
	const char *end = NULL;
	uint64_t n = 0;

	if (parse_digits(s, &n, &end, why) != MLA_OK)
		return MLA_ERR_CONFIG;
	if (*end != '\0') {
		*why = "trailing characters after the number";
		return MLA_ERR_CONFIG;
	}
	*v = n;
	return MLA_OK;
}

/* Digits, optional blanks, then one of units (or none when dflt is non-zero). */
static mla_err parse_with_unit(const char *s, const struct unit *units, size_t n_units,
			       uint64_t dflt, uint64_t *v, const char **why)
{
	const char *end = NULL;
	uint64_t n = 0, mult = dflt;
	size_t i;

	if (parse_digits(s, &n, &end, why) != MLA_OK)
		return MLA_ERR_CONFIG;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end != '\0' || dflt == 0) {
		for (i = 0; i < n_units; i++)
			if (strcmp(end, units[i].name) == 0)
				break;
		if (i == n_units) {
			*why = units == size_units ? "unknown unit (B, KiB, MiB or GiB)"
						   : "missing or unknown unit (ms, s, m, h or d)";
			return MLA_ERR_CONFIG;
		}
		mult = units[i].mult;
	}
	if (n > UINT64_MAX / mult) {
		*why = "number too large";
		return MLA_ERR_CONFIG;
	}
	*v = n * mult;
	return MLA_OK;
}

mla_err cfg_parse_size(const char *s, uint64_t *bytes, const char **why)
{
	return parse_with_unit(s, size_units, N_UNITS(size_units), 1, bytes, why);
}

mla_err cfg_parse_duration(const char *s, uint64_t *ms, const char **why)
{
	return parse_with_unit(s, duration_units, N_UNITS(duration_units), 0, ms, why);
}

static mla_err format_with_unit(uint64_t v, const struct unit *units, size_t n_units,
				const char *sep, char *out, size_t len)
{
	size_t i = n_units - 1; /* the smallest unit, 1, always divides */
	int n;

	for (size_t j = 0; v != 0 && j < n_units; j++) {
		if (v % units[j].mult == 0) {
			i = j;
			break;
		}
	}
	n = snprintf(out, len, "%llu%s%s", (unsigned long long)(v / units[i].mult), sep,
		     units[i].name);
	if (n < 0 || (size_t)n >= len)
		return MLA_ERR_INTERNAL;
	return MLA_OK;
}

mla_err cfg_format_size(uint64_t bytes, char *out, size_t len)
{
	return format_with_unit(bytes, size_units, N_UNITS(size_units), " ", out, len);
}

mla_err cfg_format_duration(uint64_t ms, char *out, size_t len)
{
	return format_with_unit(ms, duration_units, N_UNITS(duration_units), "", out, len);
}

int cfg_is_state(const char *s)
{
	return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] == '\0';
}


mla_err cfg_check_text(const char *s, const char **why)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t len = strlen(s), n;
	uint32_t cp;

	for (size_t i = 0; i < len; i += n) {
		if ((n = mla_utf8_next(u + i, len - i, &cp)) == 0) {
			*why = u[i] < 0x20 || u[i] == 0x7f ? "control character in value"
							   : "not valid UTF-8";
			return MLA_ERR_CONFIG;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			*why = "control character in value";
			return MLA_ERR_CONFIG;
		}
	}
	return MLA_OK;
}

/* A DNS name: dot-separated labels of 1..63 letters, digits and inner hyphens, 253 at most. */
static int is_hostname(const char *h, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = h[i];
		if (ch == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) ||
		      (ch == '-' && label > 0)))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && h[len - 1] != '-';
}

static int all_digits_dots(const char *h, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_digit(h[i]) && h[i] != '.')
			return 0;
	return 1;
}

/* host (len bytes): [IPv6], dotted IPv4 or a DNS name. */
static mla_err check_host(const char *h, size_t len, const char **why)
{
	char tmp[64];
	int af = AF_INET;

	if (len > 0 && h[0] == '[') {
		if (len < 3 || h[len - 1] != ']') {
			*why = "malformed [IPv6] address";
			return MLA_ERR_CONFIG;
		}
		h++;
		len -= 2;
		af = AF_INET6;
	} else if (len == 0 || !all_digits_dots(h, len)) {
		if (memchr(h, ':', len) != NULL)
			*why = "IPv6 addresses must be written in brackets, [::1]:port";
		else
			*why = "host is neither an IP address nor a valid DNS name";
		return is_hostname(h, len) ? MLA_OK : MLA_ERR_CONFIG;
	}
	if (len >= sizeof(tmp)) {
		*why = "malformed IP address";
		return MLA_ERR_CONFIG;
	}
	memcpy(tmp, h, len);
	tmp[len] = '\0';
	unsigned char addr[16];
	if (inet_pton(af, tmp, addr) != 1) {
		*why = af == AF_INET6 ? "malformed IPv6 address" : "malformed IPv4 address";
		return MLA_ERR_CONFIG;
	}
	return MLA_OK;
}

static mla_err check_port(const char *s, const char **why)
{
	uint64_t port = 0;

	if (cfg_parse_uint(s, &port, why) != MLA_OK || port == 0 || port > 65535) {
		*why = "port must be a number from 1 to 65535";
		return MLA_ERR_CONFIG;
	}
	return MLA_OK;
}

/* host:port, the host part possibly [bracketed]; the port is required. */
static mla_err check_hostport(const char *s, size_t len, int port_required, const char **why)
{
	const char *colon = NULL;
	char port[8];

	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (close != NULL && (size_t)(close - s) + 1 < len)
			colon = close + 1;
		if (close != NULL && colon != NULL && *colon != ':') {
			*why = "expected ':' and a port after ']'";
			return MLA_ERR_CONFIG;
		}
	} else {
		for (size_t i = len; i > 0 && colon == NULL; i--)
			if (s[i - 1] == ':')
				colon = s + i - 1;
	}
	if (colon == NULL) {
		if (!port_required)
			return check_host(s, len, why);
		*why = "expected host:port";
		return MLA_ERR_CONFIG;
	}
	size_t plen = len - (size_t)(colon - s) - 1;
	if (plen == 0 || plen >= sizeof(port)) {
		*why = "port must be a number from 1 to 65535";
		return MLA_ERR_CONFIG;
	}
	memcpy(port, colon + 1, plen);
	port[plen] = '\0';
	if (check_host(s, (size_t)(colon - s), why) != MLA_OK)
		return MLA_ERR_CONFIG;
	return check_port(port, why);
}

mla_err cfg_check_listen(const char *s, const char **why)
{
	return check_hostport(s, strlen(s), 1, why);
}

mla_err cfg_check_url(const char *s, const char **why)
{
	static const char scheme[] = "https://";
	const char *auth = s + sizeof(scheme) - 1;
	size_t alen;

	if (strncmp(s, scheme, sizeof(scheme) - 1) != 0) {
		*why = "must start with https://";
		return MLA_ERR_CONFIG;
	}
	if (strpbrk(s, " \t\"<>\\^`{|}") != NULL) {
		*why = "URL contains a space or a character that must be percent-encoded";
		return MLA_ERR_CONFIG;
	}
	alen = strcspn(auth, "/?#");
	if (memchr(auth, '@', alen) != NULL) {
		*why = "credentials in the URL are not allowed";
		return MLA_ERR_CONFIG;
	}
	if (alen == 0) {
		*why = "URL has no host";
		return MLA_ERR_CONFIG;
	}
	return check_hostport(auth, alen, 0, why);
}

mla_err cfg_parse_versions(const char *s, unsigned max, unsigned *mask, const char **why)
{
	unsigned m = 0;

	while (*s != '\0') {
		unsigned v = 0;
		if (*s == ' ' || *s == ',') {
			s++;
			continue;
		}
		if (!is_digit(*s) || *s == '0') {
			*why = "expected versions as decimal numbers from 1, separated by commas";
			return MLA_ERR_CONFIG;
		}
		while (is_digit(*s) && v <= max)
			v = v * 10 + (unsigned)(*s++ - '0');
		if (v > max || v > 31 || is_digit(*s) || (*s != '\0' && *s != ' ' && *s != ',')) {
			*why = max == 3 ? "a version this gateway does not implement (it writes 1 and "
					  "2, and 3 for messages with attachments)"
					: "a version this gateway does not implement";
			return MLA_ERR_CONFIG;
		}
		if (m & (1u << v)) {
			*why = "a version named twice";
			return MLA_ERR_CONFIG;
		}
		m |= 1u << v;
	}
	if (m == 0) {
		*why = "no version";
		return MLA_ERR_CONFIG;
	}
	*mask = m;
	return MLA_OK;
}

mla_err cfg_check_pin(const char *s, const char **why)
{
	static const char prefix[] = "sha256//";
	uint8_t md[32];

	*why = "must be sha256// followed by the 44-character base64 SHA-256 of the peer's public key";
	/* canonical base64 of exactly 32 bytes (zero pad bits): one spelling per pin */
	if (strncmp(s, prefix, sizeof(prefix) - 1) != 0 ||
	    mla_b64_decode(s + sizeof(prefix) - 1, strlen(s + sizeof(prefix) - 1), md, sizeof(md),
			   NULL) != MLA_OK)
		return MLA_ERR_CONFIG;
	return MLA_OK;
}

mla_err cfg_resolve_key(const char *base_dir, const char *value, char out[PATH_MAX],
			const char **why)
{
	size_t vlen = strlen(value);

	if (strncmp(value, "pkcs11:", 7) != 0)
		return cfg_resolve_path(base_dir, value, out, why);
	*why = "pkcs11: URI longer than PATH_MAX";
	if (vlen >= PATH_MAX)
		return MLA_ERR_CONFIG;
	memcpy(out, value, vlen + 1);
	return MLA_OK;
}

mla_err cfg_resolve_path(const char *base_dir, const char *value, char out[PATH_MAX],
			 const char **why)
{
	size_t vlen = strlen(value), blen;
	const char *rel = value;

	*why = "path longer than PATH_MAX";
	if (vlen >= PATH_MAX)
		return MLA_ERR_CONFIG;
	if (value[0] == '/') {
		memcpy(out, value, vlen + 1);
		return MLA_OK;
	}
	blen = strlen(base_dir);
	mla_require(blen < PATH_MAX && base_dir[0] == '/'); /* base_dir comes from realpath() */
	memcpy(out, base_dir, blen + 1);
	for (;;) {
		size_t skip = rel[0] != '.' ? 0 : rel[1] == '/' || rel[1] == '\0' ? 1
			      : rel[1] == '.' && (rel[2] == '/' || rel[2] == '\0') ? 2 : 0;
		if (skip == 0)
			break;
		if (skip == 2) { /* drop base_dir's last component; "/.." is "/" */
			while (blen > 1 && out[blen - 1] != '/')
				blen--;
			if (blen > 1)
				blen--;
			out[blen] = '\0';
		}
		rel += skip;
		while (*rel == '/')
			rel++;
	}
	if (*rel == '\0')
		return MLA_OK;
	size_t rlen = strlen(rel), sep = out[blen - 1] == '/' ? 0 : 1;
	if (blen + sep + rlen >= PATH_MAX)
		return MLA_ERR_CONFIG;
	if (sep)
		out[blen++] = '/';
	memcpy(out + blen, rel, rlen + 1);
	return MLA_OK;
}

mla_err cfg_section_fail(mla_diag *diag, const char *file, unsigned line, const char *section,
			 const char *fmt, ...)
{
	char msg[MLA_DIAG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)mla_vsnprintf_cut(msg, sizeof(msg), fmt, ap); /* a message: cut visibly */
	va_end(ap);
	if (line == 0)
		return mla_fail(diag, MLA_ERR_CONFIG, "%s: [%s] %s", file, section, msg);
	return mla_fail(diag, MLA_ERR_CONFIG, "%s:%u: [%s] %s", file, line, section, msg);
}

mla_err cfg_duration_in(const char *value, uint64_t lo, uint64_t hi, uint64_t *ms, char *why,
			size_t n)
{
	const char *bad = NULL;
	char v[32], l[32], h[32];
	uint64_t got = 0;

	if (cfg_parse_duration(value, &got, &bad) != MLA_OK) {
		(void)mla_snprintf_cut(why, n, "%s", bad);
		return MLA_ERR_CONFIG;
	}
	if (got < lo || got > hi) {
		mla_require(cfg_format_duration(got, v, sizeof(v)) == MLA_OK &&
			    cfg_format_duration(lo, l, sizeof(l)) == MLA_OK &&
			    cfg_format_duration(hi, h, sizeof(h)) == MLA_OK);
		(void)mla_snprintf_cut(why, n, "%s is out of range (%s..%s)", v, l, h);
		return MLA_ERR_CONFIG;
	}
	*ms = got;
	return MLA_OK;
}
