/* SPDX-License-Identifier: MIT */
/*
 * vqb_traffic_loop.c - the packet loop of one traffic engine: post, kick,
 * reap and verify packets through a tracking policy, a dma backend and the
 * software device, alone or in step with other queues (vqb_traffic_sync).
 * Set-up and teardown are in vqb_traffic_setup.c.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "dev.h"
#include "dev_payload.h"
#include "vqb_traffic_pvt.h"

double vqb_tsc_hz(void)
{
	static double hz;
	if (hz > 0)
		return hz;
	struct timespec a, b, s = {0, 20 * 1000 * 1000};
	clock_gettime(CLOCK_MONOTONIC, &a);
	uint64_t t0 = __rdtsc();
	nanosleep(&s, NULL);
	uint64_t t1 = __rdtsc();
	clock_gettime(CLOCK_MONOTONIC, &b);
	double sec = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
	hz = (double)(t1 - t0) / sec;
	return hz;
}

static uint32_t pick_descs(struct vqb_traffic *t)
{
	if (t->p.descs_lo == t->p.descs_hi)
		return t->p.descs_lo;
	/* xorshift64 */
	uint64_t x = t->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	t->rng = x;
	if (t->p.descs_kind == VQB_DESCS_MIX)
		return t->mix[x >> 57];
	uint32_t span = t->p.descs_hi - t->p.descs_lo + 1;
	return t->p.descs_lo + (uint32_t)(((x >> 32) * span) >> 32);
}

/* Post up to `budget` chains on q. @return posted, or -1 (err set). */
static int post(struct vqb_traffic *t, struct queue *q, uint32_t budget, char *err, size_t errlen)
{
	uint32_t posted = 0;
	while (posted < budget && q->nfree) {
		uint32_t n = pick_descs(t);
		if (vq_num_free(vq_track_vq(q->tr)) < (t->p.indirect ? 1u : n))
			break;
		uint32_t ci = q->fifo ? q->free_ctx[q->fifo_head] : q->free_ctx[q->nfree - 1];
		struct pkt *pk = &q->pkts[ci];
		pk->n = n;
		pk->seq = q->next_seq;
		pk->stream_len = DEV_NET_HDR_BYTES + t->p.pkt_bytes;
		size_t off = 0;
		for (uint32_t k = 0; k < n; k++) {
			pk->bufs[k].len = t->lens[n][k];
			if (q->kind == DEV_Q_TX && t->fmt)
				t->fmt->tx_fill(t->fmt, pk->bufs[k].cpu, pk->bufs[k].len, pk->seq, off);
			else if (q->kind == DEV_Q_TX)
				dev_stream_fill(pk->bufs[k].cpu, pk->bufs[k].len, pk->seq, off);
			off += pk->bufs[k].len;
		}
		int rc = vq_track_add(q->tr, pk->bufs, n, pk, t->p.indirect);
		if (rc == -ENOSPC || rc == -ENOMEM) {
			/* the queues share the backend: a chain in flight on
			 * either one frees IOVA space or bounce slots */
			bool idle = true;
			for (unsigned i = 0; i < t->nq; i++)
				idle &= t->q[i].nfree == t->q[i].nctx;
			/* nothing in flight to wait for: a transient failure gets
			 * a few more tries, then the run stops with the cause */
			if (idle && ++t->idle_map_failures > IDLE_MAP_RETRIES) {
				t->exhausted = rc == -ENOMEM;
				return fail(err, errlen, "%s (nothing in flight to wait for, %u tries)",
					    vq_track_last_error(), IDLE_MAP_RETRIES + 1);
			}
			break; /* back-pressure: wait for completions, or retry */
		}
		if (rc < 0)
			return fail(err, errlen, "%s", vq_track_last_error());
		t->idle_map_failures = 0;
		q->nfree--;
		if (q->fifo)
			q->fifo_head = q->fifo_head + 1 == q->nctx ? 0 : q->fifo_head + 1;
		q->next_seq++;
		posted++;
	}
	if (posted && vq_track_kick_prepare(q->tr) == 1) {
		dev_kick(t->dev, q->kind);
		t->kicks++;
	}
	return (int)posted;
}

static int reap(struct vqb_traffic *t, struct queue *q, char *err, size_t errlen)
{
	void *token;
	uint32_t len;
	int rc, n = 0;

	while ((rc = vq_track_get_used(q->tr, &token, &len)) == 1) {
		struct pkt *pk = token;
		if (q->kind == DEV_Q_RX) /* premapped: sync for the CPU before reading */
			vq_track_sync_for_cpu(q->tr, pk->bufs, pk->n);
		if (q->kind == DEV_Q_RX && t->fmt) {
			/* the device's own format (vfio: an ARP reply), byte by
			 * byte; then poison the buffer so a chain the device
			 * returns without writing it never passes */
			size_t off = 0, bad = 0, want = t->fmt->rx_len;
			for (uint32_t k = 0; k < pk->n && off < want; k++) {
				size_t l = pk->bufs[k].len < want - off ? pk->bufs[k].len : want - off;
				bad += t->fmt->rx_check(t->fmt, pk->bufs[k].cpu, l, off);
				memset(pk->bufs[k].cpu, 0xa5, l);
				off += l;
			}
			/* len 0: see dev_format.used_len_missing */
			bool len_ok = len == want || (len == 0 && t->fmt->used_len_missing);
			if (bad || off != want || !len_ok) {
				t->errors++;
				t->lost_bytes += bad ? bad : want;
			}
			q->expect_seq++;
		} else if (q->kind == DEV_Q_RX && t->p.rx_len_only) {
			if (len != pk->stream_len) {
				t->errors++;
				t->lost_bytes += pk->stream_len;
			}
		} else if (q->kind == DEV_Q_RX) {
			size_t off = 0, bad = 0;
			if (t->rx_num_buffers) {
				/* virtio_net_hdr_v1.num_buffers (bytes 10-11, in the
				 * first buffer: it always holds the whole header) */
				uint8_t *h = pk->bufs[0].cpu;
				bad += (size_t)(h[10] != (uint8_t)t->rx_num_buffers) +
				       (size_t)(h[11] != (uint8_t)(t->rx_num_buffers >> 8));
				h[10] = h[11] = 0;
			}
			for (uint32_t k = 0; k < pk->n; k++) {
				bad += dev_stream_check(pk->bufs[k].cpu, pk->bufs[k].len, q->expect_seq, off);
				off += pk->bufs[k].len;
			}
			if (bad || len != pk->stream_len) {
				t->errors++;
				t->lost_bytes += bad ? bad : pk->stream_len;
			}
			q->expect_seq++;
		}
		if (q->fifo) {
			uint32_t tail = q->fifo_head + q->nfree;
			q->free_ctx[tail >= q->nctx ? tail - q->nctx : tail] = (uint32_t)(pk - q->pkts);
			q->nfree++;
		} else {
			q->free_ctx[q->nfree++] = (uint32_t)(pk - q->pkts);
		}
		q->done++;
		n++;
	}
	if (rc < 0)
		return fail(err, errlen, "%s queue broken: %s", q->kind == DEV_Q_TX ? "tx" : "rx",
			    vq_broken_reason(vq_track_vq(q->tr)));
	return n;
}

/* Set from a signal handler: lock-free, so the store is async-signal-safe.
 * A flag that orders nothing: relaxed on both sides. */
static atomic_bool stop_requested;
_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2, "the stop flag must be lock-free for a signal handler");

void vqb_traffic_request_stop(void)
{
	atomic_store_explicit(&stop_requested, true, memory_order_relaxed);
}

bool vqb_traffic_stop_requested(void)
{
	return atomic_load_explicit(&stop_requested, memory_order_relaxed);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* GCC-only attributes; clang has neither noipa nor noclone (it warns,
 * -Wunknown-attributes) and needs only noinline for the same effect. */
#ifdef __clang__
#define VQB_NOIPA noinline
#define VQB_NOINLINE_NOCLONE noinline
#else
#define VQB_NOIPA noipa
#define VQB_NOINLINE_NOCLONE noinline, noclone
#endif

/* noipa: under link-time optimisation GCC 12 propagates a NULL s from a
 * guarded call site into this function and warns (-Wstringop-overflow) */
__attribute__((VQB_NOIPA, cold)) void vqb_traffic_sync_fail(struct vqb_traffic_sync *s)
{
	atomic_store_explicit(&s->failed, 1u, memory_order_relaxed);
	pthread_barrier_wait(&s->start);
}

static bool sync_failed(struct vqb_traffic_sync *s)
{
	return s && atomic_load_explicit(&s->failed, memory_order_relaxed);
}

int vqb_traffic_run(struct vqb_traffic *t, uint64_t packets, double seconds,
		    struct vqb_traffic_result *r, char *err, size_t errlen)
{
	return vqb_traffic_run_sync(t, NULL, packets, seconds, r, err, errlen);
}

/* noinline, noclone: the packet loop keeps its own symbol under link-time
 * optimisation, so callgrind's --toggle-collect/--dump-after=
 * vqb_traffic_run_sync (scripts/callgrind-counts.py) find it */
__attribute__((VQB_NOINLINE_NOCLONE)) int vqb_traffic_run_sync(struct vqb_traffic *t, struct vqb_traffic_sync *s,
							     uint64_t packets,
			 double seconds, struct vqb_traffic_result *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	uint64_t base_err = t->errors, base_lost = t->lost_bytes, base_kicks = t->kicks;
	uint64_t base_done[DEV_NQ] = {0};
	for (unsigned i = 0; i < t->nq; i++)
		base_done[i] = t->q[i].done;
	struct dev_counters dc0;
	dev_get_counters(t->dev, &dc0);
	if (dev_start(t->dev) < 0) {
		fail(err, errlen, "%s", dev_last_error());
		if (s)
			vqb_traffic_sync_fail(s);
		return -1;
	}
	if (s)
		pthread_barrier_wait(&s->start);
	double t0 = now_s(), last_progress = t0;
	uint64_t c0 = __rdtsc(), done = 0, posted = 0, loops = 0, last_done = 0;
	int rc = 0;

	/* echo: each queue carries half of the packets; q[0] is TX, q[1] RX */
	uint64_t echo_quota = (packets + 1) / 2, seq0[DEV_NQ] = {0};
	for (unsigned i = 0; i < t->nq; i++)
		seq0[i] = t->q[i].next_seq;
	if (sync_failed(s)) {
		snprintf(r->note, sizeof(r->note), "stopped: another queue failed");
		goto out;
	}
	for (;;) {
		for (unsigned i = 0; i < t->nq; i++) {
			struct queue *q = &t->q[i];
			uint32_t budget = t->p.batch;
			if (t->p.echo) {
				uint64_t left = packets ? echo_quota - (q->next_seq - seq0[i]) : UINT64_MAX;
				if (q->kind == DEV_Q_TX && t->q[1].next_seq - q->next_seq < left)
					left = t->q[1].next_seq - q->next_seq; /* an RX buffer waits for each */
				if (left < budget)
					budget = (uint32_t)left;
			} else if (packets && posted + budget > packets) {
				budget = (uint32_t)(packets - posted);
			}
			if (budget) {
				int pr = post(t, q, budget, err, errlen);
				if (pr < 0) {
					/* exhaustion: the caller makes it a result (status
					 * exhausted, packets until then) */
					if (t->exhausted) {
						r->exhausted = r->stopped_early = true;
						snprintf(r->note, sizeof(r->note), "%s", err);
					}
					rc = -1;
					goto out;
				}
				posted += (uint64_t)pr;
			}
		}
		int dp = dev_poll(t->dev);
		if (dp < 0) {
			rc = fail(err, errlen, "%s", dev_error(t->dev) ? dev_error(t->dev) : "device failed");
			goto out;
		}
		for (unsigned i = 0; i < t->nq; i++) {
			int n = reap(t, &t->q[i], err, errlen);
			if (n < 0) {
				rc = -1;
				goto out;
			}
			done += (uint64_t)n;
		}
		/* the device acts after completion, before the driver reuses
		 * the buffers it just got back */
		if (t->p.late_writes)
			dev_late_writes(t->dev);
		if (packets && done >= packets)
			break;
		if ((++loops & 255) == 0) {
			if (vqb_traffic_stop_requested()) {
				r->interrupted = true;
				rc = fail(err, errlen, "interrupted (SIGINT or SIGTERM) after %llu packets",
					  (unsigned long long)done);
				goto out;
			}
			if (sync_failed(s)) {
				snprintf(r->note, sizeof(r->note), "stopped: another queue failed");
				break;
			}
			double now = now_s();
			if (!packets && now - t0 >= seconds)
				break;
			if (done != last_done) {
				last_done = done;
				last_progress = now;
			} else if (now - last_progress > 5.0) {
				rc = fail(err, errlen, "no completion for 5 s with %llu packets in flight: device stalled (%s)",
					  (unsigned long long)(posted - done),
					  dev_error(t->dev) ? dev_error(t->dev) : "no device error");
				goto out;
			}
		}
	}
out:
	r->tsc_cycles = __rdtsc() - c0;
	r->t_start = t0;
	r->t_end = now_s();
	r->seconds = r->t_end - t0;
	if (rc < 0 && s)
		atomic_store_explicit(&s->failed, 1u, memory_order_relaxed);
	r->packets = done;
	/* stop the device before reading its counters (the thread's are
	 * ordered before ours by the join) */
	dev_stop(t->dev);
	for (unsigned i = 0; i < t->nq; i++) {
		if (t->q[i].kind == DEV_Q_TX)
			r->tx_packets = t->q[i].done - base_done[i];
		else
			r->rx_packets = t->q[i].done - base_done[i];
	}
	struct dev_counters dc;
	dev_get_counters(t->dev, &dc);
	t->errors += dc.tx_errors - dc0.tx_errors;
	r->errors = t->errors - base_err;
	r->lost_bytes = t->lost_bytes - base_lost;
	r->kicks = t->kicks - base_kicks;
	r->calls = dc.calls - dc0.calls;
	r->late_writes_landed = dc.late_writes_landed - dc0.late_writes_landed;
	r->late_writes_blocked = dc.late_writes_blocked - dc0.late_writes_blocked;
	r->late_writes_remapped = dc.late_writes_remapped - dc0.late_writes_remapped;
	r->payload_bytes = done * (DEV_NET_HDR_BYTES + t->p.pkt_bytes);
	return rc;
}
