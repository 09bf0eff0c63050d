/* The directory a gateway advertises on its answers to peers (SPEC 18.6, "Newer directories
 * seen on an exchange"): the Mlagw-Directory header value "<publisher> <serial> <port>". A
 * peer's value is untrusted: parsed strictly, bounded, and only ever prompts a fetch whose
 * document is verified as any other. */
#include <stdio.h>
#include <string.h>

#include "mlagw/codec.h"
#include "mlagw/directory.h"

mla_err mla_dir_advert_format(const char *publisher, uint64_t serial, unsigned port, char *out,
			      size_t cap)
{
	if (strlen(publisher) != 2 || serial == 0 || port == 0 || port > 65535)
		return MLA_ERR_ARG;
	return mla_snprintf(out, cap, "%s %llu %u", publisher, (unsigned long long)serial, port);
}

int mla_dir_advert_parse(const char *v, size_t n, char publisher[3], uint64_t *serial,
			 unsigned *port)
{
	const char *sp1, *sp2;
	uint64_t p = 0;

	if (n > MLA_DIR_ADVERT_MAX || n < 6 || v[2] != ' ' || v[0] < 'A' || v[0] > 'Z' ||
	    v[1] < 'A' || v[1] > 'Z')
		return 0;
	sp1 = v + 2;
	if ((sp2 = memchr(sp1 + 1, ' ', n - 3)) == NULL ||
	    mla_parse_u64n(sp1 + 1, (size_t)(sp2 - sp1 - 1), 1, UINT64_MAX, serial) != MLA_OK ||
	    mla_parse_u64n(sp2 + 1, n - (size_t)(sp2 + 1 - v), 1, 65535, &p) != MLA_OK)
		return 0;
	memcpy(publisher, v, 2);
	publisher[2] = '\0';
	*port = (unsigned)p;
	return 1;
}
