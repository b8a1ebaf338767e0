/* SPDX-License-Identifier: MIT */
/*
 * vqb_dpdk.c - DPDK memory and lcores for the traffic engine and device.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include "vqb_dpdk.h"

#define POOL_FLAGS (RTE_MEMPOOL_F_NO_SPREAD | RTE_MEMPOOL_F_NO_CACHE_ALIGN)

static int socket_of(int node)
{
	return node < 0 ? SOCKET_ID_ANY : node;
}

static void *ring_alloc(size_t len, int node, void *ctx)
{
	(void)ctx;
	return rte_zmalloc_socket("vqb_ring", len, 4096, socket_of(node));
}

static void ring_free(void *p, void *ctx)
{
	(void)ctx;
	rte_free(p);
}

struct vqb_pool {
	struct rte_mempool *mp;
	void *chunk;
	size_t n;
	void **objs;
};

/* An rte_mempool whose objects are exactly slot bytes apart in one
 * hugepage chunk: object i's header starts slot i, its buffer follows the
 * header (headroom). The traffic engine takes every object once, as a
 * DPDK application fills its rings from a pool at start. */
static int pool_create(size_t nbufs, uint32_t slot, int node, void *ctx, void **handle,
		       char **arena, void **bufs)
{
	static unsigned seq;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint32_t hdr = (uint32_t)sizeof(struct rte_mempool_objhdr);
	(void)ctx;

	if (slot <= hdr || nbufs == 0 || nbufs > UINT32_MAX)
		return -EINVAL;
	if (rte_mempool_calc_obj_size(slot - hdr, POOL_FLAGS, NULL) != slot)
		return -EINVAL; /* a debug build of DPDK adds cookies/trailers */
	struct vqb_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->n = nbufs;
	p->objs = calloc(nbufs, sizeof(void *));
	snprintf(name, sizeof(name), "vqb_pool%u", seq++);
	p->mp = rte_mempool_create_empty(name, (unsigned)nbufs, slot - hdr, 0, 0, socket_of(node), POOL_FLAGS);
	p->chunk = rte_zmalloc_socket(name, nbufs * slot, 4096, socket_of(node));
	int rc = -ENOMEM;
	if (!p->objs || !p->mp || !p->chunk)
		goto bad;
	if ((rc = rte_mempool_set_ops_byname(p->mp, "ring_sp_sc", NULL)) < 0)
		goto bad;
	rc = rte_mempool_populate_iova(p->mp, p->chunk, RTE_BAD_IOVA, nbufs * slot, NULL, NULL);
	if (rc < 0)
		goto bad;
	if ((size_t)rc != nbufs) {
		rc = -ENOMEM;
		goto bad;
	}
	if ((rc = rte_mempool_get_bulk(p->mp, p->objs, (unsigned)nbufs)) < 0)
		goto bad;
	for (size_t i = 0; i < nbufs; i++) {
		/* every buffer sits in its own slot of the chunk */
		size_t off = (size_t)((char *)p->objs[i] - (char *)p->chunk);
		if ((char *)p->objs[i] < (char *)p->chunk || off >= nbufs * slot || off % slot != hdr) {
			rc = -EFAULT;
			goto bad;
		}
		bufs[i] = p->objs[i];
	}
	*arena = p->chunk;
	*handle = p;
	return 0;
bad:
	rte_mempool_free(p->mp); /* objects taken are returned with the pool */
	rte_free(p->chunk);
	free(p->objs);
	free(p);
	return rc;
}

static void pool_free(void *handle, void *ctx)
{
	struct vqb_pool *p = handle;
	(void)ctx;
	rte_mempool_put_bulk(p->mp, p->objs, (unsigned)p->n);
	rte_mempool_free(p->mp);
	rte_free(p->chunk);
	free(p->objs);
	free(p);
}

static size_t page_of(const void *p, void *ctx)
{
	(void)ctx;
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(p);
	return msl ? (size_t)msl->page_sz : 0;
}

static const struct vqb_mem_ops dpdk_mem = {
	.name = "hugepages+mempool",
	.ring_alloc = ring_alloc,
	.ring_free = ring_free,
	.pool_create = pool_create,
	.pool_free = pool_free,
	.headroom = sizeof(struct rte_mempool_objhdr),
	.page_of = page_of,
};

const struct vqb_mem_ops *vqb_dpdk_mem_ops(const struct vqb_env *env)
{
	return env && env->eal_up && !env->eal_no_huge ? &dpdk_mem : NULL;
}

/* ---- device lcore ---- */

static struct {
	void *(*fn)(void *);
	void *arg;
	atomic_uint done; /* runs finished: see join */
} lcore_job[RTE_MAX_LCORE];

static int lcore_trampoline(void *unused)
{
	unsigned lc = rte_lcore_id();
	(void)unused;
	lcore_job[lc].fn(lcore_job[lc].arg);
	/* J1: release everything the job wrote; pairs with the acquire J2 in
	 * join (EAL's own wait is in uninstrumented DPDK code, so ThreadSanitizer
	 * would not see the device thread's counters ordered before the read) */
	atomic_fetch_add_explicit(&lcore_job[lc].done, 1, memory_order_release);
	return 0;
}

static int launch(void *(*fn)(void *), void *arg, int cpu, void *ctx)
{
	unsigned lc;
	(void)ctx;
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (cpu >= 0 && (int)rte_lcore_to_cpu_id((int)lc) != cpu)
			continue;
		if (rte_eal_get_lcore_state(lc) != WAIT)
			continue;
		lcore_job[lc].fn = fn;
		lcore_job[lc].arg = arg;
		/* remote_launch publishes the job to the worker (EAL's pipe) */
		if (rte_eal_remote_launch(lcore_trampoline, NULL, lc) == 0)
			return (int)lc;
	}
	return -ENOENT;
}

static void join(int handle, void *ctx)
{
	(void)ctx;
	rte_eal_wait_lcore((unsigned)handle);
	/* J2: pairs with the release J1 in lcore_trampoline */
	(void)atomic_load_explicit(&lcore_job[handle].done, memory_order_acquire);
}

static const struct dev_launcher dpdk_launcher = {
	.name = "eal-lcore",
	.launch = launch,
	.join = join,
};

const struct dev_launcher *vqb_dpdk_launcher(const struct vqb_env *env)
{
	return env && env->eal_up && rte_lcore_count() >= 2 ? &dpdk_launcher : NULL;
}
