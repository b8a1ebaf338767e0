/* SPDX-License-Identifier: MIT */
/*
 * dma_shared_threads: three queues share one device's DMA state
 * (params.cpus = 3), each with a driver thread (its own CPU number) that
 * maps and unmaps and a device thread that translates and reads or writes
 * the payload, all six concurrently. Jobs and completions travel through
 * single-producer single-consumer rings per queue. Checks: every
 * translation succeeds, the device reads what the driver wrote
 * (TO_DEVICE), the driver reads what the device wrote after unmap
 * (FROM_DEVICE), and the device's counters add up over the queues (maps =
 * unmaps = 3 x jobs, live 0, bounce slots all back, no faults). Two
 * configurations have a bounce pool or an IOVA space too small for all
 * queues' buffers in flight: maps fail with -ENOMEM (the IOVA one after
 * flushing every CPU's cache) and are retried once the queue reaps. The point
 * is to run it under ThreadSanitizer (the tsan preset): the bounce pool's
 * areas, the IOVA domain's per-CPU caches, depot and bitmap, page-table
 * growth, the lazy flush queue and the IOTLB shared by the queues.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "dma_tcommon.h"

#define NQ 3u
#define NJOBS 3000u  /* per queue */
#define QN 64u       /* ring slots */
#define INFLIGHT 24u /* buffers in flight per queue */
#define BUFSPAN 8192u

struct job {
	uint64_t iova;
	uint32_t buf, seed, len;
	enum dma_dir dir;
};

#include "dma_spsc.h"

struct queue {
	struct dma *d;
	unsigned index;
	uint8_t *bufs; /* INFLIGHT x BUFSPAN, this queue's own */
	struct spsc jobs, done;
	unsigned dev_errors, dev_faults;     /* device thread */
	unsigned drv_errors, unmap_errors;   /* driver thread */
	unsigned enomem, other_errors;
	char first_error[200];
};

static void *device(void *arg)
{
	struct queue *q = arg;
	struct job j;
	for (unsigned n = 0; n < NJOBS;) {
		if (!q_pop(&q->jobs, &j)) {
			sched_yield();
			continue;
		}
		uint8_t *p = dma_translate(q->d, j.iova, j.len, j.dir);
		if (!p)
			q->dev_faults++;
		else if (j.dir == DMA_TO_DEVICE && !t_check(p, j.len, j.seed))
			q->dev_errors++;
		else if (j.dir == DMA_FROM_DEVICE)
			t_fill(p, j.len, j.seed);
		while (!q_push(&q->done, &j))
			sched_yield();
		n++;
	}
	return NULL;
}

static uint8_t *buf_of(struct queue *q, const struct job *j)
{
	return q->bufs + (size_t)j->buf * BUFSPAN + (j->seed % 7) * 8;
}

static void *driver(void *arg)
{
	struct queue *q = arg;
	dma_set_this_cpu(q->index);
	pthread_t dev;
	pthread_create(&dev, NULL, device, q);
	uint32_t freebuf[INFLIGHT], nfree = INFLIGHT;
	for (uint32_t i = 0; i < INFLIGHT; i++)
		freebuf[i] = i;
	struct job j;
	for (unsigned sent = 0, got = 0; got < NJOBS;) {
		bool progress = false;
		if (sent < NJOBS && nfree) {
			j.buf = freebuf[nfree - 1];
			j.seed = q->index * 1000003u + sent;
			j.dir = sent % 3 ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
			j.len = 200 + (sent * 37) % 3800; /* 1..2 slots, 1..2 pages */
			uint8_t *b = buf_of(q, &j);
			if (j.dir == DMA_TO_DEVICE)
				t_fill(b, j.len, j.seed);
			int r = dma_map(q->d, b, j.len, j.dir, &j.iova);
			if (r == 0) {
				nfree--;
				while (!q_push(&q->jobs, &j))
					sched_yield();
				sent++;
				progress = true;
			} else if (r == -ENOMEM) {
				q->enomem++; /* other queues hold the pool: reap, retry */
			} else if (!q->other_errors++) {
				snprintf(q->first_error, sizeof(q->first_error), "%s", dma_last_error());
			}
		}
		if (q_pop(&q->done, &j)) {
			q->unmap_errors += dma_unmap(q->d, j.iova, j.len, j.dir) != 0;
			if (j.dir == DMA_FROM_DEVICE && !t_check(buf_of(q, &j), j.len, j.seed))
				q->drv_errors++;
			freebuf[nfree++] = j.buf;
			got++;
			progress = true;
		}
		if (!progress)
			sched_yield();
		if (q->other_errors)
			break;
	}
	pthread_join(dev, NULL);
	return NULL;
}

static uint8_t *g_bufs[NQ]; /* each queue's buffers */

static void run(const struct tcfg *cfg, bool want_enomem)
{
	static struct queue qs[NQ];
	struct dma *d;
	int r = dma_open(cfg->backend, &cfg->p, &d);
	REQUIRE(r == 0, "%s: open: %s", cfg->label, dma_last_error());
	unsigned f0 = (unsigned)t_failures;
	pthread_t th[NQ];
	for (unsigned k = 0; k < NQ; k++) {
		struct queue *q = &qs[k];
		memset(q, 0, sizeof(*q));
		q->d = d;
		q->index = k;
		q->bufs = g_bufs[k];
		REQUIRE(pthread_create(&th[k], NULL, driver, q) == 0, "pthread_create");
	}
	unsigned enomem = 0;
	for (unsigned k = 0; k < NQ; k++) {
		pthread_join(th[k], NULL);
		const struct queue *q = &qs[k];
		CHECK(q->other_errors == 0, "%s: queue %u: map failed: %s", cfg->label, k, q->first_error);
		CHECK(q->dev_faults == 0 && q->dev_errors == 0 && q->drv_errors == 0 && q->unmap_errors == 0,
		      "%s: queue %u: device faults %u, device read errors %u, driver read errors %u, "
		      "unmap errors %u", cfg->label, k, q->dev_faults, q->dev_errors, q->drv_errors,
		      q->unmap_errors);
		enomem += q->enomem;
	}
	struct dma_counters ct = t_ctr(d);
	CHECK(ct.maps == NQ * NJOBS && ct.unmaps == NQ * NJOBS && ct.live == 0 && ct.bounce_live == 0 &&
	      ct.faults == 0 && ct.debug_reports == 0 && ct.peak_live <= NQ * INFLIGHT &&
	      ct.map_errors == enomem,
	      "%s: the device's counters over %u queues: maps %llu unmaps %llu live %llu bounce_live %llu "
	      "faults %llu reports %llu peak %llu map_errors %llu (queues saw %u)", cfg->label, NQ,
	      (unsigned long long)ct.maps, (unsigned long long)ct.unmaps, (unsigned long long)ct.live,
	      (unsigned long long)ct.bounce_live, (unsigned long long)ct.faults,
	      (unsigned long long)ct.debug_reports, (unsigned long long)ct.peak_live,
	      (unsigned long long)ct.map_errors, enomem);
	if (want_enomem)
		CHECK(enomem > 0, "%s: the small pool ran out under three queues (%u -ENOMEM)", cfg->label,
		      enomem);
	printf("%-26s %u queues x %u jobs, peak live %llu, bounced %llu, -ENOMEM retried %u: %s\n",
	       cfg->label, NQ, NJOBS, (unsigned long long)ct.peak_live, (unsigned long long)ct.bounced,
	       enomem, t_failures == f0 ? "ok" : "FAILED");
	dma_close(d);
}

static const struct tcfg cfgs[] = {
	{ "bounce (4 areas)", "bounce", TP(.cpus = NQ, .bounce_pool_bytes = 1 << 20) },
	{ "identity+force_bounce", "identity", TP(.cpus = NQ, .force_bounce = true, .bounce_pool_bytes = 1 << 20) },
	{ "iommu strict", "iommu", TP(.cpus = NQ) },
	{ "iommu lazy (batch 16)", "iommu", TP(.cpus = NQ, .lazy = true, .flush_batch = 16) },
	{ "debug(iommu)", "debug", TP(.cpus = NQ, .inner = "iommu") },
	{ "debug(bounce)", "debug", TP(.cpus = NQ, .inner = "bounce", .bounce_pool_bytes = 1 << 20) },
	{ "noncoherent+nc_model", "noncoherent", TP(.cpus = NQ, .nc_model = true, .bounce_pool_bytes = 1 << 20) },
};

int main(void)
{
	for (unsigned k = 0; k < NQ; k++) {
		g_bufs[k] = mmap(NULL, INFLIGHT * BUFSPAN, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		REQUIRE(g_bufs[k] != MAP_FAILED, "mmap: %s", strerror(errno));
	}
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
		run(&cfgs[i], false);
	/* 64 slots for 3 queues of up to 24 two-slot buffers: exhaustion */
	static const struct tcfg small = { "bounce (64 slots, 1 area)", "bounce",
					   TP(.cpus = NQ, .bounce_pool_bytes = 64 * 2048) };
	run(&small, true);
	/* 64 IOVA pages: exhaustion flushes every CPU's cache while the
	 * other queues map and unmap */
	static const struct tcfg tiny = { "iommu (64-page space)", "iommu",
					  TP(.cpus = NQ, .iova_pages = 64) };
	run(&tiny, true);
	for (unsigned k = 0; k < NQ; k++)
		munmap(g_bufs[k], INFLIGHT * BUFSPAN);
	return t_done("dma_shared_threads");
}
