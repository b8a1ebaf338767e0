/* SPDX-License-Identifier: MIT */
/*
 * dev_sw.c - the software device, inline or on its own thread.
 *
 * TX: pop a chain, check every device-readable byte (in place through the
 * pointer the dma backend's translate gave when the packet is one buffer,
 * gathered otherwise) against the packet format (dev_payload.h) and the
 * expected sequence number, push it used with length 0.
 * RX: pop a chain of device-writable buffers, write the next numbered
 * packet, push it used with the bytes written.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev.h"
#include "dev_payload.h"
#include "dev_pvt.h"

struct dev;

#define DEV_LATE_MAX 256u
#define DEV_BURST 32u /* chains per vq_dev_pop_burst / vq_dev_push_burst */

struct dev_late {
	uint64_t addr;
	const void *ptr; /* what addr reached when the chain was served */
	uint32_t len;
};

struct dev_ops {
	const char *name;
	int (*start)(struct dev *d);
	void (*stop)(struct dev *d);
	int (*poll)(struct dev *d);
};

struct dev {
	const struct dev_ops *ops;
	const struct dev_ext_ops *ext; /* a kind from another file (vhost-user) */
	void *impl;                    /* ... and its state */
	struct dev_params p;
	struct vq_dev *q[DEV_NQ];
	uint64_t next_seq[DEV_NQ];
	struct dev_counters c;
	const char *error;
	char errbuf[200];
	uint8_t *scratch; /* TX gather buffer for scattered packets */
	size_t scratch_len;
	/* serve_queue's burst: popped together, served, pushed together */
	struct vq_chain chain[DEV_BURST];
	uint32_t len[DEV_BURST];
	/* late writes: completed RX chains' first writable buffer, written
	 * again at the next poll (after the driver reaped, inline) */
	struct dev_late *late; /* [DEV_LATE_MAX], only with late_writes */
	unsigned nlate;
	pthread_t thread;
	int launch_handle; /* >= 0: started through p.launcher */
	bool running;
	/* Cross-thread words, each on its own cache line so that neither side's
	 * writes invalidate a line the other polls. */
	alignas(64) atomic_bool stop; /* set by dev_stop, read by the device thread every loop */
	alignas(64) atomic_bool failed; /* set by the device thread, read by the driver every poll */
	alignas(64) atomic_uint_fast64_t kicks; /* written by the driver only */
	char pad_end[64 - sizeof(atomic_uint_fast64_t)];
};

static _Thread_local char dev_err[400];

/* struct dev holds cache-line-aligned members: allocate it aligned. */
static struct dev *dev_alloc(void)
{
	struct dev *d = aligned_alloc(64, sizeof(struct dev));
	if (d)
		memset(d, 0, sizeof(*d));
	return d;
}
const char *dev_last_error(void) { return dev_err; }

int dev_set_last_error(int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dev_err, sizeof(dev_err), fmt, ap);
	va_end(ap);
	return rc;
}

__attribute__((format(printf, 2, 3))) static int fail(int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dev_err, sizeof(dev_err), fmt, ap);
	va_end(ap);
	return rc;
}

static void *dev_translate(void *ctx, uint64_t iova, uint32_t len, int write)
{
	return dma_translate(ctx, iova, len, write ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
}

/* The first failure wins; the text names the queue and the rule. */
__attribute__((format(printf, 3, 4))) static void set_error(struct dev *d, enum dev_queue q,
							    const char *fmt, ...)
{
	if (d->error)
		return;
	int n = snprintf(d->errbuf, sizeof(d->errbuf), "software device, %s queue: ",
			 q == DEV_Q_TX ? "tx" : "rx");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->errbuf + n, sizeof(d->errbuf) - (size_t)n, fmt, ap);
	va_end(ap);
	d->error = d->errbuf;
}

/* Check the chain's device-readable bytes against the expected packet
 * (payload word 0 is the sequence number, so a packet out of sequence fails
 * the same comparison as a corrupted one). A packet in one buffer is
 * checked where it lies; a scattered one is gathered first, so the check
 * runs word by word over the whole stream instead of byte by byte over
 * pieces that end inside a word. */
static bool serve_tx(struct dev *d, const struct vq_chain *c, uint64_t seq)
{
	size_t n, bad;
	if (c->nbufs && !c->buf[0].write && c->buf[0].len == c->out_bytes) {
		n = c->out_bytes;
		bad = dev_stream_check(c->buf[0].ptr, n, seq, 0);
	} else {
		n = c->out_bytes < d->scratch_len ? c->out_bytes : d->scratch_len;
		n = vq_dev_read(c, 0, d->scratch, n);
		bad = dev_stream_check(d->scratch, n, seq, 0);
	}
	return n < DEV_NET_HDR_BYTES + 8 || bad;
}

/* serve_tx over c[0..n-1], each checked against its own packet number;
 * the sequence, tx_errors and bytes are added once for the burst. TX
 * writes nothing: every len is 0. */
static void serve_tx_burst(struct dev *d, const struct vq_chain *c, uint32_t *len, unsigned n)
{
	uint64_t seq = d->next_seq[DEV_Q_TX], errors = 0, bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		errors += serve_tx(d, &c[i], seq + i);
		bytes += c[i].out_bytes;
		len[i] = 0;
	}
	d->next_seq[DEV_Q_TX] = seq + n;
	d->c.tx_errors += errors;
	d->c.bytes[DEV_Q_TX] += bytes;
}

static uint32_t serve_rx(struct dev *d, const struct vq_chain *c)
{
	uint64_t seq = d->next_seq[DEV_Q_RX]++;
	size_t want = DEV_NET_HDR_BYTES + d->p.rx_payload_bytes;
	if (c->in_bytes < want) {
		d->c.rx_short++;
		want = c->in_bytes;
	}
	/* write the stream piece by piece straight into the buffers (one
	 * writable buffer with room for it all: the common case, direct) */
	size_t off = 0;
	if (c->nbufs == 1 && c->buf[0].write && c->buf[0].len >= want) {
		dev_stream_fill(c->buf[0].ptr, want, seq, 0);
		off = want;
	}
	for (unsigned i = 0; i < c->nbufs && off < want; i++) {
		const struct vq_dev_buf *b = &c->buf[i];
		if (!b->write)
			continue;
		size_t k = b->len < want - off ? b->len : want - off;
		dev_stream_fill(b->ptr, k, seq, off);
		off += k;
	}
	d->c.bytes[DEV_Q_RX] += off;
	if (__builtin_expect(!d->p.late_writes, 1))
		return (uint32_t)off;
	for (unsigned i = 0; i < c->nbufs; i++)
		if (c->buf[i].write) {
			if (d->nlate < DEV_LATE_MAX)
				d->late[d->nlate++] = (struct dev_late){ c->buf[i].addr, c->buf[i].ptr,
									c->buf[i].len < 8 ? c->buf[i].len : 8 };
			break;
		}
	return (uint32_t)off;
}

static __attribute__((cold)) int push_failed(struct dev *d, enum dev_queue qi,
					     const struct vq_chain *c, uint32_t len)
{
	const char *why = vq_dev_broken_reason(d->q[qi]);
	set_error(d, qi, "cannot push chain %u used (%u bytes written, %u writable, %u descriptors): %s",
		  c->id, len, c->in_bytes, c->ndesc, why ? why : "refused by vq_dev_push");
	return -EIO;
}

/* vq_dev_pop failed: the device stops, naming the ring's reason. */
static __attribute__((cold)) int pop_failed(struct dev *d, enum dev_queue qi, int rc)
{
	const char *why = vq_dev_broken_reason(d->q[qi]);
	d->c.invalid++;
	if (why)
		set_error(d, qi, "chain rejected: %s", why);
	else
		set_error(d, qi, "chain rejected (vq_dev_pop %d)", rc);
	return -EIO;
}

/* vq.h: -E2BIG is a valid chain of more buffers than VQ_DEV_MAX_SEGS,
 * consumed by the pop, which must still be pushed. Not served: the caller
 * pushes it used with the length returned (0); its packet number is spent
 * (TX: counted as a payload error; RX: the driver finds 0 bytes) and it is
 * counted in too_long, not in pkts. */
static __attribute__((cold)) uint32_t too_long(struct dev *d, enum dev_queue qi)
{
	d->c.too_long++;
	d->next_seq[qi]++;
	if (qi == DEV_Q_TX)
		d->c.tx_errors++;
	return 0;
}

/* The device writes, after completion, to a buffer it was given before: the
 * DMA backend decides whether it reaches the buffer the driver got back
 * (landed: no IOMMU, a mapping never unmapped, a stale IOTLB entry), faults
 * (blocked: an IOMMU whose mapping is gone), or reaches whatever buffer
 * was mapped at that IOVA since (remapped: IOVA reuse). The write carries
 * the bytes already there, so what it would destroy is counted, not done. */
void dev_late_writes(struct dev *d)
{
	if (d->ext)
		return;
	for (unsigned i = 0; i < d->nlate; i++) {
		uint8_t *p = dma_translate(d->p.dma, d->late[i].addr, d->late[i].len, DMA_FROM_DEVICE);
		if (!p) {
			d->c.late_writes_blocked++;
			continue;
		}
		if (p != d->late[i].ptr) {
			d->c.late_writes_remapped++;
			continue;
		}
		uint8_t tmp[8];
		memcpy(tmp, p, d->late[i].len);
		memcpy(p, tmp, d->late[i].len);
		d->c.late_writes_landed++;
	}
	d->nlate = 0;
}

/* Pop a burst, serve each chain, push the burst; repeat up to the budget.
 * Every chain keeps vq_dev_pop's validation and vq_dev_push's checks (the
 * burst forms run them per chain); counters are added once per poll. */
static int serve_queue(struct dev *d, enum dev_queue qi)
{
	struct vq_dev *q = d->q[qi];
	uint32_t budget = d->p.budget ? d->p.budget : 64;
	uint32_t done = 0, served = 0; /* served: done but too-long chains */

	if (!q)
		return 0;
	while (done < budget) {
		unsigned want = budget - done < DEV_BURST ? budget - done : DEV_BURST;
		int st;
		unsigned got = vq_dev_pop_burst(q, d->chain, want, &st);
		/* -E2BIG: the last one filled is too long (got >= 1) */
		unsigned full = got - (st == -E2BIG);
		if (qi == DEV_Q_TX)
			serve_tx_burst(d, d->chain, d->len, full);
		else
			for (unsigned i = 0; i < full; i++)
				d->len[i] = serve_rx(d, &d->chain[i]);
		served += full;
		if (__builtin_expect(full < got, 0))
			d->len[full] = too_long(d, qi); /* consumed: pushed, not served */
		if (__builtin_expect(st < 0 && st != -E2BIG, 0)) {
			/* the chains before the invalid one were served, as
			 * one by one; the device is broken: none is pushed */
			d->c.pkts[qi] += served;
			return pop_failed(d, qi, st);
		}
		unsigned pushed = vq_dev_push_burst(q, d->chain, d->len, got);
		if (__builtin_expect(pushed < got, 0)) {
			d->c.pkts[qi] += served;
			return push_failed(d, qi, &d->chain[pushed], d->len[pushed]);
		}
		done += got;
		if (got < want && st != -E2BIG)
			break; /* ring empty */
	}
	d->c.pkts[qi] += served; /* once per poll, not per chain */
	if (done && vq_dev_publish(q) == 1)
		d->c.calls++;
	return (int)done;
}

static int poll_once(struct dev *d)
{
	int a = serve_queue(d, DEV_Q_TX);
	if (a < 0)
		return a;
	int b = serve_queue(d, DEV_Q_RX);
	if (b < 0)
		return b;
	d->c.polls++;
	if (a + b == 0)
		d->c.empty_polls++;
	return a + b;
}

/* ---- inline ---- */
static int inline_start(struct dev *d) { (void)d; return 0; }
static void inline_stop(struct dev *d) { (void)d; }

/* ---- thread ---- */
static void *thread_main(void *arg)
{
	struct dev *d = arg;
	/* A1: pairs with R1 in thread_stop: once stop is seen, the driver no
	 * longer expects progress. */
	while (!atomic_load_explicit(&d->stop, memory_order_acquire)) {
		int rc = poll_once(d);
		if (rc < 0) {
			/* R2: pairs with A2 in thread_poll: d->error is set before. */
			atomic_store_explicit(&d->failed, true, memory_order_release);
			break;
		}
		if (rc == 0)
			__builtin_ia32_pause();
	}
	return NULL;
}

static int thread_start(struct dev *d)
{
	atomic_store_explicit(&d->stop, false, memory_order_relaxed); /* before the thread exists */
	atomic_store_explicit(&d->failed, false, memory_order_relaxed);
	d->launch_handle = -1;
	if (d->p.launcher) {
		int h = d->p.launcher->launch(thread_main, d, d->p.cpu, d->p.launcher->ctx);
		if (h >= 0) {
			d->launch_handle = h;
			d->running = true;
			return 0;
		}
	}
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	if (d->p.cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(d->p.cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	int rc = pthread_create(&d->thread, &attr, thread_main, d);
	pthread_attr_destroy(&attr);
	if (rc)
		return fail(-rc, "software device: cannot start its thread on CPU %d: %s", d->p.cpu,
			    strerror(rc));
	d->running = true;
	return 0;
}

static void thread_stop(struct dev *d)
{
	if (!d->running)
		return;
	/* R1: pairs with A1 in thread_main. */
	atomic_store_explicit(&d->stop, true, memory_order_release);
	/* join orders the thread's counters before our reads */
	if (d->launch_handle >= 0)
		d->p.launcher->join(d->launch_handle, d->p.launcher->ctx);
	else
		pthread_join(d->thread, NULL);
	d->running = false;
}

static int thread_poll(struct dev *d)
{
	/* A2: pairs with R2 in thread_main, so dev_error() is readable. */
	return atomic_load_explicit(&d->failed, memory_order_acquire) ? -EIO : 0;
}

static const struct dev_ops dev_kinds[] = {
	{"inline", inline_start, inline_stop, poll_once},
	{"thread", thread_start, thread_stop, thread_poll},
};

const char *dev_kind_name(unsigned i)
{
	return i < sizeof(dev_kinds) / sizeof(dev_kinds[0]) ? dev_kinds[i].name : NULL;
}

/* Device kinds in other files, matched by prefix. */
static const struct dev_ext_ops *const dev_ext_kinds[] = {&dev_vhost_user_ops, &dev_vfio_ops};

static int dev_open_ext(const struct dev_params *p, const struct dev_ext_ops *ext, struct dev **out)
{
	if (!p->ring[DEV_Q_TX] && !p->ring[DEV_Q_RX])
		return fail(-EINVAL, "device '%s': needs at least one queue", p->kind);
	struct dev *d = dev_alloc();
	if (!d)
		return fail(-ENOMEM, "device '%s': out of memory", p->kind);
	d->ext = ext;
	d->p = *p;
	int rc = ext->open(p, p->kind + strlen(ext->prefix), &d->impl);
	if (rc < 0) {
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int dev_open(const struct dev_params *p, struct dev **out)
{
	const struct dev_ops *ops = NULL;
	for (unsigned i = 0; p->kind && i < sizeof(dev_ext_kinds) / sizeof(dev_ext_kinds[0]); i++)
		if (!strncmp(p->kind, dev_ext_kinds[i]->prefix, strlen(dev_ext_kinds[i]->prefix)))
			return dev_open_ext(p, dev_ext_kinds[i], out);
	for (unsigned i = 0; dev_kind_name(i); i++)
		if (p->kind && !strcmp(p->kind, dev_kinds[i].name))
			ops = &dev_kinds[i];
	if (!ops)
		return fail(-ENOENT, "device '%s': no such device kind (allowed: inline, thread, vhost-user:PATH, vfio:BDF)",
			    p->kind ? p->kind : "(null)");
	if (!p->dma || (!p->ring[DEV_Q_TX] && !p->ring[DEV_Q_RX]))
		return fail(-EINVAL, "device '%s': needs a dma backend and at least one queue", p->kind);
	/* dev_late_writes() runs on the driver's thread: only the inline
	 * device serves chains there too */
	if (p->late_writes && strcmp(p->kind, "inline"))
		return fail(-EINVAL, "device '%s': late_writes needs the inline device (a late write must come "
			    "between the driver's reaping and its reuse of the buffers)", p->kind);
	struct dev *d = dev_alloc();
	if (!d)
		return fail(-ENOMEM, "device '%s': out of memory", p->kind);
	d->ops = ops;
	d->p = *p;
	d->scratch_len = (size_t)VQ_DEV_MAX_SEGS * 65536u;
	d->scratch = malloc(d->scratch_len);
	if (p->late_writes)
		d->late = calloc(DEV_LATE_MAX, sizeof(*d->late));
	int rc = d->scratch && (d->late || !p->late_writes) ? 0 : -ENOMEM;
	for (int q = 0; q < DEV_NQ && rc == 0; q++) {
		if (!p->ring[q])
			continue;
		rc = vq_dev_create(&p->cfg, p->ring[q], dev_translate, p->dma, &d->q[q]);
		if (rc == 0) {
			vq_dev_set_batch_used(d->q[q], p->batch_used);
			vq_dev_set_translate_identity(d->q[q], dma_translate_is_identity(p->dma));
		}
	}
	if (rc < 0) {
		dev_close(d);
		return fail(rc, "device '%s': cannot attach to the rings (%d)", p->kind, rc);
	}
	*out = d;
	return 0;
}

int dev_start(struct dev *d) { return d->ext ? d->ext->start(d->impl) : d->ops->start(d); }

void dev_stop(struct dev *d)
{
	if (d->ext)
		d->ext->stop(d->impl);
	else
		d->ops->stop(d);
}

void dev_reset(struct dev *d)
{
	if (d->ext && d->ext->reset)
		d->ext->reset(d->impl);
	else
		dev_stop(d);
}

const struct dev_format *dev_format(const struct dev *d)
{
	return d->ext && d->ext->format ? d->ext->format(d->impl) : NULL;
}

void dev_kick(struct dev *d, enum dev_queue q)
{
	if (d->ext) {
		d->ext->kick(d->impl, q);
		return;
	}
	/* relaxed: a statistic, read after dev_stop's join */
	atomic_fetch_add_explicit(&d->kicks, 1, memory_order_relaxed);
}

int dev_poll(struct dev *d) { return d->ext ? d->ext->poll(d->impl) : d->ops->poll(d); }

void dev_close(struct dev *d)
{
	if (!d)
		return;
	if (d->ext) {
		d->ext->close(d->impl);
		free(d);
		return;
	}
	dev_stop(d);
	for (int q = 0; q < DEV_NQ; q++)
		vq_dev_destroy(d->q[q]);
	free(d->scratch);
	free(d->late);
	free(d);
}

void dev_get_counters(const struct dev *d, struct dev_counters *c)
{
	if (d->ext) {
		d->ext->counters(d->impl, c);
		return;
	}
	*c = d->c;
	c->kicks = atomic_load_explicit(&((struct dev *)d)->kicks, memory_order_relaxed);
}

const char *dev_error(const struct dev *d) { return d->ext ? d->ext->error(d->impl) : d->error; }

uint16_t dev_rx_num_buffers(const struct dev *d) { return d->ext ? d->ext->rx_num_buffers(d->impl) : 0; }
