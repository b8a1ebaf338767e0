/* SPDX-License-Identifier: MIT */
/*
 * test_ring_stress: a driver thread and a device thread (pinned to CPUs 0
 * and 1 when available) push packets through one queue, over every
 * combination of layout x in-order x event idx x indirect. Each packet
 * carries a header (sequence number, checksum of its payload); the device
 * checks order and checksum and answers with (sequence, ~checksum) plus a
 * pattern that the driver checks byte by byte. Half of the configurations
 * sleep on semaphores when idle and rely on the notification decisions
 * (vq_kick_prepare / vq_dev_publish / enable-recheck): a lost wakeup shows
 * as a timeout failure. Usage: test_ring_stress [total packets, default
 * 10000000].
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "ring_util.h"

#define BUFLEN 24
#define HOLD 8 /* out of order: the device holds up to this many chains */

struct pkt {
	uint32_t seq, n, nread, in_bytes;
	struct vq_sg sg[VQ_MAX_CHAIN];
	unsigned char data[VQ_MAX_CHAIN * BUFLEN];
	unsigned char table[VQ_MAX_CHAIN * 16];
};

struct st_cfg {
	enum vq_layout layout;
	uint32_t size;
	bool in_order, event_idx, indirect, notify;
};

struct run {
	const struct st_cfg *cfg;
	char name[96];
	uint64_t total;
	struct vq *vq;
	struct vq_dev *dev;
	struct pkt *pool;
	struct arena arena;
	sem_t drv_sem, dev_sem; /* "interrupt" and "kick" */
	atomic_bool failed;
	uint64_t kicks, calls, drv_sleeps, dev_sleeps;
	unsigned long dev_fail, drv_fail;
};

static uint32_t fnv(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static void fail(struct run *r, const char *who, const char *what, uint32_t seq)
{
	if (!atomic_exchange_explicit(&r->failed, true, memory_order_relaxed))
		fprintf(stderr, "FAIL %s: %s: %s (seq %u)\n", r->name, who, what, seq);
}

static void pin(int cpu)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) || !CPU_ISSET(cpu, &set))
		return; /* not required */
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Wait on a semaphore for up to 10 s; false on timeout (a lost wakeup). */
static bool wait_sem(sem_t *s)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	while (sem_timedwait(s, &ts) != 0)
		if (errno != EINTR)
			return false;
	return true;
}

static void build(struct pkt *p, uint32_t seq)
{
	/* Mostly short chains, every 32nd up to VQ_MAX_CHAIN. */
	uint32_t n = seq % 32 == 5 ? 2 + seq % (VQ_MAX_CHAIN - 1) : 2 + seq % 3;
	uint32_t nread = 1 + seq % (n - 1); /* header + payload; >= 1 writable */
	size_t off = 0;

	p->seq = seq;
	p->n = n;
	p->nread = nread;
	p->in_bytes = 0;
	for (uint32_t j = 0; j < n; j++) {
		uint32_t len = j == 0 || j == nread ? 8 + seq % 9 : 1 + (seq + j) % BUFLEN;
		p->sg[j] = (struct vq_sg){ iova_of(p->data + off), len, j >= nread };
		if (j >= nread)
			p->in_bytes += len;
		off += len;
	}
	/* Readable stream: header (seq, checksum) then payload. */
	unsigned char *h = p->data;
	size_t plen = 0;
	for (uint32_t j = 0; j < nread; j++)
		plen += p->sg[j].len;
	plen -= 8;
	for (size_t o = 0; o < plen; o++)
		h[8 + o] = (unsigned char)(seq * 7 + o); /* readable bufs are contiguous */
	put32(h, seq);
	put32(h + 4, fnv(h + 8, plen));
	memset(p->data + plen + 8, 0, sizeof(p->data) - plen - 8);
}

static bool check_answer(const struct pkt *p, uint32_t len)
{
	if (len != p->in_bytes)
		return false;
	const unsigned char *w = (const unsigned char *)(uintptr_t)p->sg[p->nread].addr;
	size_t plen = (size_t)(w - p->data) - 8; /* writable bufs are contiguous */
	if (get32(w) != p->seq || get32(w + 4) != ~fnv(p->data + 8, plen))
		return false;
	for (uint32_t o = 8; o < len; o++)
		if (w[o] != (unsigned char)(p->seq * 13 + o))
			return false;
	return true;
}

static void *driver_main(void *arg)
{
	struct run *r = arg;
	const struct st_cfg *c = r->cfg;
	uint32_t *free_pkts = malloc(c->size * sizeof(*free_pkts)), nfree = c->size;
	uint64_t sent = 0, done = 0, next_done = 0;
	uint64_t rng = 0x1234567 ^ c->size;
	unsigned idle = 0, batch = 0, batch_max = 1;

	pin(0);
	for (uint32_t i = 0; i < c->size; i++)
		free_pkts[i] = i;
	while (done < r->total && !atomic_load_explicit(&r->failed, memory_order_relaxed)) {
		bool progress = false;
		/* Add a batch, publish once. */
		while (sent < r->total && nfree && batch < batch_max) {
			struct pkt *p = &r->pool[free_pkts[nfree - 1]];
			build(p, (uint32_t)sent);
			struct vq_indirect ind = { .table = p->table, .iova = iova_of(p->table) };
			bool use_ind = c->indirect && (sent % 3 != 0);
			int rc = vq_add(r->vq, p->sg, p->n, p, use_ind ? &ind : NULL, NULL);
			if (rc == -ENOSPC)
				break;
			if (rc < 0) {
				fail(r, "driver", "vq_add failed", (uint32_t)sent);
				break;
			}
			nfree--;
			sent++;
			batch++;
			progress = true;
		}
		if (batch && (batch >= batch_max || !nfree || sent == r->total ||
			      vq_num_free(r->vq) < VQ_MAX_CHAIN)) {
			int k = vq_kick_prepare(r->vq);
			if (k < 0)
				fail(r, "driver", "kick_prepare", 0);
			if (k == 1) {
				r->kicks++;
				sem_post(&r->dev_sem);
			}
			batch = 0;
			batch_max = 1 + rng_next(&rng) % 32;
		}
		struct vq_used u;
		int rc;
		while ((rc = vq_get_used(r->vq, &u)) == 1) {
			struct pkt *p = u.token;
			if (c->in_order && p->seq != (uint32_t)next_done)
				fail(r, "driver", "completion out of order", p->seq);
			if (!check_answer(p, u.len))
				fail(r, "driver", "answer payload mismatch", p->seq);
			next_done++;
			free_pkts[nfree++] = (uint32_t)(p - r->pool);
			done++;
			progress = true;
		}
		if (rc < 0) {
			fail(r, "driver", vq_broken_reason(r->vq), 0);
			break;
		}
		if (progress) {
			idle = 0;
			continue;
		}
		if (batch)
			continue; /* publish what is pending first */
		if (++idle < 64)
			continue;
		if (!c->notify) {
			sched_yield();
			continue;
		}
		/* Sleep until the device says something was used. */
		if (vq_enable_cb(r->vq)) {
			vq_disable_cb(r->vq);
			continue;
		}
		r->drv_sleeps++;
		if (!wait_sem(&r->drv_sem)) {
			fail(r, "driver", "lost used notification: no wakeup in 10 s", 0);
			break;
		}
		vq_disable_cb(r->vq);
	}
	free(free_pkts);
	sem_post(&r->dev_sem); /* let the device see the end or the failure */
	return NULL;
}

static void *device_main(void *arg)
{
	struct run *r = arg;
	const struct st_cfg *c = r->cfg;
	struct vq_chain *held = malloc(HOLD * sizeof(*held));
	unsigned nheld = 0, idle = 0, hold_max = 1;
	uint64_t got = 0, rng = 0xabcdef ^ c->size;
	unsigned char rd[VQ_MAX_CHAIN * BUFLEN], wr[VQ_MAX_CHAIN * BUFLEN];

	pin(1);
	if (c->notify)
		vq_dev_disable_kick(r->dev);
	while ((got < r->total || nheld) &&
	       !atomic_load_explicit(&r->failed, memory_order_relaxed)) {
		int rc = got < r->total ? vq_dev_pop(r->dev, &held[nheld]) : 0;
		if (rc == 1) {
			struct vq_chain *ch = &held[nheld];
			size_t n = vq_dev_read(ch, 0, rd, sizeof(rd));
			uint32_t seq = n >= 8 ? get32(rd) : 0;
			if (n < 8 || seq != (uint32_t)got)
				fail(r, "device", "chain out of sequence", seq);
			else if (get32(rd + 4) != fnv(rd + 8, n - 8))
				fail(r, "device", "payload checksum mismatch", seq);
			for (size_t o = 0; o < n - 8 && o < 4096; o++)
				if (rd[8 + o] != (unsigned char)(seq * 7 + o)) {
					fail(r, "device", "payload byte mismatch", seq);
					break;
				}
			put32(wr, seq);
			put32(wr + 4, ~get32(rd + 4));
			for (uint32_t o = 8; o < ch->in_bytes; o++)
				wr[o] = (unsigned char)(seq * 13 + o);
			if (vq_dev_write(ch, 0, wr, ch->in_bytes) != ch->in_bytes)
				fail(r, "device", "short write", seq);
			got++;
			nheld++;
			idle = 0;
			if (nheld < hold_max)
				continue;
		} else if (rc < 0) {
			fail(r, "device", vq_dev_broken_reason(r->dev), 0);
			break;
		}
		if (nheld) {
			/* Complete what we hold: shuffled unless in order. */
			for (unsigned i = nheld; !c->in_order && i > 1; i--) {
				unsigned j = rng_next(&rng) % i;
				struct vq_chain t = held[i - 1];
				held[i - 1] = held[j];
				held[j] = t;
			}
			for (unsigned i = 0; i < nheld; i++)
				if (vq_dev_push(r->dev, &held[i], held[i].in_bytes))
					fail(r, "device", "push", 0);
			nheld = 0;
			hold_max = 1 + rng_next(&rng) % HOLD;
			if (vq_dev_publish(r->dev) == 1) {
				r->calls++;
				sem_post(&r->drv_sem);
			}
			continue;
		}
		if (++idle < 64)
			continue;
		if (!c->notify) {
			sched_yield();
			continue;
		}
		if (vq_dev_enable_kick(r->dev)) {
			vq_dev_disable_kick(r->dev);
			continue;
		}
		r->dev_sleeps++;
		if (!wait_sem(&r->dev_sem)) {
			fail(r, "device", "lost kick: no wakeup in 10 s", 0);
			break;
		}
		vq_dev_disable_kick(r->dev);
	}
	free(held);
	sem_post(&r->drv_sem);
	return NULL;
}

static void run_config(const struct st_cfg *c, uint64_t total)
{
	struct run r;
	struct vq_areas a;

	memset(&r, 0, sizeof(r));
	r.cfg = c;
	r.total = total;
	snprintf(r.name, sizeof(r.name), "%s size=%u in_order=%d event_idx=%d indirect=%d %s",
		 layout_name(c->layout), c->size, c->in_order, c->event_idx, c->indirect,
		 c->notify ? "notify" : "poll");
	uint64_t f = VQ_FEATURE(VQ_F_VERSION_1) | VQ_FEATURE(VQ_F_INDIRECT_DESC);
	if (c->layout == VQ_LAYOUT_PACKED)
		f |= VQ_FEATURE(VQ_F_RING_PACKED);
	if (c->in_order)
		f |= VQ_FEATURE(VQ_F_IN_ORDER);
	if (c->event_idx)
		f |= VQ_FEATURE(VQ_F_EVENT_IDX);
	struct vq_config vc = { c->layout, c->size, f };
	void *ring = ring_alloc(&vc, &a);
	REQ1(ring != NULL, "%s: layout", r.name);
	r.pool = calloc(c->size, sizeof(*r.pool));
	REQ1(r.pool != NULL, "out of memory");
	r.arena.base = (unsigned char *)r.pool;
	r.arena.len = c->size * sizeof(*r.pool);
	int rc = vq_create(&vc, ring, &r.vq);
	REQ1(rc == 0, "%s: vq_create %d", r.name, rc);
	rc = vq_dev_create(&vc, ring, arena_translate, &r.arena, &r.dev);
	REQ1(rc == 0, "%s: vq_dev_create %d", r.name, rc);
	sem_init(&r.drv_sem, 0, 0);
	sem_init(&r.dev_sem, 0, 0);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_t td, tv;
	REQ1(pthread_create(&tv, NULL, device_main, &r) == 0, "pthread_create");
	REQ1(pthread_create(&td, NULL, driver_main, &r) == 0, "pthread_create");
	pthread_join(td, NULL);
	pthread_join(tv, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	struct vq_stats st;
	vq_get_stats(r.vq, &st);
	CHECK(!atomic_load(&r.failed), "%s: failed (see above)", r.name);
	CHECK(st.added == total && st.completed == total, "%s: added %llu completed %llu of %llu",
	      r.name, (unsigned long long)st.added, (unsigned long long)st.completed,
	      (unsigned long long)total);
	CHECK(vq_num_free(r.vq) == c->size, "%s: num_free %u", r.name, vq_num_free(r.vq));
	CHECK(!vq_is_broken(r.vq) && !vq_dev_is_broken(r.dev), "%s: broken", r.name);
	CHECK(r.arena.refused == 0, "%s: translate refusals", r.name);
	printf("  %-58s %8llu pkts %6.2f s %5.2f Mpps kicks %llu calls %llu sleeps %llu/%llu\n",
	       r.name, (unsigned long long)total, s, (double)total / s / 1e6,
	       (unsigned long long)r.kicks, (unsigned long long)r.calls,
	       (unsigned long long)r.drv_sleeps, (unsigned long long)r.dev_sleeps);
	sem_destroy(&r.drv_sem);
	sem_destroy(&r.dev_sem);
	vq_dev_destroy(r.dev);
	vq_destroy(r.vq);
	free(r.pool);
	free(ring);
}

int main(int argc, char **argv)
{
	uint64_t total = argc > 1 ? strtoull(argv[1], NULL, 0) : 10000000ull;
	unsigned ncfg = 0;
	struct st_cfg cfgs[16];

	for (int l = 0; l < 2; l++)
		for (int io = 0; io < 2; io++)
			for (int ev = 0; ev < 2; ev++)
				for (int ind = 0; ind < 2; ind++)
					cfgs[ncfg++] = (struct st_cfg){
						(enum vq_layout)l, l ? 250 : 256, io, ev, ind,
						(io ^ ind) != 0 };
	setvbuf(stdout, NULL, _IOLBF, 0);
	uint64_t per = total / ncfg ? total / ncfg : 1;
	printf("stress: %llu packets over %u configurations, two threads\n",
	       (unsigned long long)(per * ncfg), ncfg);
	for (unsigned i = 0; i < ncfg; i++)
		run_config(&cfgs[i], per);
	printf("checked: every packet's sequence, checksum and payload at the device, "
	       "answer header and bytes at the driver, completion order when in order, "
	       "no lost notification when sleeping, counts and free descriptors at the end\n");
	return t_done("test_ring_stress");
}
