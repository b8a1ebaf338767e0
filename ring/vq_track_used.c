/* SPDX-License-Identifier: MIT */
/*
 * vq_track_used.c - the tracking layer's completion side: take a used (or
 * detached) chain from the ring and unmap from what the policy remembered
 * (vq_track.c maps and remembers on add).
 */
#include <errno.h>

#include "vq_pvt.h"
#include "vq_track_pvt.h"

static enum dma_dir buf_dir(uint32_t write)
{
	return write ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
}

static void compact_unmap(struct vq_track *t, vq_rec_compact r)
{
	vq_track_unmap_one(t, r >> 17, (uint32_t)(r & 0xffff) + 1,
		  (r & COMPACT_WRITE) ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
}

/* Unmap a completed (or detached) chain according to the policy. */
static enum dma_dir rec_dir(uint16_t flags)
{
	return (flags & VQ_DESC_F_WRITE) ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
}

/* retrieve: the one call that hands the driver a completed chain's
 * address+length pairs (the indirect table's last). @return the count. */
static unsigned retrieve_pairs(struct vq_track *t, const struct vq_used *u, int tidx,
			       struct vq_pair *out)
{
	unsigned k = 0;
	if (u->indirect) {
		k = vq_track_ind_entries(t, u, tidx, out); /* per --indirect-extra */
		out[k++] = (struct vq_pair){t->full[u->head].addr, t->full[u->head].len, DMA_TO_DEVICE};
		return k;
	}
	uint16_t slot = u->head;
	for (unsigned i = 0; i < u->ndesc; i++) {
		const struct vq_rec_full *r = &t->full[slot];
		out[k++] = (struct vq_pair){r->addr, r->len, rec_dir(r->flags)};
		slot = r->next;
	}
	return k;
}

static inline __attribute__((always_inline)) void complete_chain(struct vq_track *t, const struct vq_used *u)
{
	int tidx = u->indirect ? t->ind_of_head[u->head] : -1;

	if (t->lazy && !t->tracked[u->head])
		goto done; /* mapped while unmap was not needed */
	if (vq_track_iova_owns(t) && vq_track_iova_complete(t, u))
		goto done; /* the IOVA API: the chain's runs unlinked */
	if (t->retrieve) {
		struct vq_pair pairs[VQ_MAX_CHAIN + 1];
		unsigned n = retrieve_pairs(t, u, tidx, pairs);
		for (unsigned i = 0; i < n; i++)
			vq_track_unmap_one(t, pairs[i].addr, pairs[i].len, (enum dma_dir)pairs[i].dir);
		goto done;
	}
	switch (t->policy) {
	case VQ_POLICY_FULL:
	case VQ_POLICY_ADAPTIVE:
	case VQ_POLICY_IOVA: /* its fallback: full's records */ {
		if (u->indirect) {
			vq_track_ind_unmap(t, u, tidx); /* per --indirect-extra */
			break;
		}
		/* walk the private records by their next links, as Linux walks desc_extra */
		uint16_t slot = u->head;
		for (unsigned i = 0; i < u->ndesc; i++) {
			const struct vq_rec_full *r = &t->full[slot];
			vq_track_unmap_one(t, r->addr, r->len, rec_dir(r->flags));
			slot = r->next;
		}
		break;
	}
	case VQ_POLICY_COMPACT:
		if (u->indirect) {
			vq_track_ind_unmap(t, u, tidx); /* per --indirect-extra */
		} else {
			for (unsigned i = 0; i < u->ndesc; i++)
				compact_unmap(t, t->compact[u->slots[i]]);
		}
		break;
	case VQ_POLICY_READBACK: {
		struct vq_sg sg[VQ_MAX_CHAIN];
		const void *table = u->indirect ? t->ind_tables + (size_t)tidx * IND_TABLE_BYTES : NULL;
		int n = vq_readback_split(t->vq, u->head, table, sg, VQ_MAX_CHAIN);
		if (n < 0 || (unsigned)n != u->ndesc) {
			/* the device corrupted the table: what was mapped stays mapped */
			t->st.readback_errors++;
			if (n < 0)
				n = 0;
		}
		for (int i = 0; i < n; i++)
			vq_track_unmap_one(t, sg[i].addr, sg[i].len, buf_dir(sg[i].write));
		if (u->indirect)
			vq_track_unmap_one(t, t->ind_iova[tidx], IND_LEN(u->ndesc), DMA_TO_DEVICE);
		break;
	}
	case VQ_POLICY_DRIVER_ARRAY: {
		const struct vq_pair *pr = &t->pairs[(size_t)u->head * VQ_MAX_CHAIN];
		for (unsigned i = 0; i < u->ndesc; i++)
			vq_track_unmap_one(t, pr[i].addr, pr[i].len, (enum dma_dir)pr[i].dir);
		if (u->indirect)
			vq_track_unmap_one(t, t->ind_iova[tidx], IND_LEN(u->ndesc), DMA_TO_DEVICE);
		break;
	}
	case VQ_POLICY_SKIP:
		t->st.skipped_unmaps += u->ndesc + (u->indirect ? 1u : 0u);
		break;
	case VQ_POLICY_PREMAPPED:
	case VQ_POLICY_RETRIEVE: /* handled above */
	case VQ_POLICY_COUNT:
		break;
	}
done:
	if (tidx >= 0)
		t->ind_free[t->ind_nfree++] = (uint16_t)tidx;
}

int vq_track_get_used(struct vq_track *t, void **token, uint32_t *len)
{
	struct vq_used u;
	int rc = vq_get_used(t->vq, &u);

	if (rc <= 0)
		return rc;
	complete_chain(t, &u);
	*token = u.token;
	*len = u.len;
	return 1;
}

/* Reap up to max chains on one policy and layout (constants where
 * inlined): complete_chain's work for a direct chain of full (unmap from
 * the records), skip (count) or premapped (nothing); other chains and
 * policies go through complete_chain itself. */
static inline __attribute__((always_inline)) int used_burst_pol(struct vq_track *t, void **tokens, uint32_t *lens,
								unsigned max, enum vq_policy pol, enum vq_layout lay)
{
	struct vq_used u;
	struct vq_packed_reap pr; /* packed: the ring's used side in locals for the burst */
	struct vq_split_reap sr;  /* split: the same */
	unsigned k = 0;

	if (lay == VQ_LAYOUT_PACKED)
		vq_reap_begin_packed(t->vq, &pr);
	else
		vq_reap_begin_split(t->vq, &sr);
	while (k < max) {
		int rc = lay == VQ_LAYOUT_SPLIT ? vq_reap_one_split(t->vq, &sr, &u, pol == VQ_POLICY_COUNT)
						: vq_reap_one_packed(t->vq, &pr, &u, pol == VQ_POLICY_COUNT);
		if (rc <= 0) {
			if (rc < 0 && !k)
				return rc; /* nothing completed: nothing to write back */
			break;
		}
		if (pol == VQ_POLICY_COUNT || u.indirect) {
			complete_chain(t, &u);
		} else if (pol == VQ_POLICY_FULL) {
			uint16_t slot = u.head; /* the records' next links, as Linux walks desc_extra */
			for (unsigned i = 0; i < u.ndesc; i++) {
				const struct vq_rec_full *r = &t->full[slot];
				vq_track_unmap_one(t, r->addr, r->len, rec_dir(r->flags));
				slot = r->next;
			}
		} else if (pol == VQ_POLICY_SKIP) {
			t->st.skipped_unmaps += u.ndesc;
		}
		tokens[k] = u.token;
		lens[k] = u.len;
		k++;
	}
	if (lay == VQ_LAYOUT_PACKED)
		vq_reap_end_packed(t->vq, &pr);
	else
		vq_reap_end_split(t->vq, &sr);
	return (int)k;
}

int vq_track_get_used_burst(struct vq_track *t, void **tokens, uint32_t *lens, unsigned max)
{
	if (vq_is_broken(t->vq)) /* vq_get_used's check: once, a burst stops where the queue breaks */
		return -EIO;
	if (max > VQ_TRACK_BURST_MAX)
		max = VQ_TRACK_BURST_MAX;
	bool packed = vq_get_config(t->vq)->layout == VQ_LAYOUT_PACKED;
	enum vq_policy pol = t->lazy || t->retrieve || vq_track_iova_owns(t) ? VQ_POLICY_COUNT : t->policy;
#define USED_BURST(pol)                                                                      \
	(packed ? used_burst_pol(t, tokens, lens, max, pol, VQ_LAYOUT_PACKED)                  \
		: used_burst_pol(t, tokens, lens, max, pol, VQ_LAYOUT_SPLIT))
	switch (pol) { /* VQ_POLICY_COUNT: complete_chain for each */
	case VQ_POLICY_FULL: return USED_BURST(VQ_POLICY_FULL);
	case VQ_POLICY_SKIP: return USED_BURST(VQ_POLICY_SKIP);
	case VQ_POLICY_PREMAPPED: return USED_BURST(VQ_POLICY_PREMAPPED);
	default: return USED_BURST(VQ_POLICY_COUNT);
	}
#undef USED_BURST
}

int vq_track_detach(struct vq_track *t, void **token)
{
	struct vq_used u;
	int rc = vq_detach_unused(t->vq, &u);

	if (rc <= 0)
		return rc;
	complete_chain(t, &u);
	*token = u.token;
	return 1;
}
