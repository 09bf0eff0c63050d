/* XML Schema validation of envelopes (protocol/envelope.xsd) and receipts (receipt.xsd), with
 * the strict subsets of the XML-DSig and XML-Enc schemas they import, all embedded in the
 * binary at build time. The root element picks the schema; any other root is refused. */
#include <string.h>

#include <libxml/parserInternals.h>
#include <libxml/xmlschemas.h>

#include "mlagw/codec.h"
#include "protocol_ns.h"
#include "verify_internal.h"

extern const unsigned char schema_envelope[];
extern const unsigned long schema_envelope_len;
extern const unsigned char schema_xmldsig[];
extern const unsigned long schema_xmldsig_len;
extern const unsigned char schema_xmlenc[];
extern const unsigned long schema_xmlenc_len;
extern const unsigned char schema_receipt[];
extern const unsigned long schema_receipt_len;
extern const unsigned char schema_receipt2[];
extern const unsigned long schema_receipt2_len;
extern const unsigned char schema_envelope2[];
extern const unsigned long schema_envelope2_len;
extern const unsigned char schema_envelope3[];
extern const unsigned long schema_envelope3_len;
extern const unsigned char schema_receipt3[];
extern const unsigned long schema_receipt3_len;

/* One compiled schema per document type, chosen by the root element. */
static struct doc_schema {
	const char *ns, *root, *what;
	const unsigned char *text;
	const unsigned long *len;
	xmlSchemaPtr schema;
} doc_schemas[] = {
	{MLA_NS, "Envelope", "envelope", schema_envelope, &schema_envelope_len, NULL},
	{MLA_RECEIPT_NS, "Receipt", "receipt", schema_receipt, &schema_receipt_len, NULL},
	{MLA_RECEIPT2_NS, "Receipt", "receipt", schema_receipt2, &schema_receipt2_len, NULL},
	{MLA_NS2, "Envelope", "envelope", schema_envelope2, &schema_envelope2_len, NULL},
	{MLA_NS3, "Envelope", "envelope", schema_envelope3, &schema_envelope3_len, NULL},
	{MLA_RECEIPT3_NS, "Receipt", "receipt", schema_receipt3, &schema_receipt3_len, NULL},
};
#define N_SCHEMAS (sizeof(doc_schemas) / sizeof(doc_schemas[0]))
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

static xmlSchemaPtr compile(const struct doc_schema *ds)
{
	xmlSchemaParserCtxtPtr pctx;
	xmlSchemaPtr schema = NULL;

	pctx = xmlSchemaNewMemParserCtxt((const char *)ds->text, (int)*ds->len);
	if (pctx != NULL)
		schema = xmlSchemaParse(pctx);
	xmlSchemaFreeParserCtxt(pctx);
	return schema;
}

mla_err schema_init(mla_diag *diag)
{
	mla_err r = MLA_OK;

	if (doc_schemas[0].schema != NULL)
		return MLA_OK;
	previous_loader = xmlGetExternalEntityLoader();
	xmlSetExternalEntityLoader(embedded_loader);
	for (size_t i = 0; i < N_SCHEMAS && r == MLA_OK; i++)
		if ((doc_schemas[i].schema = compile(&doc_schemas[i])) == NULL)
			r = mla_fail(diag, MLA_ERR_INTERNAL, "embedded %s schema does not compile",
				     doc_schemas[i].what);
	xmlSetExternalEntityLoader(previous_loader);
	if (r != MLA_OK)
		schema_shutdown();
	return r;
}

void schema_shutdown(void)
{
	for (size_t i = 0; i < N_SCHEMAS; i++) {
		xmlSchemaFree(doc_schemas[i].schema);
		doc_schemas[i].schema = NULL;
	}
}

static const struct doc_schema *schema_for(xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);

	if (root == NULL || root->ns == NULL)
		return NULL;
	for (size_t i = 0; i < N_SCHEMAS; i++)
		if (xmlStrEqual(root->ns->href, BAD_CAST doc_schemas[i].ns) &&
		    xmlStrEqual(root->name, BAD_CAST doc_schemas[i].root))
			return &doc_schemas[i];
	return NULL;
}

mla_err schema_validate(xmlDocPtr doc, mla_diag *diag)
{
	const struct doc_schema *ds = schema_for(doc);
	xmlSchemaValidCtxtPtr v = NULL;
	struct xml_schema_error se = {"", 0};
	int rc;

	if (ds == NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA, "root element is neither an envelope nor a receipt");
	mla_require(ds->schema != NULL); /* mla_crypto_init() compiles the schemas first */
	if ((v = xmlSchemaNewValidCtxt(ds->schema)) == NULL)
		return MLA_ERR_NOMEM;
	xmlSchemaSetValidStructuredErrors(v, xml_schema_error_keep, &se);
	rc = xmlSchemaValidateDoc(v, doc);
	xmlSchemaFreeValidCtxt(v);
	if (rc == 0)
		return MLA_OK;
	return mla_fail(diag, MLA_ERR_SCHEMA, "%s does not match the schema (line %d): %s", ds->what,
			se.line, se.first[0] != '\0' ? se.first : "invalid");
}
