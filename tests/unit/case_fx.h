/* Shared helpers of the case document tests: the examples of protocol/case/examples/, a
 * validation into a heap report, and looking problems up by path and code. */
#ifndef MLAGW_TEST_CASE_FX_H
#define MLAGW_TEST_CASE_FX_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/case.h"

/* The example files, by name without ".xml", and the document type each is. */
struct case_example {
	const char *name;
	mla_case_doctype type;
};
extern const struct case_example case_examples[];
extern const size_t case_n_examples;

/* mla_crypto_init + mla_case_init, asserted. */
void case_fx_init(void);
/* The bytes of example name (NUL-terminated, caller frees), asserted readable. */
char *case_fx_example(const char *name, size_t *len);
/* Validates text with default limits into a fresh heap report (caller frees); *err gets the
 * return value when err is not NULL. */
mla_case_report *case_fx_validate(const char *text, size_t len, mla_err *err);
/* The problem at path with code, or NULL. */
const mla_case_problem *case_fx_find(const mla_case_report *r, const char *path,
				     mla_case_code code);
/* A copy of s with the first occurrence of from replaced by to (asserted present). */
char *case_fx_replace(const char *s, const char *from, const char *to);

#endif
