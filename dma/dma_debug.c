/* SPDX-License-Identifier: MIT */
/*
 * dma_debug.c - DMA API debugging: wraps another backend (params.inner,
 * default identity) and checks every use, the way CONFIG_DMA_API_DEBUG
 * (kernel/dma/debug.c) does.
 *
 * Entries: every live mapping is an entry from a pool, on the list of its
 * hash bucket, as kernel/dma/debug.c keeps them: 16384 buckets (HASH_SIZE)
 * hashed on the device address (hash_fn), here on its bits from 6 up (64
 * bytes of address per bucket; the kernel takes bits from 13 up, 8 KiB,
 * too coarse for a ring's small buffers). A lookup by address walks its bucket
 * (bucket_find_exact); a lookup of an address inside a mapping walks back
 * one bucket at a time from the address's (bucket_find_contain), here no
 * further than the longest mapping seen so far can reach (the kernel stops
 * at address 0). The pool starts with params.debug_entries (default 65536,
 * the kernel's preallocation) and doubles when empty, as dma_entry_alloc()
 * grows it (dma_debug_create_entries()). When it cannot grow (no memory, or past
 * params.debug_entries_max), debugging disables itself, as the kernel's
 * "debugging out of memory - disabling" does: one notice on stderr and in
 * dma_last_error(), counted in debug_reports; from then on nothing is
 * checked or tracked, and a mapping never fails because of debugging.
 * Duplicate IOVAs are legal (identity maps the same buffer twice to the
 * same address). A mutex guards the table: the driver (map/unmap/sync) and
 * the device (translate) both use it.
 *
 * Reports (each: debug_reports++, dma_last_error() set in the calling
 * thread):
 *   - unmap of an IOVA with no live mapping: "double unmap" when the IOVA was
 *     among the last DBG_RECENT unmapped ones, else "unknown IOVA"
 *     (check_unmap); refused;
 *   - unmap with a length or direction other than the map's (the mapping
 *     stays live, and the inner backend is not called);
 *   - sync (check_sync): of an address no live mapping covers, of a range
 *     running past its mapping (neither is passed on: the model does not
 *     let a sync touch memory outside a mapping, where the kernel performs
 *     it and warns), and with a direction other than the mapping's (unless
 *     it is BIDIRECTIONAL; passed on);
 *   - device access (translate) outside every live mapping, or against its
 *     direction (a write to TO_DEVICE, a read of FROM_DEVICE);
 *   - leaks: dma_close() prints one line per live mapping to stderr (up to
 *     DBG_PRINT_MAX, then a total), counts each and leaves the total in
 *     dma_last_error() (the kernel's "pending DMA allocations while
 *     released from device"). The live count is counters.live.
 * Counters: its own maps, unmaps, live, faults and reports; the inner
 * backend's copies, flushes, IOTLB work, bounces and stale hits; mem_bytes
 * is both.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dma_pvt.h"

#define DBG_PREALLOC (1u << 16) /* entries at open: PREALLOC_DMA_DEBUG_ENTRIES */
#define DBG_RECENT 256u       /* unmapped IOVAs remembered */
#define DBG_PRINT_MAX 16u     /* leak lines printed at close */
#define DBG_HASH_SIZE 16384u  /* buckets: HASH_SIZE */
#define DBG_HASH_SHIFT 6      /* 64 bytes of address per bucket (the kernel's
				 HASH_FN_SHIFT is 13: 8 KiB, which puts a
				 virtqueue's dense small buffers, 64..128 per
				 8 KiB, on one list and makes every exact
				 lookup walk it) */
#define DBG_NIL UINT32_MAX

struct dbg_ent {
	uint64_t iova;
	uint32_t len;
	uint32_t next; /* next on its bucket's list, or on the free list */
	uint8_t dir;
	uint8_t used;
};

struct dma_debug {
	struct dma d;
	struct dma *inner;
	pthread_mutex_t lock;
	struct dbg_ent *ents; /* the pool: cap entries */
	size_t cap, n;
	uint32_t free;        /* free list head */
	uint32_t *bucket;     /* DBG_HASH_SIZE list heads */
	uint64_t max_len;     /* longest mapping tracked so far */
	bool disabled;        /* could not grow: nothing checked any more */
	uint64_t recent[DBG_RECENT];
	unsigned recent_pos;
};

static uint32_t dbg_hash(uint64_t iova)
{
	return (uint32_t)(iova >> DBG_HASH_SHIFT) & (DBG_HASH_SIZE - 1);
}

/* A report: count it, set the thread's last error, return err. */
#define dbg_report(dbg, err, ...)                                              \
	(dma_ctr_add_shared(&(dbg)->d, DMA_C_debug_reports, 1),                \
	 dma_err(&(dbg)->d, (err), __VA_ARGS__))

static int debug_open(struct dma *d)
{
	struct dma_debug *dbg = DMA_PRIV(struct dma_debug, d);
	if (strcmp(d->p.inner, "debug") == 0)
		return dma_err(d, -EINVAL, "inner 'debug': cannot wrap itself");
	struct dma_params ip = d->p;
	ip.inner = NULL;
	ip.fail_map_at = 0; /* injected once, by the outer dma_map */
	int r = dma_open(d->p.inner, &ip, &dbg->inner);
	if (r < 0)
		return r; /* the inner backend's message stands */
	uint64_t want = d->p.debug_entries ? d->p.debug_entries : DBG_PREALLOC;
	if (want > (1ull << 30)) {
		dma_close(dbg->inner);
		return dma_err(d, -EINVAL, "debug_entries %llu: at most 2^30",
			       (unsigned long long)want);
	}
	dbg->cap = (size_t)want;
	dbg->ents = dma_zalloc(d, dbg->cap * sizeof(*dbg->ents));
	dbg->bucket = dma_zalloc(d, DBG_HASH_SIZE * sizeof(*dbg->bucket));
	if (!dbg->ents || !dbg->bucket) {
		dma_free(d, dbg->ents, dbg->cap * sizeof(*dbg->ents));
		dma_free(d, dbg->bucket, DBG_HASH_SIZE * sizeof(*dbg->bucket));
		dma_close(dbg->inner);
		return dma_err(d, -ENOMEM, "cannot allocate %zu entries", dbg->cap);
	}
	for (uint32_t b = 0; b < DBG_HASH_SIZE; b++)
		dbg->bucket[b] = DBG_NIL;
	for (size_t i = 0; i < dbg->cap; i++)
		dbg->ents[i].next = i + 1 < dbg->cap ? (uint32_t)(i + 1) : DBG_NIL;
	dbg->free = 0;
	pthread_mutex_init(&dbg->lock, NULL);
	d->applies = DMA_CBITS_COMMON | DMA_CBIT(debug_reports) |
		     dbg->inner->applies;
	return 0;
}

static void debug_close(struct dma *d)
{
	struct dma_debug *dbg = DMA_PRIV(struct dma_debug, d);
	unsigned leaks = 0;
	uint64_t first = 0;
	for (size_t i = 0; i < dbg->cap && !dbg->disabled; i++) {
		const struct dbg_ent *e = &dbg->ents[i];
		if (!e->used)
			continue;
		if (!leaks++)
			first = e->iova;
		if (leaks <= DBG_PRINT_MAX)
			fprintf(stderr, "dma debug: leaked mapping iova 0x%llx "
				"len %u dir %s (inner %s)\n",
				(unsigned long long)e->iova, e->len,
				dma_dir_str((enum dma_dir)e->dir),
				dma_name(dbg->inner));
	}
	if (leaks > DBG_PRINT_MAX)
		fprintf(stderr, "dma debug: %u leaked mappings in all (%u "
			"printed)\n", leaks, DBG_PRINT_MAX);
	if (leaks)
		dbg_report(dbg, -EBUSY, "%u mappings leaked at close (first "
			   "iova 0x%llx)", leaks, (unsigned long long)first);
	dma_ctr_add_shared(d, DMA_C_debug_reports, leaks ? leaks - 1 : 0);
	pthread_mutex_destroy(&dbg->lock);
	dma_free(d, dbg->ents, dbg->cap * sizeof(*dbg->ents));
	dma_free(d, dbg->bucket, DBG_HASH_SIZE * sizeof(*dbg->bucket));
	dma_close(dbg->inner);
}

/* Insert from the free list (an entry is there). Under the lock. */
static void dbg_insert(struct dma_debug *dbg, const struct dbg_ent *e)
{
	uint32_t i = dbg->free, b = dbg_hash(e->iova);
	dbg->free = dbg->ents[i].next;
	dbg->ents[i] = *e;
	dbg->ents[i].next = dbg->bucket[b];
	dbg->bucket[b] = i;
	dbg->n++;
	if (e->len > dbg->max_len)
		dbg->max_len = e->len;
}

/* The pool is empty: double it (dma_debug_create_entries()); entries keep
 * their indices, so the bucket lists stand. When it cannot, debugging
 * turns itself off with a notice. Under the lock. */
static void dbg_grow(struct dma_debug *dbg)
{
	size_t cap = dbg->cap * 2;
	const uint64_t max = dbg->d.p.debug_entries_max;
	struct dbg_ent *t = (max && cap > max) || cap > DBG_NIL ? NULL :
			    dma_zalloc(&dbg->d, cap * sizeof(*t));
	if (!t) {
		dbg->disabled = true;
		fprintf(stderr, "dma debug: out of memory for more than %zu "
			"entries (%zu bytes; limit %llu) - disabling: no more "
			"checks, no leak report\n", dbg->n,
			dbg->cap * sizeof(*t), (unsigned long long)max);
		dbg_report(dbg, -ENOMEM, "debugging out of memory after %zu "
			   "entries - disabling", dbg->n);
		return;
	}
	memcpy(t, dbg->ents, dbg->cap * sizeof(*t));
	for (size_t i = dbg->cap; i < cap; i++)
		t[i].next = i + 1 < cap ? (uint32_t)(i + 1) : dbg->free;
	dbg->free = (uint32_t)dbg->cap;
	dma_free(&dbg->d, dbg->ents, dbg->cap * sizeof(*t));
	dbg->ents = t;
	dbg->cap = cap;
}

static int debug_map(struct dma *d, void *cpu, size_t len, enum dma_dir dir,
		     uint64_t *iova)
{
	struct dma_debug *dbg = DMA_PRIV(struct dma_debug, d);
	int r = dma_map(dbg->inner, cpu, len, dir, iova);
	if (r < 0)
		return r;
	/* from here on the mapping stands, whatever debugging can do */
	pthread_mutex_lock(&dbg->lock);
	if (!dbg->disabled && dbg->free == DBG_NIL)
		dbg_grow(dbg);
	if (!dbg->disabled && len <= UINT32_MAX)
		dbg_insert(dbg, &(struct dbg_ent){ .iova = *iova, .len = (uint32_t)len, .dir = (uint8_t)dir, .used = 1 });
	pthread_mutex_unlock(&dbg->lock);
	return 0;
}

/* Take entry i, whose predecessor on its bucket list is prev (DBG_NIL: the
 * head), off the list onto the free list. Under the lock. */
static void dbg_remove(struct dma_debug *dbg, uint32_t i, uint32_t prev)
{
	struct dbg_ent *e = &dbg->ents[i];
	if (prev == DBG_NIL)
		dbg->bucket[dbg_hash(e->iova)] = e->next;
	else
		dbg->ents[prev].next = e->next;
	e->used = 0;
	e->next = dbg->free;
	dbg->free = i;
	dbg->n--;
}

static int debug_unmap(struct dma *d, uint64_t iova, size_t len,
		       enum dma_dir dir)
{
	struct dma_debug *dbg = DMA_PRIV(struct dma_debug, d);
	struct dbg_ent other = { 0 };
	pthread_mutex_lock(&dbg->lock);
	if (dbg->disabled) { /* nothing tracked any more */
		pthread_mutex_unlock(&dbg->lock);
		return dma_unmap(dbg->inner, iova, len, dir);
	}
	/* bucket_find_exact(): the entry of this address, length, direction */
	for (uint32_t i = dbg->bucket[dbg_hash(iova)], prev = DBG_NIL; i != DBG_NIL;
	     prev = i, i = dbg->ents[i].next) {
		struct dbg_ent *e = &dbg->ents[i];
		if (e->iova != iova)
			continue;
		if (e->len == len && e->dir == (uint8_t)dir) {
			dbg_remove(dbg, i, prev);
			dbg->recent[dbg->recent_pos++ % DBG_RECENT] = iova;
			pthread_mutex_unlock(&dbg->lock);
			return dma_unmap(dbg->inner, iova, len, dir);
		}
		other = *e;
	}
	bool recent = false;
	for (unsigned k = 0; k < DBG_RECENT && !other.used; k++)
		recent |= dbg->recent[k] == iova && iova;
	pthread_mutex_unlock(&dbg->lock);

	if (other.used && other.len != len)
		return dbg_report(dbg, -EINVAL, "unmap of iova 0x%llx with "
				  "wrong length %zu (mapped %u bytes)",
				  (unsigned long long)iova, len, other.len);
	if (other.used)
		return dbg_report(dbg, -EINVAL, "unmap of iova 0x%llx with "
				  "wrong direction %s (mapped %s)",
				  (unsigned long long)iova, dma_dir_str(dir),
				  dma_dir_str((enum dma_dir)other.dir));
	if (recent)
		return dbg_report(dbg, -EINVAL, "double unmap of iova 0x%llx "
				  "len %zu", (unsigned long long)iova, len);
	return dbg_report(dbg, -EINVAL, "unmap of unknown iova 0x%llx len %zu",
			  (unsigned long long)iova, len);
}

static int debug_register(struct dma *d, void *base, size_t len)
{
	return dma_register(DMA_PRIV(struct dma_debug, d)->inner, base, len);
}

static bool dbg_covers(const struct dbg_ent *e, uint64_t iova, size_t len)
{
	return e->used && iova >= e->iova && iova - e->iova < e->len &&
	       len <= e->len - (iova - e->iova);
}

/* A live mapping containing [iova, iova+len), one that allows `access` if
 * several do (duplicates): the exact start first (its bucket), then
 * (device access at an offset) the buckets from the address's back as far
 * as the longest mapping reaches (bucket_find_contain). Under the lock. */
static const struct dbg_ent *dbg_find_range(const struct dma_debug *dbg,
					    uint64_t iova, size_t len,
					    enum dma_dir access)
{
	const struct dbg_ent *any = NULL;
	for (uint32_t i = dbg->bucket[dbg_hash(iova)]; i != DBG_NIL; i = dbg->ents[i].next) {
		const struct dbg_ent *e = &dbg->ents[i];
		if (e->iova != iova || !dbg_covers(e, iova, len))
			continue;
		if (dma_dir_allows((enum dma_dir)e->dir, access))
			return e;
		any = e;
	}
	if (any)
		return any;
	/* a mapping holding iova starts within max_len - 1 bytes below it */
	uint64_t lo = dbg->max_len && iova >= dbg->max_len - 1 ? iova - (dbg->max_len - 1) : 0;
	uint64_t nb = (iova >> DBG_HASH_SHIFT) - (lo >> DBG_HASH_SHIFT) + 1;
	if (nb > DBG_HASH_SIZE)
		nb = DBG_HASH_SIZE;
	for (uint64_t k = 0, a = iova; k < nb; k++, a -= (uint64_t)1 << DBG_HASH_SHIFT) {
		for (uint32_t i = dbg->bucket[dbg_hash(a)]; i != DBG_NIL; i = dbg->ents[i].next) {
			const struct dbg_ent *e = &dbg->ents[i];
			if (!dbg_covers(e, iova, len))
				continue;
			if (dma_dir_allows((enum dma_dir)e->dir, access))
				return e;
			any = e;
		}
	}
	return any;
}

static void *debug_translate(struct dma *d, uint64_t iova, size_t len,
			     enum dma_dir access)
{
	struct dma_debug *dbg = DMA_PRIV(struct dma_debug, d);
	pthread_mutex_lock(&dbg->lock);
	if (dbg->disabled) {
		pthread_mutex_unlock(&dbg->lock);
		return dma_translate(dbg->inner, iova, len, access);
	}
	const struct dbg_ent *e = dbg_find_range(dbg, iova, len, access);
	enum dma_dir mdir = e ? (enum dma_dir)e->dir : DMA_TO_DEVICE;
	pthread_mutex_unlock(&dbg->lock);
	if (!e) {
		dbg_report(dbg, -EFAULT, "device access to unmapped iova "
			   "0x%llx len %zu", (unsigned long long)iova, len);
		return NULL;
	}
	if (!dma_dir_allows(mdir, access)) {
		dbg_report(dbg, -EFAULT, "device %s iova 0x%llx len %zu of a "
			   "%s mapping", access & DMA_FROM_DEVICE ? "write to"
			   : "read of", (unsigned long long)iova, len,
			   dma_dir_str(mdir));
		return NULL;
	}
	return dma_translate(dbg->inner, iova, len, access);
}

/* check_sync(): the sync must fall inside one live mapping, with its
 * direction (any, for a BIDIRECTIONAL mapping). */
static void debug_sync(struct dma *d, uint64_t iova, size_t len,
		       enum dma_dir dir, bool for_cpu)
{
	struct dma_debug *dbg = DMA_PRIV(struct dma_debug, d);
	const char *what = for_cpu ? "sync for cpu" : "sync for device";
	pthread_mutex_lock(&dbg->lock);
	bool off = dbg->disabled;
	const struct dbg_ent *e = off ? NULL : dbg_find_range(dbg, iova, len, dir);
	const struct dbg_ent *start = off || e ? NULL : dbg_find_range(dbg, iova, 1, dir);
	struct dbg_ent m = e ? *e : start ? *start : (struct dbg_ent){ 0 };
	pthread_mutex_unlock(&dbg->lock);
	if (!off && !m.used) {
		dbg_report(dbg, -EINVAL, "%s of iova 0x%llx len %zu: no live "
			   "mapping there (not passed on)", what,
			   (unsigned long long)iova, len);
		return;
	}
	if (!off && !e) {
		dbg_report(dbg, -EINVAL, "%s of iova 0x%llx len %zu: runs past "
			   "its mapping (iova 0x%llx len %u; not passed on)",
			   what, (unsigned long long)iova, len,
			   (unsigned long long)m.iova, m.len);
		return;
	}
	if (!off && m.dir != DMA_BIDIRECTIONAL && m.dir != (uint8_t)dir)
		dbg_report(dbg, -EINVAL, "%s of iova 0x%llx len %zu with "
			   "direction %s; mapped %s", what,
			   (unsigned long long)iova, len, dma_dir_str(dir),
			   dma_dir_str((enum dma_dir)m.dir));
	if (for_cpu)
		dma_sync_for_cpu(dbg->inner, iova, len, dir);
	else
		dma_sync_for_device(dbg->inner, iova, len, dir);
}

static unsigned debug_need_unmap(const struct dma *d)
{
	const struct dma_debug *dbg = DMA_CPRIV(struct dma_debug, d);
	return DMA_R_DEBUG | dma_need_unmap_reason(dbg->inner);
}

/* Linux: with CONFIG_DMA_API_DEBUG dma_dev_need_sync() is always true, so
 * the answer is the inner mapping's (__dma_need_sync()). */
static bool debug_need_sync(const struct dma *d, uint64_t iova)
{
	return dma_need_sync(DMA_CPRIV(struct dma_debug, d)->inner, iova);
}

static void debug_counters(const struct dma *d, struct dma_counters *c)
{
	struct dma_counters in;
	dma_get_counters(DMA_CPRIV(struct dma_debug, d)->inner, &in);
	c->bytes_copied = in.bytes_copied;
	c->lines_flushed = in.lines_flushed;
	c->iotlb_invalidations = in.iotlb_invalidations;
	c->iotlb_flushes = in.iotlb_flushes;
	c->bounced = in.bounced;
	c->stale_hits = in.stale_hits;
	c->iova_allocs = in.iova_allocs;
	c->iova_frees = in.iova_frees;
	c->iotlb_timer_flushes = in.iotlb_timer_flushes;
	c->mem_bytes += in.mem_bytes;
}

/* Each tracked mapping holds a debug entry; once disabled, what the inner
 * backend's mappings hold. */
static uint64_t debug_held(const struct dma *d)
{
	struct dma_debug *dbg = DMA_PRIV(struct dma_debug, (struct dma *)d);
	pthread_mutex_lock(&dbg->lock);
	uint64_t n = dbg->disabled ? dma_held_mappings(dbg->inner) : dbg->n;
	pthread_mutex_unlock(&dbg->lock);
	return n;
}

static uint64_t debug_owed_lines(const struct dma *d)
{
	return dma_owed_lines(DMA_CPRIV(struct dma_debug, d)->inner);
}

const struct dma_ops dma_debug_ops = {
	.name = "debug",
	.size = sizeof(struct dma_debug),
	.cbits = DMA_CBITS_COMMON | DMA_CBIT(debug_reports), /* + inner's */
	.open = debug_open,
	.close = debug_close,
	.reg = debug_register,
	.map = debug_map,
	.unmap = debug_unmap,
	.sync = debug_sync,
	.translate = debug_translate,
	.need_unmap = debug_need_unmap,
	.need_sync = debug_need_sync,
	.counters = debug_counters,
	.held = debug_held,
	.owed_lines = debug_owed_lines,
};

const struct dma *dma_debug_inner(const struct dma *d)
{
	return DMA_CPRIV(struct dma_debug, d)->inner;
}
