/* SPDX-License-Identifier: MIT */
/*
 * dma_iova_api: the IOVA two-step API (dma_iova_try_alloc / link / sync /
 * unlink / destroy) on the software IOMMU.
 *   - strict and lazy: a linked buffer is reachable by the device with its
 *     permissions and its bytes; before linking and after unlinking it is
 *     not (an unlink invalidates at once on a lazy domain too: no stale
 *     IOTLB hit), one IOTLB flush per unlink, counters exact;
 *   - destroy: strict frees the range at once (one flush), lazy queues it
 *     (no flush until the flush queue fills);
 *   - untrusted: an unaligned buffer bounces (bytes copied in for the
 *     device, back at unlink for a device write), an aligned one does not;
 *     the device never sees the neighbours in the buffer's page;
 *   - dma-direct (identity, iommu passthrough), vfio-less debug: -EOPNOTSUPP
 *     naming the reason; a range the IOVA space cannot hold: -ENOMEM naming
 *     the space, its size and use;
 *   - bad offsets are refused.
 */
#include "dma_tcommon.h"

static struct dma_counters ctr(struct dma *d)
{
	struct dma_counters c;
	dma_get_counters(d, &c);
	return c;
}

static void modes(bool lazy)
{
	const char *m = lazy ? "lazy" : "strict";
	struct dma *d;
	struct dma_params p = TP(.lazy = lazy, .flush_batch = 4);
	REQUIRE(dma_open("iommu", &p, &d) == 0, "open iommu %s: %s", m, dma_last_error());
	uint8_t *buf = aligned_alloc(4096, 3 * 4096);
	REQUIRE(buf, "buffer");
	memset(buf, 0x5a, 3 * 4096);
	struct dma_iova_state st;
	REQUIRE(dma_iova_try_alloc(d, &st, 10 * 4096) == 0 && dma_use_iova(&st), "%s: try_alloc: %s", m,
		dma_last_error());
	CHECK(st.size == 10 * 4096 && !(st.addr & 4095), "%s: range 0x%llx + %llu", m, (unsigned long long)st.addr,
	      (unsigned long long)st.size);
	CHECK(dma_translate(d, st.addr, 1, DMA_TO_DEVICE) == NULL, "%s: reachable before any link", m);
	/* a 100-byte buffer 200 bytes into a page, for the device to read,
	 * linked at granule 2; a 5000-byte one for it to write at granule 3 */
	uint64_t a1 = 0, a2 = 0;
	int g1 = dma_iova_link(d, &st, buf + 200, 2 * 4096, 100, DMA_TO_DEVICE, &a1);
	int g2 = dma_iova_link(d, &st, buf + 4096, 3 * 4096, 5000, DMA_FROM_DEVICE, &a2);
	CHECK(g1 == 1 && g2 == 2, "%s: granules linked %d, %d; want 1, 2", m, g1, g2);
	CHECK(a1 == st.addr + 2 * 4096 + 200 && a2 == st.addr + 3 * 4096, "%s: device addresses 0x%llx 0x%llx", m,
	      (unsigned long long)a1, (unsigned long long)a2);
	CHECK(dma_iova_sync(d, &st, 2 * 4096, 3 * 4096) == 0, "%s: sync", m);
	uint8_t *r = dma_translate(d, a1, 100, DMA_TO_DEVICE);
	CHECK(r == buf + 200, "%s: device reads the buffer itself (%p, want %p)", m, (void *)r, (void *)(buf + 200));
	CHECK(dma_translate(d, a1, 100, DMA_FROM_DEVICE) == NULL, "%s: device may write a TO_DEVICE link", m);
	uint8_t *w = dma_translate(d, a2, 5000, DMA_FROM_DEVICE);
	CHECK(w == buf + 4096, "%s: device writes the second buffer", m);
	struct dma_counters c0 = ctr(d);
	dma_iova_unlink(d, &st, 2 * 4096, 4096, DMA_TO_DEVICE);
	struct dma_counters c1 = ctr(d);
	CHECK(c1.iotlb_flushes == c0.iotlb_flushes + 1 && c1.iotlb_invalidations == c0.iotlb_invalidations + 1,
	      "%s: unlink of one granule: %llu flushes, %llu invalidations", m,
	      (unsigned long long)(c1.iotlb_flushes - c0.iotlb_flushes),
	      (unsigned long long)(c1.iotlb_invalidations - c0.iotlb_invalidations));
	CHECK(dma_translate(d, a1, 100, DMA_TO_DEVICE) == NULL && ctr(d).stale_hits == 0,
	      "%s: unlinked buffer still reachable (stale hits %llu)", m, (unsigned long long)ctr(d).stale_hits);
	CHECK(dma_translate(d, a2, 5000, DMA_FROM_DEVICE) == buf + 4096, "%s: the other link went too", m);
	dma_iova_unlink(d, &st, 3 * 4096, 2 * 4096, DMA_FROM_DEVICE);
	struct dma_counters c2 = ctr(d);
	CHECK(c2.iova_links == 2 && c2.iova_unlinks == 2 && c2.iova_syncs == 1 && c2.iova_ranges == 1 &&
	      c2.maps == 0 && c2.live == 0, "%s: links %llu unlinks %llu syncs %llu ranges %llu maps %llu", m,
	      (unsigned long long)c2.iova_links, (unsigned long long)c2.iova_unlinks,
	      (unsigned long long)c2.iova_syncs, (unsigned long long)c2.iova_ranges, (unsigned long long)c2.maps);
	CHECK(dma_held_mappings(d) == 1, "%s: the live range holds its IOVA (%llu held)", m,
	      (unsigned long long)dma_held_mappings(d));
	/* refused: an unaligned offset, past the end, twice on one granule */
	uint64_t x;
	CHECK(dma_iova_link(d, &st, buf, 100, 10, DMA_TO_DEVICE, &x) == -EINVAL, "%s: unaligned offset", m);
	CHECK(dma_iova_link(d, &st, buf, 9 * 4096, 8192, DMA_TO_DEVICE, &x) == -EINVAL &&
	      strstr(dma_last_error(), "runs past the range"), "%s: past the end: %s", m, dma_last_error());
	CHECK(dma_iova_link(d, &st, buf, 0, 10, DMA_TO_DEVICE, &x) == 1 &&
	      dma_iova_link(d, &st, buf + 64, 0, 10, DMA_TO_DEVICE, &x) == -EINVAL &&
	      strstr(dma_last_error(), "linked already"), "%s: granule linked twice: %s", m, dma_last_error());
	/* destroy with one granule linked: strict flushes now, lazy queues */
	struct dma_counters c3 = ctr(d);
	dma_iova_destroy(d, &st, 4096, DMA_TO_DEVICE);
	struct dma_counters c4 = ctr(d);
	CHECK(!dma_use_iova(&st) && c4.iova_ranges == 0, "%s: destroyed", m);
	CHECK(c4.iotlb_flushes - c3.iotlb_flushes == (lazy ? 0u : 1u), "%s: destroy made %llu flushes", m,
	      (unsigned long long)(c4.iotlb_flushes - c3.iotlb_flushes));
	CHECK(dma_held_mappings(d) == 0, "%s: %llu held after destroy", m, (unsigned long long)dma_held_mappings(d));
	dma_close(d);
	free(buf);
	printf("ok: iommu %s: link/sync/unlink/destroy, one flush per unlink, destroy %s\n", m,
	       lazy ? "queued" : "flushed");
}

static void untrusted(void)
{
	struct dma *d;
	struct dma_params p = TP(.untrusted = true, .bounce_pool_bytes = 1 << 20);
	REQUIRE(dma_open("iommu", &p, &d) == 0, "open untrusted: %s", dma_last_error());
	uint8_t *page = aligned_alloc(4096, 2 * 4096);
	REQUIRE(page, "buffer");
	for (unsigned i = 0; i < 2 * 4096; i++)
		page[i] = (uint8_t)i;
	struct dma_iova_state st;
	REQUIRE(dma_iova_try_alloc(d, &st, 4 * 4096) == 0, "untrusted: try_alloc: %s", dma_last_error());
	uint64_t rd, wr, al;
	CHECK(dma_iova_link(d, &st, page + 12, 0, 50, DMA_TO_DEVICE, &rd) == 1, "untrusted: link read");
	CHECK(dma_iova_link(d, &st, page + 100, 4096, 60, DMA_FROM_DEVICE, &wr) == 1, "untrusted: link write");
	CHECK(dma_iova_link(d, &st, page + 4096, 2 * 4096, 4096, DMA_TO_DEVICE, &al) == 1, "untrusted: aligned");
	struct dma_counters c = ctr(d);
	CHECK(c.bounced == 2 && c.bytes_copied == 110, "untrusted: %llu bounced, %llu bytes copied; want 2, 110 "
	      "(a bounce copies the whole mapping in, whatever the direction: swiotlb_tbl_map_single)",
	      (unsigned long long)c.bounced, (unsigned long long)c.bytes_copied);
	uint8_t *r = dma_translate(d, rd, 50, DMA_TO_DEVICE);
	CHECK(r && r != page + 12 && !memcmp(r, page + 12, 50), "untrusted: the device reads a bounced copy");
	uint8_t *granule = dma_translate(d, rd - (rd & 4095), 4096, DMA_TO_DEVICE);
	unsigned leak = 0;
	for (unsigned i = 0; granule && i < 4096; i++)
		leak += (i < (rd & 4095) || i >= (rd & 4095) + 50) && granule[i];
	CHECK(granule && leak == 0, "untrusted: %u bytes of other data visible in the bounced granule", leak);
	CHECK(dma_translate(d, al, 4096, DMA_TO_DEVICE) == page + 4096, "untrusted: aligned buffer not bounced");
	uint8_t *w = dma_translate(d, wr, 60, DMA_FROM_DEVICE);
	REQUIRE(w && w != page + 100, "untrusted: write goes to a bounce slot");
	CHECK(!memcmp(w, page + 100, 60), "untrusted: a device-writable slot holds the buffer's old bytes (a "
	      "partial write leaves them as they were)");
	memset(w, 0xee, 60);
	CHECK(page[100] == 100, "untrusted: the device wrote the buffer before unlink");
	CHECK(dma_need_sync(d, wr), "untrusted: a bounced link needs syncs");
	dma_iova_unlink(d, &st, 0, 4096, DMA_TO_DEVICE);
	dma_iova_unlink(d, &st, 4096, 4096, DMA_FROM_DEVICE);
	dma_iova_unlink(d, &st, 2 * 4096, 4096, DMA_TO_DEVICE);
	unsigned got = 0;
	for (unsigned i = 0; i < 60; i++)
		got += page[100 + i] == 0xee;
	CHECK(got == 60 && page[99] == 99 && page[160] == 160, "untrusted: %u of 60 written bytes copied back, "
	      "neighbours %u %u", got, page[99], page[160]);
	c = ctr(d);
	CHECK(c.bytes_copied == 170 && c.bounce_live == 0, "untrusted: %llu bytes copied, %llu slots live",
	      (unsigned long long)c.bytes_copied, (unsigned long long)c.bounce_live);
	dma_iova_destroy(d, &st, 0, DMA_TO_DEVICE);
	dma_close(d);
	free(page);
	printf("ok: untrusted: unaligned links bounce (zeroed around), written bytes come back at unlink\n");
}

static void no_api(void)
{
	static const struct {
		const char *backend, *inner, *why;
		bool passthrough;
	} cases[] = {
		{ "identity", NULL, "dma-direct", false },
		{ "iommu", NULL, "passthrough", true },
		{ "bounce", NULL, "dma-direct", false },
		{ "noncoherent", NULL, "dma-direct", false },
		{ "debug", "iommu", "debug", false },
	};
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct dma *d;
		struct dma_params p = TP(.passthrough = cases[k].passthrough, .inner = cases[k].inner);
		REQUIRE(dma_open(cases[k].backend, &p, &d) == 0, "open %s: %s", cases[k].backend, dma_last_error());
		struct dma_iova_state st = { 1, 1 };
		int r = dma_iova_try_alloc(d, &st, 4096);
		CHECK(r == -EOPNOTSUPP && !dma_use_iova(&st) && strstr(dma_last_error(), cases[k].why),
		      "%s: try_alloc %d: %s", cases[k].backend, r, dma_last_error());
		dma_close(d);
	}
	/* a range larger than the IOVA space */
	struct dma *d;
	struct dma_params p = TP(.iova_pages = 64);
	REQUIRE(dma_open("iommu", &p, &d) == 0, "open small iommu");
	struct dma_iova_state st;
	int r = dma_iova_try_alloc(d, &st, 128 * 4096);
	CHECK(r == -ENOMEM && !dma_use_iova(&st) && strstr(dma_last_error(), "IOVA space exhausted") &&
	      strstr(dma_last_error(), "space 64 pages"), "small space: try_alloc %d: %s", r, dma_last_error());
	CHECK(dma_iova_try_alloc(d, &st, 64 * 4096) == 0, "the whole space as one range: %s", dma_last_error());
	dma_iova_range_free(d, &st);
	CHECK(ctr(d).iova_ranges == 0 && dma_held_mappings(d) == 0, "range freed");
	dma_close(d);
	printf("ok: no IOVA API on dma-direct, passthrough, debug; an oversized range is -ENOMEM naming the space\n");
}

int main(void)
{
	modes(false);
	modes(true);
	untrusted();
	no_api();
	return t_done("dma_iova_api");
}
