/* Which CPU each keyholder channel's thread runs on (see keyholder_wire.h). A private-key
 * request wakes the keyholder's thread and then its caller: on a virtual machine a wake-up
 * across CPUs costs an interrupt sent through the hypervisor, about 25 us each way here,
 * against about 5 us on the caller's own CPU (a P-256 signature costs 25 us). So channel i's
 * thread stays on one CPU of those the process may use, and a caller takes a free channel
 * of the CPU it runs on when there is one. Both processes derive the same mapping from the
 * CPU set the keyholder inherits at its fork; a mapping gone stale (the set changed later)
 * costs speed, never correctness. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>

#include "keyholder_wire.h"

static struct {
	pthread_once_t once;
	int n;
	int cpu[CPU_SETSIZE];
} kc = {PTHREAD_ONCE_INIT, 0, {0}};

static void read_cpu_set(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return; /* n = 0: no channel is pinned */
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			kc.cpu[kc.n++] = c;
}

int kh_channel_cpu(size_t channel)
{
	(void)pthread_once(&kc.once, read_cpu_set);
	/* one CPU: nothing to choose, and nothing pinned */
	return kc.n < 2 ? -1 : kc.cpu[channel % (size_t)kc.n];
}

void kh_pin_to_channel_cpu(size_t channel)
{
	int c = kh_channel_cpu(channel);
	cpu_set_t set;

	if (c < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(c, &set);
	/* this thread only (0); refused (a service manager's filter, a cpuset): left unpinned */
	(void)sched_setaffinity(0, sizeof(set), &set);
}

int kh_current_cpu(void)
{
	return sched_getcpu();
}
