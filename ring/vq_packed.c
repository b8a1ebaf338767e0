/* SPDX-License-Identifier: MIT */
/*
 * vq_packed.c - packed virtqueues (virtio 1.3 section 2.8), driver side and
 * device side.
 *
 * Memory ordering. Each label names one half of a pair.
 *   R3 driver stores the flags of a batch's first descriptor
 *        -> A3 device loads the flags of the descriptor it polls
 *   R4 device stores the flags of a publish's first used descriptor
 *        -> A4 driver loads the flags of the descriptor it polls
 * Batching: the flags of the first descriptor written since the last
 * publish are held back and stored last (R3 / R4); every later descriptor
 * of the batch gets its flags with a relaxed store. Each side polls one
 * position at a time in ring order, so it reaches a later descriptor only
 * after its acquire of the batch's first one, which already orders every
 * write of the batch. addr/len/id are plain memory under the same rule.
 *
 * Notification suppression needs store-then-load ordering on both sides;
 * these accesses are seq_cst (one total order, so one side sees the other):
 *   S5 vq_kick_prepare_packed: store first flags (R3), load device event
 *   S6 vq_dev_enable_kick_packed: store device event, load polled flags
 *   S7 vq_dev_publish_packed: store first used flags (R4), load driver event
 *   S8 vq_enable_cb_packed: store driver event, load polled flags
 * S5 pairs with S6, S7 with S8.
 *
 * Buffer ids: a direct chain of n descriptors takes n ids from a private
 * free-id list (linked by next[], never through ring memory); the first is
 * the chain's buffer id and the ids are the chain's slots. In order, ids are
 * handed out sequentially. Positions wrap by compare-and-subtract.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dma_mem.h"
#include "vq_pvt.h"

_Static_assert(sizeof(struct vq_packed_desc) == 16, "packed desc is 16 bytes");
_Static_assert(offsetof(struct vq_packed_desc, len) == 8, "desc.len");
_Static_assert(offsetof(struct vq_packed_desc, id) == 12, "desc.id");
_Static_assert(offsetof(struct vq_packed_desc, flags) == 14, "desc.flags");
_Static_assert(sizeof(struct vq_packed_event) == 4, "event suppression is 4 bytes");
_Static_assert(offsetof(struct vq_packed_event, flags) == 2, "event.flags");

#include "vq_packed_inl.h"

/* ------------------------------------------------------------------------ */
/* Layout                                                                    */
/* ------------------------------------------------------------------------ */

int vq_layout_packed(const struct vq_config *cfg, struct vq_areas *a)
{
	size_t n = cfg->size;

	a->desc_off = 0;
	a->desc_len = 16 * n;
	a->driver_off = a->desc_off + a->desc_len; /* 16-aligned, needs 4 */
	a->driver_len = 4;
	a->device_off = a->driver_off + a->driver_len;
	a->device_len = 4;
	a->total = a->device_off + a->device_len;
	return 0;
}

size_t vq_state_bytes_packed(const struct vq_config *cfg)
{
	return (size_t)cfg->size * sizeof(uint16_t); /* next[] */
}

/* ------------------------------------------------------------------------ */
/* Driver side                                                               */
/* ------------------------------------------------------------------------ */

int vq_init_packed(struct vq *vq)
{
	struct vq_packed_drv *s = &vq->packed;
	uint32_t n = vq->cfg.size;
	char *m = vq->ring_mem;

	s->desc = (struct vq_packed_desc *)(void *)(m + vq->areas.desc_off);
	s->drv_ev = (struct vq_packed_event *)(void *)(m + vq->areas.driver_off);
	s->dev_ev = (const struct vq_packed_event *)(void *)(m + vq->areas.device_off);
	s->next = dma_mem_zalloc(DMA_MEM_DRIVER, n * sizeof(*s->next), 0);
	if (!s->next)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		s->next[i] = vq_id_next((uint16_t)i, n);
	s->size = (uint16_t)(n & 0xffff); /* 32768 fits */
	s->avail_wrap = s->pub_wrap = s->used_wrap = true;
	s->in_order = vq_has(&vq->cfg, VQ_F_IN_ORDER);
	s->event_idx = vq_has(&vq->cfg, VQ_F_EVENT_IDX);
	vq_event_init_packed(s->drv_ev, &s->ev_flags, s->event_idx);
	return 0;
}

void vq_fini_packed(struct vq *vq)
{
	dma_mem_free(DMA_MEM_DRIVER, vq->packed.next, vq->cfg.size * sizeof(*vq->packed.next));
	vq->packed.next = NULL;
}

/* Store the flags of the descriptor at pos: held back when it is the first
 * of the batch (R3 stores it), relaxed otherwise. */
static inline void vq_set_flags_packed(struct vq_packed_drv *s, uint16_t pos,
				       uint16_t flags)
{
	if (!s->head_pending) {
		s->head_pending = true;
		s->head_pos = pos;
		s->head_flags = flags;
	} else {
		/* Relaxed: the device reads it only after A3 on the batch's
		 * first descriptor, which R3 stores after this one. */
		atomic_store_explicit(&s->desc[pos].flags, vq_le16(flags),
				      memory_order_relaxed);
	}
}

/* One direct descriptor (virtqueue_add_packed's common case): no chain
 * links to follow. */
static inline __attribute__((always_inline)) void
vq_add_one_packed(struct vq_packed_drv *s, const struct vq_sg *sg, uint16_t head,
		  uint16_t *pos, bool *wrap, uint32_t size)
{
	struct vq_packed_desc *d = &s->desc[*pos];

	d->addr = vq_le64(sg[0].addr);
	d->len = vq_le32(sg[0].len);
	d->id = vq_le16(head);
	vq_set_flags_packed(s, *pos, (uint16_t)((sg[0].write ? VQ_DESC_F_WRITE : 0) |
						vq_avail_bits(*wrap)));
	vq_pos_add(pos, wrap, 1, size);
}

/* always_inline: the one-chain and burst callers (vq.c, vq_track.c) inline it under LTO */
__attribute__((always_inline)) inline int vq_add_packed(struct vq *vq, const struct vq_sg *sg, unsigned n,
		  void *token, const struct vq_indirect *ind, uint16_t *slots,
		  uint32_t in_bytes)
{
	struct vq_packed_drv *s = &vq->packed;
	const uint32_t size = vq->cfg.size;
	unsigned k = ind ? 1 : n; /* ring descriptors and buffer ids used */

	if (vq->num_free < k)
		return -ENOSPC;

	uint16_t head = s->in_order ? s->alloc : s->free_head;
	uint16_t id = head, last = head, pos = s->avail_pos;
	bool wrap = s->avail_wrap;

	if (ind) {
		for (unsigned j = 0; j < n; j++) {
			struct vq_packed_ind d = {
				.addr = vq_le64(sg[j].addr),
				.len = vq_le32(sg[j].len),
				.id = 0,
				/* Only WRITE is valid in a packed indirect table. */
				.flags = vq_le16(sg[j].write ? VQ_DESC_F_WRITE : 0),
			};
			/* memcpy: the caller's table need not be 8-aligned. */
			memcpy((char *)ind->table + 16 * j, &d, sizeof(d));
		}
		uint64_t iova = ind->iova;
		if (ind->map) { /* mapped once written (virtqueue_add_indirect_packed) */
			int rc = ind->map(ind->map_ctx, ind->table, 16 * n, &iova);
			if (rc < 0)
				return rc;
		}
		s->desc[pos].addr = vq_le64(iova);
		s->desc[pos].len = vq_le32(16 * n);
		s->desc[pos].id = vq_le16(head);
		vq_set_flags_packed(s, pos, (uint16_t)(VQ_DESC_F_INDIRECT |
						       vq_avail_bits(wrap)));
		vq_pos_add(&pos, &wrap, 1, size);
		if (slots)
			slots[0] = head;
	} else if (n == 1) {
		vq_add_one_packed(s, sg, head, &pos, &wrap, size);
		if (slots)
			slots[0] = head;
	} else {
		for (unsigned j = 0; j < n; j++) {
			bool more = j + 1 < n;
			s->desc[pos].addr = vq_le64(sg[j].addr);
			s->desc[pos].len = vq_le32(sg[j].len);
			s->desc[pos].id = vq_le16(head); /* the last one counts */
			vq_set_flags_packed(s, pos, (uint16_t)(
				(sg[j].write ? VQ_DESC_F_WRITE : 0) |
				(more ? VQ_DESC_F_NEXT : 0) | vq_avail_bits(wrap)));
			vq_pos_add(&pos, &wrap, 1, size);
			if (slots)
				slots[j] = id;
			last = id;
			if (more)
				id = s->next[id];
		}
	}
	if (s->in_order)
		s->alloc = vq_id_next(last, size);
	else
		s->free_head = s->next[last]; /* stale when empty: num_free
						 guards every use */
	s->avail_pos = pos;
	s->avail_wrap = wrap;

	struct vq_chain_state *cs = &vq->chain[head];
	cs->token = token;
	cs->in_bytes = in_bytes;
	cs->ndesc = (uint8_t)n;
	cs->flags = ind ? VQ_CHAIN_INDIRECT : 0;
	cs->gen = vq->gen; /* unpublished until vq_kick_prepare */
	s->descs_unpub += k;
	vq->num_free -= k;
	vq->num_added++;
	vq->stats.added++;
	return head;
}

int vq_kick_prepare_packed(struct vq *vq)
{
	struct vq_packed_drv *s = &vq->packed;
	const uint32_t size = vq->cfg.size;

	if (!s->head_pending)
		return 0; /* nothing added since the last publish */
	/* R3, S5: release for A3 in vq_dev_pop_packed; seq_cst so the loads
	 * below cannot pass it (pairs with S6 in vq_dev_enable_kick_packed). */
	atomic_store_explicit(&s->desc[s->head_pos].flags, vq_le16(s->head_flags),
			      memory_order_seq_cst);
	s->head_pending = false;
	uint32_t old_lin = vq_lin(s->pub_pos, s->pub_wrap, size);
	uint32_t new_lin = vq_lin(s->avail_pos, s->avail_wrap, size);
	s->pub_pos = s->avail_pos;
	s->pub_wrap = s->avail_wrap;
	s->descs_pub += s->descs_unpub;
	s->descs_unpub = 0;
	vq_gen_advance(vq);
	vq->stats.publishes++;

	/* S5: pairs with S6 in vq_dev_enable_kick_packed. */
	uint16_t f = vq_le16(atomic_load_explicit(&s->dev_ev->flags,
						  memory_order_seq_cst));
	bool need = true;
	if (f == VQ_PACKED_EVENT_DISABLE)
		need = false;
	else if (f == VQ_PACKED_EVENT_DESC && s->event_idx)
		/* S5: pairs with S6 in vq_dev_enable_kick_packed. */
		need = vq_packed_need_event(
			vq_le16(atomic_load_explicit(&s->dev_ev->off_wrap,
						     memory_order_seq_cst)),
			old_lin, new_lin, size);
	if (need)
		vq->stats.kicks++;
	return need;
}

/* The used side's hostile-device refusals, out of line (each marks the
 * queue broken and returns -EIO); cs is NULL for an id out of range. */
static __attribute__((cold, noinline)) int vq_used_flags_bad(struct vq *vq, uint16_t pos,
							     uint16_t f, bool wrap)
{
	bool a = f & VQ_DESC_F_AVAIL, us = f & VQ_DESC_F_USED;
	if (a != us)
		return vq_badf(vq, "descriptor %u: AVAIL=%d USED=%d with wrap counter %d",
			       pos, a, us, wrap);
	return vq_badf(vq, "descriptor %u: used with wrap %d, expected wrap counter %d",
		       pos, a, wrap);
}

static __attribute__((cold, noinline)) int vq_used_id_bad(struct vq *vq, uint32_t id,
							  const struct vq_chain_state *cs)
{
	if (!cs)
		return vq_badf(vq, "used buffer id %u out of range (queue size %u)",
			       id, vq->cfg.size);
	return vq_badf(vq, cs->token ? "used buffer id %u is not in flight: added but not yet published"
				     : "used buffer id %u is not in flight (double completion?)",
		       id);
}

/* Complete the chain at `head` (its token checked by the caller when
 * `checked`; u->slots past the first filled when `slots`: constants where
 * inlined). */
static inline __attribute__((always_inline)) int
vq_complete_packed(struct vq *vq, struct vq_packed_reap *r, uint16_t head, uint32_t len,
		   struct vq_used *u, bool checked, bool slots)
{
	struct vq_packed_drv *s = &vq->packed;
	const uint32_t size = vq->cfg.size;
	struct vq_chain_state *cs = &vq->chain[head];

	if (!checked && !cs->token)
		return vq_badf(vq, "in-order: next chain (id %u) is not in flight",
			       head);
	bool ind = cs->flags & VQ_CHAIN_INDIRECT;
	unsigned k = ind ? 1 : cs->ndesc;
	if (k > r->descs_pub)
		return vq_badf(vq, "used chain %u skips %u descriptors, only %u published",
			       head, k, r->descs_pub);
	uint16_t id = head, last = head;

	u->token = cs->token;
	u->len = len;
	u->head = head;
	u->ndesc = cs->ndesc;
	u->indirect = ind;
	u->slots[0] = head;
	for (unsigned j = 1; j < k; j++) { /* private links only */
		id = s->next[id];
		if (slots)
			u->slots[j] = id;
		last = id;
	}
	if (s->in_order) {
		r->cursor = vq_id_next(last, size);
	} else {
		s->next[last] = r->free_head;
		r->free_head = head;
	}
	cs->token = NULL;
	r->num_free += k;
	r->descs_pub -= k;
	uint32_t pos = r->pos + k;
	if (pos >= size) {
		pos -= size;
		r->wrap = !r->wrap;
		r->used = vq_used_bits(r->wrap);
	}
	r->pos = (uint16_t)pos;
	r->done++;
	return 1;
}

/* always_inline: vq_get_used_packed and the tracking layer's burst reap
 * (vq_track.c) inline the three under LTO. */
__attribute__((always_inline)) inline void vq_reap_begin_packed(struct vq *vq, struct vq_packed_reap *r)
{
	const struct vq_packed_drv *s = &vq->packed;

	r->pos = s->used_pos;
	r->wrap = s->used_wrap;
	r->used = vq_used_bits(s->used_wrap);
	r->free_head = s->free_head;
	r->cursor = s->cursor;
	r->descs_pub = s->descs_pub;
	r->num_free = vq->num_free;
	r->done = 0;
}

__attribute__((always_inline)) inline void vq_reap_end_packed(struct vq *vq, const struct vq_packed_reap *r)
{
	struct vq_packed_drv *s = &vq->packed;

	if (!r->done)
		return; /* nothing moved */
	s->used_pos = r->pos;
	s->used_wrap = r->wrap;
	s->free_head = r->free_head;
	s->cursor = r->cursor;
	s->descs_pub = r->descs_pub;
	vq->num_free = r->num_free;
	vq->stats.completed += r->done;
	if (s->ev_flags == VQ_PACKED_EVENT_DESC)
		/* Only in DESC mode, the one mode in which the device reads
		 * it; once per reap, at the position after its last chain (a
		 * lagging hint asks for a notification early: spurious, never
		 * lost). Relaxed: a hint that keeps notifications coming; the
		 * sleep/wake race is closed by S8 in vq_enable_cb_packed. */
		atomic_store_explicit(&s->drv_ev->off_wrap,
				      vq_le16(vq_off_wrap(r->pos, r->wrap)),
				      memory_order_relaxed);
}

__attribute__((always_inline)) inline int vq_reap_one_packed(struct vq *vq, struct vq_packed_reap *r,
							     struct vq_used *u, bool slots)
{
	struct vq_packed_drv *s = &vq->packed;
	const uint32_t size = vq->cfg.size;

	if (s->batch) {
		uint16_t head = r->cursor;
		uint32_t len = vq->chain[head].in_bytes; /* skipped: fully used */
		if (head == s->batch_last) {
			len = s->batch_len;
			s->batch = false;
		}
		return vq_complete_packed(vq, r, head, len, u, false, slots);
	}
	if (!r->descs_pub)
		return 0; /* nothing the device may have used */

	const struct vq_packed_desc *d = &s->desc[r->pos];
	/* A4: pairs with R4 in vq_dev_publish_packed. */
	uint16_t f = vq_le16(atomic_load_explicit(&d->flags, memory_order_acquire));
	if ((f & VQ_PACKED_AU) != r->used) {
		if ((f & VQ_PACKED_AU) == (r->used ^ VQ_DESC_F_USED)) /* AVAIL = wrap, USED = !wrap */
			return 0; /* still available: not used yet */
		return vq_used_flags_bad(vq, r->pos, f, r->wrap);
	}
	/* Plain loads: ordered after A4. */
	uint32_t id = vq_le16(d->id);
	if (id >= size)
		return vq_used_id_bad(vq, id, NULL);
	const struct vq_chain_state *cs = &vq->chain[id];
	if (!cs->token || vq_unpublished(vq, cs))
		return vq_used_id_bad(vq, id, cs);
	/* The spec makes len meaningful only with WRITE set, but devices
	 * (QEMU 7.2) fill it without setting WRITE, and Linux and DPDK read
	 * it regardless: read it whenever the chain had device-writable
	 * bytes (it is still bounded by them below); otherwise it is
	 * reserved and ignored. */
	uint32_t len = ((f & VQ_DESC_F_WRITE) || cs->in_bytes) ? vq_le32(d->len) : 0;
	if (len > cs->in_bytes)
		return vq_badf(vq, "used len %u exceeds the %u device-writable bytes of buffer %u",
			       len, cs->in_bytes, id);
	if (s->in_order && id != r->cursor) {
		/* One used descriptor for a batch ending with `id`. */
		s->batch = true;
		s->batch_last = (uint16_t)id;
		s->batch_len = len;
		return vq_complete_packed(vq, r, r->cursor,
					  vq->chain[r->cursor].in_bytes, u, false, slots);
	}
	return vq_complete_packed(vq, r, (uint16_t)id, len, u, true, slots);
}

/* always_inline: the one-chain caller (vq.c) inlines it under LTO */
__attribute__((always_inline)) inline int vq_get_used_packed(struct vq *vq, struct vq_used *u)
{
	struct vq_packed_reap r;

	vq_reap_begin_packed(vq, &r);
	int rc = vq_reap_one_packed(vq, &r, u, true);
	vq_reap_end_packed(vq, &r);
	return rc;
}

/* Driver side, burst: as vq_get_used_burst_split (vq_split.c). */
int vq_get_used_burst_packed(struct vq *vq, struct vq_used *u, unsigned max)
{
	struct vq_packed_reap r;
	unsigned k = 0;

	vq_reap_begin_packed(vq, &r);
	while (k < max) {
		int rc = vq_reap_one_packed(vq, &r, &u[k], true);
		if (rc <= 0) {
			if (rc < 0 && !k)
				return rc;
			break;
		}
		k++;
	}
	vq_reap_end_packed(vq, &r);
	return (int)k;
}

bool vq_enable_cb_packed(struct vq *vq)
{
	struct vq_packed_drv *s = &vq->packed;
	uint16_t want = s->event_idx ? VQ_PACKED_EVENT_DESC : VQ_PACKED_EVENT_ENABLE;

	if (s->event_idx)
		/* S8: pairs with S7 in vq_dev_publish_packed. */
		atomic_store_explicit(&s->drv_ev->off_wrap,
				      vq_le16(vq_off_wrap(s->used_pos, s->used_wrap)),
				      memory_order_seq_cst);
	if (s->ev_flags != want) {
		s->ev_flags = want;
		/* S8: pairs with S7 in vq_dev_publish_packed. */
		atomic_store_explicit(&s->drv_ev->flags, vq_le16(want),
				      memory_order_seq_cst);
	}
	if (s->batch)
		return true;
	if (!s->descs_pub)
		return false;
	/* S8: pairs with S7 in vq_dev_publish_packed. */
	uint16_t f = vq_le16(atomic_load_explicit(&s->desc[s->used_pos].flags,
						  memory_order_seq_cst));
	return !!(f & VQ_DESC_F_AVAIL) == s->used_wrap &&
	       !!(f & VQ_DESC_F_USED) == s->used_wrap;
}

void vq_disable_cb_packed(struct vq *vq)
{
	struct vq_packed_drv *s = &vq->packed;

	if (s->ev_flags != VQ_PACKED_EVENT_DISABLE) {
		s->ev_flags = VQ_PACKED_EVENT_DISABLE;
		/* Relaxed: advisory; a late store costs one spurious
		 * notification. */
		atomic_store_explicit(&s->drv_ev->flags,
				      vq_le16(VQ_PACKED_EVENT_DISABLE),
				      memory_order_relaxed);
	}
}

int vq_detach_unused_packed(struct vq *vq, struct vq_used *u)
{
	struct vq_packed_drv *s = &vq->packed;
	return vq_detach_walk(vq, s->next, &s->free_head, s->in_order, u);
}
