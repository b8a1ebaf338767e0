/* SPDX-License-Identifier: MIT */
/*
 * test_fault_map: dma_map failures while chains are added, for every
 * policy that maps, on split and packed, direct and indirect:
 *   - the k-th dma_map fails (dma_params.fail_map_at), swept over every k
 *     of a scenario, through debug over identity, iommu and bounce;
 *   - the IOVA space runs out (iommu with dma_params.iova_pages tiny);
 *   - the bounce pool runs out (bounce with a 16 KiB pool).
 * Each time: the add returns -ENOMEM and names the backend and the cause;
 * the chain is rolled back (live mappings and free descriptors exactly as
 * before, nothing added); the queue keeps working (the chain goes in once
 * completions free room); at the end every token came back once, no mapping
 * is live and debug saw no misuse.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "dma.h"
#include "vq_track.h"
#include "vqb_test.h"

#define QSZ 16
#define NBUFS 64
#define BUF 256
#define CHAIN 3
#define NCHAINS 24

struct scen {
	enum vq_layout layout;
	enum vq_policy pol;
	bool indirect;
	const char *inner;   /* debug wraps it */
	struct dma_params dp;
	const char *cause;   /* expected in the error text ("injected", ...) */
};

struct outcome {
	uint64_t maps;       /* dma_map calls made */
	unsigned enomem;     /* adds (or the create) that failed with -ENOMEM */
	unsigned done;       /* chains completed */
	bool create_failed;
};

static void *dev_translate(void *ctx, uint64_t iova, uint32_t len, int write)
{
	return dma_translate(ctx, iova, len, write ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
}

static const char *scen_name(const struct scen *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s%s debug(%s) fail_at %llu iova_pages %llu pool %zu",
		 s->layout == VQ_LAYOUT_SPLIT ? "split" : "packed", vq_policy_name(s->pol),
		 s->indirect ? " indirect" : "", s->inner, (unsigned long long)s->dp.fail_map_at,
		 (unsigned long long)s->dp.iova_pages, s->dp.bounce_pool_bytes);
	return buf;
}

static void run(const struct scen *s, struct outcome *o)
{
	char name[200];
	scen_name(s, name, sizeof(name));
	memset(o, 0, sizeof(*o));
	struct vq_config cfg = {
		.layout = s->layout,
		.size = QSZ,
		.features = VQ_FEATURE(VQ_F_VERSION_1) | VQ_FEATURE(VQ_F_INDIRECT_DESC) |
			    (s->layout == VQ_LAYOUT_PACKED ? VQ_FEATURE(VQ_F_RING_PACKED) : 0),
	};
	struct vq_areas a;
	REQUIRE(vq_ring_layout(&cfg, &a) == 0, "%s: layout", name);
	void *ring = NULL, *arena = NULL;
	REQUIRE(posix_memalign(&ring, 64, a.total) == 0 && posix_memalign(&arena, 4096, NBUFS * BUF) == 0,
		"%s: memory", name);
	memset(ring, 0, a.total);
	struct dma_params dp = s->dp;
	dp.inner = s->inner;
	dp.vfio_container_fd = -1;
	/* a small debug table (it grows when full): this test opens hundreds
	 * of devices, and 65536 entries each made it crawl under TSan */
	dp.debug_entries = 256;
	struct dma *d;
	REQUIRE(dma_open("debug", &dp, &d) == 0, "%s: dma_open: %s", name, dma_last_error());
	struct vq *vq;
	struct vq_dev *dev;
	struct vq_track *t = NULL;
	REQUIRE(vq_create(&cfg, ring, &vq) == 0 && vq_dev_create(&cfg, ring, dev_translate, d, &dev) == 0,
		"%s: create", name);
	struct vq_track_params tp = { .policy = s->pol, .arena = arena, .arena_len = NBUFS * BUF, .buf_size = BUF };
	struct dma_counters c;
	int rc = vq_track_create(vq, d, &tp, &t);
	if (rc < 0) {
		dma_get_counters(d, &c);
		/* -ENOSPC: a DMA resource ran out mapping the arena (exhausted) */
		CHECK(rc == -ENOSPC && s->pol == VQ_POLICY_PREMAPPED, "%s: create failed with %d", name, rc);
		CHECK(strstr(vq_track_last_error(), "debug") && strstr(vq_track_last_error(), s->cause),
		      "%s: create error names neither backend nor cause: %s", name, vq_track_last_error());
		CHECK(c.live == 0, "%s: failed create left %llu live mappings", name, (unsigned long long)c.live);
		o->create_failed = true;
		o->enomem = 1;
		goto out;
	}
	bool inflight[NCHAINS] = { false }, returned[NCHAINS] = { false };
	unsigned next = 0;
	for (unsigned round = 0; round < 64 && o->done < NCHAINS; round++) {
		/* add chains until the ring is full or a map fails */
		while (next < NCHAINS) {
			struct vq_buf b[CHAIN];
			for (unsigned k = 0; k < CHAIN; k++) {
				b[k].cpu = (char *)arena + (size_t)((next * CHAIN + k) % NBUFS) * BUF;
				b[k].len = k == 0 ? 12 : 100;
				b[k].write = k == CHAIN - 1;
			}
			dma_get_counters(d, &c);
			uint64_t live = c.live;
			unsigned nfree = vq_num_free(vq);
			struct vq_stats st0, st1;
			vq_get_stats(vq, &st0);
			rc = vq_track_add(t, b, CHAIN, &inflight[next], s->indirect);
			if (rc >= 0) {
				inflight[next++] = true;
				continue;
			}
			dma_get_counters(d, &c);
			vq_get_stats(vq, &st1);
			CHECK(rc == -ENOSPC || rc == -ENOMEM, "%s: add returned %d: %s", name, rc, vq_track_last_error());
			CHECK(c.live == live && vq_num_free(vq) == nfree && st1.added == st0.added,
			      "%s: chain %u not rolled back: live %llu -> %llu, free %u -> %u", name, next,
			      (unsigned long long)live, (unsigned long long)c.live, nfree, vq_num_free(vq));
			if (rc == -ENOMEM) {
				o->enomem++;
				CHECK(strstr(vq_track_last_error(), "'debug'") &&
				      strstr(vq_track_last_error(), s->cause),
				      "%s: the error names neither backend nor cause: %s", name, vq_track_last_error());
			}
			break;
		}
		vq_track_kick_prepare(t);
		struct vq_chain ch;
		while (vq_dev_pop(dev, &ch) == 1) {
			CHECK(vq_dev_write(&ch, 0, "xxxxxxxx", 8) == 8, "%s: device write", name);
			vq_dev_push(dev, &ch, 8);
		}
		vq_dev_publish(dev);
		void *tok;
		uint32_t len;
		while ((rc = vq_track_get_used(t, &tok, &len)) == 1) {
			bool *p = tok;
			unsigned i = (unsigned)(p - inflight);
			CHECK(i < NCHAINS && *p && !returned[i], "%s: token %u returned twice or never added", name, i);
			*p = false;
			returned[i] = true;
			o->done++;
		}
		CHECK(rc == 0, "%s: get_used %d (%s)", name, rc, vq_broken_reason(vq));
	}
	CHECK(o->done == NCHAINS, "%s: %u of %d chains completed (the queue stopped working)", name, o->done,
	      NCHAINS);
	void *tok;
	while (vq_track_detach(t, &tok) == 1)
		CHECK(0, "%s: a chain was still in flight", name);
out:
	vq_track_destroy(t);
	dma_get_counters(d, &c);
	o->maps = c.maps + c.map_errors;
	CHECK(c.live == 0, "%s: %llu mappings live at the end", name, (unsigned long long)c.live);
	CHECK(c.debug_reports == 0, "%s: %llu debug reports (%s)", name, (unsigned long long)c.debug_reports,
	      dma_last_error());
	vq_dev_destroy(dev);
	vq_destroy(vq);
	dma_close(d);
	free(arena);
	free(ring);
}

int main(void)
{
	static const enum vq_policy pols[] = { VQ_POLICY_FULL, VQ_POLICY_COMPACT, VQ_POLICY_READBACK,
					       VQ_POLICY_PREMAPPED, VQ_POLICY_DRIVER_ARRAY, VQ_POLICY_RETRIEVE,
					       VQ_POLICY_ADAPTIVE };
	static const char *const inners[] = { "identity", "iommu", "bounce" };
	unsigned long cases = 0, sweeps = 0;
	struct outcome o;

	/* 1. the k-th dma_map fails, every k of the scenario */
	for (unsigned l = 0; l < 2; l++)
		for (size_t p = 0; p < sizeof(pols) / sizeof(pols[0]); p++)
			for (unsigned ind = 0; ind < 2; ind++)
				for (size_t in = 0; in < 3; in++) {
					if (l == VQ_LAYOUT_PACKED && pols[p] == VQ_POLICY_READBACK)
						continue;
					struct scen s = { (enum vq_layout)l, pols[p], ind, inners[in], { .bounce_pool_bytes = 1u << 20 },
							  "injected" };
					run(&s, &o); /* no fault: how many maps it makes */
					CHECK(o.enomem == 0 && o.done == NCHAINS, "clean run of %s failed",
					      vq_policy_name(pols[p]));
					uint64_t m = o.maps;
					for (uint64_t k = 1; k <= m; k++) {
						s.dp.fail_map_at = k;
						run(&s, &o);
						CHECK(o.enomem == 1, "%s fail_at %llu: %u adds got -ENOMEM (want 1)",
						      vq_policy_name(pols[p]), (unsigned long long)k, o.enomem);
						cases++;
					}
					/* a burst: 5 failures in a row from the middle */
					s.dp.fail_map_at = m / 2 + 1;
					s.dp.fail_map_count = 5;
					run(&s, &o);
					CHECK(o.enomem >= 1, "burst of 5 failures not seen");
					sweeps++;
				}
	printf("fault at the k-th dma_map: %lu sweeps, %lu faulted runs\n", sweeps, cases);

	/* 2. IOVA space exhaustion: 8 pages hold 2 chains and a half */
	for (unsigned l = 0; l < 2; l++)
		for (unsigned ind = 0; ind < 2; ind++)
			for (size_t p = 0; p < sizeof(pols) / sizeof(pols[0]); p++) {
				if ((l == VQ_LAYOUT_PACKED && pols[p] == VQ_POLICY_READBACK) ||
				    pols[p] == VQ_POLICY_PREMAPPED)
					continue;
				struct scen s = { (enum vq_layout)l, pols[p], ind, "iommu", { .iova_pages = 8 },
						  "IOVA space exhausted" };
				run(&s, &o);
				CHECK(o.enomem >= 1, "iommu with 8 IOVA pages never ran out (%s)", vq_policy_name(pols[p]));
			}
	/* premapped maps its whole arena at create: the create fails cleanly */
	struct scen sp = { VQ_LAYOUT_SPLIT, VQ_POLICY_PREMAPPED, false, "iommu", { .iova_pages = 8 },
			   "IOVA space exhausted" };
	run(&sp, &o);
	CHECK(o.create_failed, "premapped over 8 IOVA pages did not fail at create");
	printf("IOVA space exhaustion: checked\n");

	/* 3. bounce pool exhaustion: 8 slots of 2 KiB */
	for (unsigned l = 0; l < 2; l++)
		for (unsigned ind = 0; ind < 2; ind++)
			for (size_t p = 0; p < sizeof(pols) / sizeof(pols[0]); p++) {
				if ((l == VQ_LAYOUT_PACKED && pols[p] == VQ_POLICY_READBACK) ||
				    pols[p] == VQ_POLICY_PREMAPPED)
					continue;
				struct scen s = { (enum vq_layout)l, pols[p], ind, "bounce",
						  { .bounce_pool_bytes = 8 * 2048 }, "bounce pool exhausted" };
				run(&s, &o);
				CHECK(o.enomem >= 1, "a bounce pool of 8 slots never ran out (%s)", vq_policy_name(pols[p]));
			}
	printf("bounce pool exhaustion: checked\n");
	return t_done("test_fault_map");
}
