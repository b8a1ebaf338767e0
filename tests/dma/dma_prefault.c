/* SPDX-License-Identifier: MIT */
/*
 * dma_prefault: a packet loop takes no page fault. Everything a mapping
 * touches (the bounce pool's slots, its bitmap and slot metadata, an
 * IOMMU's page tables and IOVA state) is faulted in by dma_open, so a
 * timed window never pays a first touch.
 *
 * Per backend: open with the pool a benchmark gets (bounce: the 64 MiB
 * default), then a queue-like loop keeps QDEPTH mappings in flight over an
 * arena of buffers (the arena is touched before the loop: its faults are
 * the caller's), maps and unmaps until next-fit went round the whole pool
 * twice, the device side writing every FROM_DEVICE mapping through
 * dma_translate and the payload checked after unmap. The thread's minor
 * faults (getrusage RUSAGE_THREAD) across the loop stay at most MAX_FAULTS;
 * the loop must have reached the pool's last slot (else it did not cover
 * the pool). Fails when the pool is neither populated nor touched at open.
 */
#include <sys/resource.h>

#include "dma_tcommon.h"

#define QDEPTH 256
#define BUF 64
/* The iommu model allocates a page-table node the first time a mapping
 * reaches a new IOVA region, as io-pgtable does (up to 3 seen here). A
 * sanitizer build also faults in the shadow of those nodes (5 seen under
 * ASan in CI); either bound is far below the 16384 of an untouched pool. */
#if defined(__SANITIZE_ADDRESS__)
#define MAX_FAULTS 32
#elif defined(__SANITIZE_THREAD__)
#define NO_FAULT_BOUND 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MAX_FAULTS 32
#elif __has_feature(thread_sanitizer)
#define NO_FAULT_BOUND 1
#endif
#endif
#ifndef MAX_FAULTS
#define MAX_FAULTS 4
#endif
/* TSan keeps shadow memory for every byte the loop copies into the pool
 * and faults it in on first access (16607 in CI for the bounce pool): under
 * TSan the loop and its payload checks run, the fault count is printed but
 * not bounded. */
#ifndef NO_FAULT_BOUND
#define NO_FAULT_BOUND 0
#endif
#define DEFAULT_POOL (64ul << 20)

static const struct tcfg cfgs[] = {
	{ "bounce", "bounce", TP() },
	{ "identity+force_bounce", "identity", TP(.force_bounce = true) },
	{ "identity", "identity", TP() },
	{ "iommu", "iommu", TP() },
	{ "iommu+lazy", "iommu", TP(.lazy = true) },
};

static long thread_minflt(void)
{
	struct rusage ru;
	REQUIRE(getrusage(RUSAGE_THREAD, &ru) == 0, "getrusage: %s", strerror(errno));
	return ru.ru_minflt;
}

struct inflight {
	uint8_t *buf;
	uint64_t iova;
	enum dma_dir dir;
	unsigned seed;
};

/* Unmap one in-flight mapping and check what the device wrote arrived. */
static bool retire(struct dma *d, struct inflight *f)
{
	if (dma_unmap(d, f->iova, BUF, f->dir) < 0)
		return false;
	return f->dir != DMA_FROM_DEVICE || t_check(f->buf, BUF, f->seed);
}

static void run(const struct tcfg *c, uint8_t *arena)
{
	struct dma *d;
	int r = t_open(c, arena, &d);
	REQUIRE(r == 0, "%s: open: %s", c->label, dma_last_error());
	bool bounced = strcmp(c->backend, "bounce") == 0 || c->p.force_bounce;
	/* next-fit round the pool twice; without a pool, as many packets */
	unsigned long iters = 2 * (DEFAULT_POOL / 2048);
	struct inflight q[QDEPTH] = {{0}};
	const size_t nbuf = T_ARENA / BUF;
	uint64_t max_iova = 0, min_iova = UINT64_MAX;
	unsigned long bad = 0, errs = 0;

	memset(arena, 0, T_ARENA); /* the caller's memory: faulted before */
	long f0 = thread_minflt();
	for (unsigned long i = 0; i < iters; i++) {
		struct inflight *f = &q[i % QDEPTH];
		if (f->buf && !retire(d, f))
			bad++;
		f->buf = arena + (i % nbuf) * BUF;
		f->dir = i & 1 ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
		f->seed = (unsigned)i;
		if (dma_map(d, f->buf, BUF, f->dir, &f->iova) < 0) {
			errs++;
			f->buf = NULL;
			continue;
		}
		max_iova = f->iova > max_iova ? f->iova : max_iova;
		min_iova = f->iova < min_iova ? f->iova : min_iova;
		if (f->dir == DMA_FROM_DEVICE) {
			uint8_t *dev = dma_translate(d, f->iova, BUF, DMA_FROM_DEVICE);
			if (dev)
				t_fill(dev, BUF, f->seed);
			else
				bad++;
		}
	}
	for (unsigned k = 0; k < QDEPTH; k++)
		if (q[k].buf && !retire(d, &q[k]))
			bad++;
	long faults = thread_minflt() - f0;

	CHECK(errs == 0 && bad == 0, "%s: %lu map errors, %lu bad unmaps or payloads (%s)", c->label, errs,
	      bad, dma_last_error());
	if (bounced)
		CHECK(max_iova - min_iova >= DEFAULT_POOL - 2048,
		      "%s: the loop reached IOVAs 0x%llx..0x%llx, not the whole %lu-byte pool", c->label,
		      (unsigned long long)min_iova, (unsigned long long)max_iova, DEFAULT_POOL);
	CHECK(NO_FAULT_BOUND || faults <= MAX_FAULTS, "%s: %ld minor page faults in a loop of %lu mappings (at most %d: "
	      "dma_open must fault in what mapping touches)", c->label, faults, iters, MAX_FAULTS);
	printf("%-22s %lu mappings, %ld minor faults in the loop%s\n", c->label, iters, faults,
	       bounced ? ", the whole pool reached" : "");
	dma_close(d);
}

int main(void)
{
	uint8_t *arena = t_arena();
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
		run(&cfgs[i], arena);
	t_arena_free(arena);
	return t_done("dma_prefault");
}
