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

/* Chains handed to the tracking layer per call (vq_track_add_burst). */
#define POST_BURST 64

/* What a burst's chains share, read once per burst (the stores into the
 * contexts and the chain array would otherwise make the compiler reload
 * each per chain). */
struct post_burst {
	struct pkt *pkts;
	const uint32_t *free_ctx;
	uint32_t nctx, head;   /* FIFO: the ring's size and its head */
	uint32_t top;          /* LIFO: index of the stack's top */
	bool fifo;
	bool fill;             /* TX: fill the payload */
	bool indirect;
	const struct dev_format *fmt; /* TX fill in the device's format, or NULL */
	uint64_t seq;          /* the burst's first packet */
	uint32_t stream_len;
};

/* The context the nb-th chain of this burst takes (not yet taken off). */
static inline uint32_t next_ctx(const struct post_burst *b, unsigned nb)
{
	if (b->fifo) {
		uint32_t h = b->head + nb;
		return b->free_ctx[h >= b->nctx ? h - b->nctx : h];
	}
	return b->free_ctx[b->top - nb];
}

/* Describe the packet in context ci as the nb-th chain of the burst, n
 * buffers, and (TX) fill its payload. The chain's lengths depend on n
 * alone: they are written only when n differs from the context's last
 * post (always on its first, pk->n 0), so a context reposted with the
 * same n costs a seq, the fill and the chain entry. */
static inline __attribute__((always_inline)) void post_prepare(const struct vqb_traffic *t,
								const struct post_burst *b, unsigned nb,
								uint32_t n, struct vq_track_chain *c, bool tx1)
{
	uint32_t ci = next_ctx(b, nb);
	struct pkt *pk = &b->pkts[ci];
	uint64_t seq = b->seq + nb;
	if (pk->n != n) {
		pk->n = n;
		pk->ci = ci;
		pk->stream_len = b->stream_len;
		for (uint32_t k = 0; k < n; k++)
			pk->bufs[k].len = t->lens[n][k];
	}
	pk->seq = seq;
	if (tx1) /* (a constant where inlined) TX, one buffer, the numbered stream */
		dev_stream_fill(pk->bufs[0].cpu, pk->bufs[0].len, seq, 0);
	else if (b->fill) {
		if (b->fmt) {
			size_t off = 0;
			for (uint32_t k = 0; k < n; k++) {
				b->fmt->tx_fill(b->fmt, pk->bufs[k].cpu, pk->bufs[k].len, seq, off);
				off += pk->bufs[k].len;
			}
		} else if (n == 1) {
			dev_stream_fill(pk->bufs[0].cpu, pk->bufs[0].len, seq, 0);
		} else {
			size_t off = 0;
			for (uint32_t k = 0; k < n; k++) {
				dev_stream_fill(pk->bufs[k].cpu, pk->bufs[k].len, seq, off);
				off += pk->bufs[k].len;
			}
		}
	}
	*c = (struct vq_track_chain){pk->bufs, n, pk, b->indirect};
}

/* Prepare up to lim chains into chains[] within *slots free ring
 * descriptors. fixed (a constant where inlined): every chain has
 * descs_lo buffers, so how many fit is known before the loop; otherwise
 * each chain's count is drawn (pick_descs) and the burst ends at the
 * first that does not fit. @return chains prepared. */
static inline __attribute__((always_inline)) unsigned post_fill(struct vqb_traffic *t, const struct queue *q,
								struct vq_track_chain *chains, unsigned lim,
								unsigned *slots, bool fixed)
{
	const struct post_burst b = {
		.pkts = q->pkts, .free_ctx = q->free_ctx, .nctx = q->nctx, .head = q->fifo_head,
		.top = q->nfree - 1, .fifo = q->fifo, .fill = q->kind == DEV_Q_TX, .indirect = t->p.indirect,
		.fmt = t->fmt, .seq = q->next_seq, .stream_len = DEV_NET_HDR_BYTES + t->p.pkt_bytes,
	};
	unsigned nb = 0;
	if (fixed) {
		uint32_t n = t->p.descs_lo, need = b.indirect ? 1u : n;
		unsigned fit = need == 1 ? *slots : *slots / need;
		if (fit < lim)
			lim = fit;
		if (n == 1 && b.fill && !b.fmt) /* the common TX packet: no per-chain fill tests */
			for (; nb < lim; nb++)
				post_prepare(t, &b, nb, 1, &chains[nb], true);
		else
			for (; nb < lim; nb++)
				post_prepare(t, &b, nb, n, &chains[nb], false);
		*slots -= nb * need;
		return nb;
	}
	while (nb < lim) {
		uint32_t n = pick_descs(t), need = b.indirect ? 1u : n;
		if (*slots < need)
			break;
		*slots -= need;
		post_prepare(t, &b, nb, n, &chains[nb], false);
		nb++;
	}
	return nb;
}

/* A burst stopped by -ENOSPC or -ENOMEM: back-pressure while something is
 * in flight (the queues share the backend: a chain in flight on either one
 * frees IOVA space or bounce slots); with nothing in flight a transient
 * failure gets a few more tries, then the run stops with the cause.
 * @return 0 wait, -1 (err set). */
static int post_pressure(struct vqb_traffic *t, int rc, char *err, size_t errlen)
{
	bool idle = true;
	for (unsigned i = 0; i < t->nq; i++)
		idle &= t->q[i].nfree == t->q[i].nctx;
	if (idle && ++t->idle_map_failures > IDLE_MAP_RETRIES) {
		t->exhausted = rc == -ENOMEM;
		return fail(err, errlen, "%s (nothing in flight to wait for, %u tries)", vq_track_last_error(),
			    IDLE_MAP_RETRIES + 1);
	}
	return 0;
}

/* Post up to `budget` chains on q, up to POST_BURST per vq_track_add_burst
 * call, and publish once. @return posted, or -1 (err set). */
static int post(struct vqb_traffic *t, struct queue *q, uint32_t budget, char *err, size_t errlen)
{
	struct vq_track_chain chains[POST_BURST];
	uint32_t posted = 0;
	bool pressure = false;

	while (posted < budget && q->nfree && !pressure) {
		/* as many chains as contexts, budget and free slots allow */
		unsigned slots = vq_num_free(vq_track_vq(q->tr));
		unsigned lim = budget - posted < POST_BURST ? budget - posted : POST_BURST;
		lim = q->nfree < lim ? q->nfree : lim;
		unsigned nb = t->p.descs_lo == t->p.descs_hi ? post_fill(t, q, chains, lim, &slots, true)
							     : post_fill(t, q, chains, lim, &slots, false);
		if (!nb)
			break;
		int rc = 0;
		unsigned added = (unsigned)vq_track_add_burst(q->tr, chains, nb, &rc);
		if (added)
			t->idle_map_failures = 0;
		q->nfree -= added;
		if (q->fifo) {
			uint32_t h = q->fifo_head + added;
			q->fifo_head = h >= q->nctx ? h - q->nctx : h;
		}
		q->next_seq += added;
		posted += added;
		if (rc == -ENOSPC || rc == -ENOMEM) {
			if (post_pressure(t, rc, err, errlen) < 0)
				return -1;
			pressure = true; /* wait for completions, or retry */
		} else if (rc < 0) {
			return fail(err, errlen, "%s", vq_track_last_error());
		} else if (nb < POST_BURST && posted < budget && q->nfree) {
			break; /* no free slots for the next chain */
		}
	}
	if (posted && vq_track_kick_prepare(q->tr) == 1) {
		dev_kick(t->dev, q->kind);
		t->kicks++;
	}
	return (int)posted;
}

/* Verify one completed RX packet: its payload (or, rx_len_only, its
 * length), counting errors and lost bytes. plain (a constant where
 * inlined): the burst's packets are the numbered stream without a
 * num_buffers value to check (no format, not rx_len_only,
 * rx_num_buffers 0), tested once per burst. */
static inline __attribute__((always_inline)) void reap_rx_one(struct vqb_traffic *t, struct queue *q, struct pkt *pk,
								uint32_t len, bool plain)
{
	vq_track_sync_for_cpu(q->tr, pk->bufs, pk->n); /* premapped: sync for the CPU before reading */
	if (plain) {
		size_t bad;
		if (pk->n == 1) {
			bad = dev_stream_check(pk->bufs[0].cpu, pk->bufs[0].len, q->expect_seq, 0);
		} else {
			size_t off = 0;
			bad = 0;
			for (uint32_t k = 0; k < pk->n; k++) {
				bad += dev_stream_check(pk->bufs[k].cpu, pk->bufs[k].len, q->expect_seq, off);
				off += pk->bufs[k].len;
			}
		}
		if (bad || len != pk->stream_len) {
			t->errors++;
			t->lost_bytes += bad ? bad : pk->stream_len;
		}
		q->expect_seq++;
	} else if (t->fmt) {
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
	} else if (t->p.rx_len_only) {
		if (len != pk->stream_len) {
			t->errors++;
			t->lost_bytes += pk->stream_len;
		}
	} else {
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
}

/* Verify (RX) the n completed packets tokens[] and put their contexts
 * back on the free stack or ring, in completion order; one count. TX has
 * nothing to verify here: the device checked every payload byte. */
static inline __attribute__((always_inline)) void reap_burst(struct vqb_traffic *t, struct queue *q, void *const *tokens,
							       const uint32_t *lens, unsigned n)
{
	if (q->kind == DEV_Q_RX && !t->fmt && !t->p.rx_len_only && !t->rx_num_buffers)
		for (unsigned i = 0; i < n; i++)
			reap_rx_one(t, q, tokens[i], lens[i], true);
	else if (q->kind == DEV_Q_RX)
		for (unsigned i = 0; i < n; i++)
			reap_rx_one(t, q, tokens[i], lens[i], false);
	if (q->fifo) {
		uint32_t tail = q->fifo_head + q->nfree;
		for (unsigned i = 0; i < n; i++, tail++) {
			if (tail >= q->nctx)
				tail -= q->nctx;
			q->free_ctx[tail] = ((const struct pkt *)tokens[i])->ci;
		}
	} else {
		uint32_t *top = q->free_ctx + q->nfree;
		for (unsigned i = 0; i < n; i++)
			top[i] = ((const struct pkt *)tokens[i])->ci;
	}
	q->nfree += n;
	q->done += n;
}

/* Reap every completed chain of q, a burst per vq_track_get_used_burst
 * call. @return reaped, or -1 (err set: the queue broke). */
static int reap(struct vqb_traffic *t, struct queue *q, char *err, size_t errlen)
{
	void *tokens[VQ_TRACK_BURST_MAX];
	uint32_t lens[VQ_TRACK_BURST_MAX];
	int rc, n = 0;

	while ((rc = vq_track_get_used_burst(q->tr, tokens, lens, VQ_TRACK_BURST_MAX)) > 0) {
		reap_burst(t, q, tokens, lens, (unsigned)rc);
		n += rc;
		if (rc < VQ_TRACK_BURST_MAX) {
			/* drained, or broken after rc chains: say so now */
			rc = vq_is_broken(vq_track_vq(q->tr)) ? -EIO : 0;
			break;
		}
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

/* One run's state: where the counters stood before it, and the loop's. */
struct run_state {
	uint64_t packets;          /* to complete; 0: run for `seconds` */
	double seconds;
	uint64_t base_err, base_lost, base_kicks, base_done[DEV_NQ];
	struct dev_counters dc0;
	double t0, last_progress;  /* CLOCK_MONOTONIC s */
	uint64_t c0;               /* TSC at the start */
	uint64_t done, posted, loops, last_done;
	/* echo: each queue carries half of the packets; q[0] is TX, q[1] RX */
	uint64_t echo_quota, seq0[DEV_NQ];
};

/* Post on every queue, each within its budget (the batch, what is left of
 * `packets`, echo's RX buffers). @return 0, or -1 (err set; exhaustion
 * also in r). */
static int post_all(struct vqb_traffic *t, struct run_state *st, struct vqb_traffic_result *r, char *err,
		    size_t errlen)
{
	for (unsigned i = 0; i < t->nq; i++) {
		struct queue *q = &t->q[i];
		uint32_t budget = t->p.batch;
		if (t->p.echo) {
			uint64_t left = st->packets ? st->echo_quota - (q->next_seq - st->seq0[i]) : UINT64_MAX;
			if (q->kind == DEV_Q_TX && t->q[1].next_seq - q->next_seq < left)
				left = t->q[1].next_seq - q->next_seq; /* an RX buffer waits for each */
			if (left < budget)
				budget = (uint32_t)left;
		} else if (st->packets && st->posted + budget > st->packets) {
			budget = (uint32_t)(st->packets - st->posted);
		}
		if (!budget)
			continue;
		int pr = post(t, q, budget, err, errlen);
		if (pr < 0) {
			/* exhaustion: the caller makes it a result (status
			 * exhausted, packets until then) */
			if (t->exhausted) {
				r->exhausted = r->stopped_early = true;
				snprintf(r->note, sizeof(r->note), "%s", err);
			}
			return -1;
		}
		st->posted += (uint64_t)pr;
	}
	return 0;
}

/* Every 256 loops: a stop request, another queue's failure, the time up,
 * a stalled device. @return 0 go on, 1 stop (a result), -1 fail (err). */
static int run_checks(struct vqb_traffic *t, struct vqb_traffic_sync *s, struct run_state *st,
		      struct vqb_traffic_result *r, char *err, size_t errlen)
{
	if (vqb_traffic_stop_requested()) {
		r->interrupted = true;
		return fail(err, errlen, "interrupted (SIGINT or SIGTERM) after %llu packets",
			    (unsigned long long)st->done);
	}
	if (sync_failed(s)) {
		snprintf(r->note, sizeof(r->note), "stopped: another queue failed");
		return 1;
	}
	double now = now_s();
	if (!st->packets && now - st->t0 >= st->seconds)
		return 1;
	if (st->done != st->last_done) {
		st->last_done = st->done;
		st->last_progress = now;
	} else if (now - st->last_progress > 5.0) {
		return fail(err, errlen, "no completion for 5 s with %llu packets in flight: device stalled (%s)",
			    (unsigned long long)(st->posted - st->done),
			    dev_error(t->dev) ? dev_error(t->dev) : "no device error");
	}
	return 0;
}

/* The packet loop: post, let the device act, reap and verify, until
 * `packets` complete, time is up, or something stops it. @return 0 or -1. */
static int packet_loop(struct vqb_traffic *t, struct vqb_traffic_sync *s, struct run_state *st,
		       struct vqb_traffic_result *r, char *err, size_t errlen)
{
	for (;;) {
		if (post_all(t, st, r, err, errlen) < 0)
			return -1;
		if (dev_poll(t->dev) < 0)
			return fail(err, errlen, "%s", dev_error(t->dev) ? dev_error(t->dev) : "device failed");
		for (unsigned i = 0; i < t->nq; i++) {
			int n = reap(t, &t->q[i], err, errlen);
			if (n < 0)
				return -1;
			st->done += (uint64_t)n;
		}
		/* the device acts after completion, before the driver reuses
		 * the buffers it just got back */
		if (t->p.late_writes)
			dev_late_writes(t->dev);
		if (st->packets && st->done >= st->packets)
			return 0;
		if ((++st->loops & 255) == 0) {
			int c = run_checks(t, s, st, r, err, errlen);
			if (c)
				return c < 0 ? -1 : 0;
		}
	}
}

/* The run's result: the loop's times and packets (a failure stops the
 * other queues), the device stopped (before reading its counters: the
 * thread's are ordered before ours by the join), and every counter's
 * change since the start. */
static void run_result(struct vqb_traffic *t, struct vqb_traffic_sync *s, int rc, const struct run_state *st,
		       struct vqb_traffic_result *r)
{
	r->tsc_cycles = __rdtsc() - st->c0;
	r->t_start = st->t0;
	r->t_end = now_s();
	r->seconds = r->t_end - st->t0;
	if (rc < 0 && s)
		atomic_store_explicit(&s->failed, 1u, memory_order_relaxed);
	r->packets = st->done;
	dev_stop(t->dev);
	for (unsigned i = 0; i < t->nq; i++) {
		if (t->q[i].kind == DEV_Q_TX)
			r->tx_packets = t->q[i].done - st->base_done[i];
		else
			r->rx_packets = t->q[i].done - st->base_done[i];
	}
	struct dev_counters dc;
	dev_get_counters(t->dev, &dc);
	t->errors += dc.tx_errors - st->dc0.tx_errors;
	r->errors = t->errors - st->base_err;
	r->lost_bytes = t->lost_bytes - st->base_lost;
	r->kicks = t->kicks - st->base_kicks;
	r->calls = dc.calls - st->dc0.calls;
	r->late_writes_landed = dc.late_writes_landed - st->dc0.late_writes_landed;
	r->late_writes_blocked = dc.late_writes_blocked - st->dc0.late_writes_blocked;
	r->late_writes_remapped = dc.late_writes_remapped - st->dc0.late_writes_remapped;
	r->payload_bytes = st->done * (DEV_NET_HDR_BYTES + t->p.pkt_bytes);
}

/* noinline, noclone: the packet loop keeps its own symbol under link-time
 * optimisation, so callgrind's --toggle-collect/--dump-after=
 * vqb_traffic_run_sync (scripts/callgrind-counts.py) find it */
__attribute__((VQB_NOINLINE_NOCLONE)) int vqb_traffic_run_sync(struct vqb_traffic *t, struct vqb_traffic_sync *s,
							     uint64_t packets,
			 double seconds, struct vqb_traffic_result *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	struct run_state st = {
		.packets = packets, .seconds = seconds,
		.base_err = t->errors, .base_lost = t->lost_bytes, .base_kicks = t->kicks,
	};
	for (unsigned i = 0; i < t->nq; i++)
		st.base_done[i] = t->q[i].done;
	dev_get_counters(t->dev, &st.dc0);
	if (dev_start(t->dev) < 0) {
		fail(err, errlen, "%s", dev_last_error());
		if (s)
			vqb_traffic_sync_fail(s);
		return -1;
	}
	if (s)
		pthread_barrier_wait(&s->start);
	st.t0 = st.last_progress = now_s();
	st.c0 = __rdtsc();
	st.echo_quota = (packets + 1) / 2;
	for (unsigned i = 0; i < t->nq; i++)
		st.seq0[i] = t->q[i].next_seq;
	int rc = 0;
	if (sync_failed(s))
		snprintf(r->note, sizeof(r->note), "stopped: another queue failed");
	else
		rc = packet_loop(t, s, &st, r, err, errlen);
	run_result(t, s, rc, &st, r);
	return rc;
}
