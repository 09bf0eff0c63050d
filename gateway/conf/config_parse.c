/* Reads an mlagwd configuration file (format in conf/README.md): lines, sections and keys,
 * checked against one table of keys; the first problem stops the load with "FILE:LINE: ...".
 * The result is copied out only when the whole file is valid. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mlagw/codec.h"
#include "mlagw/envelope.h"
#include "config.h"
#include "config_internal.h"

#define CFG_LINES_MAX 100000u
#define CFG_KEYS_MAX 32 /* keys per section (each table is checked against it below) */

enum cfg_type {
	T_STATE,    /* ISO 3166-1 alpha-2 */
	T_TEXT,     /* free UTF-8 text */
	T_LISTEN,   /* host:port */
	T_PATH,     /* resolved against the file's directory */
	T_KEY,      /* a private key: a T_PATH or a "pkcs11:" URI kept as written */
	T_ROOT,     /* repeatable path, appended to roots */
	T_OLD_KEY,  /* repeatable "CERT, KEY", appended to old_encrypt */
	T_UINT,     /* unsigned */
	T_SIZE,     /* size_t, with B/KiB/MiB/GiB */
	T_DURATION, /* uint64_t milliseconds, with ms/s/m/h/d */
	T_URL,      /* https:// URL */
	T_PIN,      /* sha256//base64 */
	T_VERSIONS, /* "1, 2": a bit mask of envelope versions (unsigned) */
	T_DIR_URL,  /* repeatable https:// URL, appended to dir_urls */
	T_REV_CRL,  /* repeatable http(s):// URL or path, appended to rev_crls */
};

#define F_REQUIRED 1u
#define F_REPEATABLE 2u

struct key_def {
	const char *name;
	enum cfg_type type;
	size_t off; /* in struct gw_config, or struct gw_peer for [peer CC] */
	size_t len; /* of the destination array, for strings */
	uint64_t min, max;
	unsigned flags;
};

#define GW(field) offsetof(struct gw_config, field)
#define STR(field) GW(field), sizeof(((struct gw_config *)NULL)->field)
#define PATHKEY(n, field, fl) {n, T_PATH, STR(field), 0, 0, fl}
#define PRIVKEY(n, field, fl) {n, T_KEY, STR(field), 0, 0, fl}
#define DUR(n, field, lo, hi) {n, T_DURATION, GW(field), 0, lo, hi, 0}

static const struct key_def gateway_keys[] = {
	{"state", T_STATE, STR(state), 0, 0, F_REQUIRED},
	{"name", T_TEXT, STR(name), 0, 0, 0},
	{"listen", T_LISTEN, STR(listen), 0, 0, F_REQUIRED},
	PATHKEY("submit_socket", submit_socket, 0),
	PATHKEY("store", store, F_REQUIRED),
	PATHKEY("pid_file", pid_file, 0),
	{"workers", T_UINT, GW(workers), 0, 0, 64, 0},
	/* SPEC 11 rule 6: the lowest envelope version read from and written to any peer */
	{"envelope_min_version", T_UINT, GW(envelope_min_version), 0, MLA_ENVELOPE_VERSION_MIN,
	 MLA_ENVELOPE_VERSION_MAX, 0},
};

static const struct key_def keys_keys[] = {
	PATHKEY("tls_cert", tls.cert, F_REQUIRED),
	PRIVKEY("tls_key", tls.key, F_REQUIRED),
	PATHKEY("sign_cert", sign.cert, F_REQUIRED),
	PRIVKEY("sign_key", sign.key, F_REQUIRED),
	PATHKEY("encrypt_cert", encrypt.cert, F_REQUIRED),
	PRIVKEY("encrypt_key", encrypt.key, F_REQUIRED),
	PATHKEY("audit_cert", audit.cert, F_REQUIRED),
	/* Ed25519: a file key only, libp11 0.4.12 has no EdDSA (docs/internals/keys.md) */
	PATHKEY("audit_key", audit.key, F_REQUIRED),
	{"old_encrypt", T_OLD_KEY, 0, 0, 0, 0, F_REPEATABLE},
	/* the audit key being replaced, for the start that signs the change (SPEC 14) */
	PATHKEY("previous_audit_cert", prev_audit.cert, 0),
	PATHKEY("previous_audit_key", prev_audit.key, 0),
};

static const struct key_def trust_keys[] = {
	{"root", T_ROOT, 0, 0, 0, 0, F_REQUIRED | F_REPEATABLE},
};

static const struct key_def limits_keys[] = {
	{"max_envelope_bytes", T_SIZE, GW(limits.max_envelope_bytes), 0, CFG_KIB, CFG_GIB, 0},
	{"max_document_bytes", T_SIZE, GW(limits.max_document_bytes), 0, CFG_KIB, CFG_GIB, 0},
	{"max_body_bytes", T_SIZE, GW(max_body_bytes), 0, CFG_KIB, CFG_GIB, 0},
	{"max_ratio", T_UINT, GW(limits.max_ratio), 0, 2, 100000, 0},
	{"max_depth", T_UINT, GW(limits.max_depth), 0, 8, 256, 0},
	{"max_nodes", T_UINT, GW(limits.max_nodes), 0, 16, 1000000, 0},
	{"max_element_attrs", T_UINT, GW(limits.max_element_attrs), 0, 8, 256, 0},
	{"max_attrs", T_UINT, GW(limits.max_attrs), 0, 64, 1000000, 0},
	DUR("clock_skew", clock_skew_ms, CFG_SEC, CFG_DAY),
	DUR("replay_window", replay_window_ms, CFG_MIN, 365 * CFG_DAY),
	DUR("header_timeout", header_timeout_ms, 100, 10 * CFG_MIN),
	{"min_receive_rate", T_SIZE, GW(min_receive_rate), 0, 0, CFG_GIB, 0},
	{"peer_rate", T_UINT, GW(peer_rate), 0, 0, 1000000, 0},
	{"peer_burst", T_UINT, GW(peer_burst), 0, 1, 1000000, 0},
	{"max_connections", T_UINT, GW(max_connections), 0, 4, 1000000, 0},
	{"max_connections_per_source", T_UINT, GW(max_connections_per_source), 0, 1, 1000000, 0},
	DUR("refusal_window", refusal_window_ms, 100, CFG_HOUR),
	DUR("idempotency_keep", idempotency_keep_ms, CFG_SEC, 30 * CFG_DAY),
	DUR("log_repeat_interval", log_repeat_interval_ms, 100, CFG_HOUR),
	DUR("transfer_timeout", transfer_timeout_ms, CFG_MIN, 365 * CFG_DAY),
	{"transfer_reserve_margin", T_SIZE, GW(transfer_reserve_margin), 0, 0, 1024 * CFG_GIB, 0},
	{"transfer_peer_max", T_UINT, GW(transfer_peer_max), 0, 1, 100000, 0},
	{"transfer_peer_bytes", T_SIZE, GW(transfer_peer_bytes), 0, CFG_MIB, (uint64_t)1 << 46, 0},
	/* attachments (SPEC 17.14): the local API's uploads and the sealing of a submission */
	{"max_attachment_bytes", T_SIZE, GW(limits.max_attachment_bytes), 0, 0, (uint64_t)1 << 40,
	 0},
	{"max_message_attachment_bytes", T_SIZE, GW(max_message_attachment_bytes), 0, 0,
	 (uint64_t)1 << 46, 0},
	{"attachment_segment_bytes", T_SIZE, GW(attachment_segment_bytes), 0, 64 * CFG_KIB,
	 16 * CFG_MIB, 0},
	DUR("upload_keep", upload_keep_ms, CFG_SEC, 30 * CFG_DAY),
	{"max_uploads_per_actor", T_UINT, GW(max_uploads_per_actor), 0, 1, 100000, 0},
	{"upload_min_free_bytes", T_SIZE, GW(upload_min_free_bytes), 0, 0, (uint64_t)1 << 46, 0},
};
/* T_SIZE writes a size_t; max_attachment_bytes is an unsigned long long of mla_limits */
_Static_assert(sizeof(size_t) == sizeof(unsigned long long), "T_SIZE into max_attachment_bytes");

static const struct key_def retry_keys[] = {
	DUR("initial", retry.initial_ms, 10, CFG_HOUR),
	DUR("max", retry.max_ms, CFG_SEC, 7 * CFG_DAY),
	DUR("request_timeout", retry.request_timeout_ms, CFG_SEC, CFG_HOUR),
	{"min_send_rate", T_SIZE, GW(retry.min_send_rate), 0, 0, CFG_GIB, 0},
	DUR("connect_timeout", retry.connect_timeout_ms, 100, 10 * CFG_MIN),
	DUR("deadline_normal", retry.deadline_ms[0], CFG_SEC, 365 * CFG_DAY),
	DUR("deadline_urgent", retry.deadline_ms[1], CFG_SEC, 365 * CFG_DAY),
	DUR("deadline_crisis", retry.deadline_ms[2], CFG_SEC, 365 * CFG_DAY),
};

static const struct key_def audit_keys[] = {
	DUR("checkpoint_interval", checkpoint_interval_ms, 100, CFG_HOUR),
	DUR("peer_head_wait", peer_head_wait_ms, 0, CFG_HOUR),
	DUR("recover_wait", recover_wait_ms, 0, CFG_HOUR),
};

static const struct key_def store_keys[] = {
	DUR("check_interval", store_check_interval_ms, CFG_SEC, 365 * CFG_DAY),
};

static const struct key_def cases_keys[] = {
	{"opaque", T_TEXT, STR(cases_opaque), 0, 0, 0}, /* allow | refuse, checked in finish */
	{"lifecycle", T_TEXT, STR(cases_lifecycle), 0, 0, 0}, /* off | enforce, checked in finish */
	DUR("not_retrieved_after", not_retrieved_after_ms, CFG_MIN, 365 * CFG_DAY), /* 16.10 */
	/* role names or none, checked in finish (protect_config.c) */
	{"protected_roles", T_TEXT, STR(cases_protected_roles), 0, 0, 0},
};

#define PEER(field) offsetof(struct gw_peer, field), sizeof(((struct gw_peer *)NULL)->field)
static const struct key_def peer_keys[] = {
	/* both required without [directory] (finish); with it, overrides of the directory's */
	{"url", T_URL, PEER(url), 0, 0, 0},
	{"encrypt_cert", T_PATH, PEER(encrypt_cert), 0, 0, 0},
	{"tls_pin", T_PIN, PEER(tls_pin), 0, 0, 0},
	{"max_in_flight", T_UINT, offsetof(struct gw_peer, max_in_flight), 0, 1, 256, 0},
	/* until the signed directory lists what each peer reads (SPEC 11 rules 7 and 10) */
	{"receipt_version", T_UINT, offsetof(struct gw_peer, receipt_version), 0, 1, 2, 0},
	{"envelope_versions", T_VERSIONS, offsetof(struct gw_peer, envelope_versions), 0, 0, 0,
	 0},
	{"max_segments_in_flight", T_UINT, offsetof(struct gw_peer, max_segments_in_flight), 0, 1,
	 64, 0},
	{"max_bandwidth", T_SIZE, offsetof(struct gw_peer, max_bandwidth), 0, 0, 1024 * CFG_GIB, 0},
};

/* SPEC 18.6: the signed directory */
static const struct key_def directory_keys[] = {
	PATHKEY("file", dir_file, F_REQUIRED),
	{"publisher", T_STATE, STR(dir_publisher), 0, 0, F_REQUIRED},
	DUR("grace", dir_grace_ms, 0, 365 * CFG_DAY),
	PATHKEY("entry", dir_entry, 0),
	{"listen", T_LISTEN, STR(dir_listen), 0, 0, 0},
	{"url", T_DIR_URL, 0, 0, 0, 0, F_REPEATABLE},
	DUR("fetch_interval", dir_fetch_interval_ms, CFG_SEC, 7 * CFG_DAY),
};

/* where the daemon's lines go: auto | stderr | journal | syslog, checked in finish */
static const struct key_def log_keys[] = {
	{"target", T_TEXT, STR(log_target), 0, 0, 0},
};

/* SPEC 18.7: revocation (CRLs and OCSP) */
static const struct key_def revocation_keys[] = {
	{"crl", T_REV_CRL, 0, 0, 0, 0, F_REPEATABLE},
	DUR("refresh", rev_refresh_ms, CFG_SEC, 7 * CFG_DAY),
	DUR("timeout", rev_timeout_ms, 100, CFG_MIN),
	{"fail", T_TEXT, STR(rev_fail), 0, 0, 0}, /* closed | open, checked in finish */
	{"ocsp", T_TEXT, STR(rev_ocsp), 0, 0, 0}, /* on | off, checked in finish */
};

/* the daemon's processes: users, root, the system-call filter (docs/keys.md "Least privilege") */
static const struct key_def daemon_keys[] = {
	{"user", T_TEXT, STR(daemon_user), 0, 0, 0},
	{"keyholder_user", T_TEXT, STR(keyholder_user), 0, 0, 0},
	{"allow_root", T_TEXT, STR(allow_root), 0, 0, 0}, /* false | true, checked in finish */
	{"seccomp", T_TEXT, STR(seccomp), 0, 0, 0},       /* on | off | log, checked in finish */
	{"landlock", T_TEXT, STR(landlock), 0, 0, 0},     /* on | off, checked in finish */
	PATHKEY("keyholder_write", keyholder_write, 0),
};

enum sec_id {
	SEC_GATEWAY, SEC_KEYS, SEC_TRUST, SEC_LIMITS, SEC_RETRY, SEC_AUDIT, SEC_STORE, SEC_CASES,
	SEC_API, SEC_DEADLINES, SEC_DIRECTORY, SEC_EXPIRY, SEC_REVOCATION, SEC_LOG, SEC_DAEMON, SEC_PEER,
	SEC_N
};

struct sec_def {
	const char *name;
	const struct key_def *keys;
	size_t n_keys;
};

#define SEC(n, k) {n, k, sizeof(k) / sizeof((k)[0])}
#define FITS(k) _Static_assert(sizeof(k) / sizeof((k)[0]) <= CFG_KEYS_MAX, #k " > CFG_KEYS_MAX")
FITS(gateway_keys);
FITS(keys_keys);
FITS(trust_keys);
FITS(limits_keys);
FITS(retry_keys);
FITS(audit_keys);
FITS(store_keys);
FITS(cases_keys);
FITS(peer_keys);
FITS(directory_keys);
FITS(revocation_keys);
FITS(log_keys);
FITS(daemon_keys);
static const struct sec_def sections[SEC_N] = {
	SEC("gateway", gateway_keys), SEC("keys", keys_keys), SEC("trust", trust_keys),
	SEC("limits", limits_keys),   SEC("retry", retry_keys), SEC("audit", audit_keys),
	SEC("store", store_keys),     SEC("cases", cases_keys),	      {"api", NULL, 0},
	{"deadlines", NULL, 0},       SEC("directory", directory_keys),
	{"expiry", NULL, 0},
	SEC("revocation", revocation_keys), SEC("log", log_keys), SEC("daemon", daemon_keys), SEC("peer", peer_keys),
};

struct cfg_parser {
	struct gw_config cfg;          /* built here, copied out on success */
	const char *file;              /* as given, for messages */
	char base_dir[PATH_MAX];       /* the file's directory, absolute */
	unsigned line;
	enum sec_id sec;               /* SEC_N before the first section */
	char label[16];                /* "[gateway]", "[peer CO]" */
	void *base;                    /* &cfg, or the current peer */
	unsigned sec_line[SEC_N];      /* where each section started (peers: the last one) */
	unsigned seen[SEC_N][CFG_KEYS_MAX]; /* line where each key was first set */
	unsigned peer_line[GW_MAX_PEERS];
};

static mla_err vfail(mla_diag *diag, const char *file, unsigned line, const char *fmt,
		     va_list ap) __attribute__((format(printf, 4, 0)));
static mla_err vfail(mla_diag *diag, const char *file, unsigned line, const char *fmt,
		     va_list ap)
{
	char msg[MLA_DIAG_MAX];

	(void)mla_vsnprintf_cut(msg, sizeof(msg), fmt, ap); /* a message: cut visibly */
		if (line == 0)
			return mla_fail(diag, MLA_ERR_CONFIG, "%s: %s", file, msg);
	return mla_fail(diag, MLA_ERR_CONFIG, "%s:%u: %s", file, line, msg);
}

/* "FILE:LINE: problem" at line (0: "FILE: problem"). */
static mla_err fail_at(const struct cfg_parser *p, unsigned line, mla_diag *diag,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static mla_err fail_at(const struct cfg_parser *p, unsigned line, mla_diag *diag,
		       const char *fmt, ...)
{
	va_list ap;
	mla_err r;

	va_start(ap, fmt);
	r = vfail(diag, p->file, line, fmt, ap);
	va_end(ap);
	return r;
}

static int copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

static mla_err fail_key(const struct cfg_parser *p, const struct key_def *k, mla_diag *diag,
			const char *why)
{
	return fail_at(p, p->line, diag, "%s %s: %s", p->label, k->name, why);
}

/* "1 KiB..1 GiB" style range message for a numeric key. */
static mla_err fail_range(const struct cfg_parser *p, const struct key_def *k, uint64_t v,
			  mla_diag *diag)
{
	char sv[32], lo[32], hi[32];
	mla_err (*fmt)(uint64_t, char *, size_t) =
		k->type == T_SIZE ? cfg_format_size : k->type == T_DURATION ? cfg_format_duration : NULL;

	if (fmt == NULL)
		return fail_at(p, p->line, diag, "%s %s: %llu is out of range (%llu..%llu)", p->label,
			       k->name, (unsigned long long)v, (unsigned long long)k->min,
			       (unsigned long long)k->max);
	mla_require(fmt(v, sv, sizeof(sv)) == MLA_OK && fmt(k->min, lo, sizeof(lo)) == MLA_OK &&
		    fmt(k->max, hi, sizeof(hi)) == MLA_OK);
	return fail_at(p, p->line, diag, "%s %s: %s is out of range (%s..%s)", p->label, k->name,
		       sv, lo, hi);
}

static mla_err set_number(struct cfg_parser *p, const struct key_def *k, const char *value,
			  mla_diag *diag)
{
	const char *why = NULL;
	uint64_t v = 0;
	mla_err r = k->type == T_SIZE	? cfg_parse_size(value, &v, &why)
		    : k->type == T_DURATION ? cfg_parse_duration(value, &v, &why)
					    : cfg_parse_uint(value, &v, &why);
	char *dst = (char *)p->base + k->off;

	if (r != MLA_OK)
		return fail_key(p, k, diag, why);
	if (v < k->min || v > k->max)
		return fail_range(p, k, v, diag);
	if (k->type == T_SIZE)
		*(size_t *)(void *)dst = (size_t)v;
	else if (k->type == T_DURATION)
		*(uint64_t *)(void *)dst = v;
	else
		*(unsigned *)(void *)dst = (unsigned)v;
	return MLA_OK;
}

static mla_err set_path(struct cfg_parser *p, const struct key_def *k, const char *value,
			char out[PATH_MAX], mla_diag *diag)
{
	const char *why = NULL;
	mla_err r;

	if (strncmp(value, "pkcs11:", 7) == 0)
		return fail_key(p, k, diag, "must be a file; pkcs11: URIs name only tls_key, sign_key, "
				"encrypt_key, old_encrypt keys and [api] tls_key");
	r = cfg_resolve_path(p->base_dir, value, out, &why);
	if (r == MLA_ERR_CONFIG)
		return fail_key(p, k, diag, why);
	return r;
}

static mla_err set_key(struct cfg_parser *p, const struct key_def *k, const char *value,
		       char out[PATH_MAX], mla_diag *diag)
{
	const char *why = NULL;
	mla_err r = cfg_resolve_key(p->base_dir, value, out, &why);

	if (r == MLA_ERR_CONFIG)
		return fail_key(p, k, diag, why);
	return r;
}

static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* "CERT_PATH, KEY_PATH" */
static mla_err set_old_key(struct cfg_parser *p, const struct key_def *k, char *value,
			   mla_diag *diag)
{
	struct gw_config *c = &p->cfg;
	char *comma = strchr(value, ',');
	char *cert, *key;
	mla_err r;

	if (c->n_old_encrypt == GW_MAX_OLD_KEYS)
		return fail_at(p, p->line, diag, "%s %s: more than %d old encryption key pairs",
			       p->label, k->name, GW_MAX_OLD_KEYS);
	if (comma == NULL || strchr(comma + 1, ',') != NULL)
		return fail_key(p, k, diag, "expected CERT_PATH, KEY_PATH");
	*comma = '\0';
	cert = trim(value);
	key = trim(comma + 1);
	if (*cert == '\0' || *key == '\0')
		return fail_key(p, k, diag, "expected CERT_PATH, KEY_PATH");
	if ((r = set_path(p, k, cert, c->old_encrypt[c->n_old_encrypt].cert, diag)) != MLA_OK ||
	    (r = set_key(p, k, key, c->old_encrypt[c->n_old_encrypt].key, diag)) != MLA_OK)
		return r;
	c->n_old_encrypt++;
	return MLA_OK;
}

/* [revocation] crl: an http(s) URL kept as written, or a file resolved as paths are. */
static mla_err set_rev_crl(struct cfg_parser *p, const struct key_def *k, char *value,
			   mla_diag *diag)
{
	struct gw_config *c = &p->cfg;
	mla_err r;

	if (c->n_rev_crls == GW_REV_CRLS)
		return fail_at(p, p->line, diag, "%s %s: more than %d CRLs", p->label, k->name,
			       GW_REV_CRLS);
	if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) {
		if ((r = set_path(p, k, value, c->rev_crls[c->n_rev_crls], diag)) == MLA_OK)
			c->n_rev_crls++;
		return r;
	}
	if (strpbrk(value, " \t\"<>") != NULL)
		return fail_key(p, k, diag, "a URL with a blank, quote or angle bracket");
	if (copy_str(c->rev_crls[c->n_rev_crls], sizeof(c->rev_crls[0]), value) != 0)
		return fail_at(p, p->line, diag, "%s %s: too long", p->label, k->name);
	c->n_rev_crls++;
	return MLA_OK;
}

/* Checks value against k's type and stores it. */
static mla_err set_value(struct cfg_parser *p, const struct key_def *k, char *value,
			 mla_diag *diag)
{
	const char *why = NULL;
	char *dst = (char *)p->base + k->off;
	mla_err r = MLA_OK;

	switch (k->type) {
	case T_STATE:
		if (!cfg_is_state(value))
			return fail_key(p, k, diag, "not a State code (ISO 3166-1 alpha-2, upper case)");
		break;
	case T_LISTEN:
		r = cfg_check_listen(value, &why);
		break;
	case T_URL:
		r = cfg_check_url(value, &why);
		break;
	case T_PIN:
		r = cfg_check_pin(value, &why);
		break;
	case T_TEXT:
		break;
	case T_PATH:
		return set_path(p, k, value, dst, diag);
	case T_KEY:
		return set_key(p, k, value, dst, diag);
	case T_ROOT:
		if (p->cfg.n_roots == GW_MAX_ROOTS)
			return fail_at(p, p->line, diag, "%s %s: more than %d roots", p->label,
				       k->name, GW_MAX_ROOTS);
		if ((r = set_path(p, k, value, p->cfg.roots[p->cfg.n_roots], diag)) == MLA_OK)
			p->cfg.n_roots++;
		return r;
	case T_OLD_KEY:
		return set_old_key(p, k, value, diag);
	case T_DIR_URL:
		if (p->cfg.n_dir_urls == GW_DIR_URLS)
			return fail_at(p, p->line, diag, "%s %s: more than %d URLs", p->label,
				       k->name, GW_DIR_URLS);
		if (cfg_check_url(value, &why) != MLA_OK)
			return fail_key(p, k, diag, why);
		if (copy_str(p->cfg.dir_urls[p->cfg.n_dir_urls], GW_URL_MAX, value) != 0)
			return fail_at(p, p->line, diag, "%s %s: longer than %d bytes", p->label,
				       k->name, GW_URL_MAX - 1);
		p->cfg.n_dir_urls++;
		return MLA_OK;
	case T_REV_CRL:
		return set_rev_crl(p, k, value, diag);
	case T_UINT:
	case T_SIZE:
	case T_DURATION:
		return set_number(p, k, value, diag);
	case T_VERSIONS:
		if (cfg_parse_versions(value, MLA_ENVELOPE_VERSION_ATTACH, (unsigned *)(void *)dst,
				       &why) != MLA_OK)
			return fail_key(p, k, diag, why);
		return MLA_OK;
	}
	if (r != MLA_OK)
		return fail_key(p, k, diag, why);
	if (copy_str(dst, k->len, value) != 0)
		return fail_at(p, p->line, diag, "%s %s: longer than %zu bytes", p->label, k->name,
			       k->len - 1);
	return MLA_OK;
}

static int is_key_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static mla_err key_line(struct cfg_parser *p, char *key, char *value, mla_diag *diag)
{
	const struct sec_def *sd;
	const struct key_def *k = NULL;
	const char *why = NULL;
	size_t i;

	if (!is_key_name(key))
		return fail_at(p, p->line, diag,
			       "malformed key name (lower-case letters, digits and '_')");
	if (p->sec == SEC_N)
		return fail_at(p, p->line, diag, "key '%s' outside any section", key);
	if (p->sec == SEC_API) /* [api] has its own reader: api_config.c */
		return api_config_key(&p->cfg.api, p->file, p->line, p->base_dir, key, value, diag);
	if (p->sec == SEC_DEADLINES) /* [deadlines]: deadline_config.c */
		return deadline_config_key(&p->cfg.deadlines, p->file, p->line, p->base_dir, key,
					   value, diag);
	if (p->sec == SEC_EXPIRY) /* [expiry]: expiry_config.c */
		return expiry_config_key(&p->cfg.expiry, p->file, p->line, p->base_dir, key, value,
					 diag);
	sd = &sections[p->sec];
	for (i = 0; i < sd->n_keys && k == NULL; i++)
		if (strcmp(sd->keys[i].name, key) == 0)
			k = &sd->keys[i];
	if (k == NULL)
		return fail_at(p, p->line, diag, "unknown key '%s' in %s", key, p->label);
	i = (size_t)(k - sd->keys);
	if (p->seen[p->sec][i] != 0 && !(k->flags & F_REPEATABLE))
		return fail_at(p, p->line, diag, "%s %s: repeated (first set on line %u)", p->label,
			       key, p->seen[p->sec][i]);
	if (*value == '\0')
		return fail_key(p, k, diag, "empty value");
	if (cfg_check_text(value, &why) != MLA_OK)
		return fail_key(p, k, diag, why);
	if (p->seen[p->sec][i] == 0)
		p->seen[p->sec][i] = p->line;
	return set_value(p, k, value, diag);
}

/* Required keys of section id, which ends (or, at the end of the file, never started). */
static mla_err check_required(const struct cfg_parser *p, enum sec_id id, const char *label,
			      mla_diag *diag)
{
	const struct sec_def *sd = &sections[id];

	for (size_t i = 0; i < sd->n_keys; i++)
		if ((sd->keys[i].flags & F_REQUIRED) && p->seen[id][i] == 0)
			return fail_at(p, 0, diag, "%s %s is required", label, sd->keys[i].name);
	return MLA_OK;
}

static mla_err peer_section(struct cfg_parser *p, const char *cc, mla_diag *diag)
{
	struct gw_config *c = &p->cfg;
	struct gw_peer *peer;

	if (!cfg_is_state(cc))
		return fail_at(p, p->line, diag, "section [peer CC]: %s",
			       "not a State code (ISO 3166-1 alpha-2, upper case)");
	for (size_t i = 0; i < c->n_peers; i++)
		if (strcmp(c->peers[i].state, cc) == 0)
			return fail_at(p, p->line, diag, "duplicate section [peer %s] (first on line %u)",
				       cc, p->peer_line[i]);
	if (c->n_peers == GW_MAX_PEERS)
		return fail_at(p, p->line, diag, "more than %d peers", GW_MAX_PEERS);
	peer = &c->peers[c->n_peers];
	gw_peer_defaults(peer, cc);
	p->peer_line[c->n_peers++] = p->line;
	p->base = peer;
	memset(p->seen[SEC_PEER], 0, sizeof(p->seen[SEC_PEER]));
	return mla_snprintf(p->label, sizeof(p->label), "[peer %s]", cc);
}

static mla_err section_line(struct cfg_parser *p, char *s, mla_diag *diag)
{
	size_t n = strlen(s);
	const char *why = NULL;
	char *name;
	mla_err r;

	if (n < 2 || s[n - 1] != ']')
		return fail_at(p, p->line, diag, "malformed section header (expected [name])");
	s[n - 1] = '\0';
	name = trim(s + 1);
	if (p->sec == SEC_PEER && (r = check_required(p, SEC_PEER, p->label, diag)) != MLA_OK)
		return r;
	if (strncmp(name, "peer", 4) == 0 && (name[4] == ' ' || name[4] == '\t')) {
		p->sec = SEC_PEER;
		p->sec_line[SEC_PEER] = p->line;
		return peer_section(p, trim(name + 5), diag);
	}
	for (int id = 0; id < SEC_PEER; id++) {
		if (strcmp(name, sections[id].name) != 0)
			continue;
		if (p->sec_line[id] != 0)
			return fail_at(p, p->line, diag, "duplicate section [%s] (first on line %u)",
				       name, p->sec_line[id]);
		p->sec = (enum sec_id)id;
		p->sec_line[id] = p->line;
		p->base = &p->cfg;
		return mla_snprintf(p->label, sizeof(p->label), "[%s]", name);
	}
	if (strcmp(name, "peer") == 0)
		return fail_at(p, p->line, diag, "section [peer] needs a State code: [peer CC]");
	if (cfg_check_text(name, &why) != MLA_OK || strlen(name) > 32)
		return fail_at(p, p->line, diag, "unknown section");
	return fail_at(p, p->line, diag, "unknown section [%s]", name);
}

/* One line, without its end: blank, comment, [section] or key = value. */
static mla_err parse_line(struct cfg_parser *p, char *line, mla_diag *diag)
{
	char *s = trim(line), *eq;

	for (char *h = s; (h = strchr(h, '#')) != NULL; h++) {
		if (h == s || h[-1] == ' ' || h[-1] == '\t') {
			*h = '\0'; /* a comment runs to the end of the line */
			break;
		}
	}
	s = trim(s);
	if (*s == '\0')
		return MLA_OK;
	if (*s == '[')
		return section_line(p, s, diag);
	if ((eq = strchr(s, '=')) == NULL)
		return fail_at(p, p->line, diag,
			       "malformed line (expected key = value, [section] or # comment)");
	*eq = '\0';
	return key_line(p, trim(s), trim(eq + 1), diag);
}

enum { LINE_OK, LINE_EOF, LINE_TOO_LONG, LINE_NUL, LINE_IO };

/* Next line into buf (CFG_LINE_MAX + 2 bytes) without "\n" or "\r\n". */
static int read_line(FILE *f, char *buf)
{
	size_t n = 0;
	int ch;

	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (ch == '\0')
			return LINE_NUL;
		if (n == CFG_LINE_MAX + 1) /* room for a final '\r' */
			return LINE_TOO_LONG;
		buf[n++] = (char)ch;
	}
	if (ch == EOF && ferror(f))
		return LINE_IO;
	if (ch == EOF && n == 0)
		return LINE_EOF;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return n > CFG_LINE_MAX ? LINE_TOO_LONG : LINE_OK;
}

static mla_err parse_file(struct cfg_parser *p, FILE *f, mla_diag *diag)
{
	char buf[CFG_LINE_MAX + 2];
	mla_err r;

	for (;;) {
		int st = read_line(f, buf);
		if (st == LINE_EOF)
			return MLA_OK;
		if (p->line == CFG_LINES_MAX)
			return fail_at(p, p->line, diag, "more than %u lines", CFG_LINES_MAX);
		p->line++;
		if (st == LINE_IO)
			return mla_fail(diag, MLA_ERR_IO, "%s:%u: read error: %s", p->file, p->line,
					strerror(errno));
		if (st == LINE_TOO_LONG)
			return fail_at(p, p->line, diag, "line longer than %d bytes", CFG_LINE_MAX);
		if (st == LINE_NUL)
			return fail_at(p, p->line, diag, "NUL byte in line");
		/* a UTF-8 byte order mark may start the file */
		char *s = p->line == 1 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? buf + 3 : buf;
		if ((r = parse_line(p, s, diag)) != MLA_OK)
			return r;
	}
}

/* Checks that need the whole file: required keys, own State, defaults that follow others. */
/* Without [directory] every peer's url and encrypt_cert come from here; with it, a peer
 * the directory does not list is checked when the directory is loaded (daemon). */
static mla_err check_peers_complete(const struct cfg_parser *p, mla_diag *diag)
{
	const struct gw_config *c = &p->cfg;

	if (c->dir_file[0] != '\0')
		return MLA_OK;
	for (size_t i = 0; i < c->n_peers; i++) {
		const char *missing = c->peers[i].url[0] == '\0' ? "url" :
				      c->peers[i].encrypt_cert[0] == '\0' ? "encrypt_cert" : NULL;
		if (missing != NULL)
			return fail_at(p, 0, diag, "[peer %s] %s is required (without [directory])",
				       c->peers[i].state, missing);
	}
	return MLA_OK;
}

/* A key of two words: *yes is 1 for the second, 0 for the first, anything else an error. */
static mla_err choice(struct cfg_parser *p, enum sec_id sec, const char *key, const char *value,
		      const char *no, const char *yes_word, int *yes, mla_diag *diag)
{
	if (strcmp(value, no) != 0 && strcmp(value, yes_word) != 0)
		return fail_at(p, p->sec_line[sec], diag, "%s must be %s or %s", key, no, yes_word);
	*yes = strcmp(value, yes_word) == 0;
	return MLA_OK;
}

/* [daemon]: the filter's mode, and users named as a passwd entry would be (no '/' or ':') */
static mla_err daemon_finish(struct cfg_parser *p, mla_diag *diag)
{
	struct gw_config *c = &p->cfg;
	static const char *const modes[] = {"off", "on", "log"};
	const char *users[] = {c->daemon_user, c->keyholder_user};
	mla_err r;

	c->seccomp_mode = GW_SECCOMP_N;
	for (int m = 0; m < GW_SECCOMP_N; m++)
		if (strcmp(c->seccomp, modes[m]) == 0)
			c->seccomp_mode = (enum gw_seccomp_mode)m;
	if (c->seccomp_mode == GW_SECCOMP_N)
		return fail_at(p, p->sec_line[SEC_DAEMON], diag, "[daemon] seccomp must be on, off "
			       "or log");
	if ((r = choice(p, SEC_DAEMON, "[daemon] landlock", c->landlock, "off", "on",
			&c->landlock_on, diag)) != MLA_OK)
		return r;
	for (size_t i = 0; i < 2; i++)
		if (strpbrk(users[i], "/: ") != NULL || users[i][0] == '-')
			return fail_at(p, p->sec_line[SEC_DAEMON], diag, "[daemon] %s is not a user "
				       "name", i == 0 ? "user" : "keyholder_user");
	if (c->keyholder_user[0] != '\0' && c->daemon_user[0] == '\0')
		return fail_at(p, p->sec_line[SEC_DAEMON], diag, "[daemon] keyholder_user needs "
			       "[daemon] user");
	return MLA_OK;
}

static mla_err finish(struct cfg_parser *p, mla_diag *diag)
{
	struct gw_config *c = &p->cfg;
	mla_err r;

	if (p->sec == SEC_PEER && (r = check_required(p, SEC_PEER, p->label, diag)) != MLA_OK)
		return r;
	for (int id = 0; id < SEC_PEER; id++) {
		char label[16];
		if ((id == SEC_DIRECTORY || id == SEC_REVOCATION) && p->sec_line[id] == 0)
			continue; /* optional section: its keys are required only when it is there */
		if ((r = mla_snprintf(label, sizeof(label), "[%s]", sections[id].name)) != MLA_OK ||
		    (r = check_required(p, (enum sec_id)id, label, diag)) != MLA_OK)
			return r;
	}
	for (size_t i = 0; i < c->n_peers; i++)
		if (strcmp(c->peers[i].state, c->state) == 0)
			return fail_at(p, p->peer_line[i], diag,
				       "[peer %s] is this gateway's own State", c->state);
	if ((r = check_peers_complete(p, diag)) != MLA_OK)
		return r;
	if ((r = api_config_finish(&c->api, p->file, p->sec_line[SEC_API], diag)) != MLA_OK)
		return r;
	if ((r = choice(p, SEC_CASES, "[cases] opaque", c->cases_opaque, "allow", "refuse",
			&c->cases_refuse_opaque, diag)) != MLA_OK ||
	    (r = choice(p, SEC_CASES, "[cases] lifecycle", c->cases_lifecycle, "off", "enforce",
			&c->cases_enforce, diag)) != MLA_OK ||
	    (r = choice(p, SEC_REVOCATION, "[revocation] fail", c->rev_fail, "closed", "open",
			&c->rev_fail_open, diag)) != MLA_OK ||
	    (r = choice(p, SEC_REVOCATION, "[revocation] ocsp", c->rev_ocsp, "off", "on",
			&c->rev_ocsp_on, diag)) != MLA_OK ||
	    (r = choice(p, SEC_DAEMON, "[daemon] allow_root", c->allow_root, "false", "true",
			&c->root_allowed, diag)) != MLA_OK ||
	    (r = daemon_finish(p, diag)) != MLA_OK)
		return r;
	if (strcmp(c->log_target, "auto") != 0 && strcmp(c->log_target, "stderr") != 0 &&
	    strcmp(c->log_target, "journal") != 0 && strcmp(c->log_target, "syslog") != 0)
		return fail_at(p, p->seen[SEC_LOG][0], diag,
			       "[log] target must be auto, stderr, journal or syslog");
	if (protect_roles_parse(c->cases_protected_roles, &c->protect) != MLA_OK)
		return fail_at(p, p->sec_line[SEC_CASES], diag, "[cases] protected_roles must be "
			       "none, or authority, agency, authority:NAME or agency:NAME, each once, "
			       "separated by blanks (at most 16 names)");
	if ((c->prev_audit.cert[0] == '\0') != (c->prev_audit.key[0] == '\0'))
		return fail_at(p, p->sec_line[SEC_KEYS], diag, "[keys] previous_audit_cert and "
			       "previous_audit_key go together");
	if (c->retry.initial_ms > c->retry.max_ms)
		return fail_at(p, p->seen[SEC_RETRY][0] ? p->seen[SEC_RETRY][0] : p->seen[SEC_RETRY][1],
			       diag, "[retry] initial is longer than [retry] max");
	if ((c->attachment_segment_bytes & (c->attachment_segment_bytes - 1)) != 0)
		return fail_at(p, p->sec_line[SEC_LIMITS], diag, "[limits] attachment_segment_bytes "
			       "must be a power of two from 64 KiB to 16 MiB (SPEC 17.2)");
	if (c->name[0] == '\0')
		memcpy(c->name, c->state, sizeof(c->state));
	if (p->seen[SEC_LIMITS][2] == 0) /* max_body_bytes follows max_envelope_bytes */
		c->max_body_bytes = c->limits.max_envelope_bytes;
	return MLA_OK;
}

/* The absolute, symlink-free directory of p->file, for relative paths. */
static mla_err find_base_dir(struct cfg_parser *p, mla_diag *diag)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(p->file, '/');
	size_t n = slash == NULL ? 0 : slash == p->file ? 1 : (size_t)(slash - p->file);

	if (n == 0)
		memcpy(dir, ".", 2);
	else {
		memcpy(dir, p->file, n);
		dir[n] = '\0';
	}
	if (realpath(dir, p->base_dir) == NULL)
		return mla_fail(diag, MLA_ERR_IO, "%s: cannot resolve its directory: %s", p->file,
				strerror(errno));
	return MLA_OK;
}

void gw_config_defaults(struct gw_config *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = 0;
	c->envelope_min_version = 1;
	mla_limits_default(&c->limits);
	c->max_body_bytes = c->limits.max_envelope_bytes;
	c->clock_skew_ms = 5 * CFG_MIN;
	c->replay_window_ms = 7 * CFG_DAY;
	c->header_timeout_ms = 10 * CFG_SEC;
	c->min_receive_rate = 4 * CFG_KIB;
	c->peer_rate = 1000;
	c->peer_burst = 2000;
	c->max_connections = 1024;
	c->max_connections_per_source = 128;
	c->refusal_window_ms = CFG_MIN;
	c->dir_grace_ms = 7 * CFG_DAY;
	c->dir_fetch_interval_ms = CFG_HOUR;
	c->rev_refresh_ms = CFG_HOUR;
	c->rev_timeout_ms = 5 * CFG_SEC;
	memcpy(c->rev_fail, "closed", sizeof("closed"));
	memcpy(c->rev_ocsp, "on", sizeof("on"));
	memcpy(c->log_target, "auto", sizeof("auto"));
	c->rev_ocsp_on = 1;
	memcpy(c->allow_root, "false", sizeof("false"));
	memcpy(c->seccomp, "on", sizeof("on"));
	c->seccomp_mode = GW_SECCOMP_ON;
	memcpy(c->landlock, "on", sizeof("on"));
	c->landlock_on = 1;
	c->idempotency_keep_ms = 24 * CFG_HOUR;
	c->max_message_attachment_bytes = (size_t)256 << 30;
	c->attachment_segment_bytes = MLA_ATTACH_SEGMENT_DEFAULT;
	c->upload_keep_ms = 24 * CFG_HOUR;
	c->max_uploads_per_actor = 64;
	c->upload_min_free_bytes = (size_t)1 << 30;
	c->log_repeat_interval_ms = 10 * CFG_SEC;
	c->transfer_timeout_ms = 7 * CFG_DAY;
	c->transfer_reserve_margin = 64 * CFG_MIB;
	c->transfer_peer_max = 16;
	c->transfer_peer_bytes = (size_t)256 << 30;
	c->retry.initial_ms = CFG_SEC;
	c->retry.max_ms = 5 * CFG_MIN;
	c->retry.deadline_ms[0] = 7 * CFG_DAY;
	c->retry.deadline_ms[1] = 24 * CFG_HOUR;
	c->retry.deadline_ms[2] = 2 * CFG_HOUR;
	c->retry.request_timeout_ms = 30 * CFG_SEC;
	c->retry.min_send_rate = CFG_KIB;
	c->retry.connect_timeout_ms = 5 * CFG_SEC;
	c->checkpoint_interval_ms = 2 * CFG_SEC;
	c->peer_head_wait_ms = 10 * CFG_SEC;
	c->recover_wait_ms = 60 * CFG_SEC;
	c->store_check_interval_ms = CFG_DAY;
	memcpy(c->cases_opaque, "allow", sizeof("allow"));
	memcpy(c->cases_lifecycle, "off", sizeof("off"));
	c->not_retrieved_after_ms = 2 * CFG_DAY;
	memcpy(c->cases_protected_roles, "none", sizeof("none"));
	api_config_defaults(&c->api);
	deadline_config_defaults(&c->deadlines);
	expiry_config_defaults(&c->expiry);
}

mla_err gw_config_load(const char *path, struct gw_config *c, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	struct cfg_parser *p = NULL;
	FILE *f = NULL;
	struct stat st;

	if (path == NULL || c == NULL) {
		r = mla_fail(diag, MLA_ERR_ARG, "gw_config_load: no path or config");
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = mla_fail(diag, MLA_ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	gw_config_defaults(&p->cfg);
	p->file = path;
	p->sec = SEC_N;
	if (copy_str(p->cfg.path, sizeof(p->cfg.path), path) != 0) {
		r = fail_at(p, 0, diag, "file name longer than PATH_MAX");
		goto out;
	}
	if ((f = fopen(path, "re")) == NULL || fstat(fileno(f), &st) != 0) {
		r = mla_fail(diag, MLA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = fail_at(p, 0, diag, "not a regular file");
		goto out;
	}
	if ((r = find_base_dir(p, diag)) != MLA_OK || (r = parse_file(p, f, diag)) != MLA_OK ||
	    (r = finish(p, diag)) != MLA_OK)
		goto out;
	memcpy(c, &p->cfg, sizeof(*c));
	r = MLA_OK;
out:
	if (f != NULL)
		(void)fclose(f);
	free(p);
	return r;
}

int gw_config_envelope_version(const struct gw_config *c, const struct gw_peer *peer)
{
	for (int v = MLA_ENVELOPE_VERSION_MAX; v >= (int)c->envelope_min_version && v >= 1; v--)
		if (peer->envelope_versions & (1u << v))
			return v;
	return 0;
}

int gw_peer_reads_attachments(const struct gw_config *c, const char *state)
{
	const struct gw_peer *peer = gw_config_peer(c, state);

	return peer != NULL && (peer->envelope_versions & (1u << GW_ENVELOPE_VERSION_ATTACHED)) != 0;
}

void gw_config_envelope_versions_text(const struct gw_peer *peer, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (int v = 1; v <= GW_ENVELOPE_VERSION_ATTACHED && used < n; v++)
		if (peer->envelope_versions & (1u << v))
			used += (size_t)snprintf(out + used, n - used, "%s%d", used > 0 ? ", " : "",
						 v);
}

void gw_peer_defaults(struct gw_peer *peer, const char *cc)
{
	memset(peer, 0, sizeof(*peer));
	memcpy(peer->state, cc, 2);
	peer->max_in_flight = 8;
	peer->receipt_version = 1;
	peer->envelope_versions = 1u << 1;
	peer->max_segments_in_flight = 4;
}

const struct gw_peer *gw_config_peer(const struct gw_config *c, const char *state)
{
	if (c == NULL || state == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_peers; i++)
		if (strcmp(c->peers[i].state, state) == 0)
			return &c->peers[i];
	return NULL;
}

void gw_config_each_key(void (*each)(const char *section, const char *key, void *arg),
			void *arg)
{
	const char *k;

	for (int id = 0; id < SEC_N; id++) {
		const struct sec_def *s = &sections[id];
		for (size_t i = 0; i < s->n_keys; i++)
			each(s->name, s->keys[i].name, arg);
		for (size_t i = 0; id == SEC_API && (k = api_config_key_name(i)) != NULL; i++)
			each(s->name, k, arg);
		for (size_t i = 0; id == SEC_DEADLINES && (k = deadline_config_key_name(i)) != NULL; i++)
			each(s->name, k, arg);
		for (size_t i = 0; id == SEC_EXPIRY && (k = expiry_config_key_name(i)) != NULL; i++)
			each(s->name, k, arg);
	}
}
