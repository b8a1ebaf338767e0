/* SPDX-License-Identifier: MIT */
/*
 * test_vu_settle - the vhost-user device's measurement mode
 * (dev/dev_vu_settle.h). A driver (ring/) and a device (vq_dev) share one
 * ring, split and packed, in-order off and on (on: with one used entry per
 * publish too, as DPDK's packed dequeue writes it). dev_vu_settle() must
 * return at once when the device has consumed every chain posted (no wait
 * counted), and only after DEV_VU_SETTLE_QUIET_US of a still ring when the
 * device holds some back (one wait, ended by the still-ring rule), through
 * many laps of the ring with chains of one and two descriptors, so that the
 * packed cursors are followed across wraps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev_vu_settle.h"
#include "vq.h"
#include "vqb_test.h"

#define QSZ 64
#define BUFB 64

static unsigned char g_buf[QSZ][2][BUFB];

static void *translate(void *ctx, uint64_t iova, uint32_t len, int write)
{
	(void)ctx, (void)len, (void)write;
	return (void *)(uintptr_t)iova;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Post `n` chains (every third of two descriptors); @return chains posted. */
static unsigned post(struct vq *vq, unsigned n, unsigned *seq)
{
	unsigned done = 0;
	for (; done < n; done++, (*seq)++) {
		unsigned k = *seq % 3 == 2 ? 2 : 1, slot = *seq % QSZ;
		struct vq_sg sg[2] = {{(uint64_t)(uintptr_t)g_buf[slot][0], BUFB, 1},
				      {(uint64_t)(uintptr_t)g_buf[slot][1], BUFB, 1}};
		if (vq_add(vq, sg, k, g_buf[slot], NULL, NULL) < 0)
			break;
	}
	vq_kick_prepare(vq);
	return done;
}

/* The device uses up to `n` available chains and publishes. */
static unsigned consume(struct vq_dev *dev, unsigned n)
{
	unsigned done = 0;
	struct vq_chain c;
	while (done < n && vq_dev_pop(dev, &c) == 1) {
		vq_dev_push(dev, &c, BUFB);
		done++;
	}
	vq_dev_publish(dev);
	return done;
}

static unsigned reap(struct vq *vq)
{
	struct vq_used u;
	unsigned n = 0;
	while (vq_get_used(vq, &u) == 1)
		n++;
	return n;
}

static void run(enum vq_layout layout, bool in_order, bool batch_used)
{
	char name[64];
	snprintf(name, sizeof(name), "%s in_order=%d batch_used=%d", layout == VQ_LAYOUT_PACKED ? "packed" : "split",
		 in_order, batch_used);
	struct vq_config cfg = {.layout = layout, .size = QSZ,
				.features = in_order ? VQ_FEATURE(VQ_F_IN_ORDER) : 0};
	struct vq_areas a;
	REQUIRE(vq_ring_layout(&cfg, &a) == 0, "%s: layout", name);
	void *mem = aligned_alloc(4096, (a.total + 4095) & ~(size_t)4095);
	REQUIRE(mem, "%s: out of memory", name);
	memset(mem, 0, a.total);
	struct vq *vq;
	struct vq_dev *dev;
	REQUIRE(vq_create(&cfg, mem, &vq) == 0, "%s: vq_create", name);
	REQUIRE(vq_dev_create(&cfg, mem, translate, NULL, &dev) == 0, "%s: vq_dev_create", name);
	if (batch_used)
		vq_dev_set_batch_used(dev, true);
	struct dev_vu_watch w[2];
	REQUIRE(dev_vu_watch_init(&w[0], &cfg, mem) == 0, "%s: watch", name);
	REQUIRE(dev_vu_watch_init(&w[1], &cfg, NULL) == 0 && !w[1].ring, "%s: unused queue", name);
	struct dev_vu_settle_stats st = {0};

	dev_vu_settle(w, 2, &st);
	CHECK(st.waits == 0 && st.quiet == 0, "%s: empty ring: %llu waits", name, (unsigned long long)st.waits);

	/* many laps: post a burst, the device takes all of it, settle returns at once */
	unsigned seq = 0, posted = 0, reaped = 0;
	for (int it = 0; it < 40; it++) {
		unsigned n = post(vq, 7 + (unsigned)it % 5, &seq);
		posted += n;
		CHECK(consume(dev, ~0u) == n, "%s: lap %d: device used all %u", name, it, n);
		dev_vu_settle(w, 2, &st);
		CHECK(st.waits == 0, "%s: lap %d: waited although the device consumed every chain (cursors: avail %u/%d, used %u/%d, lost %d)", name, it, w[0].apos, w[0].awrap, w[0].upos, w[0].uwrap, w[0].lost);
		CHECK(!w[0].lost, "%s: lap %d: packed used cursor lost", name, it);
		reaped += reap(vq);
	}
	CHECK(reaped == posted && posted > 3 * QSZ / 2, "%s: %u posted, %u reaped", name, posted, reaped);

	/* the device holds chains back: one wait, ended by the still ring */
	unsigned n = post(vq, 9, &seq);
	consume(dev, 4);
	double t0 = now_ms();
	dev_vu_settle(w, 2, &st);
	double ms = now_ms() - t0;
	CHECK(st.waits == 1 && st.quiet == 1, "%s: held back: %llu waits, %llu by the still ring", name,
	      (unsigned long long)st.waits, (unsigned long long)st.quiet);
	/* dev_vu_settle reads the clock in whole microseconds (truncated), so
	 * its 20000 us can be up to 1 us short of 20 ms of real time */
	CHECK(ms >= (DEV_VU_SETTLE_QUIET_US - 2) / 1000.0, "%s: returned after %.4f ms", name, ms);
	CHECK(consume(dev, ~0u) == n - 4, "%s: the rest used", name);
	dev_vu_settle(w, 2, &st);
	CHECK(st.waits == 1, "%s: caught up again, yet waited", name);
	CHECK(reap(vq) == n, "%s: reaped the held-back burst", name);

	vq_dev_destroy(dev);
	vq_destroy(vq);
	free(mem);
	printf("%s: ok\n", name);
}

int main(void)
{
	for (int l = 0; l < 2; l++) {
		run((enum vq_layout)l, false, false);
		run((enum vq_layout)l, true, false);
		run((enum vq_layout)l, true, true);
	}
	return t_done("test_vu_settle");
}
