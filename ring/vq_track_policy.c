/* SPDX-License-Identifier: MIT */
/*
 * vq_track_policy.c - the policy table (what each policy stores per
 * descriptor and per chain, and when it unmaps), the skip rules, the
 * footprint computed from that same table and the same record types (so
 * the numbers cannot drift from the code), and the admission checks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vq_track_pvt.h"

const struct vq_policy_def vq_policy_defs[VQ_POLICY_COUNT] = {
	[VQ_POLICY_FULL] = {"full", "16-byte record per descriptor (Linux desc_extra); indirect entries per --indirect-extra",
			    REC_FULL, .map_per_packet = true, .unmaps = true},
	[VQ_POLICY_COMPACT] = {"compact", "8-byte record per descriptor: IOVA<2^47, len<=64 KiB, direction",
			       REC_COMPACT, .map_per_packet = true, .unmaps = true},
	[VQ_POLICY_READBACK] = {"readback", "no record: addresses read back from the split descriptor table",
				REC_NONE, .map_per_packet = true, .unmaps = true, .split_only = true,
				.table_iova_state = true},
	[VQ_POLICY_SKIP] = {"skip", "nothing stored, unmap never called (only where unmap is not needed)",
			    REC_NONE, .map_per_packet = true},
	[VQ_POLICY_PREMAPPED] = {"premapped", "buffers from an arena mapped once; token per chain only",
				 REC_NONE, .map_per_packet = false},
	[VQ_POLICY_DRIVER_ARRAY] = {"driver-array",
				    "driver keeps (size+1) x 19 address+length pairs per queue (2024 series)",
				    REC_ARRAY, .map_per_packet = true, .unmaps = true, .table_iova_state = true},
	[VQ_POLICY_RETRIEVE] = {"retrieve", "full's records, handed to the driver in one call at completion",
				REC_FULL, .map_per_packet = true, .unmaps = true, .retrieve = true},
	[VQ_POLICY_ADAPTIVE] = {"adaptive", "records only for chains mapped after dma_need_unmap() turned true",
				REC_FULL, .map_per_packet = true, .unmaps = true, .lazy = true},
	[VQ_POLICY_IOVA] = {"iova", "IOVA two-step API: one range per queue, buffers linked per packet, 8 bytes per chain "
			    "(falls back to dma_map per buffer without an IOMMU)",
			    REC_NONE, .map_per_packet = true, .unmaps = true},
};

static const char *const skip_rule_names[VQ_SKIP_RULE_COUNT] = {
	[VQ_SKIP_UPSTREAM] = "upstream",
	[VQ_SKIP_RFC] = "rfc",
	[VQ_SKIP_NEVER] = "never",
};

size_t vq_rec_bytes(enum rec_kind k)
{
	switch (k) {
	case REC_FULL: return sizeof(struct vq_rec_full);
	case REC_COMPACT: return sizeof(vq_rec_compact);
	case REC_ARRAY: return sizeof(struct vq_pair);
	case REC_NONE: break;
	}
	return 0;
}

static _Thread_local char track_err[512];

const char *vq_track_last_error(void) { return track_err; }

int vq_track_fail(int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(track_err, sizeof(track_err), fmt, ap);
	va_end(ap);
	return rc;
}

const char *vq_policy_name(unsigned i)
{
	return i < VQ_POLICY_COUNT ? vq_policy_defs[i].name : NULL;
}

const char *vq_policy_desc(unsigned i)
{
	return i < VQ_POLICY_COUNT ? vq_policy_defs[i].desc : NULL;
}

const char *vq_skip_rule_name(unsigned i)
{
	return i < VQ_SKIP_RULE_COUNT ? skip_rule_names[i] : NULL;
}

int vq_skip_rule_lookup(const char *name, enum vq_skip_rule *out)
{
	for (unsigned i = 0; i < VQ_SKIP_RULE_COUNT; i++) {
		if (name && !strcmp(name, skip_rule_names[i])) {
			*out = (enum vq_skip_rule)i;
			return 0;
		}
	}
	return -ENOENT;
}

int vq_policy_lookup(const char *name, enum vq_policy *out)
{
	for (unsigned i = 0; i < VQ_POLICY_COUNT; i++) {
		if (name && !strcmp(name, vq_policy_defs[i].name)) {
			*out = (enum vq_policy)i;
			return 0;
		}
	}
	return -ENOENT;
}

int vq_track_footprint(const struct vq_config *cfg, enum vq_policy policy,
		       size_t arena_bufs, struct vq_footprint *fp)
{
	struct vq_areas a;

	if ((unsigned)policy >= VQ_POLICY_COUNT || vq_ring_layout(cfg, &a) < 0)
		return -EINVAL;
	const struct vq_policy_def *def = &vq_policy_defs[policy];
	size_t n = cfg->size;
	bool ind = vq_track_has_indirect(cfg);

	memset(fp, 0, sizeof(*fp));
	fp->ring = a.total;
	/* the queue's state and the tracking layer's own struct */
	fp->driver_state = vq_driver_state_bytes(cfg) + sizeof(struct vq_track);
	size_t rec = vq_rec_bytes(def->rec);
	if (def->rec == REC_ARRAY)
		fp->tracking = (n + 1) * VQ_MAX_CHAIN * rec;
	else if (def->lazy)
		fp->tracking = n; /* the flag byte per chain; records come later */
	else
		fp->tracking = n * rec; /* indirect entries: per chain, live (vq_track_indirect.c) */
	if (ind) {
		/* the tables in whole pages (none crosses a page) */
		fp->indirect = ((n * IND_TABLE_BYTES + 4095) & ~(size_t)4095) + n * sizeof(uint16_t) * 2;
		if (def->table_iova_state || policy == VQ_POLICY_PREMAPPED)
			fp->chain_state = n * sizeof(uint64_t);
	}
	if (policy == VQ_POLICY_PREMAPPED)
		fp->pool_iova = arena_bufs * sizeof(uint64_t);
	if (policy == VQ_POLICY_IOVA) /* the range's state, 8 bytes per chain, the free windows */
		fp->chain_state += vq_track_iova_bytes(n);
	fp->total = fp->ring + fp->driver_state + fp->tracking + fp->chain_state +
		    fp->indirect + fp->pool_iova;
	return 0;
}

void vq_track_footprint_live(const struct vq_track *t, struct vq_footprint *fp)
{
	const struct vq_config *cfg = vq_get_config(t->vq);
	vq_track_footprint(cfg, t->policy, t->nbufs, fp);
	if (t->def->lazy && t->full) {
		size_t n = t->size, late = n * sizeof(struct vq_rec_full);
		fp->tracking += late;
		fp->total += late;
	}
	if (t->policy == VQ_POLICY_IOVA && t->iova && t->iova->fallback) {
		/* no range: full's records instead of the windows' state */
		size_t n = t->size, recs = n * sizeof(struct vq_rec_full);
		size_t windows = vq_track_iova_bytes(n) - sizeof(struct vq_track_iova);
		fp->tracking += recs;
		fp->chain_state -= windows;
		fp->total += recs - windows;
	}
	/* upstream --indirect-extra: the indirect entries' records, the most
	 * in flight (what the kernel's per-chain allocations held at most) */
	size_t ind = vq_track_ind_peak(t);
	fp->tracking += ind;
	fp->total += ind;
}

int vq_track_check(const struct vq_config *cfg, const struct vq_track_params *p,
		   const struct dma *d)
{
	if ((unsigned)p->policy >= VQ_POLICY_COUNT)
		return vq_track_fail(-EINVAL, "policy %d: no such policy", (int)p->policy);
	if ((unsigned)p->ind_extra >= VQ_IND_EXTRA_COUNT)
		return vq_track_fail(-EINVAL, "indirect-extra %d: no such mode (allowed: upstream, linux-6.1)",
				     (int)p->ind_extra);
	const struct vq_policy_def *def = &vq_policy_defs[p->policy];
	if (def->split_only && cfg->layout != VQ_LAYOUT_SPLIT)
		return vq_track_fail(-EOPNOTSUPP,
			    "policy '%s' needs the split layout: a packed ring's descriptors are "
			    "overwritten by used elements, so there is nothing to read back",
			    def->name);
	if (p->policy == VQ_POLICY_SKIP && !p->unsafe_skip) {
		struct dma_props pr;
		dma_get_props(d, &pr);
		switch (p->skip_rule) {
		case VQ_SKIP_NEVER:
			return vq_track_fail(-EPERM, "policy 'skip' refused by --skip-rule never (use --unsafe-skip to run it anyway)");
		case VQ_SKIP_RFC:
			/* the RFC's dma_can_skip_unmap(): direct mapping, no forced bouncing */
			if (!pr.direct)
				return vq_track_fail(-EPERM,
					    "policy 'skip' refused on dma backend '%s' by --skip-rule rfc: the device is not "
					    "direct-mapped (IOMMU translation)", dma_name(d));
			if (pr.force_bounce)
				return vq_track_fail(-EPERM,
					    "policy 'skip' refused on dma backend '%s' by --skip-rule rfc: bouncing is forced "
					    "(bounce copy)", dma_name(d));
			break;
		case VQ_SKIP_UPSTREAM:
		case VQ_SKIP_RULE_COUNT:
			if (dma_need_unmap(d))
				return vq_track_fail(-EPERM,
					    "policy 'skip' refused on dma backend '%s': unmap is needed (%s); "
					    "skipping it would lose data or leak mappings (use --unsafe-skip to measure that)",
					    dma_name(d), dma_reason_str(dma_need_unmap_reason(d)));
			break;
		}
	}
	/* premapped: no question about syncs here: nothing is mapped yet (the
	 * 2024 RFC asked before mapping); vq_track_create asks per buffer */
	if (!p->arena || !p->arena_len || p->buf_size < 64 || p->buf_size > 65536 ||
	    (p->buf_size & (p->buf_size - 1)) || p->arena_len % p->buf_size)
		return vq_track_fail(-EINVAL,
			    "arena of %zu bytes in buffers of %u bytes: need a non-empty arena of "
			    "power-of-two buffers of 64..65536 bytes",
			    p->arena_len, p->buf_size);
	return 0;
}
