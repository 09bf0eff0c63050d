/* Shared by the keyholder tests (test_keyholder.c, test_keyholder_seal.c): a keyholder server
 * (mla_keyholder_serve) in a child process over socketpairs. */
#ifndef MLAGW_TEST_KEYHOLDER_SPAWN_H
#define MLAGW_TEST_KEYHOLDER_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "mlagw/keyholder.h"

/* Forks a child that serves n channels (1 to MLA_KEYHOLDER_MAX_CHANNELS) with allow and arg,
 * and exits 0 once they are all closed (3 on a request outside the protocol); the parent's
 * ends of the channels go to mine[0..n). Returns the child's pid; asserted. */
pid_t keyholder_spawn(int *mine, size_t n, mla_keyholder_allow allow, void *arg);

#endif
