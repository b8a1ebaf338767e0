/* SPDX-License-Identifier: MIT */
/*
 * vq_track_indirect.c - where the policies that keep a record per
 * descriptor (full, retrieve, adaptive, compact, iova's fallback) remember
 * an indirect chain's entries, per --indirect-extra (vq_track.h, enum
 * vq_ind_extra), and how they unmap them:
 *
 *   upstream   one record per entry, allocated with the chain's table, as
 *              Linux since v6.13 allocates a desc_extra array after every
 *              indirect table (one kmalloc of n x (16 + 16) bytes per
 *              chain, on the kernel's per-packet path). vqbench takes the
 *              records from a pool preallocated at create (nothing is
 *              allocated per packet here) and counts what the kernel would
 *              hold: n records per chain in flight. The pool itself is not
 *              counted; the most record bytes in flight at once are
 *              (charged to dma_mem's tracking category when the most
 *              grows: at most once per new high, never in steady state).
 *   linux-6.1  no record per entry: unmap reads each entry's address,
 *              length and flags back from the indirect table, as 6.1's
 *              detach_buf_split() (vring_unmap_one_split_indirect()) and
 *              detach_buf_packed() (vring_unmap_desc_packed()) do; how
 *              many entries comes from the head slot's record of the
 *              table (desc_extra[head].len / 16 in 6.1).
 *
 * Only the indirect path comes here: a chain without a table never does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dma_mem.h"
#include "vq_pvt.h"
#include "vq_track_pvt.h"

static const char *const ind_extra_names[VQ_IND_EXTRA_COUNT] = {
	[VQ_IND_EXTRA_UPSTREAM] = "upstream",
	[VQ_IND_EXTRA_LINUX61] = "linux-6.1",
};

const char *vq_ind_extra_name(unsigned i)
{
	return i < VQ_IND_EXTRA_COUNT ? ind_extra_names[i] : NULL;
}

int vq_ind_extra_lookup(const char *name, enum vq_ind_extra *out)
{
	for (unsigned i = 0; i < VQ_IND_EXTRA_COUNT; i++) {
		if (name && !strcmp(name, ind_extra_names[i])) {
			*out = (enum vq_ind_extra)i;
			return 0;
		}
	}
	return -ENOENT;
}

/* Kept after the pool's records (so struct vq_track, whose size is part of
 * every footprint, does not grow). */
struct ind_acct {
	size_t live;        /* upstream: record bytes of the indirect chains in flight */
	size_t peak;        /* upstream: the most live was: charged to dma_mem */
	uint64_t readbacks; /* linux-6.1: entries read back from their tables */
};

/* The pool: 19 records per slot (upstream) or none (linux-6.1), then the
 * accounting; allocated only where the policy keeps records. */
static size_t pool_bytes(const struct vq_track *t)
{
	if (t->ind_extra == VQ_IND_EXTRA_LINUX61)
		return 0;
	return (size_t)t->size * VQ_MAX_CHAIN * vq_rec_bytes((enum rec_kind)t->rec);
}

static void *pool(const struct vq_track *t)
{
	return t->rec == REC_COMPACT ? (void *)t->ind_compact : (void *)t->ind_full;
}

static struct ind_acct *acct(const struct vq_track *t)
{
	char *p = pool(t);
	return p ? (struct ind_acct *)(p + pool_bytes(t)) : NULL;
}

bool vq_track_ind_alloc(struct vq_track *t)
{
	if (!t->indirect_ok || pool(t) || (t->rec != REC_FULL && t->rec != REC_COMPACT))
		return true;
	/* records are multiples of 8 bytes: the accounting after them is aligned */
	void *p = calloc(1, pool_bytes(t) + sizeof(struct ind_acct));
	if (t->rec == REC_FULL)
		t->ind_full = p;
	else
		t->ind_compact = p;
	return p != NULL;
}

void vq_track_ind_free(struct vq_track *t)
{
	struct ind_acct *a = acct(t);
	if (a)
		dma_mem_charge(DMA_MEM_TRACKING, -(int64_t)a->peak);
	free(pool(t));
	t->ind_full = NULL;
	t->ind_compact = NULL;
}

size_t vq_track_ind_peak(const struct vq_track *t)
{
	const struct ind_acct *a = acct(t);
	return a ? a->peak : 0;
}

uint64_t vq_track_ind_readbacks(const struct vq_track *t)
{
	const struct ind_acct *a = acct(t);
	return a ? a->readbacks : 0;
}

static vq_rec_compact compact_rec(uint64_t iova, uint32_t len, uint32_t write)
{
	return (iova << 17) | (write ? COMPACT_WRITE : 0) | (uint64_t)(len - 1);
}

void vq_track_ind_remember(struct vq_track *t, int tidx, const struct vq_sg *sg, unsigned n)
{
	if (t->ind_extra == VQ_IND_EXTRA_LINUX61)
		return; /* the table is the record */
	size_t base = (size_t)tidx * VQ_MAX_CHAIN;
	for (unsigned i = 0; i < n; i++) {
		if (t->rec == REC_COMPACT) {
			t->ind_compact[base + i] = compact_rec(sg[i].addr, sg[i].len, sg[i].write);
			continue;
		}
		t->ind_full[base + i] = (struct vq_rec_full){
			.addr = sg[i].addr,
			.len = sg[i].len,
			.flags = (uint16_t)((sg[i].write ? VQ_DESC_F_WRITE : 0) | (i + 1 < n ? VQ_DESC_F_NEXT : 0)),
			.next = (uint16_t)(i + 1),
		};
	}
	/* what the kernel's kmalloc with the table would hold for them */
	struct ind_acct *a = acct(t);
	a->live += n * vq_rec_bytes((enum rec_kind)t->rec);
	if (a->live > a->peak) {
		dma_mem_charge(DMA_MEM_TRACKING, (int64_t)(a->live - a->peak));
		a->peak = a->live;
	}
}

static enum dma_dir flags_dir(uint16_t flags)
{
	return (flags & VQ_DESC_F_WRITE) ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
}

/* linux-6.1: the entries as the table holds them now. A split entry keeps
 * its flags at byte 12 (then next), a packed one at byte 14 (after id). */
static unsigned table_entries(struct vq_track *t, int tidx, unsigned n, struct vq_pair *out)
{
	const unsigned char *tbl = (const unsigned char *)t->ind_tables + (size_t)tidx * IND_TABLE_BYTES;
	size_t flags_at = vq_get_config(t->vq)->layout == VQ_LAYOUT_PACKED ? 14 : 12;
	if (n > VQ_MAX_CHAIN) /* the head record says more than a table holds */
		n = VQ_MAX_CHAIN;
	for (unsigned i = 0; i < n; i++) {
		const unsigned char *e = tbl + 16 * (size_t)i;
		uint64_t addr;
		uint32_t len;
		uint16_t flags;
		memcpy(&addr, e, sizeof(addr));
		memcpy(&len, e + 8, sizeof(len));
		memcpy(&flags, e + flags_at, sizeof(flags));
		out[i] = (struct vq_pair){vq_le64(addr), vq_le32(len), flags_dir(vq_le16(flags))};
	}
	acct(t)->readbacks += n;
	return n;
}

/* The table's own record in the head slot: its address and length. */
static void head_record(const struct vq_track *t, uint16_t head, uint64_t *addr, uint32_t *len)
{
	if (t->rec == REC_COMPACT) {
		vq_rec_compact r = t->compact[head];
		*addr = r >> 17;
		*len = (uint32_t)(r & 0xffff) + 1;
		return;
	}
	*addr = t->full[head].addr;
	*len = t->full[head].len;
}

unsigned vq_track_ind_entries(struct vq_track *t, const struct vq_used *u, int tidx, struct vq_pair *out)
{
	if (t->ind_extra == VQ_IND_EXTRA_LINUX61) {
		uint64_t taddr;
		uint32_t tlen;
		head_record(t, u->head, &taddr, &tlen);
		return table_entries(t, tidx, tlen / 16, out);
	}
	size_t base = (size_t)tidx * VQ_MAX_CHAIN;
	for (unsigned i = 0; i < u->ndesc; i++) {
		if (t->rec == REC_COMPACT) {
			vq_rec_compact r = t->ind_compact[base + i];
			out[i] = (struct vq_pair){r >> 17, (uint32_t)(r & 0xffff) + 1,
						  (r & COMPACT_WRITE) ? DMA_FROM_DEVICE : DMA_TO_DEVICE};
			continue;
		}
		const struct vq_rec_full *r = &t->ind_full[base + i];
		out[i] = (struct vq_pair){r->addr, r->len, flags_dir(r->flags)};
	}
	acct(t)->live -= u->ndesc * vq_rec_bytes((enum rec_kind)t->rec); /* the kernel's kfree */
	return u->ndesc;
}

void vq_track_ind_unmap(struct vq_track *t, const struct vq_used *u, int tidx)
{
	struct vq_pair pr[VQ_MAX_CHAIN];
	unsigned n = vq_track_ind_entries(t, u, tidx, pr);
	uint64_t taddr;
	uint32_t tlen;

	for (unsigned i = 0; i < n; i++)
		vq_track_unmap_one(t, pr[i].addr, pr[i].len, (enum dma_dir)pr[i].dir);
	head_record(t, u->head, &taddr, &tlen);
	vq_track_unmap_one(t, taddr, tlen, DMA_TO_DEVICE);
}
