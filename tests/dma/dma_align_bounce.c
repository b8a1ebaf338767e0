/* SPDX-License-Identifier: MIT */
/*
 * dma_align_bounce: the alignment bounces upstream Linux makes, and only
 * those (issue 19, point 4), plus iommu passthrough (point 6):
 *   - noncoherent: dma_kmalloc_needs_bounce(): a mapping the device may
 *     write (not TO_DEVICE) shorter than 256 bytes whose kmalloc class is
 *     not a multiple of the 64-byte line bounces; TO_DEVICE, 64, 128, 192
 *     and 200 bytes do not; the pointer's alignment plays no part. The
 *     device writes the slot, unmap copies it back; need_unmap adds
 *     "bounce copy" from the first one on;
 *   - iommu untrusted: a buffer whose start or length is not 4 KiB-aligned
 *     bounces into zeroed whole granules, so the device reads zeros, not
 *     the buffer's neighbours, past the buffer in its page; an aligned one
 *     is mapped in place; need_sync turns true with the first bounce;
 *   - iommu passthrough: IOVA = address, need_unmap none, the props say
 *     direct (both skip rules allow skip there).
 */
#include "dma_tcommon.h"

struct kcase {
	size_t len;
	enum dma_dir dir;
	bool bounce;
};

static void noncoherent(uint8_t *arena)
{
	static const struct kcase k[] = {
		{ 12, DMA_FROM_DEVICE, true }, { 12, DMA_TO_DEVICE, false },
		{ 12, DMA_BIDIRECTIONAL, true }, { 33, DMA_FROM_DEVICE, false },
		{ 64, DMA_FROM_DEVICE, false }, { 70, DMA_FROM_DEVICE, true },
		{ 128, DMA_FROM_DEVICE, false }, { 150, DMA_FROM_DEVICE, false },
		{ 200, DMA_FROM_DEVICE, false }, { 255, DMA_FROM_DEVICE, false },
		{ 1500, DMA_FROM_DEVICE, false },
	};
	/* 33 bytes: class 64, aligned; 150: class 192 = 3 lines, aligned */
	struct dma_params p = TP(.bounce_pool_bytes = 1 << 20);
	struct dma *d;
	REQUIRE(dma_open("noncoherent", &p, &d) == 0, "noncoherent: open: %s", dma_last_error());
	CHECK(dma_need_unmap_reason(d) == DMA_R_NONCOHERENT, "noncoherent: reason at open 0x%x",
	      dma_need_unmap_reason(d));
	unsigned bounced = 0;
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		uint8_t *buf = arena + 4096 * i + 8; /* 8-byte aligned: the pointer does not matter */
		memset(buf, 0x11, k[i].len);
		uint64_t iova;
		REQUIRE(dma_map(d, buf, k[i].len, k[i].dir, &iova) == 0, "noncoherent: map %zu: %s", k[i].len,
			dma_last_error());
		bool b = iova != (uintptr_t)buf;
		CHECK(b == k[i].bounce, "noncoherent: %zu bytes dir %d: bounced %d, want %d", k[i].len,
		      (int)k[i].dir, b, k[i].bounce);
		if (k[i].dir & DMA_FROM_DEVICE) {
			uint8_t *dev = dma_translate(d, iova, k[i].len, DMA_FROM_DEVICE);
			REQUIRE(dev, "noncoherent: translate");
			memset(dev, 0x77, k[i].len);
		}
		REQUIRE(dma_unmap(d, iova, k[i].len, k[i].dir) == 0, "noncoherent: unmap: %s", dma_last_error());
		if (k[i].dir & DMA_FROM_DEVICE)
			CHECK(buf[0] == 0x77 && buf[k[i].len - 1] == 0x77, "noncoherent: %zu bytes: the device's "
			      "write did not reach the buffer after unmap", k[i].len);
		bounced += b;
		unsigned want = DMA_R_NONCOHERENT | (bounced ? DMA_R_BOUNCE : 0);
		CHECK(dma_need_unmap_reason(d) == want, "noncoherent after %zu bytes: reason 0x%x want 0x%x",
		      k[i].len, dma_need_unmap_reason(d), want);
	}
	struct dma_counters c;
	dma_get_counters(d, &c);
	CHECK(c.bounced == bounced && c.bounce_live == 0, "noncoherent: bounced %llu (want %u), live %llu",
	      (unsigned long long)c.bounced, bounced, (unsigned long long)c.bounce_live);
	printf("noncoherent: %u of %zu mappings bounced (dma_kmalloc_needs_bounce), device writes copied back\n",
	       bounced, sizeof(k) / sizeof(k[0]));
	dma_close(d);
}

/* What a mapping never unmapped leaves behind on a non-coherent device:
 * no resource unless it bounced, but its invalidate is owed. */
static void owed(uint8_t *arena)
{
	struct dma_params p = TP(.nc_model = true, .bounce_pool_bytes = 1 << 20);
	struct dma *d;
	REQUIRE(dma_open("noncoherent", &p, &d) == 0, "owed: open: %s", dma_last_error());
	uint64_t a, b;
	REQUIRE(dma_map(d, arena + 24, 64, DMA_FROM_DEVICE, &a) == 0, "owed: map");
	REQUIRE(dma_unmap(d, a, 64, DMA_FROM_DEVICE) == 0, "owed: unmap");
	CHECK(dma_owed_lines(d) == 0 && dma_held_mappings(d) == 0, "owed: after unmap %llu lines, %llu held",
	      (unsigned long long)dma_owed_lines(d), (unsigned long long)dma_held_mappings(d));
	REQUIRE(dma_map(d, arena + 24, 64, DMA_FROM_DEVICE, &a) == 0, "owed: map");
	REQUIRE(dma_map(d, arena + 4096, 64, DMA_TO_DEVICE, &b) == 0, "owed: map");
	CHECK(dma_owed_lines(d) >= 1 && dma_held_mappings(d) == 0, "owed: one device-written mapping left: %llu "
	      "lines, %llu held", (unsigned long long)dma_owed_lines(d), (unsigned long long)dma_held_mappings(d));
	uint64_t c;
	REQUIRE(dma_map(d, arena + 8192, 12, DMA_FROM_DEVICE, &c) == 0, "owed: map");
	CHECK(dma_held_mappings(d) == 1, "owed: a kmalloc-bounced mapping holds its slot (%llu)",
	      (unsigned long long)dma_held_mappings(d));
	printf("noncoherent: a mapping never unmapped owes %llu line(s) and holds nothing unless it bounced\n",
	       (unsigned long long)dma_owed_lines(d) - 1);
	dma_close(d);
}

static void untrusted(uint8_t *arena)
{
	struct dma_params p = TP(.untrusted = true, .bounce_pool_bytes = 1 << 20);
	struct dma *d;
	REQUIRE(dma_open("iommu", &p, &d) == 0, "untrusted: open: %s", dma_last_error());
	uint8_t *page = arena + 8192;
	memset(page, 0xee, 4096); /* the neighbours of a 12-byte buffer */
	memset(page, 0x42, 12);
	uint64_t i1, i2, i3;
	REQUIRE(dma_map(d, arena, 4096, DMA_TO_DEVICE, &i1) == 0, "untrusted: map 4096: %s", dma_last_error());
	CHECK(dma_need_unmap_reason(d) == DMA_R_IOMMU && !dma_need_sync(d, i1),
	      "untrusted: an aligned page is mapped in place (reason 0x%x)", dma_need_unmap_reason(d));
	REQUIRE(dma_map(d, page, 12, DMA_TO_DEVICE, &i2) == 0, "untrusted: map 12: %s", dma_last_error());
	const uint8_t *dev = dma_translate(d, i2, 4096, DMA_TO_DEVICE);
	REQUIRE(dev, "untrusted: the device cannot read the bounced granule");
	CHECK(dev != page && dev[0] == 0x42 && dev[11] == 0x42, "untrusted: the device reads the buffer's copy");
	size_t leak = 0;
	for (size_t i = 12; i < 4096; i++)
		leak += dev[i] != 0;
	CHECK(leak == 0, "untrusted: %zu bytes past the buffer are not zero (neighbours exposed)", leak);
	CHECK(dma_need_unmap_reason(d) == (DMA_R_IOMMU | DMA_R_BOUNCE) && dma_need_sync(d, i1),
	      "untrusted: after a bounce reason 0x%x, need_sync %d", dma_need_unmap_reason(d), dma_need_sync(d, i1));
	REQUIRE(dma_map(d, arena + 64, 4096, DMA_FROM_DEVICE, &i3) == 0, "untrusted: map: %s", dma_last_error());
	uint8_t *w = dma_translate(d, i3, 4096, DMA_FROM_DEVICE);
	REQUIRE(w && w != arena + 64, "untrusted: an unaligned start bounces");
	memset(w, 0x5c, 4096);
	REQUIRE(dma_unmap(d, i3, 4096, DMA_FROM_DEVICE) == 0, "untrusted: unmap: %s", dma_last_error());
	CHECK(arena[64] == 0x5c && arena[64 + 4095] == 0x5c, "untrusted: the device's write was not copied back");
	CHECK(dma_unmap(d, i2, 12, DMA_TO_DEVICE) == 0 && dma_unmap(d, i1, 4096, DMA_TO_DEVICE) == 0,
	      "untrusted: unmap: %s", dma_last_error());
	struct dma_counters c;
	dma_get_counters(d, &c);
	CHECK(c.bounced == 2 && c.bounce_live == 0 && c.live == 0, "untrusted: bounced %llu live %llu",
	      (unsigned long long)c.bounced, (unsigned long long)c.bounce_live);
	dma_close(d);
	printf("iommu untrusted: aligned page in place, 12-byte and unaligned buffers bounced into zeroed "
	       "granules, device writes copied back\n");
}

static void passthrough(uint8_t *arena)
{
	struct dma_params p = TP(.passthrough = true);
	struct dma *d;
	REQUIRE(dma_open("iommu", &p, &d) == 0, "passthrough: open: %s", dma_last_error());
	uint64_t iova;
	REQUIRE(dma_map(d, arena + 12, 100, DMA_FROM_DEVICE, &iova) == 0, "passthrough: map");
	CHECK(iova == (uintptr_t)(arena + 12), "passthrough: IOVA 0x%llx is not the address",
	      (unsigned long long)iova);
	struct dma_props pr;
	dma_get_props(d, &pr);
	CHECK(!dma_need_unmap(d) && pr.direct && pr.coherent && !pr.force_bounce,
	      "passthrough: need_unmap %d, direct %d", dma_need_unmap(d), pr.direct);
	CHECK(dma_unmap(d, iova, 100, DMA_FROM_DEVICE) == 0, "passthrough: unmap");
	dma_close(d);
	struct dma_params bad = TP(.passthrough = true, .lazy = true);
	struct dma *bd = NULL;
	CHECK(dma_open("iommu", &bad, &bd) == -EINVAL && strstr(dma_last_error(), "at most one"),
	      "passthrough + lazy: refused naming both: %s", dma_last_error());
	if (bd)
		dma_close(bd);
	printf("iommu passthrough: IOVA = address, need_unmap false, direct\n");
}

int main(void)
{
	uint8_t *arena = t_arena();
	noncoherent(arena);
	owed(arena);
	untrusted(arena);
	passthrough(arena);
	t_arena_free(arena);
	return t_done("dma_align_bounce");
}
