/* Shared by the keyholder tests: see keyholder_spawn.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/socket.h>
#include <unistd.h>

#include "keyholder_spawn.h"

pid_t keyholder_spawn(int *mine, size_t n, mla_keyholder_allow allow, void *arg)
{
	int theirs[MLA_KEYHOLDER_MAX_CHANNELS], sv[2];
	pid_t p;

	assert_true(n >= 1 && n <= MLA_KEYHOLDER_MAX_CHANNELS);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		mine[i] = sv[0];
		theirs[i] = sv[1];
	}
	assert_true((p = fork()) >= 0);
	if (p == 0) {
		for (size_t i = 0; i < n; i++)
			close(mine[i]);
		mla_keyholder_serve(theirs, n, allow, arg);
		_exit(0);
	}
	for (size_t i = 0; i < n; i++)
		close(theirs[i]);
	return p;
}
