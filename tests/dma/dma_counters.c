/* SPDX-License-Identifier: MIT */
/*
 * dma_counters: exact counter values for a scripted sequence per backend:
 * N buffers mapped (all live at once), optionally synced both ways, then
 * unmapped. Checks bytes_copied (bounce: len per copy; as 6.1's swiotlb,
 * map copies in whatever the direction and unmap of a device-writable
 * mapping copies the whole mapping out), lines_flushed
 * (noncoherent: 64-byte lines per buffer, aligned and misaligned), IOTLB
 * invalidations and flushes (iommu strict and lazy), bounced, maps, unmaps,
 * syncs, live, peak_live, map_errors, mem_bytes, and which counters apply.
 * A device that writes only part of a bounced FROM_DEVICE buffer leaves the
 * rest of the original as it was (swiotlb_tbl_map_single copied it in).
 */
#include <stddef.h>

#include "dma_pvt.h" /* dma_noncoherent_insns */
#include "dma_tcommon.h"

struct row {
	const char *label, *backend;
	struct dma_params p;
	size_t off, len;
	enum dma_dir dir;
	unsigned n;
	bool sync; /* one sync_for_cpu + one sync_for_device per buffer */
	uint64_t bytes, lines, inval, flushes, bounced;
};

#define TO DMA_TO_DEVICE
#define FROM DMA_FROM_DEVICE
#define BIDI DMA_BIDIRECTIONAL

/* 1500 B at a 64-aligned offset touches 24 lines; at offset 60, 25. A
 * 1500 B buffer at page offset 3000 spans 2 IOVA pages. */
static const struct row rows[] = {
	{ "bounce TO", "bounce", TP(), 0, 1500, TO, 100, false, 150000, 0, 0, 0, 100 },
	{ "bounce FROM", "bounce", TP(), 0, 1500, FROM, 100, false, 300000, 0, 0, 0, 100 },
	{ "bounce BIDI", "bounce", TP(), 0, 1500, BIDI, 100, false, 300000, 0, 0, 0, 100 },
	{ "bounce BIDI+sync", "bounce", TP(), 0, 1500, BIDI, 100, true, 600000, 0, 0, 0, 100 },
	{ "bounce TO+sync", "bounce", TP(), 0, 1500, TO, 100, true, 300000, 0, 0, 0, 100 },
	{ "bounce 5000 B FROM", "bounce", TP(), 100, 5000, FROM, 50, false, 500000, 0, 0, 0, 50 },
	{ "identity TO", "identity", TP(), 0, 1500, TO, 100, false, 0, 0, 0, 0, 0 },
	{ "identity+force FROM", "identity", TP(.force_bounce = true), 0, 1500, FROM, 100, false, 300000, 0, 0, 0, 100 },
	{ "noncoherent TO aligned", "noncoherent", TP(), 0, 1500, TO, 100, false, 0, 2400, 0, 0, 0 },
	{ "noncoherent TO off 60", "noncoherent", TP(), 60, 1500, TO, 100, false, 0, 2500, 0, 0, 0 },
	{ "noncoherent FROM aligned", "noncoherent", TP(), 0, 1500, FROM, 100, false, 0, 4800, 0, 0, 0 },
	{ "noncoherent FROM off 60", "noncoherent", TP(), 60, 1500, FROM, 100, false, 0, 5000, 0, 0, 0 },
	{ "noncoherent BIDI+sync", "noncoherent", TP(), 0, 1500, BIDI, 100, true, 0, 9600, 0, 0, 0 },
	{ "noncoherent TO+sync", "noncoherent", TP(), 0, 1500, TO, 100, true, 0, 4800, 0, 0, 0 },
	{ "iommu strict 1 page", "iommu", TP(), 0, 1500, TO, 100, false, 0, 0, 100, 100, 0 },
	{ "iommu strict 2 pages", "iommu", TP(), 3000, 1500, FROM, 100, false, 0, 0, 200, 100, 0 },
	{ "iommu lazy batch 256", "iommu", TP(.lazy = true), 0, 1500, TO, 100, false, 0, 0, 0, 0, 0 },
	{ "iommu lazy batch 30", "iommu", TP(.lazy = true, .flush_batch = 30), 0, 1500, TO, 100, false, 0, 0, 0, 3, 0 },
	{ "debug(bounce) BIDI", "debug", TP(.inner = "bounce"), 0, 1500, BIDI, 100, false, 300000, 0, 0, 0, 100 },
	{ "debug(noncoherent) FROM", "debug", TP(.inner = "noncoherent"), 0, 1500, FROM, 100, false, 0, 4800, 0, 0, 0 },
	{ "debug(iommu) TO", "debug", TP(.inner = "iommu"), 0, 1500, TO, 100, false, 0, 0, 100, 100, 0 },
};

#define U(x) ((unsigned long long)(x))

static uint64_t stopped_clock(void *ctx)
{
	(void)ctx;
	return 1;
}

static void run_row(const struct row *w, uint8_t *arena)
{
	struct dma *d;
	static uint64_t iova[128];
	int r = dma_open(w->backend, &w->p, &d);
	REQUIRE(r == 0, "%s: open: %s", w->label, dma_last_error());
	if (w->p.lazy) /* a stopped clock: only a full queue flushes (exact counts) */
		REQUIRE(dma_set_clock(d, stopped_clock, NULL) == 0, "%s: set_clock", w->label);
	unsigned f0 = (unsigned)t_failures;
	for (unsigned i = 0; i < w->n; i++) {
		r = dma_map(d, arena + i * 8192 + w->off, w->len, w->dir, &iova[i]);
		CHECK(r == 0, "%s: map %u: %s", w->label, i, dma_last_error());
		if (w->sync) {
			dma_sync_for_cpu(d, iova[i], w->len, w->dir);
			dma_sync_for_device(d, iova[i], w->len, w->dir);
		}
	}
	struct dma_counters c = t_ctr(d);
	CHECK(c.live == w->n && c.peak_live == w->n, "%s: live %llu peak %llu "
	      "(want %u)", w->label, U(c.live), U(c.peak_live), w->n);
	for (unsigned i = 0; i < w->n; i++) {
		r = dma_unmap(d, iova[i], w->len, w->dir);
		CHECK(r == 0, "%s: unmap %u: %s", w->label, i, dma_last_error());
	}
	uint64_t dummy;
	r = dma_map(d, arena, 0, w->dir, &dummy);
	CHECK(r == -EINVAL, "%s: a zero-length map is -EINVAL (%d)", w->label, r);

	c = t_ctr(d);
	uint64_t syncs = w->sync ? w->n : 0;
	CHECK(c.maps == w->n && c.unmaps == w->n && c.map_errors == 1,
	      "%s: maps %llu unmaps %llu errors %llu", w->label, U(c.maps),
	      U(c.unmaps), U(c.map_errors));
	CHECK(c.live == 0 && c.peak_live == w->n, "%s: after unmap live %llu "
	      "peak %llu", w->label, U(c.live), U(c.peak_live));
	CHECK(c.syncs_for_cpu == syncs && c.syncs_for_device == syncs,
	      "%s: syncs %llu/%llu want %llu", w->label, U(c.syncs_for_cpu),
	      U(c.syncs_for_device), U(syncs));
	CHECK(c.bytes_copied == w->bytes, "%s: bytes_copied %llu want %llu",
	      w->label, U(c.bytes_copied), U(w->bytes));
	CHECK(c.lines_flushed == w->lines, "%s: lines_flushed %llu want %llu",
	      w->label, U(c.lines_flushed), U(w->lines));
	CHECK(c.iotlb_invalidations == w->inval, "%s: iotlb_invalidations "
	      "%llu want %llu", w->label, U(c.iotlb_invalidations), U(w->inval));
	CHECK(c.iotlb_flushes == w->flushes, "%s: iotlb_flushes %llu want %llu",
	      w->label, U(c.iotlb_flushes), U(w->flushes));
	CHECK(c.bounced == w->bounced, "%s: bounced %llu want %llu", w->label,
	      U(c.bounced), U(w->bounced));
	CHECK(c.faults == 0 && c.stale_hits == 0 && c.debug_reports == 0,
	      "%s: faults %llu stale %llu reports %llu", w->label, U(c.faults),
	      U(c.stale_hits), U(c.debug_reports));
	/* Memory: pools and tables where the backend has them. */
	uint64_t want_mem = 0;
	/* noncoherent: its pool for dma_kmalloc_needs_bounce() */
	if (strcmp(w->backend, "bounce") == 0 || w->p.force_bounce ||
	    strcmp(w->backend, "noncoherent") == 0 ||
	    (w->p.inner && (strcmp(w->p.inner, "bounce") == 0 ||
			    strcmp(w->p.inner, "noncoherent") == 0)))
		want_mem = (64u << 20);
	else if (strcmp(w->backend, "iommu") == 0)
		want_mem = 128 << 10; /* the IOVA bitmap alone */
	CHECK(c.mem_bytes > want_mem && c.mem_bytes < want_mem + (16 << 20),
	      "%s: mem_bytes %llu, want a little over %llu", w->label,
	      U(c.mem_bytes), U(want_mem));
	dma_close(d);
	printf("%-26s %3u x %4zu B %-13s: copied %7llu lines %5llu inval %3llu "
	       "flushes %3llu bounced %3llu mem %9llu: %s\n", w->label, w->n,
	       w->len, w->dir == TO ? "TO_DEVICE" : w->dir == FROM ?
	       "FROM_DEVICE" : "BIDIRECTIONAL", U(c.bytes_copied),
	       U(c.lines_flushed), U(c.iotlb_invalidations),
	       U(c.iotlb_flushes), U(c.bounced), U(c.mem_bytes),
	       t_failures == f0 ? "ok" : "FAILED");
}

/* swiotlb_tbl_map_single copies in for FROM_DEVICE too: the bytes the
 * device did not write come back unchanged at unmap. */
static void partial_write(const char *backend, struct dma_params p, uint8_t *arena)
{
	struct dma *d;
	uint64_t iova;
	REQUIRE(dma_open(backend, &p, &d) == 0, "%s: open: %s", backend, dma_last_error());
	t_fill(arena, 1500, 7);
	REQUIRE(dma_map(d, arena, 1500, FROM, &iova) == 0, "%s: map: %s", backend, dma_last_error());
	uint8_t *dev = dma_translate(d, iova, 100, FROM);
	REQUIRE(dev != NULL && dev != arena, "%s: the device sees a bounce slot", backend);
	memset(dev, 0xa5, 100);
	CHECK(dma_unmap(d, iova, 1500, FROM) == 0, "%s: unmap", backend);
	bool head = true;
	for (unsigned i = 0; i < 100; i++)
		head &= arena[i] == 0xa5;
	uint8_t ref[1500];
	t_fill(ref, 1500, 7);
	CHECK(head && memcmp(arena + 100, ref + 100, 1400) == 0,
	      "%s: FROM_DEVICE, device wrote 100 of 1500 bytes: written bytes back, the other 1400 unchanged", backend);
	CHECK(t_ctr(d).bytes_copied == 3000, "%s: 1500 copied in at map + 1500 out at unmap, got %llu", backend,
	      U(t_ctr(d).bytes_copied));
	dma_close(d);
	printf("%s: partial device write of a bounced FROM_DEVICE buffer keeps the unwritten bytes\n", backend);
}

static void applies(void)
{
	static const struct {
		const char *backend, *inner;
		size_t off;
		bool want;
	} a[] = {
		{ "bounce", NULL, offsetof(struct dma_counters, bytes_copied), true },
		{ "bounce", NULL, offsetof(struct dma_counters, lines_flushed), false },
		{ "noncoherent", NULL, offsetof(struct dma_counters, lines_flushed), true },
		/* noncoherent copies: dma_kmalloc_needs_bounce() */
		{ "noncoherent", NULL, offsetof(struct dma_counters, bytes_copied), true },
		{ "iommu", NULL, offsetof(struct dma_counters, iotlb_flushes), true },
		{ "iommu", NULL, offsetof(struct dma_counters, stale_hits), true },
		{ "identity", NULL, offsetof(struct dma_counters, iotlb_flushes), false },
		{ "identity", NULL, offsetof(struct dma_counters, maps), true },
		{ "identity", NULL, offsetof(struct dma_counters, debug_reports), false },
		{ "debug", "iommu", offsetof(struct dma_counters, iotlb_flushes), true },
		{ "debug", "iommu", offsetof(struct dma_counters, debug_reports), true },
		{ "debug", "iommu", offsetof(struct dma_counters, bytes_copied), false },
		{ "identity", NULL, 3, false },
	};
	for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
		struct dma *d;
		struct dma_params p = TP(.inner = a[i].inner);
		int r = dma_open(a[i].backend, &p, &d);
		REQUIRE(r == 0, "open %s: %s", a[i].backend, dma_last_error());
		CHECK(dma_counter_applies(d, a[i].off) == a[i].want,
		      "%s(%s): counter at offset %zu applies: want %d",
		      a[i].backend, a[i].inner ? a[i].inner : "", a[i].off,
		      a[i].want);
		dma_close(d);
	}
	printf("dma_counter_applies: %zu backend/counter pairs checked\n",
	       sizeof(a) / sizeof(a[0]));
}

int main(void)
{
	uint8_t *arena = t_arena();
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i], arena);
	partial_write("bounce", (struct dma_params)TP(), arena);
	partial_write("identity", (struct dma_params)TP(.force_bounce = true), arena);
	applies();
	struct dma *d;
	struct dma_params p = TP();
	if (dma_open("noncoherent", &p, &d) == 0) {
		printf("noncoherent on this CPU: write back with %s, invalidate "
		       "with %s\n", dma_noncoherent_insns(d, true),
		       dma_noncoherent_insns(d, false));
		dma_close(d);
	}
	t_arena_free(arena);
	return t_done("dma_counters");
}
