/* Process-wide set-up of libxml2 and xmlsec (openssl backend), and capture of xmlsec's
 * error reports so they reach our diagnostics instead of stderr. */
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/xmlsec.h>

#include "mlagw/codec.h"
#include "keys_internal.h"
#include "verify_internal.h"
#include "xml_safe.h"

static _Thread_local char last_error[160];
static int initialised;

static void capture_error(const char *file, int line, const char *func, const char *obj,
			  const char *subj, int reason, const char *msg)
{
	(void)file;
	(void)line;
	(void)obj;
	(void)subj;
	/* xmlsec reports each frame of a failure; the innermost, first one is the cause */
	if (last_error[0] != '\0')
		return;
	/* a diagnostic: a long one may be cut, visibly */
	(void)mla_snprintf_cut(last_error, sizeof(last_error), "%s: %s (reason %d)",
			       func != NULL ? func : "?", msg != NULL ? msg : "", reason);
}

const char *crypto_last_error(void)
{
	return last_error;
}

void crypto_clear_error(void)
{
	last_error[0] = '\0';
}

mla_err mla_crypto_init(mla_diag *diag)
{
	if (initialised)
		return MLA_OK;
	xmlInitParser();
	xml_safe_global_init();
	if (xmlSecInit() < 0)
		return mla_fail(diag, MLA_ERR_INTERNAL, "xmlsec initialisation failed");
	if (xmlSecCheckVersion() != 1)
		return mla_fail(diag, MLA_ERR_INTERNAL, "xmlsec library version mismatch");
	if (xmlSecCryptoAppInit(NULL) < 0 || xmlSecCryptoInit() < 0)
		return mla_fail(diag, MLA_ERR_INTERNAL, "xmlsec openssl backend initialisation failed");
	xmlSecErrorsSetCallback(capture_error);
	if (schema_init(diag) != MLA_OK)
		return MLA_ERR_INTERNAL;
	initialised = 1;
	return MLA_OK;
}

void mla_crypto_shutdown(void)
{
	if (!initialised)
		return;
	schema_shutdown();
	xmlSecCryptoShutdown();
	xmlSecCryptoAppShutdown();
	xmlSecShutdown();
	xmlCleanupParser();
	initialised = 0;
}
