/* SPDX-License-Identifier: MIT */
/*
 * dma_roundtrip: for every backend, what the CPU wrote is what the device
 * reads through dma_translate (TO_DEVICE), what the device wrote is what the
 * CPU reads after unmap (FROM_DEVICE), and a BIDIRECTIONAL mapping carries
 * data both ways across sync_for_cpu / sync_for_device. Also: a device
 * access at an offset inside a mapping, a multi-page buffer, and that every
 * mapping is gone at the end (live 0, no faults).
 */
#include "dma_tcommon.h"

#define LEN 1500

static void to_device(const char *l, struct dma *d, uint8_t *buf, size_t len,
		      unsigned seed)
{
	uint64_t iova;
	t_fill(buf, len, seed);
	int r = dma_map(d, buf, len, DMA_TO_DEVICE, &iova);
	REQUIRE(r == 0, "%s: map: %s", l, dma_last_error());
	uint8_t *p = dma_translate(d, iova, len, DMA_TO_DEVICE);
	CHECK(p && t_check(p, len, seed), "%s: device reads what the CPU wrote "
	      "(len %zu)", l, len);
	if (p && len > 300) {
		uint8_t *q = dma_translate(d, iova + 100, 200, DMA_TO_DEVICE);
		CHECK(q == p + 100, "%s: access at offset 100 gives p+100", l);
	}
	CHECK(dma_unmap(d, iova, len, DMA_TO_DEVICE) == 0, "%s: unmap: %s", l,
	      dma_last_error());
}

static void from_device(const char *l, struct dma *d, uint8_t *buf,
			size_t len, unsigned seed)
{
	uint64_t iova;
	memset(buf, 0, len);
	int r = dma_map(d, buf, len, DMA_FROM_DEVICE, &iova);
	REQUIRE(r == 0, "%s: map: %s", l, dma_last_error());
	uint8_t *p = dma_translate(d, iova, len, DMA_FROM_DEVICE);
	CHECK(p != NULL, "%s: device may write a FROM_DEVICE mapping", l);
	if (p)
		t_fill(p, len, seed);
	CHECK(dma_unmap(d, iova, len, DMA_FROM_DEVICE) == 0, "%s: unmap: %s",
	      l, dma_last_error());
	CHECK(t_check(buf, len, seed), "%s: CPU reads what the device wrote "
	      "after unmap (len %zu)", l, len);
}

static void bidirectional(const char *l, struct dma *d, uint8_t *buf,
			  size_t len, unsigned seed)
{
	uint64_t iova;
	t_fill(buf, len, seed);
	int r = dma_map(d, buf, len, DMA_BIDIRECTIONAL, &iova);
	REQUIRE(r == 0, "%s: map: %s", l, dma_last_error());
	uint8_t *p = dma_translate(d, iova, len, DMA_BIDIRECTIONAL);
	REQUIRE(p != NULL, "%s: BIDIRECTIONAL translate", l);
	CHECK(t_check(p, len, seed), "%s: device reads the CPU's data", l);
	t_fill(p, len, seed + 1);
	dma_sync_for_cpu(d, iova, len, DMA_BIDIRECTIONAL);
	CHECK(t_check(buf, len, seed + 1), "%s: after sync_for_cpu the CPU "
	      "sees the device's data", l);
	t_fill(buf, len, seed + 2);
	dma_sync_for_device(d, iova, len, DMA_BIDIRECTIONAL);
	p = dma_translate(d, iova, len, DMA_TO_DEVICE);
	CHECK(p && t_check(p, len, seed + 2), "%s: after sync_for_device the "
	      "device sees the CPU's data", l);
	if (p)
		t_fill(p, len, seed + 3);
	CHECK(dma_unmap(d, iova, len, DMA_BIDIRECTIONAL) == 0, "%s: unmap", l);
	CHECK(t_check(buf, len, seed + 3), "%s: CPU sees the device's last "
	      "write after unmap", l);
}

int main(void)
{
	uint8_t *arena = t_arena();
	unsigned ran = 0;
	for (size_t i = 0; i < T_NCFGS; i++) {
		const struct tcfg *c = &t_cfgs[i];
		struct dma *d;
		int r = t_open(c, arena, &d);
		if (r < 0 && t_uses_pa(c) && geteuid() != 0) {
			printf("%-22s skipped: %s\n", c->label, dma_last_error());
			continue;
		}
		REQUIRE(r == 0, "%s: open: %d %s", c->label, r, dma_last_error());
		unsigned before = (unsigned)t_failures;
		for (unsigned k = 0; k < 8; k++) {
			/* Within one page (pa refuses crossings of
			 * non-adjacent frames), aligned and not. */
			uint8_t *buf = arena + k * 4096 + (k % 2) * 100;
			to_device(c->label, d, buf, LEN, k);
			from_device(c->label, d, buf, LEN, k + 10);
			bidirectional(c->label, d, buf, LEN, k + 20);
		}
		/* A buffer over two page boundaries. */
		uint8_t *big = arena + 64 * 4096 + 3000;
		uint64_t iova;
		bool refused = false;
		r = dma_map(d, big, 6000, DMA_TO_DEVICE, &iova);
		if ((r == -EINVAL || r == -ENOMEM) && t_uses_pa(c)) {
			refused = true;
			CHECK(strstr(dma_last_error(), "physically adjacent"),
			      "%s: pa refuses a crossing with a reason: %s",
			      c->label, dma_last_error());
			printf("%-22s multi-page buffer refused: %s\n", c->label,
			       dma_last_error());
		} else {
			CHECK(r == 0, "%s: map 6000 B: %s", c->label,
			      dma_last_error());
			if (r == 0)
				dma_unmap(d, iova, 6000, DMA_TO_DEVICE);
			to_device(c->label, d, big, 6000, 99);
			from_device(c->label, d, big, 6000, 98);
		}
		struct dma_counters ct = t_ctr(d);
		CHECK(ct.live == 0 && ct.maps == ct.unmaps && ct.faults == 0 &&
		      ct.map_errors == refused,
		      "%s: all unmapped: live %llu maps %llu unmaps %llu "
		      "faults %llu errors %llu", c->label,
		      (unsigned long long)ct.live, (unsigned long long)ct.maps,
		      (unsigned long long)ct.unmaps,
		      (unsigned long long)ct.faults,
		      (unsigned long long)ct.map_errors);
		dma_close(d);
		printf("%-22s TO/FROM/BIDI round trips of 8 x %d B and a "
		       "6000 B buffer: %s\n", c->label, LEN,
		       t_failures == before ? "ok" : "FAILED");
		ran++;
	}
	t_arena_free(arena);
	CHECK(ran >= T_NCFGS - 4, "most configurations ran (%u)", ran);
	return t_done("dma_roundtrip");
}
