/* SPDX-License-Identifier: MIT */
/*
 * vq_packed_inl.h - the packed layout's inline helpers (ring positions, wrap
 * counters, event offsets) and its indirect entry, shared by the driver side
 * (vq_packed.c) and the device side (vq_packed_dev.c). Private to ring/;
 * include after vq_pvt.h.
 */
#ifndef VQ_PACKED_INL_H
#define VQ_PACKED_INL_H

#include "vq_pvt.h"

/* An indirect table entry: same layout, in memory only the device reads
 * after the R3/A3 edge, so nothing in it is atomic. */
struct vq_packed_ind {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};
_Static_assert(sizeof(struct vq_packed_ind) == 16, "indirect entry is 16 bytes");

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

/* Advance a ring position by k <= size descriptors. */
static inline void vq_pos_add(uint16_t *pos, bool *wrap, uint32_t k,
			      uint32_t size)
{
	uint32_t p = *pos + k;
	if (p >= size) {
		p -= size;
		*wrap = !*wrap;
	}
	*pos = (uint16_t)p;
}

/* Flags that mark a descriptor available (AVAIL = wrap, USED = !wrap) or
 * used (both = wrap) for a given wrap counter. Branch-free: AVAIL is bit 7
 * and USED bit 15, so the available pair is USED shifted right by 8 when
 * the wrap counter is 1. */
_Static_assert(VQ_DESC_F_USED >> 8 == VQ_DESC_F_AVAIL, "AVAIL is USED >> 8");
#define VQ_PACKED_AU (VQ_DESC_F_AVAIL | VQ_DESC_F_USED)

static inline uint16_t vq_avail_bits(bool wrap)
{
	return (uint16_t)(VQ_DESC_F_USED >> (8u * wrap));
}

static inline uint16_t vq_used_bits(bool wrap)
{
	return (uint16_t)(VQ_PACKED_AU & -(unsigned)wrap);
}

static inline bool vq_is_avail(uint16_t f, bool wrap)
{
	return (f & VQ_PACKED_AU) == vq_avail_bits(wrap);
}

/* Position as an offset on a circle of 2 * size (the wrap counter is the
 * lap's parity; it starts at 1). */
static inline uint32_t vq_lin(uint16_t pos, bool wrap, uint32_t size)
{
	return pos + (wrap ? 0 : size);
}

/* Did [old, new) (at most size descriptors) cover the event position? */
static inline bool vq_packed_need_event(uint16_t off_wrap, uint32_t old_lin,
				 uint32_t new_lin, uint32_t size)
{
	uint32_t off = off_wrap & 0x7fffu, two = 2 * size;

	if (off >= size)
		return true; /* nonsense event: notify rather than stall */
	uint32_t e = vq_lin((uint16_t)off, off_wrap & VQ_PACKED_EVENT_WRAP, size);
	uint32_t de = e >= old_lin ? e - old_lin : e + two - old_lin;
	uint32_t dn = new_lin >= old_lin ? new_lin - old_lin : new_lin + two - old_lin;
	return de < dn;
}

static inline uint16_t vq_off_wrap(uint16_t pos, bool wrap)
{
	return (uint16_t)(pos | ((unsigned)wrap << 15)); /* VQ_PACKED_EVENT_WRAP */
}

static inline uint16_t vq_id_next(uint16_t id, uint32_t size)
{
	return (uint16_t)(id + 1u >= size ? 0 : id + 1u);
}

/* Start a side's event suppression "enabled": with EVENT_IDX that is DESC
 * at the first descriptor (offset 0, wrap counter 1), the packed form of
 * the split ring's zeroed used_event / avail_event (notify from entry 0
 * on), so both layouts suppress alike from the first batch. Without
 * EVENT_IDX, ENABLE (the zeroed ring). Plain relaxed stores: the other side
 * is created over this memory afterwards (vq_dev_create). */
static inline void vq_event_init_packed(struct vq_packed_event *ev, uint16_t *shadow,
				 bool event_idx)
{
	*shadow = event_idx ? VQ_PACKED_EVENT_DESC : VQ_PACKED_EVENT_ENABLE;
	if (!event_idx)
		return;
	atomic_store_explicit(&ev->off_wrap, vq_le16(vq_off_wrap(0, true)),
			      memory_order_relaxed);
	atomic_store_explicit(&ev->flags, vq_le16(*shadow), memory_order_relaxed);
}

#endif /* VQ_PACKED_INL_H */
