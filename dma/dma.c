/* SPDX-License-Identifier: MIT */
/*
 * dma.c - backend table, public wrappers, counters, last-error text.
 *
 * The wrappers validate arguments and keep the counters every backend has
 * (maps, unmaps, map_errors, syncs, live, peak_live, faults); the backend
 * keeps its own (bytes_copied, lines_flushed, IOTLB, bounced, stale_hits,
 * mem_bytes, debug_reports).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dma_mem.h"
#include "dma_pvt.h"

_Static_assert(sizeof(struct dma_counters) == DMA_C_ALL * sizeof(uint64_t) &&
		       offsetof(struct dma_counters, iova_links) == DMA_C_iova_links * sizeof(uint64_t) &&
		       offsetof(struct dma_counters, iova_allocs) == DMA_C_iova_allocs * sizeof(uint64_t),
	       "DMA_COUNTER_LIST must list every field of struct dma_counters "
	       "before the hooked ones (enum dma_ctr_hooked), in its order");
#define DMA_X(n)                                                               \
	_Static_assert(offsetof(struct dma_counters, n) ==                     \
			       DMA_C_##n * sizeof(uint64_t),                   \
		       "DMA_COUNTER_LIST order must match struct dma_counters");
DMA_COUNTER_LIST(DMA_X)
#undef DMA_X

/* Every backend, found by name: adding one is a file and a row. */
static const struct dma_ops *const dma_backends[] = {
	&dma_identity_ops, &dma_pa_ops,	     &dma_iommu_ops,
	&dma_vfio_ops,	   &dma_bounce_ops,  &dma_noncoherent_ops,
	&dma_debug_ops,	   &dma_nodma_ops,
};
#define DMA_NBACKENDS (sizeof(dma_backends) / sizeof(dma_backends[0]))

static _Thread_local char dma_errbuf[320];

static int dma_verr(const char *name, int err, const char *fmt, va_list ap)
{
	int n = snprintf(dma_errbuf, sizeof(dma_errbuf), "%s: ", name);
	if (n < 0 || (size_t)n >= sizeof(dma_errbuf))
		n = 0;
	vsnprintf(dma_errbuf + n, sizeof(dma_errbuf) - (size_t)n, fmt, ap);
	return err;
}

int dma_err_name(const char *name, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dma_verr(name, err, fmt, ap);
	va_end(ap);
	return err;
}

int dma_err(const struct dma *d, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dma_verr(d->ops->name, err, fmt, ap);
	va_end(ap);
	return err;
}

const char *dma_last_error(void)
{
	return dma_errbuf;
}

/* The CPU a thread stands for: set by its owner, else numbered on first
 * use. Relaxed: the number only has to be unique-ish, it orders nothing. */
static _Atomic unsigned dma_cpu_next;
_Thread_local unsigned dma_tls_cpu_id; /* read inline: dma_this_cpu_inline */
_Thread_local bool dma_tls_cpu_set;

_Thread_local uint64_t dma_tls_shard_serial; /* dma_shard_of's cache */
_Thread_local struct dma_shard *dma_tls_shard;
static _Atomic uint64_t dma_serial_next;

void dma_set_this_cpu(unsigned cpu)
{
	dma_tls_cpu_id = cpu;
	dma_tls_cpu_set = true;
	dma_tls_shard_serial = 0; /* the cached shard was the old CPU's */
}

unsigned dma_this_cpu(void)
{
	if (!dma_tls_cpu_set)
		dma_set_this_cpu(atomic_fetch_add_explicit(&dma_cpu_next, 1,
							   memory_order_relaxed));
	return dma_tls_cpu_id;
}

struct dma_shard *dma_shard_lookup(struct dma *d)
{
	struct dma_shard *s = &d->shards[dma_this_cpu_inline() & (d->nshards - 1)];
	dma_tls_shard_serial = d->serial;
	dma_tls_shard = s;
	return s;
}

void *dma_zalloc(struct dma *d, size_t n)
{
	/* Cache-line aligned: per-CPU and per-area state starts lines of
	 * its own (their types say _Alignas(64)). */
	void *p = dma_mem_zalloc(DMA_MEM_DMA, n, 64);
	if (p)
		dma_ctr_add(d, DMA_C_mem_bytes, n);
	return p;
}

void dma_free(struct dma *d, void *p, size_t n)
{
	if (!p)
		return;
	dma_mem_free(DMA_MEM_DMA, p, n);
	dma_ctr_sub(d, DMA_C_mem_bytes, n);
}

void *dma_mmap(struct dma *d, size_t n, void *hint, bool huge)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;
	if (hint)
		flags |= MAP_FIXED_NOREPLACE;
	if (huge)
		flags |= MAP_HUGETLB;
	void *p = mmap(hint, n, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (hint && p != hint) { /* kernels before 4.17 ignore the flag */
		munmap(p, n);
		return NULL;
	}
	dma_ctr_add(d, DMA_C_mem_bytes, n);
	dma_mem_charge(DMA_MEM_DMA, (int64_t)n);
	return p;
}

void dma_munmap(struct dma *d, void *p, size_t n)
{
	if (!p)
		return;
	munmap(p, n);
	dma_ctr_sub(d, DMA_C_mem_bytes, n);
	dma_mem_charge(DMA_MEM_DMA, -(int64_t)n);
}

const char *dma_dir_str(enum dma_dir dir)
{
	switch (dir) {
	case DMA_TO_DEVICE:
		return "TO_DEVICE";
	case DMA_FROM_DEVICE:
		return "FROM_DEVICE";
	case DMA_BIDIRECTIONAL:
		return "BIDIRECTIONAL";
	}
	return "invalid-dir";
}

const char *dma_backend_name(unsigned i)
{
	return i < DMA_NBACKENDS ? dma_backends[i]->name : NULL;
}

const char *dma_name(const struct dma *d)
{
	return d->ops->name;
}

static void dma_shards_free(struct dma *d);

int dma_open(const char *name, const struct dma_params *p, struct dma **out)
{
	const struct dma_ops *ops = NULL;
	*out = NULL;
	if (!name)
		return dma_err_name("dma", -EINVAL, "no backend name given");
	for (size_t i = 0; i < DMA_NBACKENDS; i++)
		if (strcmp(dma_backends[i]->name, name) == 0)
			ops = dma_backends[i];
	if (!ops)
		return dma_err_name("dma", -ENOENT,
				    "no backend named '%s' (try identity, pa, "
				    "iommu, vfio, bounce, noncoherent, debug, "
				    "nodma)",
				    name);

	/* Cache-line aligned: backends keep device-side state on lines of
	 * its own. */
	struct dma *d = dma_mem_zalloc(DMA_MEM_DMA, ops->size, 64);
	if (!d)
		return dma_err_name(name, -ENOMEM, "cannot allocate %zu bytes",
				    ops->size);
	d->ops = ops;
	d->applies = ops->cbits;
	if (p) {
		d->p = *p;
	} else {
		d->p.vfio_container_fd = -1;
	}
	if (!d->p.inner)
		d->p.inner = "identity";
	if (!d->p.bounce_pool_bytes)
		d->p.bounce_pool_bytes = DMA_BPOOL_DEFAULT;
	if (!d->p.flush_batch)
		d->p.flush_batch = 256;
	if (d->p.cpus > 1024) {
		unsigned cpus = d->p.cpus;
		dma_mem_free(DMA_MEM_DMA, d, ops->size);
		return dma_err_name(name, -EINVAL, "cpus %u: at most 1024 queues "
				    "may share a device", cpus);
	}
	if (!d->p.cpus)
		d->p.cpus = 1;
	d->shared = d->p.cpus > 1;
	/* The backend's own state beyond the common struct is its memory. */
	dma_ctr_add(d, DMA_C_mem_bytes, ops->size - sizeof(struct dma));
	if (d->shared) {
		unsigned n = 1;
		while (n < d->p.cpus)
			n <<= 1;
		d->shards = dma_zalloc(d, n * sizeof(*d->shards));
		if (!d->shards) {
			dma_mem_free(DMA_MEM_DMA, d, ops->size);
			return dma_err_name(name, -ENOMEM, "cannot allocate %u counter "
					    "shards of %zu bytes", n, sizeof(struct dma_shard));
		}
		d->nshards = n;
		/* Relaxed: a unique number, it orders nothing. */
		d->serial = atomic_fetch_add_explicit(&dma_serial_next, 1,
						      memory_order_relaxed) + 1;
	}

	int r = ops->open(d);
	if (r < 0) {
		dma_shards_free(d);
		dma_mem_free(DMA_MEM_DMA, d, ops->size);
		return r;
	}
	d->fast_va_shared = d->fast_va && d->shared && !d->p.fail_map_at;
	d->fast_va = d->fast_va && !d->shared && !d->p.fail_map_at;
	*out = d;
	return 0;
}

/* Detach the shards, then free them: the free's own mem_bytes count goes
 * to d->ctr, not into the memory it frees. */
static void dma_shards_free(struct dma *d)
{
	struct dma_shard *s = d->shards;
	size_t n = d->nshards;
	d->shards = NULL;
	d->nshards = 0;
	dma_free(d, s, n * sizeof(*s));
}

void dma_close(struct dma *d)
{
	if (!d)
		return;
	if (d->ops->close)
		d->ops->close(d);
	dma_shards_free(d);
	dma_mem_free(DMA_MEM_DMA, d, d->ops->size);
}

int dma_register(struct dma *d, void *base, size_t len)
{
	if (!base || !len)
		return dma_err(d, -EINVAL, "register: empty region %p len %zu",
			       base, len);
	return d->ops->reg ? d->ops->reg(d, base, len) : 0;
}

/* A counter of a device with one queue (fast_va): its one writer's add,
 * without dma_ctr_add's test of d->shared. */
static inline void dma_ctr_add1(struct dma *d, enum dma_ctr c)
{
	uint64_t v = atomic_load_explicit(&d->ctr[c], memory_order_relaxed);
	atomic_store_explicit(&d->ctr[c], v + 1, memory_order_relaxed);
}

/* A mapping of one queue's device that is now live: live and peak_live
 * (single writer, see dma_pvt.h). */
static inline void dma_live_inc(struct dma *d)
{
	uint64_t live = atomic_load_explicit(&d->ctr[DMA_C_live], memory_order_relaxed) + 1;
	atomic_store_explicit(&d->ctr[DMA_C_live], live, memory_order_relaxed);
	if (live > atomic_load_explicit(&d->ctr[DMA_C_peak_live], memory_order_relaxed))
		atomic_store_explicit(&d->ctr[DMA_C_peak_live], live, memory_order_relaxed);
}

/* cpu not NULL, len not 0, [cpu, cpu + len) not wrapping, dir valid. The
 * first three in one compare: len - 1 < 2^64 - cpu holds exactly when
 * cpu != 0, len != 0 and cpu + len - 1 does not wrap. */
static inline bool dma_map_args_ok(const void *cpu, size_t len, enum dma_dir dir)
{
	return len - 1 < -(uintptr_t)cpu && dma_dir_valid(dir);
}

/* Out of line: dma_map stays small enough to inline into its callers. */
static __attribute__((noinline)) int dma_map_slow(struct dma *d, void *cpu, size_t len,
						  enum dma_dir dir, uint64_t *iova);

__attribute__((always_inline)) inline int dma_map(struct dma *d, void *cpu, size_t len, enum dma_dir dir,
	    uint64_t *iova)
{
	/* fast_va (dma_open): what the backend's map would do, with the same
	 * argument checks and counters; a bad argument takes the full path
	 * for its error */
	if (d->fast_va && dma_map_args_ok(cpu, len, dir)) {
		*iova = (uintptr_t)cpu;
		dma_ctr_add1(d, DMA_C_maps);
		dma_live_inc(d);
		return 0;
	}
	return dma_map_slow(d, cpu, len, dir, iova);
}

/* A shared device's map, counted in this CPU's shard (dma_pvt.h): maps,
 * live and the shard's own peak, on lines no other CPU writes. */
static void dma_shard_map(struct dma_shard *s)
{
	atomic_fetch_add_explicit(&s->ctr[DMA_C_maps], 1, memory_order_relaxed);
	uint64_t live = atomic_fetch_add_explicit(&s->ctr[DMA_C_live], 1, memory_order_relaxed) + 1;
	uint64_t peak = atomic_load_explicit(&s->ctr[DMA_C_peak_live], memory_order_relaxed);
	while (live > peak &&
	       !atomic_compare_exchange_weak_explicit(&s->ctr[DMA_C_peak_live], &peak, live,
						      memory_order_relaxed, memory_order_relaxed))
		;
}

/* Lower one shard's live if it has a mapping; false if it had none. */
static bool dma_shard_live_dec(struct dma_shard *s)
{
	uint64_t live = atomic_load_explicit(&s->ctr[DMA_C_live], memory_order_relaxed);
	while (live && !atomic_compare_exchange_weak_explicit(&s->ctr[DMA_C_live], &live, live - 1,
							      memory_order_relaxed, memory_order_relaxed))
		;
	return live != 0;
}

/* A shared device's unmap: this CPU's shard, else (a mapping another CPU
 * made, or an unmap of nothing) the first shard with a live mapping. */
static void dma_shard_unmap(struct dma *d)
{
	struct dma_shard *own = dma_shard_of(d);
	atomic_fetch_add_explicit(&own->ctr[DMA_C_unmaps], 1, memory_order_relaxed);
	if (dma_shard_live_dec(own))
		return;
	for (unsigned i = 0; i < d->nshards; i++)
		if (&d->shards[i] != own && dma_shard_live_dec(&d->shards[i]))
			return;
}

static int dma_map_slow(struct dma *d, void *cpu, size_t len, enum dma_dir dir, uint64_t *iova)
{
	/* fast_va_shared (dma_open): the backend's map would return cpu;
	 * counted in this CPU's shard as below. A bad argument goes on for
	 * its error. */
	if (d->fast_va_shared && dma_map_args_ok(cpu, len, dir)) {
		*iova = (uintptr_t)cpu;
		dma_shard_map(dma_shard_of(d));
		return 0;
	}
	int r;
	uint64_t call = 0, at = d->p.fail_map_at;
	if (!at) {
		/* no failure to inject: the call count is not needed */
	} else if (d->shared) {
		call = atomic_fetch_add_explicit(&d->map_calls, 1, memory_order_relaxed) + 1;
	} else { /* one driver thread: no locked instruction */
		call = atomic_load_explicit(&d->map_calls, memory_order_relaxed) + 1;
		atomic_store_explicit(&d->map_calls, call, memory_order_relaxed);
	}
	if (!dma_map_args_ok(cpu, len, dir))
		r = dma_err(d, -EINVAL, "map: bad argument cpu %p len %zu dir %d",
			    cpu, len, (int)dir);
	else if (at && call >= at &&
		 call - at < (d->p.fail_map_count ? d->p.fail_map_count : 1))
		r = dma_err(d, -ENOMEM, "map of %p len %zu: injected failure "
			    "(dma_map call %llu, fail_map_at %llu)", cpu, len,
			    (unsigned long long)call, (unsigned long long)at);
	else
		r = d->ops->map(d, cpu, len, dir, iova);
	if (r < 0) {
		dma_ctr_add(d, DMA_C_map_errors, 1);
		return r;
	}
	if (d->ops->no_api) /* an address lookup, not a DMA API call */
		return 0;
	if (d->shared) {
		dma_shard_map(dma_shard_of(d));
		return 0;
	}
	dma_ctr_add(d, DMA_C_maps, 1);
	dma_live_inc(d);
	return 0;
}

static __attribute__((noinline)) int dma_unmap_slow(struct dma *d, uint64_t iova, size_t len,
						    enum dma_dir dir);

__attribute__((always_inline)) inline int dma_unmap(struct dma *d, uint64_t iova, size_t len, enum dma_dir dir)
{
	/* fast_va (dma_open): the backend's unmap does nothing; the same
	 * checks and counters (one queue: no other writer of live) */
	if (d->fast_va && len && dma_dir_valid(dir)) {
		dma_ctr_add1(d, DMA_C_unmaps);
		uint64_t live = dma_ctr_get(d, DMA_C_live);
		if (live)
			atomic_store_explicit(&d->ctr[DMA_C_live], live - 1, memory_order_relaxed);
		return 0;
	}
	return dma_unmap_slow(d, iova, len, dir);
}

static int dma_unmap_slow(struct dma *d, uint64_t iova, size_t len, enum dma_dir dir)
{
	if (!len || !dma_dir_valid(dir))
		return dma_err(d, -EINVAL,
			       "unmap: bad argument iova 0x%llx len %zu dir %d",
			       (unsigned long long)iova, len, (int)dir);
	if (d->fast_va_shared) { /* the backend's unmap does nothing */
		dma_shard_unmap(d);
		return 0;
	}
	int r = d->ops->unmap(d, iova, len, dir);
	if (r < 0 || d->ops->no_api)
		return r;
	/* Backends whose unmap checks nothing (identity, noncoherent) accept
	 * unmaps of nothing; live does not go below zero for them. */
	if (d->shared) {
		dma_shard_unmap(d);
		return 0;
	}
	dma_ctr_add(d, DMA_C_unmaps, 1);
	if (dma_ctr_get(d, DMA_C_live))
		dma_ctr_sub(d, DMA_C_live, 1);
	return 0;
}

void dma_sync_for_cpu(struct dma *d, uint64_t iova, size_t len,
		      enum dma_dir dir)
{
	dma_ctr_add(d, DMA_C_syncs_for_cpu, 1);
	if (d->ops->sync && len && dma_dir_valid(dir))
		d->ops->sync(d, iova, len, dir, true);
}

void dma_sync_for_device(struct dma *d, uint64_t iova, size_t len,
			 enum dma_dir dir)
{
	dma_ctr_add(d, DMA_C_syncs_for_device, 1);
	if (d->ops->sync && len && dma_dir_valid(dir))
		d->ops->sync(d, iova, len, dir, false);
}

void *dma_translate(struct dma *d, uint64_t iova, size_t len,
		    enum dma_dir access)
{
	void *p = NULL;
	if (len && dma_dir_valid(access) && iova + len - 1 >= iova)
		p = d->va_translate ? (void *)(uintptr_t)iova : d->ops->translate(d, iova, len, access);
	if (!p)
		dma_ctr_add(d, DMA_C_faults, 1); /* device thread's counter */
	return p;
}

bool dma_translate_is_identity(const struct dma *d)
{
	return d->va_translate;
}

unsigned dma_need_unmap_reason(const struct dma *d)
{
	/* a direct backend's own answer (its need_unmap hook is this same
	 * function), without the indirect call: asked after every mapping */
	if (d->direct_need_unmap)
		return dma_direct_need_unmap(d);
	return d->ops->need_unmap(d);
}

bool dma_need_unmap(const struct dma *d)
{
	return dma_need_unmap_reason(d) != 0;
}

bool dma_need_sync(const struct dma *d, uint64_t iova)
{
	return d->ops->need_sync ? d->ops->need_sync(d, iova) : false;
}

static const struct {
	unsigned bit;
	const char *text;
} dma_reason_text[] = {
	{ DMA_R_IOMMU, "IOMMU translation" },
	{ DMA_R_BOUNCE, "bounce copy" },
	{ DMA_R_NONCOHERENT, "cache maintenance" },
	{ DMA_R_DEBUG, "DMA API debugging" },
	{ DMA_R_VFIO, "VFIO mapping" },
};

#define DMA_NREASONS (sizeof(dma_reason_text) / sizeof(dma_reason_text[0]))

/* Every combination's text, built once: the returned strings are constant,
 * so two calls in one printf do not overwrite each other. */
static char dma_reason_texts[1u << DMA_NREASONS][128];
static pthread_once_t dma_reason_once = PTHREAD_ONCE_INIT;

static void dma_reason_init(void)
{
	for (unsigned r = 0; r < 1u << DMA_NREASONS; r++) {
		char *buf = dma_reason_texts[r];
		size_t n = 0;
		for (size_t i = 0; i < DMA_NREASONS; i++) {
			if (!(r & dma_reason_text[i].bit))
				continue;
			int w = snprintf(buf + n, sizeof(dma_reason_texts[r]) - n,
					 "%s%s", n ? ", " : "",
					 dma_reason_text[i].text);
			if (w > 0)
				n += (size_t)w;
		}
	}
	snprintf(dma_reason_texts[0], sizeof(dma_reason_texts[0]), "none");
}

const char *dma_reason_str(unsigned reasons)
{
	pthread_once(&dma_reason_once, dma_reason_init);
	return dma_reason_texts[reasons & ((1u << DMA_NREASONS) - 1)];
}

uint64_t dma_held_mappings(const struct dma *d)
{
	return d->ops->held ? d->ops->held(d) : dma_ctr_read(d, DMA_C_bounce_live);
}

uint64_t dma_owed_lines(const struct dma *d)
{
	return d->ops->owed_lines ? d->ops->owed_lines(d) : 0;
}

void dma_get_counters(const struct dma *d, struct dma_counters *c)
{
#define DMA_X(n) c->n = dma_ctr_read(d, DMA_C_##n);
	DMA_COUNTER_LIST(DMA_X)
#undef DMA_X
	c->iova_allocs = c->iova_frees = c->iotlb_timer_flushes = 0;
	if (d->ops->counters)
		d->ops->counters(d, c);
}

bool dma_counter_applies(const struct dma *d, size_t offset)
{
	if (offset % sizeof(uint64_t) || offset >= sizeof(struct dma_counters))
		return false;
	return d->applies & (1u << (offset / sizeof(uint64_t)));
}

void dma_get_props(const struct dma *d, struct dma_props *p)
{
	memset(p, 0, sizeof(*p));
	if (d->ops == &dma_debug_ops) {
		dma_get_props(dma_debug_inner(d), p);
		p->debug = true;
		return;
	}
	p->coherent = d->ops != &dma_noncoherent_ops;
	/* iommu passthrough: an identity domain, dma-direct behind the IOMMU
	 * driver (iommu_setup_dma_ops) */
	p->direct = d->ops == &dma_identity_ops || d->ops == &dma_pa_ops ||
		    d->ops == &dma_nodma_ops ||
		    d->ops == &dma_noncoherent_ops || d->ops == &dma_bounce_ops ||
		    (d->ops == &dma_iommu_ops && d->p.passthrough);
	p->force_bounce = d->ops == &dma_bounce_ops ||
			  ((d->ops == &dma_identity_ops || d->ops == &dma_pa_ops) && d->p.force_bounce);
	p->may_bounce = ((d->ops == &dma_identity_ops || d->ops == &dma_pa_ops) &&
			 ((d->p.mask_bits && d->p.mask_bits < 64) || d->p.min_align > 1)) ||
			d->ops == &dma_noncoherent_ops || /* dma_kmalloc_needs_bounce */
			(d->ops == &dma_iommu_ops && d->p.untrusted);
}
