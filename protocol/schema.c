/* XML Schema validation of envelopes against protocol/envelope.xsd and its two strict
 * subsets of the XML-DSig and XML-Enc schemas, all embedded in the binary at build time. */
#include <string.h>

#include <libxml/parserInternals.h>
#include <libxml/xmlschemas.h>

#include "verify_internal.h"

extern const unsigned char schema_envelope[];
extern const unsigned long schema_envelope_len;
extern const unsigned char schema_xmldsig[];
extern const unsigned long schema_xmldsig_len;
extern const unsigned char schema_xmlenc[];
extern const unsigned long schema_xmlenc_len;

static xmlSchemaPtr envelope_schema;
static xmlExternalEntityLoader previous_loader;

/* Serves the imported schemas from memory while the schema compiles; nothing else. */
static xmlParserInputPtr embedded_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	const char *base;

	(void)id;
	if (url == NULL)
		return NULL;
	base = strrchr(url, '/') != NULL ? strrchr(url, '/') + 1 : url;
	if (strcmp(base, "xmldsig-subset.xsd") == 0)
		return xmlNewStringInputStream(ctxt, schema_xmldsig);
	if (strcmp(base, "xmlenc-subset.xsd") == 0)
		return xmlNewStringInputStream(ctxt, schema_xmlenc);
	return NULL;
}

mla_err schema_init(mla_diag *diag)
{
	xmlSchemaParserCtxtPtr pctx;

	if (envelope_schema != NULL)
		return MLA_OK;
	previous_loader = xmlGetExternalEntityLoader();
	xmlSetExternalEntityLoader(embedded_loader);
	pctx = xmlSchemaNewMemParserCtxt((const char *)schema_envelope, (int)schema_envelope_len);
	if (pctx != NULL)
		envelope_schema = xmlSchemaParse(pctx);
	xmlSchemaFreeParserCtxt(pctx);
	xmlSetExternalEntityLoader(previous_loader);
	if (envelope_schema == NULL)
		return mla_fail(diag, MLA_ERR_INTERNAL, "embedded envelope schema does not compile");
	return MLA_OK;
}

void schema_shutdown(void)
{
	xmlSchemaFree(envelope_schema);
	envelope_schema = NULL;
}

struct schema_errors {
	char first[160];
	int line;
};

static void on_schema_error(void *ctx, xmlErrorPtr e)
{
	struct schema_errors *se = ctx;
	size_t n;

	if (se->first[0] != '\0' || e == NULL || e->message == NULL)
		return;
	se->line = e->line;
	(void)snprintf(se->first, sizeof(se->first), "%s", e->message);
	n = strlen(se->first);
	while (n > 0 && (se->first[n - 1] == '\n' || se->first[n - 1] == ' '))
		se->first[--n] = '\0';
}

mla_err schema_validate(xmlDocPtr doc, mla_diag *diag)
{
	xmlSchemaValidCtxtPtr v = NULL;
	struct schema_errors se = {"", 0};
	int rc;

	if (envelope_schema == NULL)
		return mla_fail(diag, MLA_ERR_INTERNAL, "schema not initialised (mla_crypto_init)");
	if ((v = xmlSchemaNewValidCtxt(envelope_schema)) == NULL)
		return MLA_ERR_NOMEM;
	xmlSchemaSetValidStructuredErrors(v, on_schema_error, &se);
	rc = xmlSchemaValidateDoc(v, doc);
	xmlSchemaFreeValidCtxt(v);
	if (rc == 0)
		return MLA_OK;
	return mla_fail(diag, MLA_ERR_SCHEMA, "envelope does not match the schema (line %d): %s",
			se.line, se.first[0] != '\0' ? se.first : "invalid");
}
