/* SPDX-License-Identifier: MIT */
/*
 * vq_split.c - split virtqueues (virtio 1.3 section 2.7), layout and driver
 * side (the device side is in vq_split_dev.c).
 *
 * Memory ordering. Each label names one half of a pair; search for the
 * label to find the other half.
 *   R1 driver stores avail->idx        -> A1 device loads avail->idx
 *   R2 device stores used->idx         -> A2 driver loads used->idx
 * Descriptors, avail->ring[] and used->ring[] entries are plain memory:
 * they are written before the R store that covers them and read after the
 * A load that observed it. A slot is rewritten only after the other side
 * has provably finished with it (the driver never has more than `size`
 * chains in flight, so the device consumed the entry one lap back before
 * the driver could add the chain that reuses it).
 *
 * Notification suppression needs store-then-load ordering on both sides
 * (each side publishes, then reads what the other side asked for), which
 * acquire/release cannot give. These accesses are seq_cst, so in the
 * single total order one side always sees the other's store:
 *   S1 vq_kick_prepare_split: store avail->idx (R1), load avail_event/flags
 *   S2 vq_dev_enable_kick_split: store avail_event/flags, load avail->idx
 *   S3 vq_dev_publish_split: store used->idx (R2), load used_event/flags
 *   S4 vq_enable_cb_split: store used_event/flags, load used->idx
 * S1 pairs with S2, S3 with S4.
 *
 * Hardening: the driver never reads the descriptor table or the avail ring
 * back (private next[] links and shadows instead), and checks every value it
 * takes from the used ring. The device bounds every walk by the queue size
 * or the indirect table length and never indexes outside its ring.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dma_mem.h"
#include "vq_pvt.h"

_Static_assert(sizeof(_Atomic uint16_t) == 2, "atomic u16 must be 2 bytes");
_Static_assert(sizeof(struct vq_split_desc) == 16, "split desc is 16 bytes");
_Static_assert(offsetof(struct vq_split_desc, flags) == 12, "desc.flags");
_Static_assert(offsetof(struct vq_split_desc, next) == 14, "desc.next");
_Static_assert(offsetof(struct vq_split_avail, idx) == 2, "avail.idx");
_Static_assert(offsetof(struct vq_split_avail, ring) == 4, "avail.ring");
_Static_assert(sizeof(struct vq_split_used_elem) == 8, "used elem is 8 bytes");
_Static_assert(offsetof(struct vq_split_used, idx) == 2, "used.idx");
_Static_assert(offsetof(struct vq_split_used, ring) == 4, "used.ring");

/* ------------------------------------------------------------------------ */
/* Layout                                                                    */
/* ------------------------------------------------------------------------ */

int vq_layout_split(const struct vq_config *cfg, struct vq_areas *a)
{
	size_t n = cfg->size;

	if (n & (n - 1))
		return -EINVAL; /* split sizes are powers of two */
	a->desc_off = 0;
	a->desc_len = 16 * n;
	a->driver_off = a->desc_off + a->desc_len; /* 16-aligned, needs 2 */
	a->driver_len = 6 + 2 * n;
	a->device_off = (a->driver_off + a->driver_len + 3) & ~(size_t)3;
	a->device_len = 6 + 8 * n;
	a->total = a->device_off + a->device_len;
	return 0;
}

size_t vq_state_bytes_split(const struct vq_config *cfg)
{
	return (size_t)cfg->size * sizeof(uint16_t); /* next[] */
}

/* ------------------------------------------------------------------------ */
/* Driver side                                                               */
/* ------------------------------------------------------------------------ */

int vq_init_split(struct vq *vq)
{
	struct vq_split_drv *s = &vq->split;
	uint32_t n = vq->cfg.size;
	char *m = vq->ring_mem;

	s->desc = (struct vq_split_desc *)(void *)(m + vq->areas.desc_off);
	s->avail = (struct vq_split_avail *)(void *)(m + vq->areas.driver_off);
	s->used = (const struct vq_split_used *)(void *)(m + vq->areas.device_off);
	s->used_event = (_Atomic uint16_t *)(void *)&s->avail->ring[n];
	s->avail_event = (const _Atomic uint16_t *)(const void *)&s->used->ring[n];
	s->next = dma_mem_zalloc(DMA_MEM_DRIVER, n * sizeof(*s->next), 0);
	if (!s->next)
		return -ENOMEM;
	/* Sequential links: the free list out of order, and the in-order
	 * rule (next = x + 1, 0 after the last) in order. */
	for (uint32_t i = 0; i < n; i++)
		s->next[i] = (uint16_t)((i + 1) & (n - 1));
	s->mask = (uint16_t)(n - 1);
	s->in_order = vq_has(&vq->cfg, VQ_F_IN_ORDER);
	s->event_idx = vq_has(&vq->cfg, VQ_F_EVENT_IDX);
	/* callbacks on (zeroed ring: flags 0, used_event 0) */
	s->used_hint = s->event_idx;
	return 0;
}

void vq_fini_split(struct vq *vq)
{
	dma_mem_free(DMA_MEM_DRIVER, vq->split.next, vq->cfg.size * sizeof(*vq->split.next));
	vq->split.next = NULL;
}

static void vq_fill_indirect_split(void *table, const struct vq_sg *sg,
				   unsigned n)
{
	for (unsigned j = 0; j < n; j++) {
		struct vq_split_desc d = {
			.addr = vq_le64(sg[j].addr),
			.len = vq_le32(sg[j].len),
			.flags = vq_le16((uint16_t)((sg[j].write ? VQ_DESC_F_WRITE : 0) |
						    (j + 1 < n ? VQ_DESC_F_NEXT : 0))),
			.next = vq_le16((uint16_t)(j + 1 < n ? j + 1 : 0)),
		};
		/* memcpy: the caller's table need not be 8-aligned. */
		memcpy((char *)table + 16 * j, &d, sizeof(d));
	}
}

/* always_inline: the one-chain and burst callers (vq.c, vq_track.c) inline it under LTO */
__attribute__((always_inline)) inline int vq_add_split(struct vq *vq, const struct vq_sg *sg, unsigned n, void *token,
		 const struct vq_indirect *ind, uint16_t *slots, uint32_t in_bytes)
{
	struct vq_split_drv *s = &vq->split;
	unsigned k = ind ? 1 : n; /* ring descriptors used */

	if (vq->num_free < k)
		return -ENOSPC;

	uint16_t head = s->in_order ? s->alloc : s->free_head;
	uint16_t i = head, last = head;

	if (ind) {
		uint64_t iova = ind->iova;
		vq_fill_indirect_split(ind->table, sg, n);
		if (ind->map) { /* mapped once written (virtqueue_add_split) */
			int rc = ind->map(ind->map_ctx, ind->table, 16 * n, &iova);
			if (rc < 0)
				return rc;
		}
		s->desc[head].addr = vq_le64(iova);
		s->desc[head].len = vq_le32(16 * n);
		s->desc[head].flags = vq_le16(VQ_DESC_F_INDIRECT);
		s->desc[head].next = 0;
		if (slots)
			slots[0] = head;
	} else if (n == 1) {
		/* The common single-buffer packet: a straight line, no link
		 * to follow (same descriptor as the loop below writes). */
		s->desc[i].addr = vq_le64(sg[0].addr);
		s->desc[i].len = vq_le32(sg[0].len);
		s->desc[i].flags = vq_le16(sg[0].write ? VQ_DESC_F_WRITE : 0);
		s->desc[i].next = 0;
		if (slots)
			slots[0] = i;
	} else {
		for (unsigned j = 0; j < n; j++) {
			bool more = j + 1 < n;
			s->desc[i].addr = vq_le64(sg[j].addr);
			s->desc[i].len = vq_le32(sg[j].len);
			s->desc[i].flags = vq_le16((uint16_t)(
				(sg[j].write ? VQ_DESC_F_WRITE : 0) |
				(more ? VQ_DESC_F_NEXT : 0)));
			s->desc[i].next = vq_le16(more ? s->next[i] : 0);
			if (slots)
				slots[j] = i;
			last = i;
			if (more)
				i = s->next[i];
		}
	}
	if (s->in_order)
		s->alloc = (uint16_t)((last + 1) & s->mask);
	else
		s->free_head = s->next[last]; /* stale when the list is empty:
						 num_free guards every use */

	/* Plain store: published by R1 in vq_kick_prepare_split. */
	s->avail->ring[s->avail_idx & s->mask] = vq_le16(head);
	s->avail_idx++;

	struct vq_chain_state *cs = &vq->chain[head];
	cs->token = token;
	cs->in_bytes = in_bytes;
	cs->ndesc = (uint8_t)n;
	cs->flags = ind ? VQ_CHAIN_INDIRECT : 0;
	cs->gen = vq->gen; /* unpublished until vq_kick_prepare */
	vq->num_free -= k;
	vq->stats.added++;
	return head;
}

int vq_kick_prepare_split(struct vq *vq)
{
	struct vq_split_drv *s = &vq->split;
	uint16_t old = s->avail_pub, new_idx = s->avail_idx;
	bool need;

	if (old == new_idx)
		return 0; /* nothing added since the last publish */
	/* R1, S1: release for A1 in vq_dev_pop_split; seq_cst so the load
	 * below cannot pass it (pairs with S2 in vq_dev_enable_kick_split). */
	atomic_store_explicit(&s->avail->idx, vq_le16(new_idx),
			      memory_order_seq_cst);
	s->avail_pub = new_idx;
	/* every add advanced avail_idx by one: the chains added since old */
	s->pub_inflight += (uint16_t)(new_idx - old);
	vq_gen_advance(vq);
	vq->stats.publishes++;
	if (s->event_idx) {
		/* S1: pairs with S2 in vq_dev_enable_kick_split. */
		uint16_t ev = vq_le16(atomic_load_explicit(s->avail_event,
							   memory_order_seq_cst));
		need = vq_need_event(ev, new_idx, old);
	} else {
		/* S1: pairs with S2 in vq_dev_enable_kick_split. */
		need = !(vq_le16(atomic_load_explicit(&s->used->flags,
						      memory_order_seq_cst)) &
			 VQ_SPLIT_USED_F_NO_NOTIFY);
	}
	if (need)
		vq->stats.kicks++;
	return need;
}

/* Return chain `head` (its state cs) to the caller and free it, in r.
 * in_order: s->in_order (read once by the caller). slots: fill u->slots
 * (else only slots[0], the head). checked (a constant where inlined): the
 * caller has already seen that head is an in-flight, published chain
 * (token set, tag older than vq->gen), which also means pub_inflight >=
 * 1; otherwise (the chains an in-order batch entry completes by
 * position) both are checked here. */
static inline __attribute__((always_inline)) int vq_complete_split(struct vq *vq, struct vq_split_reap *r,
								   struct vq_chain_state *cs, uint16_t head,
								   uint32_t len, bool in_order, struct vq_used *u,
								   bool slots, bool checked)
{
	struct vq_split_drv *s = &vq->split;
	void *token = cs->token;

	if (!checked && !token)
		return vq_badf(vq, "in-order: next chain (head %u) is not in flight",
			       head);
	if (!checked && !r->pub_inflight)
		return vq_badf(vq, "used entry completes chain %u, never published",
			       head);
	unsigned ndesc = cs->ndesc;
	bool ind = cs->flags & VQ_CHAIN_INDIRECT;
	unsigned k = ind ? 1 : ndesc;
	uint16_t last = head;

	u->token = token;
	u->len = len;
	u->head = head;
	u->ndesc = (uint8_t)ndesc;
	u->indirect = ind;
	u->slots[0] = head; /* private links: never the shared table */
	for (unsigned j = 1; j < k; j++) {
		last = s->next[last];
		if (slots)
			u->slots[j] = last;
	}
	if (in_order) {
		r->cursor = (uint16_t)((last + 1) & s->mask);
	} else {
		s->next[last] = r->free_head;
		r->free_head = head;
	}
	cs->token = NULL;
	r->num_free += k;
	r->pub_inflight--;
	r->done++;
	return 1;
}

__attribute__((always_inline)) inline void vq_reap_begin_split(struct vq *vq, struct vq_split_reap *r)
{
	const struct vq_split_drv *s = &vq->split;

	r->last_used = s->last_used;
	r->used_seen = s->used_seen;
	r->free_head = s->free_head;
	r->cursor = s->cursor;
	r->pub_inflight = s->pub_inflight;
	r->num_free = vq->num_free;
	r->done = 0;
}

__attribute__((always_inline)) inline void vq_reap_end_split(struct vq *vq, const struct vq_split_reap *r)
{
	struct vq_split_drv *s = &vq->split;

	s->used_seen = r->used_seen; /* may move without a completion (then the queue broke) */
	if (!r->done)
		return;
	s->last_used = r->last_used;
	s->free_head = r->free_head;
	s->cursor = r->cursor;
	s->pub_inflight = r->pub_inflight;
	vq->num_free = r->num_free;
	vq->stats.completed += r->done;
	if (s->used_hint)
		/* Once per reap, at the entry after its last: a lagging hint
		 * asks for a notification early (spurious, never lost).
		 * Relaxed: a hint that keeps notifications coming; the
		 * sleep/wake race is closed by S4 in vq_enable_cb_split. */
		atomic_store_explicit(s->used_event, vq_le16(r->last_used),
				      memory_order_relaxed);
}

/* The next chain of an in-order batch entry (s->batch): every chain up to
 * the one the entry names, in ring order. */
static inline __attribute__((always_inline)) int get_used_split_batch(struct vq *vq, struct vq_split_reap *r,
								      struct vq_used *u, bool slots)
{
	struct vq_split_drv *s = &vq->split;
	uint16_t head = r->cursor;
	struct vq_chain_state *cs = &vq->chain[head];
	uint32_t len = cs->in_bytes; /* skipped: fully used */

	if (head == s->batch_last) {
		len = s->batch_len;
		s->batch = false;
	}
	return vq_complete_split(vq, r, cs, head, len, true, u, slots, false);
}

__attribute__((always_inline)) inline int vq_reap_one_split(struct vq *vq, struct vq_split_reap *r,
							    struct vq_used *u, bool slots)
{
	struct vq_split_drv *s = &vq->split;
	bool in_order = s->in_order;

	if (in_order && s->batch) /* only in order */
		return get_used_split_batch(vq, r, u, slots);

	const struct vq_split_used *used = s->used;
	uint32_t size = vq->cfg.size;
	uint16_t last = r->last_used;

	if (last == r->used_seen) {
		/* A2: pairs with R2 in vq_dev_publish_split. */
		uint16_t idx = vq_le16(atomic_load_explicit(&used->idx,
							    memory_order_acquire));
		uint16_t moved = (uint16_t)(idx - last);
		if (!moved)
			return 0;
		if (moved > r->pub_inflight)
			return vq_badf(vq, "used idx jumped by %u with %u chains published (queue size %u)",
				       moved, r->pub_inflight, size);
		r->used_seen = idx;
	}
	/* Plain loads: ordered after A2. */
	const struct vq_split_used_elem *e = &used->ring[last & s->mask];
	uint32_t id = vq_le32(e->id), len = vq_le32(e->len);

	if (id >= size)
		return vq_badf(vq, "used id %u out of range (queue size %u)", id,
			       size);
	struct vq_chain_state *cs = &vq->chain[id];
	if (!cs->token || vq_unpublished(vq, cs))
		return vq_badf(vq, cs->token ? "used id %u is not in flight: added but not yet published"
					     : "used id %u is not an in-flight head (double completion?)",
			       id);
	if (len > cs->in_bytes)
		return vq_badf(vq, "used len %u exceeds the %u device-writable bytes of chain %u",
			       len, cs->in_bytes, id);
	r->last_used = (uint16_t)(last + 1);
	if (in_order && id != r->cursor) {
		/* One entry for a batch: the chains before `id` are done. */
		uint16_t head = r->cursor;
		s->batch = true;
		s->batch_last = (uint16_t)id;
		s->batch_len = len;
		return vq_complete_split(vq, r, &vq->chain[head], head, vq->chain[head].in_bytes, true, u,
					 slots, false);
	}
	return vq_complete_split(vq, r, cs, (uint16_t)id, len, in_order, u, slots, true);
}

/* always_inline: the one-chain caller (vq.c) inlines it under LTO */
__attribute__((always_inline)) inline int vq_get_used_split(struct vq *vq, struct vq_used *u)
{
	struct vq_split_reap r;

	vq_reap_begin_split(vq, &r);
	int rc = vq_reap_one_split(vq, &r, u, true);
	vq_reap_end_split(vq, &r);
	return rc;
}

/* One call per burst: the same checks per used entry as vq_get_used_split
 * (it is the same code, inlined); a queue that breaks after k > 0 chains
 * returns k, and the next call -EIO. */
int vq_get_used_burst_split(struct vq *vq, struct vq_used *u, unsigned max)
{
	struct vq_split_reap r;
	unsigned k = 0;

	vq_reap_begin_split(vq, &r);
	while (k < max) {
		int rc = vq_reap_one_split(vq, &r, &u[k], true);
		if (rc <= 0) {
			if (rc < 0 && !k)
				return rc;
			break;
		}
		k++;
	}
	vq_reap_end_split(vq, &r);
	return (int)k;
}

bool vq_enable_cb_split(struct vq *vq)
{
	struct vq_split_drv *s = &vq->split;

	s->used_hint = s->event_idx;
	if (s->event_idx) {
		/* S4: pairs with S3 in vq_dev_publish_split. */
		atomic_store_explicit(s->used_event, vq_le16(s->last_used),
				      memory_order_seq_cst);
	} else if (s->avail_flags & VQ_SPLIT_AVAIL_F_NO_INTERRUPT) {
		s->avail_flags &= (uint16_t)~VQ_SPLIT_AVAIL_F_NO_INTERRUPT;
		/* S4: pairs with S3 in vq_dev_publish_split. */
		atomic_store_explicit(&s->avail->flags, vq_le16(s->avail_flags),
				      memory_order_seq_cst);
	}
	if (s->batch)
		return true;
	/* S4: pairs with S3 in vq_dev_publish_split. */
	return vq_le16(atomic_load_explicit(&s->used->idx, memory_order_seq_cst)) !=
	       s->last_used;
}

void vq_disable_cb_split(struct vq *vq)
{
	struct vq_split_drv *s = &vq->split;

	s->used_hint = false;
	if (s->event_idx) {
		/* Relaxed: advisory; an index already passed means no
		 * notification for the next 65535 entries (spec: flags stay 0
		 * with EVENT_IDX). A late store costs one spurious one. */
		atomic_store_explicit(s->used_event,
				      vq_le16((uint16_t)(s->last_used - 1)),
				      memory_order_relaxed);
	} else if (!(s->avail_flags & VQ_SPLIT_AVAIL_F_NO_INTERRUPT)) {
		s->avail_flags |= VQ_SPLIT_AVAIL_F_NO_INTERRUPT;
		/* Relaxed: advisory; a late store costs one spurious
		 * notification. */
		atomic_store_explicit(&s->avail->flags, vq_le16(s->avail_flags),
				      memory_order_relaxed);
	}
}

int vq_detach_unused_split(struct vq *vq, struct vq_used *u)
{
	struct vq_split_drv *s = &vq->split;
	return vq_detach_walk(vq, s->next, &s->free_head, s->in_order, u);
}

/* Read back a chain from the shared descriptor table (the `readback`
 * policy). The chain's length and kind come from driver-private state; the
 * table only supplies addr/len/flags and the links, which are bounds-checked
 * and may not revisit an entry. */
int vq_readback_split(const struct vq *vq, uint16_t head,
		      const void *ind_table, struct vq_sg *sg, unsigned max)
{
	if (vq->cfg.layout != VQ_LAYOUT_SPLIT)
		return -EOPNOTSUPP;
	if (!sg || head >= vq->cfg.size)
		return -EINVAL;
	const struct vq_split_drv *s = &vq->split;
	const struct vq_chain_state *cs = &vq->chain[head];
	unsigned n = cs->ndesc;
	if (n == 0 || n > VQ_MAX_CHAIN)
		return -EIO; /* never posted */
	if (n > max)
		return -EINVAL;
	bool ind = cs->flags & VQ_CHAIN_INDIRECT;
	struct vq_split_desc d = s->desc[head];
	if (!!(vq_le16(d.flags) & VQ_DESC_F_INDIRECT) != ind)
		return -EIO;

	const char *tbl = (const char *)s->desc;
	uint32_t tbl_n = vq->cfg.size, idx = head;
	uint16_t seen[VQ_MAX_CHAIN];
	if (ind) {
		if (!ind_table)
			return -EINVAL;
		if (vq_le32(d.len) != 16 * n)
			return -EIO;
		tbl = ind_table;
		tbl_n = n;
		idx = 0;
	}
	for (unsigned j = 0; j < n; j++) {
		if (idx >= tbl_n)
			return -EIO;
		for (unsigned q = 0; q < j; q++)
			if (seen[q] == idx)
				return -EIO; /* loop */
		seen[j] = (uint16_t)idx;
		memcpy(&d, tbl + 16 * (size_t)idx, sizeof(d));
		uint16_t f = vq_le16(d.flags);
		if (f & VQ_DESC_F_INDIRECT)
			return -EIO;
		sg[j].addr = vq_le64(d.addr);
		sg[j].len = vq_le32(d.len);
		sg[j].write = (f & VQ_DESC_F_WRITE) ? 1 : 0;
		bool more = f & VQ_DESC_F_NEXT;
		if (more != (j + 1 < n))
			return -EIO; /* chain length disagrees with what we posted */
		idx = vq_le16(d.next);
	}
	return (int)n;
}
