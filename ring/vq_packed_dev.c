/* SPDX-License-Identifier: MIT */
/*
 * vq_packed_dev.c - the device side of the packed layout: pop (one chain or
 * a burst, every chain validated against a hostile driver), push (one used
 * descriptor per chain, or per in-order run), publish, kick suppression.
 * Split from vq_packed.c (the driver side) by responsibility.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "vq_pvt.h"
#include "vq_packed_inl.h"

/* ------------------------------------------------------------------------ */
/* Device side                                                               */
/* ------------------------------------------------------------------------ */

int vq_dev_init_packed(struct vq_dev *dev)
{
	struct vq_packed_dev *s = &dev->packed;
	char *m = dev->ring_mem;

	s->desc = (struct vq_packed_desc *)(void *)(m + dev->areas.desc_off);
	s->drv_ev = (const struct vq_packed_event *)(void *)(m + dev->areas.driver_off);
	s->dev_ev = (struct vq_packed_event *)(void *)(m + dev->areas.device_off);
	s->size = (uint16_t)(dev->cfg.size & 0xffff);
	s->avail_wrap = s->used_wrap = s->pub_wrap = true;
	s->event_idx = vq_has(&dev->cfg, VQ_F_EVENT_IDX);
	vq_event_init_packed(s->dev_ev, &s->ev_flags, s->event_idx);
	return 0;
}

void vq_dev_fini_packed(struct vq_dev *dev) { (void)dev; }

/* Read the indirect table of descriptor d into c. */
static int vq_dev_indirect_packed(struct vq_dev *dev, struct vq_chain *c,
				  struct vq_dev_walk *w, uint64_t addr,
				  uint32_t len)
{
	if (!vq_has(&dev->cfg, VQ_F_INDIRECT_DESC))
		return vq_dev_bad(dev, "INDIRECT without VIRTIO_RING_F_INDIRECT_DESC");
	if (len == 0 || (len & 15))
		return vq_dev_badf(dev, "indirect table length %u is zero or not a multiple of 16",
				   len);
	uint32_t n = len / 16;
	if (n > VQ_DEV_MAX_INDIRECT)
		return vq_dev_badf(dev, "indirect table of %u descriptors (limit %u)",
				   n, VQ_DEV_MAX_INDIRECT);
	const char *tbl = dev->translate(dev->tr_ctx, addr, len, 0);
	if (!tbl)
		return vq_dev_badf(dev, "indirect table 0x%llx+%u not translatable",
				   (unsigned long long)addr, len);
	c->indirect = true;
	for (uint32_t j = 0; j < n; j++) {
		struct vq_packed_ind e;
		memcpy(&e, tbl + 16 * (size_t)j, sizeof(e));
		uint16_t f = vq_le16(e.flags);
		if (f & VQ_DESC_F_INDIRECT)
			return vq_dev_bad(dev, "indirect descriptor inside an indirect table");
		int rc = vq_dev_walk_buf(dev, c, w, vq_le64(e.addr), vq_le32(e.len),
					 f & VQ_DESC_F_WRITE);
		if (rc)
			return rc;
	}
	return 0;
}

/* A chain of several descriptors, or an indirect one, whose first
 * descriptor (flags f, available) is at pos: walked and validated;
 * avail_pos/avail_wrap move past it only when it is taken (1 or -E2BIG).
 * Out of the burst loop, taking pos by value: the common single-descriptor
 * chain keeps its position in registers. */
static __attribute__((noinline)) int
vq_dev_pop_chain_packed(struct vq_dev *dev, struct vq_chain *c, uint16_t pos,
			bool wrap, uint16_t f)
{
	struct vq_packed_dev *s = &dev->packed;
	const uint32_t size = dev->cfg.size;
	uint16_t id = 0;
	struct vq_dev_walk w = { 0, false, 0 };
	uint32_t count = 0;
	int rc;

	c->ndesc = 0;
	c->nbufs = 0;
	c->indirect = false;
	c->out_bytes = c->in_bytes = 0;
	for (;;) {
		const struct vq_packed_desc *d = &s->desc[pos];
		count++;
		/* Plain loads: ordered after A3. */
		uint64_t addr = vq_le64(d->addr);
		uint32_t len = vq_le32(d->len);
		id = vq_le16(d->id);
		vq_pos_add(&pos, &wrap, 1, size);
		if (f & VQ_DESC_F_INDIRECT) {
			if (count != 1 || (f & VQ_DESC_F_NEXT))
				return vq_dev_bad(dev, "INDIRECT descriptor in a NEXT-linked list");
			rc = vq_dev_indirect_packed(dev, c, &w, addr, len);
			if (rc)
				return rc;
			break;
		}
		rc = vq_dev_walk_buf(dev, c, &w, addr, len, f & VQ_DESC_F_WRITE);
		if (rc)
			return rc;
		if (!(f & VQ_DESC_F_NEXT))
			break;
		if (count >= size) /* checked only where a chain goes on */
			return vq_dev_badf(dev, "chain longer than the queue (%u descriptors)",
					   size);
		/* Relaxed: ordered by A3 on the chain's first descriptor. */
		f = vq_le16(atomic_load_explicit(&s->desc[pos].flags,
						 memory_order_relaxed));
		if (!vq_is_avail(f, wrap))
			return vq_dev_badf(dev, "chain continues into descriptor %u, not available",
					   pos);
	}
	if (id >= size)
		return vq_dev_badf(dev, "buffer id %u out of range (queue size %u)",
				   id, size);
	c->id = id;
	c->ndesc = (uint16_t)count;
	s->avail_pos = pos;
	s->avail_wrap = wrap;
	return w.total > VQ_DEV_MAX_SEGS ? -E2BIG : 1;
}

/* One chain at *pos, no event hint: the body of both pop forms. A chain of
 * one descriptor (neither NEXT nor INDIRECT) takes one path with the same
 * checks (vq_dev_one_buf: translation; then the buffer id); any other goes
 * through vq_dev_pop_chain_packed. @return as vq_dev_pop. */
static inline __attribute__((always_inline)) int
vq_dev_pop_one_packed(struct vq_dev *dev, struct vq_chain *c, uint16_t *pos,
		      bool *wrap)
{
	struct vq_packed_dev *s = &dev->packed;
	const uint32_t size = dev->cfg.size;

	/* A3: pairs with R3 in vq_kick_prepare_packed. */
	uint16_t f = vq_le16(atomic_load_explicit(&s->desc[*pos].flags,
						  memory_order_acquire));
	/* one test for the common case: available, neither NEXT nor INDIRECT */
	if (__builtin_expect((f & (VQ_PACKED_AU | VQ_DESC_F_NEXT | VQ_DESC_F_INDIRECT)) !=
			     vq_avail_bits(*wrap), 0)) {
		if (!vq_is_avail(f, *wrap))
			return 0;
		s->avail_pos = *pos; /* unchanged if the chain is refused */
		s->avail_wrap = *wrap;
		int rc = vq_dev_pop_chain_packed(dev, c, *pos, *wrap, f);
		*pos = s->avail_pos;
		*wrap = s->avail_wrap;
		return rc;
	}
	/* Plain loads: ordered after A3. */
	const struct vq_packed_desc *d = &s->desc[*pos];
	uint16_t id = vq_le16(d->id);
	if (vq_dev_one_buf(dev, c, vq_le64(d->addr), vq_le32(d->len),
			   f & VQ_DESC_F_WRITE))
		return -EINVAL;
	if (id >= size)
		return vq_dev_badf(dev, "buffer id %u out of range (queue size %u)",
				   id, size);
	c->id = id;
	vq_pos_add(pos, wrap, 1, size);
	return 1;
}

static inline void vq_dev_avail_hint_packed(struct vq_packed_dev *s)
{
	if (s->ev_flags == VQ_PACKED_EVENT_DESC)
		/* Only in DESC mode, the one mode in which the driver reads
		 * it. Relaxed: a hint that keeps kicks coming; the sleep/wake
		 * race is closed by S6 in vq_dev_enable_kick_packed. */
		atomic_store_explicit(&s->dev_ev->off_wrap,
				      vq_le16(vq_off_wrap(s->avail_pos, s->avail_wrap)),
				      memory_order_relaxed);
}

/* vq_dev_pop_burst for packed: vq_dev_pop's validation per chain, the
 * event hint once per burst. */
unsigned vq_dev_pop_burst_packed(struct vq_dev *dev, struct vq_chain *c,
				 unsigned n, int *status)
{
	struct vq_packed_dev *s = &dev->packed;
	uint16_t pos = s->avail_pos; /* in registers for the burst */
	bool wrap = s->avail_wrap;
	unsigned k = 0;
	int rc = 1;

	while (k < n && (rc = vq_dev_pop_one_packed(dev, &c[k], &pos, &wrap)) == 1)
		k++;
	k += rc == -E2BIG; /* filled too: the burst ends with it */
	if (k) {
		s->avail_pos = pos;
		s->avail_wrap = wrap;
		vq_dev_avail_hint_packed(s);
	}
	*status = rc;
	return k;
}

int vq_dev_pop_packed(struct vq_dev *dev, struct vq_chain *c)
{
	int rc;
	vq_dev_pop_burst_packed(dev, c, 1, &rc);
	return rc;
}

/* Write one used descriptor at used_pos standing for ndesc descriptors.
 * Plain stores, then flags: held back for R4 when first since the last
 * publish, relaxed otherwise (the driver polls in ring order, after A4). */
static inline __attribute__((always_inline)) void
vq_dev_write_used_packed(struct vq_packed_dev *s, uint16_t id,
				     uint32_t len, uint32_t ndesc, uint32_t size)
{
	struct vq_packed_desc *d = &s->desc[s->used_pos];
	uint16_t f = (uint16_t)(vq_used_bits(s->used_wrap) |
				(len ? VQ_DESC_F_WRITE : 0));

	d->id = vq_le16(id);
	d->len = vq_le32(len);
	if (!s->head_pending) {
		s->head_pending = true;
		s->head_pos = s->used_pos;
		s->head_flags = f;
	} else {
		/* Relaxed: the driver reads it only after A4 on the first
		 * used descriptor of this publish, stored later by R4. */
		atomic_store_explicit(&d->flags, vq_le16(f), memory_order_relaxed);
	}
	vq_pos_add(&s->used_pos, &s->used_wrap, ndesc, size);
}

static void vq_dev_flush_batch_packed(struct vq_packed_dev *s, uint32_t size)
{
	if (s->batch) {
		vq_dev_write_used_packed(s, s->batch_id, s->batch_len,
					 s->batch_ndesc, size);
		s->batch = false;
	}
}

/* vq_dev_push_burst for packed: c[0..n-1] already passed vq.c's checks.
 * With batch_used, one used entry per run of fully used chains (the run
 * kept in locals, stored once); a chain written short ends its run. */
void vq_dev_push_burst_packed(struct vq_dev *dev, const struct vq_chain *c,
			      const uint32_t *len, unsigned n)
{
	struct vq_packed_dev *s = &dev->packed;
	const uint32_t size = dev->cfg.size;

	if (!dev->batch_used) {
		vq_dev_flush_batch_packed(s, size);
		if (!n)
			return;
		/* the first may become the held-back head (R4); the rest are
		 * stored as vq_dev_write_used_packed does, with the position
		 * in registers for the burst */
		vq_dev_write_used_packed(s, c[0].id, len[0], c[0].ndesc, size);
		uint16_t pos = s->used_pos;
		bool wrap = s->used_wrap;
		for (unsigned i = 1; i < n; i++) {
			struct vq_packed_desc *d = &s->desc[pos];
			d->id = vq_le16(c[i].id);
			d->len = vq_le32(len[i]);
			/* Relaxed: the driver reads it only after A4 on the
			 * first used descriptor of this publish (head_pending). */
			atomic_store_explicit(&d->flags,
					      vq_le16((uint16_t)(vq_used_bits(wrap) |
								 (len[i] ? VQ_DESC_F_WRITE : 0))),
					      memory_order_relaxed);
			vq_pos_add(&pos, &wrap, c[i].ndesc, size);
		}
		s->used_pos = pos;
		s->used_wrap = wrap;
		return;
	}
	if (!n)
		return;
	bool run = s->batch;
	uint16_t id = s->batch_id;
	uint32_t rlen = s->batch_len, rin = s->batch_in, nd = s->batch_ndesc;
	if (!run) /* c[0] starts the run: the loop below needs one open */
		nd = 0;
	else if (rlen != rin || nd + c[0].ndesc > size) {
		vq_dev_write_used_packed(s, id, rlen, nd, size); /* ends before c[0] */
		nd = 0;
	}
	id = c[0].id;
	rlen = len[0];
	rin = c[0].in_bytes;
	nd += c[0].ndesc;
	for (unsigned i = 1; i < n; i++) {
		if (rlen != rin || nd + c[i].ndesc > size) {
			/* the run ends before c[i]: its one entry */
			vq_dev_write_used_packed(s, id, rlen, nd, size);
			nd = 0;
		}
		id = c[i].id;
		rlen = len[i];
		rin = c[i].in_bytes;
		nd += c[i].ndesc;
	}
	s->batch = true;
	s->batch_id = id;
	s->batch_len = rlen;
	s->batch_in = rin;
	s->batch_ndesc = nd;
}

int vq_dev_push_packed(struct vq_dev *dev, const struct vq_chain *c, uint32_t len)
{
	vq_dev_push_burst_packed(dev, c, &len, 1);
	return 0;
}

int vq_dev_publish_packed(struct vq_dev *dev)
{
	struct vq_packed_dev *s = &dev->packed;
	const uint32_t size = dev->cfg.size;

	vq_dev_flush_batch_packed(s, size);
	if (!s->head_pending)
		return 0;
	/* R4, S7: release for A4 in vq_get_used_packed; seq_cst so the loads
	 * below cannot pass it (pairs with S8 in vq_enable_cb_packed). */
	atomic_store_explicit(&s->desc[s->head_pos].flags, vq_le16(s->head_flags),
			      memory_order_seq_cst);
	s->head_pending = false;
	uint32_t old_lin = vq_lin(s->pub_pos, s->pub_wrap, size);
	uint32_t new_lin = vq_lin(s->used_pos, s->used_wrap, size);
	s->pub_pos = s->used_pos;
	s->pub_wrap = s->used_wrap;

	/* S7: pairs with S8 in vq_enable_cb_packed. */
	uint16_t f = vq_le16(atomic_load_explicit(&s->drv_ev->flags,
						  memory_order_seq_cst));
	if (f == VQ_PACKED_EVENT_DISABLE)
		return 0;
	if (f == VQ_PACKED_EVENT_DESC && s->event_idx)
		/* S7: pairs with S8 in vq_enable_cb_packed. */
		return vq_packed_need_event(
			vq_le16(atomic_load_explicit(&s->drv_ev->off_wrap,
						     memory_order_seq_cst)),
			old_lin, new_lin, size);
	return 1;
}

bool vq_dev_enable_kick_packed(struct vq_dev *dev)
{
	struct vq_packed_dev *s = &dev->packed;
	uint16_t want = s->event_idx ? VQ_PACKED_EVENT_DESC : VQ_PACKED_EVENT_ENABLE;

	if (s->event_idx)
		/* S6: pairs with S5 in vq_kick_prepare_packed. */
		atomic_store_explicit(&s->dev_ev->off_wrap,
				      vq_le16(vq_off_wrap(s->avail_pos, s->avail_wrap)),
				      memory_order_seq_cst);
	if (s->ev_flags != want) {
		s->ev_flags = want;
		/* S6: pairs with S5 in vq_kick_prepare_packed. */
		atomic_store_explicit(&s->dev_ev->flags, vq_le16(want),
				      memory_order_seq_cst);
	}
	/* S6: pairs with S5 in vq_kick_prepare_packed. */
	uint16_t f = vq_le16(atomic_load_explicit(&s->desc[s->avail_pos].flags,
						  memory_order_seq_cst));
	return vq_is_avail(f, s->avail_wrap);
}

void vq_dev_disable_kick_packed(struct vq_dev *dev)
{
	struct vq_packed_dev *s = &dev->packed;

	if (s->ev_flags != VQ_PACKED_EVENT_DISABLE) {
		s->ev_flags = VQ_PACKED_EVENT_DISABLE;
		/* Relaxed: advisory; a late store costs one spurious kick. */
		atomic_store_explicit(&s->dev_ev->flags,
				      vq_le16(VQ_PACKED_EVENT_DISABLE),
				      memory_order_relaxed);
	}
}
