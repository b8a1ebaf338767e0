/* SPDX-License-Identifier: MIT */
/*
 * test_track_indirect - the records of indirect entries per --indirect-extra
 * (vq_track.h, enum vq_ind_extra; ring/vq_track_indirect.c), on split and
 * packed rings, queue sizes 64 and 256, chains of 4 and 17 descriptors,
 * TX and RX, for full (and compact, retrieve, adaptive):
 *
 *  - footprint: linux-6.1 keeps no record per entry: tracking bytes are the
 *    ring slots' records only (rec x size); upstream counts the records the
 *    kernel allocates with each table for the chains in flight, at most
 *    `batch` chains of d entries here: rec x size + batch x d x rec;
 *  - every payload byte verified (no error, nothing lost), maps and unmaps
 *    counted: d + 1 per packet (the entries and the table), all unmapped;
 *  - linux-6.1 unmaps from the table itself: the entries read back are
 *    counted (d per packet; upstream 0), and on the debug backend (which
 *    reports an unmap whose address, length or direction matches no live
 *    mapping) there is no report and nothing is left mapped;
 *  - a bad mode is refused by vq_track_check with a message naming it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vqb_test.h"
#include "vqb_traffic.h"

struct out {
	int setup_rc, run_rc;
	char err[320];
	struct vqb_traffic_result r;
	struct vqb_traffic_final f;
};

#define BATCH 16u

static void run(enum vq_policy pol, enum vq_ind_extra ie, bool packed, uint32_t size, uint32_t d,
		enum vqb_dir dir, const char *dma, uint64_t packets, struct out *o)
{
	struct vqb_traffic_params p = {
		.cfg = {.layout = packed ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT, .size = size,
			.features = VQ_FEATURE(VQ_F_VERSION_1) | VQ_FEATURE(VQ_F_INDIRECT_DESC) |
				    (packed ? VQ_FEATURE(VQ_F_RING_PACKED) : 0)},
		.policy = pol, .skip_rule = VQ_SKIP_UPSTREAM, .ind_extra = ie, .dma = dma,
		.dma_params = {.vfio_container_fd = -1, .inner = "identity"},
		.device = "inline", .dev_cpu = -1, .dir = dir,
		.descs_kind = VQB_DESCS_FIXED, .descs_lo = d, .descs_hi = d, .pkt_bytes = 64 * d,
		.indirect = true, .batch = BATCH, .mem_node = -1,
	};
	struct vqb_traffic *t;
	memset(o, 0, sizeof(*o));
	o->setup_rc = vqb_traffic_setup(&p, &t, o->err, sizeof(o->err));
	if (o->setup_rc < 0)
		return;
	o->run_rc = vqb_traffic_run(t, packets, 0, &o->r, o->err, sizeof(o->err));
	vqb_traffic_teardown(t, &o->f);
}

static unsigned cells;

static void cell(enum vq_policy pol, enum vq_ind_extra ie, bool packed, uint32_t size, uint32_t d,
		 enum vqb_dir dir, const char *dma)
{
	const uint64_t packets = 3 * (uint64_t)size;
	const size_t rec = pol == VQ_POLICY_COMPACT ? 8 : 16;
	char what[160];
	snprintf(what, sizeof(what), "%s %s %s size %u, %u descs, %s, dma %s", vq_policy_name(pol),
		 vq_ind_extra_name(ie), packed ? "packed" : "split", size, d, dir == VQB_DIR_TX ? "tx" : "rx", dma);
	struct out o;
	run(pol, ie, packed, size, d, dir, dma, packets, &o);
	REQUIRE(o.setup_rc == 0 && o.run_rc == 0, "%s: %s", what, o.err);
	CHECK(o.r.packets == packets && o.r.errors == 0 && o.r.lost_bytes == 0,
	      "%s: %llu packets, %llu errors, %llu bytes lost", what, (unsigned long long)o.r.packets,
	      (unsigned long long)o.r.errors, (unsigned long long)o.r.lost_bytes);
	CHECK(o.r.payload_bytes >= packets * 64 * d, "%s: %llu payload bytes verified", what,
	      (unsigned long long)o.r.payload_bytes);
	/* every chain the run posted: the measured ones and those in flight
	 * at the end (detached at teardown): d entries + the table each */
	uint64_t chains = o.f.track.maps / (d + 1);
	CHECK(o.f.track.maps == chains * (d + 1) && chains >= packets, "%s: %llu maps, not (d + 1) per chain", what,
	      (unsigned long long)o.f.track.maps);
	CHECK(o.f.track.unmaps == o.f.track.maps && o.f.dma.live == 0 && o.f.leaked_mappings == 0,
	      "%s: %llu maps, %llu unmaps, %llu live after teardown", what, (unsigned long long)o.f.track.maps,
	      (unsigned long long)o.f.track.unmaps, (unsigned long long)o.f.dma.live);
	uint64_t readbacks = ie == VQ_IND_EXTRA_LINUX61 ? chains * d : 0;
	CHECK(o.f.track.ind_readbacks == readbacks, "%s: %llu entries read back from tables, want %llu", what,
	      (unsigned long long)o.f.track.ind_readbacks, (unsigned long long)readbacks);
	CHECK(o.f.dma.debug_reports == 0, "%s: %llu dma-debug reports", what,
	      (unsigned long long)o.f.dma.debug_reports);
	size_t inflight = BATCH < size ? BATCH : size;
	size_t tracking = rec * size + (ie == VQ_IND_EXTRA_UPSTREAM ? inflight * d * rec : 0);
	if (pol == VQ_POLICY_ADAPTIVE) /* its flag byte per chain besides; records only where unmap is needed */
		tracking = size + (strcmp(dma, "identity") ? tracking : 0);
	CHECK(o.f.fp.tracking == tracking, "%s: tracking %zu bytes, want %zu", what, o.f.fp.tracking, tracking);
	cells++;
}

int main(void)
{
	static const uint32_t sizes[] = {64, 256}, descs[] = {4, 17};
	for (unsigned ie = 0; ie < VQ_IND_EXTRA_COUNT; ie++)
	for (int packed = 0; packed < 2; packed++)
	for (unsigned si = 0; si < 2; si++)
	for (unsigned di = 0; di < 2; di++)
	for (int rx = 0; rx < 2; rx++)
		cell(VQ_POLICY_FULL, (enum vq_ind_extra)ie, packed, sizes[si], descs[di], rx ? VQB_DIR_RX : VQB_DIR_TX,
		     "identity");
	/* the other policies with a record per descriptor; the debug backend
	 * checks every unmap against the live mappings */
	for (unsigned ie = 0; ie < VQ_IND_EXTRA_COUNT; ie++)
	for (int packed = 0; packed < 2; packed++) {
		cell(VQ_POLICY_FULL, (enum vq_ind_extra)ie, packed, 256, 17, VQB_DIR_RX, "debug");
		cell(VQ_POLICY_COMPACT, (enum vq_ind_extra)ie, packed, 256, 4, VQB_DIR_TX, "identity");
		cell(VQ_POLICY_RETRIEVE, (enum vq_ind_extra)ie, packed, 256, 4, VQB_DIR_RX, "debug");
		cell(VQ_POLICY_ADAPTIVE, (enum vq_ind_extra)ie, packed, 256, 4, VQB_DIR_TX, "debug");
	}
	printf("%u cells: footprint, payload, maps = unmaps and read-backs per --indirect-extra\n", cells);

	/* names, and a bad mode refused by name */
	enum vq_ind_extra ie;
	CHECK(vq_ind_extra_lookup("linux-6.1", &ie) == 0 && ie == VQ_IND_EXTRA_LINUX61, "linux-6.1 by name");
	CHECK(vq_ind_extra_lookup("upstream", &ie) == 0 && ie == VQ_IND_EXTRA_UPSTREAM, "upstream by name");
	CHECK(vq_ind_extra_lookup("6.1", &ie) == -ENOENT, "'6.1' is not a mode");
	CHECK(vq_ind_extra_name(VQ_IND_EXTRA_COUNT) == NULL, "no name past the end");
	struct out o;
	run(VQ_POLICY_FULL, VQ_IND_EXTRA_COUNT, false, 64, 4, VQB_DIR_TX, "identity", 64, &o);
	CHECK(o.setup_rc < 0 && strstr(o.err, "indirect-extra 2") && strstr(o.err, "allowed: upstream, linux-6.1"),
	      "bad mode: setup %d, '%s'", o.setup_rc, o.err);
	return t_done("test_track_indirect");
}
