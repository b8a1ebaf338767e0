/* SPDX-License-Identifier: MIT */
/*
 * vqb_place.h - where the driver and device threads run: hwloc picks PUs
 * on distinct physical cores first (the first allowed PU of each core, in
 * hwloc's order, so neighbours share the deepest cache), then their SMT
 * siblings, unless --cores lists the CPUs; libnuma binds memory.
 */
#ifndef VQB_PLACE_H
#define VQB_PLACE_H

#include <stddef.h>
#include <stdint.h>

#include "vqb.h"

struct vqb_placement {
	int driver_cpu, device_cpu; /* the first two CPUs (one CPU: the same) */
	char shared_cache[16]; /* what those two share: "L3", "L2", "none" */
	char why[160];         /* how the CPUs were chosen */
	unsigned ncpus;        /* CPUs in cpu[], in order of use */
	int16_t cpu[VQB_CPUS_MAX];
};

/** Choose `want` CPUs (at least two), or check the user's list (ncores >
 * 0: cores[] as given, whatever want). With fewer CPUs available than
 * wanted, pl->ncpus is how many there are (at least one).
 * @return 0, or -EINVAL with a message (a CPU not in this process's
 * affinity mask), -EIO (no topology and no list). */
int vqb_place_choose(const int16_t *cores, unsigned ncores, unsigned want, struct vqb_placement *pl,
		     char *err, size_t errlen);

/** Number of CPUs this process was started with (its affinity mask). */
unsigned vqb_place_cpus_available(void);

/** CPU of thread k (0-based) when n CPUs are used in order and wrap:
 * cpu[k % n]. */
static inline int vqb_place_cpu(const struct vqb_placement *pl, unsigned k)
{
	return pl->ncpus ? pl->cpu[k % pl->ncpus] : -1;
}

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
