/* SPDX-License-Identifier: MIT */
/*
 * ring_util.h - helpers shared by the tests/ring programs: ring memory,
 * a buffer arena, and the translate callback (IOVA = CPU address, checked
 * against the arena so a stray address is refused, as an IOMMU would).
 */
#ifndef RING_UTIL_H
#define RING_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vq.h"
#include "vqb_test.h"

/* REQ1: the ring tests' name for REQUIRE (which evaluates its condition
 * once, so conditions with side effects are fine). */
#define REQ1(cond, ...) REQUIRE(cond, __VA_ARGS__)

struct arena {
	unsigned char *base;
	size_t len;
	unsigned long refused; /* translate calls outside the arena */
};

static inline void *arena_translate(void *ctx, uint64_t iova, uint32_t len,
				    int write)
{
	struct arena *a = ctx;
	uintptr_t p = (uintptr_t)iova, b = (uintptr_t)a->base;

	(void)write;
	if ((uint64_t)p != iova || p < b || p - b > a->len || len > a->len - (p - b)) {
		a->refused++;
		return NULL;
	}
	return (void *)p;
}

static inline uint64_t iova_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Zeroed ring memory for cfg, 64-aligned; NULL if cfg is invalid. */
static inline void *ring_alloc(const struct vq_config *cfg, struct vq_areas *a)
{
	if (vq_ring_layout(cfg, a) < 0)
		return NULL;
	size_t sz = (a->total + 63) & ~(size_t)63;
	void *m = aligned_alloc(64, sz);
	REQ1(m, "out of memory for a ring of %zu bytes", sz);
	memset(m, 0, sz);
	return m;
}

static inline const char *layout_name(enum vq_layout l)
{
	return l == VQ_LAYOUT_SPLIT ? "split" : "packed";
}

/* Deterministic xorshift PRNG so a failing run can be replayed. */
static inline uint32_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return (uint32_t)(x >> 11);
}

#endif
