/* SPDX-License-Identifier: MIT */
/*
 * vq_track.c - the tracking data path: map a chain's buffers, hand the ring
 * their IOVAs, remember what the policy remembers (vq_track_policy.c says
 * what); vq_track_used.c unmaps from it on completion or detach.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma_mem.h"
#include "vq_pvt.h"
#include "vq_track_pvt.h"
#include "vq_inject.h" /* empty unless a test defines VQ_INJECT_WORK */
static enum dma_dir buf_dir(uint32_t write)
{
	return write ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
}

static bool compact_fits(uint64_t iova, uint32_t len)
{
	return len >= 1 && len <= COMPACT_LEN_MAX && (iova >> COMPACT_IOVA_BITS) == 0;
}

static vq_rec_compact compact_enc(uint64_t iova, uint32_t len, uint32_t write)
{
	return (iova << 17) | (write ? COMPACT_WRITE : 0) | (uint64_t)(len - 1);
}

/* IOVA of a buffer inside the premapped arena (PREMAP_SYNC set when its
 * mapping needs syncs), or 0 if outside it. */
static inline __attribute__((always_inline)) uint64_t premapped_iova(const struct vq_track *t,
								       const struct vq_buf *b)
{
	/* below the arena wraps to an offset past its end: one compare */
	size_t off = (uintptr_t)b->cpu - (uintptr_t)t->arena;
	if (off >= t->arena_len)
		return 0;
	size_t idx = off >> t->buf_shift;
	size_t in = off & (((size_t)1 << t->buf_shift) - 1);
	if (in + b->len > ((size_t)1 << t->buf_shift))
		return 0;
	return t->buf_iova[idx] + in;
}

/* premapped: the device owns the buffers from here on: sync each one whose
 * mapping needs it (page_pool_dma_sync_for_device() before a refill). */
static void premapped_sync_for_device(struct vq_track *t, struct vq_sg *sg, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		if (!(sg[k].addr & PREMAP_SYNC))
			continue;
		sg[k].addr &= ~PREMAP_SYNC;
		dma_sync_for_device(t->dma, sg[k].addr, sg[k].len, DMA_BIDIRECTIONAL);
		t->st.syncs++;
	}
}

int vq_track_sync_for_cpu(struct vq_track *t, const struct vq_buf *bufs, unsigned n)
{
	int synced = 0;
	if (t->policy != VQ_POLICY_PREMAPPED || !t->st.sync_bufs)
		return 0;
	for (unsigned k = 0; k < n; k++) {
		uint64_t iova = bufs[k].write ? premapped_iova(t, &bufs[k]) : 0;
		if (!(iova & PREMAP_SYNC))
			continue;
		dma_sync_for_cpu(t->dma, iova & ~PREMAP_SYNC, bufs[k].len, DMA_BIDIRECTIONAL);
		t->st.syncs++;
		synced++;
	}
	return synced;
}

/* Undo the first `k` buffer mappings of a chain being added (and the
 * indirect table's, if mapped). */
static __attribute__((noinline, cold)) void rollback(struct vq_track *t, const struct vq_sg *sg, unsigned k,
		     unsigned n, int tidx, uint64_t table_iova)
{
	if (!t->map_per_packet)
		return;
	for (unsigned i = 0; i < k; i++)
		vq_track_unmap_one(t, sg[i].addr, sg[i].len, buf_dir(sg[i].write));
	if (tidx >= 0 && table_iova)
		vq_track_unmap_one(t, table_iova, IND_LEN(n), DMA_TO_DEVICE);
}

/* skip may run only while the backend's unmap does nothing: asked after the
 * mappings it covers, as upstream's dma_need_unmap() is. */
static __attribute__((noinline)) int skip_check_unmap(struct vq_track *t, unsigned k, const void *cpu,
						      uint32_t len, uint64_t iova)
{
	struct vq_stats vs;

	if (t->unsafe || t->rule != VQ_SKIP_UPSTREAM || !dma_need_unmap(t->dma))
		return 0;
	vq_get_stats(t->vq, &vs);
	return vq_track_fail(-EPERM,
		    "policy 'skip' stopped at chain %llu, mapping %u (%u bytes at %p, device address 0x%llx): "
		    "dma backend '%s' now needs unmap (%s); continuing would lose data or leak mappings",
		    (unsigned long long)vs.added, k, len, cpu, (unsigned long long)iova, dma_name(t->dma),
		    dma_reason_str(dma_need_unmap_reason(t->dma)));
}

/* Inline: every other policy pays one compare per mapping. */
static inline int skip_still_safe(struct vq_track *t, unsigned k, const void *cpu, uint32_t len,
				  uint64_t iova)
{
	return t->policy == VQ_POLICY_SKIP ? skip_check_unmap(t, k, cpu, len, iova) : 0;
}

/* adaptive: the records, allocated when the first chain needs them. */
static int adaptive_alloc(struct vq_track *t)
{
	if (t->full)
		return 0;
	/* once per queue, on the first chain that needs records (counted) */
	t->full = dma_mem_zalloc(DMA_MEM_TRACKING, TRK_FULL(t), 0);
	if (!t->full || !vq_track_ind_alloc(t)) {
		dma_mem_free(DMA_MEM_TRACKING, t->full, TRK_FULL(t));
		t->full = NULL;
		return vq_track_fail(-ENOMEM, "policy 'adaptive': no memory for the records a chain now needs");
	}
	return 0;
}

/* A buffer vq_add would refuse: length 0, or device-readable after a
 * device-writable one (cold: the caller's bug). */
static __attribute__((cold, noinline)) int add_bad_buf(unsigned n, unsigned k, uint32_t len)
{
	return vq_track_fail(-EINVAL, "chain of %u buffers: buffer %u %s", n, k,
			     len ? "is device-readable after a device-writable one" : "has length 0");
}

static __attribute__((cold, noinline)) int premapped_outside(unsigned k, const struct vq_buf *b)
{
	return vq_track_fail(-EINVAL, "policy 'premapped': buffer %u (%p, %u bytes) is not inside one arena buffer",
			     k, b->cpu, b->len);
}

static __attribute__((cold, noinline)) int map_failed(struct vq_track *t, int rc, unsigned k, uint32_t len)
{
	return vq_track_fail(rc, "policy '%s': mapping buffer %u (%u bytes) failed on dma backend '%s': %s",
			     t->def->name, k, len, dma_name(t->dma), dma_last_error());
}

/* Step 1 of vq_track_add: check every buffer as vq_add would (vq_add_checked
 * then does not check them again) and map it (or look it up, premapped)
 * into sg[]. @return 0 with *in_bytes the device-writable bytes, or a
 * negative errno with *mapped the mappings to undo. */
static inline __attribute__((always_inline)) int
add_map_bufs(struct vq_track *t, const struct vq_buf *bufs, unsigned n, struct vq_sg *sg,
	     unsigned *mapped, uint32_t *in_bytes, bool per_packet, enum vq_policy pol)
{
	uint64_t bytes = 0, in = 0;
	bool seen_write = false;
	int rc;

	for (unsigned k = 0; k < n; k++) {
		const struct vq_buf *b = &bufs[k];
		bool w = b->write != 0;
		*mapped = k;
		if (!b->len || (seen_write && !w))
			return add_bad_buf(n, k, b->len);
		seen_write |= w;
		bytes += b->len;
		in += w ? b->len : 0;
		sg[k].len = b->len;
		sg[k].write = b->write;
		if (!per_packet) {
			sg[k].addr = premapped_iova(t, b);
			if (!sg[k].addr)
				return premapped_outside(k, b);
			continue;
		}
		rc = dma_map(t->dma, b->cpu, b->len, buf_dir(b->write), &sg[k].addr);
		if (rc < 0)
			return map_failed(t, rc, k, b->len);
		t->st.maps++;
		*mapped = k + 1;
		if (pol == VQ_POLICY_SKIP && (rc = skip_check_unmap(t, k, b->cpu, b->len, sg[k].addr)) < 0)
			return rc;
		if (pol == VQ_POLICY_COMPACT && !compact_fits(sg[k].addr, b->len))
			return vq_track_fail(-ERANGE,
					     "policy 'compact': mapping of %u bytes at IOVA 0x%llx does not fit an 8-byte "
					     "record (IOVA below 2^%d, length 1..%u)",
					     b->len, (unsigned long long)sg[k].addr, COMPACT_IOVA_BITS, COMPACT_LEN_MAX);
	}
	*mapped = n;
	if (bytes > UINT32_MAX) /* spec: a chain holds less than 2^32 bytes */
		return vq_track_fail(-EINVAL, "chain of %u buffers holds %llu bytes (at most 2^32 - 1)", n,
				     (unsigned long long)bytes);
	*in_bytes = (uint32_t)in;
	return 0;
}

/* The ring maps an indirect table once it has written it (vq_indirect.map),
 * as 6.1's virtqueue_add_split() does: a bounce copies the finished table and
 * no sync is needed. On failure nothing stays mapped and rc says why. */
struct table_map {
	struct vq_track *t;
	uint64_t iova; /* the table's mapping, 0 while none */
	int rc;        /* < 0: this hook failed (message set) */
};

static int table_map(void *ctx, void *table, uint32_t len, uint64_t *iova)
{
	struct table_map *m = ctx;
	struct vq_track *t = m->t;
	int rc = dma_map(t->dma, table, len, DMA_TO_DEVICE, &m->iova);

	if (rc < 0) {
		m->iova = 0;
		return m->rc = vq_track_fail(rc, "policy '%s': mapping an indirect table failed on dma backend '%s': %s",
					     t->def->name, dma_name(t->dma), dma_last_error());
	}
	t->st.maps++;
	if ((rc = skip_still_safe(t, len / 16, table, len, m->iova)) < 0)
		goto unmap;
	if (t->policy == VQ_POLICY_COMPACT && !compact_fits(m->iova, len)) {
		rc = vq_track_fail(-ERANGE, "policy 'compact': indirect table IOVA 0x%llx does not fit",
				   (unsigned long long)m->iova);
		goto unmap;
	}
	*iova = m->iova;
	return 0;
unmap:
	vq_track_unmap_one(t, m->iova, len, DMA_TO_DEVICE);
	m->iova = 0;
	return m->rc = rc;
}

/* Step 2 of vq_track_add: take a free indirect table; per-packet policies
 * let the ring map it once written (table_map), premapped uses its setup
 * mapping (synced after, add_table_added). On failure *tidx says whether a
 * table was taken. */
static __attribute__((noinline)) int add_take_table(struct vq_track *t, struct vq_indirect *ind, int *tidx,
						     struct table_map *tm)
{
	ind->iova = 0;
	if (!t->ind_nfree)
		return vq_track_fail(-ENOSPC, "no free indirect table");
	*tidx = t->ind_free[--t->ind_nfree];
	ind->table = t->ind_tables + (size_t)*tidx * IND_TABLE_BYTES;
	if (!t->map_per_packet) {
		ind->iova = t->ind_iova[*tidx];
		return 0;
	}
	ind->map = table_map;
	ind->map_ctx = tm;
	return 0;
}

/* Step 3 of vq_track_add: the chain is in the ring; its indirect table is
 * remembered by head and, premapped, synced for the device. */
static __attribute__((noinline)) void add_table_added(struct vq_track *t, uint16_t head, int tidx, uint64_t table_iova,
			    unsigned n)
{
	t->ind_of_head[head] = (uint16_t)tidx;
	if (!t->map_per_packet && dma_need_sync(t->dma, table_iova)) { /* premapped */
		dma_sync_for_device(t->dma, table_iova, IND_LEN(n), DMA_TO_DEVICE);
		t->st.syncs++;
	}
	if (t->ind_iova && t->def->table_iova_state)
		t->ind_iova[tidx] = table_iova;
}

/* Step 4 of vq_track_add. The record steps (full, driver-array, compact)
 * and the indirect-table steps are out of line, all alike: the per-packet
 * body of vq_track_add stays small enough for LTO to inline into its
 * caller (callgrind: fewer instructions than inlining everything, which
 * spills), and every recording policy pays the same one call.
 *
 * full: one record per slot (Linux's desc_extra),
 * linked as the ring links the chain; an indirect chain's entries in its
 * table's records and the table itself in the head slot's. */
static __attribute__((noinline)) void
remember_full(struct vq_track *t, uint16_t head, const struct vq_sg *sg, const uint16_t *slots,
	      unsigned n, int tidx, uint64_t table_iova)
{
	if (tidx < 0) {
		for (unsigned i = 0; i < n; i++) {
			bool more = i + 1 < n;
			t->full[slots[i]] = (struct vq_rec_full){
				.addr = sg[i].addr,
				.len = sg[i].len,
				.flags = (uint16_t)((sg[i].write ? VQ_DESC_F_WRITE : 0) |
						    (more ? VQ_DESC_F_NEXT : 0)),
				.next = more ? slots[i + 1] : 0,
			};
		}
		return;
	}
	vq_track_ind_remember(t, tidx, sg, n); /* per --indirect-extra */
	t->full[head] = (struct vq_rec_full){table_iova, IND_LEN(n), VQ_DESC_F_INDIRECT, 0};
}

/* Step 4 of vq_track_add, driver-array and compact. */
static __attribute__((noinline)) void remember_array(struct vq_track *t, uint16_t head, const struct vq_sg *sg,
			   unsigned n, int tidx, uint64_t table_iova)
{
	struct vq_pair *pr = &t->pairs[(size_t)head * VQ_MAX_CHAIN];
	for (unsigned i = 0; i < n; i++)
		pr[i] = (struct vq_pair){sg[i].addr, sg[i].len, buf_dir(sg[i].write)};
	if (tidx >= 0)
		t->ind_iova[tidx] = table_iova;
}

static __attribute__((noinline)) void remember_compact(struct vq_track *t, uint16_t head, const struct vq_sg *sg,
			     const uint16_t *slots, unsigned n, int tidx, uint64_t table_iova)
{
	if (tidx < 0) {
		for (unsigned i = 0; i < n; i++)
			t->compact[slots[i]] = compact_enc(sg[i].addr, sg[i].len, sg[i].write);
		return;
	}
	vq_track_ind_remember(t, tidx, sg, n); /* per --indirect-extra */
	t->compact[head] = compact_enc(table_iova, IND_LEN(n), 0);
}

/* adaptive: whether this chain keeps records (asked after mapping it, as
 * dma_need_unmap() is), counted; the first one allocates them. */
/* The table is mapped inside vq_add: if that mapping may be the device's
 * first bounce, the records are made ready before (asked again after). */
static int adaptive_keep(struct vq_track *t, bool *keep, bool indirect)
{
	*keep = dma_need_unmap(t->dma);
	bool ready = *keep;
	if (!ready && indirect && t->map_per_packet) {
		struct dma_props dp;
		dma_get_props(t->dma, &dp);
		ready = dp.may_bounce || dp.force_bounce;
	}
	return ready ? adaptive_alloc(t) : 0;
}

static void adaptive_tracked(struct vq_track *t, uint16_t head, bool keep)
{
	t->tracked[head] = keep;
	if (keep && !t->st.tracked_chains++) {
		struct vq_stats vs;
		vq_get_stats(t->vq, &vs);
		t->st.first_tracked_chain = vs.added;
	}
}

static __attribute__((noinline)) void add_ring_failed(struct vq_track *t, int rc, unsigned n)
{
	if (rc != -ENOSPC)
		vq_track_fail(rc, "vq_add of a %u-buffer chain failed (%s)", n,
			      vq_broken_reason(t->vq) ? vq_broken_reason(t->vq) : "invalid chain");
	else
		vq_track_fail(rc, "ring full");
}

/* The body of vq_track_add and of each step of vq_track_add_burst. */
static inline __attribute__((always_inline)) int track_add_one(struct vq_track *t, const struct vq_buf *bufs,
							       unsigned n, void *token, bool indirect)
{
	struct vq_sg sg[VQ_MAX_CHAIN];
	uint16_t slots[VQ_MAX_CHAIN];
	struct vq_indirect ind = {0}, *indp = NULL;
	struct table_map tm = {t, 0, 0};
	int tidx = -1, rc;
	unsigned mapped = 0;
	uint32_t in_bytes = 0;
	uint64_t iova_chain = 0;
	bool keep = false;

	if (n < 1 || n > VQ_MAX_CHAIN)
		return vq_track_fail(-EINVAL, "chain of %u buffers: allowed 1..%d", n, VQ_MAX_CHAIN);
	if (indirect && !t->indirect_ok)
		return vq_track_fail(-EINVAL, "indirect chain on a queue without VIRTIO_RING_F_INDIRECT_DESC");
	if (!token)
		return vq_track_fail(-EINVAL, "chain of %u buffers without a token", n);
	if (vq_track_iova_owns(t)) { /* linked, not mapped: vq_track_iova.c; no map hook in ind */
		if ((rc = vq_track_iova_link(t, bufs, n, indirect, sg, &ind, &tidx, &in_bytes, &iova_chain)) < 0)
			goto undo;
		indp = indirect ? &ind : NULL;
		goto add;
	}
	if ((rc = add_map_bufs(t, bufs, n, sg, &mapped, &in_bytes, t->map_per_packet, t->policy)) < 0)
		goto undo;
	if (indirect) {
		if ((rc = add_take_table(t, &ind, &tidx, &tm)) < 0)
			goto undo;
		indp = &ind;
	}
	if (!t->map_per_packet && t->st.sync_bufs)
		premapped_sync_for_device(t, sg, n);
	keep = t->rec != REC_NONE;
	if (t->lazy && (rc = adaptive_keep(t, &keep, indirect)) < 0)
		goto undo;
add:	/* vq_add_checked's one caller: it stays inlined here */
	rc = vq_add_checked(t->vq, sg, n, token, indp, slots, in_bytes);
	if (tm.iova)
		ind.iova = tm.iova;
	if (rc < 0) {
		if (tm.rc >= 0) /* else table_map said why (and unmapped) */
			add_ring_failed(t, rc, n);
		if (vq_track_iova_owns(t))
			vq_track_iova_undo(t, iova_chain);
		goto undo;
	}
	uint16_t head = (uint16_t)rc;
	if (t->lazy && !keep && indirect)
		keep = dma_need_unmap(t->dma); /* asked after the table's mapping */
	if (indirect)
		add_table_added(t, head, tidx, ind.iova, n);
	vq_inject_work(t->policy, n); /* empty unless a test defines VQ_INJECT_WORK */
	if (t->lazy)
		adaptive_tracked(t, head, keep);
	if (!keep) {
		if (vq_track_iova_owns(t)) /* iova keeps no records (REC_NONE): only here */
			vq_track_iova_added(t, head, iova_chain, indirect ? ind.iova : 0, n);
		return head;
	}
	if (t->rec == REC_FULL)
		remember_full(t, head, sg, slots, n, tidx, ind.iova);
	else if (t->rec == REC_ARRAY)
		remember_array(t, head, sg, n, tidx, ind.iova);
	else if (t->rec == REC_COMPACT)
		remember_compact(t, head, sg, slots, n, tidx, ind.iova);
	return head;

undo:
	if (!vq_track_iova_owns(t)) /* iova: linked, undone by vq_track_iova_link/undo */
		rollback(t, sg, mapped, n, tidx, t->map_per_packet ? ind.iova : 0);
	if (tidx >= 0)
		t->ind_free[t->ind_nfree++] = (uint16_t)tidx;
	return rc;
}

int vq_track_add(struct vq_track *t, const struct vq_buf *bufs, unsigned n,
		 void *token, bool indirect)
{
	return track_add_one(t, bufs, n, token, indirect);
}

/* A direct chain of a burst on full, skip or premapped (pol, lay: constants
 * where inlined, so each policy's branches fold away): track_add_one's
 * checks, mapping, ring write and records in the same order, without the
 * steps these policies never take (iova, adaptive, compact, indirect). */
static inline __attribute__((always_inline)) int add_direct(struct vq_track *t, const struct vq_track_chain *c,
							    enum vq_policy pol, enum vq_layout lay)
{
	struct vq_sg sg[VQ_MAX_CHAIN];
	uint16_t slots[VQ_MAX_CHAIN];
	unsigned n = c->n, mapped = 0;
	uint32_t in_bytes = 0;
	int rc;

	if (n < 1 || n > VQ_MAX_CHAIN)
		return vq_track_fail(-EINVAL, "chain of %u buffers: allowed 1..%d", n, VQ_MAX_CHAIN);
	if (!c->token)
		return vq_track_fail(-EINVAL, "chain of %u buffers without a token", n);
	if ((rc = add_map_bufs(t, c->bufs, n, sg, &mapped, &in_bytes, pol != VQ_POLICY_PREMAPPED, pol)) < 0)
		goto undo;
	if (pol == VQ_POLICY_PREMAPPED && t->st.sync_bufs)
		premapped_sync_for_device(t, sg, n);
	/* vq_add_checked's checks: broken (asked once per burst: adding never
	 * breaks a queue) and indirect (none here) */
	rc = lay == VQ_LAYOUT_SPLIT ? vq_add_split(t->vq, sg, n, c->token, NULL, slots, in_bytes)
				    : vq_add_packed(t->vq, sg, n, c->token, NULL, slots, in_bytes);
	if (rc < 0) {
		add_ring_failed(t, rc, n);
		goto undo;
	}
	vq_inject_work(pol, n); /* empty unless a test defines VQ_INJECT_WORK */
	for (unsigned i = 0; pol == VQ_POLICY_FULL && i < n; i++) { /* remember_full, direct */
		bool more = i + 1 < n;
		t->full[slots[i]] = (struct vq_rec_full){
			.addr = sg[i].addr, .len = sg[i].len,
			.flags = (uint16_t)((sg[i].write ? VQ_DESC_F_WRITE : 0) | (more ? VQ_DESC_F_NEXT : 0)),
			.next = more ? slots[i + 1] : 0,
		};
	}
	return rc;
undo:
	rollback(t, sg, mapped, n, -1, 0);
	return rc;
}

/* add_direct for the one-buffer chain, in a straight line: the same
 * checks, mapping, ring write and record, without the loops. */
static inline __attribute__((always_inline)) int add_direct1(struct vq_track *t, const struct vq_track_chain *c,
							     enum vq_policy pol, enum vq_layout lay)
{
	const struct vq_buf *b = c->bufs;
	struct vq_sg sg = {.len = b->len, .write = b->write};
	uint16_t slot;
	int rc;

	if (!c->token)
		return vq_track_fail(-EINVAL, "chain of %u buffers without a token", 1u);
	if (!b->len)
		return add_bad_buf(1, 0, 0);
	if (pol == VQ_POLICY_PREMAPPED) {
		if (!(sg.addr = premapped_iova(t, b)))
			return premapped_outside(0, b);
		if (t->st.sync_bufs)
			premapped_sync_for_device(t, &sg, 1);
	} else {
		if ((rc = dma_map(t->dma, b->cpu, b->len, buf_dir(b->write), &sg.addr)) < 0)
			return map_failed(t, rc, 0, b->len);
		t->st.maps++;
		if (pol == VQ_POLICY_SKIP && (rc = skip_check_unmap(t, 0, b->cpu, b->len, sg.addr)) < 0)
			goto undo;
	}
	uint32_t in = b->write ? b->len : 0;
	rc = lay == VQ_LAYOUT_SPLIT ? vq_add_split(t->vq, &sg, 1, c->token, NULL, &slot, in)
				    : vq_add_packed(t->vq, &sg, 1, c->token, NULL, &slot, in);
	if (rc < 0) {
		add_ring_failed(t, rc, 1);
		goto undo;
	}
	vq_inject_work(pol, 1); /* empty unless a test defines VQ_INJECT_WORK */
	if (pol == VQ_POLICY_FULL)
		t->full[slot] = (struct vq_rec_full){sg.addr, sg.len, (uint16_t)(sg.write ? VQ_DESC_F_WRITE : 0), 0};
	return rc;
undo:
	rollback(t, &sg, 1, 1, -1, 0);
	return rc;
}

/* The chains of a burst from `k` on, one policy and layout: @return the
 * first not added (count: all), its error in *rc. */
static inline __attribute__((always_inline)) unsigned add_burst_pol(struct vq_track *t,
								    const struct vq_track_chain *chains,
								    unsigned k, unsigned count, int *rc,
								    enum vq_policy pol, enum vq_layout lay)
{
	for (; k < count; k++) {
		const struct vq_track_chain *c = &chains[k];
		if (c->indirect)
			*rc = track_add_one(t, c->bufs, c->n, c->token, true);
		else
			*rc = c->n == 1 ? add_direct1(t, c, pol, lay) : add_direct(t, c, pol, lay);
		if (*rc < 0)
			return k;
	}
	*rc = 0;
	return k;
}

/* The fast path's instances: policy x layout, chosen once per burst. */
#define ADD_BURST_FN(name, pol, lay)                                                                    \
	static __attribute__((noinline)) unsigned name(struct vq_track *t, const struct vq_track_chain *c, \
						       unsigned count, int *rc)                            \
	{                                                                                                \
		return add_burst_pol(t, c, 0, count, rc, pol, lay);                                      \
	}
ADD_BURST_FN(add_burst_split_full, VQ_POLICY_FULL, VQ_LAYOUT_SPLIT)
ADD_BURST_FN(add_burst_packed_full, VQ_POLICY_FULL, VQ_LAYOUT_PACKED)
ADD_BURST_FN(add_burst_split_skip, VQ_POLICY_SKIP, VQ_LAYOUT_SPLIT)
ADD_BURST_FN(add_burst_packed_skip, VQ_POLICY_SKIP, VQ_LAYOUT_PACKED)
ADD_BURST_FN(add_burst_split_premapped, VQ_POLICY_PREMAPPED, VQ_LAYOUT_SPLIT)
ADD_BURST_FN(add_burst_packed_premapped, VQ_POLICY_PREMAPPED, VQ_LAYOUT_PACKED)
#undef ADD_BURST_FN

typedef unsigned (*add_burst_fn)(struct vq_track *, const struct vq_track_chain *, unsigned, int *);

/* The fast path for t, or NULL (every other policy: track_add_one per chain). */
static add_burst_fn add_burst_fast(const struct vq_track *t)
{
	static const add_burst_fn tab[][2] = {
		[VQ_POLICY_FULL] = {add_burst_split_full, add_burst_packed_full},
		[VQ_POLICY_SKIP] = {add_burst_split_skip, add_burst_packed_skip},
		[VQ_POLICY_PREMAPPED] = {add_burst_split_premapped, add_burst_packed_premapped},
	};
	if (t->policy >= sizeof(tab) / sizeof(tab[0]) || t->lazy || t->retrieve || vq_track_iova_owns(t))
		return NULL;
	return tab[t->policy][vq_get_config(t->vq)->layout == VQ_LAYOUT_PACKED];
}

int vq_track_add_burst(struct vq_track *t, const struct vq_track_chain *chains, unsigned count, int *err)
{
	unsigned k = 0;
	int rc = 0;
	add_burst_fn fast;

	if (count && !chains)
		rc = vq_track_fail(-EINVAL, "burst of %u chains without a chain array", count);
	else if (vq_is_broken(t->vq) && count)
		rc = vq_track_fail(-EIO, "burst of %u chains on a broken queue (%s)", count,
				   vq_broken_reason(t->vq));
	else if ((fast = add_burst_fast(t)) != NULL)
		k = fast(t, chains, count, &rc);
	for (; k < count && !rc; k++) {
		const struct vq_track_chain *c = &chains[k];
		rc = track_add_one(t, c->bufs, c->n, c->token, c->indirect);
		if (rc < 0)
			break;
		rc = 0;
	}
	if (err)
		*err = rc < 0 ? rc : 0;
	return (int)k;
}

int vq_track_kick_prepare(struct vq_track *t)
{
	return vq_kick_prepare(t->vq);
}
