/* SPDX-License-Identifier: MIT */
/*
 * dma_debug.c - DMA API debugging: wraps another backend (params.inner,
 * default identity) and checks every use, the way CONFIG_DMA_API_DEBUG does.
 *
 * Every live mapping is an entry in an open-addressing hash table keyed by
 * IOVA (fixed capacity, allocated at open; a full table fails the map with
 * -ENOMEM and a report). Duplicate IOVAs are legal (identity maps the same
 * buffer twice to the same address). A mutex guards the table: the driver
 * (map/unmap) and the device (translate) both use it.
 *
 * Reports (each: debug_reports++, dma_last_error() set in the calling
 * thread, the call refused):
 *   - unmap of an IOVA with no live mapping: "double unmap" when the IOVA was
 *     among the last DBG_RECENT unmapped ones, else "unknown IOVA";
 *   - unmap with a length or direction other than the map's (the mapping
 *     stays live, and the inner backend is not called);
 *   - device access (translate) outside every live mapping, or against its
 *     direction (a write to TO_DEVICE, a read of FROM_DEVICE);
 *   - leaks: dma_close() prints one line per live mapping to stderr (up to
 *     DBG_PRINT_MAX, then a total), counts them and leaves the total in
 *     dma_last_error(). The live count is counters.live.
 * Counters: its own maps, unmaps, live, faults and reports; the inner
 * backend's copies, flushes, IOTLB work, bounces and stale hits; mem_bytes
 * is both.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dma_pvt.h"

#define DBG_CAP (1u << 15)    /* live mappings */
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
	struct dbg_ent *tab; /* DBG_CAP entries */
	unsigned n;
	uint64_t recent[DBG_RECENT];
	unsigned recent_pos;
};

static unsigned dbg_hash(uint64_t iova)
{
	uint64_t h = iova * 0x9e3779b97f4a7c15ull;
	return (unsigned)(h >> 40) & (DBG_CAP - 1);
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
	dbg->tab = dma_zalloc(d, DBG_CAP * sizeof(*dbg->tab));
	if (!dbg->tab) {
		dma_close(dbg->inner);
		return dma_err(d, -ENOMEM, "cannot allocate %u entries", DBG_CAP);
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
	for (unsigned i = 0; i < DBG_CAP; i++) {
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
	dma_free(d, dbg->tab, DBG_CAP * sizeof(*dbg->tab));
	dma_close(dbg->inner);
}

static int debug_map(struct dma *d, void *cpu, size_t len, enum dma_dir dir,
		     uint64_t *iova)
{
	struct dma_debug *dbg = DMA_PRIV(struct dma_debug, d);
	if (len > UINT32_MAX)
		return dbg_report(dbg, -EINVAL, "map of %p len %zu: longer "
				  "than a mapping can be", cpu, len);
	int r = dma_map(dbg->inner, cpu, len, dir, iova);
	if (r < 0)
		return r;
	pthread_mutex_lock(&dbg->lock);
	if (dbg->n == DBG_CAP - 1) { /* keep one empty slot: probes end */
		pthread_mutex_unlock(&dbg->lock);
		dma_unmap(dbg->inner, *iova, len, dir);
		return dbg_report(dbg, -ENOMEM, "map of %p: more than %u live "
				  "mappings", cpu, DBG_CAP - 1);
	}
	unsigned i = dbg_hash(*iova);
	while (dbg->tab[i].used)
		i = (i + 1) & (DBG_CAP - 1);
	dbg->tab[i] = (struct dbg_ent){ *iova, (uint32_t)len, (uint8_t)dir, 1 };
	dbg->n++;
	pthread_mutex_unlock(&dbg->lock);
	return 0;
}

/* Remove slot i keeping every probe chain unbroken (backward shift). */
static void dbg_remove(struct dma_debug *dbg, unsigned i)
{
	unsigned j = i;
	dbg->tab[i].used = 0;
	for (;;) {
		j = (j + 1) & (DBG_CAP - 1);
		if (!dbg->tab[j].used)
			break;
		unsigned h = dbg_hash(dbg->tab[j].iova);
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
	for (unsigned i = dbg_hash(iova); dbg->tab[i].used;
	     i = (i + 1) & (DBG_CAP - 1)) {
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

static void debug_sync(struct dma *d, uint64_t iova, size_t len,
		       enum dma_dir dir, bool for_cpu)
{
	struct dma_debug *dbg = DMA_PRIV(struct dma_debug, d);
	if (for_cpu)
		dma_sync_for_cpu(dbg->inner, iova, len, dir);
	else
		dma_sync_for_device(dbg->inner, iova, len, dir);
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
	for (unsigned i = dbg_hash(iova); dbg->tab[i].used;
	     i = (i + 1) & (DBG_CAP - 1)) {
		const struct dbg_ent *e = &dbg->tab[i];
		if (e->iova != iova || !dbg_covers(e, iova, len))
			continue;
		if (dma_dir_allows((enum dma_dir)e->dir, access))
			return e;
		any = e;
	}
	if (any)
		return any;
	for (unsigned i = 0; i < DBG_CAP; i++) {
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
	c->mem_bytes += in.mem_bytes;
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
};

const struct dma *dma_debug_inner(const struct dma *d)
{
	return DMA_CPRIV(struct dma_debug, d)->inner;
}
