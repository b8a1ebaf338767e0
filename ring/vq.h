/* SPDX-License-Identifier: MIT */
/*
 * vq.h - virtio 1.x split and packed virtqueues, driver side and device side.
 *
 * This is the only public header of the ring library. Everything here works
 * on ring memory the caller provides (see vq_ring_layout()), so the caller
 * chooses where the ring lives (hugepages, a NUMA node, memory shared with a
 * vhost-user backend or mapped for a PCI device).
 *
 * Addresses placed in descriptors are opaque 64-bit device addresses (IOVAs):
 * the ring never maps anything. The tracking policies (vq_track.h) map
 * buffers through a dma backend and hand the ring the resulting IOVAs; the
 * device side turns IOVAs back into pointers through a translate callback.
 *
 * Return convention: functions returning int give 0 (or a count) on success
 * and a negative errno value on failure; nothing sets errno.
 *
 * Serialisation: the driver-side functions (vq_add .. vq_detach_unused) must
 * be called from one thread at a time; the device-side functions (vq_dev_*)
 * from one thread at a time. The driver thread and the device thread may run
 * concurrently on different cores: they communicate only through the ring
 * memory, with C11 acquire/release ordering.
 *
 * Hardening: the driver never trusts memory the device can write. A used id
 * out of range or not in flight (never added, already completed, or added
 * but not yet published by vq_kick_prepare), a double completion, a written
 * length larger
 * than the chain's device-writable bytes, a used index that moves by more than
 * the queue size, or packed wrap/flag inconsistencies mark the queue broken:
 * from then on every driver-side call returns -EIO (vq_detach_unused still
 * works, so in-flight tokens can be recovered and unmapped).
 */
#ifndef VQ_H
#define VQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Feature bits, numbered as in the virtio 1.x specification. */
#define VQ_F_INDIRECT_DESC 28 /* VIRTIO_RING_F_INDIRECT_DESC */
#define VQ_F_EVENT_IDX 29     /* VIRTIO_RING_F_EVENT_IDX */
#define VQ_F_VERSION_1 32     /* VIRTIO_F_VERSION_1 */
#define VQ_F_ACCESS_PLATFORM 33
#define VQ_F_RING_PACKED 34
#define VQ_F_IN_ORDER 35
#define VQ_FEATURE(bit) (UINT64_C(1) << (bit))

/* Descriptor flags (both layouts; AVAIL/USED are packed only). */
#define VQ_DESC_F_NEXT 1
#define VQ_DESC_F_WRITE 2
#define VQ_DESC_F_INDIRECT 4
#define VQ_DESC_F_AVAIL (1u << 7)
#define VQ_DESC_F_USED (1u << 15)

/* Largest chain the driver side posts: virtio-net header + linear part +
 * MAX_SKB_FRAGS (17) page fragments. */
#define VQ_MAX_CHAIN 19
/* Largest chain the device side accepts (after following an indirect
 * table). Longer chains are valid virtio but refused here with -E2BIG. */
#define VQ_DEV_MAX_SEGS 64
/* Queue sizes: split rings take powers of two 1..32768, packed any 1..32768. */
#define VQ_MAX_SIZE 32768

enum vq_layout {
	VQ_LAYOUT_SPLIT = 0,
	VQ_LAYOUT_PACKED = 1,
};

struct vq_config {
	enum vq_layout layout;
	uint32_t size;     /* number of descriptors (queue size) */
	uint64_t features; /* VQ_FEATURE(VQ_F_INDIRECT_DESC) | ... */
};

/* Byte offsets and lengths of the areas in ring memory, laid out in that
 * order with the spec's alignments (split: desc 16, avail 2, used 4; packed:
 * desc 16, event structures 4). The caller allocates `total` bytes aligned to
 * at least 64. */
struct vq_areas {
	size_t desc_off, desc_len;     /* descriptor table / packed descriptor ring */
	size_t driver_off, driver_len; /* split: available ring; packed: driver event suppression */
	size_t device_off, device_len; /* split: used ring; packed: device event suppression */
	size_t total;
};

/** Validate cfg and compute its ring layout.
 * @return 0, or -EINVAL (size not allowed for the layout, unknown layout,
 *         unsupported feature bits). */
int vq_ring_layout(const struct vq_config *cfg, struct vq_areas *areas);

/** Bytes of driver-private state vq_create() allocates for cfg (shadow
 * indices, free list, per-chain tokens, ...). Tracking records of a policy
 * are not included (see vq_track.h). 0 when cfg is invalid. */
size_t vq_driver_state_bytes(const struct vq_config *cfg);

/* ------------------------------------------------------------------------ */
/* Driver side                                                               */
/* ------------------------------------------------------------------------ */

struct vq;

/* One buffer of a chain as the driver posts it. Device-readable buffers
 * (write == 0) come before device-writable ones (write == 1). */
struct vq_sg {
	uint64_t addr; /* device address (IOVA) */
	uint32_t len;
	uint32_t write; /* 1 = device-writable */
};

/* An indirect descriptor table supplied by the caller: `table` is the CPU
 * pointer (room for n 16-byte descriptors), `iova` the device address of the
 * same memory. The ring fills it in the layout's indirect format; if the
 * table is mapped through a copying (bounce) backend, the caller syncs it for
 * the device after vq_add() and before vq_kick_prepare().
 * `map` (optional): called by vq_add() after it has written the table and
 * before it writes the descriptor that points at it, with the table's
 * length in bytes; it maps the table and returns its device address in
 * *iova (used instead of `iova`), as Linux's virtqueue_add_split() and
 * virtqueue_add_indirect_packed() map the table they have just filled (a
 * bounce then copies the finished table; no sync follows). A negative
 * return fails vq_add() with it before anything is published. */
struct vq_indirect {
	void *table;
	uint64_t iova;
	int (*map)(void *ctx, void *table, uint32_t len, uint64_t *iova);
	void *map_ctx;
};

/** Create the driver side over zeroed ring memory laid out by
 * vq_ring_layout(). Allocates the driver-private state (not per packet).
 * @return 0, -EINVAL (bad cfg or misaligned memory), -ENOMEM. */
int vq_create(const struct vq_config *cfg, void *ring_mem, struct vq **out);
void vq_destroy(struct vq *vq);

/** Add a chain of n (1..VQ_MAX_CHAIN) buffers with a non-NULL token.
 * With ind == NULL the chain uses n ring descriptors; with ind != NULL it
 * uses one (requires VQ_F_INDIRECT_DESC). The chain is not visible to the
 * device until vq_kick_prepare(): adding many chains and publishing once is
 * the intended use.
 * If slots != NULL it receives the n descriptor slot numbers (0..size-1) the
 * chain occupies (one slot, the head, when indirect); a tracking policy keys
 * its per-descriptor records on them. The head slot is slots[0].
 * @return the head slot (>= 0), -ENOSPC (not enough free descriptors: retry
 *         after completions), -EINVAL (n out of range, writable before
 *         readable, NULL token, indirect not negotiated, zero length),
 *         -EIO (queue broken). */
int vq_add(struct vq *vq, const struct vq_sg *sg, unsigned n, void *token,
	   const struct vq_indirect *ind, uint16_t *slots);

/** Publish every chain added since the last call (one release store) and say
 * whether the device must be notified, honouring VQ_F_EVENT_IDX (avail_event
 * / packed device event offset+wrap) or the device's NO_NOTIFY flag.
 * @return 1 notify, 0 no notification needed, -EIO broken. */
int vq_kick_prepare(struct vq *vq);

/* A completed chain, as vq_get_used() returns it. */
struct vq_used {
	void *token;
	uint32_t len;   /* bytes the device says it wrote (checked) */
	uint16_t head;  /* head slot, as vq_add returned */
	uint16_t ndesc; /* buffers in the chain (n given to vq_add) */
	bool indirect;
	uint16_t slots[VQ_MAX_CHAIN]; /* the slots vq_add reported, in order */
};

/** Take one completed chain, if any. Its descriptors are free again when this
 * returns. With VQ_F_IN_ORDER a device may return a batch with a single used
 * entry; the chains it covers come out one per call.
 * @return 1 (u filled), 0 (nothing completed), -EIO (queue broken now or
 *         before; the reason is in vq_broken_reason()). */
int vq_get_used(struct vq *vq, struct vq_used *u);

/** Take up to max completed chains in one call, in the order vq_get_used()
 * would return them, into u[0..count-1], with every check vq_get_used()
 * makes, per used entry. A queue found broken after k > 0 chains were
 * taken returns k (those chains are complete and theirs to the caller);
 * the next call returns -EIO. Counters move exactly as for count calls of
 * vq_get_used().
 * @return count (0..max; 0: nothing completed or max == 0), -EINVAL (u NULL
 *         with max > 0), -EIO (broken before the first chain). */
int vq_get_used_burst(struct vq *vq, struct vq_used *u, unsigned max);

/** Ask for (true) or suppress (false) used-buffer notifications from the
 * device (flags, or used_event / packed driver event with EVENT_IDX).
 * Returns true when enabling found completions already pending. */
bool vq_enable_cb(struct vq *vq);
void vq_disable_cb(struct vq *vq);

/** After a device reset (or when the queue is broken): return the tokens of
 * chains still in flight, one per call, freeing their descriptors.
 * @return 1 (u filled, u->len = 0), 0 (none left). */
int vq_detach_unused(struct vq *vq, struct vq_used *u);

/** Number of free descriptors. */
unsigned vq_num_free(const struct vq *vq);
bool vq_is_broken(const struct vq *vq);
/** Why the queue broke (static string naming the rule and value), or NULL. */
const char *vq_broken_reason(const struct vq *vq);
const struct vq_config *vq_get_config(const struct vq *vq);

/* Driver-side counters (exact). */
struct vq_stats {
	uint64_t added;     /* chains added */
	uint64_t completed; /* chains returned by vq_get_used */
	uint64_t publishes; /* vq_kick_prepare calls that published something */
	uint64_t kicks;     /* vq_kick_prepare results of 1 */
};
void vq_get_stats(const struct vq *vq, struct vq_stats *st);

/** Read back the address, length and direction of each buffer of a chain
 * from the descriptor table in ring memory (split layout only): what the
 * `readback` policy does instead of keeping records. Call it right after
 * vq_get_used() returned the chain with head `head` and before the next
 * vq_add(), which may reuse the descriptors. For an indirect chain, pass the
 * CPU pointer of its table in ind_table (the ring knows only its IOVA);
 * otherwise NULL. The table belongs to memory the device can write, so a
 * hostile device can make this return garbage; it never reads out of bounds
 * and refuses loops.
 * @return number of buffers (1..max), -EOPNOTSUPP (packed: its descriptors
 *         are overwritten by used elements), -EIO (malformed chain). */
int vq_readback_split(const struct vq *vq, uint16_t head,
		      const void *ind_table, struct vq_sg *sg, unsigned max);

/* ------------------------------------------------------------------------ */
/* Device side                                                               */
/* ------------------------------------------------------------------------ */

/* Translate a device address to a pointer the device may touch for len
 * bytes in the given direction (write = 1: device writes). NULL means the
 * address is not mapped for that access: the chain is rejected. */
typedef void *(*vq_translate_fn)(void *ctx, uint64_t iova, uint32_t len,
				 int write);

struct vq_dev;

struct vq_dev_buf {
	void *ptr;     /* translated */
	uint64_t addr; /* as found in the descriptor */
	uint32_t len;
	uint32_t write;
};

/* An available chain as the device pops it. */
struct vq_chain {
	uint16_t id;      /* split: head index; packed: buffer id */
	uint16_t ndesc;   /* ring descriptors it consumed (1 if indirect) */
	uint16_t nbufs;   /* entries in buf[] */
	bool indirect;
	uint32_t out_bytes; /* device-readable bytes */
	uint32_t in_bytes;  /* device-writable bytes */
	struct vq_dev_buf buf[VQ_DEV_MAX_SEGS];
};

/** Create the device side over ring memory a driver initialised.
 * @return 0, -EINVAL, -ENOMEM. */
int vq_dev_create(const struct vq_config *cfg, void *ring_mem,
		  vq_translate_fn translate, void *ctx, struct vq_dev **out);
void vq_dev_destroy(struct vq_dev *dev);

/** Pop the next available chain, validating it: a loop, a chain longer than
 * the queue, an indirect table inside an indirect table, an indirect table of
 * zero length or not a multiple of 16, NEXT beside INDIRECT on a descriptor
 * (packed: INDIRECT anywhere but alone in the chain), writable before
 * readable, a descriptor index out of range, or an untranslatable address
 * each make the chain invalid. Inside a packed indirect table WRITE is the
 * only flag read: NEXT and the buffer id are reserved there and ignored, as
 * the spec requires of a device; the table's length alone gives the number
 * of buffers (a split table is walked through NEXT/next instead).
 * @return 1 (c filled), 0 (nothing available), -EINVAL (invalid chain: the
 *         device is now broken, as a real device would need a reset),
 *         -E2BIG (more than VQ_DEV_MAX_SEGS buffers). */
int vq_dev_pop(struct vq_dev *dev, struct vq_chain *c);

/** Mark chain `c` used with `len` bytes written. Not visible to the driver
 * until vq_dev_publish(). With VQ_F_IN_ORDER the device may write a single
 * used entry for a run of chains: see vq_dev_set_batch_used(). */
int vq_dev_push(struct vq_dev *dev, const struct vq_chain *c, uint32_t len);

/** In-order only: write one used entry per publish instead of one per chain
 * (the last chain's id; the driver infers the ones before it). */
void vq_dev_set_batch_used(struct vq_dev *dev, bool on);

/** Declare that the translate function given to vq_dev_create() returns the
 * address itself as the pointer for every range it accepts (a DMA backend
 * without an IOMMU: dma_translate_is_identity()). Pop then uses a buffer's
 * address directly and calls translate only for a range that is empty or
 * wraps, which it refuses and reports as before. Indirect tables are always
 * translated. */
void vq_dev_set_translate_identity(struct vq_dev *dev, bool on);

/** Make pushed entries visible (release) and say whether the driver wants a
 * notification (used_event / driver event suppression / NO_INTERRUPT).
 * @return 1 notify the driver, 0 not needed. */
int vq_dev_publish(struct vq_dev *dev);

/** Ask for (true) or suppress (false) driver notifications (kicks). Returns
 * true when enabling found chains already available. */
bool vq_dev_enable_kick(struct vq_dev *dev);
void vq_dev_disable_kick(struct vq_dev *dev);

/** Copy helpers over a popped chain: gather device-readable bytes from
 * offset `off` into dst, scatter src into device-writable buffers.
 * @return bytes copied. */
size_t vq_dev_read(const struct vq_chain *c, size_t off, void *dst, size_t len);
size_t vq_dev_write(const struct vq_chain *c, size_t off, const void *src,
		    size_t len);

bool vq_dev_is_broken(const struct vq_dev *dev);
const char *vq_dev_broken_reason(const struct vq_dev *dev);

#ifdef __cplusplus
}
#endif
#endif /* VQ_H */
