/* SPDX-License-Identifier: MIT */
/*
 * dma_shared: one backend is one device's DMA state, shared by its queues
 * (params.cpus > 1; each queue's thread stands for one CPU).
 *
 *  1. need_unmap is the device's: queue 0 maps a buffer above a 32-bit mask
 *     (bounced); queue 1, on another thread started after it, then sees
 *     need_unmap true before and after its own direct mapping. A second
 *     device with the same setup that never bounced still says false.
 *  2. swiotlb areas: a pool of 512 slots shared by 4 CPUs is 4 areas of 128;
 *     CPU k's first mapping is the first slot of area k; a full area spills
 *     into the next one; a full pool is -ENOMEM naming the areas; a pool of
 *     128 slots stays one area.
 *  3. IOVA per-CPU caches: an IOVA freed on CPU 0 is reused by CPU 0 (LIFO)
 *     and not handed to CPU 1, whose cache is its own.
 *  4. Counter shards (identity, 3 CPUs: 4 shards): maps, unmaps and live sum
 *     exactly over the CPUs, also when a CPU unmaps another's mapping or
 *     unmaps nothing (live stays 0); peak_live is the sum of each CPU's own
 *     peak: exact when one CPU maps (5), the documented upper bound when two
 *     CPUs peak at different times (true peak 4, reported 4 + 3 = 7).
 */
#include <pthread.h>

#include "dma_tcommon.h"

#define U(x) ((unsigned long long)(x))

struct queue_arg {
	struct dma *d;
	unsigned cpu;
	void *buf;
	size_t len;
	bool before, after; /* need_unmap before / after this queue's map */
	uint64_t iova;
	int rc;
};

/* One queue: its thread, its CPU, one mapping. */
static void *queue_thread(void *arg)
{
	struct queue_arg *q = arg;
	dma_set_this_cpu(q->cpu);
	q->before = dma_need_unmap(q->d);
	q->rc = dma_map(q->d, q->buf, q->len, DMA_TO_DEVICE, &q->iova);
	q->after = dma_need_unmap(q->d);
	return NULL;
}

static void run_queue(struct queue_arg *q)
{
	pthread_t th;
	REQUIRE(pthread_create(&th, NULL, queue_thread, q) == 0, "pthread_create");
	pthread_join(th, NULL);
}

static void need_unmap_shared(uint8_t *high)
{
	void *low = mmap((void *)0x30000000ul, 1 << 16, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	REQUIRE(low != MAP_FAILED && (uintptr_t)high >= (1ull << 32),
		"a buffer under 4 GiB (%p) and one above (%p)", low, (void *)high);
	struct dma_params p = TP(.mask_bits = 32, .cpus = 2, .bounce_pool_bytes = 1 << 20);
	struct dma *dev, *other;
	REQUIRE(dma_open("identity", &p, &dev) == 0, "open: %s", dma_last_error());
	REQUIRE(dma_open("identity", &p, &other) == 0, "open: %s", dma_last_error());

	struct queue_arg q0 = { dev, 0, high, 300, false, false, 0, 0 };
	run_queue(&q0);
	CHECK(q0.rc == 0 && q0.iova != (uintptr_t)high && q0.iova + 299 < (1ull << 32),
	      "queue 0: a buffer above the mask is bounced (iova 0x%llx)", (unsigned long long)q0.iova);
	CHECK(!q0.before && q0.after, "queue 0: need_unmap false before its bounce, true after (%d, %d)",
	      q0.before, q0.after);

	struct queue_arg q1 = { dev, 1, low, 300, false, false, 0, 0 };
	run_queue(&q1);
	CHECK(q1.rc == 0 && q1.iova == (uintptr_t)low, "queue 1: a buffer under the mask goes direct");
	CHECK(q1.before && q1.after, "queue 1: need_unmap true before and after its direct map "
	      "(queue 0 bounced on the same device): %d, %d", q1.before, q1.after);
	CHECK(dma_need_unmap_reason(dev) == DMA_R_BOUNCE, "the device's reason is \"%s\"",
	      dma_reason_str(dma_need_unmap_reason(dev)));

	struct queue_arg o = { other, 1, low, 300, false, false, 0, 0 };
	run_queue(&o);
	CHECK(o.rc == 0 && !o.before && !o.after, "another device that never bounced: need_unmap false");

	dma_set_this_cpu(0);
	CHECK(dma_unmap(dev, q0.iova, 300, DMA_TO_DEVICE) == 0, "queue 0 unmaps its bounce");
	CHECK(dma_need_unmap(dev), "need_unmap stays true after the bounce is unmapped");
	dma_unmap(dev, q1.iova, 300, DMA_TO_DEVICE);
	dma_unmap(other, o.iova, 300, DMA_TO_DEVICE);
	dma_close(dev);
	dma_close(other);
	munmap(low, 1 << 16);
	printf("need_unmap: queue 0 bounced, queue 1 (another thread, CPU 1) sees it; a second device "
	       "does not\n");
}

#define SLOT 2048u

static void areas(uint8_t *arena)
{
	struct dma_params p = TP(.cpus = 4, .bounce_pool_bytes = 512 * SLOT);
	struct dma *d;
	REQUIRE(dma_open("bounce", &p, &d) == 0, "open: %s", dma_last_error());
	uint64_t first[4];
	for (unsigned k = 0; k < 4; k++) {
		dma_set_this_cpu(k);
		REQUIRE(dma_map(d, arena, 100, DMA_TO_DEVICE, &first[k]) == 0, "cpu %u map: %s", k,
			dma_last_error());
	}
	for (unsigned k = 1; k < 4; k++)
		CHECK(first[k] - first[0] == (uint64_t)k * 128 * SLOT,
		      "cpu %u's first mapping opens area %u (offset %lld slots from area 0)", k, k,
		      (long long)(first[k] - first[0]) / SLOT);
	/* CPU 0 fills its area (127 more slots), then spills into area 1,
	 * right after CPU 1's mapping */
	dma_set_this_cpu(0);
	static uint64_t iova[512];
	unsigned n = 0;
	for (; n < 127; n++)
		REQUIRE(dma_map(d, arena, 100, DMA_TO_DEVICE, &iova[n]) == 0, "fill area 0: %s", dma_last_error());
	CHECK(iova[126] == first[0] + 127 * SLOT, "area 0 fills in order");
	REQUIRE(dma_map(d, arena, 100, DMA_TO_DEVICE, &iova[n]) == 0, "spill: %s", dma_last_error());
	CHECK(iova[n] == first[1] + SLOT, "a full area spills into the next (slot %lld of area 1)",
	      (long long)(iova[n] - first[1]) / SLOT);
	n++;
	int r;
	while ((r = dma_map(d, arena, 100, DMA_TO_DEVICE, &iova[n])) == 0 && n < 511)
		n++;
	CHECK(r == -ENOMEM && n == 508, "the pool holds 512 slots, then -ENOMEM (%d after %u more)", r, n);
	CHECK(strstr(dma_last_error(), "512 slots of 2048 bytes, 512 used, 512 mappings live, 4 areas of 128") != NULL,
	      "the exhaustion message names the use and the areas: %s", dma_last_error());
	struct dma_counters c = t_ctr(d);
	CHECK(c.bounce_live == 512, "512 live bounce mappings (%llu)", (unsigned long long)c.bounce_live);
	for (unsigned i = 0; i < n; i++)
		dma_unmap(d, iova[i], 100, DMA_TO_DEVICE);
	for (unsigned k = 0; k < 4; k++)
		dma_unmap(d, first[k], 100, DMA_TO_DEVICE);
	CHECK(t_ctr(d).bounce_live == 0, "all slots back");
	dma_close(d);

	/* 128 slots for 4 CPUs: one area (an area holds the longest mapping) */
	p.bounce_pool_bytes = 128 * SLOT;
	REQUIRE(dma_open("bounce", &p, &d) == 0, "open: %s", dma_last_error());
	for (n = 0; dma_map(d, arena, 100, DMA_TO_DEVICE, &iova[n]) == 0; n++)
		;
	CHECK(n == 128 && strstr(dma_last_error(), "1 area of 128"), "a 128-slot pool stays one area: %s",
	      dma_last_error());
	for (unsigned i = 0; i < n; i++)
		dma_unmap(d, iova[i], 100, DMA_TO_DEVICE);
	dma_close(d);
	printf("areas: 4 CPUs, 4 areas of 128 slots, spill to the next area, -ENOMEM at 512; a 128-slot "
	       "pool is one area\n");
}

static void iova_caches(uint8_t *arena)
{
	struct dma_params p = TP(.cpus = 2);
	struct dma *d;
	REQUIRE(dma_open("iommu", &p, &d) == 0, "open: %s", dma_last_error());
	uint64_t x, y, z;
	dma_set_this_cpu(0);
	REQUIRE(dma_map(d, arena, 100, DMA_TO_DEVICE, &x) == 0, "map: %s", dma_last_error());
	REQUIRE(dma_unmap(d, x, 100, DMA_TO_DEVICE) == 0, "unmap: %s", dma_last_error());
	dma_set_this_cpu(1);
	REQUIRE(dma_map(d, arena, 100, DMA_TO_DEVICE, &y) == 0, "map: %s", dma_last_error());
	CHECK(y != x, "CPU 1 does not get the IOVA in CPU 0's cache (0x%llx, 0x%llx)",
	      (unsigned long long)x, (unsigned long long)y);
	dma_set_this_cpu(0);
	REQUIRE(dma_map(d, arena, 100, DMA_TO_DEVICE, &z) == 0, "map: %s", dma_last_error());
	CHECK(z == x, "CPU 0 reuses its own freed IOVA first (LIFO)");
	dma_unmap(d, z, 100, DMA_TO_DEVICE);
	dma_set_this_cpu(1);
	dma_unmap(d, y, 100, DMA_TO_DEVICE);
	struct dma_counters c = t_ctr(d);
	CHECK(c.live == 0 && c.maps == 3 && c.unmaps == 3, "counts: %llu maps, %llu unmaps, %llu live",
	      (unsigned long long)c.maps, (unsigned long long)c.unmaps, (unsigned long long)c.live);
	dma_close(d);
	printf("iova: per-CPU caches (CPU 0 gets 0x%llx back, CPU 1 0x%llx)\n", (unsigned long long)x,
	       (unsigned long long)y);
}

static void shards(uint8_t *arena)
{
	struct dma_params p = TP(.cpus = 3);
	struct dma *d;
	uint64_t io[8];
	REQUIRE(dma_open("identity", &p, &d) == 0, "open: %s", dma_last_error());
	dma_set_this_cpu(0);
	for (unsigned i = 0; i < 5; i++)
		REQUIRE(dma_map(d, arena + 64 * i, 64, DMA_TO_DEVICE, &io[i]) == 0, "map: %s",
			dma_last_error());
	struct dma_counters c = t_ctr(d);
	CHECK(c.maps == 5 && c.live == 5 && c.peak_live == 5, "one CPU: maps %llu live %llu peak %llu "
	      "(want 5, 5, 5)", U(c.maps), U(c.live), U(c.peak_live));
	dma_set_this_cpu(2); /* unmaps CPU 0's mappings: live of the sum drops */
	for (unsigned i = 0; i < 5; i++)
		dma_unmap(d, io[i], 64, DMA_TO_DEVICE);
	dma_unmap(d, io[0], 64, DMA_TO_DEVICE); /* nothing: live stays 0 */
	c = t_ctr(d);
	CHECK(c.unmaps == 6 && c.live == 0 && c.peak_live == 5, "cross-CPU unmaps: unmaps %llu live %llu "
	      "peak %llu (want 6, 0, 5)", U(c.unmaps), U(c.live), U(c.peak_live));
	dma_close(d);

	REQUIRE(dma_open("identity", &p, &d) == 0, "open: %s", dma_last_error());
	dma_set_this_cpu(0);
	for (unsigned i = 0; i < 4; i++)
		dma_map(d, arena + 64 * i, 64, DMA_TO_DEVICE, &io[i]);
	for (unsigned i = 0; i < 4; i++)
		dma_unmap(d, io[i], 64, DMA_TO_DEVICE);
	dma_set_this_cpu(1);
	for (unsigned i = 0; i < 3; i++)
		dma_map(d, arena + 64 * i, 64, DMA_TO_DEVICE, &io[i]);
	c = t_ctr(d);
	CHECK(c.maps == 7 && c.unmaps == 4 && c.live == 3 && c.peak_live == 7 && c.peak_live >= 4,
	      "two CPUs peaking apart: maps %llu unmaps %llu live %llu peak %llu (want 7, 4, 3; peak the "
	      "bound 4 + 3 = 7 >= the true 4)", U(c.maps), U(c.unmaps), U(c.live), U(c.peak_live));
	for (unsigned i = 0; i < 3; i++)
		dma_unmap(d, io[i], 64, DMA_TO_DEVICE);
	/* the shared identity path still refuses bad arguments, counted as
	 * errors and not as mappings, and returns the CPU address */
	uint64_t a = 0;
	CHECK(dma_map(d, arena, 0, DMA_TO_DEVICE, &a) == -EINVAL, "shared map of 0 bytes accepted");
	CHECK(dma_map(d, NULL, 64, DMA_TO_DEVICE, &a) == -EINVAL, "shared map of NULL accepted");
	CHECK(dma_map(d, arena, 64, (enum dma_dir)7, &a) == -EINVAL, "shared map, dir 7 accepted");
	CHECK(dma_unmap(d, (uintptr_t)arena, 0, DMA_TO_DEVICE) == -EINVAL, "shared unmap of 0 bytes accepted");
	CHECK(dma_map(d, arena + 64, 64, DMA_FROM_DEVICE, &a) == 0 && a == (uintptr_t)(arena + 64),
	      "shared identity map: iova 0x%llx, want the CPU address %p", U(a), (void *)(arena + 64));
	CHECK(dma_unmap(d, a, 64, DMA_FROM_DEVICE) == 0, "shared unmap: %s", dma_last_error());
	c = t_ctr(d);
	CHECK(c.map_errors == 3 && c.maps == 8 && c.unmaps == 8 && c.live == 0,
	      "bad arguments on a shared device: map_errors %llu maps %llu unmaps %llu live %llu "
	      "(want 3, 8, 8, 0)", U(c.map_errors), U(c.maps), U(c.unmaps), U(c.live));
	dma_close(d);
	/* injected failures on a shared device: every call goes through the
	 * full path, which counts it */
	struct dma_params pf = TP(.cpus = 3, .fail_map_at = 2);
	REQUIRE(dma_open("identity", &pf, &d) == 0, "open: %s", dma_last_error());
	CHECK(dma_map(d, arena, 64, DMA_TO_DEVICE, &io[0]) == 0, "shared, fail_map_at 2: call 1 failed");
	CHECK(dma_map(d, arena + 64, 64, DMA_TO_DEVICE, &io[1]) == -ENOMEM,
	      "shared, fail_map_at 2: call 2 not refused");
	c = t_ctr(d);
	CHECK(c.maps == 1 && c.map_errors == 1, "shared, fail_map_at 2: maps %llu map_errors %llu "
	      "(want 1, 1)", U(c.maps), U(c.map_errors));
	dma_unmap(d, io[0], 64, DMA_TO_DEVICE);
	dma_close(d);
	dma_set_this_cpu(0);
	printf("shards: sums exact across CPUs and cross-CPU unmaps; peak_live exact for one CPU, the "
	       "sum of the CPUs' peaks otherwise\n");
}

int main(void)
{
	uint8_t *arena = t_arena();
	need_unmap_shared(arena);
	areas(arena);
	iova_caches(arena);
	shards(arena);
	t_arena_free(arena);
	return t_done("dma_shared");
}
