/* libFuzzer harness: a hook request as the hook runner reads it from the daemon
 * (gateway/core/hook_remote.c, issue 17 §3) must be refused cleanly or parsed within its
 * bounds; what it parses is encoded again to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "core/hook_remote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[HOOK_REQ_MAX + 1], again[HOOK_REQ_MAX];
	struct hook_request req;
	size_t n;

	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	if (gw_hook_request_parse(buf, size, &req) != MLA_OK)
		return 0;
	n = gw_hook_request_encode(req.argv, req.envp, req.timeout_ms, again, sizeof(again));
	if (n != size || memcmp(again, data, size) != 0)
		abort();
	return 0;
}
