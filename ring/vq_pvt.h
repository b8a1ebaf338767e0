/* SPDX-License-Identifier: MIT */
/*
 * vq_pvt.h - @internal state and layout entry points of the ring library.
 * Do not include outside ring/ and its tests: the API is vq.h.
 *
 * Layout dispatch: vq.c switches on cfg.layout and calls the *_split or
 * *_packed function declared here (direct calls, no function pointers).
 * Each layout keeps its private state in its own struct (vq_split_pvt.h,
 * vq_packed_pvt.h) inside the union of struct vq / struct vq_dev.
 *
 * Cache-line layout: the driver's and the device's private state are
 * separate allocations (struct vq, struct vq_dev), each cache-aligned, so the
 * two threads never write the same line except the shared ring itself; each
 * struct puts its per-packet fields first (the maps below struct vq and
 * struct vq_dev, enforced by _Static_asserts in vq.c).
 */
#ifndef VQ_PVT_H
#define VQ_PVT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vq.h"
#include "vq_packed_pvt.h"
#include "vq_split_pvt.h"

#define VQ_CACHE_LINE 64
/* Room for a formatted broken reason ("used id 70000 out of range ..."). */
#define VQ_REASON_LEN 112
/* Largest indirect table the device accepts (entries). */
#define VQ_DEV_MAX_INDIRECT VQ_MAX_SIZE

/* Per-chain driver state, indexed by head slot (split: head descriptor
 * index; packed: buffer id). The ring's own cost, whatever the policy. */
struct vq_chain_state {
	void *token;       /* NULL: slot not the head of an in-flight chain */
	uint32_t in_bytes; /* device-writable bytes: bound for the used len */
	uint8_t ndesc;     /* buffers in the chain (<= VQ_MAX_CHAIN) */
	uint8_t flags;     /* VQ_CHAIN_INDIRECT */
	uint16_t gen;      /* vq->gen when added: see vq_unpublished() */
};
#define VQ_CHAIN_INDIRECT 1u
_Static_assert(VQ_MAX_CHAIN <= UINT8_MAX, "vq_chain_state.ndesc is 8 bits");

/*
 * struct vq: the driver's private state, cache-aligned, one allocation per
 * queue. Lines 0-2 hold everything the per-packet paths (add, get_used,
 * kick_prepare) read or write; the rest is touched at create, reset,
 * detach or when the queue breaks. Byte offsets (x86_64, checked by the
 * _Static_asserts in vq.c):
 *
 *   line 0   0..15  cfg: layout (dispatch), size, features
 *           16..23  chain: per-chain state array (token, in_bytes, ndesc)
 *           24..31  num_free, num_added
 *           32      broken
 *           34..35  gen: publish generation (vq_unpublished())
 *           40..119 split | packed: shadow indices, ring pointers, private
 *                   next[] / free-id links, wrap counters (80 bytes)
 *   line 1-2 120..151 stats: added / completed per packet, publishes, kicks
 *   line 3-  cold: areas, ring_mem, broken_reason, detach_pos, reason_buf
 *
 * The device never reads any of it: the only lines both sides write are
 * those of the shared ring (descriptor table, avail/used or the packed
 * descriptors, event suppression), and the driver reads shared lines only
 * where the spec says it must (used->idx / used entries, a packed
 * descriptor's flags, the event fields).
 */
struct vq {
	/* hot: every packet */
	struct vq_config cfg;
	struct vq_chain_state *chain; /* [size] */
	uint32_t num_free;
	uint32_t num_added; /* chains added since the last publish (packed; split: avail_idx - avail_pub) */
	bool broken;
	uint16_t gen;       /* publishes so far, mod 2^16 (re-tagged, see below) */
	union {
		struct vq_split_drv split;
		struct vq_packed_drv packed;
	};
	struct vq_stats stats;
	/* cold */
	struct vq_areas areas __attribute__((aligned(VQ_CACHE_LINE)));
	void *ring_mem;
	const char *broken_reason;
	uint32_t detach_pos; /* vq_detach_unused scan position */
	char reason_buf[VQ_REASON_LEN]; /* vq_badf's formatted reason */
} __attribute__((aligned(VQ_CACHE_LINE)));

/*
 * struct vq_dev: the device's private state, its own cache-aligned
 * allocation (the device thread writes it, the driver never reads it).
 * Lines 0-1 hold what pop/push/notify touch per packet:
 *
 *   line 0   0..15  cfg
 *           16..31  translate + its context (descriptor address -> pointer)
 *           32..39  broken, batch_used, tr_identity, inflight
 *           40..111 split | packed: shadow indices, ring pointers, event
 *                   state, the in-order batch (at most 72 bytes)
 *   line 2-  cold: areas, ring_mem, broken_reason, reason_buf
 */
struct vq_dev {
	/* hot: every packet */
	struct vq_config cfg;
	vq_translate_fn translate;
	void *tr_ctx;
	bool broken;
	bool batch_used;
	bool tr_identity;  /* translate(addr) == addr: vq_dev_set_translate_identity */
	uint32_t inflight; /* chains popped and not yet pushed */
	union {
		struct vq_split_dev split;
		struct vq_packed_dev packed;
	};
	/* cold */
	struct vq_areas areas __attribute__((aligned(VQ_CACHE_LINE)));
	void *ring_mem;
	const char *broken_reason;
	char reason_buf[VQ_REASON_LEN];
} __attribute__((aligned(VQ_CACHE_LINE)));

/* Mark broken with a static reason; returns -EIO for `return vq_bad(...)`. */
int vq_bad(struct vq *vq, const char *reason);
int vq_dev_bad(struct vq_dev *dev, const char *reason);
/* Same with a formatted reason kept in reason_buf (cold path only). */
int vq_badf(struct vq *vq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), cold));
int vq_dev_badf(struct vq_dev *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), cold));

/* Device side: account one buffer of a chain being popped. Checks the
 * readable-before-writable order and the 2^32 byte bound, translates the address and stores the
 * buffer while there is room (walk->total counts past VQ_DEV_MAX_SEGS so
 * the caller can return -E2BIG). @return 0 or -EINVAL (device broken). */
struct vq_dev_walk {
	uint32_t total;  /* buffers seen */
	bool seen_write; /* a device-writable buffer was seen */
	uint64_t bytes;  /* out_bytes + in_bytes so far, without wrapping */
};
/* Inline: once per buffer on the device's pop path. */
static inline __attribute__((always_inline)) int
vq_dev_walk_buf(struct vq_dev *dev, struct vq_chain *c, struct vq_dev_walk *w,
		uint64_t addr, uint32_t len, bool write)
{
	w->total++; /* bounded by the callers' walks (ring and table sizes) */
	if (!write && w->seen_write)
		return vq_dev_bad(dev, "device-readable buffer after a device-writable one");
	w->seen_write |= write;
	w->bytes += len;
	if (w->bytes > UINT32_MAX)
		return vq_dev_bad(dev, "chain holds 2^32 bytes or more");
	/* identity: the address is the pointer; translate only sees (and
	 * refuses) an empty or wrapping range */
	void *p = dev->tr_identity && len && addr + len - 1 >= addr
			  ? (void *)(uintptr_t)addr
			  : dev->translate(dev->tr_ctx, addr, len, write ? 1 : 0);
	if (!p)
		return vq_dev_badf(dev, "buffer 0x%llx+%u not translatable for %s",
				   (unsigned long long)addr, len,
				   write ? "write" : "read");
	if (write)
		c->in_bytes += len;
	else
		c->out_bytes += len;
	if (c->nbufs < VQ_DEV_MAX_SEGS) {
		struct vq_dev_buf *b = &c->buf[c->nbufs++];
		b->ptr = p;
		b->addr = addr;
		b->len = len;
		b->write = write;
	}
	return 0;
}

/* Device side: the whole walk of a chain of one descriptor (neither NEXT nor
 * INDIRECT), the common case, on one path: vq_dev_walk_buf's checks for its
 * one buffer (translation; the readable-after-writable and 2^32-byte checks
 * cannot fire for a single buffer of at most 2^32 - 1 bytes), then every
 * field of c. The caller still checks the buffer id (packed) or the head
 * index (split). @return 0 or -EINVAL (device broken). */
static inline __attribute__((always_inline)) int
vq_dev_one_buf(struct vq_dev *dev, struct vq_chain *c, uint64_t addr, uint32_t len,
	       bool write)
{
	void *p = dev->tr_identity && len && addr + len - 1 >= addr
			  ? (void *)(uintptr_t)addr
			  : dev->translate(dev->tr_ctx, addr, len, write ? 1 : 0);
	if (!p)
		return vq_dev_badf(dev, "buffer 0x%llx+%u not translatable for %s",
				   (unsigned long long)addr, len,
				   write ? "write" : "read");
	c->ndesc = 1;
	c->nbufs = 1;
	c->indirect = false;
	c->out_bytes = write ? 0 : len;
	c->in_bytes = write ? len : 0;
	c->buf[0] = (struct vq_dev_buf){ p, addr, len, write };
	return 0;
}

static inline bool vq_has(const struct vq_config *cfg, unsigned bit)
{
	return (cfg->features & VQ_FEATURE(bit)) != 0;
}

/* Detach the next in-flight chain (both layouts): walk its slots through
 * the layout's private next[] links and, out of order, put them back on
 * the free list at *free_head. @return 1 (u filled), 0 (none left). */
int vq_detach_walk(struct vq *vq, uint16_t *next, uint16_t *free_head, bool in_order,
		   struct vq_used *u);

/*
 * Published or not, without a per-chain walk at publish time. vq_add tags a
 * chain with vq->gen; every publish (vq_kick_prepare storing something)
 * advances vq->gen, so an in-flight chain is added-but-unpublished exactly
 * when its tag equals vq->gen. A chain the device keeps across 2^16
 * publishes would alias, so every 2^15 publishes vq_gen_retag() re-tags
 * each in-flight chain (all published at that point) with vq->gen - 2^15,
 * a value vq->gen cannot reach before the next re-tag. Cost: one store per
 * add, one compare per completion, and a walk of the queue every 32768
 * publishes.
 */
void vq_gen_retag(struct vq *vq) __attribute__((cold));

static inline bool vq_unpublished(const struct vq *vq, const struct vq_chain_state *cs)
{
	return cs->gen == vq->gen;
}

/* Call after the store that publishes every chain added so far. */
static inline void vq_gen_advance(struct vq *vq)
{
	vq->num_added = 0;
	if (!(++vq->gen & 0x7fffu))
		vq_gen_retag(vq);
}

/* vq_add for a caller inside ring/ that has made vq_add's checks of sg[]
 * itself while building it (vq_track_add): sg and token not NULL, n in
 * 1..VQ_MAX_CHAIN, no buffer of length 0, no device-readable buffer after
 * a device-writable one, fewer than 2^32 bytes, in_bytes the writable ones.
 * Checks the queue (broken) and ind as vq_add does. */
int vq_add_checked(struct vq *vq, const struct vq_sg *sg, unsigned n, void *token,
		   const struct vq_indirect *ind, uint16_t *slots, uint32_t in_bytes);

/* Layout entry points (vq_split.c / vq_packed.c). Arguments are validated
 * by vq.c before these are called (n range, order, token, indirect). */
int vq_layout_split(const struct vq_config *cfg, struct vq_areas *a);
int vq_layout_packed(const struct vq_config *cfg, struct vq_areas *a);
size_t vq_state_bytes_split(const struct vq_config *cfg);
size_t vq_state_bytes_packed(const struct vq_config *cfg);

int vq_init_split(struct vq *vq);
int vq_init_packed(struct vq *vq);
void vq_fini_split(struct vq *vq);
void vq_fini_packed(struct vq *vq);
/* in_bytes: the chain's device-writable bytes, summed by vq_add's checks. */
int vq_add_split(struct vq *vq, const struct vq_sg *sg, unsigned n, void *token,
		 const struct vq_indirect *ind, uint16_t *slots, uint32_t in_bytes);
int vq_add_packed(struct vq *vq, const struct vq_sg *sg, unsigned n,
		  void *token, const struct vq_indirect *ind, uint16_t *slots,
		  uint32_t in_bytes);
int vq_kick_prepare_split(struct vq *vq);
int vq_kick_prepare_packed(struct vq *vq);
int vq_get_used_split(struct vq *vq, struct vq_used *u);
int vq_get_used_packed(struct vq *vq, struct vq_used *u);
/* Burst reaps (vq_get_used_burst): up to max chains, the count, or -EIO
 * when the first one found the queue broken. */
int vq_get_used_burst_split(struct vq *vq, struct vq_used *u, unsigned max);
int vq_get_used_burst_packed(struct vq *vq, struct vq_used *u, unsigned max);
bool vq_enable_cb_split(struct vq *vq);
bool vq_enable_cb_packed(struct vq *vq);
void vq_disable_cb_split(struct vq *vq);
void vq_disable_cb_packed(struct vq *vq);
int vq_detach_unused_split(struct vq *vq, struct vq_used *u);
int vq_detach_unused_packed(struct vq *vq, struct vq_used *u);

int vq_dev_init_split(struct vq_dev *dev);
int vq_dev_init_packed(struct vq_dev *dev);
void vq_dev_fini_split(struct vq_dev *dev);
void vq_dev_fini_packed(struct vq_dev *dev);
int vq_dev_pop_split(struct vq_dev *dev, struct vq_chain *c);
int vq_dev_pop_packed(struct vq_dev *dev, struct vq_chain *c);
int vq_dev_push_split(struct vq_dev *dev, const struct vq_chain *c, uint32_t len);
int vq_dev_push_packed(struct vq_dev *dev, const struct vq_chain *c,
		       uint32_t len);
int vq_dev_publish_split(struct vq_dev *dev);
int vq_dev_publish_packed(struct vq_dev *dev);
unsigned vq_dev_pop_burst_split(struct vq_dev *dev, struct vq_chain *c,
				unsigned n, int *status);
unsigned vq_dev_pop_burst_packed(struct vq_dev *dev, struct vq_chain *c,
				 unsigned n, int *status);
void vq_dev_push_burst_split(struct vq_dev *dev, const struct vq_chain *c,
			     const uint32_t *len, unsigned n);
void vq_dev_push_burst_packed(struct vq_dev *dev, const struct vq_chain *c,
			      const uint32_t *len, unsigned n);
bool vq_dev_enable_kick_split(struct vq_dev *dev);
bool vq_dev_enable_kick_packed(struct vq_dev *dev);
void vq_dev_disable_kick_split(struct vq_dev *dev);
void vq_dev_disable_kick_packed(struct vq_dev *dev);

/* Little-endian accessors for ring fields (the ring is LE; so is x86). */
static inline uint16_t vq_le16(uint16_t v) { return v; }
static inline uint32_t vq_le32(uint32_t v) { return v; }
static inline uint64_t vq_le64(uint64_t v) { return v; }
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vqbench's ring accessors assume a little-endian host"
#endif

/* The spec's event index test: notify if new_idx passed event_idx since
 * old_idx (all mod 2^16). */
static inline bool vq_need_event(uint16_t event_idx, uint16_t new_idx,
				 uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) <
	       (uint16_t)(new_idx - old_idx);
}

#endif
