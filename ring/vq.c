/* SPDX-License-Identifier: MIT */
/*
 * vq.c - the layout-independent front of the ring library: argument
 * checks, allocation, and a switch on the layout for every operation (each
 * calls vq_<op>_split or vq_<op>_packed by name; a queue's layout is one of
 * the two from vq_ring_layout on, so no switch falls through at run time).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma_mem.h"
#include "vq_pvt.h"

/* The cache-line maps documented at struct vq and struct vq_dev: per-packet
 * fields in the first three (driver) and two (device) lines. */
_Static_assert(offsetof(struct vq, split) + sizeof(struct vq_split_drv) <= 2 * VQ_CACHE_LINE &&
		       offsetof(struct vq, packed) + sizeof(struct vq_packed_drv) <= 2 * VQ_CACHE_LINE,
	       "struct vq: the layout state must stay in lines 0-1");
_Static_assert(offsetof(struct vq, stats) + sizeof(struct vq_stats) <= 3 * VQ_CACHE_LINE,
	       "struct vq: per-packet counters must stay in lines 1-2");
_Static_assert(offsetof(struct vq, areas) == 3 * VQ_CACHE_LINE, "struct vq: cold state starts at line 3");
_Static_assert(offsetof(struct vq_dev, split) + sizeof(struct vq_split_dev) <= 2 * VQ_CACHE_LINE &&
		       offsetof(struct vq_dev, packed) + sizeof(struct vq_packed_dev) <= 2 * VQ_CACHE_LINE,
	       "struct vq_dev: per-packet state must stay in lines 0-1");
_Static_assert(offsetof(struct vq_dev, areas) == 2 * VQ_CACHE_LINE, "struct vq_dev: cold state starts at line 2");

#define VQ_SUPPORTED_FEATURES                                                  \
	(VQ_FEATURE(VQ_F_INDIRECT_DESC) | VQ_FEATURE(VQ_F_EVENT_IDX) |         \
	 VQ_FEATURE(VQ_F_VERSION_1) | VQ_FEATURE(VQ_F_ACCESS_PLATFORM) |       \
	 VQ_FEATURE(VQ_F_RING_PACKED) | VQ_FEATURE(VQ_F_IN_ORDER))

int vq_ring_layout(const struct vq_config *cfg, struct vq_areas *areas)
{
	if (!cfg || !areas || cfg->size < 1 || cfg->size > VQ_MAX_SIZE)
		return -EINVAL;
	if (cfg->features & ~VQ_SUPPORTED_FEATURES)
		return -EINVAL;
	memset(areas, 0, sizeof(*areas));
	switch (cfg->layout) {
	case VQ_LAYOUT_SPLIT:
		return vq_layout_split(cfg, areas);
	case VQ_LAYOUT_PACKED:
		return vq_layout_packed(cfg, areas);
	}
	return -EINVAL;
}

size_t vq_driver_state_bytes(const struct vq_config *cfg)
{
	struct vq_areas a;

	if (vq_ring_layout(cfg, &a) < 0)
		return 0;
	size_t common = sizeof(struct vq) +
			(size_t)cfg->size * sizeof(struct vq_chain_state);
	switch (cfg->layout) {
	case VQ_LAYOUT_SPLIT:
		return common + vq_state_bytes_split(cfg);
	case VQ_LAYOUT_PACKED:
		return common + vq_state_bytes_packed(cfg);
	}
	return 0;
}

int vq_bad(struct vq *vq, const char *reason)
{
	if (!vq->broken) {
		vq->broken = true;
		vq->broken_reason = reason;
	}
	return -EIO;
}

int vq_dev_bad(struct vq_dev *dev, const char *reason)
{
	if (!dev->broken) {
		dev->broken = true;
		dev->broken_reason = reason;
	}
	return -EINVAL;
}

int vq_badf(struct vq *vq, const char *fmt, ...)
{
	va_list ap;

	if (vq->broken)
		return -EIO;
	va_start(ap, fmt);
	vsnprintf(vq->reason_buf, sizeof(vq->reason_buf), fmt, ap);
	va_end(ap);
	return vq_bad(vq, vq->reason_buf);
}

int vq_dev_badf(struct vq_dev *dev, const char *fmt, ...)
{
	va_list ap;

	if (dev->broken)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(dev->reason_buf, sizeof(dev->reason_buf), fmt, ap);
	va_end(ap);
	return vq_dev_bad(dev, dev->reason_buf);
}

int vq_create(const struct vq_config *cfg, void *ring_mem, struct vq **out)
{
	struct vq_areas a;
	int rc = vq_ring_layout(cfg, &a);

	if (rc < 0)
		return rc;
	if (!ring_mem || ((uintptr_t)ring_mem & 63) || !out)
		return -EINVAL;
	struct vq *vq = dma_mem_zalloc(DMA_MEM_DRIVER, sizeof(*vq), VQ_CACHE_LINE);
	if (!vq)
		return -ENOMEM;
	vq->cfg = *cfg;
	vq->areas = a;
	vq->ring_mem = ring_mem;
	vq->num_free = cfg->size;
	vq->chain = dma_mem_zalloc(DMA_MEM_DRIVER, (size_t)cfg->size * sizeof(*vq->chain), 0);
	if (!vq->chain) {
		dma_mem_free(DMA_MEM_DRIVER, vq, sizeof(*vq));
		return -ENOMEM;
	}
	switch (cfg->layout) {
	case VQ_LAYOUT_SPLIT:
		rc = vq_init_split(vq);
		break;
	case VQ_LAYOUT_PACKED:
		rc = vq_init_packed(vq);
		break;
	}
	if (rc < 0) {
		dma_mem_free(DMA_MEM_DRIVER, vq->chain, (size_t)cfg->size * sizeof(*vq->chain));
		dma_mem_free(DMA_MEM_DRIVER, vq, sizeof(*vq));
		return rc;
	}
	*out = vq;
	return 0;
}

void vq_destroy(struct vq *vq)
{
	if (!vq)
		return;
	switch (vq->cfg.layout) {
	case VQ_LAYOUT_SPLIT:
		vq_fini_split(vq);
		break;
	case VQ_LAYOUT_PACKED:
		vq_fini_packed(vq);
		break;
	}
	dma_mem_free(DMA_MEM_DRIVER, vq->chain, (size_t)vq->cfg.size * sizeof(*vq->chain));
	dma_mem_free(DMA_MEM_DRIVER, vq, sizeof(*vq));
}

int vq_add(struct vq *vq, const struct vq_sg *sg, unsigned n, void *token,
	   const struct vq_indirect *ind, uint16_t *slots)
{
	if (vq->broken)
		return -EIO;
	if (!sg || n < 1 || n > VQ_MAX_CHAIN || !token)
		return -EINVAL;
	bool seen_write = false;
	uint64_t bytes = 0, in_bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		if (sg[i].len == 0)
			return -EINVAL;
		if (sg[i].write) {
			seen_write = true;
			in_bytes += sg[i].len;
		} else if (seen_write) {
			return -EINVAL; /* readable after writable */
		}
		bytes += sg[i].len;
	}
	if (bytes > UINT32_MAX)
		return -EINVAL; /* spec: a chain holds less than 2^32 bytes */
	return vq_add_checked(vq, sg, n, token, ind, slots, (uint32_t)in_bytes);
}

int vq_add_checked(struct vq *vq, const struct vq_sg *sg, unsigned n, void *token,
		   const struct vq_indirect *ind, uint16_t *slots, uint32_t in_bytes)
{
	if (vq->broken)
		return -EIO;
	if (ind && (!ind->table || !vq_has(&vq->cfg, VQ_F_INDIRECT_DESC)))
		return -EINVAL;
	switch (vq->cfg.layout) {
	case VQ_LAYOUT_SPLIT:
		return vq_add_split(vq, sg, n, token, ind, slots, in_bytes);
	case VQ_LAYOUT_PACKED:
		return vq_add_packed(vq, sg, n, token, ind, slots, in_bytes);
	}
	return -EINVAL;
}

int vq_kick_prepare(struct vq *vq)
{
	if (vq->broken)
		return -EIO;
	switch (vq->cfg.layout) {
	case VQ_LAYOUT_SPLIT:
		return vq_kick_prepare_split(vq);
	case VQ_LAYOUT_PACKED:
		return vq_kick_prepare_packed(vq);
	}
	return -EINVAL;
}

int vq_get_used(struct vq *vq, struct vq_used *u)
{
	if (vq->broken)
		return -EIO;
	switch (vq->cfg.layout) {
	case VQ_LAYOUT_SPLIT:
		return vq_get_used_split(vq, u);
	case VQ_LAYOUT_PACKED:
		return vq_get_used_packed(vq, u);
	}
	return -EINVAL;
}

int vq_get_used_burst(struct vq *vq, struct vq_used *u, unsigned max)
{
	if (vq->broken)
		return -EIO;
	if (!u || !max)
		return max ? -EINVAL : 0;
	switch (vq->cfg.layout) {
	case VQ_LAYOUT_SPLIT:
		return vq_get_used_burst_split(vq, u, max);
	case VQ_LAYOUT_PACKED:
		return vq_get_used_burst_packed(vq, u, max);
	}
	return -EINVAL;
}

bool vq_enable_cb(struct vq *vq)
{
	if (vq->broken)
		return false;
	switch (vq->cfg.layout) {
	case VQ_LAYOUT_SPLIT:
		return vq_enable_cb_split(vq);
	case VQ_LAYOUT_PACKED:
		return vq_enable_cb_packed(vq);
	}
	return false;
}

void vq_disable_cb(struct vq *vq)
{
	if (vq->broken)
		return;
	switch (vq->cfg.layout) {
	case VQ_LAYOUT_SPLIT:
		vq_disable_cb_split(vq);
		break;
	case VQ_LAYOUT_PACKED:
		vq_disable_cb_packed(vq);
		break;
	}
}

void vq_gen_retag(struct vq *vq)
{
	uint16_t old = (uint16_t)(vq->gen - 0x8000u);
	for (uint32_t i = 0; i < vq->cfg.size; i++)
		if (vq->chain[i].token)
			vq->chain[i].gen = old;
}

int vq_detach_walk(struct vq *vq, uint16_t *next, uint16_t *free_head, bool in_order,
		   struct vq_used *u)
{
	for (; vq->detach_pos < vq->cfg.size; vq->detach_pos++) {
		uint16_t head = (uint16_t)vq->detach_pos;
		struct vq_chain_state *cs = &vq->chain[head];
		if (!cs->token)
			continue;
		bool ind = cs->flags & VQ_CHAIN_INDIRECT;
		unsigned k = ind ? 1 : cs->ndesc;
		uint16_t i = head, last = head;
		u->token = cs->token;
		u->len = 0;
		u->head = head;
		u->ndesc = cs->ndesc;
		u->indirect = ind;
		for (unsigned j = 0; j < k; j++) {
			u->slots[j] = i;
			last = i;
			i = next[i];
		}
		if (!in_order) {
			next[last] = *free_head;
			*free_head = head;
		}
		cs->token = NULL;
		vq->num_free += k;
		vq->detach_pos++;
		return 1;
	}
	vq->detach_pos = 0;
	return 0;
}

int vq_detach_unused(struct vq *vq, struct vq_used *u)
{
	switch (vq->cfg.layout) {
	case VQ_LAYOUT_SPLIT:
		return vq_detach_unused_split(vq, u);
	case VQ_LAYOUT_PACKED:
		return vq_detach_unused_packed(vq, u);
	}
	return 0;
}

unsigned vq_num_free(const struct vq *vq) { return vq->num_free; }
bool vq_is_broken(const struct vq *vq) { return vq->broken; }
const char *vq_broken_reason(const struct vq *vq) { return vq->broken_reason; }
const struct vq_config *vq_get_config(const struct vq *vq) { return &vq->cfg; }
void vq_get_stats(const struct vq *vq, struct vq_stats *st) { *st = vq->stats; }

/* ---- device side ---- */

int vq_dev_create(const struct vq_config *cfg, void *ring_mem,
		  vq_translate_fn translate, void *ctx, struct vq_dev **out)
{
	struct vq_areas a;
	int rc = vq_ring_layout(cfg, &a);

	if (rc < 0)
		return rc;
	if (!ring_mem || ((uintptr_t)ring_mem & 63) || !translate || !out)
		return -EINVAL;
	struct vq_dev *dev = dma_mem_zalloc(DMA_MEM_DEVICE, sizeof(*dev), VQ_CACHE_LINE);
	if (!dev)
		return -ENOMEM;
	dev->cfg = *cfg;
	dev->areas = a;
	dev->ring_mem = ring_mem;
	dev->translate = translate;
	dev->tr_ctx = ctx;
	switch (cfg->layout) {
	case VQ_LAYOUT_SPLIT:
		rc = vq_dev_init_split(dev);
		break;
	case VQ_LAYOUT_PACKED:
		rc = vq_dev_init_packed(dev);
		break;
	}
	if (rc < 0) {
		dma_mem_free(DMA_MEM_DEVICE, dev, sizeof(*dev));
		return rc;
	}
	*out = dev;
	return 0;
}

void vq_dev_destroy(struct vq_dev *dev)
{
	if (!dev)
		return;
	switch (dev->cfg.layout) {
	case VQ_LAYOUT_SPLIT:
		vq_dev_fini_split(dev);
		break;
	case VQ_LAYOUT_PACKED:
		vq_dev_fini_packed(dev);
		break;
	}
	dma_mem_free(DMA_MEM_DEVICE, dev, sizeof(*dev));
}

int vq_dev_pop(struct vq_dev *dev, struct vq_chain *c)
{
	int rc = -EINVAL;

	if (dev->broken)
		return -EINVAL;
	switch (dev->cfg.layout) {
	case VQ_LAYOUT_SPLIT:
		rc = vq_dev_pop_split(dev, c);
		break;
	case VQ_LAYOUT_PACKED:
		rc = vq_dev_pop_packed(dev, c);
		break;
	}
	/* -E2BIG consumed the chain too: the caller still pushes it. */
	if (rc == 1 || rc == -E2BIG)
		dev->inflight++;
	return rc;
}

int vq_dev_push(struct vq_dev *dev, const struct vq_chain *c, uint32_t len)
{
	int rc = -EINVAL;

	if (dev->broken)
		return -EINVAL;
	/* The device's own sanity: only popped chains, never more bytes than
	 * the chain can hold (the driver checks this too). */
	/* ndesc in 1..size: ndesc - 1 < size, unsigned */
	if (!dev->inflight || len > c->in_bytes || (uint32_t)c->ndesc - 1u >= dev->cfg.size ||
	    c->id >= dev->cfg.size)
		return -EINVAL;
	switch (dev->cfg.layout) {
	case VQ_LAYOUT_SPLIT:
		rc = vq_dev_push_split(dev, c, len);
		break;
	case VQ_LAYOUT_PACKED:
		rc = vq_dev_push_packed(dev, c, len);
		break;
	}
	if (rc == 0)
		dev->inflight--;
	return rc;
}

void vq_dev_set_batch_used(struct vq_dev *dev, bool on)
{
	dev->batch_used = on && vq_has(&dev->cfg, VQ_F_IN_ORDER);
}

void vq_dev_set_translate_identity(struct vq_dev *dev, bool on)
{
	dev->tr_identity = on;
}

int vq_dev_publish(struct vq_dev *dev)
{
	switch (dev->cfg.layout) {
	case VQ_LAYOUT_SPLIT:
		return vq_dev_publish_split(dev);
	case VQ_LAYOUT_PACKED:
		return vq_dev_publish_packed(dev);
	}
	return 0;
}

bool vq_dev_enable_kick(struct vq_dev *dev)
{
	switch (dev->cfg.layout) {
	case VQ_LAYOUT_SPLIT:
		return vq_dev_enable_kick_split(dev);
	case VQ_LAYOUT_PACKED:
		return vq_dev_enable_kick_packed(dev);
	}
	return false;
}

void vq_dev_disable_kick(struct vq_dev *dev)
{
	switch (dev->cfg.layout) {
	case VQ_LAYOUT_SPLIT:
		vq_dev_disable_kick_split(dev);
		break;
	case VQ_LAYOUT_PACKED:
		vq_dev_disable_kick_packed(dev);
		break;
	}
}

size_t vq_dev_read(const struct vq_chain *c, size_t off, void *dst, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < c->nbufs && done < len; i++) {
		const struct vq_dev_buf *b = &c->buf[i];
		if (b->write)
			break;
		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		size_t k = b->len - off;
		if (k > len - done)
			k = len - done;
		memcpy((char *)dst + done, (const char *)b->ptr + off, k);
		done += k;
		off = 0;
	}
	return done;
}

size_t vq_dev_write(const struct vq_chain *c, size_t off, const void *src,
		    size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < c->nbufs && done < len; i++) {
		const struct vq_dev_buf *b = &c->buf[i];
		if (!b->write)
			continue;
		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		size_t k = b->len - off;
		if (k > len - done)
			k = len - done;
		memcpy((char *)b->ptr + off, (const char *)src + done, k);
		done += k;
		off = 0;
	}
	return done;
}

bool vq_dev_is_broken(const struct vq_dev *dev) { return dev->broken; }
const char *vq_dev_broken_reason(const struct vq_dev *dev) { return dev->broken_reason; }
