/* SPDX-License-Identifier: MIT */
/*
 * vqb_run.c - one configuration x one repetition: check it, set it up, run
 * it, verify every packet, tear it down, and turn what was counted into a
 * metrics row.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev_vfio.h"
#include "dma.h"
#include "vq_track.h"
#include "vqb_dpdk.h"
#include "vqb_perf.h"
#include "vqb_place.h"
#include "vqb_rte_ring.h"
#include "vqb_run.h"
#include "vqb_traffic.h"

/* the --pages 2m fallback notice, once per process */
static bool hugepage_notice_done;

static struct dma_params dma_config(const struct vqb_config *c)
{
	return (struct dma_params){
		.mask_bits = c->dma_mask >= 64 ? 0 : c->dma_mask,
		.min_align = c->dma_align > 1 ? c->dma_align : 0,
		.force_bounce = c->force_bounce,
		.lazy = c->iommu_mode == 1,
		.nc_model = c->nc_model,
		.vfio_container_fd = -1,
	};
}

static struct vq_config ring_config(const struct vqb_config *c)
{
	struct vq_config v = {
		.layout = c->layout == VQB_LAYOUT_PACKED ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT,
		.size = c->queue_size,
		.features = VQ_FEATURE(VQ_F_VERSION_1),
	};
	if (c->layout == VQB_LAYOUT_PACKED)
		v.features |= VQ_FEATURE(VQ_F_RING_PACKED);
	if (c->indirect)
		v.features |= VQ_FEATURE(VQ_F_INDIRECT_DESC);
	if (c->in_order)
		v.features |= VQ_FEATURE(VQ_F_IN_ORDER);
	if (c->event_idx)
		v.features |= VQ_FEATURE(VQ_F_EVENT_IDX);
	return v;
}

/* --device vfio:BDF: what a real NIC on QEMU's user network can run, and
 * the device itself (attached here, so a missing piece is reported before
 * anything runs). On success *out is attached; the caller detaches it. */
static int vfio_check(const struct vqb_config *c, struct dev_vfio **out, char *msg, size_t len)
{
	if (strcmp(c->dma, "vfio") && strcmp(c->dma, "pa"))
		return snprintf(msg, len, "--device vfio:%s with --dma %s: a real device needs real DMA "
				"addresses: --dma vfio (type1 IOMMU) or pa (no-IOMMU mode)", c->dev_path,
				c->dma), -EINVAL;
	if (c->dir == VQB_DIR_RX)
		return snprintf(msg, len, "--device vfio:%s with --dir rx: a NIC receives only what its "
				"network sends; use --dir both (every TX packet is an ARP request whose "
				"reply is received and checked) or --dir tx", c->dev_path), -EINVAL;
	if (c->dir == VQB_DIR_BOTH && c->pkt_bytes < 64)
		return snprintf(msg, len, "--device vfio:%s --dir both with --pkt-bytes %u: RX buffers "
				"must hold a 64-byte ARP reply after the header; use --pkt-bytes 64 or more",
				c->dev_path, c->pkt_bytes), -EINVAL;
	if (dev_vfio_attach(c->dev_path, out) < 0)
		return snprintf(msg, len, "--device vfio:%s: %s", c->dev_path, dev_last_error()), -ENODEV;
	bool noiommu = dev_vfio_noiommu(*out);
	if (noiommu != !strcmp(c->dma, "pa")) {
		dev_vfio_detach(*out);
		*out = NULL;
		return snprintf(msg, len, "--device vfio:%s with --dma %s: the device's group is %s; use "
				"--dma %s", c->dev_path, c->dma, noiommu ? "a no-IOMMU group (DMA addresses "
				"are physical)" : "behind an IOMMU (DMA addresses are IOVAs)",
				noiommu ? "pa" : "vfio"), -EINVAL;
	}
	return 0;
}

int vqb_run_check(const struct vqb_config *c, char *msg, size_t len)
{
	if (c->queue_size < 1 || c->queue_size > VQ_MAX_SIZE)
		return snprintf(msg, len, "--queue-size %u: allowed 1..%d", c->queue_size, VQ_MAX_SIZE), -EINVAL;
	if (c->layout == VQB_LAYOUT_RTE_RING && c->device != VQB_DEV_THREAD)
		return snprintf(msg, len,
				"--layout rte_ring with --device %s: the ceiling is an rte_ring pair between two "
				"cores and needs --device thread", vqb_device_name(c->device)), -EINVAL;
	if (c->layout == VQB_LAYOUT_RTE_RING)
		return 0; /* the ceiling ignores policy, backend and descriptors */
	if (c->device == VQB_DEV_VHOST_USER && strcmp(c->dma, "identity"))
		return snprintf(msg, len,
				"--device vhost-user:%s with --dma %s: needs --dma identity (the backend reads "
				"buffers at their virtual addresses in the shared memfd regions; other backends' "
				"addresses and memory are not shared)",
				c->dev_path, c->dma), -EINVAL;
	if (c->layout == VQB_LAYOUT_SPLIT && (c->queue_size & (c->queue_size - 1)))
		return snprintf(msg, len,
				"--queue-size %u with --layout split: the split layout needs a power of two "
				"(packed takes any size 1..%d)", c->queue_size, VQ_MAX_SIZE), -EINVAL;
	if (!c->indirect && c->descs_hi > c->queue_size)
		return snprintf(msg, len,
				"--descs %u on --queue-size %u with --indirect off: a chain would need more "
				"descriptors than the queue has", c->descs_hi, c->queue_size), -EINVAL;
	if (c->batch > c->queue_size)
		return snprintf(msg, len, "--batch %u is larger than --queue-size %u", c->batch, c->queue_size),
		       -EINVAL;
	if (c->pkt_bytes < 8 || c->pkt_bytes + 1 < c->descs_hi)
		return snprintf(msg, len,
				"--pkt-bytes %u with --descs up to %u: need at least 8 bytes and one payload byte "
				"per descriptor after the header", c->pkt_bytes, c->descs_hi), -EINVAL;
	if (c->dma_align & (c->dma_align - 1))
		return snprintf(msg, len, "--dma-align %u: must be a power of two", c->dma_align), -EINVAL;
	enum vq_policy pol;
	if (vq_policy_lookup(c->policy, &pol) < 0)
		return snprintf(msg, len, "--policy %s: no such policy", c->policy), -EINVAL;
	enum vq_skip_rule rule;
	if (vq_skip_rule_lookup(c->skip_rule, &rule) < 0)
		return snprintf(msg, len, "--skip-rule %s: no such rule", c->skip_rule), -EINVAL;
	struct dma_params dp = dma_config(c);
	dp.bounce_pool_bytes = 1u << 20;
	struct dev_vfio *vfio = NULL;
	if (c->device == VQB_DEV_VFIO) {
		int vr = vfio_check(c, &vfio, msg, len);
		if (vr < 0)
			return vr;
		dp.vfio_container_fd = dev_vfio_container_fd(vfio);
	}
	struct dma *d;
	int rc = dma_open(c->dma, &dp, &d);
	if (rc < 0) {
		dev_vfio_detach(vfio);
		return snprintf(msg, len, "--dma %s: %s", c->dma, dma_last_error()), rc;
	}
	struct vq_config vc = ring_config(c);
	char dummy[64];
	struct vq_track_params tp = {.policy = pol, .skip_rule = rule, .unsafe_skip = c->unsafe_skip, .arena = dummy,
				     .arena_len = sizeof(dummy), .buf_size = 64};
	rc = vq_track_check(&vc, &tp, d);
	dma_close(d);
	dev_vfio_detach(vfio);
	if (rc < 0)
		return snprintf(msg, len, "--policy %s with --dma %s on --layout %s: %s", c->policy, c->dma,
				vqb_layout_name(c->layout), vq_track_last_error()), rc;
	return 0;
}

static uint64_t rss_bytes(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Round trips per core-to-core measurement: ~0.1-0.6 ms each. */
#define C2C_ROUNDS 2000u

/* The round trip after the repetition, and whether the placement moved. */
static void placement_after(struct vqb_metrics *m, const struct vqb_placement *pl)
{
	if (pl->device_cpu == pl->driver_cpu)
		return;
	m->c2c_ns_after = vqb_place_c2c_ns(pl->device_cpu, C2C_ROUNDS);
	double lo = fmin(m->c2c_ns_before, m->c2c_ns_after), hi = fmax(m->c2c_ns_before, m->c2c_ns_after);
	m->placement_changed = lo > 0 && hi / lo > 1.5;
}

int vqb_run_once(const struct vqb_config *c, const struct vqb_env *env, struct vqb_metrics *m,
		 char *msg, size_t len)
{
	struct vqb_placement pl;
	int rc = vqb_place_choose(c->cores, &pl, msg, len);
	if (rc < 0)
		return rc;
	m->driver_cpu = pl.driver_cpu;
	m->device_cpu = c->device == VQB_DEV_INLINE ? pl.driver_cpu
			: c->device == VQB_DEV_VHOST_USER || c->device == VQB_DEV_VFIO ? -1 /* another process, hardware */
			: pl.device_cpu;
	vqb_place_pin_self(pl.driver_cpu);
	/* the round trip tells where the two cores sit: only where a device
	 * thread runs on the second one (not inline: one core, and under
	 * valgrind, which serialises threads, a ping-pong would crawl) */
	bool two_cores = c->device == VQB_DEV_THREAD && pl.device_cpu != pl.driver_cpu;
	if (two_cores)
		m->c2c_ns_before = vqb_place_c2c_ns(pl.device_cpu, C2C_ROUNDS);
	if (c->layout == VQB_LAYOUT_RTE_RING) {
		rc = vqb_rte_ring_run(c, &pl, m, msg, len);
		if (two_cores)
			placement_after(m, &pl);
		return rc;
	}

	enum vq_policy pol;
	enum vq_skip_rule rule;
	if (vq_policy_lookup(c->policy, &pol) < 0 || vq_skip_rule_lookup(c->skip_rule, &rule) < 0)
		return snprintf(msg, len, "--policy %s / --skip-rule %s: unknown", c->policy, c->skip_rule), -EINVAL;
	struct vqb_traffic_params tp = {
		.cfg = ring_config(c),
		.policy = pol,
		.skip_rule = rule,
		.unsafe_skip = c->unsafe_skip,
		.dma = c->dma,
		.dma_params = dma_config(c),
		.device = vqb_device_name(c->device),
		.dev_cpu = pl.device_cpu,
		.dir = c->dir,
		.descs_kind = c->descs_kind,
		.descs_lo = c->descs_lo,
		.descs_hi = c->descs_hi,
		.pkt_bytes = c->pkt_bytes,
		.indirect = c->indirect,
		.batch = c->batch,
		.mem_node = c->mem_node,
		.seed = 0x5eed0000u + c->index * 1000u + m->rep,
		/* --pages 4k: anonymous 4 KiB pages; 2m: DPDK's hugepage memory */
		.mem = c->pages == 1 ? NULL : vqb_dpdk_mem_ops(env),
		.launcher = c->device == VQB_DEV_THREAD ? vqb_dpdk_launcher(env) : NULL,
	};
	/* vhost-user: rings and buffers in memfd regions the backend maps;
	 * both ends verify (dir both: echo), or RX checks lengths (dir rx:
	 * the backend generates foreign packets) */
	struct dev_shm *shm = NULL;
	struct vqb_mem_ops shm_ops;
	char devname[VQB_DEV_PATH_MAX + 16];
	if (c->device == VQB_DEV_VHOST_USER) {
		if (dev_shm_create(&shm) < 0)
			return snprintf(msg, len, "--device vhost-user:%s: out of memory", c->dev_path), -ENOMEM;
		vqb_shm_mem_ops(shm, &shm_ops);
		dev_shm_set_page_size(shm, c->pages == 1 ? DEV_SHM_PAGE_4K : DEV_SHM_PAGE_2M);
		snprintf(devname, sizeof(devname), "vhost-user:%s", c->dev_path);
		tp.device = devname;
		tp.mem = &shm_ops;
		tp.shm = shm;
		tp.launcher = NULL;
		tp.poll_only = true;
		tp.echo = c->dir == VQB_DIR_BOTH;
		tp.rx_len_only = c->dir == VQB_DIR_RX;
	}
	if (c->device == VQB_DEV_VFIO) {
		/* hardware: polled, no device thread; dir both = ARP request per
		 * TX packet, its reply on RX (an RX buffer posted before each) */
		snprintf(devname, sizeof(devname), "vfio:%s", c->dev_path);
		tp.device = devname;
		tp.launcher = NULL;
		tp.poll_only = true;
		tp.echo = c->dir == VQB_DIR_BOTH;
	}
	snprintf(m->memory, sizeof(m->memory), "%s", tp.mem ? tp.mem->name : "4k-pages");
	snprintf(m->device_thread, sizeof(m->device_thread), "%s",
		 c->device == VQB_DEV_INLINE ? "" : c->device == VQB_DEV_VHOST_USER ? "backend"
		 : c->device == VQB_DEV_VFIO ? "hardware"
		 : tp.launcher ? tp.launcher->name : "pthread");
	uint64_t rss0 = rss_bytes();
	struct vqb_traffic *t;
	if (vqb_traffic_setup(&tp, &t, msg, len) < 0) {
		dev_shm_destroy(shm);
		return -EINVAL;
	}
	struct dma_counters d0, d1;
	struct vqb_traffic_result r;
	struct vqb_perf perf;
	vqb_traffic_dma_counters(t, &d0);
	vqb_perf_start(&perf);
	rc = vqb_traffic_run(t, c->packets, c->seconds, &r, msg, len);
	vqb_perf_stop(&perf);
	vqb_traffic_dma_counters(t, &d1);
	m->rss_bytes = rss_bytes();
	m->rss_delta_bytes = (int64_t)m->rss_bytes - (int64_t)rss0;
	struct vqb_traffic_final fin;
	vqb_traffic_teardown(t, &fin);
	if (two_cores)
		placement_after(m, &pl);
	snprintf(m->memory, sizeof(m->memory), "%s", fin.memory);
	m->page_bytes = fin.page_bytes;
	if (tp.mem && strcmp(fin.memory, tp.mem->name))
		fprintf(stderr, "vqbench: notice: DPDK's hugepage memory ran out (shared with other DPDK processes); "
			"this run used %s (CSV column memory)\n", fin.memory);
	if (c->pages == 0 && fin.page_bytes < DEV_SHM_PAGE_2M && !hugepage_notice_done) {
		hugepage_notice_done = true;
		fprintf(stderr, "vqbench: notice: --pages 2m: no 2 MiB hugepages free for the buffers, they are on "
			"%zu-byte pages (scripts/hugepages.sh reserves some; CSV column page_bytes)\n", fin.page_bytes);
	}
	dev_shm_destroy(shm);

	double pk = r.packets ? (double)r.packets : NAN;
	m->packets = r.packets;
	m->errors = r.errors;
	m->seconds = r.seconds;
	m->mpps = r.packets / r.seconds / 1e6;
	m->gbps = (double)r.payload_bytes * 8 / r.seconds / 1e9;
	m->ns_per_pkt = r.seconds * 1e9 / pk;
	m->cycles_per_pkt = (double)r.tsc_cycles / pk;
	m->maps_per_pkt = (double)(d1.maps - d0.maps) / pk;
	m->unmaps_per_pkt = (double)(d1.unmaps - d0.unmaps) / pk;
	m->syncs_per_pkt = (double)(d1.syncs_for_cpu + d1.syncs_for_device - d0.syncs_for_cpu -
				    d0.syncs_for_device) / pk;
	m->bytes_copied_per_pkt = (double)(d1.bytes_copied - d0.bytes_copied) / pk;
	m->kicks_per_pkt = (double)r.kicks / pk;
	m->calls_per_pkt = (double)r.calls / pk;
	m->tracking_bytes = (uint64_t)(fin.fp.tracking + fin.fp.chain_state) * fin.queues;
	m->footprint_bytes = (uint64_t)fin.fp.total * fin.queues + fin.arena_bytes + fin.dma_mem_bytes;
	m->bytes_per_inflight = (double)m->footprint_bytes / ((double)c->queue_size * fin.queues);
	m->hw_cycles = perf.value[VQB_HW_CYCLES] / pk;
	m->hw_instructions = perf.value[VQB_HW_INSTRUCTIONS] / pk;
	m->hw_l1d_misses = perf.value[VQB_HW_L1D_MISSES] / pk;
	m->hw_llc_misses = perf.value[VQB_HW_LLC_MISSES] / pk;
	m->hw_dtlb_misses = perf.value[VQB_HW_DTLB_MISSES] / pk;
	m->lost_bytes = r.lost_bytes;
	m->leaked_mappings = fin.leaked_mappings;
	m->stale_hits = fin.dma.stale_hits;
	if (rc < 0)
		return -EIO;
	if (r.packets == 0)
		return snprintf(msg, len, "no packet completed"), -EIO;
	if (!c->unsafe_skip && (r.errors || fin.leaked_mappings || fin.dma.faults || fin.dma.debug_reports))
		return snprintf(msg, len,
				"%llu packet(s) failed verification (%llu bytes lost), %llu mapping(s) leaked, "
				"%llu device fault(s), %llu DMA debug report(s)",
				(unsigned long long)r.errors, (unsigned long long)r.lost_bytes,
				(unsigned long long)fin.leaked_mappings, (unsigned long long)fin.dma.faults,
				(unsigned long long)fin.dma.debug_reports), -EIO;
	return 0;
}
