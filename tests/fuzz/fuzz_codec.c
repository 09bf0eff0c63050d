/* libFuzzer harness for the codec layer: every input either is refused or is the one
 * canonical text of what it decodes to (encode(decode(s)) == s), and decode(encode(x)) == x,
 * for base64, hex, decimal numbers and both UTC time forms. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/codec.h"

#define MAXN 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_b64(const uint8_t *data, size_t size)
{
	static uint8_t raw[MAXN], back[MAXN];
	static char text[MLA_B64_LEN(MAXN) + 1];
	size_t n = 0;

	if (mla_b64_decode((const char *)data, size, raw, sizeof(raw), &n) == MLA_OK &&
	    (mla_b64_encode(raw, n, text, sizeof(text)) != MLA_OK || strlen(text) != size ||
	     memcmp(text, data, size) != 0))
		abort(); /* accepted a text that is not the canonical one */
	if (mla_b64_encode(data, size, text, sizeof(text)) != MLA_OK ||
	    mla_b64_decode(text, strlen(text), back, sizeof(back), &n) != MLA_OK || n != size ||
	    memcmp(back, data, size) != 0)
		abort();
}

static void check_hex(const uint8_t *data, size_t size)
{
	static uint8_t raw[MAXN], back[MAXN];
	static char text[2 * MAXN + 1];
	size_t n = 0;

	if (mla_hex_decode((const char *)data, size, raw, sizeof(raw), &n) == MLA_OK &&
	    (mla_hex_encode(raw, n, text, sizeof(text)) != MLA_OK || strlen(text) != size ||
	     memcmp(text, data, size) != 0))
		abort();
	if (mla_hex_encode(data, size, text, sizeof(text)) != MLA_OK ||
	    mla_hex_decode(text, strlen(text), back, sizeof(back), &n) != MLA_OK || n != size ||
	    memcmp(back, data, size) != 0)
		abort();
}

/* Texts that must come back unchanged from their value (NUL-terminated copies). */
static void check_text(const uint8_t *data, size_t size)
{
	char s[64], back[64];
	uint64_t u;
	int64_t i, ms;
	time_t t;

	if (size >= sizeof(s))
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (mla_parse_u64(s, 0, UINT64_MAX, &u) == MLA_OK &&
	    (mla_snprintf(back, sizeof(back), "%llu", (unsigned long long)u) != MLA_OK ||
	     strcmp(back, s) != 0))
		abort();
	if (mla_parse_i64(s, INT64_MIN, INT64_MAX, &i) == MLA_OK &&
	    (mla_snprintf(back, sizeof(back), "%lld", (long long)i) != MLA_OK ||
	     strcmp(back, s) != 0))
		abort();
	if ((t = mla_time_parse(s)) != -1) {
		mla_time_format(t, back);
		if (strcmp(back, s) != 0)
			abort();
	}
	if (mla_time_ms_parse((const char *)data, size, &ms) == MLA_OK) {
		mla_time_ms_format(ms, back);
		if (strlen(back) != size || memcmp(back, data, size) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAXN)
		return 0;
	check_b64(data, size);
	check_hex(data, size);
	check_text(data, size);
	return 0;
}
