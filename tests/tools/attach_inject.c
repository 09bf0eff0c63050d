/* attach_inject: puts a message a gateway has queued into another gateway's inbox, as the
 * receive path would once it accepted it, for the integration tests of the attachment API
 * before gateways transfer attachments (SPEC 17.14). Both gateways stopped. Not installed.
 *   attach_inject SRC_STORE DST_STORE MESSAGE_ID FROM_STATE
 * The attachment files are the test's to copy. exit 0 done, 1 failed, 2 usage. */
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "store/store.h"

static int fail(const char *what, const mla_diag *d)
{
	fprintf(stderr, "attach_inject: %s: %s\n", what, mla_diag_message(d));
	return 1;
}

int main(int argc, char **argv)
{
	static const uint8_t receipt[] = "<injected-by-test/>";
	gw_store *src = NULL, *dst = NULL;
	struct out_msg o;
	struct in_msg m;
	mla_diag d = {MLA_OK, ""};
	mla_buf env;
	int rc = 1;

	if (argc != 5 || strlen(argv[4]) != 2)
		return 2;
	mla_buf_init(&env, (size_t)64 << 20);
	if (store_open(argv[1], &src, &d) != MLA_OK || store_outbox_get(src, argv[3], &o, &d) !=
		    MLA_OK || store_outbox_envelope(src, argv[3], &env, &d) != MLA_OK) {
		rc = fail("source", &d);
		goto out;
	}
	memset(&m, 0, sizeof(m));
	memcpy(m.message_id, o.message_id, sizeof(m.message_id));
	memcpy(m.case_id, o.case_id, sizeof(m.case_id));
	memcpy(m.kind, o.kind, sizeof(m.kind));
	memcpy(m.action, o.action, sizeof(m.action));
	memcpy(m.from_state, argv[4], 3);
	m.priority = o.priority;
	m.created_ms = o.created_ms;
	m.received_ms = o.created_ms;
	SHA256(env.data, env.len, m.digest);
	if (store_open(argv[2], &dst, &d) != MLA_OK ||
	    store_inbox_put(dst, &m, 1, env.data, env.len, receipt, sizeof receipt - 1, &d) !=
		    MLA_OK) {
		rc = fail("destination", &d);
		goto out;
	}
	rc = 0;
out:
	store_close(src);
	store_close(dst);
	mla_buf_free(&env);
	return rc;
}
