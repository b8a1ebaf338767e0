/* SPDX-License-Identifier: MIT */
/*
 * test_track_footprint - exact bytes of every footprint component for
 * several (layout, size, policy, indirect) cases, against formulas written
 * here from the virtio spec and the policy definitions.
 */
#include <stdio.h>

#include "vq_track.h"
#include "vqb_test.h"

static size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

/* virtio 1.x split ring: desc 16*n; avail 6 + 2n (with used_event);
 * used, 4-aligned, 6 + 8n (with avail_event). */
static size_t split_ring_bytes(size_t n)
{
	size_t avail_end = 16 * n + 6 + 2 * n;
	return align_up(avail_end, 4) + 6 + 8 * n;
}

/* packed ring: desc 16*n, then two 4-byte event suppression structures. */
static size_t packed_ring_bytes(size_t n) { return 16 * n + 4 + 4; }

int main(void)
{
	static const unsigned sizes[] = {1, 256, 1024, 32768};
	static const size_t rec[VQ_POLICY_COUNT] = {
		[VQ_POLICY_FULL] = 16, [VQ_POLICY_COMPACT] = 8, [VQ_POLICY_READBACK] = 0,
		[VQ_POLICY_SKIP] = 0, [VQ_POLICY_PREMAPPED] = 0, [VQ_POLICY_RETRIEVE] = 16,
	};
	unsigned cases = 0;

	for (int layout = 0; layout < 2; layout++)
	for (unsigned si = 0; si < 4; si++)
	for (unsigned pol = 0; pol < VQ_POLICY_COUNT; pol++)
	for (int ind = 0; ind < 2; ind++) {
		size_t n = sizes[si];
		struct vq_config cfg = {
			.layout = layout ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT,
			.size = (uint32_t)n,
			.features = VQ_FEATURE(VQ_F_VERSION_1) | (layout ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) |
				    (ind ? VQ_FEATURE(VQ_F_INDIRECT_DESC) : 0),
		};
		struct vq_footprint fp;
		size_t arena_bufs = n * 19;
		int rc = vq_track_footprint(&cfg, (enum vq_policy)pol, arena_bufs, &fp);
		const char *name = vq_policy_name(pol);
		REQUIRE(rc == 0, "%s size %zu: rc %d", name, n, rc);
		cases++;
		size_t ring = layout ? packed_ring_bytes(n) : split_ring_bytes(n);
		CHECK(fp.ring == ring, "%s %s n=%zu: ring %zu, want %zu", layout ? "packed" : "split", name, n,
		      fp.ring, ring);
		/* per descriptor (an indirect chain's entries come with its table,
		 * upstream --indirect-extra, or not at all, linux-6.1: none before
		 * traffic; test_track_indirect counts them live); the 2024
		 * series' driver array: (n + 1) x 19 pairs of 16 bytes; adaptive:
		 * a flag byte per chain until a chain needs records */
		size_t tracking = rec[pol] * n;
		if (pol == VQ_POLICY_DRIVER_ARRAY)
			tracking = (n + 1) * 19 * 16;
		if (pol == VQ_POLICY_ADAPTIVE)
			tracking = n;
		CHECK(fp.tracking == tracking, "%s %s n=%zu ind=%d: tracking %zu, want %zu",
		      layout ? "packed" : "split", name, n, ind, fp.tracking, tracking);
		/* 512-byte table slots (304 used, kmalloc-512 as in Linux) in whole
		 * 4 KiB pages + free list + head map */
		size_t indirect = ind ? align_up(n * 512, 4096) + n * 2 * 2 : 0;
		CHECK(fp.indirect == indirect, "%s n=%zu ind=%d: indirect %zu, want %zu", name, n, ind,
		      fp.indirect, indirect);
		size_t chain = ind && (pol == VQ_POLICY_READBACK || pol == VQ_POLICY_PREMAPPED ||
				       pol == VQ_POLICY_DRIVER_ARRAY) ? n * 8 : 0;
		if (pol == VQ_POLICY_IOVA) {
			/* 8 bytes per chain (window offset, the two runs) + a 2-byte
			 * free-window entry per chain + the range's state, the same
			 * for every size */
			static size_t state;
			if (!state)
				state = fp.chain_state - 10 * n;
			chain = 10 * n + state;
			CHECK(state > 16 && state < 512, "iova: range state of %zu bytes", state);
		}
		CHECK(fp.chain_state == chain, "%s n=%zu ind=%d: chain state %zu, want %zu", name, n, ind,
		      fp.chain_state, chain);
		size_t pool = pol == VQ_POLICY_PREMAPPED ? arena_bufs * 8 : 0;
		CHECK(fp.pool_iova == pool, "%s n=%zu: pool IOVAs %zu, want %zu", name, n, fp.pool_iova, pool);
		CHECK(fp.driver_state > 0, "%s n=%zu: driver state %zu", name, n, fp.driver_state);
		CHECK(fp.total == fp.ring + fp.driver_state + fp.tracking + fp.chain_state + fp.indirect + fp.pool_iova,
		      "%s n=%zu: total %zu is not the sum", name, n, fp.total);
	}
	/* the issue's own example: full on a 1024-entry split ring */
	struct vq_config c1024 = {.layout = VQ_LAYOUT_SPLIT, .size = 1024, .features = VQ_FEATURE(VQ_F_VERSION_1)};
	struct vq_footprint fp;
	vq_track_footprint(&c1024, VQ_POLICY_FULL, 0, &fp);
	CHECK(fp.tracking == 16 * 1024, "full split 1024: %zu bytes of records, want 16384", fp.tracking);
	printf("full on a 1024-entry split ring: %zu bytes of records; ring %zu; driver state %zu\n",
	       fp.tracking, fp.ring, fp.driver_state);
	/* invalid configurations are refused */
	struct vq_config bad = {.layout = VQ_LAYOUT_SPLIT, .size = 1000};
	CHECK(vq_track_footprint(&bad, VQ_POLICY_FULL, 0, &fp) < 0, "split size 1000 accepted");
	CHECK(vq_track_footprint(&c1024, VQ_POLICY_COUNT, 0, &fp) < 0, "bad policy accepted");
	printf("checked %u (layout, size, policy, indirect) footprints against the formulas\n", cases);
	return t_done("test_track_footprint");
}
