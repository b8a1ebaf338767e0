/* SPDX-License-Identifier: MIT */
/*
 * test_track_policies - every policy x every backend x both layouts x 1, 2
 * and 19 descriptors per packet x indirect on/off x TX and RX, through the
 * inline software device: every payload verified end to end, exact map and
 * unmap counts, live mappings back to zero at teardown; refused
 * combinations give the documented errors; --unsafe-skip reports the loss
 * or leak it causes. Per-packet policies sync nothing (the ring maps an
 * indirect table after writing it) and a TX bounce copies header, payload
 * and the finished table exactly once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vqb_test.h"
#include "vqb_traffic.h"

static const char *const backends[] = {"identity", "pa", "iommu", "bounce", "noncoherent", "debug"};
static const unsigned descs[] = {1, 2, 19};
#define PACKETS 300u

struct outcome {
	int setup_rc;
	char err[256];
	struct vqb_traffic_result r;
	struct vqb_traffic_final f;
	int run_rc;
};

static void run_one(const struct vqb_traffic_params *p, uint64_t packets, struct outcome *o)
{
	struct vqb_traffic *t;
	memset(o, 0, sizeof(*o));
	o->setup_rc = vqb_traffic_setup(p, &t, o->err, sizeof(o->err));
	if (o->setup_rc < 0)
		return;
	o->run_rc = vqb_traffic_run(t, packets, 0, &o->r, o->err, sizeof(o->err));
	vqb_traffic_teardown(t, &o->f);
}

static bool needs_unmap(const char *b)
{
	return strcmp(b, "identity") && strcmp(b, "pa");
}

static bool needs_sync(const char *b)
{
	return !strcmp(b, "bounce") || !strcmp(b, "noncoherent");
}

/* A refused combination: refused, and the error says why. @return whether
 * the combination is one the tracking layer refuses. */
static bool check_refused(const char *name, const struct outcome *o, unsigned pol, int layout, const char *be)
{
	bool expect_refused = (pol == VQ_POLICY_READBACK && layout == 1) ||
			      (pol == VQ_POLICY_SKIP && needs_unmap(be));
	if (!expect_refused)
		return false;
	CHECK(o->setup_rc < 0, "%s: should be refused", name);
	if (pol == VQ_POLICY_READBACK)
		CHECK(strstr(o->err, "split layout") != NULL, "%s: refusal says why: %s", name, o->err);
	if (pol == VQ_POLICY_SKIP)
		CHECK(strstr(o->err, be) && strstr(o->err, "unmap is needed"),
		      "%s: refusal names backend and reason: %s", name, o->err);
	return true;
}

/* Policy iova: on the IOMMU the two-step API, a link per descriptor (and
 * table), one unlink per direction run (RX through an indirect table: the
 * table's readable run and the buffers' writable one), one IOTLB sync per
 * chain, one range for the queue; elsewhere dma_map per buffer, said so. */
static void check_iova(const char *name, const struct outcome *o, const char *be, uint64_t per_pkt, int ind,
		       int dir)
{
	if (strcmp(be, "iommu")) {
		CHECK(o->f.dma.maps == PACKETS * per_pkt && o->f.dma.unmaps == PACKETS * per_pkt &&
		      o->f.dma.iova_links == 0, "%s: fallback made %llu maps, %llu unmaps, %llu links", name,
		      (unsigned long long)o->f.dma.maps, (unsigned long long)o->f.dma.unmaps,
		      (unsigned long long)o->f.dma.iova_links);
		CHECK(!strncmp(o->f.iova_api, "fallback: ", 10) && o->f.track.ranges == 0, "%s: mode '%s'", name,
		      o->f.iova_api);
		return;
	}
	uint64_t runs = dir && ind ? 2u : 1u;
	CHECK(o->f.dma.maps == 0 && o->f.dma.unmaps == 0, "%s: %llu maps, %llu unmaps: want none", name,
	      (unsigned long long)o->f.dma.maps, (unsigned long long)o->f.dma.unmaps);
	CHECK(o->f.dma.iova_links == PACKETS * per_pkt && o->f.track.links == o->f.dma.iova_links,
	      "%s: %llu links (track %llu), want %llu", name, (unsigned long long)o->f.dma.iova_links,
	      (unsigned long long)o->f.track.links, (unsigned long long)(PACKETS * per_pkt));
	CHECK(o->f.dma.iova_unlinks == PACKETS * runs && o->f.track.unlinks == o->f.dma.iova_unlinks,
	      "%s: %llu unlinks, want %llu", name, (unsigned long long)o->f.dma.iova_unlinks,
	      (unsigned long long)(PACKETS * runs));
	CHECK(o->f.dma.iova_syncs == PACKETS && o->f.track.ranges == 1 && o->f.dma.iova_ranges == 0,
	      "%s: %llu IOTLB syncs, %llu ranges, %llu left", name, (unsigned long long)o->f.dma.iova_syncs,
	      (unsigned long long)o->f.track.ranges, (unsigned long long)o->f.dma.iova_ranges);
	CHECK(!strcmp(o->f.iova_api, "iova"), "%s: mode '%s'", name, o->f.iova_api);
}

/* An allowed combination: every packet verified, exact map, unmap and
 * sync counts for the policy and backend, nothing live or leaked. */
static void check_allowed(const char *name, const struct outcome *o, unsigned pol, const char *be, unsigned nd,
			  int ind, int dir)
{
	CHECK(o->setup_rc == 0 && o->run_rc == 0, "%s: setup %d run %d: %s", name, o->setup_rc, o->run_rc, o->err);
	CHECK(o->r.packets == PACKETS, "%s: %llu packets completed, want %u", name,
	      (unsigned long long)o->r.packets, PACKETS);
	CHECK(o->r.errors == 0 && o->r.lost_bytes == 0, "%s: %llu payload errors, %llu bytes lost", name,
	      (unsigned long long)o->r.errors, (unsigned long long)o->r.lost_bytes);
	CHECK(o->f.leaked_mappings == 0, "%s: %llu mappings leaked", name,
	      (unsigned long long)o->f.leaked_mappings);
	CHECK(o->f.unmaintained_lines == 0 || pol == VQ_POLICY_SKIP, "%s: %llu cache lines left uninvalidated", name,
	      (unsigned long long)o->f.unmaintained_lines);
	CHECK(o->f.dma.faults == 0 && o->f.dma.debug_reports == 0, "%s: %llu faults, %llu debug reports", name,
	      (unsigned long long)o->f.dma.faults, (unsigned long long)o->f.dma.debug_reports);
	uint64_t per_pkt = nd + (ind ? 1u : 0u);
	if (pol == VQ_POLICY_IOVA) {
		check_iova(name, o, be, per_pkt, ind, dir);
	} else if (pol == VQ_POLICY_PREMAPPED) {
		CHECK(o->f.dma.maps == o->f.dma.unmaps, "%s: premapped maps %llu != unmaps %llu", name,
		      (unsigned long long)o->f.dma.maps, (unsigned long long)o->f.dma.unmaps);
		CHECK(o->f.dma.maps > 0 && o->f.dma.maps < PACKETS * per_pkt,
		      "%s: premapped made %llu maps for %u packets: mapping per packet?", name,
		      (unsigned long long)o->f.dma.maps, PACKETS);
		CHECK(o->f.track.maps == o->f.dma.maps, "%s: track maps %llu vs dma %llu", name,
		      (unsigned long long)o->f.track.maps, (unsigned long long)o->f.dma.maps);
		/* asked per buffer after mapping: every buffer of a bounce or
		 * non-coherent backend needs syncs, none elsewhere; each posted
		 * buffer (and indirect table) synced for the device, each
		 * received one for the CPU too */
		uint64_t nbufs = o->f.dma.maps - (ind ? 64u : 0u);
		CHECK(o->f.track.sync_bufs == (needs_sync(be) ? nbufs : 0), "%s: %llu of %llu buffers need syncs",
		      name, (unsigned long long)o->f.track.sync_bufs, (unsigned long long)nbufs);
		uint64_t want_syncs = needs_sync(be) ? PACKETS * (nd * (dir ? 2u : 1u) + (ind ? 1u : 0u)) : 0;
		CHECK(o->f.track.syncs == want_syncs, "%s: %llu syncs, want %llu", name,
		      (unsigned long long)o->f.track.syncs, (unsigned long long)want_syncs);
	} else {
		CHECK(o->f.dma.maps == PACKETS * per_pkt, "%s: %llu maps, want %llu", name,
		      (unsigned long long)o->f.dma.maps, (unsigned long long)(PACKETS * per_pkt));
		/* skip never unmaps; adaptive only once the backend needs it */
		bool unmaps = pol != VQ_POLICY_SKIP && (pol != VQ_POLICY_ADAPTIVE || needs_unmap(be));
		uint64_t want_unmaps = unmaps ? PACKETS * per_pkt : 0;
		CHECK(o->f.dma.unmaps == want_unmaps, "%s: %llu unmaps, want %llu", name,
		      (unsigned long long)o->f.dma.unmaps, (unsigned long long)want_unmaps);
		if (pol == VQ_POLICY_SKIP)
			CHECK(o->f.track.skipped_unmaps == PACKETS * per_pkt, "%s: %llu skipped unmaps", name,
			      (unsigned long long)o->f.track.skipped_unmaps);
		/* the ring maps an indirect table once written, as 6.1's
		 * virtqueue_add_split(): nothing to sync, and a bounce copies
		 * the finished table once (TX: header + payload + 16 bytes per
		 * table entry, at map) */
		CHECK(o->f.dma.syncs_for_cpu + o->f.dma.syncs_for_device == 0, "%s: %llu syncs, want 0", name,
		      (unsigned long long)(o->f.dma.syncs_for_cpu + o->f.dma.syncs_for_device));
		uint64_t want_copied = PACKETS * (12u + 200u + (ind ? 16u * nd : 0u));
		if (!strcmp(be, "bounce") && !dir)
			CHECK(o->f.dma.bytes_copied == want_copied, "%s: %llu bytes bounced, want %llu", name,
			      (unsigned long long)o->f.dma.bytes_copied, (unsigned long long)want_copied);
	}
	if (pol == VQ_POLICY_ADAPTIVE)
		CHECK(o->f.track.tracked_chains == (needs_unmap(be) ? PACKETS : 0),
		      "%s: adaptive kept records for %llu chains", name,
		      (unsigned long long)o->f.track.tracked_chains);
	if (needs_unmap(be) || (pol != VQ_POLICY_SKIP && pol != VQ_POLICY_ADAPTIVE))
		CHECK(o->f.dma.live == 0, "%s: %llu live mappings at teardown", name,
		      (unsigned long long)o->f.dma.live);
}

/* Every policy x backend x layout x descriptors per packet x indirect x
 * direction: refused as documented, or run and checked. */
static void check_matrix(bool have_pa, unsigned *ran, unsigned *refused)
{
	for (int layout = 0; layout < 2; layout++)
	for (unsigned pol = 0; pol < VQ_POLICY_COUNT; pol++)
	for (unsigned b = 0; b < sizeof(backends) / sizeof(backends[0]); b++)
	for (unsigned di = 0; di < 3; di++)
	for (int ind = 0; ind < 2; ind++)
	for (int dir = 0; dir < 2; dir++) {
		const char *be = backends[b];
		if (!strcmp(be, "pa") && !have_pa)
			continue;
		struct vqb_traffic_params p = {
			.cfg = {.layout = layout ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT, .size = 64,
				.features = VQ_FEATURE(VQ_F_VERSION_1) |
					    (layout ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) |
					    (ind ? VQ_FEATURE(VQ_F_INDIRECT_DESC) : 0)},
			.policy = (enum vq_policy)pol,
			.dma = be,
			.dma_params = {.bounce_pool_bytes = 8u << 20, .vfio_container_fd = -1},
			.device = "inline",
			.dev_cpu = -1,
			.dir = dir ? VQB_DIR_RX : VQB_DIR_TX,
			.descs_kind = VQB_DESCS_FIXED,
			.descs_lo = descs[di],
			.descs_hi = descs[di],
			.pkt_bytes = 200,
			.indirect = ind,
			.batch = 8,
			.mem_node = -1,
		};
		char name[160];
		snprintf(name, sizeof(name), "%s/%s/%s/descs=%u/indirect=%s/%s", layout ? "packed" : "split",
			 vq_policy_name(pol), be, descs[di], ind ? "on" : "off", dir ? "rx" : "tx");
		struct outcome o;
		run_one(&p, PACKETS, &o);
		if (check_refused(name, &o, pol, layout, be)) {
			(*refused)++;
			continue;
		}
		(*ran)++;
		check_allowed(name, &o, pol, be, descs[di], ind, dir);
	}
}

static void check_premapped_mask(void)
{
	/* premapped on a 30-bit mask the arena straddles: only the buffers
	 * above the mask bounce, so only they need syncs (dma_need_sync() per
	 * address), and every received payload still arrives */
	for (int dir = 0; dir < 2; dir++) {
		struct vqb_traffic_params p = {
			.cfg = {.layout = VQ_LAYOUT_SPLIT, .size = 64, .features = VQ_FEATURE(VQ_F_VERSION_1)},
			.policy = VQ_POLICY_PREMAPPED, .dma = "identity",
			.dma_params = {.bounce_pool_bytes = 1u << 20, .mask_bits = 30, .vfio_container_fd = -1},
			.device = "inline", .dev_cpu = -1, .dir = dir ? VQB_DIR_RX : VQB_DIR_TX,
			.descs_kind = VQB_DESCS_FIXED, .descs_lo = 2, .descs_hi = 2, .pkt_bytes = 200,
			.batch = 8, .mem_node = -1,
		};
		struct outcome o;
		run_one(&p, 2000, &o);
		CHECK(o.setup_rc == 0 && o.run_rc == 0 && o.r.packets == 2000 && o.r.errors == 0,
		      "premapped, mask 30, %s: setup %d run %d, %llu packets, %llu errors: %s", dir ? "rx" : "tx",
		      o.setup_rc, o.run_rc, (unsigned long long)o.r.packets, (unsigned long long)o.r.errors, o.err);
		CHECK(o.f.track.sync_bufs > 0 && o.f.track.sync_bufs < o.f.dma.maps,
		      "premapped, mask 30: %llu of %llu buffers need syncs, want some but not all",
		      (unsigned long long)o.f.track.sync_bufs, (unsigned long long)o.f.dma.maps);
		CHECK(o.f.track.syncs > 0 && o.f.track.syncs < 2000u * 2u * (dir ? 2u : 1u),
		      "premapped, mask 30: %llu syncs: only the bounced buffers'", (unsigned long long)o.f.track.syncs);
		printf("premapped, 30-bit mask, %s: %llu of %llu buffers need syncs, %llu syncs for 2000 packets, all "
		       "verified\n", dir ? "rx" : "tx", (unsigned long long)o.f.track.sync_bufs,
		       (unsigned long long)o.f.dma.maps, (unsigned long long)o.f.track.syncs);
	}
}

/* @return the cases checked */
static unsigned check_unsafe_skip(void)
{
	unsigned checked = 0;

	/* --unsafe-skip on every backend that needs unmap: the run goes ahead
	 * and what it breaks is reported. */
	for (unsigned b = 0; b < sizeof(backends) / sizeof(backends[0]); b++)
	for (int dir = 0; dir < 2; dir++) {
		const char *be = backends[b];
		if (!needs_unmap(be))
			continue;
		struct vqb_traffic_params p = {
			.cfg = {.layout = VQ_LAYOUT_SPLIT, .size = 64, .features = VQ_FEATURE(VQ_F_VERSION_1)},
			.policy = VQ_POLICY_SKIP, .unsafe_skip = true, .dma = be,
			.dma_params = {.bounce_pool_bytes = 1u << 20, .vfio_container_fd = -1},
			.device = "inline", .dev_cpu = -1, .dir = dir ? VQB_DIR_RX : VQB_DIR_TX,
			.descs_kind = VQB_DESCS_FIXED, .descs_lo = 2, .descs_hi = 2, .pkt_bytes = 200,
			.batch = 8, .mem_node = -1,
		};
		struct outcome o;
		run_one(&p, 2000, &o);
		checked++;
		CHECK(o.setup_rc == 0, "unsafe skip on %s: setup refused: %s", be, o.err);
		/* leaks are what mappings hold: a non-coherent TX mapping holds
		 * nothing (its unmap would do nothing for TO_DEVICE); an RX one
		 * owes its invalidate, and its 12-byte header holds a kmalloc
		 * bounce slot */
		bool holds = strcmp(be, "noncoherent") || dir;
		CHECK((o.f.leaked_mappings > 0) == holds, "unsafe skip on %s/%s: %llu leaked mappings, want %s", be,
		      dir ? "rx" : "tx", (unsigned long long)o.f.leaked_mappings, holds ? "some" : "none");
		if (!strcmp(be, "noncoherent"))
			CHECK((o.f.unmaintained_lines > 0) == (dir == 1), "unsafe skip on noncoherent/%s: %llu lines left "
			      "uninvalidated", dir ? "rx" : "tx", (unsigned long long)o.f.unmaintained_lines);
		if (!strcmp(be, "bounce") && dir) {
			CHECK(o.r.lost_bytes > 0 && o.r.errors > 0,
			      "unsafe skip on bounce/rx: received data loss not detected (%llu bytes, %llu packets)",
			      (unsigned long long)o.r.lost_bytes, (unsigned long long)o.r.errors);
		}
		if (!strcmp(be, "bounce") && !dir)
			CHECK(o.r.stopped_early && strstr(o.r.note, "bounce"),
			      "unsafe skip on bounce/tx: pool exhaustion should stop the run with a note: '%s'", o.r.note);
		if (!strcmp(be, "debug"))
			CHECK(o.f.dma.live > 0, "unsafe skip on debug: live mappings %llu", (unsigned long long)o.f.dma.live);
		printf("unsafe skip on %-11s %s: %llu packets, %llu lost bytes, %llu leaked mappings%s%s\n", be,
		       dir ? "rx" : "tx", (unsigned long long)o.r.packets, (unsigned long long)o.r.lost_bytes,
		       (unsigned long long)o.f.leaked_mappings, o.r.stopped_early ? ", " : "", o.r.note);
	}
	return checked;
}

int main(void)
{
	unsigned ran = 0, refused = 0, unsafe_checked;
	bool have_pa = geteuid() == 0;

	check_matrix(have_pa, &ran, &refused);
	check_premapped_mask();
	unsafe_checked = check_unsafe_skip();
	printf("ran %u allowed combinations (%u packets each, payloads verified), %u refused as documented, "
	       "%u unsafe-skip cases reported%s\n", ran, PACKETS, refused, unsafe_checked,
	       have_pa ? "" : " (pa skipped: not root)");
	return t_done("test_track_policies");
}
