/* Shared by the configuration reader's unit tests (test_config.c, test_config_values.c):
 * a minimal valid file and helpers that load text and check the "FILE:LINE: ..." messages. */
#ifndef MLAGW_TESTS_CONFIG_TEST_UTIL_H
#define MLAGW_TESTS_CONFIG_TEST_UTIL_H

#include <stddef.h>

#include "conf/config.h"

/* A minimal valid file: every required key, nothing else. Lines are numbered for messages. */
#define BASE                                                                                   \
	"[gateway]\n"                /* 1 */                                                   \
	"state = ES\n"               /* 2 */                                                   \
	"listen = 127.0.0.1:8441\n"  /* 3 */                                                   \
	"store = store.db\n"         /* 4 */                                                   \
	"[keys]\n"                   /* 5 */                                                   \
	"tls_cert = k/tls.crt\n"     /* 6 */                                                   \
	"tls_key = k/tls.key\n"      /* 7 */                                                   \
	"sign_cert = k/sign.crt\n"   /* 8 */                                                   \
	"sign_key = k/sign.key\n"    /* 9 */                                                   \
	"encrypt_cert = k/enc.crt\n" /* 10 */                                                  \
	"encrypt_key = k/enc.key\n"  /* 11 */                                                  \
	"audit_cert = k/audit.crt\n" /* 12 */                                                  \
	"audit_key = k/audit.key\n"  /* 13 */                                                  \
	"[trust]\n"                  /* 14 */                                                  \
	"root = roots/es.crt\n"      /* 15 */
#define BASE_LINES 15u

#define VALID_PIN "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

void write_file(char *path, size_t len, const char *dir, const char *text, size_t n);
struct gw_config *new_config(void);
mla_err load_in(const char *dir, const char *text, size_t n, struct gw_config *c,
		mla_diag *d, char *path, size_t plen);
mla_err load_text(const char *text, struct gw_config *c, mla_diag *d, char *path,
		  size_t plen);
void expect_ok(const char *text, struct gw_config *c);
void check_diag(mla_err r, const mla_diag *d, const char *path, unsigned line,
		const char *part);
void expect_error_n(const char *text, size_t n, unsigned line, const char *part);
void expect_error(const char *text, unsigned line, const char *part);
void expect_base_error(const char *extra, unsigned offset, const char *part);
void expect_base_ok(const char *extra, struct gw_config *c);
char *base_without(const char *key);
void tmp_real(char *out);

#endif
