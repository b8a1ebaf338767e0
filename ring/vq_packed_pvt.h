/* SPDX-License-Identifier: MIT */
/*
 * vq_packed_pvt.h - @internal packed-ring state. Include vq_pvt.h instead.
 *
 * Ring structures as in virtio 1.3 section 2.8 (little-endian). A
 * descriptor's flags word carries the AVAIL/USED handshake and is _Atomic;
 * addr/len/id are plain memory published by the release of the flags that
 * cover them. A position in the ring is (index, wrap counter); both sides
 * advance it by compare-and-subtract, never by modulo.
 */
#ifndef VQ_PACKED_PVT_H
#define VQ_PACKED_PVT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define VQ_PACKED_EVENT_ENABLE 0u
#define VQ_PACKED_EVENT_DISABLE 1u
#define VQ_PACKED_EVENT_DESC 2u
#define VQ_PACKED_EVENT_WRAP (1u << 15) /* in off_wrap */

struct vq_packed_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	_Atomic uint16_t flags;
};

struct vq_packed_event {
	_Atomic uint16_t off_wrap; /* offset:15, wrap:1 */
	_Atomic uint16_t flags;
};

/* Driver-private packed state (inside struct vq). */
struct vq_packed_drv {
	struct vq_packed_desc *desc;
	struct vq_packed_event *drv_ev;       /* driver area: we write */
	const struct vq_packed_event *dev_ev; /* device area: we read */
	uint16_t *next;     /* [size] private links between buffer ids */
	uint16_t size;
	uint16_t avail_pos; /* next descriptor to write */
	uint16_t pub_pos;   /* avail_pos at the last publish */
	uint16_t used_pos;  /* next descriptor the device writes used */
	uint16_t head_pos;  /* first descriptor of the unpublished batch */
	uint16_t head_flags; /* its flags, stored last by vq_kick_prepare */
	uint16_t free_head; /* out of order: head of the free-id list */
	uint16_t alloc;     /* in order: next buffer id to hand out */
	uint16_t cursor;    /* in order: id of the oldest in-flight chain */
	uint16_t batch_last; /* in-order batch: id named by the used entry */
	uint16_t ev_flags;  /* shadow of drv_ev->flags; DESC: hints are read */
	bool avail_wrap, pub_wrap, used_wrap;
	bool head_pending; /* head_pos/head_flags hold an unpublished batch */
	bool batch;
	bool in_order, event_idx;
	uint32_t batch_len;
	uint32_t descs_unpub; /* ring descriptors added since the last publish */
	uint32_t descs_pub;   /* published and not yet seen used */
};

/* A reap in progress (vq_reap_*_packed, vq_packed.c): the used side's
 * positions and counts in locals for the length of a burst, so the acquire
 * of each used descriptor's flags does not force them back to memory.
 * vq_reap_end_packed writes them back; between begin and end nothing else
 * may touch the queue. */
struct vq_packed_reap {
	uint32_t descs_pub; /* struct vq_packed_drv's, as they move */
	uint32_t num_free;  /* struct vq's */
	uint32_t done;      /* chains completed: added to stats.completed */
	uint16_t pos;       /* used_pos */
	uint16_t free_head;
	uint16_t cursor;
	uint16_t used;      /* vq_used_bits(wrap): the flags of a used descriptor */
	bool wrap;          /* used_wrap */
};
struct vq;
struct vq_used;
void vq_reap_begin_packed(struct vq *vq, struct vq_packed_reap *r);
/* slots: fill u->slots (else only slots[0], the head: the tracking layer's
 * full, skip and premapped paths read no other).
 * @return 1 (u filled), 0 (nothing completed), -EIO (the device broke the
 * queue: the reason is in vq_broken_reason()). */
int vq_reap_one_packed(struct vq *vq, struct vq_packed_reap *r, struct vq_used *u, bool slots);
void vq_reap_end_packed(struct vq *vq, const struct vq_packed_reap *r);

/* Device-private packed state (inside struct vq_dev). */
struct vq_packed_dev {
	struct vq_packed_desc *desc;
	const struct vq_packed_event *drv_ev; /* we read */
	struct vq_packed_event *dev_ev;       /* we write */
	uint16_t size;
	uint16_t avail_pos; /* next descriptor to pop */
	uint16_t used_pos;  /* next descriptor to write used */
	uint16_t pub_pos;   /* used_pos at the last publish */
	uint16_t head_pos;  /* first used descriptor not yet published */
	uint16_t head_flags;
	uint16_t ev_flags;  /* shadow of dev_ev->flags; DESC: hints are read */
	uint16_t batch_id;
	bool avail_wrap, used_wrap, pub_wrap;
	bool head_pending;
	bool batch;
	bool event_idx;
	uint32_t batch_len, batch_in, batch_ndesc;
};

#endif
