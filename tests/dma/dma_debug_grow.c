/* SPDX-License-Identifier: MIT */
/*
 * dma_debug_grow: DMA API debugging as the kernel's (issue 19, point 5):
 *   - the entry pool grows: 4 preallocated entries, 5000 live mappings all
 *     succeed with no report, every one tracked (a double unmap is still
 *     caught afterwards);
 *   - when it cannot grow (debug_entries_max 16), debugging disables
 *     itself: one notice (counted, "disabling" in the last error), every
 *     mapping still succeeds, unmaps and device accesses pass unchecked,
 *     and close reports no leak;
 *   - sync checks: a sync of an unmapped address, one running past its
 *     mapping and one with the wrong direction are each reported and
 *     counted; a sync of a BIDIRECTIONAL mapping in any direction is not;
 *   - leaks at teardown are counted (one report each).
 */
#include "dma_tcommon.h"

static uint64_t reports(struct dma *d)
{
	struct dma_counters c;
	dma_get_counters(d, &c);
	return c.debug_reports;
}

static void grows(uint8_t *arena)
{
	struct dma_params p = TP(.debug_entries = 4);
	struct dma *d;
	REQUIRE(dma_open("debug", &p, &d) == 0, "open: %s", dma_last_error());
	static uint64_t iova[5000];
	for (unsigned i = 0; i < 5000; i++)
		REQUIRE(dma_map(d, arena + i * 64, 64, DMA_TO_DEVICE, &iova[i]) == 0, "grow: map %u: %s", i,
			dma_last_error());
	CHECK(reports(d) == 0, "grow: %llu reports while growing", (unsigned long long)reports(d));
	for (unsigned i = 0; i < 5000; i++)
		CHECK(dma_unmap(d, iova[i], 64, DMA_TO_DEVICE) == 0, "grow: unmap %u: %s", i, dma_last_error());
	CHECK(dma_unmap(d, iova[4999], 64, DMA_TO_DEVICE) == -EINVAL && strstr(dma_last_error(), "double unmap"),
	      "grow: a double unmap is still caught: %s", dma_last_error());
	CHECK(reports(d) == 1, "grow: %llu reports", (unsigned long long)reports(d));
	dma_close(d);
	printf("debug: 4 preallocated entries grew to 5000 live mappings, all tracked\n");
}

static void disables(uint8_t *arena)
{
	struct dma_params p = TP(.debug_entries = 4, .debug_entries_max = 16);
	struct dma *d;
	REQUIRE(dma_open("debug", &p, &d) == 0, "open: %s", dma_last_error());
	static uint64_t iova[40];
	for (unsigned i = 0; i < 40; i++)
		CHECK(dma_map(d, arena + i * 64, 64, DMA_FROM_DEVICE, &iova[i]) == 0,
		      "disable: map %u failed because of debugging: %s", i, dma_last_error());
	CHECK(reports(d) == 1 && strstr(dma_last_error(), "disabling"),
	      "disable: %llu reports, last error '%s'", (unsigned long long)reports(d), dma_last_error());
	CHECK(dma_translate(d, 0x1000, 8, DMA_FROM_DEVICE) != NULL && reports(d) == 1,
	      "disable: device accesses are no longer checked");
	for (unsigned i = 0; i < 40; i++)
		CHECK(dma_unmap(d, iova[i], 64, DMA_FROM_DEVICE) == 0, "disable: unmap %u: %s", i, dma_last_error());
	uint64_t leak;
	REQUIRE(dma_map(d, arena, 64, DMA_TO_DEVICE, &leak) == 0, "disable: map");
	dma_close(d); /* no leak report once disabled */
	CHECK(!strstr(dma_last_error(), "leaked"), "disable: a leak report after disabling: %s", dma_last_error());
	printf("debug: could not grow past 16 entries, disabled itself with one notice, 41 mappings succeeded\n");
}

static void syncs(uint8_t *arena)
{
	struct dma_params p = TP();
	struct dma *d;
	REQUIRE(dma_open("debug", &p, &d) == 0, "open: %s", dma_last_error());
	uint64_t a, b;
	REQUIRE(dma_map(d, arena, 256, DMA_TO_DEVICE, &a) == 0, "sync: map");
	REQUIRE(dma_map(d, arena + 4096, 256, DMA_BIDIRECTIONAL, &b) == 0, "sync: map");
	dma_sync_for_device(d, a, 256, DMA_TO_DEVICE);
	dma_sync_for_cpu(d, b, 128, DMA_FROM_DEVICE);
	dma_sync_for_device(d, b + 128, 128, DMA_TO_DEVICE);
	CHECK(reports(d) == 0, "sync: %llu reports for correct syncs", (unsigned long long)reports(d));
	dma_sync_for_cpu(d, a + 8192 * 4, 16, DMA_TO_DEVICE);
	CHECK(reports(d) == 1 && strstr(dma_last_error(), "no live mapping"), "sync unmapped: %s",
	      dma_last_error());
	dma_sync_for_device(d, a + 128, 256, DMA_TO_DEVICE);
	CHECK(reports(d) == 2 && strstr(dma_last_error(), "runs past"), "sync out of range: %s", dma_last_error());
	dma_sync_for_cpu(d, a, 64, DMA_FROM_DEVICE);
	CHECK(reports(d) == 3 && strstr(dma_last_error(), "direction FROM_DEVICE; mapped TO_DEVICE"),
	      "sync wrong direction: %s", dma_last_error());
	/* leaks at teardown: one report each */
	uint64_t before = reports(d);
	struct dma_counters c;
	dma_get_counters(d, &c);
	dma_close(d);
	CHECK(strstr(dma_last_error(), "2 mappings leaked"), "leaks: %s", dma_last_error());
	printf("debug: sync of unmapped, out-of-range and wrong-direction addresses reported (%llu), "
	       "2 leaks at close: %s\n", (unsigned long long)before, dma_last_error());
}

int main(void)
{
	uint8_t *arena = t_arena();
	grows(arena);
	disables(arena);
	syncs(arena);
	t_arena_free(arena);
	return t_done("dma_debug_grow");
}
