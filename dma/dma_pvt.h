/* SPDX-License-Identifier: MIT */
/*
 * dma_pvt.h - @internal: what dma.c and the backends share.
 *
 * Do not include this from outside dma/: the public contract is dma.h.
 *
 * A backend is one file that defines one const struct dma_ops and lists it
 * in dma_backends[] (dma.c). Its private state is a struct whose first
 * member is struct dma; dma.c allocates ops->size bytes, so the backend gets
 * its state back with container_of-style casts (DMA_PRIV).
 *
 * Counters live in struct dma as relaxed atomics, indexed by enum dma_ctr in
 * the same order as struct dma_counters. A device used by one queue
 * (d->shared false) has one writer per counter:
 *   driver thread: everything except the three below;
 *   device thread: faults, stale_hits;
 *   both:          debug_reports (fetch_add).
 * A device shared by several queues (d->shared: params.cpus > 1) keeps its
 * counters in shards instead (struct dma_shard, one per CPU number, each on
 * cache lines of its own): a thread adds to the shard of its CPU
 * (dma_this_cpu), so two queues on two cores never write the same line per
 * buffer, as Linux's dma-direct keeps no shared per-device state. Adds are
 * relaxed fetch_adds (two threads may stand for one CPU number); a read
 * sums d->ctr (what was counted before the shards existed, and
 * debug_reports) and every shard, modulo 2^64, so a sub on another shard
 * than its add still sums exactly. live: each shard stays >= 0 (an unmap
 * lowers its own shard, else the first other shard that has a mapping:
 * another CPU's mapping or none), so the sum is exact. peak_live of a
 * shared device: the sum of every shard's own peak, an upper bound of the
 * true peak of the sum, never below it; exact when one shard does all the
 * mapping or the shards peak at the same moment (tests/dma/dma_shared.c
 * checks both cases and the bound).
 * Relaxed is enough: a counter orders nothing, it is read for reporting, and
 * its value is exact once every user is quiescent.
 *
 * Locks (shared devices only; a device with one queue takes none): the
 * bounce pool's per-area locks, the IOVA domain's per-CPU cache locks, its
 * depot lock and its bitmap lock, taken in that order (area locks alone).
 */
#ifndef DMA_PVT_H
#define DMA_PVT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dma.h"

#define DMA_PAGE_SHIFT 12
#define DMA_PAGE_SIZE (1ul << DMA_PAGE_SHIFT)
#define DMA_PAGE_MASK (DMA_PAGE_SIZE - 1)
#define DMA_LINE 64ul

/* X-macro over struct dma_counters, in field order. */
#define DMA_COUNTER_LIST(X)                                                    \
	X(maps) X(unmaps) X(map_errors) X(syncs_for_cpu) X(syncs_for_device)   \
	X(bytes_copied) X(lines_flushed) X(iotlb_invalidations)                \
	X(iotlb_flushes) X(bounced) X(bounce_live) X(live) X(peak_live) X(faults)             \
	X(stale_hits) X(debug_reports) X(mem_bytes)

enum dma_ctr {
#define DMA_X(n) DMA_C_##n,
	DMA_COUNTER_LIST(DMA_X)
#undef DMA_X
	DMA_C_N
};
/* Fields of struct dma_counters after the list: kept by the one backend
 * that has them (iommu) and filled in by its counters hook, so that the
 * common struct dma (every backend's footprint) does not grow for them.
 * The IOVA API's four come first (the iommu backend keeps them in an
 * array indexed from DMA_C_IOVA_FIRST). */
enum dma_ctr_hooked {
	DMA_C_iova_links = DMA_C_N,
	DMA_C_iova_unlinks,
	DMA_C_iova_syncs,
	DMA_C_iova_ranges,
	DMA_C_iova_allocs,
	DMA_C_iova_frees,
	DMA_C_iotlb_timer_flushes,
	DMA_C_ALL
};
enum { DMA_C_IOVA_FIRST = DMA_C_iova_links, DMA_C_IOVA_N = 4 };
#define DMA_CBITS_IOVA (((1u << DMA_C_IOVA_N) - 1) << DMA_C_IOVA_FIRST)

#define DMA_CBIT(n) (1u << DMA_C_##n)
/* Counters every backend keeps (dma.c maintains them). */
#define DMA_CBITS_COMMON                                                       \
	(DMA_CBIT(maps) | DMA_CBIT(unmaps) | DMA_CBIT(map_errors) |            \
	 DMA_CBIT(syncs_for_cpu) | DMA_CBIT(syncs_for_device) |                \
	 DMA_CBIT(live) | DMA_CBIT(peak_live) | DMA_CBIT(faults) |             \
	 DMA_CBIT(mem_bytes))
/* Counters a direct backend (identity, pa) adds: its bounce pool. */
#define DMA_CBITS_BOUNCE (DMA_CBIT(bytes_copied) | DMA_CBIT(bounced) | DMA_CBIT(bounce_live))

struct dma;

/* One backend. Every hook runs on the driver thread except translate
 * (device thread). NULL hooks: reg -> accepted and ignored; sync -> no-op;
 * counters -> the snapshot is used as is. */
struct dma_ops {
	const char *name;
	size_t size;       /* bytes of the backend struct (struct dma first) */
	unsigned cbits;    /* DMA_CBIT mask of the counters that apply */
	bool no_api;       /* not the DMA API: map is an address lookup the
			      driver does itself (virtio without
			      ACCESS_PLATFORM); dma.c counts no map, unmap
			      or live mapping */
	int (*open)(struct dma *d);
	void (*close)(struct dma *d);
	int (*reg)(struct dma *d, void *base, size_t len);
	int (*map)(struct dma *d, void *cpu, size_t len, enum dma_dir dir,
		   uint64_t *iova);
	int (*unmap)(struct dma *d, uint64_t iova, size_t len,
		     enum dma_dir dir);
	void (*sync)(struct dma *d, uint64_t iova, size_t len,
		     enum dma_dir dir, bool for_cpu);
	void *(*translate)(struct dma *d, uint64_t iova, size_t len,
			   enum dma_dir access);
	unsigned (*need_unmap)(const struct dma *d);
	bool (*need_sync)(const struct dma *d, uint64_t iova);
	/* live mappings holding a resource; NULL: bounce_live */
	uint64_t (*held)(const struct dma *d);
	uint64_t (*owed_lines)(const struct dma *d); /* NULL: 0 */
	void (*counters)(const struct dma *d, struct dma_counters *c);
	/* The IOVA two-step API (dma_iova_api.c); NULL: not available here.
	 * The hooks keep the iova_* counters. */
	int (*iova_alloc)(struct dma *d, struct dma_iova_state *st, size_t size);
	void (*iova_sync)(struct dma *d, struct dma_iova_state *st, size_t offset, size_t len);
	void (*iova_free)(struct dma *d, struct dma_iova_state *st); /* nothing linked */
	int (*iova_link)(struct dma *d, struct dma_iova_state *st, void *cpu, size_t offset,
			 size_t len, enum dma_dir dir, uint64_t *dev_addr);
	/* destroy: then free the range too (a lazy domain queues it and its
	 * invalidation for the next flush, as dma_iova_destroy does) */
	void (*iova_unlink)(struct dma *d, struct dma_iova_state *st, size_t offset,
			    size_t len, enum dma_dir dir, bool destroy);
};

struct dma {
	const struct dma_ops *ops;
	struct dma_params p; /* defaults filled in by dma_open */
	unsigned applies;    /* DMA_CBIT mask: ops->cbits, or debug's */
	bool shared;         /* params.cpus > 1: several queues map concurrently */
	/* The device's "a mapping has bounced" state, Linux's
	 * !dev->dma_skip_sync: set by the first bounce on any queue
	 * (dma_dev_set_bounced), never cleared; need_unmap of a direct
	 * backend reads it. Relaxed: it publishes nothing but itself. */
	atomic_bool bounced;
	/* Set by the backend's open when every map returns the CPU address
	 * and unmap does nothing (identity without a bounce pool); dma_open
	 * clears it for a device of several queues or with injected
	 * failures. Set: dma_map/dma_unmap take their inline fast path,
	 * which checks the same arguments and keeps the same counters. */
	bool fast_va;
	/* Set by the backend's open: translate returns the address itself. */
	bool va_translate;
	/* Set by dma_open for a shared device whose backend set fast_va
	 * (identity without a bounce pool) and injects no failure: map/unmap
	 * skip the backend's hooks, which do nothing but return the address,
	 * and count in this CPU's shard as the full path does. */
	bool fast_va_shared;
	/* Set by a direct backend's open (identity): its need_unmap is
	 * dma_direct_need_unmap(), which dma_need_unmap_reason answers
	 * without the indirect call. */
	bool direct_need_unmap;
	_Atomic uint64_t map_calls; /* dma_map calls so far, counted while
				     * fault injection is armed (fail_map_at) */
	_Atomic uint64_t ctr[DMA_C_N];
	/* A shared device's counter shards (dma_open), nshards of them, a
	 * power of two >= params.cpus; NULL for one queue (see top). */
	struct dma_shard *shards;
	unsigned nshards;
	/* A shared device's number, unique for the process and never reused
	 * (dma_open; 0 for one queue): the key of the thread-local shard
	 * cache (dma_shard_of), so a closed device's shards are never hit. */
	uint64_t serial;
};

/* One CPU's counters on a shared device: its own cache lines. */
struct dma_shard {
	_Alignas(64) _Atomic uint64_t ctr[DMA_C_N];
};

/* dma_this_cpu()'s state (dma.c), read inline: a shared device looks up
 * this CPU's shard per mapping and per unmap. Thread-local: no other
 * thread reads or writes it. */
extern _Thread_local unsigned dma_tls_cpu_id;
extern _Thread_local bool dma_tls_cpu_set;

/* dma_this_cpu(), without a call once the thread has its number. */
static inline unsigned dma_this_cpu_inline(void)
{
	return __builtin_expect(dma_tls_cpu_set, 1) ? dma_tls_cpu_id : dma_this_cpu();
}

/* This thread's shard of the shared device it used last, keyed by that
 * device's serial (0: none; dma_set_this_cpu clears it). Thread-local. */
extern _Thread_local uint64_t dma_tls_shard_serial;
extern _Thread_local struct dma_shard *dma_tls_shard;

/* The shard of this thread's CPU, and the cache filled (dma.c). */
struct dma_shard *dma_shard_lookup(struct dma *d);

/* This CPU's shard of a shared device: from the thread-local cache when
 * the thread used this device last, else looked up. */
static inline struct dma_shard *dma_shard_of(struct dma *d)
{
	if (__builtin_expect(dma_tls_shard_serial == d->serial, 1))
		return dma_tls_shard;
	return dma_shard_lookup(d);
}

#define DMA_PRIV(type, d) ((type *)(void *)(d))
#define DMA_CPRIV(type, d) ((const type *)(const void *)(d))

extern const struct dma_ops dma_identity_ops, dma_pa_ops, dma_iommu_ops,
	dma_vfio_ops, dma_bounce_ops, dma_noncoherent_ops, dma_debug_ops,
	dma_nodma_ops;

/* ---- counters ---- */

/* One queue: a single-writer add, a relaxed load and store (no locked
 * instruction on the fast path); only the counter's one writer (see top)
 * may call it. A shared device: a relaxed fetch_add. */
static inline void dma_ctr_add(struct dma *d, enum dma_ctr c, uint64_t n)
{
	if (d->shared) {
		_Atomic uint64_t *p = d->shards ? &dma_shard_of(d)->ctr[c] : &d->ctr[c];
		atomic_fetch_add_explicit(p, n, memory_order_relaxed);
		return;
	}
	uint64_t v = atomic_load_explicit(&d->ctr[c], memory_order_relaxed);
	atomic_store_explicit(&d->ctr[c], v + n, memory_order_relaxed);
}

static inline void dma_ctr_sub(struct dma *d, enum dma_ctr c, uint64_t n)
{
	if (d->shared) {
		_Atomic uint64_t *p = d->shards ? &dma_shard_of(d)->ctr[c] : &d->ctr[c];
		atomic_fetch_sub_explicit(p, n, memory_order_relaxed);
		return;
	}
	uint64_t v = atomic_load_explicit(&d->ctr[c], memory_order_relaxed);
	atomic_store_explicit(&d->ctr[c], v - n, memory_order_relaxed);
}

/* Counter with writers on both threads (debug_reports): in d->ctr even
 * on a shared device. */
static inline void dma_ctr_add_shared(struct dma *d, enum dma_ctr c,
				      uint64_t n)
{
	atomic_fetch_add_explicit(&d->ctr[c], n, memory_order_relaxed);
}

/* The counter of a device with one queue (its hot paths read it). */
static inline uint64_t dma_ctr_get(const struct dma *d, enum dma_ctr c)
{
	return atomic_load_explicit(&d->ctr[c], memory_order_relaxed);
}

/* The counter's value on any device: d->ctr plus every shard (see top).
 * For reporting and slow paths: it reads every shard's line. */
static inline uint64_t dma_ctr_read(const struct dma *d, enum dma_ctr c)
{
	uint64_t v = dma_ctr_get(d, c);
	for (unsigned i = 0; i < d->nshards; i++)
		v += atomic_load_explicit(&d->shards[i].ctr[c], memory_order_relaxed);
	return v;
}

/* ---- device state and locks (dma.c) ---- */

/* A mapping bounced: from now on need_unmap is true for every queue of the
 * device, as the kernel's dma_reset_need_sync() clears dev->dma_skip_sync
 * on the first swiotlb mapping. Loaded first so that the hot path of a
 * device that bounces every mapping does not write the line each time. */
static inline void dma_dev_set_bounced(struct dma *d)
{
	if (!atomic_load_explicit(&d->bounced, memory_order_relaxed))
		atomic_store_explicit(&d->bounced, true, memory_order_relaxed);
}

static inline bool dma_dev_bounced(const struct dma *d)
{
	return atomic_load_explicit(&d->bounced, memory_order_relaxed);
}

/* need_unmap of a direct backend (no IOMMU): only a bounce ever made on
 * this device makes unmap necessary, as Linux's dma_need_unmap() answers
 * from dma_skip_sync for dma-direct. */
static inline unsigned dma_direct_need_unmap(const struct dma *d)
{
	return dma_dev_bounced(d) ? DMA_R_BOUNCE : 0;
}

/* A lock only a shared device takes: one queue's device runs lock-free.
 * Locks order everything they guard (acquire on lock, release on unlock,
 * pairing with each other). */
static inline void dma_lock(bool shared, pthread_mutex_t *m)
{
	if (shared)
		pthread_mutex_lock(m);
}

static inline void dma_unlock(bool shared, pthread_mutex_t *m)
{
	if (shared)
		pthread_mutex_unlock(m);
}

/* ---- errors and memory (dma.c) ---- */

/* Set dma_last_error() to "<backend>: <text>" and return err (negative). */
int dma_err(const struct dma *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, naming the backend by string (before a struct dma exists). */
int dma_err_name(const char *name, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Zeroed, 64-byte aligned allocation counted in mem_bytes; dma_free
 * uncounts it. Open, register, amortised page-table growth. */
void *dma_zalloc(struct dma *d, size_t n);
void dma_free(struct dma *d, void *p, size_t n);
/* Page-aligned anonymous mapping, populated, counted in mem_bytes.
 * hint != NULL: exactly there (MAP_FIXED_NOREPLACE) or fail. huge: 2 MiB
 * hugetlb pages (n a multiple of 2 MiB) or fail. */
void *dma_mmap(struct dma *d, size_t n, void *hint, bool huge);
void dma_munmap(struct dma *d, void *p, size_t n);

const char *dma_dir_str(enum dma_dir dir);

static inline bool dma_dir_valid(enum dma_dir dir)
{
	/* DMA_TO_DEVICE, DMA_FROM_DEVICE or DMA_BIDIRECTIONAL: 1..3 */
	return (unsigned)dir - DMA_TO_DEVICE <= DMA_BIDIRECTIONAL - DMA_TO_DEVICE;
}

/* Does a mapping for `dir` allow a device access `access`? */
static inline bool dma_dir_allows(enum dma_dir dir, enum dma_dir access)
{
	return ((unsigned)access & ~(unsigned)dir) == 0;
}

/* Number of `unit`-sized blocks (power of two) that [p, p+len) touches. */
static inline uint64_t dma_span(uint64_t p, size_t len, uint64_t unit)
{
	return ((p + len - 1) / unit) - (p / unit) + 1;
}

/* ---- bounce pool (dma_bpool.c), shared by bounce, identity and pa ---- */

#define DMA_BSLOT_SHIFT 11 /* 2 KiB slots, like swiotlb's IO_TLB_SIZE */
#define DMA_BSLOT_SIZE (1ul << DMA_BSLOT_SHIFT)
#define DMA_BSEG_SLOTS 128 /* longest mapping: 128 slots (256 KiB) */
#define DMA_BPOOL_DEFAULT (64ul << 20)

struct dma_bslot;

/* One area of the pool (swiotlb's io_tlb_area): a run of slots, a multiple
 * of 64 (whole bitmap words), searched and changed under its own lock on a
 * shared device. Its own cache line: CPUs do not share it. */
struct dma_barea {
	_Alignas(64) pthread_mutex_t lock;
	size_t start, end;        /* slots [start, end) */
	size_t cursor;            /* next-fit search start */
	size_t used_slots;
};

struct dma_bpool {
	uint8_t *base;            /* pool memory, NULL when none */
	size_t bytes, nslots;
	uint64_t *used;           /* bitmap, 1 = slot in use */
	uint64_t *brk;            /* bitmap, 1 = no mapping spans slots i-1, i
				     (pa: frames not adjacent); NULL = none */
	struct dma_bslot *meta;   /* per slot */
	struct dma_barea *areas;  /* nareas, a power of two; locked when the
				     device is shared (d->shared) */
	uint16_t nareas;          /* at most 1024 (params.cpus) */
	bool view;                /* not a swiotlb but a model of the device's view
				     (noncoherent): map copies in only for
				     TO_DEVICE/BIDIRECTIONAL; false: swiotlb's
				     copy in at every map (dma_bpool_copied_in) */
	uint32_t area_slots;      /* slots per area (the last one takes the rest) */
};
/* Bytes dma_bpool_map copied in for a mapping of len bytes and dir. */
static inline size_t dma_bpool_copied_in(const struct dma_bpool *bp, size_t len,
					 enum dma_dir dir)
{
	return !bp->view || (dir & DMA_TO_DEVICE) ? len : 0;
}

/* hint: place the pool there (or fail); try_huge: 2 MiB pages if bytes is
 * a multiple of 2 MiB and the system has them reserved, else 4 KiB. */
int dma_bpool_init(struct dma *d, struct dma_bpool *bp, size_t bytes,
		   void *hint, bool try_huge);
void dma_bpool_fini(struct dma *d, struct dma_bpool *bp);
static inline bool dma_bpool_owns(const struct dma_bpool *bp, uintptr_t p)
{
	return bp->base && p >= (uintptr_t)bp->base &&
	       p - (uintptr_t)bp->base < bp->bytes;
}
/* Slots in use now, over every area (takes each area's lock in turn). */
size_t dma_bpool_used(const struct dma *d, struct dma_bpool *bp);
/* Take slots for [orig, orig+len) and copy it in (a view pool: only if the
 * device reads it): in this CPU's area, else the next ones in turn
 * (swiotlb_pool_find_slots). */
int dma_bpool_map(struct dma *d, struct dma_bpool *bp, void *orig, size_t len,
		  enum dma_dir dir, void **slot);
/* Same, taking enough slots for span bytes (>= len), the first at a
 * multiple of align_slots: dma-iommu bounces an unaligned buffer into a
 * granule-aligned, granule-sized place (swiotlb's alloc_align_mask). */
int dma_bpool_map_aligned(struct dma *d, struct dma_bpool *bp, void *orig,
			  size_t len, size_t span, size_t align_slots,
			  enum dma_dir dir, void **slot);
/* The live mapping whose first slot is at slot (on its queue's thread):
 * give it back as dma_bpool_unmap would, with its own length and
 * direction (an IOVA unlink knows only the granule). @return 1 unmapped,
 * 0 slot is a later slot of a live mapping (nothing done), -EINVAL. */
int dma_bpool_unmap_head(struct dma *d, struct dma_bpool *bp, void *slot, bool copy_back);
/* Give the slots back; copy_back: copy out if the device wrote it. */
int dma_bpool_unmap(struct dma *d, struct dma_bpool *bp, void *slot,
		    size_t len, enum dma_dir dir, bool copy_back);
int dma_bpool_sync(struct dma *d, struct dma_bpool *bp, void *slot,
		   size_t len, enum dma_dir dir, bool for_cpu);
/* No mapping may span slots `slot - 1` and `slot` (at open only). */
int dma_bpool_set_break(struct dma *d, struct dma_bpool *bp, size_t slot);

/* Direct (identity, pa) bouncing policy: addressing mask, minimum alignment,
 * force. The pool exists only when one of them is set. */
struct dma_direct {
	struct dma_bpool bp;
	uint64_t mask;  /* highest device address the device can reach */
	uint64_t align; /* bounce device addresses not aligned to this */
	bool force, on;
};

/* hint_below_mask: place the pool's virtual addresses under the mask
 * (identity: VA is the device address). */
int dma_direct_init(struct dma *d, struct dma_direct *db, bool hint_below_mask);
static inline bool dma_direct_must_bounce(const struct dma_direct *db,
					  uint64_t dev, size_t len)
{
	return db->on && (db->force || (dev & (db->align - 1)) != 0 ||
			  dev + len - 1 > db->mask || dev + len - 1 < dev);
}

/* ---- IOVA allocator (dma_iova.c), shared by iommu and vfio ---- */

#define DMA_IOVA_CLASSES 6 /* cached sizes: 1..32 pages, like the rcache */
#define DMA_IOVA_MAG 127   /* pfns per magazine */
#define DMA_IOVA_DEPOT 32  /* full magazines kept per size class */

struct dma_iova_mag {
	unsigned n;
	uint64_t pfn[DMA_IOVA_MAG];
};

/* Per size class, shared by the CPUs: full magazines (the depot) and
 * empty ones to swap in, under the domain's depot lock. */
struct dma_iova_rcache {
	struct dma_iova_mag *depot[DMA_IOVA_DEPOT]; /* full */
	struct dma_iova_mag *spare[DMA_IOVA_DEPOT]; /* empty */
	unsigned ndepot, nspare;
};

/* Per CPU (the kernel's iova_cpu_rcache): a loaded and a previous magazine
 * per size class, under the CPU's own lock on a shared device (uncontended
 * unless two queues stand for the same CPU). Its own cache lines. */
struct dma_iova_cpu {
	_Alignas(64) pthread_mutex_t lock;
	struct dma_iova_mag *loaded[DMA_IOVA_CLASSES], *prev[DMA_IOVA_CLASSES];
};

struct dma_iova {
	uint64_t base_pfn, npages; /* space [base_pfn, base_pfn + npages) */
	bool shared;               /* the device's d->shared: take the locks */
	unsigned ncpus;            /* per-CPU caches, a power of two */
	struct dma_iova_cpu *cpu;  /* ncpus */
	struct dma_iova_mag *mags;
	unsigned nmags;
	pthread_mutex_t depot_lock; /* rc[] */
	struct dma_iova_rcache rc[DMA_IOVA_CLASSES];
	pthread_mutex_t bitmap_lock; /* used, cursor, slow_* */
	uint64_t *used;            /* bitmap over the space */
	uint64_t cursor;           /* next-fit start, relative index */
	uint64_t slow_allocs, slow_frees; /* bitmap hits (tests read them) */
	uint64_t bitmap_pages;     /* pages the bitmap hands out now (mapped or
				      cached), reserved ones not included */
};

int dma_iova_init(struct dma *d, struct dma_iova *a, uint64_t base_pfn,
		  uint64_t npages);
void dma_iova_fini(struct dma *d, struct dma_iova *a);
/* Mark [pfn, pfn+n) as never allocatable (holes, MSI window). */
void dma_iova_reserve(struct dma_iova *a, uint64_t pfn, uint64_t n);
/* 2^order pages, naturally aligned; the first pfn, or -ENOMEM. From this
 * CPU's cache, then the depot, then the bitmap, then (the space is full)
 * after flushing every cache back to the bitmap: alloc_iova_fast. */
int64_t dma_iova_alloc(struct dma_iova *a, unsigned order);
void dma_iova_free(struct dma_iova *a, uint64_t pfn, unsigned order);
uint64_t dma_iova_allocated(struct dma_iova *a);

static inline unsigned dma_order(uint64_t pages)
{
	unsigned o = 0;
	while ((1ull << o) < pages)
		o++;
	return o;
}

/* debug: the backend it wraps. */
const struct dma *dma_debug_inner(const struct dma *d);

/* noncoherent: the instruction used to write back / invalidate a line. */
const char *dma_noncoherent_insns(const struct dma *d, bool writeback);

#endif /* DMA_PVT_H */
