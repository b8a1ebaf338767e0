/* SPDX-License-Identifier: MIT */
/*
 * vqb_run.c - one configuration x one repetition: set it up, run it (the
 * checks before it are in vqb_run_check.c), verify every packet, tear it down, and turn what was counted into a
 * metrics row.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev_vfio.h"
#include "dma.h"
#include "vq_track.h"
#include "vqb_dpdk.h"
#include "vqb_perf.h"
#include "vqb_place.h"
#include "vqb_rte_ring.h"
#include "dma_mem.h"
#include "vqb_run.h"
#include "vqb_traffic.h"

/* the --pages 2m fallback notice, once per process */
static bool hugepage_notice_done;
/* the --policy iova fallback notice, once per distinct reason */
static char iova_notice_done[200];

static uint64_t rss_bytes(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Round trips per core-to-core measurement: ~0.1-0.6 ms each. */
#define C2C_ROUNDS 2000u

/* The round trip after the repetition, and whether the placement moved. */
static void placement_after(struct vqb_metrics *m, const struct vqb_placement *pl)
{
	if (pl->device_cpu == pl->driver_cpu)
		return;
	m->c2c_ns_after = vqb_place_c2c_ns(pl->device_cpu, C2C_ROUNDS);
	double lo = fmin(m->c2c_ns_before, m->c2c_ns_after), hi = fmax(m->c2c_ns_before, m->c2c_ns_after);
	m->placement_changed = lo > 0 && hi / lo > 1.5;
}

/* Threads a run needs: a driver per queue, and a device per queue for
 * the thread device. */
static unsigned run_threads(const struct vqb_config *c)
{
	return c->device == VQB_DEV_THREAD ? 2 * c->queues : c->queues;
}

struct mq_run;

/* One queue pair of a run. The array is allocated in whole cache lines and
 * each element starts its own: a driver thread writes only its own. */
struct q_run {
	alignas(64) struct vqb_traffic_params tp;
	struct vqb_traffic *t;
	struct vqb_traffic_result r;
	struct dma_counters d0, d1; /* the device's, before and after this queue's setup */
	struct vqb_traffic_final fin;
	struct mq_run *mq;
	unsigned index;
	int driver_cpu;
	int rc;          /* < 0: setup (set_up false) or run failed */
	bool set_up;
	bool setup_exhausted; /* setup failed because a DMA resource ran out */
	char msg[512];
};

struct mq_run {
	const struct vqb_config *c;
	unsigned n;
	struct vqb_traffic_sync sync; /* n > 1 */
	pthread_mutex_t setup_lock;   /* one setup at a time; held while threads start */
	bool abort;                   /* a thread could not start: nobody runs */
	struct vqb_perf perf;         /* queue 0's driver thread */
	struct dma *dma;              /* the device's DMA state, shared by every queue
					 (opened by the first setup, under setup_lock) */
	struct q_run *q;
};

/* A queue's whole life on its driver thread, up to teardown (the caller's,
 * after every queue stopped). Setup runs here, pinned: ring and buffer
 * pages are first touched on the driver's CPU (NUMA-local) and its
 * allocations come from this thread's malloc arena, away from the other
 * queues'. */
static void queue_run(struct q_run *q)
{
	struct mq_run *mq = q->mq;
	struct vqb_traffic_sync *s = mq->n > 1 ? &mq->sync : NULL;

	vqb_place_pin_self(q->driver_cpu);
	/* the CPU this queue stands for in the shared device's per-CPU DMA
	 * state (its bounce-pool area, its IOVA cache) */
	dma_set_this_cpu(q->index);
	pthread_mutex_lock(&mq->setup_lock);
	bool abort = mq->abort;
	if (!abort) {
		/* the device's counters around this setup (premapped maps its
		 * pool here): the run's share is what no setup did */
		if (mq->dma)
			dma_get_counters(mq->dma, &q->d0);
		q->rc = vqb_traffic_setup(&q->tp, &q->t, q->msg, sizeof(q->msg));
		if (mq->dma)
			dma_get_counters(mq->dma, &q->d1);
	}
	pthread_mutex_unlock(&mq->setup_lock);
	if (abort)
		return; /* the barrier is never used */
	if (q->rc < 0) {
		q->setup_exhausted = q->rc == -ENOSPC;
		q->rc = -EINVAL;
		if (s)
			vqb_traffic_sync_fail(s);
		return;
	}
	q->set_up = true;
	if (q->index == 0)
		vqb_perf_start(&mq->perf);
	q->rc = vqb_traffic_run_sync(q->t, s, mq->c->packets, mq->c->seconds, &q->r, q->msg, sizeof(q->msg));
	if (q->index == 0)
		vqb_perf_stop(&mq->perf);
}

static void *queue_thread(void *arg)
{
	queue_run(arg);
	return NULL;
}

/* "queue 2: " when the run has more than one queue, else "". */
static const char *qname(const struct mq_run *mq, unsigned k, char *buf, size_t len)
{
	if (mq->n == 1)
		return "";
	snprintf(buf, len, "queue %u: ", k);
	return buf;
}

/* Where the run's threads go (pinned: this one on the driver CPU), and
 * whether a device thread on a second core makes the core-to-core round
 * trip worth measuring (*two_cores; measured here, before the run). */
static int run_place(const struct vqb_config *c, struct vqb_placement *pl, struct vqb_metrics *m,
		     bool *two_cores, char *msg, size_t len)
{
	unsigned nthreads = run_threads(c);
	int rc = vqb_place_choose(c->cores, c->ncores, nthreads, pl, msg, len);
	if (rc < 0)
		return rc;
	if (c->device == VQB_DEV_THREAD && c->queues > 1 && nthreads > pl->ncpus)
		return snprintf(msg, len, "--queues %u with --device thread: needs %u CPUs (a driver and a device "
				"thread per queue), %u available", c->queues, nthreads, pl->ncpus), -EINVAL;
	m->driver_cpu = pl->driver_cpu;
	m->device_cpu = c->device == VQB_DEV_INLINE ? pl->driver_cpu
			: c->device == VQB_DEV_VHOST_USER || c->device == VQB_DEV_VFIO ? -1 /* another process, hardware */
			: pl->device_cpu;
	m->cpus_shared = nthreads > pl->ncpus && c->device == VQB_DEV_INLINE;
	vqb_place_pin_self(pl->driver_cpu);
	/* the round trip tells where the two cores sit: only where a device
	 * thread runs on the second one (not inline: one core, and under
	 * valgrind, which serialises threads, a ping-pong would crawl) */
	*two_cores = c->device == VQB_DEV_THREAD && pl->device_cpu != pl->driver_cpu;
	if (*two_cores)
		m->c2c_ns_before = vqb_place_c2c_ns(pl->device_cpu, C2C_ROUNDS);
	return 0;
}

/* The traffic engine's parameters for c on a software device (the
 * vhost-user and vfio devices change some: device_params). */
int vqb_run_traffic_params(const struct vqb_config *c, const struct vqb_env *env, const struct vqb_placement *pl,
			  const struct vqb_metrics *m, struct vqb_traffic_params *tp, char *msg, size_t len)
{
	enum vq_policy pol;
	enum vq_skip_rule rule;
	enum vq_ind_extra ie;
	if (vq_policy_lookup(c->policy, &pol) < 0 || vq_skip_rule_lookup(c->skip_rule, &rule) < 0)
		return snprintf(msg, len, "--policy %s / --skip-rule %s: unknown", c->policy, c->skip_rule), -EINVAL;
	if (vq_ind_extra_lookup(c->indirect_extra, &ie) < 0)
		return snprintf(msg, len, "--indirect-extra '%s': unknown (allowed: upstream, linux-6.1)",
				c->indirect_extra), -EINVAL;
	*tp = (struct vqb_traffic_params){
		.cfg = vqb_run_ring_config(c),
		.policy = pol,
		.skip_rule = rule,
		.ind_extra = ie,
		.unsafe_skip = c->unsafe_skip,
		.dma = c->dma,
		.dma_params = vqb_run_dma_params(c),
		.device = vqb_device_name(c->device),
		.dev_cpu = pl->device_cpu,
		.dir = c->dir,
		.descs_kind = c->descs_kind,
		.descs_lo = c->descs_lo,
		.descs_hi = c->descs_hi,
		.pkt_bytes = c->pkt_bytes,
		.indirect = c->indirect,
		.batch = c->batch,
		.mem_node = c->mem_node,
		.seed = 0x5eed0000u + c->index * 1000u + m->rep,
		/* --pages 4k: anonymous 4 KiB pages; 2m: DPDK's hugepage memory */
		.mem = c->pages == 1 ? NULL : vqb_dpdk_mem_ops(env),
		.launcher = c->device == VQB_DEV_THREAD ? vqb_dpdk_launcher(env) : NULL,
		.late_writes = c->late_writes,
	};
	/* several queues: every device thread a pinned pthread (EAL lcores are
	 * launched from the main lcore only, and the EAL holds queue 0's pair) */
	if (c->queues > 1)
		tp->launcher = NULL;
	return 0;
}

/* What a vhost-user or vfio device needs for the whole run. */
struct run_device {
	struct dev_shm *shm;          /* vhost-user: the shared regions; else NULL */
	struct vqb_mem_ops shm_ops;
	char name[VQB_DEV_PATH_MAX + 16];
};

/* The vhost-user and vfio devices' changes to tp (tp points into d). */
static int device_params(const struct vqb_config *c, struct run_device *d, struct vqb_traffic_params *tp,
			 char *msg, size_t len)
{
	d->shm = NULL;
	/* vhost-user: rings and buffers in memfd regions the backend maps;
	 * both ends verify (dir both: echo), or RX checks lengths (dir rx:
	 * the backend generates foreign packets) */
	if (c->device == VQB_DEV_VHOST_USER) {
		if (dev_shm_create(&d->shm) < 0)
			return snprintf(msg, len, "--device vhost-user:%s: out of memory", c->dev_path), -ENOMEM;
		vqb_shm_mem_ops(d->shm, &d->shm_ops);
		dev_shm_set_page_size(d->shm, c->pages == 1 ? DEV_SHM_PAGE_4K : DEV_SHM_PAGE_2M);
		snprintf(d->name, sizeof(d->name), "vhost-user:%s", c->dev_path);
		tp->device = d->name;
		tp->mem = &d->shm_ops;
		tp->shm = d->shm;
		tp->launcher = NULL;
		tp->poll_only = true;
		tp->echo = c->dir == VQB_DIR_BOTH;
		tp->rx_len_only = c->dir == VQB_DIR_RX;
	}
	if (c->device == VQB_DEV_VFIO) {
		/* hardware: polled, no device thread; dir both = ARP request per
		 * TX packet, its reply on RX (an RX buffer posted before each) */
		snprintf(d->name, sizeof(d->name), "vfio:%s", c->dev_path);
		tp->device = d->name;
		tp->launcher = NULL;
		tp->poll_only = true;
		tp->echo = c->dir == VQB_DIR_BOTH;
	}
	return 0;
}

/* mq for c's queues, each with its own copy of tp, seed and CPUs.
 * --queues: queue k's driver on the CPU of thread k (inline) or 2k
 * (thread, its device on 2k + 1); CPUs wrap when there are fewer.
 * @return 0 or -ENOMEM. */
static int mq_init(struct mq_run *mq, const struct vqb_config *c, struct vqb_traffic_params *tp,
		   const struct vqb_placement *pl)
{
	*mq = (struct mq_run){ .c = c, .n = c->queues ? c->queues : 1 };
	/* one device: every queue maps through the same DMA state */
	tp->dma_dev = &mq->dma;
	tp->dma_params.cpus = mq->n;
	size_t qsize = ((size_t)mq->n * sizeof(struct q_run) + 63) & ~(size_t)63;
	mq->q = aligned_alloc(64, qsize);
	if (!mq->q)
		return -ENOMEM;
	memset(mq->q, 0, qsize);
	bool thread_dev = c->device == VQB_DEV_THREAD;
	for (unsigned k = 0; k < mq->n; k++) {
		struct q_run *q = &mq->q[k];
		q->mq = mq;
		q->index = k;
		q->tp = *tp;
		q->driver_cpu = vqb_place_cpu(pl, thread_dev ? 2 * k : k);
		if (thread_dev)
			q->tp.dev_cpu = vqb_place_cpu(pl, 2 * k + 1);
		q->tp.seed = tp->seed + (uint64_t)k * 0x9e3779b9u;
	}
	pthread_mutex_init(&mq->setup_lock, NULL);
	if (mq->n > 1) {
		pthread_barrier_init(&mq->sync.start, NULL, mq->n);
		atomic_init(&mq->sync.failed, false);
	}
	return 0;
}

static void mq_destroy_sync(struct mq_run *mq)
{
	if (mq->n > 1)
		pthread_barrier_destroy(&mq->sync.start);
	pthread_mutex_destroy(&mq->setup_lock);
}

/* Every queue's setup and run: queues 1..n-1 on their own threads, queue
 * 0 on this one; they wait for the lock until every thread exists.
 * @return 0, or -errno when a thread could not start (then nobody ran). */
static int mq_run_all(struct mq_run *mq)
{
	pthread_t *threads = mq->n > 1 ? calloc(mq->n, sizeof(*threads)) : NULL;
	unsigned started = 0;
	int rc = 0;
	if (mq->n > 1 && !threads) {
		rc = -ENOMEM;
	} else {
		pthread_mutex_lock(&mq->setup_lock);
		for (unsigned k = 1; k < mq->n && rc == 0; k++) {
			rc = -pthread_create(&threads[k], NULL, queue_thread, &mq->q[k]);
			if (rc == 0)
				started++;
		}
		mq->abort = rc < 0;
		pthread_mutex_unlock(&mq->setup_lock);
		queue_run(&mq->q[0]);
		for (unsigned k = 1; k <= started; k++)
			pthread_join(threads[k], NULL);
	}
	free(threads);
	return rc;
}

/* After every queue stopped: the device's counters (*dend) and the
 * allocator's (mem1) before teardown detaches what is still in flight,
 * every queue's teardown, then what the device was left with (*dfin:
 * leaks, faults, reports), and the device closed. */
static void mq_teardown(struct mq_run *mq, struct dma_counters *dend, struct vqb_traffic_final *dfin,
			uint64_t mem1[DMA_MEM_NCAT])
{
	if (mq->dma)
		dma_get_counters(mq->dma, dend);
	dma_mem_get(mem1);
	for (unsigned k = 0; k < mq->n; k++)
		if (mq->q[k].t)
			vqb_traffic_teardown(mq->q[k].t, &mq->q[k].fin);
	if (mq->dma)
		vqb_traffic_dma_final(mq->dma, dfin);
	dma_close(mq->dma);
	mq_destroy_sync(mq);
}

/* Where rings and buffers came from (column memory), with a notice when
 * hugepages were asked for and not had. */
static void memory_used(const struct vqb_config *c, const struct vqb_mem_ops *asked, const struct mq_run *mq,
			struct vqb_metrics *m)
{
	const struct vqb_traffic_final *fin0 = &mq->q[0].fin;
	snprintf(m->memory, sizeof(m->memory), "%s", fin0->memory);
	m->page_bytes = fin0->page_bytes;
	if (c->pages == 0 && fin0->page_bytes < DEV_SHM_PAGE_2M && !hugepage_notice_done) {
		hugepage_notice_done = true;
		fprintf(stderr, "vqbench: notice: --pages 2m: no 2 MiB hugepages free for the buffers, they are on "
			"%zu-byte pages (scripts/hugepages.sh reserves some; CSV column page_bytes)\n", fin0->page_bytes);
	}
	for (unsigned k = 1; k < mq->n; k++)
		if (strcmp(mq->q[k].fin.memory, fin0->memory))
			snprintf(m->memory, sizeof(m->memory), "mixed");
	if (asked && strcmp(m->memory, asked->name))
		fprintf(stderr, "vqbench: notice: DPDK's hugepage memory ran out (shared with other DPDK processes); "
			"this run used %s (CSV column memory)\n", m->memory);
}

/* What every queue and the shared device counted over the run. */
struct run_totals {
	uint64_t packets, errors, lost, kicks, calls, tsc, payload;
	uint64_t maps, unmaps, syncs, copied, leaked, stale, faults, reports, unmaintained;
	uint64_t links, unlinks; /* the IOVA API's calls */
	uint64_t bounced, flushes, tflushes, iallocs, ifrees;
	uint64_t late_landed, late_blocked, late_remapped;
	double t0, t1;   /* the first loop's start, the last one's end */
};

/* Sum the queues' results; DMA: the device's totals over the runs (dend),
 * less what the setups did, and what it was left with (dfin). */
static void run_totals(const struct vqb_config *c, const struct mq_run *mq, const struct dma_counters *dend,
		       const struct vqb_traffic_final *dfin, struct run_totals *s)
{
	*s = (struct run_totals){
		.maps = dend->maps, .unmaps = dend->unmaps, .syncs = dend->syncs_for_cpu + dend->syncs_for_device,
		.copied = dend->bytes_copied, .leaked = dfin->leaked_mappings, .stale = dfin->dma.stale_hits,
		.bounced = dend->bounced, .flushes = dend->iotlb_flushes, .tflushes = dend->iotlb_timer_flushes,
		.iallocs = dend->iova_allocs, .ifrees = dend->iova_frees,
		.faults = dfin->dma.faults, .reports = dfin->dma.debug_reports,
		.unmaintained = dfin->unmaintained_lines,
		.links = dend->iova_links, .unlinks = dend->iova_unlinks,
		.t0 = mq->q[0].r.t_start, .t1 = mq->q[0].r.t_end,
	};
	for (unsigned k = 0; k < mq->n; k++) {
		const struct q_run *q = &mq->q[k];
		s->packets += q->r.packets;
		s->errors += q->r.errors;
		s->lost += q->r.lost_bytes;
		s->kicks += q->r.kicks;
		s->calls += q->r.calls;
		s->tsc += q->r.tsc_cycles;
		s->payload += q->r.payload_bytes;
		s->maps -= q->d1.maps - q->d0.maps;
		s->unmaps -= q->d1.unmaps - q->d0.unmaps;
		s->syncs -= q->d1.syncs_for_cpu + q->d1.syncs_for_device - q->d0.syncs_for_cpu - q->d0.syncs_for_device;
		s->copied -= q->d1.bytes_copied - q->d0.bytes_copied;
		s->links -= q->d1.iova_links - q->d0.iova_links;
		s->unlinks -= q->d1.iova_unlinks - q->d0.iova_unlinks;
		s->flushes -= q->d1.iotlb_flushes - q->d0.iotlb_flushes;
		s->bounced -= q->d1.bounced - q->d0.bounced;
		s->tflushes -= q->d1.iotlb_timer_flushes - q->d0.iotlb_timer_flushes;
		s->iallocs -= q->d1.iova_allocs - q->d0.iova_allocs;
		s->ifrees -= q->d1.iova_frees - q->d0.iova_frees;
		s->late_landed += q->r.late_writes_landed;
		s->late_blocked += q->r.late_writes_blocked;
		s->late_remapped += q->r.late_writes_remapped;
		s->t0 = fmin(s->t0, q->r.t_start);
		s->t1 = fmax(s->t1, q->r.t_end);
	}
	/* a late write an IOMMU refused is the protection working, not a
	 * failure: its fault (and, under debugging, its report) is expected */
	s->faults -= s->late_blocked < s->faults ? s->late_blocked : s->faults;
	if (!strcmp(c->dma, "debug"))
		s->reports -= s->late_blocked < s->reports ? s->late_blocked : s->reports;
}

/* Per queue rates over the common time: they sum to the aggregate. */
static void queue_rates(const struct mq_run *mq, double elapsed, struct vqb_metrics *m)
{
	size_t pos = 0;
	m->queue_mpps[0] = '\0';
	for (unsigned k = 0; k < mq->n; k++) {
		double v = (double)mq->q[k].r.packets / elapsed / 1e6;
		if (k == 0 || v < m->queue_mpps_min)
			m->queue_mpps_min = v;
		if (k == 0 || v > m->queue_mpps_max)
			m->queue_mpps_max = v;
		if (pos < sizeof(m->queue_mpps)) {
			int n = snprintf(m->queue_mpps + pos, sizeof(m->queue_mpps) - pos, "%s%.6g", k ? ";" : "", v);
			pos = n < 0 ? sizeof(m->queue_mpps) : pos + (size_t)n;
		}
	}
}

/* Policy iova: its calls, the IOTLB flushes, and whether it used the API
 * (a notice, once per distinct reason, when it fell back). */
static void iova_metrics(const struct vqb_config *c, const struct mq_run *mq, const struct run_totals *s,
			 double pk, struct vqb_metrics *m)
{
	const struct vqb_traffic_final *fin0 = &mq->q[0].fin;
	m->links_per_pkt = (double)s->links / pk;
	m->unlinks_per_pkt = (double)s->unlinks / pk;
	snprintf(m->iova_api, sizeof(m->iova_api), "%s", fin0->iova_api);
	if (!strncmp(fin0->iova_api, "fallback", 8) && strcmp(fin0->iova_api, iova_notice_done)) {
		/* said once per distinct reason, and in the CSV column iova_api */
		snprintf(iova_notice_done, sizeof(iova_notice_done), "%s", fin0->iova_api);
		fprintf(stderr, "vqbench: notice: --policy iova on --dma %s: dma_iova_try_alloc failed, buffers are mapped "
			"one by one as the kernel's callers do (%s; CSV column iova_api)\n", c->dma, fin0->iova_api);
	}
}

/* The metrics row: every queue's packets over the common elapsed time,
 * from the first loop's start to the last one's end. */
static void run_metrics(const struct vqb_config *c, const struct mq_run *mq, const struct run_totals *s,
			const uint64_t mem0[DMA_MEM_NCAT], const uint64_t mem1[DMA_MEM_NCAT], struct vqb_metrics *m)
{
	double elapsed = s->t1 - s->t0;
	double pk = s->packets ? (double)s->packets : NAN;
	m->packets = s->packets;
	m->errors = s->errors;
	m->seconds = elapsed;
	m->mpps = (double)s->packets / elapsed / 1e6;
	queue_rates(mq, elapsed, m);
	m->gbps = (double)s->payload * 8 / elapsed / 1e9;
	m->ns_per_pkt = elapsed * 1e9 / pk;
	m->cycles_per_pkt = (double)s->tsc / pk;
	m->maps_per_pkt = (double)s->maps / pk;
	m->unmaps_per_pkt = (double)s->unmaps / pk;
	m->syncs_per_pkt = (double)s->syncs / pk;
	m->bytes_copied_per_pkt = (double)s->copied / pk;
	iova_metrics(c, mq, s, pk, m);
	m->bounced_per_pkt = (double)s->bounced / pk;
	m->iotlb_flushes_per_pkt = (double)s->flushes / pk;
	m->iotlb_timer_flushes_per_pkt = (double)s->tflushes / pk;
	m->iova_allocs_per_pkt = (double)s->iallocs / pk;
	m->iova_frees_per_pkt = (double)s->ifrees / pk;
	m->kicks_per_pkt = (double)s->kicks / pk;
	m->calls_per_pkt = (double)s->calls / pk;
	/* memory: counted by the allocator (dma_mem.h), every queue and the
	 * shared device, as it stood when the last run ended */
	m->tracking_bytes = mem1[DMA_MEM_TRACKING] - mem0[DMA_MEM_TRACKING];
	m->footprint_bytes = dma_mem_footprint(mem1, mem0);
	m->bytes_per_inflight = (double)m->footprint_bytes / ((double)c->queue_size * mq->q[0].fin.queues * mq->n);
	/* perf counts queue 0's driver thread: per queue 0's packet */
	double pk0 = mq->q[0].r.packets ? (double)mq->q[0].r.packets : NAN;
	m->hw_cycles = mq->perf.value[VQB_HW_CYCLES] / pk0;
	m->hw_instructions = mq->perf.value[VQB_HW_INSTRUCTIONS] / pk0;
	m->hw_l1d_misses = mq->perf.value[VQB_HW_L1D_MISSES] / pk0;
	m->hw_llc_misses = mq->perf.value[VQB_HW_LLC_MISSES] / pk0;
	m->hw_dtlb_misses = mq->perf.value[VQB_HW_DTLB_MISSES] / pk0;
	m->lost_bytes = s->lost;
	m->leaked_mappings = s->leaked;
	m->unmaintained_lines = s->unmaintained;
	m->late_writes_landed = s->late_landed;
	m->late_writes_blocked = s->late_blocked;
	m->late_writes_remapped = s->late_remapped;
	m->stale_hits = s->stale;
}

/* The run's verdict: 0, or -errno with msg naming the first queue that
 * ran out, failed, or failed verification. */
static int run_verdict(const struct vqb_config *c, const struct mq_run *mq, const struct run_totals *s,
		       struct vqb_metrics *m, char *msg, size_t len)
{
	char qb[32];
	/* a DMA resource ran out (kernel: swiotlb_map's "buffer is full",
	 * a failed IOVA allocation): a result, status exhausted, packets =
	 * packets until exhaustion; a failure only where skip was not asked
	 * to be unsafe */
	for (unsigned k = 0; k < mq->n; k++)
		if (mq->q[k].r.exhausted) {
			snprintf(m->status, sizeof(m->status), "exhausted");
			snprintf(msg, len, "%sexhausted after %llu packets: %s", qname(mq, k, qb, sizeof(qb)),
				 (unsigned long long)s->packets, mq->q[k].r.note);
			return c->unsafe_skip ? 0 : -ENOSPC;
		}
	/* a run that failed: the first queue that did (the others stopped
	 * because of it) */
	for (unsigned k = 0; k < mq->n; k++)
		if (mq->q[k].rc < 0)
			return snprintf(msg, len, "%s%s", qname(mq, k, qb, sizeof(qb)), mq->q[k].msg), -EIO;
	if (s->packets == 0)
		return snprintf(msg, len, "no packet completed"), -EIO;
	if (c->unsafe_skip || !(s->errors || s->leaked || s->faults || s->reports))
		return 0;
	/* name the queues that failed verification (leaks, faults and
	 * reports are the shared device's, not one queue's) */
	char which[256] = "";
	size_t wp = 0;
	unsigned nbad = 0;
	for (unsigned k = 0; k < mq->n && mq->n > 1; k++) {
		if (!mq->q[k].r.errors)
			continue;
		if (wp < sizeof(which)) {
			int n = snprintf(which + wp, sizeof(which) - wp, "%s%u", nbad ? "," : "", k);
			wp = n < 0 ? sizeof(which) : wp + (size_t)n;
		}
		nbad++;
	}
	return snprintf(msg, len,
			"%s%s%s%llu packet(s) failed verification (%llu bytes lost), %llu mapping(s) leaked, "
			"%llu device fault(s), %llu DMA debug report(s)", nbad ? (nbad > 1 ? "queues " : "queue ") : "",
			which, nbad ? ": " : "", (unsigned long long)s->errors, (unsigned long long)s->lost,
			(unsigned long long)s->leaked, (unsigned long long)s->faults, (unsigned long long)s->reports),
	       -EIO;
}

int vqb_run_once(const struct vqb_config *c, const struct vqb_env *env, struct vqb_metrics *m,
		 char *msg, size_t len)
{
	struct vqb_placement pl;
	bool two_cores;
	int rc = run_place(c, &pl, m, &two_cores, msg, len);
	if (rc < 0)
		return rc;
	if (c->layout == VQB_LAYOUT_RTE_RING) {
		rc = vqb_rte_ring_run(c, &pl, m, msg, len);
		if (two_cores)
			placement_after(m, &pl);
		return rc;
	}
	struct vqb_traffic_params tp;
	struct run_device dev;
	if ((rc = vqb_run_traffic_params(c, env, &pl, m, &tp, msg, len)) < 0 ||
	    (rc = device_params(c, &dev, &tp, msg, len)) < 0)
		return rc;
	snprintf(m->memory, sizeof(m->memory), "%s", tp.mem ? tp.mem->name : "4k-pages");
	snprintf(m->device_thread, sizeof(m->device_thread), "%s",
		 c->device == VQB_DEV_INLINE ? "" : c->device == VQB_DEV_VHOST_USER ? "backend"
		 : c->device == VQB_DEV_VFIO ? "hardware"
		 : tp.launcher ? tp.launcher->name : "pthread");
	struct mq_run mq;
	if (mq_init(&mq, c, &tp, &pl) < 0) {
		dev_shm_destroy(dev.shm);
		return snprintf(msg, len, "--queues %u: out of memory", mq.n), -ENOMEM;
	}
	uint64_t rss0 = rss_bytes();
	/* the counting allocator before any setup: the run's footprint is
	 * what every queue and the device hold at the end */
	uint64_t mem0[DMA_MEM_NCAT], mem1[DMA_MEM_NCAT];
	dma_mem_get(mem0);
	if ((rc = mq_run_all(&mq)) < 0) {
		for (unsigned k = 0; k < mq.n; k++)
			vqb_traffic_teardown(mq.q[k].t, NULL);
		dma_close(mq.dma);
		mq_destroy_sync(&mq);
		free(mq.q);
		dev_shm_destroy(dev.shm);
		return snprintf(msg, len, "--queues %u: cannot start the driver threads: %s", mq.n, strerror(-rc)), rc;
	}
	m->rss_bytes = rss_bytes();
	m->rss_delta_bytes = (int64_t)m->rss_bytes - (int64_t)rss0;
	struct dma_counters dend = {0};
	struct vqb_traffic_final dfin = {0};
	mq_teardown(&mq, &dend, &dfin, mem1);
	if (two_cores)
		placement_after(m, &pl);
	dev_shm_destroy(dev.shm);

	/* a setup that failed: the first one's message */
	char qb[32];
	for (unsigned k = 0; k < mq.n; k++)
		if (!mq.q[k].set_up) {
			/* a resource exhausted at setup (premapped's arena did not
			 * fit the bounce pool or IOVA space) is a result, as in a run */
			bool ex = mq.q[k].setup_exhausted;
			if (ex)
				snprintf(m->status, sizeof(m->status), "exhausted");
			snprintf(msg, len, "%s%s%s", qname(&mq, k, qb, sizeof(qb)), ex ? "exhausted at setup "
				 "(0 packets): " : "", mq.q[k].msg);
			free(mq.q);
			return ex ? (c->unsafe_skip ? 0 : -ENOSPC) : -EINVAL;
		}
	memory_used(c, tp.mem, &mq, m);
	struct run_totals s;
	run_totals(c, &mq, &dend, &dfin, &s);
	run_metrics(c, &mq, &s, mem0, mem1, m);
	rc = run_verdict(c, &mq, &s, m, msg, len);
	free(mq.q);
	return rc;
}
