/* SPDX-License-Identifier: MIT */
/*
 * test_track_iova - policy iova (the IOVA two-step API) end to end through
 * the inline device, every payload verified:
 *   - iommu strict, lazy and untrusted x split, packed x direct, indirect x
 *     TX, RX x 1, 4 and 19 buffers: links = descriptors (+ the table),
 *     unlinks = direction runs (1; RX through a table 2), one IOTLB sync
 *     per chain, one IOTLB flush per unlink whatever the domain (lazy
 *     never queues an unlink), one range allocated per queue and freed at
 *     teardown, no map or unmap, nothing leaked; untrusted RX copies every
 *     received byte back;
 *   - the footprint the allocator counts is the formula's: 8 bytes per
 *     chain + a free-window entry + the range state, no per-descriptor
 *     record (and less than full's records);
 *   - fallback where dma_iova_try_alloc fails (identity, iommu
 *     passthrough, an IOVA space too small for the range): dma_map per
 *     buffer, full's records, the reason in the mode text;
 *   - exhaustion: an untrusted device's bounce pool running out under the
 *     links, and a fallback whose per-buffer maps exhaust a tiny IOVA
 *     space, stop the run as exhausted naming the resource.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dma_mem.h"
#include "vqb_test.h"
#include "vqb_traffic.h"

#define PACKETS 500u

struct outcome {
	int setup_rc, run_rc;
	char err[512];
	struct vqb_traffic_result r;
	struct vqb_traffic_final f;
	uint64_t tracking_counted; /* the allocator's tracking bytes after setup */
};

static void run_one(const struct vqb_traffic_params *p, uint64_t packets, struct outcome *o)
{
	struct vqb_traffic *t;
	uint64_t m0[DMA_MEM_NCAT], m1[DMA_MEM_NCAT];
	memset(o, 0, sizeof(*o));
	dma_mem_get(m0);
	o->setup_rc = vqb_traffic_setup(p, &t, o->err, sizeof(o->err));
	if (o->setup_rc < 0)
		return;
	dma_mem_get(m1);
	o->tracking_counted = m1[DMA_MEM_TRACKING] - m0[DMA_MEM_TRACKING];
	o->run_rc = vqb_traffic_run(t, packets, 0, &o->r, o->err, sizeof(o->err));
	vqb_traffic_teardown(t, &o->f);
}

static struct vqb_traffic_params params(int layout, bool ind, bool rx, unsigned descs, const char *dma,
					struct dma_params dp)
{
	dp.vfio_container_fd = -1;
	return (struct vqb_traffic_params){
		.cfg = {.layout = layout ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT, .size = 64,
			.features = VQ_FEATURE(VQ_F_VERSION_1) | (layout ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) |
				    (ind ? VQ_FEATURE(VQ_F_INDIRECT_DESC) : 0)},
		.policy = VQ_POLICY_IOVA, .dma = dma, .dma_params = dp, .device = "inline", .dev_cpu = -1,
		.dir = rx ? VQB_DIR_RX : VQB_DIR_TX, .descs_kind = VQB_DESCS_FIXED, .descs_lo = descs,
		.descs_hi = descs, .pkt_bytes = 300, .indirect = ind, .batch = 8, .mem_node = -1,
	};
}

static void iommu_modes(void)
{
	static const struct {
		const char *name;
		struct dma_params dp;
	} modes[] = {
		{ "strict", {0} },
		{ "lazy", {.lazy = true} },
		{ "untrusted", {.untrusted = true, .bounce_pool_bytes = 8u << 20} },
	};
	static const unsigned descs[] = {1, 4, 19};
	unsigned runs = 0;
	for (unsigned mi = 0; mi < 3; mi++)
	for (int layout = 0; layout < 2; layout++)
	for (int ind = 0; ind < 2; ind++)
	for (int rx = 0; rx < 2; rx++)
	for (unsigned di = 0; di < 3; di++) {
		char name[128];
		snprintf(name, sizeof(name), "iommu %s %s descs=%u%s %s", modes[mi].name, layout ? "packed" : "split",
			 descs[di], ind ? " indirect" : "", rx ? "rx" : "tx");
		struct vqb_traffic_params p = params(layout, ind, rx, descs[di], "iommu", modes[mi].dp);
		struct outcome o;
		run_one(&p, PACKETS, &o);
		runs++;
		CHECK(o.setup_rc == 0 && o.run_rc == 0 && o.r.packets == PACKETS, "%s: setup %d run %d, %llu packets: %s",
		      name, o.setup_rc, o.run_rc, (unsigned long long)o.r.packets, o.err);
		CHECK(o.r.errors == 0 && o.r.lost_bytes == 0, "%s: %llu payload errors, %llu bytes lost", name,
		      (unsigned long long)o.r.errors, (unsigned long long)o.r.lost_bytes);
		CHECK(!strcmp(o.f.iova_api, "iova"), "%s: mode '%s'", name, o.f.iova_api);
		const struct dma_counters *c = &o.f.dma;
		uint64_t links = PACKETS * (descs[di] + (ind ? 1u : 0u)), unlinks = PACKETS * (rx && ind ? 2u : 1u);
		CHECK(c->iova_links == links && o.f.track.links == links, "%s: %llu links (track %llu), want %llu",
		      name, (unsigned long long)c->iova_links, (unsigned long long)o.f.track.links,
		      (unsigned long long)links);
		CHECK(c->iova_unlinks == unlinks && o.f.track.unlinks == unlinks, "%s: %llu unlinks, want %llu", name,
		      (unsigned long long)c->iova_unlinks, (unsigned long long)unlinks);
		CHECK(c->iova_syncs == PACKETS && o.f.track.iova_syncs == PACKETS, "%s: %llu IOTLB syncs", name,
		      (unsigned long long)c->iova_syncs);
		CHECK(c->iotlb_flushes == unlinks, "%s: %llu IOTLB flushes for %llu unlinks (lazy too: an unlink "
		      "is never queued)", name, (unsigned long long)c->iotlb_flushes, (unsigned long long)unlinks);
		CHECK(o.f.track.ranges == 1 && c->iova_ranges == 0 && c->maps == 0 && c->unmaps == 0,
		      "%s: %llu ranges allocated, %llu left; %llu maps", name, (unsigned long long)o.f.track.ranges,
		      (unsigned long long)c->iova_ranges, (unsigned long long)c->maps);
		CHECK(o.f.leaked_mappings == 0 && c->faults == 0 && c->bounce_live == 0, "%s: %llu leaked, %llu faults",
		      name, (unsigned long long)o.f.leaked_mappings, (unsigned long long)c->faults);
		if (mi == 2) {
			/* every buffer here is unaligned: bounced; RX copies back */
			CHECK(c->bounced == links, "%s: %llu of %llu links bounced", name,
			      (unsigned long long)c->bounced, (unsigned long long)links);
			uint64_t back = rx ? PACKETS * (12u + 300u) : 0;
			CHECK(c->bytes_copied >= back && c->bytes_copied > 0, "%s: %llu bytes copied, want at least %llu",
			      name, (unsigned long long)c->bytes_copied, (unsigned long long)back);
		} else {
			CHECK(c->bounced == 0 && c->bytes_copied == 0, "%s: %llu bounced", name,
			      (unsigned long long)c->bounced);
		}
		/* footprint: counted = the formula, nothing per descriptor */
		CHECK(o.tracking_counted == o.f.fp.tracking + o.f.fp.chain_state && o.f.fp.tracking == 0,
		      "%s: counted %llu tracking bytes, formula %zu + %zu", name,
		      (unsigned long long)o.tracking_counted, o.f.fp.tracking, o.f.fp.chain_state);
		struct vq_footprint full;
		vq_track_footprint(&p.cfg, VQ_POLICY_FULL, 0, &full);
		CHECK(o.f.fp.chain_state == 10u * 64u + (o.f.fp.chain_state - 640u) &&
		      o.f.fp.chain_state < full.tracking + full.chain_state,
		      "%s: iova keeps %zu bytes, full %zu", name, o.f.fp.chain_state, full.tracking);
	}
	printf("ok: %u iommu runs (strict, lazy, untrusted x layouts x indirect x dir x 1/4/19 descs): payloads "
	       "verified, links = descriptors, unlinks = runs, one flush per unlink, one range per queue\n", runs);
}

static void fallbacks(void)
{
	static const struct {
		const char *dma, *why;
		struct dma_params dp;
	} cases[] = {
		{ "identity", "dma-direct", {0} },
		{ "iommu", "passthrough", {.passthrough = true} },
		/* 64 queue windows x 4 granules: 1 MiB, more than 128 pages */
		{ "iommu", "IOVA space exhausted", {.iova_pages = 128} },
	};
	for (unsigned k = 0; k < 3; k++)
	for (int rx = 0; rx < 2; rx++) {
		struct vqb_traffic_params p = params(0, false, rx, 4, cases[k].dma, cases[k].dp);
		struct outcome o;
		run_one(&p, PACKETS, &o);
		char name[96];
		snprintf(name, sizeof(name), "fallback on %s (%s) %s", cases[k].dma, cases[k].why, rx ? "rx" : "tx");
		CHECK(o.setup_rc == 0 && o.run_rc == 0 && o.r.packets == PACKETS && o.r.errors == 0,
		      "%s: setup %d run %d, %llu packets, %llu errors: %s", name, o.setup_rc, o.run_rc,
		      (unsigned long long)o.r.packets, (unsigned long long)o.r.errors, o.err);
		CHECK(!strncmp(o.f.iova_api, "fallback: ", 10) && strstr(o.f.iova_api, cases[k].why),
		      "%s: mode '%s'", name, o.f.iova_api);
		CHECK(o.f.dma.maps == PACKETS * 4u && o.f.dma.unmaps == PACKETS * 4u && o.f.dma.iova_links == 0 &&
		      o.f.track.ranges == 0, "%s: %llu maps %llu unmaps %llu links", name,
		      (unsigned long long)o.f.dma.maps, (unsigned long long)o.f.dma.unmaps,
		      (unsigned long long)o.f.dma.iova_links);
		/* full's records, counted */
		CHECK(o.f.fp.tracking == 64u * 16u && o.tracking_counted == o.f.fp.tracking + o.f.fp.chain_state,
		      "%s: tracking %zu (counted %llu), want full's 1024 + the state", name, o.f.fp.tracking,
		      (unsigned long long)o.tracking_counted);
	}
	printf("ok: fallback to dma_map per buffer on identity, passthrough and a too-small IOVA space, said so\n");
}

static void exhaustion(void)
{
	/* untrusted: 4 bounce slots of 2 KiB, each link of an unaligned
	 * buffer takes two (a granule): a 4-buffer chain never fits, even
	 * with nothing in flight (with room for a few chains the run would
	 * wait for completions instead: back-pressure, not exhaustion) */
	struct dma_params dp = {.untrusted = true, .bounce_pool_bytes = 8u << 10};
	struct vqb_traffic_params p = params(0, false, true, 4, "iommu", dp);
	struct outcome o;
	run_one(&p, PACKETS, &o);
	CHECK(o.setup_rc == 0 && o.run_rc < 0 && o.r.exhausted && strstr(o.err, "bounce pool exhausted") &&
	      strstr(o.err, "policy 'iova': linking"), "untrusted, tiny pool: run %d exhausted %d: %s", o.run_rc,
	      o.r.exhausted, o.err);
	CHECK(o.f.leaked_mappings == 0 && o.f.dma.bounce_live == 0, "untrusted, tiny pool: %llu leaked",
	      (unsigned long long)o.f.leaked_mappings);
	printf("ok: untrusted bounce pool exhausted after %llu packets: %.120s\n", (unsigned long long)o.r.packets,
	       o.err);
	/* an IOVA space of 2 pages: no range (fallback), then a chain's four
	 * per-buffer maps run out as well */
	struct dma_params dp2 = {.iova_pages = 2};
	p = params(0, false, false, 4, "iommu", dp2);
	p.cfg.size = 64;
	run_one(&p, PACKETS, &o);
	CHECK(o.setup_rc == 0 && o.r.exhausted && strstr(o.err, "IOVA space exhausted") &&
	      !strncmp(o.f.iova_api, "fallback: ", 10), "2 IOVA pages: exhausted %d, mode '%s': %s", o.r.exhausted,
	      o.f.iova_api, o.err);
	printf("ok: 2 IOVA pages: no range, fallback maps exhausted after %llu packets\n",
	       (unsigned long long)o.r.packets);
}

int main(void)
{
	iommu_modes();
	fallbacks();
	exhaustion();
	return t_done("test_track_iova");
}
