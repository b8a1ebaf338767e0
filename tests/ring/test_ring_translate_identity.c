/* SPDX-License-Identifier: MIT */
/*
 * test_ring_translate_identity: vq_dev_set_translate_identity() on both
 * layouts. With it, pop hands out each buffer's address as its pointer
 * without calling translate; a range that wraps the address space still
 * goes to translate, which refuses it, and the device breaks naming the
 * address, as without the shortcut. Without it, translate sees every
 * buffer.
 */
#include <errno.h>
#include <stdio.h>

#include "ring_util.h"

#define QSZ 8

struct counting {
	unsigned long calls, refused;
};

/* An identity translate that refuses what dma_translate refuses (an empty
 * or wrapping range), counting calls and refusals. */
static void *counting_translate(void *ctx, uint64_t iova, uint32_t len, int write)
{
	struct counting *c = ctx;
	(void)write;
	c->calls++;
	if (!len || iova + len - 1 < iova || (uint64_t)(uintptr_t)iova != iova) {
		c->refused++;
		return NULL;
	}
	return (void *)(uintptr_t)iova;
}

static void one_layout(enum vq_layout l, bool identity)
{
	const char *name = layout_name(l);
	uint64_t f = l == VQ_LAYOUT_PACKED ? VQ_FEATURE(VQ_F_RING_PACKED) : 0;
	struct vq_config cfg = {l, QSZ, f};
	struct vq_areas a;
	void *m = ring_alloc(&cfg, &a);
	static unsigned char buf[256];
	struct counting cnt = {0, 0};
	struct vq *vq;
	struct vq_dev *dev;
	REQ1(vq_create(&cfg, m, &vq) == 0, "%s: create", name);
	REQ1(vq_dev_create(&cfg, m, counting_translate, &cnt, &dev) == 0, "%s: dev", name);
	vq_dev_set_translate_identity(dev, identity);

	int tok[2];
	struct vq_sg sg[2] = {{iova_of(buf), 64, 0}, {iova_of(buf + 64), 128, 1}};
	REQ1(vq_add(vq, sg, 2, &tok[0], NULL, NULL) >= 0, "%s: add", name);
	vq_kick_prepare(vq);
	struct vq_chain ch;
	REQ1(vq_dev_pop(dev, &ch) == 1, "%s: pop of a valid chain", name);
	REQ1(ch.nbufs == 2 && ch.buf[0].ptr == buf && ch.buf[1].ptr == buf + 64 &&
		     ch.out_bytes == 64 && ch.in_bytes == 128,
	     "%s: buffers %u, pointers %p %p, bytes %u/%u", name, ch.nbufs, ch.buf[0].ptr,
	     ch.buf[1].ptr, ch.out_bytes, ch.in_bytes);
	REQ1(cnt.calls == (identity ? 0u : 2u), "%s identity=%d: translate called %lu times, want %u",
	     name, identity, cnt.calls, identity ? 0u : 2u);

	/* a range that wraps: translate must see it and refuse it */
	struct vq_sg bad = {UINT64_MAX - 7, 16, 0};
	REQ1(vq_add(vq, &bad, 1, &tok[1], NULL, NULL) >= 0, "%s: add of the wrapping chain", name);
	vq_kick_prepare(vq);
	unsigned long before = cnt.calls;
	REQ1(vq_dev_pop(dev, &ch) == -EINVAL, "%s: pop of a wrapping range must fail", name);
	REQ1(cnt.calls == before + 1 && cnt.refused == 1, "%s: translate calls %lu -> %lu, refused %lu",
	     name, before, cnt.calls, cnt.refused);
	REQ1(vq_dev_is_broken(dev) && strstr(vq_dev_broken_reason(dev), "not translatable"),
	     "%s: device reason '%s'", name, vq_dev_broken_reason(dev) ? vq_dev_broken_reason(dev) : "(none)");
	vq_dev_destroy(dev);
	vq_destroy(vq);
	free(m);
}

int main(void)
{
	for (int id = 0; id < 2; id++) {
		one_layout(VQ_LAYOUT_SPLIT, id);
		one_layout(VQ_LAYOUT_PACKED, id);
	}
	printf("test_ring_translate_identity: ok\n");
	return 0;
}
