/* SPDX-License-Identifier: MIT */
/*
 * dma_debug.c - DMA API debugging: wraps another backend (params.inner,
 * default identity) and checks every use, the way CONFIG_DMA_API_DEBUG
 * (kernel/dma/debug.c) does.
 *
 * Entries: every live mapping is an entry in an open-addressing hash table
 * keyed by IOVA, at most half full. It starts with room for
 * params.debug_entries (default 65536, the kernel's preallocation) and
 * doubles when full, as dma_entry_alloc() grows its pool
 * (dma_debug_create_entries()). When it cannot grow (no memory, or past
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

struct dbg_ent {
	uint64_t iova;
	uint32_t len;
	uint8_t dir;
	uint8_t used;
};

struct dma_debug {
	struct dma d;
	struct dma *inner;
	pthread_mutex_t lock;
	struct dbg_ent *tab; /* cap slots: room for cap / 2 entries */
	size_t cap, n;
	bool disabled;       /* could not grow: nothing checked any more */
	uint64_t recent[DBG_RECENT];
	unsigned recent_pos;
};

static size_t dbg_hash(const struct dma_debug *dbg, uint64_t iova)
{
	uint64_t h = iova * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 20) & (dbg->cap - 1);
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
	dbg->cap = 2;
	while (dbg->cap / 2 < want)
		dbg->cap <<= 1;
	dbg->tab = dma_zalloc(d, dbg->cap * sizeof(*dbg->tab));
	if (!dbg->tab) {
		dma_close(dbg->inner);
		return dma_err(d, -ENOMEM, "cannot allocate %zu entries",
			       dbg->cap / 2);
	}
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
		const struct dbg_ent *e = &dbg->tab[i];
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
	dma_free(d, dbg->tab, dbg->cap * sizeof(*dbg->tab));
	dma_close(dbg->inner);
}

/* Insert without growing (room is there). Under the lock. */
static void dbg_insert(struct dma_debug *dbg, const struct dbg_ent *e)
{
	size_t i = dbg_hash(dbg, e->iova);
	while (dbg->tab[i].used)
		i = (i + 1) & (dbg->cap - 1);
	dbg->tab[i] = *e;
	dbg->n++;
}

/* The table is half full: double it (dma_debug_create_entries()). When it
 * cannot, debugging turns itself off with a notice. Under the lock. */
static void dbg_grow(struct dma_debug *dbg)
{
	size_t cap = dbg->cap * 2;
	const uint64_t max = dbg->d.p.debug_entries_max;
	struct dbg_ent *t = max && cap / 2 > max ? NULL :
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
	struct dbg_ent *old = dbg->tab;
	size_t ocap = dbg->cap;
	dbg->tab = t;
	dbg->cap = cap;
	dbg->n = 0;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].used)
			dbg_insert(dbg, &old[i]);
	dma_free(&dbg->d, old, ocap * sizeof(*old));
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
	if (!dbg->disabled && dbg->n + 1 > dbg->cap / 2)
		dbg_grow(dbg);
	if (!dbg->disabled && len <= UINT32_MAX)
		dbg_insert(dbg, &(struct dbg_ent){ *iova, (uint32_t)len, (uint8_t)dir, 1 });
	pthread_mutex_unlock(&dbg->lock);
	return 0;
}

/* Remove slot i keeping every probe chain unbroken (backward shift). */
static void dbg_remove(struct dma_debug *dbg, size_t i)
{
	size_t j = i;
	dbg->tab[i].used = 0;
	for (;;) {
		j = (j + 1) & (dbg->cap - 1);
		if (!dbg->tab[j].used)
			break;
		size_t h = dbg_hash(dbg, dbg->tab[j].iova);
		/* Move j into the hole i unless its home lies in (i, j]. */
		bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
		if (stays)
			continue;
		dbg->tab[i] = dbg->tab[j];
		dbg->tab[j].used = 0;
		i = j;
	}
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
	for (size_t i = dbg_hash(dbg, iova); dbg->tab[i].used;
	     i = (i + 1) & (dbg->cap - 1)) {
		struct dbg_ent *e = &dbg->tab[i];
		if (e->iova != iova)
			continue;
		if (e->len == len && e->dir == (uint8_t)dir) {
			dbg_remove(dbg, i);
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
 * several do (duplicates): the exact start first, then (device access at an
 * offset) a scan of the whole table. Under the lock. */
static const struct dbg_ent *dbg_find_range(const struct dma_debug *dbg,
					    uint64_t iova, size_t len,
					    enum dma_dir access)
{
	const struct dbg_ent *any = NULL;
	for (size_t i = dbg_hash(dbg, iova); dbg->tab[i].used;
	     i = (i + 1) & (dbg->cap - 1)) {
		const struct dbg_ent *e = &dbg->tab[i];
		if (e->iova != iova || !dbg_covers(e, iova, len))
			continue;
		if (dma_dir_allows((enum dma_dir)e->dir, access))
			return e;
		any = e;
	}
	if (any)
		return any;
	for (size_t i = 0; i < dbg->cap; i++) {
		const struct dbg_ent *e = &dbg->tab[i];
		if (!dbg_covers(e, iova, len))
			continue;
		if (dma_dir_allows((enum dma_dir)e->dir, access))
			return e;
		any = e;
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
