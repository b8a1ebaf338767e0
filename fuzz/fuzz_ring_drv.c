/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ring_drv - the driver side of both layouts, with every tracking
 * policy, fed an arbitrary device: forged used entries (split used ring and
 * index, packed used descriptors: id, len, flags, wrap) written between the
 * driver's calls, mixed with a well-behaved device (vq_dev) completing real
 * chains, and with dma_map failures injected at a chosen call.
 *
 * Input: flags (layout, INDIRECT_DESC, EVENT_IDX, IN_ORDER, batched used
 * entries), queue size, policy, fault injection (fail_map_at, count), then
 * operations: add a chain, publish, let the real device complete chains,
 * forge device writes, reap, enable/disable callbacks.
 *
 * Checked, through the debug DMA backend (identity for skip, which debug
 * refuses):
 *   - a failed vq_track_add leaves the live mappings and the free
 *     descriptors exactly as before (the chain rolled back);
 *   - every token vq_track_get_used returns is in flight and comes back
 *     once (no double free), with a length within its writable bytes;
 *   - -EIO means the queue is broken with a reason, and stays broken;
 *   - after the device is gone, vq_track_detach returns every token still
 *     in flight exactly once, the queue has all its descriptors back, and
 *     once the tracking layer is destroyed no mapping is live and debug saw
 *     no unmap misuse (skip: nothing unmapped by design; readback after the
 *     device rewrote its descriptor table: trusts that memory, so only the
 *     tokens are checked);
 *   - ring memory is an exact-size allocation: ASan sees any stray access.
 */
#include <errno.h>
#include <stdbool.h>

#include "dma.h"
#include "fuzz_util.h"
#include "vq_track.h"

#define NBUFS 64
#define BUF_SIZE 256
#define MAX_TOKENS 512
#define MAX_OPS 128

struct tok {
	bool inflight;
	uint32_t in_bytes;
};

static struct tok toks[MAX_TOKENS];

/* The device's view of memory: live mappings only (through the backend).
 * What dma_translate refuses before asking the backend (zero length, a
 * range that wraps) is refused here, so debug's reports count exactly the
 * device accesses it refused. */
static void *dev_translate(void *ctx, uint64_t iova, uint32_t len, int write)
{
	if (!len || iova + len - 1 < iova)
		return NULL;
	return dma_translate(ctx, iova, len, write ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
}

static void take(void *token, uint32_t len, bool used)
{
	struct tok *k = token;
	FUZZ_CHECK(k >= toks && k < toks + MAX_TOKENS, "token %p is not one of ours", token);
	FUZZ_CHECK(k->inflight, "token %td came back twice (double free)", k - toks);
	if (used)
		FUZZ_CHECK(len <= k->in_bytes, "token %td: used len %u > %u writable bytes", k - toks, len,
			   k->in_bytes);
	k->inflight = false;
}

/* One input's run: the queue, its device and tracking, and what the
 * operations so far did to them. */
struct run {
	struct fz f;
	uint8_t fl;
	bool packed;
	enum vq_policy pol;
	uint8_t fail_at;   /* dma_map call that fails first (0: none) */
	struct vq_config cfg;
	struct vq_areas a;
	void *ring, *arena;
	struct dma *d;
	struct vq *vq;
	struct vq_dev *dev;
	struct vq_track *t;
	unsigned ntok;
	bool broken, desc_patched, forged;
};

/* Add one chain; a failed add must leave mappings and free descriptors
 * exactly as before. */
static void op_add(struct run *r, uint8_t o)
{
	struct fz *f = &r->f;
	struct dma_counters c;
	if (r->ntok == MAX_TOKENS)
		return;
	struct vq_buf b[VQ_MAX_CHAIN];
	unsigned n = (o >> 3) % 8 + 1, nw = fz_u8(f) % (n + 1);
	uint32_t in = 0;
	for (unsigned i = 0; i < n; i++) {
		uint8_t bi = fz_u8(f), off = fz_u8(f) % 128;
		b[i].cpu = (char *)r->arena + (size_t)(bi % NBUFS) * BUF_SIZE + off;
		b[i].len = fz_u8(f) % 128 + 1;
		b[i].write = i >= n - nw;
		if (b[i].write)
			in += b[i].len;
	}
	bool ind = (o & 4) && (r->fl & 2);
	dma_get_counters(r->d, &c);
	uint64_t live = c.live;
	unsigned nfree = vq_num_free(r->vq);
	toks[r->ntok] = (struct tok){ true, in };
	int rc = vq_track_add(r->t, b, n, &toks[r->ntok], ind);
	dma_get_counters(r->d, &c);
	if (rc >= 0) {
		r->ntok++;
		return;
	}
	toks[r->ntok].inflight = false;
	FUZZ_CHECK(rc == -ENOSPC || rc == -ENOMEM || rc == -EIO || rc == -ERANGE,
		   "vq_track_add returned %d: %s", rc, vq_track_last_error());
	FUZZ_CHECK(c.live == live && vq_num_free(r->vq) == nfree,
		   "failed add (%d) left live %llu -> %llu, free %u -> %u", rc,
		   (unsigned long long)live, (unsigned long long)c.live, nfree, vq_num_free(r->vq));
	FUZZ_CHECK(rc != -EIO || r->broken || vq_is_broken(r->vq), "-EIO on a healthy queue");
}

/* The real device completes up to 8 chains. */
static void op_complete(struct run *r, uint8_t o)
{
	static struct vq_chain popped[64];
	unsigned k = (o >> 3) % 8 + 1, np = 0;
	/* identity (skip) translates any address: once the ring holds forged
	 * entries the device must not follow them */
	if (r->forged && r->pol == VQ_POLICY_SKIP)
		return;
	while (np < k && vq_dev_pop(r->dev, &popped[np]) == 1)
		np++;
	for (unsigned i = 0; i < np; i++) {
		uint32_t len = popped[i].in_bytes ? fz_u8(&r->f) % (popped[i].in_bytes + 1) : 0;
		vq_dev_push(r->dev, &popped[i], len);
	}
	vq_dev_publish(r->dev);
}

/* The device forges what it may write. */
static void op_forge(struct run *r, uint8_t o)
{
	size_t lo, len;
	if (r->packed) {
		bool ev = o & 8;
		lo = ev ? r->a.device_off : r->a.desc_off;
		len = ev ? r->a.device_len : r->a.desc_len;
	} else if (o & 8) {
		lo = r->a.desc_off; /* the device rewrites the descriptor table */
		len = r->a.desc_len;
		r->desc_patched = true;
	} else {
		lo = r->a.device_off;
		len = r->a.device_len;
	}
	size_t off = fz_u16(&r->f) % len, n = fz_u8(&r->f) % 17;
	r->forged = true;
	if (n > len - off)
		n = len - off;
	fz_bytes(&r->f, (uint8_t *)r->ring + lo + off, n);
}

/* Reap: every token once, in flight, within its writable bytes; -EIO
 * only with a reason. */
static void op_reap(struct run *r)
{
	for (unsigned i = 0; i < r->cfg.size + 2; i++) {
		void *token;
		uint32_t len;
		int rc = vq_track_get_used(r->t, &token, &len);
		if (rc == 1) {
			FUZZ_CHECK(!r->broken, "a broken queue returned a chain");
			take(token, len, true);
			continue;
		}
		FUZZ_CHECK(rc == 0 || rc == -EIO, "get_used returned %d", rc);
		if (rc == -EIO) {
			FUZZ_CHECK(vq_is_broken(r->vq) && vq_broken_reason(r->vq), "-EIO without a reason");
			r->broken = true;
		}
		break;
	}
}

static void run_ops(struct run *r)
{
	for (unsigned op = 0; op < MAX_OPS && fz_left(&r->f); op++) {
		uint8_t o = fz_u8(&r->f);
		int rc;
		switch (o % 6) {
		case 0:
			op_add(r, o);
			break;
		case 1:
			rc = vq_track_kick_prepare(r->t);
			FUZZ_CHECK(rc == 0 || rc == 1 || (rc == -EIO && vq_is_broken(r->vq)), "kick_prepare %d", rc);
			break;
		case 2:
			op_complete(r, o);
			break;
		case 3:
			op_forge(r, o);
			break;
		case 4:
			op_reap(r);
			break;
		case 5:
			if (o & 8)
				vq_enable_cb(r->vq);
			else
				vq_disable_cb(r->vq);
			break;
		}
		if (r->broken)
			FUZZ_CHECK(vq_is_broken(r->vq), "the queue healed itself");
	}
}

/* The device is gone (reset): every chain still in flight comes back,
 * and once the tracking layer is destroyed nothing is live. */
static void detach_all(struct run *r)
{
	struct dma_counters c;
	vq_dev_destroy(r->dev);
	r->dev = NULL;
	void *token;
	unsigned detached = 0;
	while (vq_track_detach(r->t, &token) == 1) {
		take(token, 0, false);
		FUZZ_CHECK(++detached <= r->cfg.size, "detach returned more chains than the queue holds");
	}
	for (unsigned i = 0; i < r->ntok; i++)
		FUZZ_CHECK(!toks[i].inflight, "token %u never came back", i);
	FUZZ_CHECK(vq_num_free(r->vq) == r->cfg.size, "%u of %u descriptors free after detach",
		   vq_num_free(r->vq), r->cfg.size);
	vq_track_destroy(r->t);
	r->t = NULL;
	dma_get_counters(r->d, &c);
	if (r->pol != VQ_POLICY_SKIP && !(r->pol == VQ_POLICY_READBACK && r->desc_patched)) {
		FUZZ_CHECK(c.live == 0, "%llu mappings live after detach and destroy (policy %s)",
			   (unsigned long long)c.live, vq_policy_name(r->pol));
		FUZZ_CHECK(c.debug_reports == c.faults, "debug: %llu reports, %llu of them device faults (%s)",
			   (unsigned long long)c.debug_reports, (unsigned long long)c.faults, dma_last_error());
	}
}

/* The input's head: flags, queue size, policy, fault injection; the ring
 * and buffer memory and the DMA backend. */
static void run_setup(struct run *r)
{
	uint8_t sz;
	r->fl = fz_u8(&r->f);
	sz = fz_u8(&r->f);
	r->pol = (enum vq_policy)(fz_u8(&r->f) % VQ_POLICY_COUNT);
	r->fail_at = fz_u8(&r->f);
	uint8_t fail_n = fz_u8(&r->f);
	uint8_t fl = r->fl;
	r->packed = fl & 1;
	r->cfg = (struct vq_config){
		.layout = r->packed ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT,
		.size = r->packed ? sz % 64u + 1 : 1u << (sz % 7),
		.features = VQ_FEATURE(VQ_F_VERSION_1) | (r->packed ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) |
			    (fl & 2 ? VQ_FEATURE(VQ_F_INDIRECT_DESC) : 0) |
			    (fl & 4 ? VQ_FEATURE(VQ_F_EVENT_IDX) : 0) | (fl & 8 ? VQ_FEATURE(VQ_F_IN_ORDER) : 0),
	};
	if (r->pol == VQ_POLICY_READBACK && r->packed)
		r->pol = VQ_POLICY_FULL; /* refused on packed: not interesting */
	FUZZ_CHECK(vq_ring_layout(&r->cfg, &r->a) == 0, "layout");
	FUZZ_CHECK(posix_memalign(&r->ring, 64, r->a.total) == 0 &&
		   posix_memalign(&r->arena, 4096, NBUFS * BUF_SIZE) == 0, "out of memory");
	memset(r->ring, 0, r->a.total);
	memset(r->arena, 0x3c, NBUFS * BUF_SIZE);

	/* a 16-entry debug table that grows when full (so the growth path
	 * runs too): the kernel's 65536 preallocated entries per input cut
	 * this harness to ~25 runs/s, and even 256 entries (512 slots, walked
	 * at close for leaks) were a quarter of the instructions per input */
	struct dma_params dp = { .vfio_container_fd = -1, .fail_map_at = r->fail_at, .fail_map_count = fail_n % 4,
				 .debug_entries = 16 };
	FUZZ_CHECK(dma_open(r->pol == VQ_POLICY_SKIP ? "identity" : "debug", &dp, &r->d) == 0, "dma_open: %s",
		   dma_last_error());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r = { .f = { data, size } };
	struct dma_counters c;

	run_setup(&r);
	FUZZ_CHECK(vq_create(&r.cfg, r.ring, &r.vq) == 0, "vq_create");
	FUZZ_CHECK(vq_dev_create(&r.cfg, r.ring, dev_translate, r.d, &r.dev) == 0, "vq_dev_create");
	vq_dev_set_batch_used(r.dev, r.fl & 16);
	struct vq_track_params tp = { .policy = r.pol, .arena = r.arena, .arena_len = NBUFS * BUF_SIZE,
				      .buf_size = BUF_SIZE };
	int rc = vq_track_create(r.vq, r.d, &tp, &r.t);
	if (rc < 0) {
		/* -ENOSPC: premapped's arena ran the (injected) DMA resource out */
		FUZZ_CHECK(r.pol == VQ_POLICY_PREMAPPED && rc == -ENOSPC && r.fail_at,
			   "vq_track_create failed (%d): %s", rc, vq_track_last_error());
		dma_get_counters(r.d, &c);
		FUZZ_CHECK(c.live == 0, "a failed create left %llu mappings live", (unsigned long long)c.live);
	} else {
		memset(toks, 0, sizeof(toks));
		run_ops(&r);
		detach_all(&r);
	}
	vq_track_destroy(r.t);
	vq_dev_destroy(r.dev);
	vq_destroy(r.vq);
	dma_close(r.d);
	free(r.arena);
	free(r.ring);
	return 0;
}
