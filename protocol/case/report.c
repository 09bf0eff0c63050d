/* The validation report: problems by element path and code, bounded, and the names and
 * messages of codes and document types. Nothing here ever copies text of the document:
 * paths are made of element names (sanitised) and details come from the schema. */
#include <string.h>

#include "mlagw/codec.h"
#include "case_internal.h"

static const struct {
	const char *name, *message;
} codes[MLA_CASE_CODE_N] = {
	[MLA_CASE_MISSING] = {"missing", "mandatory element missing"},
	[MLA_CASE_UNEXPECTED] = {"unexpected", "element not allowed here"},
	[MLA_CASE_REPEATED] = {"repeated", "element repeated more often than allowed"},
	[MLA_CASE_BAD_VALUE] = {"bad-value", "not a valid value of its type"},
	[MLA_CASE_BAD_FORMAT] = {"bad-format", "does not have the required format"},
	[MLA_CASE_UNKNOWN_VALUE] = {"unknown-value", "not one of the allowed values"},
	[MLA_CASE_BAD_LENGTH] = {"bad-length", "empty or too long"},
	[MLA_CASE_OUT_OF_RANGE] = {"out-of-range", "number out of range"},
	[MLA_CASE_TEXT_NOT_ALLOWED] = {"text-not-allowed", "text where only elements may be"},
	[MLA_CASE_BAD_ATTRIBUTE] = {"bad-attribute", "attribute missing, unknown or wrong"},
	[MLA_CASE_UNSUPPORTED] = {"unsupported", "unknown case document, namespace or version"},
	[MLA_CASE_NOT_XML] = {"not-xml", "not well-formed XML, or refused by the parser"},
	[MLA_CASE_KIND_PART] = {"kind-part", "a request needs exactly one kind part"},
	[MLA_CASE_GROUND_NOT_ACCEPTED] = {"ground-not-accepted",
					  "bank secrecy or a fiscal matter alone is no ground"},
	[MLA_CASE_DATE_ORDER] = {"date-order", "date not after the date it must follow"},
	[MLA_CASE_OTHER] = {"invalid", "does not match the schema"},
};

static const char *const doctypes[MLA_CASE_DOCTYPE_N] = {
	[MLA_CASE_NONE] = "none",
	[MLA_CASE_EXTRADITION] = "extradition",
	[MLA_CASE_PROVISIONAL_ARREST] = "provisional-arrest",
	[MLA_CASE_MUTUAL_ASSISTANCE] = "mutual-assistance",
	[MLA_CASE_ASSET_MEASURES] = "asset-measures",
	[MLA_CASE_SPONTANEOUS_INFORMATION] = "spontaneous-information",
	[MLA_CASE_PRODUCTION_ORDER] = "production-order",
	[MLA_CASE_PRESERVATION_ORDER] = "preservation-order",
	[MLA_CASE_ACKNOWLEDGEMENT] = "acknowledgement",
	[MLA_CASE_INFO_REQUESTED] = "additional-information-requested",
	[MLA_CASE_INFO_PROVIDED] = "additional-information-provided",
	[MLA_CASE_ACCEPTED] = "accepted",
	[MLA_CASE_POSTPONED] = "postponed",
	[MLA_CASE_REFUSED] = "refused",
	[MLA_CASE_EXECUTION_REPORT] = "execution-report",
	[MLA_CASE_WITHDRAWN] = "withdrawn",
	[MLA_CASE_DEADLINE_EXTENDED] = "deadline-extended",
	[MLA_CASE_PERSON_ARRESTED] = "person-arrested",
	[MLA_CASE_SURRENDER_CONSENTED] = "surrender-consented",
};

const char *mla_case_code_name(mla_case_code c)
{
	return (unsigned)c < MLA_CASE_CODE_N ? codes[c].name : "invalid";
}

const char *mla_case_code_message(mla_case_code c)
{
	return (unsigned)c < MLA_CASE_CODE_N ? codes[c].message : codes[MLA_CASE_OTHER].message;
}

const char *mla_case_doctype_name(mla_case_doctype t)
{
	return (unsigned)t < MLA_CASE_DOCTYPE_N ? doctypes[t] : "none";
}

void mla_case_problem_format(const mla_case_problem *p, char *out, size_t n)
{
	/* a diagnostic line: a cut is visible and acceptable */
	(void)mla_snprintf_cut(out, n, "%s: %s: %s%s%s%s", p->path, mla_case_code_name(p->code),
			       mla_case_code_message(p->code), p->detail[0] ? " (" : "", p->detail,
			       p->detail[0] ? ")" : "");
}

void case_report_add(mla_case_report *r, const char *path, mla_case_code code,
		     const char *detail)
{
	mla_case_problem *p;

	r->cls = MLA_CASE_INVALID;
	if (r->n == MLA_CASE_PROBLEMS_MAX) {
		r->more++;
		return;
	}
	p = &r->problems[r->n++];
	(void)mla_snprintf_cut(p->path, sizeof(p->path), "%s", path);
	p->code = code;
	(void)mla_snprintf_cut(p->detail, sizeof(p->detail), "%s", detail != NULL ? detail : "");
}

/* A bounded writer for paths: once full, the path ends in "...". */
struct pathw {
	char *out;
	size_t size, len;
	int cut;
};

static void put(struct pathw *w, char c)
{
	if (w->cut)
		return;
	if (w->len + 4 >= w->size) {
		memcpy(w->out + w->len, "...", 3);
		w->len += 3;
		w->cut = 1;
	} else
		w->out[w->len++] = c;
	w->out[w->len] = '\0';
}

static void put_name(struct pathw *w, const char *prefix, const xmlChar *name)
{
	size_t i;

	for (; *prefix != '\0'; prefix++)
		put(w, *prefix);
	for (i = 0; name[i] != '\0' && i < CASE_NAME_MAX; i++) {
		char c = (char)name[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		put(w, ok ? c : '?');
	}
	if (name[i] != '\0')
		put_name(w, "", BAD_CAST "...");
}

static void put_index(struct pathw *w, const struct case_model *m, xmlNodePtr n)
{
	const struct case_decl *d = case_model_decl_of(m, n);
	char num[16];
	unsigned i = 1;

	if (d == NULL || d->max <= 1)
		return;
	for (xmlNodePtr s = n->prev; s != NULL; s = s->prev)
		if (s->type == XML_ELEMENT_NODE && xmlStrEqual(s->name, n->name))
			i++;
	(void)mla_snprintf_cut(num, sizeof(num), "[%u]", i);
	for (const char *c = num; *c != '\0'; c++)
		put(w, *c);
}

void case_path(const struct case_model *m, xmlNodePtr n, const char *attr, const char *child,
	       char *out, size_t size)
{
	xmlNodePtr chain[64];
	size_t depth = 0;
	struct pathw w = {out, size, 0, 0};

	out[0] = '\0';
	for (xmlNodePtr p = n; p != NULL && p->type == XML_ELEMENT_NODE; p = p->parent)
		if (depth < sizeof(chain) / sizeof(chain[0]))
			chain[depth++] = p;
	while (depth > 0) {
		xmlNodePtr e = chain[--depth];
		put_name(&w, "/", e->name);
		put_index(&w, m, e);
	}
	if (child != NULL)
		put_name(&w, "/", BAD_CAST child);
	if (attr != NULL)
		put_name(&w, "/@", BAD_CAST attr);
	if (out[0] == '\0')
		put(&w, '/');
}
