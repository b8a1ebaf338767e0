/* SPDX-License-Identifier: MIT */
/*
 * vqb_place.c - CPU pair choice with hwloc, memory binding with libnuma.
 */
#include <errno.h>
#include <math.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <hwloc.h>
#include <numa.h>

#include "vqb_place.h"

/* The CPUs the process was started with: pinning (ours, or EAL's of its
 * main lcore) narrows the calling thread's mask later. */
static cpu_set_t start_mask;
static int start_mask_ok;

__attribute__((constructor)) static void save_start_mask(void)
{
	start_mask_ok = sched_getaffinity(0, sizeof(start_mask), &start_mask) == 0;
}

int vqb_place_pin_self(int cpu)
{
	if (cpu < 0)
		return 0;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	return -rc;
}

int vqb_place_bind_mem(void *p, size_t len, int node)
{
	if (node < 0 || !p || !len)
		return 0;
	if (numa_available() < 0)
		return -ENOSYS;
	numa_tonode_memory(p, len, node);
	return 0;
}

static const char *cache_name(hwloc_obj_t o)
{
	switch (o->type) {
	case HWLOC_OBJ_L1CACHE: return "L1";
	case HWLOC_OBJ_L2CACHE: return "L2";
	case HWLOC_OBJ_L3CACHE: return "L3";
	default: return "none";
	}
}

static void allowed_mask(cpu_set_t *allowed)
{
	if (start_mask_ok)
		*allowed = start_mask;
	else if (sched_getaffinity(0, sizeof(*allowed), allowed) < 0)
		CPU_ZERO(allowed);
}

unsigned vqb_place_cpus_available(void)
{
	cpu_set_t allowed;

	allowed_mask(&allowed);
	return (unsigned)CPU_COUNT(&allowed);
}

static bool picked(const struct vqb_placement *pl, int cpu)
{
	for (unsigned i = 0; i < pl->ncpus; i++)
		if (pl->cpu[i] == cpu)
			return true;
	return false;
}

/* No --cores: walk hwloc's cores in order; take the first allowed PU of
 * each distinct core, then (more wanted) the other allowed PUs. */
static int hwloc_pick(hwloc_topology_t topo, const cpu_set_t *allowed, unsigned want, struct vqb_placement *pl,
		      char *err, size_t errlen)
{
	int n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
	for (int c = 0; c < n && pl->ncpus < want; c++) {
		hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)c);
		int pu;
		hwloc_bitmap_foreach_begin(pu, core->cpuset)
		{
			if (pu < CPU_SETSIZE && CPU_ISSET(pu, allowed)) {
				pl->cpu[pl->ncpus++] = (int16_t)pu;
				break;
			}
		}
		hwloc_bitmap_foreach_end();
	}
	unsigned cores_used = pl->ncpus;
	for (int i = 0; i < CPU_SETSIZE && pl->ncpus < want; i++)
		if (CPU_ISSET(i, allowed) && !picked(pl, i))
			pl->cpu[pl->ncpus++] = (int16_t)i;
	if (pl->ncpus == 0) {
		snprintf(err, errlen, "no CPU is available to this process (see taskset -p $$)");
		return -EIO;
	}
	if (cores_used < 2)
		snprintf(pl->why, sizeof(pl->why), "fewer than two physical cores available: using CPUs %d and %d",
			 pl->cpu[0], pl->cpu[pl->ncpus > 1 ? 1 : 0]);
	else if (cores_used < pl->ncpus)
		snprintf(pl->why, sizeof(pl->why), "hwloc: first PUs of %u distinct physical cores, then "
			 "%u SMT sibling(s)", cores_used, pl->ncpus - cores_used);
	else if (pl->ncpus == 2)
		snprintf(pl->why, sizeof(pl->why), "hwloc: first PUs of two distinct physical cores");
	else
		snprintf(pl->why, sizeof(pl->why), "hwloc: first PUs of %u distinct physical cores", pl->ncpus);
	return 0;
}

/* The deepest cache the driver and device CPUs share. */
static void shared_cache(hwloc_topology_t topo, struct vqb_placement *pl)
{
	hwloc_obj_t a = hwloc_get_pu_obj_by_os_index(topo, (unsigned)pl->driver_cpu);
	hwloc_obj_t b = hwloc_get_pu_obj_by_os_index(topo, (unsigned)pl->device_cpu);
	if (a && b) {
		hwloc_obj_t anc = hwloc_get_common_ancestor_obj(topo, a, b);
		while (anc && !hwloc_obj_type_is_cache(anc->type))
			anc = anc->parent;
		if (anc)
			snprintf(pl->shared_cache, sizeof(pl->shared_cache), "%s", cache_name(anc));
	}
}

int vqb_place_choose(const int16_t *cores, unsigned ncores, unsigned want, struct vqb_placement *pl,
		     char *err, size_t errlen)
{
	cpu_set_t allowed;
	hwloc_topology_t topo;

	memset(pl, 0, sizeof(*pl));
	pl->driver_cpu = pl->device_cpu = -1;
	snprintf(pl->shared_cache, sizeof(pl->shared_cache), "none");
	allowed_mask(&allowed);
	if (want < 2)
		want = 2;
	if (want > VQB_CPUS_MAX)
		want = VQB_CPUS_MAX;
	if (ncores > VQB_CPUS_MAX)
		ncores = VQB_CPUS_MAX;
	for (unsigned i = 0; i < ncores; i++) {
		if (cores[i] < 0 || cores[i] >= CPU_SETSIZE || !CPU_ISSET(cores[i], &allowed)) {
			snprintf(err, errlen, "--cores: CPU %d is not available to this process (see taskset -p $$)",
				 cores[i]);
			return -EINVAL;
		}
		pl->cpu[pl->ncpus++] = cores[i];
	}
	if (ncores)
		snprintf(pl->why, sizeof(pl->why), "given with --cores");
	if (hwloc_topology_init(&topo) < 0 || hwloc_topology_load(topo) < 0) {
		if (ncores)
			goto out;
		snprintf(err, errlen, "hwloc could not load the topology to choose CPUs; give --cores A,B");
		return -EIO;
	}
	if (!ncores) {
		int rc = hwloc_pick(topo, &allowed, want, pl, err, errlen);
		if (rc < 0) {
			hwloc_topology_destroy(topo);
			return rc;
		}
	}
	pl->driver_cpu = pl->cpu[0];
	pl->device_cpu = pl->ncpus > 1 ? pl->cpu[1] : pl->cpu[0];
	shared_cache(topo, pl);
	hwloc_topology_destroy(topo);
	return 0;
out:
	pl->driver_cpu = pl->cpu[0];
	pl->device_cpu = pl->ncpus > 1 ? pl->cpu[1] : pl->cpu[0];
	return 0;
}

struct c2c {
	alignas(64) atomic_uint ping; /* written by the caller */
	alignas(64) atomic_uint pong; /* written by the helper */
	unsigned rounds;
	int cpu;
};

static void *c2c_helper(void *arg)
{
	struct c2c *c = arg;
	vqb_place_pin_self(c->cpu);
	for (unsigned i = 1; i <= c->rounds; i++) {
		/* A1: pairs with R1 in vqb_place_c2c_ns */
		while (atomic_load_explicit(&c->ping, memory_order_acquire) != i)
			;
		/* R2: pairs with A2 in vqb_place_c2c_ns */
		atomic_store_explicit(&c->pong, i, memory_order_release);
	}
	return NULL;
}

double vqb_place_c2c_ns(int cpu, unsigned rounds)
{
	struct c2c *c = aligned_alloc(64, sizeof(*c));
	pthread_t th;
	struct timespec a, b;

	if (cpu < 0 || !c || !rounds) {
		free(c);
		return NAN;
	}
	memset(c, 0, sizeof(*c));
	c->rounds = rounds;
	c->cpu = cpu;
	if (pthread_create(&th, NULL, c2c_helper, c)) {
		free(c);
		return NAN;
	}
	/* the first round trip waits for the helper to start: untimed (it
	 * would add the thread's start-up, ~100 us, to a short probe) */
	unsigned first = rounds > 1 ? 2 : 1;
	if (first == 2) {
		atomic_store_explicit(&c->ping, 1, memory_order_release); /* R1 */
		while (atomic_load_explicit(&c->pong, memory_order_acquire) != 1) /* A2 */
			;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned i = first; i <= rounds; i++) {
		/* R1: pairs with A1 in c2c_helper */
		atomic_store_explicit(&c->ping, i, memory_order_release);
		/* A2: pairs with R2 in c2c_helper */
		while (atomic_load_explicit(&c->pong, memory_order_acquire) != i)
			;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	pthread_join(th, NULL);
	free(c);
	return ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (rounds - first + 1);
}
