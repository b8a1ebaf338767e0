/* SPDX-License-Identifier: MIT */
/*
 * dma_need_unmap: dma_need_unmap / dma_need_unmap_reason / dma_need_sync
 * answer as documented for every backend, before and after mappings; for
 * the direct backends' knobs (force_bounce, min_align, mask_bits) the answer
 * flips to "bounce copy" with the first bounced mapping, not before, and
 * stays. dma_reason_str gives the documented texts.
 */
#include "dma_tcommon.h"

struct nrow {
	const char *label, *backend;
	struct dma_params p;
	unsigned before;     /* reason right after open */
	size_t first_off;    /* first map at arena + first_off ... */
	unsigned after_first;
	size_t second_off;   /* ... then at arena + second_off */
	unsigned after_second;
	bool sync_after;     /* dma_need_sync after both */
};

#define R_I DMA_R_IOMMU
#define R_B DMA_R_BOUNCE
#define R_N DMA_R_NONCOHERENT
#define R_D DMA_R_DEBUG

static const struct nrow rows[] = {
	{ "identity", "identity", TP(), 0, 0, 0, 64, 0, false },
	{ "pa", "pa", TP(), 0, 0, 0, 64, 0, false },
	{ "iommu", "iommu", TP(), R_I, 0, R_I, 64, R_I, false },
	{ "iommu+lazy", "iommu", TP(.lazy = true), R_I, 0, R_I, 64, R_I, false },
	{ "bounce", "bounce", TP(), R_B, 0, R_B, 64, R_B, true },
	{ "noncoherent", "noncoherent", TP(), R_N, 0, R_N, 64, R_N, true },
	{ "debug(identity)", "debug", TP(), R_D, 0, R_D, 64, R_D, false },
	{ "debug(iommu)", "debug", TP(.inner = "iommu"), R_D | R_I, 0, R_D | R_I, 64, R_D | R_I, false },
	{ "debug(bounce)", "debug", TP(.inner = "bounce"), R_D | R_B, 0, R_D | R_B, 64, R_D | R_B, true },
	{ "debug(noncoherent)", "debug", TP(.inner = "noncoherent"), R_D | R_N, 0, R_D | R_N, 64, R_D | R_N, true },
	{ "identity+force_bounce", "identity", TP(.force_bounce = true), 0, 0, R_B, 64, R_B, true },
	{ "identity min_align 64", "identity", TP(.min_align = 64), 0, 128, 0, 65, R_B, true },
	/* need_unmap stays true, but the second mapping went direct: no sync
	 * for its address (dma_direct_need_sync() looks the address up) */
	{ "identity min_align 64 stays", "identity", TP(.min_align = 64), 0, 3, R_B, 128, R_B, false },
	{ "pa+force_bounce", "pa", TP(.force_bounce = true, .bounce_pool_bytes = 1 << 20), 0, 0, R_B, 64, R_B, true },
	{ "pa min_align 64", "pa", TP(.min_align = 64, .bounce_pool_bytes = 1 << 20), 0, 128, 0, 65, R_B, true },
	{ "debug(identity+force)", "debug", TP(.force_bounce = true), R_D, 0, R_D | R_B, 64, R_D | R_B, true },
};

static void check_reason(const char *l, const char *when, struct dma *d,
			 unsigned want)
{
	unsigned got = dma_need_unmap_reason(d);
	CHECK(got == want, "%s %s: reason 0x%x (%s) want 0x%x", l, when, got,
	      dma_reason_str(got), want);
	CHECK(dma_need_unmap(d) == (want != 0), "%s %s: need_unmap", l, when);
}

static void run(const struct nrow *w, uint8_t *arena)
{
	struct tcfg c = { w->label, w->backend, w->p };
	struct dma *d;
	int r = t_open(&c, arena, &d);
	if (r < 0 && t_uses_pa(&c) && geteuid() != 0) {
		printf("%-28s skipped: %s\n", w->label, dma_last_error());
		return;
	}
	REQUIRE(r == 0, "%s: open: %s", w->label, dma_last_error());
	unsigned f0 = (unsigned)t_failures;
	check_reason(w->label, "after open", d, w->before);
	uint64_t i1, i2;
	r = dma_map(d, arena + w->first_off, 200, DMA_TO_DEVICE, &i1);
	REQUIRE(r == 0, "%s: map: %s", w->label, dma_last_error());
	check_reason(w->label, "after the first map", d, w->after_first);
	r = dma_map(d, arena + w->second_off, 200, DMA_FROM_DEVICE, &i2);
	REQUIRE(r == 0, "%s: map: %s", w->label, dma_last_error());
	check_reason(w->label, "after the second map", d, w->after_second);
	/* per address, as Linux's dma_need_sync(dev, dma_addr): the second
	 * mapping's answer, and a first mapping that went direct stays
	 * sync-free after the second bounced */
	CHECK(dma_need_sync(d, i2) == w->sync_after, "%s: need_sync %d", w->label,
	      dma_need_sync(d, i2));
	if (!(w->after_first & R_B) && (w->after_second & R_B) && !(w->before & R_B))
		CHECK(!dma_need_sync(d, i1), "%s: need_sync of the direct first mapping "
		      "0x%llx turned true after another bounced", w->label,
		      (unsigned long long)i1);
	dma_unmap(d, i1, 200, DMA_TO_DEVICE);
	dma_unmap(d, i2, 200, DMA_FROM_DEVICE);
	check_reason(w->label, "after unmapping all", d, w->after_second);
	printf("%-28s open: %-35s then: %-35s: %s\n", w->label,
	       dma_reason_str(w->before), dma_reason_str(w->after_second),
	       t_failures == f0 ? "ok" : "FAILED");
	dma_close(d);
}

/* mask_bits 32: a buffer under 4 GiB goes direct, the arena (mapped high by
 * the kernel) is bounced into a pool placed under the mask. */
static void mask(uint8_t *arena)
{
	void *low = mmap((void *)0x30000000ul, 1 << 16, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (low == MAP_FAILED || (uintptr_t)arena < (1ull << 32)) {
		printf("identity mask_bits 32: no low/high buffer pair here\n");
		return;
	}
	struct dma_params p = TP(.mask_bits = 32);
	struct dma *d;
	int r = dma_open("identity", &p, &d);
	REQUIRE(r == 0, "mask 32: open: %s", dma_last_error());
	uint64_t i1, i2;
	memset(low, 0x5a, 100);
	r = dma_map(d, low, 100, DMA_TO_DEVICE, &i1);
	CHECK(r == 0 && i1 == (uintptr_t)low, "mask 32: a low buffer is not "
	      "bounced");
	check_reason("identity mask_bits 32", "after a low map", d, 0);
	t_fill(arena, 100, 4);
	r = dma_map(d, arena, 100, DMA_TO_DEVICE, &i2);
	CHECK(r == 0 && i2 + 99 < (1ull << 32) && i2 != (uintptr_t)arena,
	      "mask 32: a high buffer is bounced below 4 GiB (iova 0x%llx)",
	      (unsigned long long)i2);
	CHECK(t_check(dma_translate(d, i2, 100, DMA_TO_DEVICE), 100, 4),
	      "mask 32: the device reads the bounced copy");
	check_reason("identity mask_bits 32", "after a high map", d, R_B);
	dma_unmap(d, i1, 100, DMA_TO_DEVICE);
	dma_unmap(d, i2, 100, DMA_TO_DEVICE);
	dma_close(d);
	munmap(low, 1 << 16);
	printf("identity mask_bits 32: low buffer direct, high buffer bounced to "
	       "0x%llx, reason flips to \"%s\"\n", (unsigned long long)i2,
	       dma_reason_str(R_B));
}

static void texts(void)
{
	static const struct {
		unsigned r;
		const char *text;
	} t[] = {
		{ 0, "none" },
		{ DMA_R_IOMMU, "IOMMU translation" },
		{ DMA_R_BOUNCE, "bounce copy" },
		{ DMA_R_NONCOHERENT, "cache maintenance" },
		{ DMA_R_DEBUG, "DMA API debugging" },
		{ DMA_R_VFIO, "VFIO mapping" },
		{ DMA_R_IOMMU | DMA_R_BOUNCE, "IOMMU translation, bounce copy" },
		{ DMA_R_DEBUG | DMA_R_NONCOHERENT, "cache maintenance, DMA API debugging" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(strcmp(dma_reason_str(t[i].r), t[i].text) == 0,
		      "reason 0x%x: \"%s\" want \"%s\"", t[i].r,
		      dma_reason_str(t[i].r), t[i].text);
	printf("dma_reason_str: %zu texts\n", sizeof(t) / sizeof(t[0]));
}

int main(void)
{
	uint8_t *arena = t_arena();
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run(&rows[i], arena);
	mask(arena);
	texts();
	/* vfio cannot open here; its reason is fixed by the backend. */
	printf("vfio: reason is \"%s\" (cannot open here: dma_vfio checks "
	       "-ENODEV)\n", dma_reason_str(DMA_R_VFIO));
	t_arena_free(arena);
	return t_done("dma_need_unmap");
}
