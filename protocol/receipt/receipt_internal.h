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

/* Reads a schema-valid mlr:Body (any version) into r, its problem list into problems and
 * its attachment list into atts when not NULL, and checks it with receipt_check. */
mla_err receipt_body_read(xmlNodePtr body, mla_receipt *r, mla_receipt_problems *problems,
			  mla_receipt_attachments *atts, mla_diag *diag);

/* receipt_attach.c: the attachment list of receipt version 3 (SPEC 17.13). */
/* 1 to MLA_ATTACH_MAX attachments, indices 1..n in order, sizes from 1. */
mla_err receipt_attach_check(const mla_receipt_attachments *atts, mla_diag *diag);
/* Appends <Attachments> with one <Attachment index size root> each to body. */
mla_err receipt_attach_write(xmlNodePtr body, xmlNsPtr ns, const mla_receipt_attachments *atts);
/* Reads a schema-valid <Attachments> into atts when not NULL (else checks only) and sets
 * r->attachment_count. */
mla_err receipt_attach_read(xmlNodePtr el, mla_receipt *r, mla_receipt_attachments *atts,
			    mla_diag *diag);

#endif
