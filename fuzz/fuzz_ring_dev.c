/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ring_dev - the device side of both layouts fed an arbitrary
 * driver-written ring: descriptor table / packed descriptors, avail ring and
 * index, event suppression, indirect tables and buffers, and a driver that
 * keeps rewriting ring memory while the device works (the class of bugs
 * behind DPDK vhost's CVEs).
 *
 * Input: flags (layout, INDIRECT_DESC, EVENT_IDX, IN_ORDER, batched used
 * entries), queue size, the ring image, a DMA region (indirect tables and
 * buffers, reached through translate), then operations: pop chains, push
 * and publish them, patch ring memory, enable/disable kicks.
 *
 * Checked: the ring and the region are exact-size allocations, so ASan sees
 * any access outside them; every buffer of a popped chain lies inside the
 * region (its pointer is the translation of its address) and is touched
 * whole; byte counts and the readable-before-writable order of a chain hold;
 * an invalid chain returns -EINVAL with the device broken and a reason, and
 * a broken device refuses every later pop; every operation is bounded.
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz_util.h"
#include "vq.h"

#define REGION_IOVA 0x100000ull
#define REGION_MAX 4096u
#define MAX_OPS 96
#define MAX_PENDING 256

struct region {
	uint8_t *base;
	size_t len;
};

static void *translate(void *ctx, uint64_t iova, uint32_t len, int write)
{
	const struct region *r = ctx;
	(void)write;
	if (iova < REGION_IOVA || iova - REGION_IOVA > r->len || len > r->len - (iova - REGION_IOVA))
		return NULL;
	return r->base + (iova - REGION_IOVA);
}

static struct vq_chain pending[MAX_PENDING];
static uint8_t scratch[1u << 16];

static void check_chain(const struct vq_chain *c, int rc, const struct region *rg, uint32_t size)
{
	FUZZ_CHECK(c->id < size, "chain id %u, queue size %u", c->id, size);
	FUZZ_CHECK(c->ndesc >= 1 && c->ndesc <= size, "ndesc %u, queue size %u", c->ndesc, size);
	FUZZ_CHECK(c->nbufs >= 1 && c->nbufs <= VQ_DEV_MAX_SEGS, "nbufs %u", c->nbufs);
	FUZZ_CHECK(rc == 1 || c->nbufs == VQ_DEV_MAX_SEGS, "-E2BIG with only %u buffers", c->nbufs);
	uint64_t out = 0, in = 0;
	bool seen_write = false;
	volatile uint8_t sink = 0;
	for (unsigned i = 0; i < c->nbufs; i++) {
		const struct vq_dev_buf *b = &c->buf[i];
		uint8_t *p = b->ptr;
		FUZZ_CHECK(b->addr >= REGION_IOVA && p == rg->base + (b->addr - REGION_IOVA) &&
				   b->addr - REGION_IOVA <= rg->len && b->len <= rg->len - (b->addr - REGION_IOVA),
			   "buffer %u at 0x%llx+%u outside the region of %zu bytes", i,
			   (unsigned long long)b->addr, b->len, rg->len);
		FUZZ_CHECK(!(seen_write && !b->write), "readable buffer %u after a writable one", i);
		seen_write |= b->write != 0;
		if (b->write) {
			in += b->len;
			memset(p, 0xd5, b->len); /* the device writes it whole */
		} else {
			out += b->len;
			for (uint32_t k = 0; k < b->len; k++)
				sink ^= p[k]; /* and reads it whole */
		}
	}
	(void)sink;
	if (rc == 1) {
		FUZZ_CHECK(out == c->out_bytes && in == c->in_bytes, "bytes: out %llu/%u in %llu/%u",
			   (unsigned long long)out, c->out_bytes, (unsigned long long)in, c->in_bytes);
	}
	size_t n = c->out_bytes < sizeof(scratch) ? c->out_bytes : sizeof(scratch);
	FUZZ_CHECK(vq_dev_read(c, 0, scratch, n) <= n, "vq_dev_read overran");
	n = c->in_bytes < sizeof(scratch) ? c->in_bytes : sizeof(scratch);
	FUZZ_CHECK(vq_dev_write(c, 0, scratch, n) <= n, "vq_dev_write overran");
}

/* The device being fed, and the chains it popped and has not pushed. */
struct run {
	struct fz f;
	struct vq_dev *dev;
	struct region rg;
	uint32_t size;
	unsigned npend;
	bool broken;
};

/* Pop up to k chains: each valid, or the device broken with a reason. */
static void op_pop(struct run *r, unsigned k)
{
	for (unsigned i = 0; i < k; i++) {
		if (r->npend == MAX_PENDING)
			break;
		struct vq_chain *c = &pending[r->npend];
		int rc = vq_dev_pop(r->dev, c);
		FUZZ_CHECK(rc == 1 || rc == 0 || rc == -EINVAL || rc == -E2BIG, "pop returned %d", rc);
		if (r->broken)
			FUZZ_CHECK(rc == -EINVAL, "a broken device popped (%d)", rc);
		if (rc == -EINVAL) {
			FUZZ_CHECK(vq_dev_is_broken(r->dev) && vq_dev_broken_reason(r->dev),
				   "invalid chain without a broken device and a reason");
			r->broken = true;
			break;
		}
		FUZZ_CHECK(!vq_dev_is_broken(r->dev), "broken but pop returned %d", rc);
		if (rc == 0)
			break;
		check_chain(c, rc, &r->rg, r->size);
		r->npend++;
	}
}

/* Push the k oldest popped chains, then publish. */
static void op_push(struct run *r, unsigned k)
{
	unsigned i = 0;
	for (; i < k && i < r->npend; i++) {
		const struct vq_chain *c = &pending[i];
		uint32_t len = c->in_bytes ? fz_u32(&r->f) % (c->in_bytes + 1) : 0;
		int rc = vq_dev_push(r->dev, c, len);
		FUZZ_CHECK(rc == 0 || (r->broken && rc == -EINVAL), "push returned %d", rc);
	}
	memmove(pending, pending + i, (r->npend - i) * sizeof(pending[0]));
	r->npend -= i;
	int p = vq_dev_publish(r->dev);
	FUZZ_CHECK(p == 0 || p == 1, "publish returned %d", p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r = { .f = { data, size } };
	struct fz *f = &r.f;
	uint8_t fl = fz_u8(f), sz = fz_u8(f);
	bool packed = fl & 1;
	struct vq_config cfg = {
		.layout = packed ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT,
		.size = packed ? sz % 128u + 1 : 1u << (sz % 8),
		.features = VQ_FEATURE(VQ_F_VERSION_1) | (packed ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) |
			    (fl & 2 ? VQ_FEATURE(VQ_F_INDIRECT_DESC) : 0) |
			    (fl & 4 ? VQ_FEATURE(VQ_F_EVENT_IDX) : 0) | (fl & 8 ? VQ_FEATURE(VQ_F_IN_ORDER) : 0),
	};
	struct vq_areas a;
	FUZZ_CHECK(vq_ring_layout(&cfg, &a) == 0, "layout of size %u refused", cfg.size);
	r.size = cfg.size;
	void *ring = NULL;
	FUZZ_CHECK(posix_memalign(&ring, 64, a.total) == 0, "out of memory");
	fz_bytes(f, ring, a.total);
	r.rg = (struct region){ NULL, fz_u16(f) % (REGION_MAX + 1) };
	r.rg.base = malloc(r.rg.len ? r.rg.len : 1);
	FUZZ_CHECK(r.rg.base, "out of memory");
	fz_bytes(f, r.rg.base, r.rg.len);

	FUZZ_CHECK(vq_dev_create(&cfg, ring, translate, &r.rg, &r.dev) == 0, "vq_dev_create");
	vq_dev_set_batch_used(r.dev, fl & 16);
	for (unsigned op = 0; op < MAX_OPS && fz_left(f); op++) {
		uint8_t o = fz_u8(f);
		switch (o % 4) {
		case 0: /* pop up to 8 chains */
			op_pop(&r, o / 4 % 8 + 1);
			break;
		case 1: /* push the oldest popped chains, then publish */
			op_push(&r, o / 4 % 8 + 1);
			break;
		case 2: { /* the driver rewrites ring memory */
			size_t off = fz_u16(f) % a.total, n = fz_u8(f) % 32;
			if (n > a.total - off)
				n = a.total - off;
			fz_bytes(f, (uint8_t *)ring + off, n);
			break;
		}
		case 3:
			if (o & 4)
				vq_dev_enable_kick(r.dev);
			else
				vq_dev_disable_kick(r.dev);
			break;
		}
	}
	vq_dev_destroy(r.dev);
	free(r.rg.base);
	free(ring);
	return 0;
}
