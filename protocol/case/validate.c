/* mla_case_validate: hardened parse, classification by the root's namespace (opaque, request,
 * answer, or an unknown case namespace or version), then the structural pass, the schema
 * pass and the rules, each adding its problems to one report. */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "mlagw/case.h"
#include "case_internal.h"
#include "xml_safe.h"

extern const unsigned char schema_case_request[];
extern const unsigned long schema_case_request_len;
extern const unsigned char schema_case_answer[];
extern const unsigned long schema_case_answer_len;

#define CASE_NS_PREFIX "urn:mlagw:case:"

static struct case_format {
	const char *ns;
	const unsigned char *text;
	const unsigned long *len;
	xmlSchemaPtr schema;
	struct case_model model;
} formats[] = {
	{MLA_CASE_REQUEST_NS, schema_case_request, &schema_case_request_len, NULL, {0}},
	{MLA_CASE_ANSWER_NS, schema_case_answer, &schema_case_answer_len, NULL, {0}},
};
#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))
static int initialised;

static xmlSchemaPtr compile(const struct case_format *f)
{
	xmlSchemaParserCtxtPtr pctx;
	xmlSchemaPtr schema = NULL;

	pctx = xmlSchemaNewMemParserCtxt((const char *)f->text, (int)*f->len);
	if (pctx != NULL)
		schema = xmlSchemaParse(pctx);
	xmlSchemaFreeParserCtxt(pctx);
	return schema;
}

mla_err mla_case_init(mla_diag *diag)
{
	mla_err r = MLA_OK;

	if (initialised)
		return MLA_OK;
	for (size_t i = 0; i < N_FORMATS && r == MLA_OK; i++) {
		struct case_format *f = &formats[i];

		if ((f->schema = compile(f)) == NULL)
			r = mla_fail(diag, MLA_ERR_INTERNAL, "embedded schema %s does not compile",
				     f->ns);
		else
			r = case_model_load(&f->model, f->ns, f->text, *f->len, diag);
	}
	if (r != MLA_OK) {
		mla_case_shutdown();
		return r;
	}
	initialised = 1;
	return MLA_OK;
}

void mla_case_shutdown(void)
{
	for (size_t i = 0; i < N_FORMATS; i++) {
		xmlSchemaFree(formats[i].schema);
		formats[i].schema = NULL;
	}
	initialised = 0;
}

const struct case_model *case_model_for(const char *ns)
{
	for (size_t i = 0; i < N_FORMATS; i++)
		if (initialised && strcmp(formats[i].ns, ns) == 0)
			return &formats[i].model;
	return NULL;
}

static int names_case_ns(const uint8_t *doc, size_t len)
{
	const size_t k = sizeof(CASE_NS_PREFIX) - 1;

	for (size_t i = 0; i + k <= len; i++)
		if (doc[i] == 'u' && memcmp(doc + i, CASE_NS_PREFIX, k) == 0)
			return 1;
	return 0;
}

/* Whether the bytes hold "&#", with which an attribute could spell a namespace. */
static int has_char_ref(const uint8_t *doc, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (doc[i] == '&' && doc[i + 1] == '#')
			return 1;
	return 0;
}

/* Shows a namespace in a diagnostic only when it is one of ours in shape. */
static const char *safe_ns(const xmlChar *ns)
{
	size_t n = (size_t)xmlStrlen(ns);

	if (n > 64 || strncmp((const char *)ns, CASE_NS_PREFIX, sizeof(CASE_NS_PREFIX) - 1) != 0)
		return "(an unknown case namespace)";
	for (size_t i = 0; i < n; i++)
		if (!((ns[i] >= 'a' && ns[i] <= 'z') || (ns[i] >= '0' && ns[i] <= '9') || ns[i] == ':'))
			return "(an unknown case namespace)";
	return (const char *)ns;
}

static mla_err unsupported(mla_case_report *r, xmlNodePtr root, const char *path,
			   const char *detail, mla_diag *diag)
{
	case_report_add(r, path, MLA_CASE_UNSUPPORTED, detail);
	return mla_fail(diag, MLA_ERR_UNSUPPORTED_VERSION,
			"case document %s: this gateway reads %s and %s", safe_ns(root->ns->href),
			MLA_CASE_REQUEST_NS, MLA_CASE_ANSWER_NS);
}

/* The format of a case root, or an unsupported-version problem; version must be "1" as
 * the namespace's last segment says (SPEC 11 rule 1). */
static mla_err pick_format(xmlNodePtr root, mla_case_report *r, struct case_format **out,
			   mla_diag *diag)
{
	const struct case_model *m;
	xmlChar *version;
	char path[MLA_CASE_PATH_MAX];
	int ok;

	*out = NULL;
	for (size_t i = 0; i < N_FORMATS; i++)
		if (xmlStrEqual(root->ns->href, BAD_CAST formats[i].ns))
			*out = &formats[i];
	if (*out == NULL) {
		case_path(&formats[0].model, root, NULL, NULL, path, sizeof(path));
		return unsupported(r, root, path, "namespace", diag);
	}
	m = &(*out)->model;
	case_path(m, root, NULL, NULL, path, sizeof(path));
	if (case_model_root(m, (const char *)root->name) == NULL)
		return unsupported(r, root, path, "document", diag);
	version = xmlGetNoNsProp(root, BAD_CAST "version");
	ok = version != NULL && xmlStrEqual(version, BAD_CAST "1");
	xmlFree(version);
	case_path(m, root, "version", NULL, path, sizeof(path));
	if (!ok) {
		case_report_add(r, path, MLA_CASE_UNSUPPORTED, "version");
		return mla_fail(diag, MLA_ERR_UNSUPPORTED_VERSION,
				"case document version is not 1, the version its namespace %s names",
				(*out)->ns);
	}
	r->version = 1;
	return MLA_OK;
}

static mla_err check(xmlDocPtr doc, mla_case_report *r, mla_diag *diag)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	struct case_format *f;
	mla_err e;

	if (root == NULL || root->ns == NULL ||
	    strncmp((const char *)root->ns->href, CASE_NS_PREFIX, sizeof(CASE_NS_PREFIX) - 1) != 0)
		return MLA_OK; /* opaque */
	r->cls = MLA_CASE_VALID;
	if ((e = pick_format(root, r, &f, diag)) != MLA_OK)
		return e;
	case_structure_check(&f->model, root, r);
	if ((e = case_schema_check(&f->model, f->schema, doc, r)) != MLA_OK)
		return mla_fail(diag, e, "case document: schema validation failed to run");
	case_rules_check(&f->model, root, r);
	if (r->cls == MLA_CASE_INVALID)
		return mla_fail(diag, MLA_ERR_SCHEMA, "case document %s: %zu problem(s)",
				mla_case_doctype_name(r->type), r->n + r->more);
	return MLA_OK;
}

mla_err mla_case_validate(const uint8_t *doc, size_t len, const mla_limits *limits,
			  mla_case_report *report, mla_diag *diag)
{
	xmlDocPtr x = NULL;
	mla_diag pd = {MLA_OK, ""};
	mla_limits lim = *limits;
	mla_err r;

	mla_require(initialised); /* mla_case_init() first */
	memset(report, 0, sizeof(*report));
	/* a document's own bounds: its size after decompression, its element count */
	lim.max_envelope_bytes = limits->max_document_bytes;
	lim.max_nodes = limits->max_document_nodes;
	/* every submission is checked before sealing: bytes that cannot declare a case namespace
	 * (neither its text nor a character reference that could spell it) are opaque without a
	 * parse, so a large opaque document costs one scan, not a DOM */
	if (!names_case_ns(doc, len) && !has_char_ref(doc, len))
		return MLA_OK;
	if ((r = xml_safe_parse(doc, len, &lim, &x, NULL, &pd)) != MLA_OK) {
		if (!names_case_ns(doc, len))
			return MLA_OK; /* not XML we can read, and declares no case schema: opaque */
		case_report_add(report, "/", MLA_CASE_NOT_XML, mla_errname(r));
		return mla_fail(diag, r, "case document refused by the XML parser (%s)",
				mla_errname(r));
	}
	r = check(x, report, diag);
	xmlFreeDoc(x);
	return r;
}
