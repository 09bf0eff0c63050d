/* Reading a directory document before any cryptography (SPEC 18, Verification steps 1-4):
 * size, the envelope's hardened parse with the directory's bounds, the version marker, the
 * algorithm allowlist and the embedded schema; and the small DOM helpers the reader uses. */
#include <pthread.h>
#include <string.h>

#include <libxml/parserInternals.h>
#include <libxml/xmlschemas.h>

#include "algs.h"
#include "dir_internal.h"
#include "mlagw/codec.h"
#include "wrapping.h"
#include "xml_safe.h"

extern const unsigned char schema_directory[];
extern const unsigned long schema_directory_len;
extern const unsigned char schema_directory_dsig[];
extern const unsigned long schema_directory_dsig_len;

static pthread_once_t schema_once = PTHREAD_ONCE_INIT;
static xmlSchemaPtr dir_schema;

/* Serves the imported XML-DSig subset from memory while the schema compiles; nothing else. */
static xmlParserInputPtr embedded_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	const char *base;

	(void)id;
	if (url == NULL)
		return NULL;
	base = strrchr(url, '/') != NULL ? strrchr(url, '/') + 1 : url;
	if (strcmp(base, "directory-dsig.xsd") == 0)
		return xmlNewStringInputStream(ctxt, schema_directory_dsig);
	return NULL;
}

static void compile_schema(void)
{
	xmlExternalEntityLoader previous = xmlGetExternalEntityLoader();
	xmlSchemaParserCtxtPtr pctx;

	xmlSetExternalEntityLoader(embedded_loader);
	pctx = xmlSchemaNewMemParserCtxt((const char *)schema_directory, (int)schema_directory_len);
	if (pctx != NULL)
		dir_schema = xmlSchemaParse(pctx);
	xmlSchemaFreeParserCtxt(pctx);
	xmlSetExternalEntityLoader(previous);
}

mla_err dir_schema_validate(xmlDocPtr doc, mla_diag *diag)
{
	struct xml_schema_error se = {"", 0};
	xmlSchemaValidCtxtPtr v;
	int rc;

	if (pthread_once(&schema_once, compile_schema) != 0 || dir_schema == NULL)
		return mla_fail(diag, MLA_ERR_INTERNAL, "embedded directory schema does not compile");
	if ((v = xmlSchemaNewValidCtxt(dir_schema)) == NULL)
		return MLA_ERR_NOMEM;
	xmlSchemaSetValidStructuredErrors(v, xml_schema_error_keep, &se);
	rc = xmlSchemaValidateDoc(v, doc);
	xmlSchemaFreeValidCtxt(v);
	if (rc == 0)
		return MLA_OK;
	return mla_fail(diag, MLA_ERR_SCHEMA, "directory does not match the schema (line %d): %s",
			se.line, se.first[0] != '\0' ? se.first : "invalid");
}

static void dir_limits(size_t max, mla_limits *l)
{
	mla_limits_default(l);
	l->max_envelope_bytes = max;
	l->max_nodes = MLA_DIR_MAX_NODES;
	l->max_depth = MLA_DIR_MAX_DEPTH;
	l->max_attrs = MLA_DIR_MAX_ATTRS;
}

/* The root must be a Directory or an Entry of this version (any other version of either is
 * unsupported-version, anything else schema). */
static mla_err check_root(xmlDocPtr doc, mla_diag *diag)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	mla_err r;

	if ((r = wrap_root_version(doc, "urn:mlagw:directory:", "Directory", "directory",
				   MLA_DIRECTORY_VERSION, diag)) != MLA_OK ||
	    (r = wrap_root_version(doc, "urn:mlagw:directory:", "Entry", "directory entry",
				   MLA_DIRECTORY_VERSION, diag)) != MLA_OK)
		return r;
	if (!dir_is(root, "Directory") && !dir_is(root, "Entry"))
		return mla_fail(diag, MLA_ERR_SCHEMA,
				"root element is not a Directory or Entry of " MLA_DIRECTORY_NS);
	return MLA_OK;
}

mla_err dir_parse(const uint8_t *xml, size_t len, size_t max, xmlDocPtr *doc, mla_diag *diag)
{
	mla_limits limits;
	mla_err r;

	*doc = NULL;
	if (len > max)
		return mla_fail(diag, MLA_ERR_TOO_LARGE,
				"directory document of %zu bytes exceeds the limit of %zu", len, max);
	dir_limits(max, &limits);
	if ((r = xml_safe_parse(xml, len, &limits, doc, NULL, diag)) != MLA_OK)
		return r;
	if ((r = check_root(*doc, diag)) != MLA_OK ||
	    (r = algs_check_tree(xmlDocGetRootElement(*doc), diag)) != MLA_OK ||
	    (r = dir_schema_validate(*doc, diag)) != MLA_OK) {
		xmlFreeDoc(*doc);
		*doc = NULL;
	}
	return r;
}

int dir_is(xmlNodePtr n, const char *local)
{
	return xml_is(n, MLA_DIRECTORY_NS, local);
}

xmlNodePtr dir_child(xmlNodePtr n, const char *local)
{
	return xml_first_child(n, MLA_DIRECTORY_NS, local);
}

xmlNodePtr dir_ds_child(xmlNodePtr n, const char *local)
{
	return xml_first_child(n, DS_NS_URI, local);
}

mla_err dir_text(xmlNodePtr n, char *out, size_t size, const char *what, mla_diag *diag)
{
	xmlChar *t = n != NULL ? xmlNodeGetContent(n) : NULL;
	mla_err r;

	if (t == NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA, "directory %s is missing", what);
	r = mla_strcpy(out, size, (const char *)t);
	xmlFree(t);
	if (r != MLA_OK)
		return mla_fail(diag, MLA_ERR_SCHEMA, "directory %s is longer than %zu bytes", what,
				size - 1);
	return MLA_OK;
}

mla_err dir_register_id(xmlNodePtr n, mla_diag *diag)
{
	xmlAttrPtr a = xmlHasProp(n, BAD_CAST "Id");
	xmlChar *id = a != NULL ? xmlNodeGetContent((xmlNodePtr)a) : NULL;
	mla_err r = MLA_OK;

	if (id == NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA, "directory element %s has no Id", n->name);
	/* a second element with the same Id is what signature wrapping needs */
	if (xmlGetID(n->doc, id) != NULL || xmlAddID(NULL, n->doc, id, a) == NULL)
		r = mla_fail(diag, MLA_ERR_SIG_WRAPPING, "directory holds Id %.40s twice",
			     (const char *)id);
	xmlFree(id);
	return r;
}
