/* SPDX-License-Identifier: MIT */
/*
 * vqb_run_check.c - what a configuration asks of the DMA layer and the ring
 * (its dma_params and vq_config), and whether it can run at all on this
 * machine (vqb_run_check), before anything is set up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_vfio.h"
#include "dma.h"
#include "vq_track.h"
#include "vqb_rte_ring.h"
#include "vqb_run.h"
#include "vqb_traffic.h"

struct dma_params vqb_run_dma_params(const struct vqb_config *c)
{
	return (struct dma_params){
		.mask_bits = c->dma_mask >= 64 ? 0 : c->dma_mask,
		.min_align = c->dma_align > 1 ? c->dma_align : 0,
		.force_bounce = c->force_bounce,
		.lazy = c->iommu_mode == 1,
		.passthrough = c->iommu_mode == 2,
		.untrusted = c->iommu_mode == 3,
		.nc_model = c->nc_model,
		.vfio_container_fd = -1,
	};
}

struct vq_config vqb_run_ring_config(const struct vqb_config *c)
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

/* --queues N: what can run N queue pairs (the software devices), and
 * whether the thread device has its 2N CPUs. */
static int queues_check(const struct vqb_config *c, char *msg, size_t len)
{
	if (c->queues < 1 || c->queues > VQB_QUEUES_MAX)
		return snprintf(msg, len, "--queues %u: allowed 1..%d", c->queues, VQB_QUEUES_MAX), -EINVAL;
	if (c->queues == 1)
		return 0;
	if (c->layout == VQB_LAYOUT_RTE_RING)
		return snprintf(msg, len, "--layout rte_ring with --queues %u: not supported (the ceiling is one "
				"rte_ring pair); use --queues 1", c->queues), -EINVAL;
	if (c->device == VQB_DEV_VHOST_USER)
		return snprintf(msg, len, "--device vhost-user:%s with --queues %u: not supported (the front end "
				"sets up one queue pair, vrings 0 and 1); use --queues 1 or a software device",
				c->dev_path, c->queues), -EINVAL;
	if (c->device == VQB_DEV_VFIO)
		return snprintf(msg, len, "--device vfio:%s with --queues %u: not supported (the driver sets up "
				"one queue pair); use --queues 1 or a software device", c->dev_path, c->queues),
		       -EINVAL;
	if (c->device == VQB_DEV_THREAD) {
		unsigned need = 2 * c->queues;
		unsigned have = c->ncores ? c->ncores : vqb_place_cpus_available();
		if (need > have)
			return snprintf(msg, len, "--queues %u with --device thread: needs %u CPUs (a driver and a "
					"device thread per queue), %s %u; use fewer queues, more CPUs, or --device "
					"inline", c->queues, need, c->ncores ? "--cores lists" : "this process may use",
					have), -EINVAL;
	}
	return 0;
}

int vqb_run_check(const struct vqb_config *c, char *msg, size_t len)
{
	if (c->queue_size < 1 || c->queue_size > VQ_MAX_SIZE)
		return snprintf(msg, len, "--queue-size %u: allowed 1..%d", c->queue_size, VQ_MAX_SIZE), -EINVAL;
	int qr = queues_check(c, msg, len);
	if (qr < 0)
		return qr;
	if (c->layout == VQB_LAYOUT_RTE_RING && c->device != VQB_DEV_THREAD && c->device != VQB_DEV_INLINE)
		return snprintf(msg, len,
				"--layout rte_ring with --device %s: the ceiling is an rte_ring pair served by a "
				"device thread (--device thread) or in the driver's thread (--device inline)",
				vqb_device_name(c->device)), -EINVAL;
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
	if (c->late_writes && (c->device != VQB_DEV_INLINE || c->dir == VQB_DIR_TX))
		return snprintf(msg, len, "--late-writes on with --device %s --dir %s: needs --device inline (the "
				"late write must come after the driver reaped the chain) and received chains (--dir rx "
				"or both)", vqb_device_name(c->device), vqb_dir_name(c->dir)), -EINVAL;
	if (c->dma_align & (c->dma_align - 1))
		return snprintf(msg, len, "--dma-align %u: must be a power of two", c->dma_align), -EINVAL;
	enum vq_policy pol;
	if (vq_policy_lookup(c->policy, &pol) < 0)
		return snprintf(msg, len, "--policy %s: no such policy", c->policy), -EINVAL;
	enum vq_skip_rule rule;
	if (vq_skip_rule_lookup(c->skip_rule, &rule) < 0)
		return snprintf(msg, len, "--skip-rule %s: no such rule", c->skip_rule), -EINVAL;
	struct dma_params dp = vqb_run_dma_params(c);
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
	struct vq_config vc = vqb_run_ring_config(c);
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
