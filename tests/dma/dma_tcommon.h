/* SPDX-License-Identifier: MIT */
/*
 * dma_tcommon.h - the backend configurations the dma tests loop over, and a
 * buffer arena every backend can map (pa needs it registered).
 */
#ifndef DMA_TCOMMON_H
#define DMA_TCOMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dma.h"
#include "vqb_test.h"

struct tcfg {
	const char *label;
	const char *backend;
	struct dma_params p;
};

#define TP(...) { .vfio_container_fd = -1, __VA_ARGS__ }

/* Every backend that runs on a machine without an IOMMU (vfio has its own
 * test), and the interesting variants. */
static const struct tcfg t_cfgs[] = {
	{ "identity", "identity", TP() },
	{ "identity+force_bounce", "identity", TP(.force_bounce = true, .bounce_pool_bytes = 4 << 20) },
	{ "pa", "pa", TP() },
	{ "pa+force_bounce", "pa", TP(.force_bounce = true, .bounce_pool_bytes = 1 << 20) },
	{ "iommu", "iommu", TP() },
	{ "iommu+lazy", "iommu", TP(.lazy = true) },
	{ "bounce", "bounce", TP(.bounce_pool_bytes = 8 << 20) },
	{ "noncoherent", "noncoherent", TP() },
	{ "debug(identity)", "debug", TP() },
	{ "debug(iommu)", "debug", TP(.inner = "iommu") },
	{ "debug(bounce)", "debug", TP(.inner = "bounce", .bounce_pool_bytes = 8 << 20) },
	{ "debug(pa)", "debug", TP(.inner = "pa") },
};
#define T_NCFGS (sizeof(t_cfgs) / sizeof(t_cfgs[0]))

/* A page-aligned, mlock-able arena of T_ARENA bytes. */
#define T_ARENA (1u << 20)

static inline uint8_t *t_arena(void)
{
	void *p = mmap(NULL, T_ARENA, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	REQUIRE(p != MAP_FAILED, "mmap of the test arena: %s", strerror(errno));
	return p;
}

static inline void t_arena_free(uint8_t *a)
{
	munmap(a, T_ARENA);
}

/* Open cfg and register the arena. 77-worthy failures (pa without root)
 * return the error; the caller decides. */
static inline int t_open(const struct tcfg *c, uint8_t *arena, struct dma **d)
{
	int r = dma_open(c->backend, &c->p, d);
	if (r < 0)
		return r;
	r = dma_register(*d, arena, T_ARENA);
	if (r < 0) {
		dma_close(*d);
		*d = NULL;
	}
	return r;
}

/* pa backends need root for frame numbers; everything else must open. */
static inline bool t_uses_pa(const struct tcfg *c)
{
	return strcmp(c->backend, "pa") == 0 ||
	       (c->p.inner && strcmp(c->p.inner, "pa") == 0);
}

static inline void t_fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static inline bool t_check(const uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(seed * 131 + i * 7 + (i >> 8)))
			return false;
	return true;
}

static inline struct dma_counters t_ctr(const struct dma *d)
{
	struct dma_counters c;
	dma_get_counters(d, &c);
	return c;
}

#endif
