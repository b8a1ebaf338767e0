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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	uint8_t fl = fz_u8(&f), sz = fz_u8(&f);
	enum vq_policy pol = (enum vq_policy)(fz_u8(&f) % VQ_POLICY_COUNT);
	uint8_t fail_at = fz_u8(&f), fail_n = fz_u8(&f);
	bool packed = fl & 1;
	struct vq_config cfg = {
		.layout = packed ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT,
		.size = packed ? sz % 64u + 1 : 1u << (sz % 7),
		.features = VQ_FEATURE(VQ_F_VERSION_1) | (packed ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) |
			    (fl & 2 ? VQ_FEATURE(VQ_F_INDIRECT_DESC) : 0) |
			    (fl & 4 ? VQ_FEATURE(VQ_F_EVENT_IDX) : 0) | (fl & 8 ? VQ_FEATURE(VQ_F_IN_ORDER) : 0),
	};
	if (pol == VQ_POLICY_READBACK && packed)
		pol = VQ_POLICY_FULL; /* refused on packed: not interesting */
	struct vq_areas a;
	FUZZ_CHECK(vq_ring_layout(&cfg, &a) == 0, "layout");
	void *ring = NULL, *arena = NULL;
	FUZZ_CHECK(posix_memalign(&ring, 64, a.total) == 0 && posix_memalign(&arena, 4096, NBUFS * BUF_SIZE) == 0,
		   "out of memory");
	memset(ring, 0, a.total);
	memset(arena, 0x3c, NBUFS * BUF_SIZE);

	/* a 16-entry debug table that grows when full (so the growth path
	 * runs too): the kernel's 65536 preallocated entries per input cut
	 * this harness to ~25 runs/s, and even 256 entries (512 slots, walked
	 * at close for leaks) were a quarter of the instructions per input */
	struct dma_params dp = { .vfio_container_fd = -1, .fail_map_at = fail_at, .fail_map_count = fail_n % 4,
				 .debug_entries = 16 };
	struct dma *d;
	FUZZ_CHECK(dma_open(pol == VQ_POLICY_SKIP ? "identity" : "debug", &dp, &d) == 0, "dma_open: %s",
		   dma_last_error());
	struct vq *vq;
	struct vq_dev *dev;
	struct vq_track *t = NULL;
	FUZZ_CHECK(vq_create(&cfg, ring, &vq) == 0, "vq_create");
	FUZZ_CHECK(vq_dev_create(&cfg, ring, dev_translate, d, &dev) == 0, "vq_dev_create");
	vq_dev_set_batch_used(dev, fl & 16);
	struct vq_track_params tp = { .policy = pol, .arena = arena, .arena_len = NBUFS * BUF_SIZE,
				      .buf_size = BUF_SIZE };
	int rc = vq_track_create(vq, d, &tp, &t);
	struct dma_counters c;
	if (rc < 0) {
		FUZZ_CHECK(pol == VQ_POLICY_PREMAPPED && rc == -ENOMEM && fail_at,
			   "vq_track_create failed (%d): %s", rc, vq_track_last_error());
		dma_get_counters(d, &c);
		FUZZ_CHECK(c.live == 0, "a failed create left %llu mappings live", (unsigned long long)c.live);
		goto out;
	}
	memset(toks, 0, sizeof(toks));
	unsigned ntok = 0;
	bool broken = false, desc_patched = false, forged = false;
	static struct vq_chain popped[64];
	for (unsigned op = 0; op < MAX_OPS && fz_left(&f); op++) {
		uint8_t o = fz_u8(&f);
		switch (o % 6) {
		case 0: { /* add one chain */
			if (ntok == MAX_TOKENS)
				break;
			struct vq_buf b[VQ_MAX_CHAIN];
			unsigned n = (o >> 3) % 8 + 1, nw = fz_u8(&f) % (n + 1);
			uint32_t in = 0;
			for (unsigned i = 0; i < n; i++) {
				uint8_t bi = fz_u8(&f), off = fz_u8(&f) % 128;
				b[i].cpu = (char *)arena + (size_t)(bi % NBUFS) * BUF_SIZE + off;
				b[i].len = fz_u8(&f) % 128 + 1;
				b[i].write = i >= n - nw;
				if (b[i].write)
					in += b[i].len;
			}
			bool ind = (o & 4) && (fl & 2);
			dma_get_counters(d, &c);
			uint64_t live = c.live;
			unsigned nfree = vq_num_free(vq);
			toks[ntok] = (struct tok){ true, in };
			rc = vq_track_add(t, b, n, &toks[ntok], ind);
			dma_get_counters(d, &c);
			if (rc >= 0) {
				ntok++;
				break;
			}
			toks[ntok].inflight = false;
			FUZZ_CHECK(rc == -ENOSPC || rc == -ENOMEM || rc == -EIO || rc == -ERANGE,
				   "vq_track_add returned %d: %s", rc, vq_track_last_error());
			FUZZ_CHECK(c.live == live && vq_num_free(vq) == nfree,
				   "failed add (%d) left live %llu -> %llu, free %u -> %u", rc,
				   (unsigned long long)live, (unsigned long long)c.live, nfree, vq_num_free(vq));
			FUZZ_CHECK(rc != -EIO || broken || vq_is_broken(vq), "-EIO on a healthy queue");
			break;
		}
		case 1:
			rc = vq_track_kick_prepare(t);
			FUZZ_CHECK(rc == 0 || rc == 1 || (rc == -EIO && vq_is_broken(vq)), "kick_prepare %d", rc);
			break;
		case 2: { /* the real device completes up to 8 chains */
			unsigned k = (o >> 3) % 8 + 1, np = 0;
			/* identity (skip) translates any address: once the ring
			 * holds forged entries the device must not follow them */
			if (forged && pol == VQ_POLICY_SKIP)
				break;
			while (np < k && vq_dev_pop(dev, &popped[np]) == 1)
				np++;
			for (unsigned i = 0; i < np; i++) {
				uint32_t len = popped[i].in_bytes ? fz_u8(&f) % (popped[i].in_bytes + 1) : 0;
				vq_dev_push(dev, &popped[i], len);
			}
			vq_dev_publish(dev);
			break;
		}
		case 3: { /* the device forges what it may write */
			size_t lo, len;
			if (packed) {
				bool ev = o & 8;
				lo = ev ? a.device_off : a.desc_off;
				len = ev ? a.device_len : a.desc_len;
			} else if (o & 8) {
				lo = a.desc_off; /* the device rewrites the descriptor table */
				len = a.desc_len;
				desc_patched = true;
			} else {
				lo = a.device_off;
				len = a.device_len;
			}
			size_t off = fz_u16(&f) % len, n = fz_u8(&f) % 17;
			forged = true;
			if (n > len - off)
				n = len - off;
			fz_bytes(&f, (uint8_t *)ring + lo + off, n);
			break;
		}
		case 4: /* reap */
			for (unsigned i = 0; i < cfg.size + 2; i++) {
				void *token;
				uint32_t len;
				rc = vq_track_get_used(t, &token, &len);
				if (rc == 1) {
					FUZZ_CHECK(!broken, "a broken queue returned a chain");
					take(token, len, true);
					continue;
				}
				FUZZ_CHECK(rc == 0 || rc == -EIO, "get_used returned %d", rc);
				if (rc == -EIO) {
					FUZZ_CHECK(vq_is_broken(vq) && vq_broken_reason(vq), "-EIO without a reason");
					broken = true;
				}
				break;
			}
			break;
		case 5:
			if (o & 8)
				vq_enable_cb(vq);
			else
				vq_disable_cb(vq);
			break;
		}
		if (broken)
			FUZZ_CHECK(vq_is_broken(vq), "the queue healed itself");
	}
	/* The device is gone (reset): every chain still in flight comes back. */
	vq_dev_destroy(dev);
	dev = NULL;
	void *token;
	unsigned detached = 0;
	while (vq_track_detach(t, &token) == 1) {
		take(token, 0, false);
		FUZZ_CHECK(++detached <= cfg.size, "detach returned more chains than the queue holds");
	}
	for (unsigned i = 0; i < ntok; i++)
		FUZZ_CHECK(!toks[i].inflight, "token %u never came back", i);
	FUZZ_CHECK(vq_num_free(vq) == cfg.size, "%u of %u descriptors free after detach", vq_num_free(vq),
		   cfg.size);
	vq_track_destroy(t);
	t = NULL;
	dma_get_counters(d, &c);
	if (pol != VQ_POLICY_SKIP && !(pol == VQ_POLICY_READBACK && desc_patched)) {
		FUZZ_CHECK(c.live == 0, "%llu mappings live after detach and destroy (policy %s)",
			   (unsigned long long)c.live, vq_policy_name(pol));
		FUZZ_CHECK(c.debug_reports == c.faults, "debug: %llu reports, %llu of them device faults (%s)",
			   (unsigned long long)c.debug_reports, (unsigned long long)c.faults, dma_last_error());
	}
out:
	vq_track_destroy(t);
	vq_dev_destroy(dev);
	vq_destroy(vq);
	dma_close(d);
	free(arena);
	free(ring);
	return 0;
}
