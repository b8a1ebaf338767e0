/* SPDX-License-Identifier: MIT */
/*
 * vq_track_pvt.h - @internal: the record types, the policy table's shape and
 * the tracking state, shared by vq_track_policy.c (the table, names, skip
 * rules, footprint, admission checks) and vq_track.c (the data path).
 * Do not include outside ring/: the API is vq_track.h.
 */
#ifndef VQ_TRACK_PVT_H
#define VQ_TRACK_PVT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vq_track.h"

/* full: Linux's desc_extra. */
struct vq_rec_full {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct vq_rec_full) == 16, "full record is 16 bytes");

/* compact: bits 0-15 len-1, bit 16 device-writable, bits 17-63 IOVA. */
typedef uint64_t vq_rec_compact;
#define COMPACT_LEN_MAX 65536u
#define COMPACT_IOVA_BITS 47
#define COMPACT_WRITE (UINT64_C(1) << 16)

/* premapped: bit 0 of an arena buffer's IOVA set = its mapping needs syncs */
#define PREMAP_SYNC UINT64_C(1)

/* Indirect tables: room for VQ_MAX_CHAIN descriptors (304 bytes), laid out
 * at a 512-byte stride so none crosses a 4 KiB page (a physically
 * addressed backend cannot map one that does) -- the same 512 bytes
 * Linux's kmalloc gives a 304-byte table. Only n * 16 bytes are mapped. */
#define IND_TABLE_BYTES 512u
#define IND_LEN(n) ((uint32_t)(n) * 16u)

/* driver-array: one address+length pair. */
struct vq_pair {
	uint64_t addr;
	uint32_t len;
	uint32_t dir; /* enum dma_dir */
};
_Static_assert(sizeof(struct vq_pair) == 16, "pair is 16 bytes");

/* What a policy keeps per descriptor. */
enum rec_kind {
	REC_NONE,    /* nothing */
	REC_FULL,    /* struct vq_rec_full per slot and per indirect entry */
	REC_COMPACT, /* vq_rec_compact per slot and per indirect entry */
	REC_ARRAY,   /* (size + 1) x VQ_MAX_CHAIN pairs, by head slot */
};

struct vq_policy_def {
	const char *name;
	const char *desc;
	enum rec_kind rec;
	bool map_per_packet;    /* map on add, unmap (or not) on completion */
	bool unmaps;            /* completion unmaps what add mapped */
	bool split_only;
	bool table_iova_state;  /* keeps each indirect table's IOVA per table */
	bool lazy;              /* adaptive: records only for chains that need unmap */
	bool retrieve;          /* hand the chain's pairs out in one call, then unmap */
};


/* The policy table: the one place that says what each policy stores per
 * descriptor and per chain, and when it unmaps (vq_track_policy.c). */
extern const struct vq_policy_def vq_policy_defs[VQ_POLICY_COUNT];

/* Bytes of one record of kind k. */
size_t vq_rec_bytes(enum rec_kind k);

/* The counters every policy keeps, in struct vq_track (vq_track_stats
 * without the iova policy's, which its own state keeps: the struct of
 * every other policy does not grow). */
struct vq_track_counts {
	uint64_t maps, unmaps, syncs, skipped_unmaps, readback_errors, tracked_chains, first_tracked_chain,
		sync_bufs;
};

struct vq_track {
	struct vq *vq;
	struct dma *dma;
	const struct vq_policy_def *def;
	enum vq_policy policy;
	enum vq_skip_rule rule;
	bool unsafe;
	bool indirect_ok;
	/* def's per-packet answers, copied at create (one load each); in
	 * what was padding, so the tracking state is no larger */
	bool map_per_packet, lazy;
	uint32_t size;
	/* arena */
	char *arena;
	size_t arena_len;
	uint32_t buf_shift;
	bool retrieve;  /* def's answers, continued (padding before nbufs) */
	uint8_t rec;    /* enum rec_kind */
	uint8_t ind_extra; /* enum vq_ind_extra (vq_track_indirect.c); padding before */
	bool iova_owns; /* vq_track_iova_owns, set once at create */
	size_t nbufs;
	union {
		uint64_t *buf_iova;          /* premapped: [nbufs] */
		struct vq_track_iova *iova;  /* iova: its state (vq_track_iova.c) */
	};
	/* per-descriptor records, indexed by slot */
	struct vq_rec_full *full;   /* [size] */
	vq_rec_compact *compact;    /* [size] */
	/* indirect tables: [size] tables of IND_TABLE_BYTES, own free stack */
	char *ind_tables;
	void (*table_free)(void *p, void *ctx); /* NULL: free() */
	void *table_ctx;
	uint16_t *ind_free;        /* stack of free table indices */
	uint32_t ind_nfree;
	uint16_t *ind_of_head;     /* [size]: table used by the chain at head */
	uint64_t *ind_iova;        /* readback / premapped: [size] table IOVA */
	struct vq_rec_full *ind_full;  /* [size][VQ_MAX_CHAIN] */
	vq_rec_compact *ind_compact;   /* [size][VQ_MAX_CHAIN] */
	struct vq_pair *pairs;         /* driver-array: [size + 1][VQ_MAX_CHAIN] */
	uint8_t *tracked;              /* adaptive: [size], 1 = chain at head has records */
	struct vq_track_counts st; /* vq_track_get_stats adds iova's own */
};

/* Hooks of the indirect entries' records into the data path
 * (vq_track_indirect.c). alloc: the pool of records upstream mode takes
 * from (ind_full or ind_compact by t->rec; not counted: its bytes are
 * charged as chains use them); linux-6.1 allocates nothing. @return
 * false when out of memory. free: the pool, and the charge given back. */
bool vq_track_ind_alloc(struct vq_track *t);
void vq_track_ind_free(struct vq_track *t);
/* upstream: the most record bytes of indirect chains in flight at once
 * (charged to dma_mem's tracking category); linux-6.1: 0. */
size_t vq_track_ind_peak(const struct vq_track *t);
/* linux-6.1: the entries read back from tables so far; upstream: 0. */
uint64_t vq_track_ind_readbacks(const struct vq_track *t);
/* remember: a chain of n entries went into table tidx (sg[] as mapped). */
void vq_track_ind_remember(struct vq_track *t, int tidx, const struct vq_sg *sg, unsigned n);
/* entries: the completed indirect chain u's entries as address+length+
 * direction pairs (from the records, upstream; read back from the table,
 * linux-6.1), the records released. @return the count. */
unsigned vq_track_ind_entries(struct vq_track *t, const struct vq_used *u, int tidx, struct vq_pair *out);
/* Unmap the completed indirect chain u's entries, then its table (the
 * record in the head slot). */
void vq_track_ind_unmap(struct vq_track *t, const struct vq_used *u, int tidx);

/* iova (vq_track_iova.c): the range, the chains' windows. */
struct vq_track_iova {
	struct dma_iova_state st;
	uint32_t win_granules; /* granules per chain window */
	uint32_t max_chain;
	uint32_t nfree;
	bool fallback;         /* dma_iova_try_alloc failed: dma_map per buffer */
	uint64_t *chain;       /* [size] by head: window granule | readable run << 32 |
				  writable run << 48 (granules) */
	uint16_t *win_free;    /* [size] stack of free windows */
	uint64_t links, unlinks, iova_syncs, ranges; /* vq_track_stats' */
	char mode[200];
};

/* Hooks of the iova policy into the data path (vq_track_iova.c). */
extern const struct vq_policy_def vq_iova_fallback_def;
int vq_track_iova_create(struct vq_track *t, const struct vq_track_params *p);
void vq_track_iova_destroy(struct vq_track *t);
/* vq_track_add's steps for a chain the IOVA API carries (vq_track_iova_owns):
 * link makes vq_add's checks of bufs[], takes a window (and, indirect, a
 * table: *tidx, *ind), links every buffer into it, syncs it, fills sg[] and
 * *in_bytes and returns 0 with the chain's state in *chain (or a negative
 * errno with nothing linked and the window given back; *tidx, when set, is
 * the caller's to give back). The chain then goes through vq_track_add's one
 * vq_add_checked call: added syncs a bounced indirect table (table_iova, 0
 * without one) and records *chain by head, undo (vq_add_checked
 * failed) unlinks the runs and gives the window back. */
int vq_track_iova_link(struct vq_track *t, const struct vq_buf *bufs, unsigned n, bool indirect,
		       struct vq_sg *sg, struct vq_indirect *ind, int *tidx, uint32_t *in_bytes, uint64_t *chain);
void vq_track_iova_added(struct vq_track *t, uint16_t head, uint64_t chain, uint64_t table_iova, unsigned n);
void vq_track_iova_undo(struct vq_track *t, uint64_t chain);
/* Unlink a completed chain's runs. @return true (it handled the chain). */
bool vq_track_iova_complete(struct vq_track *t, const struct vq_used *u);
/* The chain goes through the IOVA API (policy iova, not its fallback). */
static inline bool vq_track_iova_owns(const struct vq_track *t)
{
	return __builtin_expect(t->iova_owns, 0);
}
/* Bytes the iova policy allocates per queue beyond the generic state. */
size_t vq_track_iova_bytes(size_t size);

/* Set vq_track_last_error() and return rc. */
int vq_track_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline bool vq_track_has_indirect(const struct vq_config *cfg)
{
	return (cfg->features & VQ_FEATURE(VQ_F_INDIRECT_DESC)) != 0;
}

/* Unmap one mapping and count it (the policy's unmaps statistic). */
static inline void vq_track_unmap_one(struct vq_track *t, uint64_t iova, uint32_t len, enum dma_dir dir)
{
	dma_unmap(t->dma, iova, len, dir);
	t->st.unmaps++;
}

/* Byte sizes of the tracking state, the same in create and free. */
#define TRK_FULL(t) ((size_t)(t)->size * sizeof(*(t)->full))
#define TRK_IND_TABLES(t) (((size_t)(t)->size * IND_TABLE_BYTES + 4095) & ~(size_t)4095)

#endif
