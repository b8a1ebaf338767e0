/* SPDX-License-Identifier: MIT */
/*
 * vqb_traffic_setup.c - build and tear down one traffic engine: ring and
 * buffer memory (anonymous pages, across a DMA mask, or shared regions),
 * the queues and their tracking, the dma backend and the software device.
 * The packet loop is in vqb_traffic_loop.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <numa.h>

#include "dev.h"
#include "dev_payload.h"
#include "dev_vfio.h"
#include "dma_mem.h"
#include "vqb_traffic_pvt.h"

/* --descs mix: descriptors per packet out of every 128 packets. Header +
 * linear part (2) dominates; page fragments thin out towards 19
 * (MAX_SKB_FRAGS + 2). Mean 3.3 descriptors per packet. */
static const uint8_t mix_weights[VQ_MAX_CHAIN + 1] = {
	[1] = 12, [2] = 47, [3] = 20, [4] = 12, [5] = 8, [6] = 4, [7] = 4, [8] = 4,
	[9] = 4, [10] = 4, [11] = 1, [12] = 1, [13] = 1, [14] = 1, [15] = 1,
	[16] = 1, [17] = 1, [18] = 1, [19] = 1,
};

const char *vqb_layout_name(enum vqb_layout l)
{
	static const char *const n[] = {"split", "packed", "rte_ring"};
	return (unsigned)l < 3 ? n[l] : "?";
}

const char *vqb_dir_name(enum vqb_dir d)
{
	static const char *const n[] = {"tx", "rx", "both"};
	return (unsigned)d < 3 ? n[d] : "?";
}

const char *vqb_device_name(enum vqb_device d)
{
	static const char *const n[] = {"thread", "inline", "vhost-user", "vfio"};
	return (unsigned)d < 4 ? n[d] : "?";
}

static uint32_t next_pow2(uint32_t v)
{
	uint32_t p = 64;
	while (p < v)
		p <<= 1;
	return p;
}

/* Ring and buffer memory: anonymous pages, bound to --mem-node before
 * they are first touched. */
static void *alloc_mem(size_t len, int node)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* 4 KiB pages means 4 KiB pages: no transparent hugepage behind them
	 * (--pages 4k is compared against 2 MiB hugepages) */
	madvise(p, len, MADV_NOHUGEPAGE);
	if (node >= 0 && numa_available() >= 0)
		numa_tonode_memory(p, len, node);
	return p;
}

static void free_mem(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

/* --dma-mask below the address space, on identity (device address = VA):
 * the mask to straddle, else 0. */
static uint64_t straddle_mask(const struct vqb_traffic_params *p)
{
	unsigned bits = p->dma_params.mask_bits;
	if (!bits || bits >= 47 || strcmp(p->dma, "identity"))
		return 0;
	return (UINT64_C(1) << bits) - 1;
}

static void *alloc_straddling_at(void *want, size_t len)
{
	void *p = mmap(want, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		       -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (p != want) { /* an old kernel ignoring MAP_FIXED_NOREPLACE */
		munmap(p, len);
		return NULL;
	}
	return p;
}

/* An arena whose first half lies below mask + 1 and second half above, so
 * buffers used in FIFO order cross the mask once. */
static void *alloc_straddling(size_t len, uint64_t mask)
{
	uint64_t limit = mask + 1, half = (len / 2 + 4095) & ~(uint64_t)4095;
	if (limit < half + 4096)
		return NULL;
	return alloc_straddling_at((void *)(uintptr_t)(limit - half), len);
}

/* chains in flight: every slot with indirect tables, else slots / shortest chain */
static uint32_t queue_nctx(const struct vqb_traffic_params *p)
{
	uint32_t n = p->indirect ? p->cfg.size : p->cfg.size / p->descs_lo;
	return n ? n : 1;
}

static void *shm_ring_alloc(size_t len, int node, void *ctx)
{
	(void)node;
	return dev_shm_alloc(ctx, len);
}

static void shm_ring_free(void *p, void *ctx) { dev_shm_free(ctx, p); }
static size_t shm_page_of(const void *p, void *ctx) { return dev_shm_page_of(ctx, p); }

static int shm_pool_create(size_t nbufs, uint32_t slot_size, int node, void *ctx, void **handle,
			   char **arena, void **bufs)
{
	(void)node;
	char *a = dev_shm_alloc(ctx, nbufs * slot_size);
	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < nbufs; i++)
		bufs[i] = a + i * slot_size;
	*handle = a;
	*arena = a;
	return 0;
}

void vqb_shm_mem_ops(struct dev_shm *shm, struct vqb_mem_ops *out)
{
	*out = (struct vqb_mem_ops){
		.name = "memfd-shared",
		.ring_alloc = shm_ring_alloc,
		.ring_free = shm_ring_free,
		.pool_create = shm_pool_create,
		.pool_free = shm_ring_free,
		.headroom = 0,
		.page_of = shm_page_of,
		.ctx = shm,
	};
}

static void *shm_table_alloc(size_t len, void *ctx) { return dev_shm_alloc(ctx, len); }
static void shm_table_free(void *p, void *ctx) { dev_shm_free(ctx, p); }

static int queue_setup(struct vqb_traffic *t, struct queue *q, enum dev_queue kind,
		       char *err, size_t errlen)
{
	const struct vqb_traffic_params *p = &t->p;
	struct vq_areas a;
	int rc;

	q->kind = kind;
	vq_ring_layout(&p->cfg, &a);
	q->ring_len = a.total;
	q->ring = p->mem ? p->mem->ring_alloc(a.total, p->mem_node, p->mem->ctx) : NULL;
	q->ring_dpdk = q->ring != NULL;
	if (!q->ring) /* no mem ops, or their hugepages ran out: 4 KiB pages */
		q->ring = alloc_mem(a.total, p->mem_node);
	if (!q->ring)
		return fail(err, errlen, "ring memory: cannot allocate %zu bytes", a.total);
	/* counted wherever it came from (anonymous pages, DPDK, a shared region) */
	dma_mem_charge(DMA_MEM_RING, (int64_t)a.total);
	q->ring_counted = true;
	if ((rc = vq_create(&p->cfg, q->ring, &q->vq)) < 0)
		return fail(err, errlen, "--queue-size %u on layout %s: vq_create failed (%s)",
			    p->cfg.size, p->cfg.layout == VQ_LAYOUT_SPLIT ? "split" : "packed", strerror(-rc));
	if (p->poll_only)
		vq_disable_cb(q->vq);
	q->nctx = queue_nctx(p);
	size_t nbufs = (size_t)q->nctx * p->descs_hi;
	q->arena_len = nbufs * t->buf_size;
	q->pkts = calloc(q->nctx, sizeof(*q->pkts));
	q->free_ctx = calloc(q->nctx, sizeof(*q->free_ctx));
	q->fifo = straddle_mask(p) != 0;
	q->bufs = calloc(nbufs, sizeof(*q->bufs));
	if (!q->pkts || !q->free_ctx || !q->bufs)
		return fail(err, errlen, "packet contexts for %u chains: out of memory", q->nctx);
	if (p->mem && !q->fifo) {
		rc = p->mem->pool_create(nbufs, t->buf_size, p->mem_node, p->mem->ctx, &q->pool, &q->arena,
					 q->bufs);
		if (rc < 0) { /* hugepages ran out (shared with other DPDK processes): 4 KiB pages */
			q->pool = NULL;
			q->arena = NULL;
		}
	}
	if (!q->pool) {
		if (!q->arena) /* a straddling arena is reserved before the backend opens */
			q->arena = alloc_mem(q->arena_len, p->mem_node);
		if (!q->arena)
			return fail(err, errlen, "buffer arena of %zu bytes%s: cannot allocate it", q->arena_len,
				    q->fifo ? " across the DMA mask" : "");
		for (size_t i = 0; i < nbufs; i++)
			q->bufs[i] = q->arena + i * t->buf_size;
	}
	dma_mem_charge(DMA_MEM_POOL, (int64_t)q->arena_len);
	q->arena_counted = true;
	for (uint32_t i = 0; i < q->nctx; i++) {
		/* LIFO pops from the end: context 0 first; FIFO from the front */
		q->free_ctx[i] = q->fifo ? i : q->nctx - 1 - i;
		for (uint32_t k = 0; k < p->descs_hi; k++) {
			q->pkts[i].bufs[k].cpu = q->bufs[(size_t)i * p->descs_hi + k];
			q->pkts[i].bufs[k].write = kind == DEV_Q_RX;
		}
	}
	q->nfree = q->nctx;
	struct vq_track_params tp = {
		.policy = p->policy,
		.skip_rule = p->skip_rule,
		.ind_extra = p->ind_extra,
		.unsafe_skip = p->unsafe_skip,
		.arena = q->arena,
		.arena_len = q->arena_len,
		.buf_size = t->buf_size,
		.max_chain = p->descs_hi, /* iova: sizes the range's windows */
	};
	if (p->shm) { /* the device reads indirect tables from the shared regions too */
		tp.table_alloc = shm_table_alloc;
		tp.table_free = shm_table_free;
		tp.table_ctx = p->shm;
	}
	if ((rc = vq_track_create(q->vq, t->dma, &tp, &q->tr)) < 0) {
		t->setup_exhausted = rc == -ENOSPC; /* a DMA resource ran out mapping the arena */
		return fail(err, errlen, "%s", vq_track_last_error());
	}
	return 0;
}

/* The engine's parameters, with --descs mix turned into its table
 * (1..VQ_MAX_CHAIN, drawn from mix_weights). */
static void engine_params(struct vqb_traffic *t, const struct vqb_traffic_params *p)
{
	t->p = *p;
	t->rng = p->seed ? p->seed : 0x9e3779b97f4a7c15ull;
	if (p->descs_kind == VQB_DESCS_MIX) {
		t->p.descs_lo = 1;
		t->p.descs_hi = VQ_MAX_CHAIN;
		unsigned k = 0;
		for (unsigned n = 1; n <= VQ_MAX_CHAIN; n++)
			for (unsigned w = 0; w < mix_weights[n]; w++)
				t->mix[k++] = (uint8_t)n;
	}
}

/* Buffer lengths per chain length, and the buffer slot size. */
static int buffer_sizes(struct vqb_traffic *t, char *err, size_t errlen)
{
	const struct vqb_traffic_params *tp = &t->p;
	if (tp->descs_lo < 1 || tp->descs_hi > VQ_MAX_CHAIN || tp->descs_lo > tp->descs_hi)
		return fail(err, errlen, "--descs %u-%u: allowed 1..%d", tp->descs_lo, tp->descs_hi, VQ_MAX_CHAIN);
	if (tp->pkt_bytes < 8 || tp->pkt_bytes < tp->descs_hi - 1 || tp->pkt_bytes > 65536)
		return fail(err, errlen, "--pkt-bytes %u: needs 8..65536 and at least one byte per payload descriptor (%u)",
			    tp->pkt_bytes, tp->descs_hi - 1);
	/* buffer lengths: n == 1 holds the whole stream; otherwise the header,
	 * then the payload spread evenly over n - 1 buffers */
	uint32_t largest = 0;
	for (uint32_t n = 1; n <= VQ_MAX_CHAIN; n++) {
		if (n == 1) {
			t->lens[1][0] = DEV_NET_HDR_BYTES + tp->pkt_bytes;
		} else {
			t->lens[n][0] = DEV_NET_HDR_BYTES;
			for (uint32_t k = 1; k < n; k++)
				t->lens[n][k] = tp->pkt_bytes / (n - 1) + (k - 1 < tp->pkt_bytes % (n - 1));
		}
		if (n >= tp->descs_lo && n <= tp->descs_hi)
			for (uint32_t k = 0; k < n; k++)
				if (t->lens[n][k] > largest)
					largest = t->lens[n][k];
	}
	t->buf_size = next_pow2(largest + (tp->mem ? tp->mem->headroom : 0));
	return 0;
}

/* --dma-mask: reserve the queues' arenas across the mask before the
 * backend puts its bounce pool just under it; the first queue's arena
 * straddles the mask, a second one lies above it */
static int reserve_straddling(struct vqb_traffic *t, char *err, size_t errlen)
{
	const struct vqb_traffic_params *tp = &t->p;
	uint64_t smask = straddle_mask(tp);
	if (!smask)
		return 0;
	size_t len = (size_t)queue_nctx(tp) * tp->descs_hi * t->buf_size;
	unsigned nq = tp->dir == VQB_DIR_BOTH ? 2 : 1;
	t->q[0].arena = alloc_straddling(len, smask);
	if (nq == 2 && t->q[0].arena)
		t->q[1].arena = alloc_straddling_at((char *)t->q[0].arena + len, len);
	if (!t->q[0].arena || (nq == 2 && !t->q[1].arena))
		return fail(err, errlen, "--dma-mask %u: cannot place the buffer arena across address 0x%llx",
			    tp->dma_params.mask_bits, (unsigned long long)smask + 1);
	for (unsigned i = 0; i < nq; i++)
		t->q[i].arena_len = len;
	return 0;
}

/* The dma backend: the one the queues share (opened by the first), or
 * this engine's own; a vfio device attached first (its container must
 * exist before the backend that maps through it). */
static int open_dma(struct vqb_traffic *t, char *err, size_t errlen)
{
	const struct vqb_traffic_params *p = &t->p;
	struct dma_params dp = p->dma_params;
	if (!strcmp(p->dma, "bounce") && dp.bounce_pool_bytes == 0) {
		/* room for every in-flight buffer in 2 KiB slots, at least 64 MiB */
		size_t need = (size_t)p->cfg.size * p->descs_hi * 2 * (t->buf_size > 2048 ? t->buf_size : 2048) *
			      (dp.cpus ? dp.cpus : 1); /* every queue sharing it */
		dp.bounce_pool_bytes = need > (64u << 20) ? need : (64u << 20);
	}
	if (!strncmp(p->device, "vfio:", 5)) {
		if (dev_vfio_attach(p->device + 5, &t->vfio) < 0)
			return fail(err, errlen, "--device %s: %s", p->device, dev_last_error());
		if (!strcmp(p->dma, "vfio") && dp.vfio_container_fd < 0)
			dp.vfio_container_fd = dev_vfio_container_fd(t->vfio);
	}
	if (p->dma_dev && *p->dma_dev) {
		t->dma = *p->dma_dev; /* the device's, opened by the first queue */
	} else if (dma_open(p->dma, &dp, &t->dma) < 0) {
		return fail(err, errlen, "--dma %s: %s", p->dma, dma_last_error());
	} else if (p->dma_dev) {
		*p->dma_dev = t->dma;
	} else {
		t->own_dma = true;
	}
	return 0;
}

/* The queues (TX, RX or both) and the device serving them. */
static int open_device(struct vqb_traffic *t, char *err, size_t errlen)
{
	const struct vqb_traffic_params *p = &t->p;
	struct dev_params devp = {
		.kind = p->device,
		.cfg = p->cfg,
		.dma = t->dma,
		.cpu = p->dev_cpu,
		/* in-order: one used entry per burst, as the spec allows (2.7.9, 2.8.20) */
		.batch_used = (p->cfg.features & VQ_FEATURE(VQ_F_IN_ORDER)) != 0,
		.rx_payload_bytes = p->pkt_bytes,
		.budget = p->batch,
		.launcher = p->launcher,
		.shm = p->shm,
		.vfio = t->vfio,
		.late_writes = p->late_writes,
	};
	if (p->echo && p->dir != VQB_DIR_BOTH)
		return fail(err, errlen, "echo traffic needs --dir both, got --dir %s", vqb_dir_name(p->dir));
	if (p->dir == VQB_DIR_TX || p->dir == VQB_DIR_BOTH) {
		if (queue_setup(t, &t->q[t->nq], DEV_Q_TX, err, errlen) < 0)
			return -1;
		devp.ring[DEV_Q_TX] = t->q[t->nq++].ring;
	}
	if (p->dir == VQB_DIR_RX || p->dir == VQB_DIR_BOTH) {
		if (queue_setup(t, &t->q[t->nq], DEV_Q_RX, err, errlen) < 0)
			return -1;
		devp.ring[DEV_Q_RX] = t->q[t->nq++].ring;
	}
	if (dev_open(&devp, &t->dev) < 0)
		return fail(err, errlen, "--device %s: %s", p->device, dev_last_error());
	t->rx_num_buffers = dev_rx_num_buffers(t->dev);
	t->fmt = dev_format(t->dev);
	if (t->vfio) {
		/* what was negotiated, once per distinct result */
		static _Thread_local char last[400];
		if (strcmp(last, dev_vfio_describe(t->vfio))) {
			snprintf(last, sizeof(last), "%s", dev_vfio_describe(t->vfio));
			fprintf(stderr, "vqbench: %s\n", last);
		}
	}
	return 0;
}

int vqb_traffic_setup(const struct vqb_traffic_params *p, struct vqb_traffic **out,
		      char *err, size_t errlen)
{
	size_t size = (sizeof(struct vqb_traffic) + 63) & ~(size_t)63;
	struct vqb_traffic *t = aligned_alloc(64, size);

	if (!t)
		return fail(err, errlen, "out of memory");
	memset(t, 0, size);
	engine_params(t, p);
	if (buffer_sizes(t, err, errlen) < 0 || reserve_straddling(t, err, errlen) < 0 ||
	    open_dma(t, err, errlen) < 0 || open_device(t, err, errlen) < 0) {
		int ret = t->setup_exhausted ? -ENOSPC : -1;
		vqb_traffic_teardown(t, NULL);
		return ret;
	}
	*out = t;
	return 0;
}

void vqb_traffic_dma_final(const struct dma *d, struct vqb_traffic_final *f)
{
	dma_get_counters(d, &f->dma);
	/* a mapping left live leaks only what it holds: a bounce slot, an
	 * IOVA, a debug entry; a non-coherent one also owes the invalidate
	 * of its lines */
	f->leaked_mappings = dma_held_mappings(d);
	f->unmaintained_lines = dma_owed_lines(d);
	f->dma_mem_bytes = f->dma.mem_bytes;
}

void vqb_traffic_dma_counters(const struct vqb_traffic *t, struct dma_counters *c)
{
	dma_get_counters(t->dma, c);
}

static void queue_teardown(const struct vqb_traffic_params *p, struct queue *q,
			   struct vq_track_stats *sum)
{
	if (q->tr) {
		void *token;
		while (vq_track_detach(q->tr, &token) == 1)
			;
		struct vq_track_stats st;
		vq_track_get_stats(q->tr, &st);
		if (sum) {
			sum->maps += st.maps;
			sum->unmaps += st.unmaps;
			sum->syncs += st.syncs;
			sum->sync_bufs += st.sync_bufs;
			sum->ind_readbacks += st.ind_readbacks;
			sum->skipped_unmaps += st.skipped_unmaps;
			sum->readback_errors += st.readback_errors;
			sum->tracked_chains += st.tracked_chains;
			sum->links += st.links;
			sum->unlinks += st.unlinks;
			sum->iova_syncs += st.iova_syncs;
			sum->ranges += st.ranges;
			if (!sum->first_tracked_chain)
				sum->first_tracked_chain = st.first_tracked_chain;
		}
		vq_track_destroy(q->tr);
	}
	vq_destroy(q->vq);
	free(q->pkts);
	free(q->free_ctx);
	free(q->bufs);
	if (q->arena_counted)
		dma_mem_charge(DMA_MEM_POOL, -(int64_t)q->arena_len);
	if (q->ring_counted)
		dma_mem_charge(DMA_MEM_RING, -(int64_t)q->ring_len);
	if (q->pool)
		p->mem->pool_free(q->pool, p->mem->ctx);
	else
		free_mem(q->arena, q->arena_len); /* ours: anonymous or straddling */
	if (q->ring_dpdk)
		p->mem->ring_free(q->ring, p->mem->ctx);
	else
		free_mem(q->ring, q->ring_len);
}

void vqb_traffic_teardown(struct vqb_traffic *t, struct vqb_traffic_final *f)
{
	if (!t)
		return;
	/* a real device must stop touching rings and buffers (reset) before
	 * in-flight chains are detached and unmapped below */
	if (t->dev)
		dev_reset(t->dev);
	if (f) {
		memset(f, 0, sizeof(*f));
		f->queues = t->nq;
		unsigned dpdk = 0;
		for (unsigned i = 0; i < t->nq; i++)
			dpdk += (t->q[i].pool != NULL) + t->q[i].ring_dpdk;
		snprintf(f->memory, sizeof(f->memory), "%s",
			 dpdk == 2 * t->nq ? t->p.mem->name : dpdk == 0 ? "4k-pages" : "mixed");
		f->page_bytes = 4096;
		if (t->q[0].pool && t->p.mem->page_of)
			f->page_bytes = t->p.mem->page_of(t->q[0].arena, t->p.mem->ctx);
		if (t->q[0].tr)
			snprintf(f->iova_api, sizeof(f->iova_api), "%s", vq_track_iova_mode(t->q[0].tr));
		/* live: adaptive allocates its records once a chain needs them */
		if (t->q[0].tr)
			vq_track_footprint_live(t->q[0].tr, &f->fp);
		else
			vq_track_footprint(&t->p.cfg, t->p.policy, t->q[0].arena_len / (t->buf_size ? t->buf_size : 1),
					   &f->fp);
	}
	/* every slot: a queue whose setup failed half-way is not in nq */
	for (unsigned i = 0; i < DEV_NQ; i++) {
		queue_teardown(&t->p, &t->q[i], f ? &f->track : NULL);
		if (f)
			f->arena_bytes += t->q[i].arena_len;
	}
	dev_close(t->dev);
	if (t->dma && t->own_dma) {
		if (f)
			vqb_traffic_dma_final(t->dma, f);
		dma_close(t->dma);
	}
	dev_vfio_detach(t->vfio); /* after the backend that mapped through its container */
	free(t);
}
