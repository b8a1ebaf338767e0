/* SPDX-License-Identifier: MIT */
/*
 * test_ring_dev_burst: the device's burst forms (vq_dev_pop_burst,
 * vq_dev_push_burst) against the one-chain forms.
 *  1. Same ring traffic served chain by chain on one ring and in bursts on
 *     a twin ring (split and packed, in-order with one used entry per
 *     burst or not, direct and indirect chains of 1..3 buffers, bursts of
 *     1..7): the popped chains, the ring memory after every publish and the
 *     driver's completions (token, len) must be identical.
 *  2. An invalid chain inside a burst: the chains before it come back,
 *     status -EINVAL, the device is broken with the reason, nothing more
 *     is popped or pushed.
 *  3. A chain of more than VQ_DEV_MAX_SEGS buffers inside a burst: it is
 *     the last one filled, status -E2BIG, the device not broken, it can be
 *     pushed, and the next burst goes on behind it.
 *  4. vq_dev_push_burst refuses, in order, a chain whose len exceeds its
 *     device-writable bytes and a chain never popped; the ones before are
 *     pushed and reach the driver.
 */
#include <errno.h>
#include <stdio.h>

#include "ring_util.h"

#define QSZ 16
#define NBUF 64 /* 64-byte buffers in the arena */

static unsigned char g_mem[NBUF * 64 + QSZ * 4 * 16 + 16 * 80];
static struct arena g_arena = { g_mem, sizeof(g_mem), 0 };
#define IND_OFF (NBUF * 64)                /* indirect tables: 4 entries per slot */
#define BIG_OFF (IND_OFF + QSZ * 4 * 16)   /* one table of 80 entries */

static bool has(const char *s, const char *sub) { return s && strstr(s, sub); }

struct twin {
	void *m;
	struct vq *vq;
	struct vq_dev *dev;
};

static void twin_init(struct twin *t, const struct vq_config *cfg, bool batch_used)
{
	struct vq_areas a;
	t->m = ring_alloc(cfg, &a);
	REQ1(t->m, "layout refused");
	REQ1(vq_create(cfg, t->m, &t->vq) == 0, "vq_create");
	REQ1(vq_dev_create(cfg, t->m, arena_translate, &g_arena, &t->dev) == 0, "vq_dev_create");
	vq_dev_set_batch_used(t->dev, batch_used);
}

static void twin_fini(struct twin *t)
{
	vq_dev_destroy(t->dev);
	vq_destroy(t->vq);
	free(t->m);
}

static bool same_chain(const struct vq_chain *x, const struct vq_chain *y)
{
	if (x->id != y->id || x->ndesc != y->ndesc || x->nbufs != y->nbufs ||
	    x->indirect != y->indirect || x->out_bytes != y->out_bytes || x->in_bytes != y->in_bytes)
		return false;
	for (unsigned i = 0; i < x->nbufs && i < VQ_DEV_MAX_SEGS; i++)
		if (x->buf[i].ptr != y->buf[i].ptr || x->buf[i].addr != y->buf[i].addr ||
		    x->buf[i].len != y->buf[i].len || x->buf[i].write != y->buf[i].write)
			return false;
	return true;
}

/* 1: chain by chain on r[0], in bursts on r[1]. */
static void equivalence(enum vq_layout l, bool in_order, bool batch_used)
{
	uint64_t f = VQ_FEATURE(VQ_F_INDIRECT_DESC) |
		     (l == VQ_LAYOUT_PACKED ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) |
		     (in_order ? VQ_FEATURE(VQ_F_IN_ORDER) : 0);
	struct vq_config cfg = { l, QSZ, f };
	struct vq_areas a;
	REQ1(vq_ring_layout(&cfg, &a) == 0, "layout");
	struct twin r[2];
	twin_init(&r[0], &cfg, batch_used);
	twin_init(&r[1], &cfg, batch_used);
	static struct vq_chain c1[QSZ], cb[QSZ];
	static int tokens[1 << 12];
	uint32_t lens[QSZ];
	uint64_t rng = 0x5eed0000u ^ (uint64_t)l ^ ((uint64_t)in_order << 8) ^ ((uint64_t)batch_used << 9);
	unsigned seq = 0, completed = 0, bursts = 0;
	char name[80];
	snprintf(name, sizeof(name), "%s%s%s", layout_name(l), in_order ? " in-order" : "",
		 batch_used ? " batch-used" : "");

	for (unsigned round = 0; round < 400; round++) {
		/* the driver adds the same chains to both rings */
		unsigned want = 1 + rng_next(&rng) % 6;
		for (unsigned k = 0; k < want && seq < sizeof(tokens) / sizeof(tokens[0]); k++) {
			unsigned n = 1 + rng_next(&rng) % 3, slot = seq % NBUF;
			bool ind = rng_next(&rng) % 4 == 0, wr = rng_next(&rng) % 2;
			struct vq_sg sg[3];
			for (unsigned j = 0; j < n; j++)
				sg[j] = (struct vq_sg){ iova_of(g_mem + 64 * ((slot + j) % NBUF)), 16,
							wr && j == n - 1 };
			int h[2];
			for (int t = 0; t < 2; t++) {
				struct vq_indirect in = { g_mem + IND_OFF + 64 * (seq % QSZ),
							  iova_of(g_mem + IND_OFF + 64 * (seq % QSZ)), NULL,
							  NULL };
				h[t] = vq_add(r[t].vq, sg, n, &tokens[seq], ind ? &in : NULL, NULL);
			}
			REQ1(h[0] == h[1], "%s: twin adds differ (%d, %d)", name, h[0], h[1]);
			if (h[0] < 0)
				break; /* full */
			seq++;
		}
		REQ1(vq_kick_prepare(r[0].vq) == vq_kick_prepare(r[1].vq), "%s: kick differs", name);
		/* the device side: one by one on r[0], bursts of 1..7 on r[1] */
		unsigned n1 = 0, nb = 0;
		int rc = 0;
		while (n1 < QSZ && (rc = vq_dev_pop(r[0].dev, &c1[n1])) == 1) {
			lens[n1] = c1[n1].in_bytes ? (round % 3 ? c1[n1].in_bytes : c1[n1].in_bytes / 2) : 0;
			n1++;
		}
		CHECK(n1 == QSZ || rc == 0, "%s: pop %d", name, rc);
		for (;;) {
			int st;
			unsigned b = 1 + rng_next(&rng) % 7;
			unsigned got = vq_dev_pop_burst(r[1].dev, &cb[nb], b > QSZ - nb ? QSZ - nb : b, &st);
			bursts++;
			nb += got;
			CHECK(st >= 0, "%s: burst status %d", name, st);
			if (st != 1 || nb == QSZ)
				break;
		}
		CHECK(n1 == nb, "%s round %u: %u chains one by one, %u in bursts", name, round, n1, nb);
		for (unsigned i = 0; i < n1 && i < nb; i++)
			CHECK(same_chain(&c1[i], &cb[i]), "%s round %u: chain %u differs", name, round, i);
		for (unsigned i = 0; i < n1; i++)
			REQ1(vq_dev_push(r[0].dev, &c1[i], lens[i]) == 0, "%s: push", name);
		/* push in two bursts to cross a burst boundary */
		unsigned half = nb / 2;
		CHECK(vq_dev_push_burst(r[1].dev, cb, lens, half) == half, "%s: push burst 1", name);
		CHECK(vq_dev_push_burst(r[1].dev, cb + half, lens + half, nb - half) == nb - half,
		      "%s: push burst 2", name);
		REQ1(vq_dev_publish(r[0].dev) == vq_dev_publish(r[1].dev), "%s: publish differs", name);
		CHECK(memcmp(r[0].m, r[1].m, a.total) == 0, "%s round %u: ring memory differs", name,
		      round);
		struct vq_used u0, u1;
		for (;;) {
			int g0 = vq_get_used(r[0].vq, &u0), g1 = vq_get_used(r[1].vq, &u1);
			REQ1(g0 == g1, "%s: get_used %d vs %d (%s)", name, g0, g1,
			     vq_broken_reason(r[1].vq) ? vq_broken_reason(r[1].vq) : "");
			if (g0 != 1)
				break;
			CHECK(u0.token == u1.token && u0.len == u1.len, "%s: completion differs", name);
			completed++;
		}
	}
	/* every round's chains are all popped, pushed, published and reaped */
	CHECK(completed == seq && completed > 1000, "%s: %u completions of %u chains", name,
	      completed, seq);
	printf("  %-30s %u chains, %u bursts: chains, ring memory, completions identical\n", name,
	       completed, bursts);
	twin_fini(&r[0]);
	twin_fini(&r[1]);
}

/* Write one available descriptor (packed: wrap 1; split: table + avail). */
static void put_desc(const struct vq_config *cfg, const struct vq_areas *a, void *m, unsigned i,
		     uint64_t addr, uint32_t len, uint16_t fl, uint16_t id)
{
	char *p = (char *)m + a->desc_off + 16 * i;
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	if (cfg->layout == VQ_LAYOUT_PACKED) {
		uint16_t f = (uint16_t)(fl | VQ_DESC_F_AVAIL);
		memcpy(p + 12, &id, 2);
		memcpy(p + 14, &f, 2);
	} else {
		uint16_t next = 0;
		memcpy(p + 12, &fl, 2);
		memcpy(p + 14, &next, 2);
		memcpy((char *)m + a->driver_off + 4 + 2 * i, &i, 2); /* avail ring[i] = i */
		uint16_t idx = (uint16_t)(i + 1);
		memcpy((char *)m + a->driver_off + 2, &idx, 2);
	}
}

/* 2 and 3: a hostile or oversized chain at position 2 of a burst. */
static void bad_in_burst(enum vq_layout l, bool too_long)
{
	struct vq_config cfg = { l, QSZ, VQ_FEATURE(VQ_F_INDIRECT_DESC) |
		(l == VQ_LAYOUT_PACKED ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) };
	struct vq_areas a;
	REQ1(vq_ring_layout(&cfg, &a) == 0, "layout");
	void *m = ring_alloc(&cfg, &a);
	struct vq_dev *dev;
	char name[80];
	snprintf(name, sizeof(name), "%s: %s", layout_name(l),
		 too_long ? "too-long chain in a burst" : "invalid chain in a burst");
	memset(g_mem, 0, sizeof(g_mem));
	unsigned nbig = VQ_DEV_MAX_SEGS + 16;
	for (unsigned j = 0; j < nbig; j++) { /* the big table: 8-byte readable buffers */
		unsigned char *e = g_mem + BIG_OFF + 16 * j;
		uint64_t ad = iova_of(g_mem + 8 * j);
		uint32_t ln = 8;
		/* split tables are walked through NEXT/next; packed ones by
		 * length, flags 0 (readable) */
		uint16_t fl = l == VQ_LAYOUT_SPLIT && j + 1 < nbig ? VQ_DESC_F_NEXT : 0;
		uint16_t nx = l == VQ_LAYOUT_SPLIT ? (uint16_t)(j + 1) : 0;
		memcpy(e, &ad, 8);
		memcpy(e + 8, &ln, 4);
		memcpy(e + (l == VQ_LAYOUT_SPLIT ? 12 : 14), &fl, 2);
		memcpy(e + (l == VQ_LAYOUT_SPLIT ? 14 : 12), &nx, 2);
	}
	put_desc(&cfg, &a, m, 0, iova_of(g_mem), 8, 0, 0);
	put_desc(&cfg, &a, m, 1, iova_of(g_mem + 64), 8, VQ_DESC_F_WRITE, 1);
	if (too_long)
		put_desc(&cfg, &a, m, 2, iova_of(g_mem + BIG_OFF), 16 * nbig, VQ_DESC_F_INDIRECT, 2);
	else
		put_desc(&cfg, &a, m, 2, 0x1000, 8, 0, 2); /* outside the arena */
	put_desc(&cfg, &a, m, 3, iova_of(g_mem + 128), 8, 0, 3);
	REQ1(vq_dev_create(&cfg, m, arena_translate, &g_arena, &dev) == 0, "%s: dev", name);
	static struct vq_chain c[8];
	uint32_t lens[8] = { 0, 8, 0, 0 };
	int st;
	unsigned got = vq_dev_pop_burst(dev, c, 8, &st);
	if (too_long) {
		CHECK(got == 3 && st == -E2BIG, "%s: got %u status %d, want 3 and -E2BIG", name, got,
		      st);
		CHECK(got == 3 && c[2].nbufs == VQ_DEV_MAX_SEGS && c[2].indirect &&
			      c[2].out_bytes == 8 * nbig,
		      "%s: the too-long chain is not the last filled", name);
		CHECK(!vq_dev_is_broken(dev), "%s: broken by a valid chain", name);
		CHECK(vq_dev_push_burst(dev, c, lens, got) == got, "%s: push of 3", name);
		got = vq_dev_pop_burst(dev, c, 8, &st);
		CHECK(got == 1 && st == 0 && c[0].id == 3, "%s: next burst got %u status %d id %u",
		      name, got, st, c[0].id);
		CHECK(vq_dev_push_burst(dev, c, lens, got) == got, "%s: push of the last", name);
		printf("  %-40s -> 3 chains, the last too long (%u buffers), then 1\n", name, nbig);
	} else {
		CHECK(got == 2 && st == -EINVAL, "%s: got %u status %d, want 2 and -EINVAL", name,
		      got, st);
		CHECK(got == 2 && c[0].id == 0 && c[1].id == 1 && c[1].in_bytes == 8,
		      "%s: the valid chains before it are wrong", name);
		CHECK(vq_dev_is_broken(dev), "%s: device not broken", name);
		CHECK(has(vq_dev_broken_reason(dev), "not translatable"), "%s: reason '%s'", name,
		      vq_dev_broken_reason(dev) ? vq_dev_broken_reason(dev) : "(null)");
		CHECK(vq_dev_push_burst(dev, c, lens, got) == 0, "%s: broken device pushed", name);
		got = vq_dev_pop_burst(dev, c, 8, &st);
		CHECK(got == 0 && st == -EINVAL, "%s: pop after broken: %u, %d", name, got, st);
		printf("  %-40s -> 2 chains, -EINVAL, \"%s\"\n", name, vq_dev_broken_reason(dev));
	}
	vq_dev_destroy(dev);
	free(m);
}

/* 4: vq_dev_push_burst's per-chain checks, through a real driver. */
static void push_refused(enum vq_layout l)
{
	struct vq_config cfg = { l, QSZ, l == VQ_LAYOUT_PACKED ? VQ_FEATURE(VQ_F_RING_PACKED) : 0 };
	struct twin t;
	char name[80];
	snprintf(name, sizeof(name), "%s: push burst refusals", layout_name(l));
	twin_init(&t, &cfg, false);
	int tokens[3];
	for (int i = 0; i < 3; i++) {
		struct vq_sg sg = { iova_of(g_mem + 64 * i), 16, 1 };
		REQ1(vq_add(t.vq, &sg, 1, &tokens[i], NULL, NULL) >= 0, "%s: add", name);
	}
	vq_kick_prepare(t.vq);
	static struct vq_chain c[4];
	int st;
	REQ1(vq_dev_pop_burst(t.dev, c, 3, &st) == 3 && st == 1, "%s: pop 3", name);
	uint32_t lens[3] = { 16, 17, 16 }; /* chain 1: one byte more than it holds */
	CHECK(vq_dev_push_burst(t.dev, c, lens, 3) == 1, "%s: oversized len not refused", name);
	lens[1] = 16;
	CHECK(vq_dev_push_burst(t.dev, c + 1, lens + 1, 2) == 2, "%s: push of the rest", name);
	c[3] = c[0]; /* in flight no more: nothing popped is left */
	CHECK(vq_dev_push_burst(t.dev, c + 3, lens, 1) == 0, "%s: chain not in flight pushed", name);
	CHECK(vq_dev_publish(t.dev) >= 0, "%s: publish", name);
	struct vq_used u;
	unsigned n = 0;
	while (vq_get_used(t.vq, &u) == 1) {
		CHECK(u.token == &tokens[n] && u.len == 16, "%s: completion %u", name, n);
		n++;
	}
	CHECK(n == 3 && !vq_is_broken(t.vq), "%s: %u completions, want 3", name, n);
	printf("  %-40s -> len > in_bytes and not-in-flight refused, 3 completions\n", name);
	twin_fini(&t);
}

int main(void)
{
	for (int l = 0; l < 2; l++) {
		equivalence((enum vq_layout)l, false, false);
		equivalence((enum vq_layout)l, true, false);
		equivalence((enum vq_layout)l, true, true);
	}
	for (int l = 0; l < 2; l++) {
		bad_in_burst((enum vq_layout)l, false);
		bad_in_burst((enum vq_layout)l, true);
		push_refused((enum vq_layout)l);
	}
	return t_done("test_ring_dev_burst");
}
