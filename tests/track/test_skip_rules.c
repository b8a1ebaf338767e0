/* SPDX-License-Identifier: MIT */
/*
 * test_skip_rules - the three skip rules (upstream, rfc, never) against
 * every DMA setup of the 2024 argument, with every payload verified:
 *
 *   - a rule that refuses skip refuses it at setup, naming the reason;
 *   - under upstream, no allowed skip loses anything: where a mapping
 *     bounces mid-run, skip stops with an error naming the chain and the
 *     bounced mapping;
 *   - under rfc, the setups named in the RFC's rejection (a mask that some
 *     buffers exceed, non-coherent, DMA debugging) run and show their
 *     damage: lost or stale received bytes, leaked mappings;
 *   - the dynamic case: buffers below the mask until one lies above it;
 *     adaptive starts keeping records at exactly the chain where skip
 *     stops, and delivers every payload.
 */
#include <stdio.h>
#include <string.h>

#include "vqb_test.h"
#include "vqb_traffic.h"

struct setup {
	const char *name, *dma;
	struct dma_params dp;
	/* expected per rule: 'R' refused at setup, 'S' safe to the end,
	 * 'X' stopped mid-run by upstream (no damage), 'D' runs with damage */
	char upstream, rfc, never;
};

static const struct setup setups[] = {
	{"direct coherent", "identity", {.vfio_container_fd = -1}, 'S', 'S', 'R'},
	/* 30 bits, as a b44 NIC: the 1 GiB boundary is ordinary memory even
	 * under the sanitizers (ASan's shadow starts just below 2 GiB) */
	{"direct, mask some buffers exceed", "identity", {.mask_bits = 30, .vfio_container_fd = -1}, 'X', 'D', 'R'},
	{"direct, forced bouncing", "identity", {.force_bounce = true, .vfio_container_fd = -1}, 'X', 'R', 'R'},
	{"direct non-coherent", "noncoherent", {.nc_model = true, .vfio_container_fd = -1}, 'R', 'D', 'R'},
	{"direct with DMA debugging", "debug", {.inner = "identity", .vfio_container_fd = -1}, 'R', 'D', 'R'},
	{"iommu strict", "iommu", {.vfio_container_fd = -1}, 'R', 'R', 'R'},
	{"iommu lazy", "iommu", {.lazy = true, .vfio_container_fd = -1}, 'R', 'R', 'R'},
};

struct out {
	int setup_rc, run_rc;
	char err[320];
	struct vqb_traffic_result r;
	struct vqb_traffic_final f;
};

static void run(const struct setup *s, enum vq_policy pol, enum vq_skip_rule rule, uint64_t packets,
		struct out *o)
{
	struct vqb_traffic_params p = {
		.cfg = {.layout = VQ_LAYOUT_SPLIT, .size = 256, .features = VQ_FEATURE(VQ_F_VERSION_1)},
		.policy = pol, .skip_rule = rule, .dma = s->dma, .dma_params = s->dp,
		.device = "inline", .dev_cpu = -1, .dir = VQB_DIR_RX,
		.descs_kind = VQB_DESCS_FIXED, .descs_lo = 2, .descs_hi = 2, .pkt_bytes = 64,
		.batch = 16, .mem_node = -1,
	};
	p.dma_params.bounce_pool_bytes = 4u << 20;
	struct vqb_traffic *t;
	memset(o, 0, sizeof(*o));
	o->setup_rc = vqb_traffic_setup(&p, &t, o->err, sizeof(o->err));
	if (o->setup_rc < 0)
		return;
	o->run_rc = vqb_traffic_run(t, packets, 0, &o->r, o->err, sizeof(o->err));
	vqb_traffic_teardown(t, &o->f);
}

int main(void)
{
	const uint64_t packets = 3000; /* > 256 / 2 contexts: the mask case crosses it */
	unsigned cells = 0;

	for (unsigned i = 0; i < sizeof(setups) / sizeof(setups[0]); i++)
	for (unsigned rule = 0; rule < VQ_SKIP_RULE_COUNT; rule++) {
		const struct setup *s = &setups[i];
		char want = rule == VQ_SKIP_UPSTREAM ? s->upstream : rule == VQ_SKIP_RFC ? s->rfc : s->never;
		struct out o;
		run(s, VQ_POLICY_SKIP, (enum vq_skip_rule)rule, packets, &o);
		const char *rn = vq_skip_rule_name(rule);
		cells++;
		switch (want) {
		case 'R':
			CHECK(o.setup_rc < 0, "%s, --skip-rule %s: skip should be refused", s->name, rn);
			CHECK(strstr(o.err, "refused") != NULL, "%s, %s: refusal text: %s", s->name, rn, o.err);
			break;
		case 'S':
			CHECK(o.setup_rc == 0 && o.run_rc == 0, "%s, %s: should run safely: %s", s->name, rn, o.err);
			CHECK(o.r.packets == packets && o.r.errors == 0 && o.f.leaked_mappings == 0,
			      "%s, %s: %llu packets, %llu errors, %llu leaked", s->name, rn,
			      (unsigned long long)o.r.packets, (unsigned long long)o.r.errors,
			      (unsigned long long)o.f.leaked_mappings);
			break;
		case 'X':
			CHECK(o.setup_rc == 0 && o.run_rc < 0, "%s, %s: should start, then stop", s->name, rn);
			CHECK(strstr(o.err, "stopped at chain") && strstr(o.err, "bounce"),
			      "%s, %s: the stop names the chain and the bounce: %s", s->name, rn, o.err);
			CHECK(o.r.errors == 0 && o.r.lost_bytes == 0 && o.f.leaked_mappings == 0,
			      "%s, %s: stopped skip lost %llu bytes, leaked %llu", s->name, rn,
			      (unsigned long long)o.r.lost_bytes, (unsigned long long)o.f.leaked_mappings);
			break;
		case 'D':
			CHECK(o.setup_rc == 0, "%s, %s: the rule should allow skip: %s", s->name, rn, o.err);
			CHECK(o.r.errors > 0 || o.f.leaked_mappings > 0,
			      "%s, %s: allowed skip must show damage: %llu bad packets, %llu bytes lost, %llu leaked",
			      s->name, rn, (unsigned long long)o.r.errors, (unsigned long long)o.r.lost_bytes,
			      (unsigned long long)o.f.leaked_mappings);
			break;
		}
		printf("%-34s %-8s skip: %s%s%s (packets %llu, bad %llu, lost/stale bytes %llu, leaked %llu)\n",
		       s->name, rn,
		       o.setup_rc < 0 ? "refused" : o.run_rc < 0 ? "stopped/failed" : "ran",
		       o.setup_rc < 0 || o.run_rc < 0 ? ": " : "", o.setup_rc < 0 || o.run_rc < 0 ? o.err : "",
		       (unsigned long long)o.r.packets, (unsigned long long)o.r.errors,
		       (unsigned long long)o.r.lost_bytes, (unsigned long long)o.f.leaked_mappings);
	}

	/* the RFC's named cases each show their own kind of damage */
	struct out o;
	run(&setups[1], VQ_POLICY_SKIP, VQ_SKIP_RFC, packets, &o);
	CHECK(o.r.lost_bytes > 0 && o.f.leaked_mappings > 0, "rfc, mask: received bytes lost %llu, leaked %llu",
	      (unsigned long long)o.r.lost_bytes, (unsigned long long)o.f.leaked_mappings);
	run(&setups[3], VQ_POLICY_SKIP, VQ_SKIP_RFC, packets, &o);
	CHECK(o.r.errors > 0 && o.r.lost_bytes > 0, "rfc, non-coherent: stale received data not seen (%llu packets)",
	      (unsigned long long)o.r.errors);
	run(&setups[4], VQ_POLICY_SKIP, VQ_SKIP_RFC, packets, &o);
	CHECK(o.f.leaked_mappings == packets * 2, "rfc, debug: %llu mappings left for DMA debugging to report, want %llu",
	      (unsigned long long)o.f.leaked_mappings, (unsigned long long)packets * 2);

	/* the dynamic case: adaptive vs skip on the buffers that cross the mask */
	struct out sk, ad;
	run(&setups[1], VQ_POLICY_SKIP, VQ_SKIP_UPSTREAM, packets, &sk);
	run(&setups[1], VQ_POLICY_ADAPTIVE, VQ_SKIP_UPSTREAM, packets, &ad);
	unsigned long long stop = ~0ull;
	const char *at = strstr(sk.err, "stopped at chain ");
	if (at)
		sscanf(at, "stopped at chain %llu", &stop);
	CHECK(ad.run_rc == 0 && ad.r.packets == packets && ad.r.errors == 0 && ad.f.leaked_mappings == 0,
	      "adaptive across the mask: rc %d, %llu packets, %llu bad, %llu leaked: %s", ad.run_rc,
	      (unsigned long long)ad.r.packets, (unsigned long long)ad.r.errors,
	      (unsigned long long)ad.f.leaked_mappings, ad.err);
	CHECK(stop > 0 && stop < packets, "skip stopped at chain %llu: the flip must come mid-run", stop);
	CHECK(ad.f.track.first_tracked_chain == stop + 1,
	      "adaptive's first tracked chain is number %llu, skip stopped at chain index %llu",
	      (unsigned long long)ad.f.track.first_tracked_chain, stop);
	CHECK(ad.f.track.tracked_chains == packets - stop, "adaptive tracked %llu chains, want %llu",
	      (unsigned long long)ad.f.track.tracked_chains, (unsigned long long)(packets - stop));
	printf("dynamic: skip stopped at chain %llu; adaptive tracked chains %llu.. (%llu of %llu), every payload intact\n",
	       stop, (unsigned long long)ad.f.track.first_tracked_chain, (unsigned long long)ad.f.track.tracked_chains,
	       (unsigned long long)packets);
	printf("checked %u rule x setup cells\n", cells);
	return t_done("test_skip_rules");
}
