/* SPDX-License-Identifier: MIT */
/*
 * vq_split_dev.c - the device side of the split layout: pop (one chain or a
 * burst, every chain validated against a hostile driver), push (one used
 * element per chain, or per in-order batch), publish, kick suppression.
 * Split from vq_split.c (the driver side) by responsibility; the memory
 * ordering labels (R1/A1, R2/A2, S1-S4) are listed at the top of vq_split.c.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "vq_pvt.h"

/* ------------------------------------------------------------------------ */
/* Device side                                                               */
/* ------------------------------------------------------------------------ */

int vq_dev_init_split(struct vq_dev *dev)
{
	struct vq_split_dev *s = &dev->split;
	uint32_t n = dev->cfg.size;
	char *m = dev->ring_mem;

	s->desc = (const struct vq_split_desc *)(void *)(m + dev->areas.desc_off);
	s->avail = (const struct vq_split_avail *)(void *)(m + dev->areas.driver_off);
	s->used = (struct vq_split_used *)(void *)(m + dev->areas.device_off);
	s->used_event = (const _Atomic uint16_t *)(const void *)&s->avail->ring[n];
	s->avail_event = (_Atomic uint16_t *)(void *)&s->used->ring[n];
	s->mask = (uint16_t)(n - 1);
	s->event_idx = vq_has(&dev->cfg, VQ_F_EVENT_IDX);
	s->kick_enabled = true; /* zeroed ring: flags 0, avail_event 0 */
	return 0;
}

void vq_dev_fini_split(struct vq_dev *dev) { (void)dev; }

/* Walk the chain at `head`, following NEXT and one level of INDIRECT. Every
 * index is bounds-checked before use and every walk is bounded by the size
 * of the table it runs in, so loops end as errors. */
static __attribute__((noinline)) int vq_dev_walk_split(struct vq_dev *dev, uint16_t head,
							     struct vq_chain *c)
{
	const struct vq_split_dev *s = &dev->split;
	const uint32_t size = dev->cfg.size;
	const char *tbl = (const char *)s->desc;
	uint32_t tbl_n = size, idx = head, count = 0;
	bool in_ind = false;
	struct vq_dev_walk w = { 0, false, 0 };
	int rc;

	c->id = head;
	c->ndesc = 0;
	c->nbufs = 0;
	c->indirect = false;
	c->out_bytes = c->in_bytes = 0;
	for (;;) {
		struct vq_split_desc d;
		if (idx >= tbl_n)
			return in_ind ? vq_dev_badf(dev, "indirect next %u out of range (table of %u)",
						    idx, tbl_n)
				      : vq_dev_badf(dev, "descriptor index %u out of range (queue size %u)",
						    idx, size);
		if (++count > tbl_n)
			return vq_dev_badf(dev, "chain loops or exceeds its table of %u descriptors",
					   tbl_n);
		memcpy(&d, tbl + 16 * (size_t)idx, sizeof(d));
		uint16_t f = vq_le16(d.flags);
		uint32_t len = vq_le32(d.len);
		if (!in_ind)
			c->ndesc++;
		if (f & VQ_DESC_F_INDIRECT) {
			if (in_ind)
				return vq_dev_bad(dev, "indirect descriptor inside an indirect table");
			if (f & VQ_DESC_F_NEXT)
				return vq_dev_bad(dev, "descriptor has both INDIRECT and NEXT");
			if (!vq_has(&dev->cfg, VQ_F_INDIRECT_DESC))
				return vq_dev_bad(dev, "INDIRECT without VIRTIO_RING_F_INDIRECT_DESC");
			if (len == 0 || (len & 15))
				return vq_dev_badf(dev, "indirect table length %u is zero or not a multiple of 16",
						   len);
			if (len / 16 > VQ_DEV_MAX_INDIRECT)
				return vq_dev_badf(dev, "indirect table of %u descriptors (limit %u)",
						   len / 16, VQ_DEV_MAX_INDIRECT);
			tbl = dev->translate(dev->tr_ctx, vq_le64(d.addr), len, 0);
			if (!tbl)
				return vq_dev_badf(dev, "indirect table 0x%llx+%u not translatable",
						   (unsigned long long)vq_le64(d.addr), len);
			tbl_n = len / 16;
			idx = 0;
			count = 0;
			in_ind = true;
			c->indirect = true;
			continue;
		}
		rc = vq_dev_walk_buf(dev, c, &w, vq_le64(d.addr), len,
				     f & VQ_DESC_F_WRITE);
		if (rc)
			return rc;
		if (!(f & VQ_DESC_F_NEXT))
			break;
		idx = vq_le16(d.next);
	}
	return w.total > VQ_DEV_MAX_SEGS ? -E2BIG : 1;
}

/* Pop one chain without the avail_event hint (the callers write it once
 * per pop or once per burst). Inline: the body of both pop forms; *last
 * and *seen are the burst's last_avail and avail_seen, in registers. */
static inline __attribute__((always_inline)) int
vq_dev_pop_one_split(struct vq_dev *dev, struct vq_chain *c, uint16_t *last,
		     uint16_t *seen)
{
	struct vq_split_dev *s = &dev->split;

	if (*last == *seen) {
		/* A1: pairs with R1 in vq_kick_prepare_split. */
		uint16_t idx = vq_le16(atomic_load_explicit(&s->avail->idx,
							    memory_order_acquire));
		uint16_t moved = (uint16_t)(idx - *last);
		if (!moved)
			return 0;
		if (moved > dev->cfg.size)
			return vq_dev_badf(dev, "avail idx jumped by %u (queue size %u)",
					   moved, dev->cfg.size);
		*seen = idx;
	}
	/* Plain load: ordered after A1. */
	uint16_t head = vq_le16(s->avail->ring[*last & s->mask]);
	(*last)++;
	/* A chain of one descriptor (neither NEXT nor INDIRECT) on one path
	 * with vq_dev_walk_split's checks for it: the head index, then
	 * vq_dev_one_buf (translation); any other chain is walked. */
	if (__builtin_expect(head >= dev->cfg.size, 0))
		return vq_dev_badf(dev, "descriptor index %u out of range (queue size %u)",
				   head, dev->cfg.size);
	const struct vq_split_desc *d = &s->desc[head];
	uint16_t f = vq_le16(d->flags);
	if (__builtin_expect(f & (VQ_DESC_F_NEXT | VQ_DESC_F_INDIRECT), 0))
		return vq_dev_walk_split(dev, head, c);
	if (vq_dev_one_buf(dev, c, vq_le64(d->addr), vq_le32(d->len),
			   f & VQ_DESC_F_WRITE))
		return -EINVAL;
	c->id = head;
	return 1;
}

static inline void vq_dev_avail_hint_split(struct vq_split_dev *s)
{
	if (s->kick_enabled && s->event_idx)
		/* Relaxed: a hint that keeps kicks coming; the sleep/wake race
		 * is closed by S2 in vq_dev_enable_kick_split. */
		atomic_store_explicit(s->avail_event, vq_le16(s->last_avail),
				      memory_order_relaxed);
}

/* vq_dev_pop_burst for split: the same validation per chain; last_avail
 * and avail_seen in registers, stored once; the avail_event hint once for
 * the burst, when an entry was taken (valid or not). */
unsigned vq_dev_pop_burst_split(struct vq_dev *dev, struct vq_chain *c,
				unsigned n, int *status)
{
	struct vq_split_dev *s = &dev->split;
	uint16_t before = s->last_avail, last = before, seen = s->avail_seen;
	unsigned k = 0;
	int rc = 1;

	while (k < n && (rc = vq_dev_pop_one_split(dev, &c[k], &last, &seen)) == 1)
		k++;
	k += rc == -E2BIG; /* filled too: the burst ends with it */
	s->avail_seen = seen;
	if (last != before) {
		s->last_avail = last;
		vq_dev_avail_hint_split(s);
	}
	*status = rc;
	return k;
}

int vq_dev_pop_split(struct vq_dev *dev, struct vq_chain *c)
{
	int rc;
	vq_dev_pop_burst_split(dev, c, 1, &rc);
	return rc;
}

/* Plain stores: published by R2 in vq_dev_publish_split. */
static void vq_dev_write_used_split(struct vq_split_dev *s, uint32_t id,
				    uint32_t len)
{
	struct vq_split_used_elem *e = &s->used->ring[s->used_idx & s->mask];
	e->id = vq_le32(id);
	e->len = vq_le32(len);
	s->used_idx++;
}

static void vq_dev_flush_batch_split(struct vq_split_dev *s)
{
	if (s->batch) {
		vq_dev_write_used_split(s, s->batch_id, s->batch_len);
		s->batch = false;
	}
}

/* vq_dev_push_burst for split: c[0..n-1] already passed vq.c's checks.
 * With batch_used, one used entry per run: it stands for every chain
 * before it, which the driver takes as fully written, so a chain written
 * short ends its run. The run is kept in locals, stored once. */
void vq_dev_push_burst_split(struct vq_dev *dev, const struct vq_chain *c,
			     const uint32_t *len, unsigned n)
{
	struct vq_split_dev *s = &dev->split;

	if (!dev->batch_used) {
		vq_dev_flush_batch_split(s);
		uint16_t idx = s->used_idx; /* in a register for the burst */
		for (unsigned i = 0; i < n; i++, idx++) {
			/* Plain stores: published by R2 in vq_dev_publish_split. */
			struct vq_split_used_elem *e = &s->used->ring[idx & s->mask];
			e->id = vq_le32(c[i].id);
			e->len = vq_le32(len[i]);
		}
		s->used_idx = idx;
		return;
	}
	bool run = s->batch;
	uint16_t id = s->batch_id;
	uint32_t rlen = s->batch_len, rin = s->batch_in;
	for (unsigned i = 0; i < n; i++) {
		if (run && rlen != rin) /* the run ends before c[i]: its one entry */
			vq_dev_write_used_split(s, id, rlen);
		run = true;
		id = c[i].id;
		rlen = len[i];
		rin = c[i].in_bytes;
	}
	s->batch = run;
	s->batch_id = id;
	s->batch_len = rlen;
	s->batch_in = rin;
}

int vq_dev_push_split(struct vq_dev *dev, const struct vq_chain *c, uint32_t len)
{
	vq_dev_push_burst_split(dev, c, &len, 1);
	return 0;
}

int vq_dev_publish_split(struct vq_dev *dev)
{
	struct vq_split_dev *s = &dev->split;

	vq_dev_flush_batch_split(s);
	uint16_t old = s->used_pub, new_idx = s->used_idx;
	if (old == new_idx)
		return 0;
	/* R2, S3: release for A2 in vq_get_used_split; seq_cst so the load
	 * below cannot pass it (pairs with S4 in vq_enable_cb_split). */
	atomic_store_explicit(&s->used->idx, vq_le16(new_idx),
			      memory_order_seq_cst);
	s->used_pub = new_idx;
	if (s->event_idx)
		/* S3: pairs with S4 in vq_enable_cb_split. */
		return vq_need_event(vq_le16(atomic_load_explicit(
					     s->used_event, memory_order_seq_cst)),
				     new_idx, old);
	/* S3: pairs with S4 in vq_enable_cb_split. */
	return !(vq_le16(atomic_load_explicit(&s->avail->flags,
					      memory_order_seq_cst)) &
		 VQ_SPLIT_AVAIL_F_NO_INTERRUPT);
}

bool vq_dev_enable_kick_split(struct vq_dev *dev)
{
	struct vq_split_dev *s = &dev->split;

	s->kick_enabled = true;
	if (s->event_idx) {
		/* S2: pairs with S1 in vq_kick_prepare_split. */
		atomic_store_explicit(s->avail_event, vq_le16(s->last_avail),
				      memory_order_seq_cst);
	} else if (s->used_flags & VQ_SPLIT_USED_F_NO_NOTIFY) {
		s->used_flags &= (uint16_t)~VQ_SPLIT_USED_F_NO_NOTIFY;
		/* S2: pairs with S1 in vq_kick_prepare_split. */
		atomic_store_explicit(&s->used->flags, vq_le16(s->used_flags),
				      memory_order_seq_cst);
	}
	/* S2: pairs with S1 in vq_kick_prepare_split. */
	return vq_le16(atomic_load_explicit(&s->avail->idx, memory_order_seq_cst)) !=
	       s->last_avail;
}

void vq_dev_disable_kick_split(struct vq_dev *dev)
{
	struct vq_split_dev *s = &dev->split;

	s->kick_enabled = false;
	if (s->event_idx) {
		/* Relaxed: advisory; an index already passed stops kicks for
		 * 65535 entries. A late store costs one spurious kick. */
		atomic_store_explicit(s->avail_event,
				      vq_le16((uint16_t)(s->last_avail - 1)),
				      memory_order_relaxed);
	} else if (!(s->used_flags & VQ_SPLIT_USED_F_NO_NOTIFY)) {
		s->used_flags |= VQ_SPLIT_USED_F_NO_NOTIFY;
		/* Relaxed: advisory; a late store costs one spurious kick. */
		atomic_store_explicit(&s->used->flags, vq_le16(s->used_flags),
				      memory_order_relaxed);
	}
}
