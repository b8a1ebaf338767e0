/* SPDX-License-Identifier: MIT */
/*
 * dma_threads: one driver thread maps and unmaps, one device thread
 * translates and reads or writes the payload, concurrently, as a software
 * device on another core would. Jobs and completions travel through two
 * single-producer single-consumer rings. Checks: every translation
 * succeeds, the device reads what the driver wrote (TO_DEVICE) and the
 * driver reads what the device wrote after unmap (FROM_DEVICE), and the
 * counters add up (no faults, no stale hits, live 0, maps = unmaps).
 * The point is to run it under ThreadSanitizer.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "dma_tcommon.h"

#define NJOBS 20000u
#define QN 64u       /* ring slots */
#define INFLIGHT 32u /* buffers in flight */
#define LEN 1000u

struct job {
	uint64_t iova;
	uint32_t buf, seed;
	enum dma_dir dir;
};

#include "dma_spsc.h"

struct ctx {
	struct dma *d;
	struct spsc jobs, done;
	unsigned dev_errors, dev_faults;
};

static void *device(void *arg)
{
	struct ctx *c = arg;
	struct job j;
	for (unsigned n = 0; n < NJOBS;) {
		if (!q_pop(&c->jobs, &j))
			continue;
		uint8_t *p = dma_translate(c->d, j.iova, LEN, j.dir);
		if (!p)
			c->dev_faults++;
		else if (j.dir == DMA_TO_DEVICE && !t_check(p, LEN, j.seed))
			c->dev_errors++;
		else if (j.dir == DMA_FROM_DEVICE)
			t_fill(p, LEN, j.seed);
		while (!q_push(&c->done, &j))
			;
		n++;
	}
	return NULL;
}

static void run(const struct tcfg *cfg, uint8_t *arena)
{
	static struct ctx c;
	memset(&c, 0, sizeof(c));
	int r = dma_open(cfg->backend, &cfg->p, &c.d);
	REQUIRE(r == 0, "%s: open: %s", cfg->label, dma_last_error());
	unsigned f0 = (unsigned)t_failures;
	uint32_t freebuf[INFLIGHT], nfree = INFLIGHT;
	for (uint32_t i = 0; i < INFLIGHT; i++)
		freebuf[i] = i;
	unsigned drv_errors = 0, unmap_errors = 0;
	pthread_t t;
	pthread_create(&t, NULL, device, &c);
	struct job j;
	for (unsigned sent = 0, got = 0; got < NJOBS;) {
		if (sent < NJOBS && nfree) {
			j.buf = freebuf[--nfree];
			j.seed = sent;
			j.dir = sent % 3 ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
			uint8_t *b = arena + j.buf * 4096 + (sent % 7) * 8;
			if (j.dir == DMA_TO_DEVICE)
				t_fill(b, LEN, j.seed);
			r = dma_map(c.d, b, LEN, j.dir, &j.iova);
			REQUIRE(r == 0, "%s: map: %s", cfg->label, dma_last_error());
			while (!q_push(&c.jobs, &j))
				;
			sent++;
		}
		if (!q_pop(&c.done, &j))
			continue;
		unmap_errors += dma_unmap(c.d, j.iova, LEN, j.dir) != 0;
		uint8_t *b = arena + j.buf * 4096 + (j.seed % 7) * 8;
		if (j.dir == DMA_FROM_DEVICE && !t_check(b, LEN, j.seed))
			drv_errors++;
		freebuf[nfree++] = j.buf;
		got++;
	}
	pthread_join(t, NULL);
	struct dma_counters ct = t_ctr(c.d);
	CHECK(c.dev_faults == 0 && c.dev_errors == 0 && drv_errors == 0 &&
	      unmap_errors == 0, "%s: device faults %u, device read errors "
	      "%u, driver read errors %u, unmap errors %u", cfg->label,
	      c.dev_faults, c.dev_errors, drv_errors, unmap_errors);
	CHECK(ct.maps == NJOBS && ct.unmaps == NJOBS && ct.live == 0 &&
	      ct.faults == 0 && ct.stale_hits == 0 && ct.debug_reports == 0 &&
	      ct.peak_live <= INFLIGHT,
	      "%s: maps %llu unmaps %llu live %llu faults %llu stale %llu "
	      "reports %llu peak %llu", cfg->label,
	      (unsigned long long)ct.maps, (unsigned long long)ct.unmaps,
	      (unsigned long long)ct.live, (unsigned long long)ct.faults,
	      (unsigned long long)ct.stale_hits,
	      (unsigned long long)ct.debug_reports,
	      (unsigned long long)ct.peak_live);
	printf("%-22s %u jobs, driver and device threads, peak live %llu, "
	       "IOTLB flushes %llu: %s\n", cfg->label, NJOBS,
	       (unsigned long long)ct.peak_live,
	       (unsigned long long)ct.iotlb_flushes,
	       t_failures == f0 ? "ok" : "FAILED");
	dma_close(c.d);
}

static const struct tcfg cfgs[] = {
	{ "iommu strict", "iommu", TP() },
	{ "iommu lazy (batch 16)", "iommu", TP(.lazy = true, .flush_batch = 16) },
	{ "debug(identity)", "debug", TP() },
	{ "debug(iommu)", "debug", TP(.inner = "iommu") },
	{ "debug(iommu lazy)", "debug", TP(.inner = "iommu", .lazy = true, .flush_batch = 16) },
	{ "bounce", "bounce", TP(.bounce_pool_bytes = 1 << 20) },
	{ "noncoherent", "noncoherent", TP() },
};

int main(void)
{
	uint8_t *arena = t_arena();
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
		run(&cfgs[i], arena);
	t_arena_free(arena);
	return t_done("dma_threads");
}
