/* SPDX-License-Identifier: MIT */
/*
 * dev_vu_settle.c - the vhost-user device's measurement mode (see
 * dev_vu_settle.h): wait, outside the counted code, until the backend has
 * caught up with the driver.
 */
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "dev_vu_settle.h"

/* Packed descriptor flags (virtio 1.1, 2.8.1). */
#define PF_NEXT 0x1u
#define PF_AVAIL 0x80u
#define PF_USED 0x8000u

int dev_vu_watch_init(struct dev_vu_watch *w, const struct vq_config *cfg, void *ring)
{
	memset(w, 0, sizeof(*w));
	if (!ring)
		return 0;
	struct vq_areas a;
	int rc = vq_ring_layout(cfg, &a);
	if (rc < 0)
		return rc;
	w->ring = ring;
	w->cfg = *cfg;
	w->desc_off = a.desc_off;
	w->avail_idx_off = a.driver_off + 2; /* split: avail ring { flags, idx, ring[] } */
	w->used_idx_off = a.device_off + 2;  /* split: used ring { flags, idx, ring[] } */
	w->awrap = w->uwrap = true;          /* packed: both wrap counters start at 1 */
	return 0;
}

/* Acquire: pairs with the release by which the driver (avail flags) or the
 * backend (used flags, used index) publishes the entry. */
static uint16_t load16(const struct dev_vu_watch *w, size_t off)
{
	return atomic_load_explicit((_Atomic uint16_t *)(void *)(w->ring + off), memory_order_acquire);
}

static uint16_t pflags(const struct dev_vu_watch *w, uint16_t slot)
{
	return load16(w, w->desc_off + 16u * slot + 14u);
}

/* Packed: follow the descriptors the driver made available since the last
 * call (a slot whose AVAIL bit equals the driver's wrap counter; the
 * backend's used write keeps that bit). */
static void walk_avail(struct dev_vu_watch *w)
{
	for (uint32_t step = 0; step < w->cfg.size; step++) {
		if (!(pflags(w, w->apos) & PF_AVAIL) != !w->awrap)
			return;
		if (++w->apos == w->cfg.size) {
			w->apos = 0;
			w->awrap = !w->awrap;
		}
	}
}

static uint16_t pid(const struct dev_vu_watch *w, uint32_t slot)
{
	uint16_t id;
	memcpy(&id, w->ring + w->desc_off + 16u * slot + 12u, 2);
	return id;
}

/* Packed: the descriptors of the chain with buffer id `id` whose head is
 * `skip` slots after the used cursor: the head, then every slot after it
 * that the driver made available, the backend has not written, and that
 * carries the same id (ring/vq_packed.c writes the id in each descriptor
 * of a chain; the backend overwrites only the slot of a used element). */
static uint32_t chain_span(const struct dev_vu_watch *w, uint32_t skip, uint16_t id, uint32_t limit)
{
	uint32_t size = w->cfg.size, n = skip + 1;
	for (; n < limit; n++) {
		uint32_t slot = w->upos + n;
		bool wrap = slot >= size ? !w->uwrap : w->uwrap;
		slot %= size;
		uint16_t f = pflags(w, (uint16_t)slot);
		if (!(f & PF_AVAIL) != !wrap || !(f & PF_USED) == !wrap || pid(w, slot) != id)
			break;
	}
	return n;
}

/* Packed: follow the used elements the backend wrote (AVAIL and USED both
 * equal to its wrap counter). Each covers one chain, or with IN_ORDER every
 * chain up to the buffer id it names (the driver's in-order ids are head
 * slots). An element that does not fit what the driver made available marks
 * the cursor lost (the still-ring rule alone then ends a wait). */
static void walk_used(struct dev_vu_watch *w)
{
	bool in_order = w->cfg.features & VQ_FEATURE(VQ_F_IN_ORDER);
	uint32_t size = w->cfg.size;
	while (!w->lost) {
		uint16_t f = pflags(w, w->upos);
		if (!(f & PF_AVAIL) != !w->uwrap || !(f & PF_USED) != !w->uwrap)
			return;
		uint16_t id = pid(w, w->upos);
		/* the descriptors between the two cursors: what the backend holds */
		uint32_t held = (uint32_t)(w->apos + size - w->upos) % size;
		if (held == 0 && w->awrap != w->uwrap)
			held = size;
		uint32_t skip = in_order ? (uint32_t)(id + size - w->upos) % size : 0;
		if (id >= size || skip >= held) {
			w->lost = true;
			return;
		}
		uint32_t n = chain_span(w, skip, id, held);
		w->upos = (uint16_t)(w->upos + n);
		if (w->upos >= size) {
			w->upos = (uint16_t)(w->upos - size);
			w->uwrap = !w->uwrap;
		}
	}
}

/* Split: count the chains the used entries since the last call cover
 * (apos: avail entries covered, upos: used entries seen). Each covers one
 * chain, or with IN_ORDER every chain up to the head it names (a device may
 * write one entry for a run). @return the used index. */
static uint16_t walk_used_split(struct dev_vu_watch *w)
{
	uint16_t used = load16(w, w->used_idx_off), avail = load16(w, w->avail_idx_off);
	bool in_order = w->cfg.features & VQ_FEATURE(VQ_F_IN_ORDER);
	uint32_t size = w->cfg.size;
	for (; w->upos != used && !w->lost; w->upos++) {
		uint32_t id;
		memcpy(&id, w->ring + w->used_idx_off + 2 + 8u * (w->upos % size), 4); /* used ring[].id */
		if (in_order)
			while (w->apos != avail && *(const uint16_t *)(const void *)(w->ring + w->avail_idx_off + 2 +
										       2u * (w->apos % size)) != id)
				w->apos++;
		if (w->apos == avail)
			w->lost = true; /* a used entry for a chain never made available */
		else
			w->apos++;
	}
	return used;
}

/* Has the backend consumed everything the driver made available? Also
 * returns where the used side stands, to tell a still ring. */
static bool caught_up(struct dev_vu_watch *w, uint32_t *mark)
{
	if (w->cfg.layout == VQ_LAYOUT_SPLIT) {
		*mark = walk_used_split(w);
		return !w->lost && w->apos == load16(w, w->avail_idx_off);
	}
	walk_avail(w);
	walk_used(w);
	*mark = (uint32_t)w->upos | (uint32_t)w->uwrap << 16 | (uint32_t)pflags(w, w->upos) << 17;
	return !w->lost && w->upos == w->apos && w->uwrap == w->awrap;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* noinline, noclone (GCC): its own symbol even under link-time
 * optimisation, for callgrind's --toggle-collect=dev_vu_settle */
#ifdef __clang__
__attribute__((noinline))
#else
__attribute__((noinline, noclone))
#endif
void dev_vu_settle(struct dev_vu_watch *w, unsigned nq, struct dev_vu_settle_stats *st)
{
	uint32_t mark[8] = {0};
	uint64_t still_since = 0;
	bool waited = false;
	if (nq > 8)
		nq = 8;
	for (;;) {
		bool done = true, moved = false;
		for (unsigned i = 0; i < nq; i++) {
			uint32_t m;
			if (!w[i].ring)
				continue;
			done &= caught_up(&w[i], &m);
			moved |= m != mark[i];
			mark[i] = m;
		}
		if (done)
			break;
		uint64_t now = now_us();
		if (!waited || moved) {
			still_since = now;
		} else if (now - still_since >= DEV_VU_SETTLE_QUIET_US) {
			st->quiet++;
			break;
		}
		waited = true;
		sched_yield(); /* the backend may share this CPU */
	}
	st->waits += waited;
}
