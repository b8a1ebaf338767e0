/* SPDX-License-Identifier: MIT */
/*
 * test_dev_thread - the software device on its own thread: driver and
 * device run concurrently (TX, RX and both), on split and packed rings,
 * over backends whose translate runs concurrently with map/unmap (identity,
 * iommu strict and lazy, bounce, debug). Every payload is verified and the
 * counts must be exact. Meant to run clean under the tsan preset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev.h"
#include "vqb_test.h"
#include "vqb_traffic.h"

int main(int argc, char **argv)
{
	uint64_t packets = argc > 1 ? strtoull(argv[1], NULL, 0) : 200000;
	static const struct {
		const char *dma;
		bool lazy;
		enum vq_policy pol;
	} be[] = {
		{"identity", false, VQ_POLICY_SKIP}, {"identity", false, VQ_POLICY_PREMAPPED},
		{"iommu", false, VQ_POLICY_FULL},    {"iommu", true, VQ_POLICY_COMPACT},
		{"bounce", false, VQ_POLICY_FULL},   {"debug", false, VQ_POLICY_FULL},
	};
	unsigned configs = 0;

	for (int layout = 0; layout < 2; layout++)
	for (unsigned b = 0; b < sizeof(be) / sizeof(be[0]); b++)
	for (int dir = 0; dir < 3; dir++) {
		bool ind = (b + (unsigned)dir) & 1, in_order = layout == 1 && dir == 2;
		struct vqb_traffic_params p = {
			.cfg = {.layout = layout ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT, .size = 256,
				.features = VQ_FEATURE(VQ_F_VERSION_1) | (layout ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) |
					    (ind ? VQ_FEATURE(VQ_F_INDIRECT_DESC) : 0) |
					    (in_order ? VQ_FEATURE(VQ_F_IN_ORDER) : 0) | VQ_FEATURE(VQ_F_EVENT_IDX)},
			.policy = be[b].pol,
			.dma = be[b].dma,
			.dma_params = {.lazy = be[b].lazy, .bounce_pool_bytes = 16u << 20, .vfio_container_fd = -1},
			.device = "thread",
			.dev_cpu = -1,
			.dir = (enum vqb_dir)dir,
			.descs_kind = VQB_DESCS_RANGE,
			.descs_lo = 1,
			.descs_hi = 6,
			.pkt_bytes = 100,
			.indirect = ind,
			.batch = 16,
			.mem_node = -1,
		};
		char name[128], err[256];
		snprintf(name, sizeof(name), "%s/%s%s/%s/%s/indirect=%d", layout ? "packed" : "split", be[b].dma,
			 be[b].lazy ? "(lazy)" : "", vq_policy_name(be[b].pol), vqb_dir_name((enum vqb_dir)dir), ind);
		struct vqb_traffic *t;
		int rc = vqb_traffic_setup(&p, &t, err, sizeof(err));
		CHECK(rc == 0, "%s: setup: %s", name, err);
		if (rc)
			continue;
		struct vqb_traffic_result r;
		uint64_t n = packets / 36 + 1;
		rc = vqb_traffic_run(t, n, 0, &r, err, sizeof(err));
		struct vqb_traffic_final f;
		vqb_traffic_teardown(t, &f);
		configs++;
		CHECK(rc == 0, "%s: run: %s", name, err);
		CHECK(r.packets == n, "%s: %llu of %llu packets", name, (unsigned long long)r.packets,
		      (unsigned long long)n);
		if (dir == 2)
			CHECK(r.tx_packets + r.rx_packets == r.packets && r.tx_packets && r.rx_packets,
			      "%s: tx %llu + rx %llu", name, (unsigned long long)r.tx_packets,
			      (unsigned long long)r.rx_packets);
		CHECK(r.errors == 0 && r.lost_bytes == 0, "%s: %llu errors, %llu bytes lost", name,
		      (unsigned long long)r.errors, (unsigned long long)r.lost_bytes);
		CHECK(f.leaked_mappings == 0 && f.dma.faults == 0 && f.dma.debug_reports == 0,
		      "%s: %llu leaked, %llu faults, %llu debug reports", name,
		      (unsigned long long)f.leaked_mappings, (unsigned long long)f.dma.faults,
		      (unsigned long long)f.dma.debug_reports);
	}
	printf("%u two-thread configurations, %llu packets in all, every payload verified\n", configs,
	       (unsigned long long)packets);
	return t_done("test_dev_thread");
}
