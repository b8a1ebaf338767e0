/* SPDX-License-Identifier: MIT */
/*
 * test_fault_reset: buffers in flight when the queue breaks or the device
 * goes away, and dma_map failures in the middle of a run.
 *   A. ring level, every policy that maps, split and packed, direct and
 *      indirect: chains in every state (completed, popped by the device,
 *      published but not popped, added but not published); then the device
 *      forges a used entry (the queue breaks) or is reset. Every token still
 *      in flight comes back through vq_track_detach exactly once, all
 *      descriptors are free again, and once the tracking layer is gone no
 *      mapping is live and DMA debugging saw no misuse.
 *   B. the traffic engine with the two-thread device stopped mid-run
 *      (timed runs leave chains in flight): teardown detaches and unmaps
 *      them all (debug, iommu, bounce).
 *   C. the traffic engine with the k-th dma_map failing: with chains in
 *      flight the run waits for completions and finishes with every
 *      payload verified; with nothing in flight (or maps failing for good)
 *      it stops with a message naming the backend and the cause; either
 *      way nothing stays mapped.
 */
#include <errno.h>
#include <string.h>

#include "dma.h"
#include "vq_track.h"
#include "vqb_test.h"
#include "vqb_traffic.h"

#define QSZ 32
#define NBUFS 64
#define BUF 256
#define NCH 10

static void *dev_translate(void *ctx, uint64_t iova, uint32_t len, int write)
{
	return dma_translate(ctx, iova, len, write ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
}

static void wr(void *m, size_t off, const void *v, size_t n) { memcpy((char *)m + off, v, n); }

static void ring_case(enum vq_layout l, enum vq_policy pol, bool ind, bool forge)
{
	char name[96];
	snprintf(name, sizeof(name), "%s %s%s %s", l == VQ_LAYOUT_SPLIT ? "split" : "packed", vq_policy_name(pol),
		 ind ? " indirect" : "", forge ? "broken by a forged used entry" : "device reset");
	struct vq_config cfg = { l, QSZ, VQ_FEATURE(VQ_F_VERSION_1) | VQ_FEATURE(VQ_F_INDIRECT_DESC) |
					       (l == VQ_LAYOUT_PACKED ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) };
	struct vq_areas a;
	REQUIRE(vq_ring_layout(&cfg, &a) == 0, "%s: layout", name);
	void *ring = NULL, *arena = NULL;
	REQUIRE(posix_memalign(&ring, 64, a.total) == 0 && posix_memalign(&arena, 4096, NBUFS * BUF) == 0,
		"%s: memory", name);
	memset(ring, 0, a.total);
	struct dma_params dp = { .vfio_container_fd = -1 };
	struct dma *d;
	REQUIRE(dma_open("debug", &dp, &d) == 0, "%s: dma_open", name);
	struct vq *vq;
	struct vq_dev *dev;
	struct vq_track *t;
	struct vq_track_params tp = { .policy = pol, .arena = arena, .arena_len = NBUFS * BUF, .buf_size = BUF };
	REQUIRE(vq_create(&cfg, ring, &vq) == 0 && vq_dev_create(&cfg, ring, dev_translate, d, &dev) == 0 &&
			vq_track_create(vq, d, &tp, &t) == 0,
		"%s: create: %s", name, vq_track_last_error());
	int tok[NCH], back[NCH] = { 0 };
	for (int i = 0; i < NCH; i++) {
		struct vq_buf b[3];
		for (int k = 0; k < 3; k++)
			b[k] = (struct vq_buf){ (char *)arena + (size_t)(i * 3 + k) * BUF, k ? 64u : 12u, k == 2 };
		/* the chains of one publish: 0-7; 8 and 9 added after it */
		REQUIRE(vq_track_add(t, b, 3, &tok[i], ind && i % 2) >= 0, "%s: add %d: %s", name, i,
			vq_track_last_error());
		if (i == 7)
			vq_track_kick_prepare(t);
	}
	struct vq_chain ch[8];
	int np = 0;
	while (np < 6 && vq_dev_pop(dev, &ch[np]) == 1)
		np++;
	REQUIRE(np == 6, "%s: the device popped %d chains", name, np);
	for (int i = 0; i < 3; i++)
		vq_dev_push(dev, &ch[i], 64);
	vq_dev_publish(dev);
	void *tk;
	uint32_t len;
	int got = 0;
	while (vq_track_get_used(t, &tk, &len) == 1) {
		back[(int *)tk - tok]++;
		got++;
	}
	CHECK(got == 3, "%s: %d completions before the fault", name, got);
	struct dma_counters c;
	dma_get_counters(d, &c);
	if (pol != VQ_POLICY_PREMAPPED)
		CHECK(c.live > 0, "%s: nothing mapped while 7 chains are in flight", name);
	if (forge) {
		if (l == VQ_LAYOUT_SPLIT) {
			uint32_t e[2] = { 999, 0 }; /* id out of range */
			uint16_t idx = 4;
			wr(ring, a.device_off + 4 + 8 * 3, e, sizeof(e));
			wr(ring, a.device_off + 2, &idx, 2);
		} else {
			/* the next used position: after 3 chains of 1 (indirect)
			 * or 3 descriptors */
			unsigned pos = 0;
			for (int i = 0; i < 3; i++)
				pos += ind && i % 2 ? 1 : 3;
			uint16_t id = 999, fl = VQ_DESC_F_AVAIL | VQ_DESC_F_USED;
			wr(ring, a.desc_off + 16 * pos + 12, &id, 2);
			wr(ring, a.desc_off + 16 * pos + 14, &fl, 2);
		}
		CHECK(vq_track_get_used(t, &tk, &len) == -EIO && vq_is_broken(vq), "%s: the queue did not break", name);
		CHECK(vq_track_add(t, &(struct vq_buf){ arena, 12, 0 }, 1, &tok[0], false) == -EIO,
		      "%s: a broken queue took a chain", name);
	}
	vq_dev_destroy(dev); /* reset: the device touches nothing any more */
	int detached = 0;
	while (vq_track_detach(t, &tk) == 1) {
		back[(int *)tk - tok]++;
		detached++;
	}
	CHECK(detached == NCH - 3, "%s: %d chains detached, %d were in flight", name, detached, NCH - 3);
	for (int i = 0; i < NCH; i++)
		CHECK(back[i] == 1, "%s: token %d came back %d times", name, i, back[i]);
	CHECK(vq_num_free(vq) == QSZ, "%s: %u of %u descriptors free", name, vq_num_free(vq), QSZ);
	vq_track_destroy(t);
	dma_get_counters(d, &c);
	CHECK(c.live == 0 && c.debug_reports == 0, "%s: %llu live mappings, %llu debug reports (%s)", name,
	      (unsigned long long)c.live, (unsigned long long)c.debug_reports, dma_last_error());
	vq_destroy(vq);
	dma_close(d);
	free(arena);
	free(ring);
}

static struct vqb_traffic_params engine(enum vq_layout l, enum vq_policy pol, const char *dma, enum vqb_dir dir)
{
	return (struct vqb_traffic_params){
		.cfg = { .layout = l, .size = 256,
			 .features = VQ_FEATURE(VQ_F_VERSION_1) | VQ_FEATURE(VQ_F_EVENT_IDX) |
				     (l == VQ_LAYOUT_PACKED ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) },
		.policy = pol, .dma = dma,
		.dma_params = { .bounce_pool_bytes = 16u << 20, .vfio_container_fd = -1 },
		.device = "thread", .dev_cpu = -1, .dir = dir,
		.descs_kind = VQB_DESCS_RANGE, .descs_lo = 1, .descs_hi = 4, .pkt_bytes = 200,
		.batch = 16, .mem_node = -1,
	};
}

int main(void)
{
	static const enum vq_policy pols[] = { VQ_POLICY_FULL, VQ_POLICY_COMPACT, VQ_POLICY_READBACK,
					       VQ_POLICY_PREMAPPED, VQ_POLICY_DRIVER_ARRAY, VQ_POLICY_RETRIEVE,
					       VQ_POLICY_ADAPTIVE };
	const size_t npol = sizeof(pols) / sizeof(pols[0]);
	unsigned n = 0;
	for (unsigned l = 0; l < 2; l++)
		for (size_t p = 0; p < npol; p++)
			for (unsigned ind = 0; ind < 2; ind++)
				for (unsigned forge = 0; forge < 2; forge++) {
					if (l == VQ_LAYOUT_PACKED && pols[p] == VQ_POLICY_READBACK)
						continue;
					ring_case((enum vq_layout)l, pols[p], ind, forge);
					n++;
				}
	printf("A. %u broken/reset queues with chains in flight: every token back once, nothing mapped\n", n);

	/* B. the two-thread device stopped mid-run */
	static const char *const dmas[] = { "debug", "iommu", "bounce" };
	n = 0;
	unsigned inflight = 0;
	for (unsigned l = 0; l < 2; l++)
		for (size_t p = 0; p < npol; p++)
			for (size_t b = 0; b < 3; b++) {
				if ((l == VQ_LAYOUT_PACKED && pols[p] == VQ_POLICY_READBACK) ||
				    (pols[p] == VQ_POLICY_PREMAPPED && b == 2))
					continue;
				enum vqb_dir dir = (enum vqb_dir)((p + b) % 3);
				struct vqb_traffic_params tp = engine((enum vq_layout)l, pols[p], dmas[b], dir);
				char name[96], err[256] = "";
				snprintf(name, sizeof(name), "%s %s %s %s", l ? "packed" : "split", vq_policy_name(pols[p]),
					 dmas[b], vqb_dir_name(dir));
				struct vqb_traffic *t;
				REQUIRE(vqb_traffic_setup(&tp, &t, err, sizeof(err)) == 0, "%s: setup: %s", name, err);
				struct vqb_traffic_result r;
				int rc = vqb_traffic_run(t, 0, 0.03, &r, err, sizeof(err));
				struct dma_counters c;
				vqb_traffic_dma_counters(t, &c);
				struct vqb_traffic_final f;
				vqb_traffic_teardown(t, &f);
				CHECK(rc == 0 && r.errors == 0, "%s: run: %d, %llu packets, %llu errors: %s",
				      name, rc, (unsigned long long)r.packets, (unsigned long long)r.errors, err);
				/* a timed run stops with chains posted and not yet
				 * completed, unless the device happened to drain them */
				inflight += pols[p] != VQ_POLICY_PREMAPPED && c.live > 0;
				CHECK(f.dma.live == 0 && f.leaked_mappings == 0 && f.dma.debug_reports == 0,
				      "%s: after teardown %llu live, %llu leaked, %llu debug reports", name,
				      (unsigned long long)f.dma.live, (unsigned long long)f.leaked_mappings,
				      (unsigned long long)f.dma.debug_reports);
				n++;
			}
	CHECK(inflight >= n / 2, "only %u of %u runs stopped with chains in flight: the check is vacuous", inflight, n);
	printf("B. %u two-thread runs stopped (%u with chains in flight): all detached and unmapped\n", n, inflight);

	/* C. the k-th dma_map fails during a run */
	static const struct {
		uint64_t at, count;
		bool completes;
	} fc[] = {
		/* transient: retried even with nothing in flight, the run carries on */
		{ 1, 1, true }, { 40, 1, true }, { 700, 3, true },
		/* persistent: the run stops naming the backend and the cause */
		{ 1, 1u << 30, false }, { 300, 1u << 30, false },
	};
	n = 0;
	for (unsigned l = 0; l < 2; l++)
		for (size_t i = 0; i < sizeof(fc) / sizeof(fc[0]); i++) {
			struct vqb_traffic_params tp = engine((enum vq_layout)l, VQ_POLICY_FULL, "debug", VQB_DIR_BOTH);
			tp.dma_params.fail_map_at = fc[i].at;
			tp.dma_params.fail_map_count = fc[i].count;
			char name[96], err[256] = "";
			snprintf(name, sizeof(name), "%s full debug fail_map_at %llu x %llu", l ? "packed" : "split",
				 (unsigned long long)fc[i].at, (unsigned long long)fc[i].count);
			struct vqb_traffic *t;
			REQUIRE(vqb_traffic_setup(&tp, &t, err, sizeof(err)) == 0, "%s: setup: %s", name, err);
			struct vqb_traffic_result r;
			int rc = vqb_traffic_run(t, 20000, 0, &r, err, sizeof(err));
			struct vqb_traffic_final f;
			vqb_traffic_teardown(t, &f);
			if (fc[i].completes) {
				CHECK(rc == 0 && r.packets == 20000 && r.errors == 0,
				      "%s: the run did not carry on: rc %d, %llu packets, %llu errors (%s)", name, rc,
				      (unsigned long long)r.packets, (unsigned long long)r.errors, err);
				CHECK(f.dma.map_errors == fc[i].count, "%s: %llu map errors", name,
				      (unsigned long long)f.dma.map_errors);
			} else {
				CHECK(rc < 0 && strstr(err, "'debug'") && strstr(err, "injected"),
				      "%s: rc %d, message naming neither backend nor cause: '%s'", name, rc, err);
			}
			CHECK(f.dma.live == 0 && f.dma.debug_reports == 0, "%s: %llu live, %llu debug reports", name,
			      (unsigned long long)f.dma.live, (unsigned long long)f.dma.debug_reports);
			n++;
		}
	printf("C. %u runs with dma_map failures: carried on or stopped with the cause, nothing mapped\n", n);
	return t_done("test_fault_reset");
}
