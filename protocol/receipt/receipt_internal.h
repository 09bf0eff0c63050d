/* Internal steps of receipts shared by sealing (receipt.c) and verification
 * (receipt_verify.c): the field rules and the reading of a schema-valid mlr:Body. */
#ifndef MLAGW_RECEIPT_INTERNAL_H
#define MLAGW_RECEIPT_INTERNAL_H

#include <libxml/tree.h>

#include "mlagw/receipt.h"

/* Checks every field and their consistency (Error exactly when rejected, a known error code,
 * no control characters in the message); the message names the field. */
mla_err receipt_check(const mla_receipt *r, mla_diag *diag);

/* One problem of a version 2 list (i from 0, for the message): path, code and detail made of
 * their allowed characters (SPEC 12). */
mla_err receipt_problem_check(const mla_receipt_problem *p, size_t i, mla_diag *diag);

/* Reads a schema-valid mlr:Body (either version) into r, its problem list into problems
 * when not NULL, and checks it with receipt_check. */
mla_err receipt_body_read(xmlNodePtr body, mla_receipt *r, mla_receipt_problems *problems,
			  mla_diag *diag);

#endif
