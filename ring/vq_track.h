/* SPDX-License-Identifier: MIT */
/*
 * vq_track.h - DMA-address tracking policies: the layer between a driver's
 * buffers and the virtqueue. On add it maps each buffer through a dma
 * backend and hands the ring the IOVAs; on completion it unmaps according to
 * the policy, from whatever the policy chose to remember.
 *
 * The policies (CLI names; the table in vq_track.c is the one place that
 * says what each stores per descriptor and per chain, and when it unmaps):
 *
 *   full       Linux's desc_extra: a 16-byte record per descriptor
 *              (addr 8, len 4, flags 2, next 2); indirect entries get records
 *              too, and the indirect table is itself a tracked mapping.
 *   compact    8 bytes per descriptor: bits 0-15 len-1, bit 16 device-
 *              writable, bits 17-63 IOVA. Limits: len 1..65536, IOVA below
 *              2^47. A mapping outside them is refused (-ERANGE, the chain
 *              rolled back), never truncated.
 *   readback   no record: addr/len/flags are read back from the split
 *              descriptor table at completion (trusts device-writable
 *              memory). Split only: a packed ring's descriptors are
 *              overwritten by used elements.
 *   skip       nothing stored, unmap never called. Refused when the backend
 *              needs unmap (dma_need_unmap), at creation and again after
 *              every mapping (one bounced mapping changes the answer), unless
 *              unsafe_skip: then the damage is measured, not prevented.
 *   premapped  buffers come from one arena mapped once at creation (DPDK
 *              mbufs, page_pool): only the per-chain token is kept; no
 *              per-packet map or unmap. After mapping, dma_need_sync() is
 *              asked per buffer; a buffer that needs it is synced for the
 *              device when posted and (device-writable) for the CPU before
 *              the driver reads it (vq_track_sync_for_cpu), counted.
 *   iova       the IOVA two-step API (dma_iova_try_alloc/link/sync/unlink,
 *              dma.h): one IOVA range per queue allocated at creation, a
 *              window of it per chain in flight; each buffer linked into the
 *              chain's window (one link per descriptor, the indirect table
 *              too), one dma_iova_sync per chain, and on completion one
 *              dma_iova_unlink per direction run of the chain (device-
 *              readable, then device-writable: each one IOTLB flush). Per
 *              chain it keeps 8 bytes (window offset and the two runs'
 *              lengths), nothing per descriptor; the range is destroyed at
 *              teardown. Range size: queue size x (max_chain buffers x the
 *              granules one arena buffer can touch + 1 granule for the
 *              indirect table) x 4 KiB. Where dma_iova_try_alloc fails (dma-
 *              direct: no IOMMU or passthrough; vfio; debug; or no room in
 *              the IOVA space) it falls back to a dma_map per buffer with
 *              full's records, as the kernel's callers do, and says so
 *              (vq_track_iova_mode).
 *
 * The designs of the 2024 virtio-net series:
 *
 *   driver-array  the network driver keeps, per queue, (size + 1) x 19
 *              address+length pairs (16 bytes each), whatever the packets
 *              use: the memory the RFC wanted to avoid.
 *   retrieve   the ring keeps full's records and on completion hands the
 *              driver a chain's address+length pairs in one call; the
 *              driver unmaps them.
 *   adaptive   after mapping each chain, ask dma_need_unmap(); keep full's
 *              records only for chains that need them (a flag byte per
 *              chain; the records are allocated on the first such chain).
 *
 * Skip rules (--skip-rule) decide whether `skip` may run:
 *   upstream   dma_need_unmap(), asked at creation and after every mapping
 *              (Linux's rule: the first bounced mapping changes the answer);
 *   rfc        the 2024 RFC's dma_can_skip_unmap(): the device is direct-
 *              mapped and bouncing is not forced, asked once at creation;
 *   never      skip is always refused.
 * unsafe_skip overrides any rule; the damage is then measured.
 *
 * Return convention: negative errno; vq_track_last_error() names the policy,
 * backend, chain and value.
 */
#ifndef VQ_TRACK_H
#define VQ_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dma.h"
#include "vq.h"

#ifdef __cplusplus
extern "C" {
#endif

enum vq_policy {
	VQ_POLICY_FULL,
	VQ_POLICY_COMPACT,
	VQ_POLICY_READBACK,
	VQ_POLICY_SKIP,
	VQ_POLICY_PREMAPPED,
	VQ_POLICY_DRIVER_ARRAY,
	VQ_POLICY_RETRIEVE,
	VQ_POLICY_ADAPTIVE,
	VQ_POLICY_IOVA,
	VQ_POLICY_COUNT
};

enum vq_skip_rule {
	VQ_SKIP_UPSTREAM,
	VQ_SKIP_RFC,
	VQ_SKIP_NEVER,
	VQ_SKIP_RULE_COUNT
};

/** Name of skip rule i (CLI name), NULL past the end. */
const char *vq_skip_rule_name(unsigned i);
/** Skip rule by name. @return 0 or -ENOENT. */
int vq_skip_rule_lookup(const char *name, enum vq_skip_rule *out);

/* Where the records of an indirect chain's entries live (--indirect-extra;
 * policies full, retrieve, adaptive, compact and iova's fallback, which
 * keep a record per descriptor; vq_track_indirect.c):
 *   upstream   records allocated with each indirect table, as Linux does
 *              since v6.13 (virtio_ring.c: alloc_indirect_split() and
 *              alloc_indirect_packed() put the desc_extra array after the
 *              table, one kmalloc per chain); unmap reads the records.
 *              vqbench takes them from a pool preallocated at create (no
 *              allocation per packet) but counts them as the kernel's
 *              allocation: n records per indirect chain in flight, the
 *              most at once (tracking bytes).
 *   linux-6.1  no record per entry: unmap reads addr/len/flags back from
 *              the indirect table itself (6.1's detach_buf_split() and
 *              detach_buf_packed()); only the ring slot's record of the
 *              table. The table is memory the device reads: what unmap
 *              is given is whatever the table holds at completion. */
enum vq_ind_extra {
	VQ_IND_EXTRA_UPSTREAM,
	VQ_IND_EXTRA_LINUX61,
	VQ_IND_EXTRA_COUNT
};

/** Name of indirect-extra mode i (CLI name), NULL past the end. */
const char *vq_ind_extra_name(unsigned i);
/** Indirect-extra mode by name. @return 0 or -ENOENT. */
int vq_ind_extra_lookup(const char *name, enum vq_ind_extra *out);

/** Name of policy i (the CLI name), NULL past the end. */
const char *vq_policy_name(unsigned i);
/** One-line description of policy i. */
const char *vq_policy_desc(unsigned i);
/** Policy by name. @return 0 or -ENOENT. */
int vq_policy_lookup(const char *name, enum vq_policy *out);

struct vq_track_params {
	enum vq_policy policy;
	enum vq_skip_rule skip_rule; /* who decides whether skip may run */
	bool unsafe_skip; /* allow skip whatever the rule; damage is counted */
	/* The arena all buffers come from: arena_len / buf_size buffers of
	 * buf_size bytes (a power of two, at most 64 KiB), registered with the
	 * backend. premapped maps each buffer once at creation and keeps its
	 * IOVA (what an mbuf's buf_iova is); a posted buffer may be any
	 * sub-range of one arena buffer. Required. */
	void *arena;
	size_t arena_len;
	uint32_t buf_size;
	/* Where the indirect tables live (NULL: private memory). A device that
	 * reads them from memory shared with it (vhost-user's memfd regions)
	 * needs them there. table_alloc returns zeroed, 4 KiB-aligned memory. */
	void *(*table_alloc)(size_t len, void *ctx);
	void (*table_free)(void *p, void *ctx);
	void *table_ctx;
	/* iova: most buffers in one chain (0: VQ_MAX_CHAIN); sizes the range */
	uint32_t max_chain;
	/* records of indirect entries: upstream (0) or linux-6.1 */
	enum vq_ind_extra ind_extra;
};

/* One buffer to post: CPU pointer, length, direction. Device-readable
 * buffers come first. */
struct vq_buf {
	void *cpu;
	uint32_t len;
	uint32_t write; /* 1 = device-writable (RX) */
};

struct vq_track;

/** Check whether policy p may run on ring configuration cfg over backend d,
 * before anything is mapped. @return 0, -EOPNOTSUPP (readback on packed),
 * -EPERM (skip where the backend needs unmap and !unsafe_skip),
 * -EINVAL (bad arena). Whether premapped buffers need syncs is asked after
 * they are mapped (vq_track_create), never here. The reason is in
 * vq_track_last_error(). */
int vq_track_check(const struct vq_config *cfg, const struct vq_track_params *p,
		   const struct dma *d);

/** Create the tracking layer over an existing driver queue and backend.
 * Allocates the policy's records and, with VQ_F_INDIRECT_DESC, one indirect
 * table per descriptor slot (registered with the backend).
 * @return 0, -ENOSPC (premapped: a DMA resource, the IOVA space or the
 *         bounce pool, ran out mapping the arena: vq_track_last_error()
 *         names it, its size and its use), -ENOMEM (no memory for the
 *         tracking state), or what vq_track_check returns. */
int vq_track_create(struct vq *vq, struct dma *d, const struct vq_track_params *p,
		    struct vq_track **out);
/** Unmaps what it still holds mapped (arena for premapped, detached
 * chains), then frees. Live mappings left are what skip leaked. */
void vq_track_destroy(struct vq_track *t);

/** Map and add one chain. With `indirect` (and VQ_F_INDIRECT_DESC) the
 * chain goes through an indirect table. On any failure nothing stays mapped
 * and the ring is unchanged.
 * @return head slot (>= 0), -ENOSPC (ring full), -ENOMEM (map failed:
 *         IOVA space or bounce pool exhausted), -ERANGE (compact: mapping
 *         does not fit), -EPERM (skip: the backend now needs unmap), -EIO. */
int vq_track_add(struct vq_track *t, const struct vq_buf *bufs, unsigned n,
		 void *token, bool indirect);

/* One chain of a burst (vq_track_add_burst): vq_track_add's arguments. */
struct vq_track_chain {
	const struct vq_buf *bufs;
	unsigned n;
	void *token;
	bool indirect;
};

/** Map and add chains[0..count-1] in one call, in order, each exactly as
 * vq_track_add() would (every check per chain, every counter as count
 * calls would move it; the chains are not published until
 * vq_track_kick_prepare()). The burst stops at the first chain that cannot
 * be added: that chain leaves nothing mapped, the ones before it stay added
 * (the ring consistent, their records kept), the ones after it are not
 * tried. A broken queue (-EIO) or chains == NULL with count > 0 (-EINVAL)
 * add nothing.
 * @return the number of chains added (0..count); *err (if err != NULL)
 *         receives 0 when all were added, else the error of chain
 *         chains[return] as vq_track_add() returns it (-ENOSPC ring full,
 *         -ENOMEM map failed, -ERANGE, -EPERM, -EINVAL, -EIO);
 *         vq_track_last_error() names it. */
int vq_track_add_burst(struct vq_track *t, const struct vq_track_chain *chains, unsigned count, int *err);

/* Most chains vq_track_get_used_burst() takes per call. */
#define VQ_TRACK_BURST_MAX 64

/** Take up to max (at most VQ_TRACK_BURST_MAX) completed chains in one
 * call and unmap each per policy, as max calls of vq_track_get_used()
 * would: tokens[i] and lens[i] for i < count. A queue found broken after
 * k > 0 chains returns k (those are complete and unmapped); the next call
 * returns -EIO.
 * @return count (0..max), -EIO (broken before the first chain; see
 *         vq_broken_reason). */
int vq_track_get_used_burst(struct vq_track *t, void **tokens, uint32_t *lens, unsigned max);

/** Publish; @return 1 notify the device, 0 not, -EIO. */
int vq_track_kick_prepare(struct vq_track *t);

/** Take one completed chain and unmap it per policy (bounce copies RX data
 * back here). @return 1, 0 (none), -EIO (broken; see vq_broken_reason). */
int vq_track_get_used(struct vq_track *t, void **token, uint32_t *len);

/** After a reset or a broken queue: detach one in-flight chain, unmapping
 * it as get_used would. @return 1, 0 (none left). */
int vq_track_detach(struct vq_track *t, void **token);

/* Exact memory footprint of one queue: what the counting allocator
 * (dma_mem.h) counts for it, category by category (test_track_counted). */
struct vq_footprint {
	size_t ring;         /* shared ring areas */
	size_t driver_state; /* vq's private state: free list, tokens, shadows;
				the tracking layer's own struct */
	size_t tracking;     /* policy records per descriptor; live queue: plus the
				indirect entries' records (upstream: the most in flight) */
	size_t chain_state;  /* policy state per chain */
	size_t indirect;     /* indirect tables (whole pages) + free list, head map */
	size_t pool_iova;    /* premapped: one IOVA per arena buffer */
	size_t total;        /* sum of the above (dma backend and buffers not included) */
};

/** Footprint of policy on cfg with an arena of arena_bufs buffers, from the
 * same definitions the code uses (adaptive: before any chain needed its
 * records). @return 0 or -EINVAL. */
int vq_track_footprint(const struct vq_config *cfg, enum vq_policy policy,
		       size_t arena_bufs, struct vq_footprint *fp);
/** Footprint of a live queue: as vq_track_footprint, plus what adaptive
 * allocated once a chain needed unmap. */
void vq_track_footprint_live(const struct vq_track *t, struct vq_footprint *fp);

/* Per-queue counters (exact). */
struct vq_track_stats {
	uint64_t maps, unmaps, syncs; /* calls this layer made */
	uint64_t skipped_unmaps;      /* mappings skip never unmapped */
	uint64_t readback_errors;     /* readback found a malformed chain */
	uint64_t tracked_chains;      /* adaptive: chains that kept records */
	uint64_t first_tracked_chain; /* adaptive: number of the first (1-based; 0 none) */
	uint64_t sync_bufs;           /* premapped: arena buffers whose mapping needs syncs
					 (dma_need_sync() asked per buffer after mapping) */
	uint64_t links, unlinks;      /* iova: dma_iova_link / dma_iova_unlink calls */
	uint64_t iova_syncs;          /* iova: dma_iova_sync calls */
	uint64_t ranges;              /* iova: ranges dma_iova_try_alloc gave (1, or 0: fallback) */
	uint64_t ind_readbacks;       /* linux-6.1: indirect entries unmapped from the address,
					 length and flags read back from their table */
};
void vq_track_get_stats(const struct vq_track *t, struct vq_track_stats *st);

/** premapped: before the driver reads a completed chain, sync for the CPU
 * every device-writable buffer of it whose mapping needs syncs (what
 * page_pool_dma_sync_for_cpu() does for a received page); counted in
 * stats.syncs. Other policies: nothing (their unmap did it).
 * @return buffers synced. */
int vq_track_sync_for_cpu(struct vq_track *t, const struct vq_buf *bufs, unsigned n);

/** iova: "iova" when the two-step API is in use, "fallback: <why>" when
 * dma_iova_try_alloc failed and buffers are mapped one by one; "" for
 * other policies. */
const char *vq_track_iova_mode(const struct vq_track *t);

struct vq *vq_track_vq(const struct vq_track *t);
enum vq_policy vq_track_policy(const struct vq_track *t);

/** Last error text of this thread ("" if none). */
const char *vq_track_last_error(void);

#ifdef __cplusplus
}
#endif
#endif
