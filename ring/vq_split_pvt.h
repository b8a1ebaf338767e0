/* SPDX-License-Identifier: MIT */
/*
 * vq_split_pvt.h - @internal split-ring state. Include vq_pvt.h instead.
 *
 * Ring structures as in virtio 1.3 section 2.7 (little-endian). Fields the
 * other side polls or that carry ordering (idx, flags, used_event,
 * avail_event) are _Atomic and only touched with explicit-order atomics;
 * descriptor and ring entries are plain memory, published by the release
 * of the index that covers them.
 */
#ifndef VQ_SPLIT_PVT_H
#define VQ_SPLIT_PVT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define VQ_SPLIT_AVAIL_F_NO_INTERRUPT 1u
#define VQ_SPLIT_USED_F_NO_NOTIFY 1u

struct vq_split_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Driver area: written by the driver only. used_event follows ring[size]. */
struct vq_split_avail {
	_Atomic uint16_t flags;
	_Atomic uint16_t idx;
	uint16_t ring[];
};

struct vq_split_used_elem {
	uint32_t id;
	uint32_t len;
};

/* Device area: written by the device only. avail_event follows ring[size]. */
struct vq_split_used {
	_Atomic uint16_t flags;
	_Atomic uint16_t idx;
	struct vq_split_used_elem ring[];
};

/* Driver-private split state (inside struct vq). Nothing here is read back
 * from ring memory: every value the driver writes has a shadow. */
struct vq_split_drv {
	struct vq_split_desc *desc;
	struct vq_split_avail *avail;
	const struct vq_split_used *used;
	_Atomic uint16_t *used_event;        /* &avail->ring[size] */
	const _Atomic uint16_t *avail_event; /* &used->ring[size] */
	uint16_t *next;      /* [size] private chain / free-list links */
	uint16_t mask;       /* size - 1 */
	uint16_t avail_idx;  /* shadow: index of the next avail entry */
	uint16_t avail_pub;  /* value last stored to avail->idx */
	uint16_t avail_flags; /* shadow of avail->flags */
	uint16_t last_used;  /* next used entry to read */
	uint16_t used_seen;  /* used->idx as last loaded */
	uint16_t free_head;  /* out of order: head of the free list */
	uint16_t alloc;      /* in order: next descriptor to hand out */
	uint16_t cursor;     /* in order: head of the oldest in-flight chain */
	uint16_t batch_last; /* in-order batch: head named by the used entry */
	bool batch;          /* expanding an in-order batch used entry */
	bool in_order, event_idx;
	bool used_hint;      /* callbacks enabled and event_idx: store used_event once per reap */
	uint32_t batch_len;    /* len of that used entry */
	uint32_t pub_inflight; /* chains published and not yet completed */
};

/* A reap in progress (vq_reap_*_split, vq_split.c): the used side's
 * positions and counts in locals for the length of a burst, so the
 * acquire of used->idx and the stores into the caller's vq_used do not
 * force them back to memory. vq_reap_end_split writes them back and, once
 * per reap, the used_event hint; between begin and end nothing else may
 * touch the queue. */
struct vq_split_reap {
	uint32_t pub_inflight; /* struct vq_split_drv's, as they move */
	uint32_t num_free;     /* struct vq's */
	uint32_t done;         /* chains completed: added to stats.completed */
	uint16_t last_used, used_seen, free_head, cursor;
};
struct vq;
struct vq_used;
void vq_reap_begin_split(struct vq *vq, struct vq_split_reap *r);
/* slots: fill u->slots (else only slots[0], the head: the tracking layer's
 * full, skip and premapped paths read no other).
 * @return 1 (u filled), 0 (nothing completed), -EIO (the device broke the
 * queue: the reason is in vq_broken_reason()). */
int vq_reap_one_split(struct vq *vq, struct vq_split_reap *r, struct vq_used *u, bool slots);
void vq_reap_end_split(struct vq *vq, const struct vq_split_reap *r);

/* Device-private split state (inside struct vq_dev). */
struct vq_split_dev {
	const struct vq_split_desc *desc;
	const struct vq_split_avail *avail;
	struct vq_split_used *used;
	const _Atomic uint16_t *used_event; /* &avail->ring[size] */
	_Atomic uint16_t *avail_event;      /* &used->ring[size] */
	uint16_t mask;
	uint16_t last_avail; /* next avail entry to pop */
	uint16_t avail_seen; /* avail->idx as last loaded */
	uint16_t used_idx;   /* shadow: index of the next used entry */
	uint16_t used_pub;   /* value last stored to used->idx */
	uint16_t used_flags; /* shadow of used->flags */
	bool event_idx, kick_enabled;
	bool batch; /* in-order batch: one used entry pending */
	uint16_t batch_id;
	uint32_t batch_len, batch_in;
};

#endif
