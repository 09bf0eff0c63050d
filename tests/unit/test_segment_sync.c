/* The group fdatasync of received segments (gateway/peer/segment_sync.c, SPEC 17.13): a
 * file's segments in one batch share one sync, through the descriptor opened first among
 * them (Linux reports a writeback error only to a descriptor opened before it), whatever
 * order they were written in; a file none of whose segments kept a descriptor is synced
 * through one of its own. The gateway is stopping here, so the batch is synced at once on
 * the calling thread (no pool). A pipe stands for a descriptor whose sync fails (EINVAL). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/gw.h"
#include "peer/segment_sync.h"

static int answered;

static void on_synced(struct seg_sync_wait *w, int durable)
{
	assert_int_equal(durable, w->durable);
	answered++;
}

static void waiter(struct seg_sync_wait *w, const char *path, int fd, uint64_t opened)
{
	memset(w, 0, sizeof(*w));
	w->path = path;
	w->fd = fd;
	w->opened = opened;
	w->fn = on_synced;
}

/* Three segments of one file in one batch, given in the order b, a, c. */
static void one_batch(struct gw *g, struct seg_sync_wait *b, struct seg_sync_wait *a,
		      struct seg_sync_wait *c)
{
	struct seg_sync s;

	memset(&s, 0, sizeof(s));
	s.running = 1; /* a sync under way: these wait for the next */
	seg_sync_after(g, &s, b);
	seg_sync_after(g, &s, a);
	s.running = 0;
	seg_sync_after(g, &s, c); /* starts it: all three in one batch */
}

static void test_earliest_descriptor_synced(void **state)
{
	char path[] = "/tmp/mlagw-segsync-XXXXXX";
	struct seg_sync_wait a, b, c;
	struct gw g;
	int file = mkstemp(path), p[2];

	(void)state;
	assert_true(file >= 0);
	assert_int_equal(pipe(p), 0);
	memset(&g, 0, sizeof(g));
	g.stopping = 1;

	/* the earliest (a, the pipe) is used, though b and c hold a file that syncs */
	answered = 0;
	waiter(&a, path, p[1], 1);
	waiter(&b, path, file, 2);
	waiter(&c, path, file, 3);
	one_batch(&g, &b, &a, &c);
	assert_int_equal(answered, 3);
	assert_false(a.durable || b.durable || c.durable);
	assert_int_equal(b.err, EINVAL);

	/* the earliest is the file: all durable, the later pipe never synced */
	answered = 0;
	waiter(&a, path, file, 4);
	waiter(&b, path, p[1], 5);
	waiter(&c, path, p[1], 6);
	one_batch(&g, &b, &a, &c);
	assert_int_equal(answered, 3);
	assert_true(a.durable && b.durable && c.durable);

	/* none kept a descriptor: the path opened afresh */
	answered = 0;
	waiter(&a, path, -1, 7);
	waiter(&b, path, -1, 8);
	waiter(&c, path, -1, 9);
	one_batch(&g, &b, &a, &c);
	assert_true(a.durable && b.durable && c.durable);

	close(p[0]);
	close(p[1]);
	close(file);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_earliest_descriptor_synced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
