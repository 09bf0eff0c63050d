/* The PEM file helpers that certificate loading (pem.c) and private-key loading (privkey.c)
 * share: strict opening, no passphrase prompts, OpenSSL error reasons. */
#ifndef MLAGW_PEM_INTERNAL_H
#define MLAGW_PEM_INTERNAL_H

#include <sys/stat.h>

#include "mlagw/error.h"

/* The reason of the most recent OpenSSL error (a static string), clearing the queue so
 * that stale errors never leak into a later message. */
const char *pem_ossl_reason(void);
/* A pem_password_cb that never prompts: a daemon has nobody to ask. */
int pem_no_passphrase(char *buf, int size, int rwflag, void *u);
/* Opens path read-only (a regular file); *st receives fstat of the opened file, so checks
 * apply to exactly what is read. Failures are code, naming what and path. */
mla_err pem_open_read(const char *path, const char *what, mla_err code, int *fdp,
		      struct stat *st, mla_diag *diag);

#endif
