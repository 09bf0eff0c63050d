/* A request body handed to a worker (segments, upload chunks): moved out of its request on
 * the loop without a copy, made contiguous in the worker, freed on the loop. The contiguous
 * block is allocated on the loop: one allocated in a worker stays in that worker's malloc
 * arena, and memory would grow with the number of workers. */
#ifndef MLAGW_GATEWAY_JOB_BODY_H
#define MLAGW_GATEWAY_JOB_BODY_H
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

struct job_body {
	struct evbuffer *chain; /* the bytes as they came */
	uint8_t *flat;          /* their contiguous copy's block (NULL when empty) */
	size_t len;
};

/* On the loop: every byte of in moved into b, its block allocated. 0 when out of memory
 * (b then holds nothing to free but what job_body_free frees). */
int job_body_take(struct job_body *b, struct evbuffer *in);
/* In the worker: the bytes, contiguous ("" when empty), or NULL when they could not be read. */
const uint8_t *job_body_bytes(struct job_body *b);
/* On the loop: everything released; b is empty after. */
void job_body_free(struct job_body *b);

#endif
