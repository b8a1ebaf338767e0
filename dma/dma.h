/* SPDX-License-Identifier: MIT */
/*
 * dma.h - DMA mapping backends behind one ops table.
 *
 * Each backend models one real configuration of the Linux DMA API (or of
 * VFIO) closely enough that what unmap does, and what skipping it breaks, is
 * the same as on real hardware:
 *
 *   identity     IOVA = virtual address (DPDK iova-mode=va). Unmap: no-op.
 *   pa           IOVA = physical address from /proc/self/pagemap
 *                (vfio no-IOMMU, DPDK iova-mode=pa). Unmap: no-op.
 *   iommu        software IOMMU: IOVA allocator with per-size caches, page
 *                table, IOTLB; strict or lazy (flush queue) invalidation;
 *                an untrusted device bounces unaligned buffers; passthrough
 *                (identity domain) is dma-direct.
 *   vfio         VFIO type1 MAP_DMA/UNMAP_DMA on a container.
 *   bounce       swiotlb: fixed pool; map copies to the device, unmap of a
 *                device-writable mapping copies back.
 *   noncoherent  cache maintenance: map writes back, unmap invalidates;
 *                small device-writable buffers bounce
 *                (dma_kmalloc_needs_bounce).
 *   debug        wraps another backend and checks every use.
 *   nodma        no DMA API at all: virtio without VIRTIO_F_ACCESS_PLATFORM,
 *                where Linux's vring_use_dma_api() is false and the ring
 *                hands the device physical addresses (sg_phys). IOVA = the
 *                physical address as in pa, but no map, unmap or live
 *                mapping is counted (none is made); nothing bounces
 *                (force_bounce, mask_bits and min_align are refused).
 *
 * Backends are found by name (dma_open); the list is dma_backend_name(i).
 *
 * need_unmap: dma_need_unmap() answers for the mappings made so far, like
 * Linux's dma_need_unmap(): a direct backend that has bounced even one
 * mapping answers true from then on. Ask it after mapping.
 *
 * Return convention: 0 or a count on success, negative errno on failure;
 * nothing sets errno. The last error's text (naming backend and value) is in
 * dma_last_error().
 *
 * Threads: one backend is one device's DMA state (Linux: one struct device),
 * shared by every queue of that device. With params.cpus <= 1 one driver
 * thread calls map/unmap/sync and one device thread may call dma_translate()
 * concurrently (no lock is taken). With params.cpus = N > 1, up to N driver
 * threads (one per queue, each on its own CPU: dma_set_this_cpu) and their
 * device threads may call everything concurrently: the bounce pool is split
 * into areas with a lock each, the IOVA domain keeps a cache per CPU in front
 * of a locked depot and bitmap, and counters are updated with atomic adds.
 * A mapping is unmapped and synced by the thread that made it. Counters may
 * be read from any thread (values are exact once every user is quiescent).
 */
#ifndef DMA_H
#define DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum dma_dir {
	DMA_TO_DEVICE = 1,     /* device reads (TX payload, headers) */
	DMA_FROM_DEVICE = 2,   /* device writes (RX buffers) */
	DMA_BIDIRECTIONAL = 3,
};

/* Reasons need_unmap can be true; dma_need_unmap_reason() returns a bitmask. */
enum dma_unmap_reason {
	DMA_R_IOMMU = 1u << 0,       /* IOVA translation must be torn down */
	DMA_R_BOUNCE = 1u << 1,      /* a mapping was bounced: copy back / free slot */
	DMA_R_NONCOHERENT = 1u << 2, /* cache maintenance on unmap */
	DMA_R_DEBUG = 1u << 3,       /* DMA API debugging tracks every mapping */
	DMA_R_VFIO = 1u << 4,        /* VFIO type1 mapping must be removed */
};

struct dma_params {
	const char *inner;        /* debug: backend it wraps (default "identity") */
	size_t bounce_pool_bytes; /* bounce pool (default 64 MiB) */
	unsigned mask_bits;       /* identity/pa: DMA mask; 0 = 64 (issue 14) */
	unsigned min_align;       /* identity/pa: bounce buffers less aligned; 0 = none */
	bool force_bounce;        /* identity/pa: bounce every mapping */
	bool lazy;                /* iommu: lazy invalidation (flush queue) */
	bool passthrough;         /* iommu: identity domain: dma-direct behind the
				     IOMMU driver, IOVA = address, unmap a no-op */
	bool untrusted;           /* iommu: an untrusted device (external port):
				     strict, and a buffer not 4 KiB-aligned in start
				     and length is bounced into a granule-aligned
				     bounce slot (iommu_dma_map_page) */
	unsigned flush_batch;     /* iommu lazy: unmaps per flush (default 256) */
	int vfio_container_fd;    /* vfio: an open, configured container; -1 none */
	bool nc_model;            /* noncoherent: keep the device's view of memory apart,
				     so a skipped invalidate reads stale data */
	uint64_t debug_entries;   /* debug: entries allocated at open (0: 65536, the
				     kernel's PREALLOC_DMA_DEBUG_ENTRIES); more are
				     added as needed */
	uint64_t debug_entries_max; /* debug: growth fails past this many (0: only
				     when memory runs out); debugging then disables
				     itself with a notice, mapping goes on */
	uint64_t iova_pages;      /* iommu: IOVA space in 4 KiB pages from 1 MiB
				     (0 = up to 4 GiB); small values exhaust it */
	/* Fault injection, for tests (0 = off): dma_map call number
	 * fail_map_at (1-based, counted on this object since dma_open) and
	 * the fail_map_count - 1 calls after it (0 = just that one) fail with
	 * -ENOMEM, as an exhausted IOVA space or bounce pool would, with
	 * "injected failure" in dma_last_error(). debug counts its own calls
	 * (its inner backend gets no injection). */
	uint64_t fail_map_at;
	uint64_t fail_map_count;
	/* Queues (driver threads, each on its own CPU) sharing this device
	 * (0 = 1). > 1 makes the backend thread-safe: the bounce pool is split
	 * into this many areas (rounded down to a power of two, fewer when an
	 * area would hold under 128 slots), as swiotlb splits its pool per
	 * CPU, and the IOVA domain keeps one cache per CPU. */
	unsigned cpus;
	/* iommu lazy: the flush queue's timer, as 6.1's fq_timer: armed when
	 * an IOVA is queued and the timer is off, it flushes the IOTLB and
	 * frees the queue fq_timeout_us later (0: IOVA_FQ_TIMEOUT, 10 ms),
	 * counted in iotlb_flushes and iotlb_timer_flushes. Polled: it fires
	 * at the first unmap at or after its deadline (before that unmap's
	 * IOVA is queued), on
	 * CLOCK_MONOTONIC or the clock dma_set_clock() gives. */
	unsigned fq_timeout_us;
};

/* What a device's DMA setup looks like from outside the mappings: what the
 * 2024 RFC's dma_can_skip_unmap() could see at probe time (direct mapping,
 * forced bouncing) and what it ignored (limits that bounce some mappings,
 * non-coherence, debugging). */
struct dma_props {
	bool direct;       /* no IOMMU translation (dma-direct) */
	bool force_bounce; /* every mapping bounced (swiotlb=force, or the bounce backend) */
	bool may_bounce;   /* an addressing mask or alignment may bounce some mappings */
	bool coherent;     /* false: cache maintenance on map and unmap */
	bool debug;        /* DMA API debugging tracks every mapping */
};

/* Exact counters. A counter a backend cannot have stays 0 and is listed by
 * dma_counter_applies() as not applicable. */
struct dma_counters {
	uint64_t maps, unmaps, map_errors;
	uint64_t syncs_for_cpu, syncs_for_device;
	uint64_t bytes_copied;        /* bounce copies, both directions */
	uint64_t lines_flushed;       /* noncoherent: cache lines written back or invalidated */
	uint64_t iotlb_invalidations; /* iommu: IOTLB entries invalidated */
	uint64_t iotlb_flushes;       /* iommu: flush operations (lazy batches them) */
	uint64_t bounced;             /* mappings that went through a bounce slot */
	uint64_t bounce_live;         /* bounce mappings holding slots now: on a direct
					 backend, the only mappings whose unmap does something */
	uint64_t live, peak_live;     /* mappings currently / at most live; on a device shared by
				       * several CPUs, peak_live is the sum of each CPU shard's own
				       * peak: never below the true peak, exact when one CPU maps
				       * (dma_pvt.h) */
	uint64_t faults;              /* device accesses refused by translate */
	uint64_t stale_hits;          /* iommu lazy: device used an unmapped IOVA via a stale IOTLB entry */
	uint64_t debug_reports;       /* debug: misuse reports */
	uint64_t mem_bytes;           /* the backend's own memory (tables, pools) */
	/* the IOVA two-step API (dma_iova_*): */
	uint64_t iova_links;          /* dma_iova_link calls that linked */
	uint64_t iova_unlinks;        /* dma_iova_unlink calls (dma_iova_destroy's included) */
	uint64_t iova_syncs;          /* dma_iova_sync calls (iommu_sync_map) */
	uint64_t iova_ranges;         /* ranges allocated now (dma_iova_try_alloc less frees) */
	uint64_t iova_allocs;         /* iommu: IOVA ranges allocated (alloc_iova_fast) */
	uint64_t iova_frees;          /* iommu: IOVA ranges freed (strict: at unmap;
					 lazy: when the flush queue is flushed) */
	uint64_t iotlb_timer_flushes; /* iommu lazy: flushes by the queue's timer
					 (fq_flush_timeout), part of iotlb_flushes */
};

struct dma;

/** Open backend `name` with params p (NULL: defaults).
 * @return 0, -ENOENT (no such backend), -ENODEV (not available here; the
 *         reason is in dma_last_error()), -EINVAL, -ENOMEM. */
int dma_open(const char *name, const struct dma_params *p, struct dma **out);
void dma_close(struct dma *d);
const char *dma_name(const struct dma *d);

/** The CPU the calling thread stands for, as the kernel's
 * raw_smp_processor_id() does for a shared device's per-CPU state: it picks
 * this thread's bounce-pool area and IOVA cache (cpu modulo their number).
 * A thread that never calls it gets the next number of a process-wide
 * count on its first DMA call. Each queue's driver thread sets its queue
 * index. */
void dma_set_this_cpu(unsigned cpu);
unsigned dma_this_cpu(void);

/** The clock (ns, monotonic) of a backend's timers: the iommu backend's
 * lazy flush-queue timer. A test passes its own for deterministic timer
 * flushes; call it after dma_open, before mapping.
 * @return 0, -EINVAL (now_ns NULL) or -ENOTSUP (this backend has no timer). */
int dma_set_clock(struct dma *d, uint64_t (*now_ns)(void *ctx), void *ctx);

/** Name of backend i (0-based), NULL past the end. */
const char *dma_backend_name(unsigned i);

/** Text of the last error on any dma object in this thread (names backend,
 * address and value), or "" if none. */
const char *dma_last_error(void);

/** Declare memory buffers will be mapped from (buffer pools, indirect
 * tables). pa pins it and reads its frame numbers (-EPERM when pagemap
 * yields none); vfio may map it; others may ignore it. */
int dma_register(struct dma *d, void *base, size_t len);

/** Map len bytes at cpu for dir; *iova receives the device address.
 * @return 0, -ENOMEM (IOVA space or bounce pool exhausted), -EINVAL. */
int dma_map(struct dma *d, void *cpu, size_t len, enum dma_dir dir,
	    uint64_t *iova);

/** Unmap a mapping made by dma_map with the same len and dir. For bounce,
 * copies device-written bytes back to the original buffer.
 * @return 0, -EINVAL (debug: unknown mapping, wrong len or dir). */
int dma_unmap(struct dma *d, uint64_t iova, size_t len, enum dma_dir dir);

/** Make the device's writes visible to the CPU / the CPU's to the device
 * for a live mapping (bounce copies, noncoherent maintains caches). */
void dma_sync_for_cpu(struct dma *d, uint64_t iova, size_t len,
		      enum dma_dir dir);
void dma_sync_for_device(struct dma *d, uint64_t iova, size_t len,
			 enum dma_dir dir);

/** Device side: pointer through which the device accesses [iova, iova+len)
 * for `access` (DMA_TO_DEVICE: device reads; DMA_FROM_DEVICE: device
 * writes). NULL when not mapped for that access; counted in `faults`. */
void *dma_translate(struct dma *d, uint64_t iova, size_t len,
		    enum dma_dir access);

/** Whether translate gives back the device address itself as the pointer
 * for every range it accepts (no IOMMU, IOVA = virtual address: identity).
 * A device may then use the address directly and call dma_translate() only
 * for a range it would refuse (empty, or wrapping the address space), so
 * that the refusal is still counted in `faults`. */
bool dma_translate_is_identity(const struct dma *d);

/** Whether unmapping the mappings made so far does anything. */
bool dma_need_unmap(const struct dma *d);
/** Why (DMA_R_* bitmask); 0 when dma_need_unmap() is false. */
unsigned dma_need_unmap_reason(const struct dma *d);
/** Whether syncing the live mapping at device address iova does anything,
 * like Linux's dma_need_sync(dev, dma_addr): true on a non-coherent device
 * and for a bounced mapping (dma_direct_need_sync(): the address lies in
 * the swiotlb pool); false for a direct mapping that did not bounce, even
 * after others did. Ask it after mapping, per mapping. */
bool dma_need_sync(const struct dma *d, uint64_t iova);
/** Human text for a DMA_R_* mask, e.g. "IOMMU translation, bounce copy". */
const char *dma_reason_str(unsigned reasons);

void dma_get_counters(const struct dma *d, struct dma_counters *c);
/** Live mappings that hold a resource: a bounce slot, an IOVA, a debug
 * entry (what a mapping never unmapped leaks). A direct mapping that did
 * not bounce holds nothing, whatever the device's coherence. */
uint64_t dma_held_mappings(const struct dma *d);
/** noncoherent: cache lines of live device-writable mappings whose
 * invalidate (at unmap) is still owed: what skipped unmaps left undone;
 * 0 elsewhere. */
uint64_t dma_owed_lines(const struct dma *d);

/** The setup's properties (debug: its inner backend's, plus debug). */
void dma_get_props(const struct dma *d, struct dma_props *p);
/** Whether a counter means something for this backend: offset is
 * offsetof(struct dma_counters, field). false: the field stays 0 and a
 * report should show it as not measured, not as 0. */
bool dma_counter_applies(const struct dma *d, size_t offset);

/* ---- The IOVA two-step API (upstream Linux: dma_iova_try_alloc and friends,
 * drivers/iommu/dma-iommu.c) ----
 *
 * A driver allocates one IOVA range up front and then links buffers into
 * it at offsets it chooses, syncs the IOTLB once per batch of links, and
 * unlinks ranges of it; the range is freed at the end. Only a device
 * behind a DMA-translating IOMMU domain has it: on dma-direct (no IOMMU,
 * passthrough) and on backends outside the kernel's DMA API (vfio) the
 * allocation fails and the caller maps per buffer (dma_map), as the
 * kernel's callers do.
 *
 * Model choices, against upstream:
 *   - link: a buffer not aligned to the 4 KiB granule is linked at a
 *     granule-aligned offset with its in-granule offset kept (device
 *     address = range + offset + that offset). Upstream accepts an
 *     unaligned start only at offset 0 of the state (WARN, -EIO
 *     otherwise), so a driver with one range per queue must place each
 *     buffer's granules itself; the model does it for it.
 *   - untrusted device: where upstream bounces (dev_use_swiotlb() and the
 *     buffer's start or length not granule-aligned), the model bounces the
 *     whole buffer into granule-aligned bounce slots (as its dma_map does);
 *     upstream bounces only the partial head and tail granules and links
 *     the aligned middle directly, so for buffers over 4 KiB the model
 *     copies more bytes than upstream.
 *   - unlink: the PTEs are cleared and the IOTLB invalidated at once
 *     (iommu_iotlb_sync), strict or lazy domain alike: upstream queues only
 *     what dma_iova_destroy frees, never an unlink's invalidation.
 *   - dma_iova_sync: iommu_sync_map; counted (a page-table write is
 *     visible to this software IOMMU when it is made). */
struct dma_iova_state {
	uint64_t addr; /* device address of the range's start */
	uint64_t size; /* bytes (whole granules); 0: not in use (dma_use_iova false) */
};

static inline bool dma_use_iova(const struct dma_iova_state *st)
{
	return st->size != 0;
}

/** Allocate an IOVA range of size bytes (rounded up to 4 KiB granules)
 * for the IOVA API. @return 0 (st filled), -EOPNOTSUPP (the device has no
 * IOVA API: dma-direct, passthrough, vfio, debug; reason in
 * dma_last_error()), -ENOMEM (the IOVA space has no room: the resource, its
 * size and use in dma_last_error()). On failure st is zeroed (dma_use_iova
 * false) and the caller maps per buffer: the kernel's dma_iova_try_alloc
 * returns false in both cases. */
int dma_iova_try_alloc(struct dma *d, struct dma_iova_state *st, size_t size);
/** Free a range with nothing linked in it: the kernel's dma_iova_free
 * (named apart from this model's IOVA allocator, dma_iova_free in dma_pvt.h). */
void dma_iova_range_free(struct dma *d, struct dma_iova_state *st);
/** Link len bytes at cpu into the range at offset (a multiple of 4 KiB)
 * for dir, without IOTLB sync; *dev_addr receives the device address.
 * @return granules of the range used (>= 1), -EINVAL (offset not aligned,
 * the buffer runs past the range), -ENOMEM (untrusted: bounce pool full). */
int dma_iova_link(struct dma *d, struct dma_iova_state *st, void *cpu, size_t offset,
		  size_t len, enum dma_dir dir, uint64_t *dev_addr);
/** Sync the IOTLB for [offset, offset + len) after links (iommu_sync_map). */
int dma_iova_sync(struct dma *d, struct dma_iova_state *st, size_t offset, size_t len);
/** Unlink [offset, offset + len) of the range (whole granules): bounced
 * granules are copied back (dir FROM_DEVICE) and freed, the PTEs cleared,
 * the IOTLB invalidated (one flush). The IOVA stays the range's. */
void dma_iova_unlink(struct dma *d, struct dma_iova_state *st, size_t offset, size_t len,
		     enum dma_dir dir);
/** Unlink the first mapped_len bytes (0: none) and free the range; a lazy
 * domain queues the IOVA for its next flush instead of invalidating now. */
void dma_iova_destroy(struct dma *d, struct dma_iova_state *st, size_t mapped_len,
		      enum dma_dir dir);

#ifdef __cplusplus
}
#endif
#endif /* DMA_H */
