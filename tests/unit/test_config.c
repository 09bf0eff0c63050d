/* Unit tests of the gateway configuration reader (gateway/config_*.c): the example files of
 * conf/ load, defaults apply, every kind of mistake is refused with "FILE:LINE: ..." naming the
 * key, and the value parsers (sizes, durations, paths, addresses, pins) take and refuse what
 * conf/README.md says. Files are written to /tmp with mkstemp; no PKI is needed. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/config.h"
#include "config_test_util.h"
#include "conf/config_internal.h"
#include "mlagw/buf.h"

#ifndef MLAGW_CONF_DIR
#error "MLAGW_CONF_DIR must name the source tree's conf/ directory"
#endif

/* ---- the example files ---- */

static void check_example(const char *cc, const char *lc, const char *peer1, const char *peer2,
			  const char *listen)
{
	struct gw_config *c = new_config();
	char path[PATH_MAX], top[PATH_MAX], want[PATH_MAX + 64];
	mla_diag d = {0};
	mla_err r;

	assert_true(snprintf(path, sizeof(path), "%s/%s.conf", MLAGW_CONF_DIR, lc) <
		    (int)sizeof(path));
	r = gw_config_load(path, c, &d);
	if (r != MLA_OK)
		fail_msg("%s: %s", path, d.msg);
	assert_non_null(realpath(MLAGW_CONF_DIR "/..", top));
	assert_string_equal(c->path, path);
	assert_string_equal(c->state, cc);
	assert_string_equal(c->listen, listen);
	snprintf(want, sizeof(want), "%s/out/demo/%s/store.db", top, lc);
	assert_string_equal(c->store, want);
	snprintf(want, sizeof(want), "%s/out/demo/%s/submit.sock", top, lc);
	assert_string_equal(c->submit_socket, want);
	snprintf(want, sizeof(want), "%s/out/demo/keys/%s/sign.key", top, cc);
	assert_string_equal(c->sign.key, want);
	snprintf(want, sizeof(want), "%s/out/demo/pki/%s/encrypt.crt", top, cc);
	assert_string_equal(c->encrypt.cert, want);
	const char *paths[] = {c->tls.cert, c->tls.key, c->audit.cert, c->audit.key, c->pid_file};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_true(paths[i][0] == '/');
		assert_null(strstr(paths[i], "/../"));
	}
	assert_int_equal(c->n_roots, 3);
	for (size_t i = 0; i < c->n_roots; i++) {
		const char *states[] = {"CO", "ES", "MX"};
		snprintf(want, sizeof(want), "%s/out/demo/pki/%s/root.crt", top, states[i]);
		assert_string_equal(c->roots[i], want);
	}
	assert_int_equal(c->n_peers, 2);
	assert_non_null(gw_config_peer(c, peer1));
	assert_non_null(gw_config_peer(c, peer2));
	assert_null(gw_config_peer(c, cc));
	assert_int_equal(c->n_old_encrypt, 0);
	assert_int_equal(c->limits.max_envelope_bytes, MLA_DEFAULT_MAX_ENVELOPE_BYTES);
	assert_int_equal(c->max_body_bytes, MLA_DEFAULT_MAX_ENVELOPE_BYTES);
	free(c);
}

static void test_example_es(void **state)
{
	(void)state;
	check_example("ES", "es", "CO", "MX", "127.0.0.1:8441");
}

static void test_example_co(void **state)
{
	(void)state;
	check_example("CO", "co", "ES", "MX", "127.0.0.1:8442");
}

static void test_example_mx(void **state)
{
	(void)state;
	check_example("MX", "mx", "CO", "ES", "127.0.0.1:8443");
}

/* The examples take their peers from the demo's signed directory (SPEC 18.6): the peer
 * sections keep only what the directory does not carry. */
static void test_example_peer_urls(void **state)
{
	struct gw_config *c = new_config();
	char top[PATH_MAX], want[PATH_MAX + 64];
	mla_diag d = {0};
	const struct gw_peer *p;

	(void)state;
	assert_int_equal(gw_config_load(MLAGW_CONF_DIR "/es.conf", c, &d), MLA_OK);
	assert_non_null(realpath(MLAGW_CONF_DIR "/..", top));
	snprintf(want, sizeof(want), "%s/out/demo/published/directory.xml", top);
	assert_string_equal(c->dir_file, want);
	assert_string_equal(c->dir_publisher, "ES");
	assert_int_equal(c->dir_grace_ms, 7ull * 86400 * 1000);
	p = gw_config_peer(c, "CO");
	assert_non_null(p);
	assert_string_equal(p->state, "CO");
	assert_string_equal(p->url, ""); /* from the directory, at load */
	assert_string_equal(p->encrypt_cert, "");
	assert_int_equal(p->max_in_flight, 8);
	assert_string_equal(p->tls_pin, "");
	p = gw_config_peer(c, "MX");
	assert_non_null(p);
	assert_string_equal(c->name, "Ministerio de Justicia (demo gateway)");
	free(c);
}

/* [directory]: file and publisher required when the section is there; grace 7 d by default;
 * with it a [peer CC] needs neither url nor encrypt_cert, without it both. */
static void test_directory_section(void **state)
{
	struct gw_config *c = new_config();

	(void)state;
	expect_base_ok("[peer CO]\nurl = https://co.example/a\nencrypt_cert = co.crt\n", c);
	assert_string_equal(c->dir_file, "");
	assert_int_equal(c->dir_grace_ms, 7ull * 86400 * 1000);
	expect_base_ok("[directory]\nfile = d.xml\npublisher = ES\ngrace = 36h\n"
		       "[peer CO]\nmax_in_flight = 2\n", c);
	assert_true(strstr(c->dir_file, "/d.xml") != NULL && c->dir_file[0] == '/');
	assert_string_equal(c->dir_publisher, "ES");
	assert_int_equal(c->dir_grace_ms, 36ull * 3600 * 1000);
	assert_string_equal(gw_config_peer(c, "CO")->url, "");
	assert_int_equal(gw_config_peer(c, "CO")->max_in_flight, 2);
	expect_base_error("[directory]\npublisher = ES\n", 0, "[directory] file is required");
	expect_base_error("[directory]\nfile = d.xml\n", 0, "[directory] publisher is required");
	expect_base_error("[directory]\nfile = d.xml\npublisher = es\n", 3,
			  "[directory] publisher: not a State code");
	expect_base_error("[directory]\nfile = d.xml\npublisher = ES\ngrace = 400d\n", 4,
			  "[directory] grace");
	expect_base_error("[peer CO]\nurl = https://co.example/a\n", 0,
			  "[peer CO] encrypt_cert is required (without [directory])");
	free(c);
}

/* ---- defaults ---- */

static void check_defaults_common(const struct gw_config *c)
{
	mla_limits l;

	mla_limits_default(&l);
	assert_int_equal(c->workers, 0);
	assert_int_equal(c->limits.max_envelope_bytes, l.max_envelope_bytes);
	assert_int_equal(c->limits.max_document_bytes, l.max_document_bytes);
	assert_int_equal(c->limits.max_ratio, l.max_ratio);
	assert_int_equal(c->limits.max_depth, l.max_depth);
	assert_int_equal(c->limits.max_nodes, l.max_nodes);
	assert_int_equal(c->limits.max_element_attrs, l.max_element_attrs);
	assert_int_equal(c->limits.max_attrs, l.max_attrs);
	assert_int_equal(c->limits.verify_time, 0);
	assert_int_equal(c->max_body_bytes, l.max_envelope_bytes);
	assert_int_equal(c->clock_skew_ms, 5 * 60 * 1000);
	assert_int_equal(c->replay_window_ms, 7ull * 86400 * 1000);
	assert_int_equal(c->header_timeout_ms, 10 * 1000);
	assert_int_equal(c->peer_rate, 1000);
	assert_int_equal(c->peer_burst, 2000);
	assert_int_equal(c->retry.initial_ms, 1000);
	assert_int_equal(c->retry.max_ms, 5 * 60 * 1000);
	assert_int_equal(c->retry.deadline_ms[0], 7ull * 86400 * 1000);
	assert_int_equal(c->retry.deadline_ms[1], 24ull * 3600 * 1000);
	assert_int_equal(c->retry.deadline_ms[2], 2ull * 3600 * 1000);
	assert_int_equal(c->retry.request_timeout_ms, 30 * 1000);
	assert_int_equal(c->retry.connect_timeout_ms, 5 * 1000);
	assert_int_equal(c->checkpoint_interval_ms, 2 * 1000);
}

static void test_defaults_function(void **state)
{
	struct gw_config *c = new_config();

	(void)state;
	memset(c, 0x5A, sizeof(*c));
	gw_config_defaults(c);
	check_defaults_common(c);
	assert_string_equal(c->state, "");
	assert_string_equal(c->store, "");
	assert_int_equal(c->n_peers, 0);
	assert_int_equal(c->n_roots, 0);
	free(c);
}

static void test_defaults_applied(void **state)
{
	struct gw_config *c = new_config();
	char dir[PATH_MAX], want[PATH_MAX + 32];

	(void)state;
	expect_base_ok("[peer CO]\nurl = https://co.example:8442/mla/v1/envelopes\n"
		       "encrypt_cert = co.crt\n", c);
	check_defaults_common(c);
	assert_string_equal(c->name, "ES"); /* name defaults to the State */
	assert_string_equal(c->submit_socket, "");
	assert_string_equal(c->pid_file, "");
	assert_int_equal(c->n_old_encrypt, 0);
	assert_int_equal(c->n_peers, 1);
	assert_int_equal(c->peers[0].max_in_flight, 8);
	assert_int_equal(c->peers[0].receipt_version, 1); /* what every earlier release reads */
	assert_string_equal(c->peers[0].tls_pin, "");
	tmp_real(dir);
	snprintf(want, sizeof(want), "%s/store.db", dir);
	assert_string_equal(c->store, want);
	snprintf(want, sizeof(want), "%s/k/audit.key", dir);
	assert_string_equal(c->audit.key, want);
	snprintf(want, sizeof(want), "%s/roots/es.crt", dir);
	assert_string_equal(c->roots[0], want);
	free(c);
}

static void test_values_set(void **state)
{
	struct gw_config *c = new_config();

	(void)state;
	expect_base_ok("[limits]\n"
		       "max_envelope_bytes = 2 MiB\n"
		       "max_document_bytes = 512KiB\n"
		       "max_ratio = 100000\n"
		       "max_depth = 8\n"
		       "max_nodes = 1000000\n"
		       "clock_skew = 90s\n"
		       "replay_window = 2d\n"
		       "header_timeout = 100ms\n"
		       "peer_rate = 0\n"
		       "peer_burst = 1\n"
		       "[retry]\n"
		       "initial = 250ms\n"
		       "max = 1h\n"
		       "request_timeout = 1m\n"
		       "connect_timeout = 2s\n"
		       "deadline_normal = 30d\n"
		       "deadline_urgent = 48h\n"
		       "deadline_crisis = 30m\n"
		       "[audit]\n"
		       "checkpoint_interval = 250ms\n"
		       "[peer MX]\n"
		       "url = https://[::1]:8443/x\n"
		       "encrypt_cert = mx.crt\n"
		       "tls_pin = " VALID_PIN "\n"
		       "max_in_flight = 256\n",
		       c);
	assert_int_equal(c->limits.max_envelope_bytes, 2u << 20);
	assert_int_equal(c->max_body_bytes, 2u << 20); /* follows max_envelope_bytes */
	assert_int_equal(c->limits.max_document_bytes, 512u << 10);
	assert_int_equal(c->limits.max_ratio, 100000);
	assert_int_equal(c->limits.max_depth, 8);
	assert_int_equal(c->limits.max_nodes, 1000000);
	assert_int_equal(c->clock_skew_ms, 90000);
	assert_int_equal(c->replay_window_ms, 2ull * 86400000);
	assert_int_equal(c->header_timeout_ms, 100);
	assert_int_equal(c->peer_rate, 0);
	assert_int_equal(c->peer_burst, 1);
	assert_int_equal(c->retry.initial_ms, 250);
	assert_int_equal(c->retry.max_ms, 3600000);
	assert_int_equal(c->retry.request_timeout_ms, 60000);
	assert_int_equal(c->retry.connect_timeout_ms, 2000);
	assert_int_equal(c->retry.deadline_ms[0], 30ull * 86400000);
	assert_int_equal(c->retry.deadline_ms[1], 48ull * 3600000);
	assert_int_equal(c->retry.deadline_ms[2], 30ull * 60000);
	assert_int_equal(c->checkpoint_interval_ms, 250);
	assert_string_equal(c->peers[0].tls_pin, VALID_PIN);
	assert_int_equal(c->peers[0].max_in_flight, 256);
	free(c);
}

static void test_max_body_explicit(void **state)
{
	struct gw_config *c = new_config();

	(void)state;
	expect_base_ok("[limits]\nmax_body_bytes = 1 GiB\nmax_envelope_bytes = 1KiB\n", c);
	assert_int_equal(c->max_body_bytes, 1u << 30);
	assert_int_equal(c->limits.max_envelope_bytes, 1024);
	free(c);
}

/* The attachment keys of [limits] (SPEC 17.14): defaults, values, a segment size that is
 * not a power of two. */
static void test_attachment_limits(void **state)
{
	struct gw_config *c = new_config();

	(void)state;
	expect_base_ok("", c);
	assert_true(c->limits.max_attachment_bytes == 64ull << 30);
	assert_true(c->attachment_segment_bytes == 1u << 20);
	assert_true(c->upload_keep_ms == 24ull * 3600 * 1000);
	expect_base_ok("[limits]\nmax_attachment_bytes = 2 GiB\nattachment_segment_bytes = 64 KiB\n"
		       "max_message_attachment_bytes = 3 GiB\nupload_keep = 1h\n"
		       "upload_min_free_bytes = 0\n", c);
	assert_true(c->limits.max_attachment_bytes == 2ull << 30);
	assert_true(c->attachment_segment_bytes == 64u << 10);
	assert_true(c->max_message_attachment_bytes == (size_t)3 << 30);
	assert_true(c->upload_keep_ms == 3600000 && c->upload_min_free_bytes == 0);
	free(c);
	expect_base_error("[limits]\nattachment_segment_bytes = 96 KiB\n", 1,
			  "attachment_segment_bytes must be a power of two");
	expect_base_error("[limits]\nattachment_segment_bytes = 32 KiB\n", 2,
			  "attachment_segment_bytes");
}

static void test_comments_and_line_ends(void **state)
{
	struct gw_config *c = new_config();
	char dir[PATH_MAX], want[PATH_MAX + 32];

	(void)state;
	expect_ok("\xEF\xBB\xBF# a byte order mark may start the file\r\n"
		  "\r\n"
		  "   # an indented comment\n"
		  "\t\n"
		  "[gateway]   # section comment\r\n"
		  "state = CO\r\n"
		  "name = Fiscalía General#not a comment # a comment\n"
		  "listen = localhost:8442\n"
		  "store = /var/lib/mlagw/store.db\n"
		  "submit_socket = ./run/submit.sock\n"
		  "pid_file = ../run/mlagwd.pid\n"
		  "workers = 64\t# tabs count as blanks\n"
		  "[ keys ]\n"
		  "tls_cert = a\ntls_key = b\nsign_cert = c\nsign_key = d\n"
		  "encrypt_cert = e\nencrypt_key = f\naudit_cert = g\naudit_key = h\n"
		  "old_encrypt = old1.crt , old1.key\n"
		  "old_encrypt = /abs/old2.crt,old2.key\n"
		  "[trust]\nroot = r1\nroot = r2\n"
		  "[peer ES]\nurl = https://es.example/mla/v1/envelopes#frag\nencrypt_cert = es.crt\n"
		  "[peer  MX]\nurl = https://mx.example\nencrypt_cert = mx.crt\n",
		  c);
	assert_string_equal(c->state, "CO");
	assert_string_equal(c->name, "Fiscalía General#not a comment");
	assert_string_equal(c->listen, "localhost:8442");
	assert_string_equal(c->store, "/var/lib/mlagw/store.db");
	assert_int_equal(c->workers, 64);
	tmp_real(dir);
	snprintf(want, sizeof(want), "%s/run/submit.sock", dir);
	assert_string_equal(c->submit_socket, want);
	assert_int_equal(c->n_old_encrypt, 2);
	snprintf(want, sizeof(want), "%s/old1.crt", dir);
	assert_string_equal(c->old_encrypt[0].cert, want);
	snprintf(want, sizeof(want), "%s/old1.key", dir);
	assert_string_equal(c->old_encrypt[0].key, want);
	assert_string_equal(c->old_encrypt[1].cert, "/abs/old2.crt");
	assert_int_equal(c->n_roots, 2);
	assert_string_equal(gw_config_peer(c, "ES")->url,
			    "https://es.example/mla/v1/envelopes#frag");
	assert_non_null(gw_config_peer(c, "MX"));
	free(c);
}

/* Keys in a token (docs/internals/keys.md): a pkcs11: URI is kept as written for the TLS,
 * signing, encryption and old encryption keys; the audit keys (Ed25519) must be files. */
static void test_pkcs11_keys(void **state)
{
	const char *uri = "pkcs11:token=gw;object=sign;type=private"
			  "?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/pin";
	struct gw_config *c = new_config();
	char text[2048];

	(void)state;
	snprintf(text, sizeof(text),
		 "[gateway]\nstate = ES\nlisten = 127.0.0.1:8441\nstore = s.db\n[keys]\n"
		 "tls_cert = a\ntls_key = %s\nsign_cert = c\nsign_key = %s\n"
		 "encrypt_cert = e\nencrypt_key = %s\naudit_cert = g\naudit_key = h\n"
		 "old_encrypt = o.crt, %s\n[trust]\nroot = r\n",
		 uri, uri, uri, uri);
	expect_ok(text, c);
	assert_string_equal(c->tls.key, uri);
	assert_string_equal(c->sign.key, uri);
	assert_string_equal(c->encrypt.key, uri);
	assert_string_equal(c->old_encrypt[0].key, uri);
	assert_string_not_equal(c->tls.cert, "a"); /* certificates are still resolved */
	free(c);
	expect_error("[keys]\nprevious_audit_key = pkcs11:token=gw;object=audit\n", 2,
		     "[keys] previous_audit_key: must be a file; pkcs11: URIs");
}

/* [log] target: auto by default, one of four words (issue 18) */
static void test_log_section(void **state)
{
	struct gw_config *c = new_config();
	static const char *const targets[] = {"auto", "stderr", "journal", "syslog"};
	char extra[64];

	(void)state;
	expect_base_ok("", c);
	assert_string_equal(c->log_target, "auto");
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		snprintf(extra, sizeof(extra), "[log]\ntarget = %s\n", targets[i]);
		expect_base_ok(extra, c);
		assert_string_equal(c->log_target, targets[i]);
	}
	free(c);
	expect_base_error("[log]\ntarget = syslogd\n", 2,
			  "[log] target must be auto, stderr, journal or syslog");
	expect_base_error("[log]\nlevel = debug\n", 2, "unknown key 'level' in [log]");
}

/* ---- gw_config_peer ---- */

static void test_peer_lookup(void **state)
{
	struct gw_config *c = new_config();

	(void)state;
	expect_base_ok("[peer CO]\nurl = https://co.example/a\nmax_in_flight = 3\n"
		       "encrypt_cert = co.crt\nreceipt_version = 2\n"
		       "[peer MX]\nurl = https://mx.example/b\nencrypt_cert = mx.crt\n",
		       c);
	assert_int_equal(c->n_peers, 2);
	assert_int_equal(gw_config_peer(c, "CO")->max_in_flight, 3);
	assert_int_equal(gw_config_peer(c, "CO")->receipt_version, 2);
	assert_int_equal(gw_config_peer(c, "MX")->receipt_version, 1);
	assert_string_equal(gw_config_peer(c, "MX")->url, "https://mx.example/b");
	assert_null(gw_config_peer(c, "ES"));
	assert_null(gw_config_peer(c, "FR"));
	assert_null(gw_config_peer(c, "co"));
	assert_null(gw_config_peer(c, "C"));
	assert_null(gw_config_peer(c, "COL"));
	assert_null(gw_config_peer(c, NULL));
	assert_null(gw_config_peer(NULL, "CO"));
	free(c);
}

/* [peer CC] envelope_versions and [gateway] envelope_min_version (SPEC 11 rule 6): the
 * version written to each peer, by default 1. */
static void test_envelope_versions(void **state)
{
	struct gw_config *c = new_config();
	char text[16];

	(void)state;
	expect_base_ok("[peer CO]\nurl = https://co.example/a\nencrypt_cert = co.crt\n"
		       "envelope_versions = 1, 2\n"
		       "[peer MX]\nurl = https://mx.example/b\nencrypt_cert = mx.crt\n"
		       "[peer FR]\nurl = https://fr.example/b\nencrypt_cert = fr.crt\n"
		       "envelope_versions = 2\n",
		       c);
	assert_int_equal(c->envelope_min_version, 1);
	assert_int_equal(gw_config_peer(c, "CO")->envelope_versions, 6u);
	assert_int_equal(gw_config_peer(c, "MX")->envelope_versions, 2u); /* the default: 1 */
	assert_int_equal(gw_config_envelope_version(c, gw_config_peer(c, "CO")), 2);
	assert_int_equal(gw_config_envelope_version(c, gw_config_peer(c, "MX")), 1);
	assert_int_equal(gw_config_envelope_version(c, gw_config_peer(c, "FR")), 2);
	gw_config_envelope_versions_text(gw_config_peer(c, "CO"), text, sizeof(text));
	assert_string_equal(text, "1, 2");
	gw_config_envelope_versions_text(gw_config_peer(c, "MX"), text, sizeof(text));
	assert_string_equal(text, "1");
	/* a minimum of 2: version 1 is written to nobody */
	c->envelope_min_version = 2;
	assert_int_equal(gw_config_envelope_version(c, gw_config_peer(c, "CO")), 2);
	assert_int_equal(gw_config_envelope_version(c, gw_config_peer(c, "MX")), 0);
	assert_int_equal(gw_peer_reads_attachments(c, "CO"), 0);
	assert_int_equal(gw_peer_reads_attachments(c, "XX"), 0);
	/* version 3 (attachments, SPEC 17.13): listed, yet never written without them */
	c->peers[0].envelope_versions = 14u;
	c->envelope_min_version = 1;
	assert_int_equal(gw_peer_reads_attachments(c, "CO"), 1);
	assert_int_equal(gw_config_envelope_version(c, gw_config_peer(c, "CO")), 2);
	gw_config_envelope_versions_text(gw_config_peer(c, "CO"), text, sizeof(text));
	assert_string_equal(text, "1, 2, 3");
	assert_int_equal(gw_config_peer(c, "CO")->max_segments_in_flight, 4);
	assert_int_equal(c->transfer_timeout_ms, 7 * 24 * 3600 * 1000ull);
	free(c);
	expect_base_error("[peer CO]\nurl = https://a\nenvelope_versions = 1, 4\n", 3,
			  "[peer CO] envelope_versions: a version this gateway does not implement");
	/* 3: the peer reads attachments (SPEC 17.14); messages without them stay in 1 or 2 */
	c = new_config();
	expect_base_ok("[peer CO]\nurl = https://co.example/a\nencrypt_cert = co.crt\n"
		       "envelope_versions = 1, 2, 3\n", c);
	assert_int_equal(gw_config_peer(c, "CO")->envelope_versions, 14u);
	assert_int_equal(gw_config_envelope_version(c, gw_config_peer(c, "CO")), 2);
	free(c);
	expect_base_error("[peer CO]\nurl = https://a\nenvelope_versions = 2 2\n", 3,
			  "[peer CO] envelope_versions: a version named twice");
	expect_base_error("[peer CO]\nurl = https://a\nenvelope_versions = 0\n", 3,
			  "[peer CO] envelope_versions: expected versions");
	expect_base_error("[peer CO]\nurl = https://a\nenvelope_versions = ,\n", 3,
			  "[peer CO] envelope_versions: no version");
	expect_base_error("[peer CO]\nurl = https://a\nenvelope_versions = 1;2\n", 3,
			  "[peer CO] envelope_versions");
	expect_error("[gateway]\nenvelope_min_version = 3\n", 2,
		     "[gateway] envelope_min_version: 3 is out of range (1..2)");
}

/* ---- errors: one per class, each naming the file, line and key ---- */

static void test_err_unknown_section(void **state)
{
	(void)state;
	expect_base_error("[gatway]\n", 1, "unknown section [gatway]");
	expect_base_error("[peer]\n", 1, "[peer CC]");
	expect_base_error("[peer co]\n", 1, "not a State code");
	expect_base_error("[peer COL]\n", 1, "not a State code");
	expect_base_error("[Limits]\n", 1, "unknown section [Limits]");
}

static void test_err_unknown_key(void **state)
{
	(void)state;
	expect_base_error("roots = x\n", 1, "unknown key 'roots' in [trust]");
	expect_base_error("[limits]\nmax_size = 1\n", 2, "unknown key 'max_size' in [limits]");
	expect_base_error("[peer CO]\nurl = https://a\npin = x\n", 3,
			  "unknown key 'pin' in [peer CO]");
	/* a key belongs to one section only */
	expect_base_error("state = CO\n", 1, "unknown key 'state' in [trust]");
}

static void test_err_key_outside_section(void **state)
{
	(void)state;
	expect_error("# comment\nstate = ES\n" BASE, 2, "key 'state' outside any section");
}

static void test_err_repeated_key(void **state)
{
	(void)state;
	expect_error("[gateway]\nstate = ES\nlisten = 127.0.0.1:1\nstate = ES\n", 4,
		     "[gateway] state: repeated (first set on line 2)");
	expect_base_error("[limits]\nmax_ratio = 10\nmax_ratio = 10\n", 3, "[limits] max_ratio");
	expect_base_error("[peer CO]\nurl = https://a\nurl = https://b\n", 3,
			  "[peer CO] url: repeated");
	expect_base_error("[keys]\n", 1, "duplicate section [keys] (first on line 5)");
	expect_base_error("[peer CO]\nurl = https://a\nencrypt_cert = co.crt\n[peer CO]\n", 4,
			  "duplicate section [peer CO] (first on line 16)");
}

static void test_err_out_of_range(void **state)
{
	(void)state;
	expect_base_error("[limits]\nmax_ratio = 1\n", 2,
			  "[limits] max_ratio: 1 is out of range (2..100000)");
	expect_base_error("[limits]\nmax_ratio = 100001\n", 2, "[limits] max_ratio");
	expect_base_error("[limits]\nmax_depth = 7\n", 2, "[limits] max_depth: 7 is out of range");
	expect_base_error("[limits]\nmax_depth = 257\n", 2, "[limits] max_depth");
	expect_base_error("[limits]\nmax_nodes = 15\n", 2, "[limits] max_nodes");
	expect_base_error("[limits]\nmax_nodes = 1000001\n", 2, "[limits] max_nodes");
	expect_base_error("[limits]\nmax_element_attrs = 7\n", 2, "[limits] max_element_attrs");
	expect_base_error("[limits]\nmax_element_attrs = 257\n", 2, "[limits] max_element_attrs");
	expect_base_error("[limits]\nmax_attrs = 63\n", 2, "[limits] max_attrs");
	expect_base_error("[limits]\nmax_envelope_bytes = 1023\n", 2,
			  "[limits] max_envelope_bytes: 1023 B is out of range (1 KiB..1 GiB)");
	expect_base_error("[limits]\nmax_document_bytes = 2GiB\n", 2,
			  "[limits] max_document_bytes: 2 GiB is out of range");
	expect_base_error("[limits]\nmax_body_bytes = 0\n", 2, "[limits] max_body_bytes");
	expect_base_error("[limits]\nclock_skew = 0s\n", 2,
			  "[limits] clock_skew: 0ms is out of range (1s..1d)");
	expect_base_error("[limits]\nreplay_window = 366d\n", 2, "[limits] replay_window");
	expect_base_error("[limits]\nheader_timeout = 99ms\n", 2, "[limits] header_timeout");
	expect_base_error("[limits]\npeer_rate = 1000001\n", 2, "[limits] peer_rate");
	expect_base_error("[limits]\npeer_burst = 0\n", 2, "[limits] peer_burst");
	expect_base_error("[retry]\ninitial = 2h\n", 2, "[retry] initial");
	expect_base_error("[retry]\ndeadline_crisis = 999ms\n", 2, "[retry] deadline_crisis");
	expect_base_error("[retry]\nconnect_timeout = 11m\n", 2, "[retry] connect_timeout");
	expect_base_error("[audit]\ncheckpoint_interval = 99ms\n", 2,
			  "[audit] checkpoint_interval: 99ms is out of range (100ms..1h)");
	expect_base_error("[audit]\ncheckpoint_interval = 61m\n", 2,
			  "[audit] checkpoint_interval");
	expect_base_error("[audit]\ncheckpoint = 1s\n", 2, "unknown key 'checkpoint' in [audit]");
	expect_error("[gateway]\nworkers = 65\n", 2, "[gateway] workers: 65 is out of range (0..64)");
	expect_base_error("[peer CO]\nurl = https://a\nmax_in_flight = 0\n", 3,
			  "[peer CO] max_in_flight: 0 is out of range (1..256)");
	expect_base_error("[peer CO]\nurl = https://a\nmax_in_flight = 257\n", 3,
			  "[peer CO] max_in_flight");
	expect_base_error("[peer CO]\nurl = https://a\nreceipt_version = 3\n", 3,
			  "[peer CO] receipt_version: 3 is out of range (1..2)");
	/* a cross-check: the first retry may not wait longer than the cap */
	expect_base_error("[retry]\nmax = 2s\ninitial = 3s\n", 3,
			  "[retry] initial is longer than [retry] max");
}

static void test_err_malformed_line(void **state)
{
	(void)state;
	expect_base_error("root\n", 1, "malformed line");
	expect_base_error("[trust\n", 1, "malformed section header");
	expect_base_error("Root = x\n", 1, "malformed key name");
	expect_base_error("= x\n", 1, "malformed key name");
	expect_base_error("ro ot = x\n", 1, "malformed key name");
	expect_error("[gateway]\nname =\n", 2, "[gateway] name: empty value");
	expect_error("[gateway]\nname = # only a comment\n", 2, "[gateway] name: empty value");
	expect_error_n("[gateway]\nna\0me = x\n", 20, 2, "NUL byte");
}

static void test_err_line_too_long(void **state)
{
	char *text = malloc(8192);
	size_t n;

	(void)state;
	assert_non_null(text);
	/* 4096 bytes: accepted (a comment) */
	memcpy(text, BASE, sizeof(BASE) - 1);
	n = sizeof(BASE) - 1;
	text[n] = '#';
	memset(text + n + 1, 'x', 4095);
	n += 4096;
	memcpy(text + n, "\r\nbogus\n", 9);
	expect_error(text, BASE_LINES + 2, "malformed line"); /* got past the long line */
	/* 4097 bytes: refused */
	n = sizeof(BASE) - 1;
	text[n] = '#';
	memset(text + n + 1, 'x', 4096);
	n += 4097;
	memcpy(text + n, "\n", 2);
	expect_error(text, BASE_LINES + 1, "line longer than 4096 bytes");
	/* the same without a final newline */
	text[n] = '\0';
	expect_error(text, BASE_LINES + 1, "line longer than 4096 bytes");
	free(text);
}

static void test_err_trailing_garbage(void **state)
{
	(void)state;
	expect_base_error("[limits]\nmax_ratio = 10x\n", 2,
			  "[limits] max_ratio: trailing characters after the number");
	expect_base_error("[limits]\nmax_depth = 10 10\n", 2, "[limits] max_depth: trailing");
	expect_base_error("[limits]\nmax_depth = 0x20\n", 2, "[limits] max_depth: trailing");
	expect_base_error("[limits]\nmax_nodes = 1e6\n", 2, "[limits] max_nodes: trailing");
	expect_base_error("[limits]\nmax_ratio = -1\n", 2, "[limits] max_ratio: not a number");
	expect_base_error("[limits]\nmax_ratio = +5\n", 2, "[limits] max_ratio: not a number");
	expect_base_error("[limits]\nmax_ratio = 99999999999999999999999\n", 2,
			  "[limits] max_ratio: number too large");
	expect_base_error("[limits]\nmax_body_bytes = 10x\n", 2,
			  "[limits] max_body_bytes: unknown unit");
	expect_base_error("[limits]\nclock_skew = 10x\n", 2, "[limits] clock_skew: missing or unknown unit");
	expect_base_error("[limits]\nclock_skew = 300\n", 2, "[limits] clock_skew: missing or unknown unit");
	expect_base_error("[retry]\nmax = 1.5s\n", 2, "[retry] max: missing or unknown unit");
	expect_base_error("[retry]\nmax = -1s\n", 2, "[retry] max: not a number");
	expect_base_error("[retry]\nmax = 18446744073709551615d\n", 2, "[retry] max: number too large");
	expect_error("[gateway]\nworkers = 4#x\n", 2, "[gateway] workers: trailing");
}

static void test_err_missing_required(void **state)
{
	static const char *const keys[] = {
		"state", "listen", "store", "tls_cert", "tls_key", "sign_cert", "sign_key",
		"encrypt_cert", "encrypt_key", "audit_cert", "audit_key", "root",
	};
	static const char *const sections[] = {
		"[gateway]", "[gateway]", "[gateway]", "[keys]", "[keys]", "[keys]", "[keys]",
		"[keys]", "[keys]", "[keys]", "[keys]", "[trust]",
	};
	char want[64];

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *text = base_without(keys[i]);
		assert_true(snprintf(want, sizeof(want), "%s %s is required", sections[i], keys[i]) <
			    (int)sizeof(want));
		expect_error(text, 0, want);
		free(text);
	}
	expect_error("", 0, "[gateway] state is required");
	/* a peer without url: found when the next section starts, and at the end of the file */
	expect_base_error("[peer CO]\nmax_in_flight = 2\n[limits]\n", 0, "[peer CO] url is required");
	expect_base_error("[peer CO]\n", 0, "[peer CO] url is required");
}

static void test_err_control_characters(void **state)
{
	(void)state;
	expect_error("[gateway]\nname = a\x01" "b\n", 2, "[gateway] name: control character");
	expect_error("[gateway]\nname = a\tb\n", 2, "[gateway] name: control character");
	expect_error("[gateway]\nname = a\x7f" "b\n", 2, "[gateway] name: control character");
	expect_error("[gateway]\nname = a\xC2\x85" "b\n", 2, "[gateway] name: control character");
	expect_error("[gateway]\nname = a\rb\n", 2, "[gateway] name: control character");
	expect_error("[gateway]\nname = a\xFF" "b\n", 2, "[gateway] name: not valid UTF-8");
	expect_error("[gateway]\nname = a\xC0\xAF" "b\n", 2, "[gateway] name: not valid UTF-8");
	expect_error("[gateway]\nname = \xED\xA0\x80\n", 2, "[gateway] name: not valid UTF-8");
	expect_error("[gateway]\nname = \xE2\x82\n", 2, "[gateway] name: not valid UTF-8");
	expect_base_error("root = a\x1b[31m\n", 1, "[trust] root: control character");
}

static void test_err_state_and_peers(void **state)
{
	(void)state;
	expect_error("[gateway]\nstate = es\n", 2, "[gateway] state: not a State code");
	expect_error("[gateway]\nstate = ESP\n", 2, "[gateway] state: not a State code");
	expect_error("[gateway]\nstate = E1\n", 2, "[gateway] state: not a State code");
	/* own State as a peer: reported at its section line, wherever [gateway] is */
	expect_base_error("[peer ES]\nurl = https://a\nencrypt_cert = es.crt\n", 1, "[peer ES] is this gateway's own State");
	expect_error("[peer ES]\nurl = https://a\nencrypt_cert = es.crt\n" BASE, 1, "[peer ES] is this gateway's own State");
	expect_base_error("[peer CO]\nurl = http://co.example/\n", 2,
			  "[peer CO] url: must start with https://");
	expect_base_error("[peer CO]\nurl = HTTPS://co.example/\n", 2, "[peer CO] url: must start");
	expect_base_error("[peer CO]\nurl = https://\n", 2, "[peer CO] url: URL has no host");
	expect_base_error("[peer CO]\nurl = https://user:pw@co.example/\n", 2,
			  "[peer CO] url: credentials");
	expect_base_error("[peer CO]\nurl = https://co.example:0/\n", 2, "[peer CO] url: port");
	expect_base_error("[peer CO]\nurl = https://co example/\n", 2, "[peer CO] url");
	expect_base_error("[peer CO]\nurl = https://::1/\n", 2, "[peer CO] url: IPv6");
	expect_base_error("[peer CO]\nurl = https://a\ntls_pin = sha256//abc\n", 3,
			  "[peer CO] tls_pin: must be sha256//");
	expect_base_error("[peer CO]\nurl = https://a\n"
			  "tls_pin = sha1//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
			  3, "[peer CO] tls_pin");
	/* non-canonical last character (low bits set) and a character outside base64 */
	expect_base_error("[peer CO]\nurl = https://a\n"
			  "tls_pin = sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n",
			  3, "[peer CO] tls_pin");
	expect_base_error("[peer CO]\nurl = https://a\n"
			  "tls_pin = sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSu-U=\n",
			  3, "[peer CO] tls_pin");
}

static void test_err_too_many(void **state)
{
	mla_buf b;

	(void)state;
	mla_buf_init(&b, 1 << 20);
	assert_int_equal(mla_buf_append_str(&b, BASE), MLA_OK);
	for (int i = 0; i <= GW_MAX_PEERS; i++)
		assert_int_equal(mla_buf_printf(&b, "[peer %c%c]\nurl = https://p%d\nencrypt_cert = p.crt\n",
						'A' + i / 26,
						'A' + i % 26, i),
				 MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	expect_error((const char *)b.data, BASE_LINES + 3 * GW_MAX_PEERS + 1, "more than 64 peers");
	mla_buf_reset(&b);
	assert_int_equal(mla_buf_append_str(&b, BASE), MLA_OK);
	for (int i = 1; i <= GW_MAX_ROOTS; i++)
		assert_int_equal(mla_buf_printf(&b, "root = r%d.crt\n", i), MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	expect_error((const char *)b.data, BASE_LINES + GW_MAX_ROOTS, "[trust] root: more than 64");
	mla_buf_free(&b);
}

static void test_err_old_encrypt(void **state)
{
	char extra[2048];
	size_t n = 0;

	(void)state;
	/* BASE ends in [trust]: old_encrypt goes in a [keys] section, which already appeared */
	expect_error("[keys]\nold_encrypt = a.crt\n", 2,
		     "[keys] old_encrypt: expected CERT_PATH, KEY_PATH");
	expect_error("[keys]\nold_encrypt = a.crt, b.key, c\n", 2, "[keys] old_encrypt: expected");
	expect_error("[keys]\nold_encrypt = , b.key\n", 2, "[keys] old_encrypt: expected");
	expect_error("[keys]\nold_encrypt = a.crt,\n", 2, "[keys] old_encrypt: expected");
	n += (size_t)snprintf(extra + n, sizeof(extra) - n, "[keys]\n");
	for (int i = 0; i <= GW_MAX_OLD_KEYS; i++)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "old_encrypt = o%d.crt, o%d.key\n",
				      i, i);
	assert_true(n < sizeof(extra));
	expect_error(extra, GW_MAX_OLD_KEYS + 2, "[keys] old_encrypt: more than 8");
}

/* [cases] opaque is allow or refuse (default allow); [keys] previous_audit_* go together. */
static void test_cases_and_previous_key(void **state)
{
	struct gw_config *c = new_config();

	(void)state;
	expect_base_ok("", c);
	assert_string_equal(c->cases_opaque, "allow");
	assert_int_equal(c->cases_refuse_opaque, 0);
	expect_base_ok("[cases]\nopaque = refuse\n", c);
	assert_int_equal(c->cases_refuse_opaque, 1);
	expect_base_error("[cases]\nopaque = maybe\n", 1, "[cases] opaque must be allow or refuse");
	/* one without the other: reported at the [keys] line */
	expect_error("[gateway]\nstate = ES\nlisten = 127.0.0.1:8441\nstore = store.db\n[keys]\n"
		     "tls_cert = k/tls.crt\ntls_key = k/tls.key\nsign_cert = k/sign.crt\n"
		     "sign_key = k/sign.key\nencrypt_cert = k/enc.crt\nencrypt_key = k/enc.key\n"
		     "audit_cert = k/audit.crt\naudit_key = k/audit.key\n"
		     "previous_audit_cert = k/old.crt\n[trust]\nroot = roots/es.crt\n", 5,
		     "previous_audit_cert and previous_audit_key go together");
	free(c);
}

static void test_err_listen(void **state)
{
	static const char *const bad[] = {
		"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", ":8441",
		"::1:8441", "[::1]", "[::1]8441", "[::g]:8441", "[]:80", "256.1.1.1:80",
		"1.2.3:80", "host_name:80", "-host:80", "host-:80", "a..b:80", "127.0.0.1:80x",
		"127.0.0.1:+80",
	};
	static const char *const good[] = {
		"127.0.0.1:8441", "[::1]:8441", "0.0.0.0:1", "[::]:65535", "localhost:80",
		"gw.justice.example:443", "a-b.c:8080",
	};
	const char *why = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cfg_check_listen(bad[i], &why) != MLA_ERR_CONFIG)
			fail_msg("listen '%s' accepted", bad[i]);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (cfg_check_listen(good[i], &why) != MLA_OK)
			fail_msg("listen '%s' refused: %s", good[i], why);
	expect_error("[gateway]\nlisten = 127.0.0.1\n", 2, "[gateway] listen: expected host:port");
	expect_error("[gateway]\nlisten = ::1:8441\n", 2, "[gateway] listen: IPv6 addresses");
	expect_error("[gateway]\nlisten = 127.0.0.1:99999\n", 2, "[gateway] listen: port");
}

static void test_err_path_too_long(void **state)
{
	char dir[PATH_MAX], sub[PATH_MAX], path[PATH_MAX], name[32];
	char *text = malloc(8192);
	struct gw_config *c = new_config();
	mla_diag d;
	mla_err r;
	int n;

	(void)state;
	assert_non_null(text);
	assert_true(snprintf(dir, sizeof(dir), "/tmp/mlagw-conf-dir-XXXXXX") > 0);
	assert_non_null(mkdtemp(dir));
	memset(name, 'd', 16);
	name[16] = '\0';
	assert_true(snprintf(sub, sizeof(sub), "%s/%s", dir, name) < (int)sizeof(sub));
	assert_int_equal(mkdir(sub, 0700), 0);
	/* a 4085-byte relative path: a valid line, but over PATH_MAX once resolved */
	n = snprintf(text, 8192, "[gateway]\nstore = ");
	memset(text + n, 's', 4085);
	memcpy(text + n + 4085, "\n", 2);
	r = load_in(sub, text, strlen(text), c, &d, path, sizeof(path));
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(dir), 0);
	check_diag(r, &d, path, 2, "[gateway] store: path longer than PATH_MAX");
	free(text);
	free(c);
}

static void test_err_files(void **state)
{
	struct gw_config *c = new_config();
	mla_diag d = {0};

	(void)state;
	assert_int_equal(gw_config_load("/nonexistent/mlagw.conf", c, &d), MLA_ERR_IO);
	assert_true(strncmp(d.msg, "/nonexistent/mlagw.conf: cannot open", 36) == 0);
	assert_int_equal(gw_config_load("/tmp", c, &d), MLA_ERR_CONFIG);
	assert_string_equal(d.msg, "/tmp: not a regular file");
	assert_int_equal(gw_config_load(NULL, c, &d), MLA_ERR_ARG);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_es),
		cmocka_unit_test(test_example_co),
		cmocka_unit_test(test_example_mx),
		cmocka_unit_test(test_example_peer_urls),
		cmocka_unit_test(test_defaults_function),
		cmocka_unit_test(test_defaults_applied),
		cmocka_unit_test(test_values_set),
		cmocka_unit_test(test_max_body_explicit),
		cmocka_unit_test(test_comments_and_line_ends),
		cmocka_unit_test(test_peer_lookup),
		cmocka_unit_test(test_envelope_versions),
		cmocka_unit_test(test_attachment_limits),
		cmocka_unit_test(test_err_unknown_section),
		cmocka_unit_test(test_err_unknown_key),
		cmocka_unit_test(test_err_key_outside_section),
		cmocka_unit_test(test_err_repeated_key),
		cmocka_unit_test(test_err_out_of_range),
		cmocka_unit_test(test_err_malformed_line),
		cmocka_unit_test(test_err_line_too_long),
		cmocka_unit_test(test_err_trailing_garbage),
		cmocka_unit_test(test_err_missing_required),
		cmocka_unit_test(test_err_control_characters),
		cmocka_unit_test(test_err_state_and_peers),
		cmocka_unit_test(test_err_too_many),
		cmocka_unit_test(test_err_old_encrypt),
		cmocka_unit_test(test_cases_and_previous_key),
		cmocka_unit_test(test_err_listen),
		cmocka_unit_test(test_err_path_too_long),
		cmocka_unit_test(test_err_files),
		cmocka_unit_test(test_directory_section),
		cmocka_unit_test(test_pkcs11_keys),
		cmocka_unit_test(test_log_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
