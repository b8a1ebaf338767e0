/* SPDX-License-Identifier: MIT */
/*
 * vqb_rte_ring.c - the plain-ring ceiling: packets are buffers of the same
 * stream format as the virtqueue runs; the device side verifies every byte
 * (RX: writes them) exactly as the software device does.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include <rte_errno.h>
/* The SP/SC enqueue and dequeue paths are inline in DPDK's headers: compile
 * ours with DPDK's C11 memory model (acquire/release on head and tail)
 * rather than the generic one (volatile and rte_smp_*mb barriers) that
 * Debian's build selects, so ThreadSanitizer can follow the ordering. On
 * x86 both compile to the same plain loads and stores. */
#ifndef RTE_USE_C11_MEM_MODEL
#define RTE_USE_C11_MEM_MODEL 1
#endif
#include <rte_ring.h>

#include "dev_payload.h"
#include "vqb_rte_ring.h"

struct rr_pkt {
	uint64_t seq;
	uint8_t data[];
};

struct rr {
	struct rte_ring *to_dev, *to_drv;
	uint32_t stream_len;
	bool rx;
	uint32_t batch;
	atomic_bool stop;
	uint64_t dev_errors, dev_pkts; /* device thread only; read after join */
	uint64_t dev_seq;
};

/* One device step: dequeue a burst from the driver, verify each packet
 * (RX: fill it), return it. Both the device thread and the inline mode
 * (the driver's own thread, between its enqueue and its dequeue) call it.
 * Returns the packets served. */
static unsigned rr_device_step(struct rr *r, void **objs, uint32_t burst)
{
	unsigned n = rte_ring_sc_dequeue_burst(r->to_dev, objs, burst, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct rr_pkt *p = objs[i];
		if (r->rx)
			dev_stream_fill(p->data, r->stream_len, r->dev_seq, 0);
		else if (dev_stream_check(p->data, r->stream_len, r->dev_seq, 0))
			r->dev_errors++;
		r->dev_seq++;
	}
	r->dev_pkts += n;
	unsigned k = 0;
	while (k < n)
		k += rte_ring_sp_enqueue_burst(r->to_drv, objs + k, n - k, NULL);
	return n;
}

static void *rr_device(void *arg)
{
	struct rr *r = arg;
	void *objs[512];
	uint32_t burst = r->batch < 512 ? r->batch : 512;
	/* A1: pairs with R1 in vqb_rte_ring_run */
	while (!atomic_load_explicit(&r->stop, memory_order_acquire)) {
		if (!rr_device_step(r, objs, burst))
			_mm_pause();
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The driver side: a pool of packets, those not in the rings on a stack. */
struct rr_drv {
	void **free_pkts;
	uint32_t nfree;
	uint64_t done, errors;  /* completed; RX payloads that failed the check */
	uint64_t cycles;        /* TSC ticks of the loop */
	double secs;
};

/* The device thread, pinned to the device CPU of a thread device. */
static int rr_start_device(const struct vqb_config *c, const struct vqb_placement *pl, struct rr *r,
			   pthread_t *th)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	if (c->device == VQB_DEV_THREAD && pl->device_cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(pl->device_cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	atomic_store_explicit(&r->stop, false, memory_order_relaxed); /* before the thread exists */
	int rc = -pthread_create(th, &attr, rr_device, r);
	pthread_attr_destroy(&attr);
	return rc;
}

/* Post bursts of packets to the device and take them back (RX: checking
 * each), until c->packets complete or c->seconds pass. With the inline
 * device (inline_dev) the device step runs here, between the enqueue and
 * the dequeue, as vqbench's inline device does for the virtqueues.
 * Never inlined or cloned: scripts/callgrind-counts.py collects inside it
 * (vqb_traffic_run_sync's counterpart) to count rte_ring's instructions. */
#ifdef __clang__ /* clang has no noclone (it warns) and needs only noinline */
#define VQB_RR_KEEP_SYMBOL noinline
#else
#define VQB_RR_KEEP_SYMBOL noinline, noclone
#endif
static __attribute__((VQB_RR_KEEP_SYMBOL)) void vqb_rte_ring_drive(const struct vqb_config *c, struct rr *r,
								 struct rr_drv *d, bool inline_dev)
{
	void *objs[512];
	uint32_t burst = c->batch < 512 ? c->batch : 512;
	uint64_t posted = 0, seq_tx = 0, seq_rx = 0, loops = 0;
	double t0 = now_s();
	uint64_t c0 = __rdtsc();
	for (;;) {
		uint32_t want = burst;
		if (c->packets && posted + want > c->packets)
			want = (uint32_t)(c->packets - posted);
		if (want > d->nfree)
			want = d->nfree;
		for (uint32_t i = 0; i < want; i++) {
			struct rr_pkt *p = d->free_pkts[--d->nfree];
			if (!r->rx)
				dev_stream_fill(p->data, r->stream_len, seq_tx, 0);
			p->seq = seq_tx++;
			objs[i] = p;
		}
		if (want) {
			unsigned k = rte_ring_sp_enqueue_burst(r->to_dev, objs, want, NULL);
			for (unsigned i = k; i < want; i++) /* cannot happen: capacity > pool */
				d->free_pkts[d->nfree++] = objs[i];
			posted += k;
		}
		if (inline_dev)
			rr_device_step(r, objs, burst);
		unsigned got = rte_ring_sc_dequeue_burst(r->to_drv, objs, burst, NULL);
		for (unsigned i = 0; i < got; i++) {
			struct rr_pkt *p = objs[i];
			if (r->rx && dev_stream_check(p->data, r->stream_len, seq_rx, 0))
				d->errors++;
			seq_rx++;
			d->free_pkts[d->nfree++] = p;
		}
		d->done += got;
		if (c->packets && d->done >= c->packets)
			break;
		if (!c->packets && (++loops & 255) == 0 && now_s() - t0 >= c->seconds)
			break;
	}
	d->cycles = __rdtsc() - c0;
	d->secs = now_s() - t0;
}

/* The metrics row: rates, and the footprint of two rings of cap slots and
 * a pool of n packets of pkt_sz bytes. */
static void rr_metrics(const struct rr_drv *d, const struct rr *r, uint32_t cap, size_t pkt_sz, uint32_t n,
		       struct vqb_metrics *m)
{
	m->packets = d->done;
	m->errors = d->errors;
	m->seconds = d->secs;
	m->mpps = (double)d->done / d->secs / 1e6;
	m->gbps = (double)d->done * r->stream_len * 8 / d->secs / 1e9;
	m->ns_per_pkt = d->secs * 1e9 / (double)d->done;
	m->cycles_per_pkt = (double)d->cycles / (double)d->done;
	m->maps_per_pkt = m->unmaps_per_pkt = m->syncs_per_pkt = m->bytes_copied_per_pkt = 0;
	m->bounced_per_pkt = m->iotlb_flushes_per_pkt = m->iotlb_timer_flushes_per_pkt = 0;
	m->iova_allocs_per_pkt = m->iova_frees_per_pkt = 0;
	m->tracking_bytes = 0;
	m->footprint_bytes = rte_ring_get_memsize(cap) * 2u + pkt_sz * n;
	m->bytes_per_inflight = (double)m->footprint_bytes / n;
}

int vqb_rte_ring_run(const struct vqb_config *c, const struct vqb_placement *pl,
		     struct vqb_metrics *m, char *msg, size_t len)
{
	static unsigned run_id;
	char name[2][RTE_RING_NAMESIZE];
	struct rr r = {.stream_len = DEV_NET_HDR_BYTES + c->pkt_bytes, .rx = c->dir == VQB_DIR_RX,
		       .batch = c->batch};
	uint32_t n = c->queue_size, cap = 1;
	while (cap < n + 1)
		cap <<= 1;
	snprintf(name[0], sizeof(name[0]), "vqb_td%u", run_id);
	snprintf(name[1], sizeof(name[1]), "vqb_tr%u", run_id++);
	r.to_dev = rte_ring_create(name[0], cap, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	r.to_drv = rte_ring_create(name[1], cap, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	size_t pkt_sz = (sizeof(struct rr_pkt) + r.stream_len + 63) & ~(size_t)63;
	char *pool = aligned_alloc(64, pkt_sz * n);
	struct rr_drv d = {.free_pkts = calloc(n, sizeof(void *)), .nfree = n};
	int rc = 0;
	if (!r.to_dev || !r.to_drv || !pool || !d.free_pkts) {
		snprintf(msg, len, "--layout rte_ring: cannot create rings or pool (%s; is DPDK's EAL up?)",
			 rte_strerror(rte_errno));
		rc = -ENOMEM;
		goto out;
	}
	memset(pool, 0, pkt_sz * n);
	for (uint32_t i = 0; i < n; i++)
		d.free_pkts[i] = pool + (size_t)i * pkt_sz;
	bool inline_dev = c->device == VQB_DEV_INLINE;
	pthread_t th;
	if (!inline_dev && (rc = rr_start_device(c, pl, &r, &th)) < 0) {
		snprintf(msg, len, "--layout rte_ring: cannot start the device thread");
		goto out;
	}
	vqb_rte_ring_drive(c, &r, &d, inline_dev);
	if (!inline_dev) {
		/* R1: pairs with A1 in rr_device */
		atomic_store_explicit(&r.stop, true, memory_order_release);
		pthread_join(th, NULL);
	}
	d.errors += r.dev_errors;
	rr_metrics(&d, &r, cap, pkt_sz, n, m);
	if (d.errors) {
		snprintf(msg, len, "--layout rte_ring: %llu packet(s) failed verification", (unsigned long long)d.errors);
		rc = -EIO;
	}
out:
	rte_ring_free(r.to_dev);
	rte_ring_free(r.to_drv);
	free(pool);
	free(d.free_pkts);
	return rc;
}
