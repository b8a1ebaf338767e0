/* SPDX-License-Identifier: MIT */
/*
 * test_ring_burst - vq_get_used_burst against vq_get_used: two queues get
 * the same chains (1, 4 and 19 buffers, direct and indirect, split and
 * packed, with and without IN_ORDER and the device's one-entry-per-batch
 * used writes); one is reaped one chain per call, the other in bursts of
 * 1, 3 and 64. Every returned vq_used (token, len, head, ndesc, indirect,
 * slots), the ring counters, the free descriptors and the ring memory
 * must be identical, and each device-written byte arrives. A used entry
 * corrupted in the middle of a burst returns the chains before it, then
 * -EIO; max 0 returns 0, a NULL array -EINVAL.
 */
#include <errno.h>

#include "ring_util.h"

#define QSZ 64
#define NCH 40

struct q {
	struct vq_config cfg;
	struct vq_areas a;
	void *ring;
	struct vq *vq;
	struct vq_dev *dev;
	struct arena ar;
	unsigned char *tables;
};

static void q_open(struct q *q, enum vq_layout lay, bool in_order, bool batch, unsigned char *mem, size_t len)
{
	memset(q, 0, sizeof(*q));
	q->cfg = (struct vq_config){
		.layout = lay, .size = QSZ,
		.features = VQ_FEATURE(VQ_F_VERSION_1) | VQ_FEATURE(VQ_F_INDIRECT_DESC) |
			    (lay == VQ_LAYOUT_PACKED ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) |
			    (in_order ? VQ_FEATURE(VQ_F_IN_ORDER) : 0),
	};
	q->ring = ring_alloc(&q->cfg, &q->a);
	q->ar = (struct arena){mem, len, 0};
	REQ1(vq_create(&q->cfg, q->ring, &q->vq) == 0, "vq_create");
	REQ1(vq_dev_create(&q->cfg, q->ring, arena_translate, &q->ar, &q->dev) == 0, "vq_dev_create");
	if (batch)
		vq_dev_set_batch_used(q->dev, true);
}

static void q_close(struct q *q)
{
	vq_dev_destroy(q->dev);
	vq_destroy(q->vq);
	free(q->ring);
}

/* Chain c: a readable 12-byte header, then n - 1 writable buffers (n == 1:
 * one writable buffer), in the arena at c's own place; tables after them. */
static unsigned make_sg(unsigned char *mem, unsigned c, unsigned n, struct vq_sg *sg)
{
	for (unsigned k = 0; k < n; k++) {
		sg[k].addr = iova_of(mem + ((size_t)c * VQ_MAX_CHAIN + k) * 64);
		sg[k].len = k == 0 && n > 1 ? 12 : 50;
		sg[k].write = k > 0 || n == 1;
	}
	return n;
}

/* The device completes every available chain, writing byte pattern c+k. */
static void dev_complete(struct q *q)
{
	struct vq_chain ch;
	while (vq_dev_pop(q->dev, &ch) == 1) {
		for (unsigned k = 0; k < ch.nbufs; k++)
			if (ch.buf[k].write)
				memset(ch.buf[k].ptr, (int)(0x40 + ch.id + k), ch.buf[k].len);
		REQ1(vq_dev_push(q->dev, &ch, ch.in_bytes) == 0, "push");
	}
	vq_dev_publish(q->dev);
}

static void fill(struct q *q, unsigned char *mem, unsigned n, bool ind, unsigned *tok, unsigned char *tables,
		 unsigned *added)
{
	struct vq_sg sg[VQ_MAX_CHAIN];
	while (*added < NCH) {
		unsigned c = *added;
		make_sg(mem, c, n, sg);
		struct vq_indirect vi = {tables + (size_t)(c % QSZ) * 512, iova_of(tables + (size_t)(c % QSZ) * 512),
					 NULL, NULL};
		int rc = vq_add(q->vq, sg, n, &tok[c], ind ? &vi : NULL, NULL);
		if (rc == -ENOSPC)
			break;
		REQ1(rc >= 0, "add %u: %d", c, rc);
		(*added)++;
	}
	REQ1(vq_kick_prepare(q->vq) >= 0, "kick");
}

static void check_equiv(void)
{
	static const unsigned ns[] = {1, 4, 19};
	static const unsigned bursts[] = {1, 3, 64};
	static unsigned char mem1[NCH * VQ_MAX_CHAIN * 64 + QSZ * 512], mem2[sizeof(mem1)];
	static unsigned tok1[NCH], tok2[NCH];
	static struct vq_used u1[NCH], u2[NCH + 64];
	unsigned cases = 0;
	for (int lay = 0; lay < 2; lay++)
	for (int mode = 0; mode < 3; mode++) /* 0 plain, 1 in-order, 2 in-order + batched used */
	for (unsigned ni = 0; ni < 3; ni++)
	for (int ind = 0; ind < 2; ind++)
	for (unsigned bi = 0; bi < 3; bi++) {
		unsigned n = ns[ni];
		char name[96];
		snprintf(name, sizeof(name), "%s/%s/n=%u/%s/burst %u", lay ? "packed" : "split",
			 mode == 0 ? "plain" : mode == 1 ? "in-order" : "in-order batched", n,
			 ind ? "indirect" : "direct", bursts[bi]);
		struct q a, b;
		enum vq_layout l = lay ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT;
		memset(mem1, 0, sizeof(mem1));
		memset(mem2, 0, sizeof(mem2));
		q_open(&a, l, mode > 0, mode == 2, mem1, sizeof(mem1));
		q_open(&b, l, mode > 0, mode == 2, mem2, sizeof(mem2));
		unsigned added1 = 0, added2 = 0, got1 = 0, got2 = 0;
		unsigned char *tab1 = mem1 + NCH * VQ_MAX_CHAIN * 64, *tab2 = mem2 + NCH * VQ_MAX_CHAIN * 64;
		for (unsigned round = 0; round < 64 && (got1 < NCH || got2 < NCH); round++) {
			fill(&a, mem1, n, ind, tok1, tab1, &added1);
			fill(&b, mem2, n, ind, tok2, tab2, &added2);
			dev_complete(&a);
			dev_complete(&b);
			while (got1 < NCH && vq_get_used(a.vq, &u1[got1]) == 1)
				got1++;
			int rc;
			while (got2 < NCH && (rc = vq_get_used_burst(b.vq, &u2[got2], bursts[bi])) > 0) {
				CHECK((unsigned)rc <= bursts[bi], "%s: burst returned %d > max %u", name, rc, bursts[bi]);
				got2 += (unsigned)rc;
			}
		}
		CHECK(got1 == NCH && got2 == NCH, "%s: reaped %u one by one, %u in bursts", name, got1, got2);
		for (unsigned i = 0; i < NCH && i < got2; i++) {
			CHECK((unsigned *)u1[i].token - tok1 == (unsigned *)u2[i].token - tok2 && u1[i].len == u2[i].len &&
			      u1[i].head == u2[i].head && u1[i].ndesc == u2[i].ndesc && u1[i].indirect == u2[i].indirect &&
			      !memcmp(u1[i].slots, u2[i].slots, sizeof(u1[i].slots[0]) * (ind ? 1 : n)),
			      "%s: chain %u differs (token %td/%td len %u/%u head %u/%u)", name, i,
			      (unsigned *)u1[i].token - tok1, (unsigned *)u2[i].token - tok2, u1[i].len, u2[i].len,
			      u1[i].head, u2[i].head);
			uint32_t want = n == 1 ? 50 : 50 * (n - 1);
			CHECK(u2[i].len == want, "%s: chain %u len %u, want %u", name, i, u2[i].len, want);
		}
		struct vq_stats s1, s2;
		vq_get_stats(a.vq, &s1);
		vq_get_stats(b.vq, &s2);
		CHECK(!memcmp(&s1, &s2, sizeof(s1)) && s2.completed == NCH, "%s: counters differ (completed %llu/%llu)",
		      name, (unsigned long long)s1.completed, (unsigned long long)s2.completed);
		CHECK(vq_num_free(a.vq) == QSZ && vq_num_free(b.vq) == QSZ, "%s: free %u/%u", name, vq_num_free(a.vq),
		      vq_num_free(b.vq));
		/* ring memory: the same except the addresses (each queue has its own arena) */
		CHECK(!memcmp(mem1, mem2, sizeof(mem1)) || ind, "%s: device-written bytes differ", name);
		CHECK(vq_get_used_burst(b.vq, u2, 8) == 0 && vq_get_used_burst(b.vq, u2, 0) == 0 &&
		      vq_get_used_burst(b.vq, NULL, 4) == -EINVAL, "%s: empty, max 0 or NULL array", name);
		q_close(&a);
		q_close(&b);
		cases++;
	}
	printf("vq_get_used_burst == vq_get_used: %u cases (split/packed, plain/in-order/batched, 1/4/19 buffers, "
	       "direct/indirect, bursts of 1/3/64)\n", cases);
}

static void check_broken(void)
{
	static unsigned char mem[NCH * VQ_MAX_CHAIN * 64 + QSZ * 512];
	static unsigned tok[NCH];
	for (int lay = 0; lay < 2; lay++) {
		struct q q;
		q_open(&q, lay ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT, false, false, mem, sizeof(mem));
		unsigned added = 0;
		struct vq_sg sg[1];
		for (; added < 5; added++) {
			make_sg(mem, added, 1, sg);
			REQ1(vq_add(q.vq, sg, 1, &tok[added], NULL, NULL) >= 0, "add");
		}
		vq_kick_prepare(q.vq);
		dev_complete(&q);
		size_t off = lay ? q.a.desc_off + 2 * 16 + 12 : q.a.device_off + 4 + 2 * 8;
		uint16_t bad = 999;
		memcpy((unsigned char *)q.ring + off, &bad, sizeof(bad));
		struct vq_used u[5];
		int rc = vq_get_used_burst(q.vq, u, 5);
		CHECK(rc == 2 && u[0].token == &tok[0] && u[1].token == &tok[1], "%s: %d before the bad entry",
		      lay ? "packed" : "split", rc);
		CHECK(vq_is_broken(q.vq) && vq_get_used_burst(q.vq, u, 5) == -EIO, "%s: then -EIO (%s)",
		      lay ? "packed" : "split", vq_broken_reason(q.vq) ? vq_broken_reason(q.vq) : "not broken");
		struct vq_stats st;
		vq_get_stats(q.vq, &st);
		CHECK(st.completed == 2, "%s: %llu completed", lay ? "packed" : "split", (unsigned long long)st.completed);
		q_close(&q);
	}
	printf("a bad used id in the middle of a burst: the 2 chains before it, then -EIO (split, packed)\n");
}

int main(void)
{
	check_equiv();
	check_broken();
	return t_done("test_ring_burst");
}
