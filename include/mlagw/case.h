/* Case documents (protocol/SPEC.md section 16): the business documents inside an envelope,
 * a request (urn:mlagw:case:request:1) or an answer (urn:mlagw:case:answer:1). Validation
 * before sealing reports every problem at once, each by its element path and a code, never
 * with any text of the document; a document that declares no case namespace is opaque. */
#ifndef MLAGW_CASE_H
#define MLAGW_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/buf.h"
#include "mlagw/error.h"
#include "mlagw/limits.h"

#define MLA_CASE_REQUEST_NS "urn:mlagw:case:request:1"
#define MLA_CASE_ANSWER_NS "urn:mlagw:case:answer:1"

typedef enum mla_case_class {
	MLA_CASE_OPAQUE = 0,  /* declares no case namespace: not validated */
	MLA_CASE_VALID = 1,
	MLA_CASE_INVALID = 2
} mla_case_class;

/* The document types: the kind part of a request, or the answer's root. */
typedef enum mla_case_doctype {
	MLA_CASE_NONE = 0,
	MLA_CASE_EXTRADITION,
	MLA_CASE_PROVISIONAL_ARREST,
	MLA_CASE_MUTUAL_ASSISTANCE,
	MLA_CASE_ASSET_MEASURES,
	MLA_CASE_SPONTANEOUS_INFORMATION,
	MLA_CASE_PRODUCTION_ORDER,
	MLA_CASE_PRESERVATION_ORDER,
	MLA_CASE_ACKNOWLEDGEMENT,
	MLA_CASE_INFO_REQUESTED,
	MLA_CASE_INFO_PROVIDED,
	MLA_CASE_ACCEPTED,
	MLA_CASE_POSTPONED,
	MLA_CASE_REFUSED,
	MLA_CASE_EXECUTION_REPORT,
	MLA_CASE_WITHDRAWN,          /* sent by the requesting State */
	MLA_CASE_DEADLINE_EXTENDED,  /* a deadline's extension taken (envelope v2 only) */
	MLA_CASE_PERSON_ARRESTED,    /* EAW: the arrest recorded (envelope v2 only) */
	MLA_CASE_SURRENDER_CONSENTED, /* EAW: the consent to surrender recorded (v2 only) */
	MLA_CASE_DOCTYPE_N
} mla_case_doctype;

/* What is wrong at a path; the stable names are in SPEC 16.6. */
typedef enum mla_case_code {
	MLA_CASE_MISSING = 0,       /* a mandatory element is absent */
	MLA_CASE_UNEXPECTED,        /* an element the schema does not name there */
	MLA_CASE_REPEATED,          /* more occurrences than allowed */
	MLA_CASE_BAD_VALUE,         /* not a value of the element's type (date, number, ...) */
	MLA_CASE_BAD_FORMAT,        /* does not match the type's pattern (State code, ...) */
	MLA_CASE_UNKNOWN_VALUE,     /* not one of the enumeration's values */
	MLA_CASE_BAD_LENGTH,        /* empty or too long */
	MLA_CASE_OUT_OF_RANGE,      /* a number outside its bounds or digits */
	MLA_CASE_TEXT_NOT_ALLOWED,  /* text where only elements may be */
	MLA_CASE_BAD_ATTRIBUTE,     /* an attribute missing, unknown or with a wrong value */
	MLA_CASE_UNSUPPORTED,       /* an unknown case namespace, document or version */
	MLA_CASE_NOT_XML,           /* not well-formed, or refused by the hardened parser */
	MLA_CASE_KIND_PART,         /* a request without exactly one kind part */
	MLA_CASE_GROUND_NOT_ACCEPTED, /* refused on bank secrecy or a fiscal matter alone */
	MLA_CASE_DATE_ORDER,        /* a date before the one it must follow */
	MLA_CASE_OTHER,             /* any other schema error */
	MLA_CASE_CODE_N
} mla_case_code;

#define MLA_CASE_PROBLEMS_MAX 100
#define MLA_CASE_PATH_MAX 256
#define MLA_CASE_DETAIL_MAX 48

/* One problem: where (element path, /Request/Common/Persons/Person[2]/Role; an attribute
 * as .../@version), what (code), and a detail taken from the schema only (a type name,
 * the element names a choice allows), never from the document. */
typedef struct mla_case_problem {
	char path[MLA_CASE_PATH_MAX];
	mla_case_code code;
	char detail[MLA_CASE_DETAIL_MAX];
} mla_case_problem;

typedef struct mla_case_report {
	mla_case_class cls;
	mla_case_doctype type;  /* MLA_CASE_NONE when opaque or not known */
	unsigned version;       /* the document's format version; 0 when opaque */
	int partial;            /* an execution report of Extent partial */
	size_t n;               /* problems stored */
	size_t more;            /* problems found beyond MLA_CASE_PROBLEMS_MAX */
	mla_case_problem problems[MLA_CASE_PROBLEMS_MAX];
} mla_case_report;

/* Compiles the embedded schemas; call once after mla_crypto_init(), before validating. */
mla_err mla_case_init(mla_diag *diag);
void mla_case_shutdown(void);

/* Validates a document: hardened parse (xml_safe: no DTD or entities; limits' max_document_bytes,
 * max_document_nodes, max_depth and attribute counts bound the work), then classification by the root's
 * namespace. MLA_OK when valid or opaque (report->cls says which); MLA_ERR_SCHEMA when
 * invalid, with every problem in report (at most MLA_CASE_PROBLEMS_MAX, the rest counted
 * in report->more); a parse refusal's own code when bytes that name a case namespace do not
 * parse. diag's message counts problems and names no content. */
mla_err mla_case_validate(const uint8_t *doc, size_t len, const mla_limits *limits,
			  mla_case_report *report, mla_diag *diag);

/* Stable names: "extradition", "refused", ...; "missing", "unexpected", ...; never NULL. */
const char *mla_case_doctype_name(mla_case_doctype t);
const char *mla_case_code_name(mla_case_code c);
/* A short sentence for the code ("mandatory element missing"); never NULL. */
const char *mla_case_code_message(mla_case_code c);
/* One problem as one line: "PATH: CODE: MESSAGE[ (DETAIL)]", cut to n if need be. */
void mla_case_problem_format(const mla_case_problem *p, char *out, size_t n);

/* The envelope header a valid document travels with in envelope version (1 or 2; SPEC 16.7):
 * *kind is its first accepted Kind (NULL for an answer, which keeps its request's Kind) and
 * *action its Action. Version 2 gives spontaneous information, production and preservation
 * orders Kinds of their own (version 1: the interim information-exchange, evidence) and
 * Postponed its Action; MLA_ERR_HEADER, "a postponed document needs envelope version 2", when
 * version 1 has no Action for it. */
mla_err mla_case_header_for(const mla_case_report *r, int version, const char **kind,
			    const char **action, mla_diag *diag);
/* The lowest envelope version that can carry a valid document (2 for Postponed), 1 for any
 * other report. */
int mla_case_min_version(const mla_case_report *r);

/* Protected persons (SPEC 16.12). The text that replaces each identifying field. */
#define MLA_CASE_REDACTED "[protected]"
/* Counts the persons doc marks protected into *count (any element named Person with an
 * attribute protected that is not false, in any namespace: it fails closed). With redacted
 * non-NULL and *count > 0, appends to it the document with their identifying fields withheld
 * (SPEC 16.12: every leaf element inside the person but a plain Role holds only
 * MLA_CASE_REDACTED, every attribute but protected, comment, processing instruction and
 * non-layout text inside it removed, and every comment and processing instruction of the
 * document removed); with *count 0 nothing is appended and the document is served as it is.
 * Bytes without the name "protected", or without markup, mark nobody (MLA_OK, 0). Bytes that
 * name it and that the hardened parser refuses cannot be redacted: that parser's error, and
 * the caller must not show them to a reader who is not allowed. Never quotes the document. */
mla_err mla_case_protected(const uint8_t *doc, size_t len, const mla_limits *limits,
			   mla_buf *redacted, size_t *count, mla_diag *diag);
/* Checks that a header's Kind and Action in envelope version agree with a valid document:
 * MLA_ERR_HEADER naming the document type, the header's values and the expected ones
 * otherwise. Opaque documents agree with any. */
mla_err mla_case_check_header(const mla_case_report *r, int version, const char *kind,
			      const char *action, mla_diag *diag);

/* The check of a document before sealing and on receipt, one for both sides: validation
 * (mla_case_validate), then for a valid document its header (mla_case_check_header), for an
 * opaque one refuse_opaque ([cases] opaque = refuse); version is the envelope's (1 or 2), whose
 * Kinds and Actions the header is held to. MLA_OK when it may travel; otherwise
 * MLA_ERR_SCHEMA (invalid: every problem in rep, diag counting them and naming the first; or
 * opaque and refused), MLA_ERR_HEADER, or another error of validation itself. */
mla_err mla_case_check(const uint8_t *doc, size_t len, const mla_limits *limits,
		       int refuse_opaque, int version, const char *kind, const char *action,
		       mla_case_report *rep, mla_diag *diag);

/* The coded grounds of a Refused answer (SPEC 16.5), for its audit entries (SPEC 14 version
 * 6): fn once per Ground, in document order, with its code (one of answer.xsd's
 * RefusalGround); fn's error stops and is returned. MLA_ERR_SCHEMA (no call) when doc is not
 * a valid Refused answer (an opaque document has no coded grounds). */
typedef mla_err (*mla_case_ground_fn)(const char *code, void *arg);
mla_err mla_case_refusal_grounds(const uint8_t *doc, size_t len, const mla_limits *limits,
				 mla_case_ground_fn fn, void *arg, mla_diag *diag);

/* The languages of a request (SPEC 16.4): Common/Language and the languages of the
 * translations attached (Common/Translations), for the competent authority's check before
 * sealing (SPEC 18.6). Call on a document mla_case_check accepted: anything but a request
 * (an answer, an opaque document) gives lang "" and no translations. */
#define MLA_CASE_LANG_MAX 8
#define MLA_CASE_TRANSLATIONS_MAX 10
typedef struct mla_case_langs {
	char lang[MLA_CASE_LANG_MAX + 1];
	size_t n_translations;
	char translations[MLA_CASE_TRANSLATIONS_MAX][MLA_CASE_LANG_MAX + 1];
} mla_case_langs;
mla_err mla_case_languages(const uint8_t *doc, size_t len, const mla_limits *limits,
			   mla_case_langs *out, mla_diag *diag);

#endif
