/* Request bodies handed to workers (job_body.h). */
#include <stdlib.h>

#include "job_body.h"

int job_body_take(struct job_body *b, struct evbuffer *in)
{
	b->len = evbuffer_get_length(in);
	b->flat = NULL;
	return (b->chain = evbuffer_new()) != NULL && evbuffer_add_buffer(b->chain, in) == 0 &&
	       (b->len == 0 || (b->flat = malloc(b->len)) != NULL);
}

const uint8_t *job_body_bytes(struct job_body *b)
{
	if (b->len == 0)
		return (const uint8_t *)"";
	return evbuffer_copyout(b->chain, b->flat, b->len) == (ev_ssize_t)b->len ? b->flat
										  : NULL;
}

void job_body_free(struct job_body *b)
{
	if (b->chain != NULL)
		evbuffer_free(b->chain);
	free(b->flat);
	b->chain = NULL;
	b->flat = NULL;
	b->len = 0;
}
