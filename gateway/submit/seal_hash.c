/* The file's SHA-256 beside the sealer (seal_hash.h): one thread, one piece at a time,
 * handed over under a mutex. */
#include <pthread.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "seal_hash.h"

struct seal_hash {
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const uint8_t *p; /* the piece to hash, NULL when none waits */
	size_t n;
	int stop;
	int failed; /* written by the thread, read after the join */
	EVP_MD_CTX *md;
};

static void *hash_main(void *arg)
{
	struct seal_hash *h = arg;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (h->p == NULL && !h->stop)
			pthread_cond_wait(&h->cond, &h->lock);
		if (h->p == NULL)
			break; /* stopping, nothing left */
		pthread_mutex_unlock(&h->lock);
		if (EVP_DigestUpdate(h->md, h->p, h->n) != 1)
			h->failed = 1;
		pthread_mutex_lock(&h->lock);
		h->p = NULL;
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

mla_err seal_hash_start(struct seal_hash **out, mla_diag *diag)
{
	struct seal_hash *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (h == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	if ((h->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex2(h->md, EVP_sha256(), NULL) != 1 ||
	    pthread_create(&h->thread, NULL, hash_main, h) != 0) {
		seal_hash_free(h);
		return mla_fail(diag, MLA_ERR_NOMEM, "cannot start the attachment's digest");
	}
	h->started = 1;
	*out = h;
	return MLA_OK;
}

void seal_hash_wait(struct seal_hash *h)
{
	pthread_mutex_lock(&h->lock);
	while (h->p != NULL)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

void seal_hash_add(struct seal_hash *h, const uint8_t *p, size_t n)
{
	pthread_mutex_lock(&h->lock);
	while (h->p != NULL)
		pthread_cond_wait(&h->cond, &h->lock);
	if (n > 0) {
		h->p = p;
		h->n = n;
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
}

/* The thread finishes the piece it holds, then ends. */
static void stop(struct seal_hash *h)
{
	if (!h->started)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = 1;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	h->started = 0;
}

mla_err seal_hash_finish(struct seal_hash *h, uint8_t digest[32], mla_diag *diag)
{
	unsigned int len = 0;

	stop(h);
	if (h->failed || EVP_DigestFinal_ex(h->md, digest, &len) != 1 || len != 32)
		return mla_fail(diag, MLA_ERR_INTERNAL, "SHA-256 failed");
	return MLA_OK;
}

void seal_hash_free(struct seal_hash *h)
{
	if (h == NULL)
		return;
	stop(h);
	EVP_MD_CTX_free(h->md);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h);
}
