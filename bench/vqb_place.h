/* SPDX-License-Identifier: MIT */
/*
 * vqb_place.h - where the driver and device threads run: hwloc picks two
 * PUs on distinct physical cores that share the deepest cache available to
 * this process, unless --cores says otherwise; libnuma binds memory.
 */
#ifndef VQB_PLACE_H
#define VQB_PLACE_H

#include <stddef.h>

struct vqb_placement {
	int driver_cpu, device_cpu;
	char shared_cache[16]; /* "L3", "L2", "none" */
	char why[160];         /* how the pair was chosen */
};

/** Choose (or check the user's) pair of CPUs. cores[] == {-1,-1}: choose.
 * @return 0, or -EINVAL with a message (a CPU not in this process's
 * affinity mask, or fewer than two CPUs when a thread device needs them). */
int vqb_place_choose(const int cores[2], struct vqb_placement *pl, char *err, size_t errlen);

/** Pin the calling thread to cpu (no-op for cpu < 0). @return 0 or -errno. */
int vqb_place_pin_self(int cpu);

/** Bind [p, p+len) to NUMA node `node` (no-op for node < 0).
 * @return 0 or -errno. */
int vqb_place_bind_mem(void *p, size_t len, int node);



/** Core-to-core round trip in ns between the calling thread's CPU and cpu
 * (a helper thread pinned there ping-pongs one cache line `rounds` times).
 * Tells where the two vCPUs sit on the host: about 50-60 ns near, 300 ns
 * far (FACTS.md). NAN when cpu < 0 or the helper cannot start. */
double vqb_place_c2c_ns(int cpu, unsigned rounds);
#endif
