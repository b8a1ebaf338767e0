/* SPDX-License-Identifier: MIT */
/*
 * test_ring_roundtrip: driver and device in one thread, over a table of
 * configurations (layout x size x in-order/batch x event idx x indirect).
 * Chains of every length 1..19, many ring wrap-arounds (and 16-bit index
 * wraps for small rings), shuffled completion when not in order, payloads
 * checked byte by byte in both directions, slots checked for uniqueness and
 * returned unchanged. Then scripted scenarios with exact expected counts:
 * notifications with and without EVENT_IDX, in-order batch used entries,
 * and vq_detach_unused after a reset.
 */
#include <errno.h>
#include <stdio.h>

#include "ring_util.h"

#define BUFMAX 16
#define DEV_BATCH 64

struct pkt {
	uint32_t seq;
	unsigned n, nread;
	bool ind, inflight;
	int head;
	uint16_t nslots;
	uint16_t slots[VQ_MAX_CHAIN];
	uint32_t in_bytes;
	struct vq_sg sg[VQ_MAX_CHAIN];
	unsigned char data[VQ_MAX_CHAIN * BUFMAX];
	unsigned char table[VQ_MAX_CHAIN * 16];
};

enum ind_mode { IND_NONE, IND_ALL, IND_MIXED };

struct rt_cfg {
	enum vq_layout layout;
	uint32_t size;
	bool in_order, batch_used, event_idx;
	enum ind_mode ind;
	uint32_t chains; /* total chains to push through */
};

/* The harness: one queue, its device, a pool of packets (the arena). */
struct h {
	const struct rt_cfg *cfg;
	char name[96];
	void *ring;
	struct vq_areas areas;
	struct vq *vq;
	struct vq_dev *dev;
	struct pkt *pool;
	uint32_t *free_pkts, nfree_pkts;
	int32_t *owner; /* slot -> pool index, -1 free */
	uint32_t *order; /* in-order: seqs in add order (ring of size) */
	uint32_t order_head, order_tail;
	struct arena arena;
	uint64_t rng;
	uint32_t seq;
	uint64_t added, completed, bytes_checked;
};

static struct vq_chain g_chains[DEV_BATCH];

static unsigned blen(uint32_t seq, unsigned j) { return 1 + (seq * 7 + j * 5) % BUFMAX; }
static unsigned char rbyte(uint32_t seq, size_t o) { return (unsigned char)(seq * 131 + o * 7 + 1); }
static unsigned char wbyte(uint32_t seq, size_t o) { return (unsigned char)(seq * 29 + o * 13 + 0x5a); }
static uint32_t push_len(uint32_t seq, uint32_t in) { return seq % 3 == 0 ? in / 2 : in; }

static uint64_t features_of(const struct rt_cfg *c)
{
	uint64_t f = VQ_FEATURE(VQ_F_VERSION_1) | VQ_FEATURE(VQ_F_INDIRECT_DESC);
	if (c->layout == VQ_LAYOUT_PACKED)
		f |= VQ_FEATURE(VQ_F_RING_PACKED);
	if (c->in_order)
		f |= VQ_FEATURE(VQ_F_IN_ORDER);
	if (c->event_idx)
		f |= VQ_FEATURE(VQ_F_EVENT_IDX);
	return f;
}

static void h_init(struct h *h, const struct rt_cfg *c)
{
	memset(h, 0, sizeof(*h));
	h->cfg = c;
	snprintf(h->name, sizeof(h->name), "%s size=%u in_order=%d batch=%d event_idx=%d ind=%d",
		 layout_name(c->layout), c->size, c->in_order, c->batch_used,
		 c->event_idx, c->ind);
	struct vq_config vc = { c->layout, c->size, features_of(c) };
	h->ring = ring_alloc(&vc, &h->areas);
	REQ1(h->ring, "%s: layout refused", h->name);
	h->pool = calloc(c->size, sizeof(*h->pool));
	h->free_pkts = calloc(c->size, sizeof(*h->free_pkts));
	h->owner = malloc(c->size * sizeof(*h->owner));
	h->order = calloc(c->size, sizeof(*h->order));
	REQ1(h->pool && h->free_pkts && h->owner && h->order, "out of memory");
	for (uint32_t i = 0; i < c->size; i++) {
		h->free_pkts[i] = c->size - 1 - i;
		h->owner[i] = -1;
	}
	h->nfree_pkts = c->size;
	h->arena.base = (unsigned char *)h->pool;
	h->arena.len = c->size * sizeof(*h->pool);
	h->rng = 0x9e3779b97f4a7c15ull ^ c->size ^ ((uint64_t)c->layout << 40);
	int rc = vq_create(&vc, h->ring, &h->vq);
	REQ1(rc == 0, "%s: vq_create %d", h->name, rc);
	rc = vq_dev_create(&vc, h->ring, arena_translate, &h->arena, &h->dev);
	REQ1(rc == 0, "%s: vq_dev_create %d", h->name, rc);
	vq_dev_set_batch_used(h->dev, c->batch_used);
}

static void h_fini(struct h *h)
{
	vq_dev_destroy(h->dev);
	vq_destroy(h->vq);
	free(h->ring);
	free(h->pool);
	free(h->free_pkts);
	free(h->owner);
	free(h->order);
}

/* Add one chain; returns 1 added, 0 ring full, -1 failure. */
static int h_add(struct h *h)
{
	const struct rt_cfg *c = h->cfg;
	if (!h->nfree_pkts)
		return 0;
	uint32_t seq = h->seq;
	bool ind = c->ind == IND_ALL || (c->ind == IND_MIXED && (seq / 3) % 2);
	unsigned n = 1 + seq % VQ_MAX_CHAIN; /* every length 1..19 in turn */
	if (!ind && n > c->size)
		n = 1 + seq % c->size;
	uint32_t pi = h->free_pkts[h->nfree_pkts - 1];
	struct pkt *p = &h->pool[pi];
	memset(p->data, 0xee, sizeof(p->data));
	p->seq = seq;
	p->n = n;
	p->ind = ind;
	p->nread = seq % (n + 1); /* 0..n readable, the rest writable */
	p->in_bytes = 0;
	size_t off = 0, ro = 0;
	for (unsigned j = 0; j < n; j++) {
		unsigned l = blen(seq, j);
		p->sg[j].addr = iova_of(p->data + off);
		p->sg[j].len = l;
		p->sg[j].write = j >= p->nread;
		if (!p->sg[j].write)
			for (unsigned b = 0; b < l; b++)
				p->data[off + b] = rbyte(seq, ro++);
		else
			p->in_bytes += l;
		off += l;
	}
	struct vq_indirect vi = { .table = p->table, .iova = iova_of(p->table) };
	unsigned need = ind ? 1 : n;
	unsigned nfree = vq_num_free(h->vq);
	int head = vq_add(h->vq, p->sg, n, p, ind ? &vi : NULL, p->slots);
	if (head == -ENOSPC) {
		CHECK(nfree < need, "%s: -ENOSPC with %u free for %u", h->name, nfree, need);
		return 0;
	}
	if (head < 0) {
		CHECK(head >= 0, "%s: vq_add seq %u n %u: %d", h->name, seq, n, head);
		return -1;
	}
	CHECK(vq_num_free(h->vq) == nfree - need, "%s: num_free after add", h->name);
	p->head = head;
	p->nslots = (uint16_t)need;
	CHECK(p->slots[0] == head, "%s: slots[0] %u != head %d", h->name, p->slots[0], head);
	for (unsigned j = 0; j < need; j++) {
		uint16_t s = p->slots[j];
		if (s >= c->size || h->owner[s] != -1) {
			CHECK(0, "%s: seq %u slot %u out of range or already owned by %d",
			      h->name, seq, s, s < c->size ? h->owner[s] : -2);
			return -1;
		}
		h->owner[s] = (int32_t)pi;
	}
	p->inflight = true;
	h->nfree_pkts--;
	h->seq++;
	h->added++;
	if (c->in_order) {
		h->order[h->order_tail] = seq;
		h->order_tail = h->order_tail + 1 == c->size ? 0 : h->order_tail + 1;
	}
	return 1;
}

static struct pkt *pkt_of_chain(struct h *h, const struct vq_chain *ch)
{
	uintptr_t p = (uintptr_t)ch->buf[0].ptr, b = (uintptr_t)h->pool;
	if (!ch->nbufs || p < b || p >= b + h->arena.len)
		return NULL;
	return &h->pool[(p - b) / sizeof(struct pkt)];
}

/* Device: pop up to max chains, check them, shuffle (out of order), push,
 * publish. Returns the number popped. */
static unsigned h_device(struct h *h, unsigned max)
{
	unsigned got = 0;
	unsigned char tmp[VQ_MAX_CHAIN * BUFMAX];

	while (got < max && got < DEV_BATCH) {
		struct vq_chain *ch = &g_chains[got];
		int rc = vq_dev_pop(h->dev, ch);
		if (rc == 0)
			break;
		REQ1(rc == 1, "%s: vq_dev_pop %d (%s)", h->name, rc,
			vq_dev_broken_reason(h->dev) ? vq_dev_broken_reason(h->dev) : "");
		struct pkt *p = pkt_of_chain(h, ch);
		REQ1(p && p->inflight, "%s: popped chain not from the pool", h->name);
		CHECK(ch->nbufs == p->n && ch->indirect == p->ind &&
			      ch->ndesc == (p->ind ? 1 : p->n) && ch->id == p->head,
		      "%s: seq %u chain shape nbufs %u/%u ind %d ndesc %u id %u/%d",
		      h->name, p->seq, ch->nbufs, p->n, ch->indirect, ch->ndesc, ch->id, p->head);
		for (unsigned j = 0; j < ch->nbufs && j < p->n; j++)
			CHECK(ch->buf[j].addr == p->sg[j].addr && ch->buf[j].len == p->sg[j].len &&
				      ch->buf[j].write == p->sg[j].write,
			      "%s: seq %u buf %u differs", h->name, p->seq, j);
		CHECK(ch->in_bytes == p->in_bytes, "%s: in_bytes", h->name);
		size_t r = vq_dev_read(ch, 0, tmp, sizeof(tmp));
		CHECK(r == ch->out_bytes, "%s: read %zu of %u", h->name, r, ch->out_bytes);
		for (size_t o = 0; o < r; o++)
			if (tmp[o] != rbyte(p->seq, o)) {
				CHECK(0, "%s: seq %u readable byte %zu is %#x", h->name, p->seq, o, tmp[o]);
				break;
			}
		h->bytes_checked += r;
		got++;
	}
	if (!h->cfg->in_order)
		for (unsigned i = got; i > 1; i--) {
			unsigned j = rng_next(&h->rng) % i;
			struct vq_chain t = g_chains[i - 1];
			g_chains[i - 1] = g_chains[j];
			g_chains[j] = t;
		}
	for (unsigned i = 0; i < got; i++) {
		struct vq_chain *ch = &g_chains[i];
		struct pkt *p = pkt_of_chain(h, ch);
		uint32_t len = push_len(p->seq, ch->in_bytes);
		unsigned char w[VQ_MAX_CHAIN * BUFMAX];
		for (uint32_t o = 0; o < len; o++)
			w[o] = wbyte(p->seq, o);
		CHECK(vq_dev_write(ch, 0, w, len) == len, "%s: dev write", h->name);
		int rc = vq_dev_push(h->dev, ch, len);
		CHECK(rc == 0, "%s: push %d", h->name, rc);
	}
	if (got)
		vq_dev_publish(h->dev);
	return got;
}

/* Driver: collect every completion, checking it. */
static void h_collect(struct h *h)
{
	struct vq_used u;
	int rc;

	while ((rc = vq_get_used(h->vq, &u)) == 1) {
		struct pkt *p = u.token;
		REQ1(p >= h->pool && p < h->pool + h->cfg->size && p->inflight,
			"%s: bad token", h->name);
		/* A chain skipped by a batch used entry was fully written,
		 * and the device ends a run at every short one. */
		uint32_t want = push_len(p->seq, p->in_bytes);
		CHECK(u.len == want, "%s: seq %u len %u want %u", h->name, p->seq, u.len, want);
		CHECK(u.head == p->head && u.ndesc == p->n && u.indirect == p->ind,
		      "%s: seq %u used head/ndesc/indirect", h->name, p->seq);
		for (unsigned j = 0; j < p->nslots; j++) {
			CHECK(u.slots[j] == p->slots[j], "%s: seq %u slot %u changed", h->name,
			      p->seq, j);
			h->owner[p->slots[j]] = -1;
		}
		if (h->cfg->in_order) {
			CHECK(h->order[h->order_head] == p->seq, "%s: completion out of order: %u, want %u",
			      h->name, p->seq, h->order[h->order_head]);
			h->order_head = h->order_head + 1 == h->cfg->size ? 0 : h->order_head + 1;
		}
		/* Writable bytes: the first u.len bytes carry the pattern, the
		 * rest is untouched. */
		size_t o = 0;
		for (unsigned j = p->nread; j < p->n; j++) {
			const unsigned char *b = (const unsigned char *)(uintptr_t)p->sg[j].addr;
			for (unsigned k = 0; k < p->sg[j].len; k++, o++) {
				unsigned char e = o < u.len ? wbyte(p->seq, o) : 0xee;
				if (b[k] != e) {
					CHECK(0, "%s: seq %u writable byte %zu is %#x want %#x",
					      h->name, p->seq, o, b[k], e);
					break;
				}
			}
		}
		h->bytes_checked += o;
		p->inflight = false;
		h->free_pkts[h->nfree_pkts++] = (uint32_t)(p - h->pool);
		h->completed++;
	}
	CHECK(rc == 0, "%s: vq_get_used %d (%s)", h->name, rc,
	      vq_broken_reason(h->vq) ? vq_broken_reason(h->vq) : "");
}

static void run_config(const struct rt_cfg *c)
{
	struct h h;
	h_init(&h, c);

	/* A direct chain longer than the ring can never fit. */
	if (c->ind == IND_NONE && c->size < VQ_MAX_CHAIN) {
		struct vq_sg sg[VQ_MAX_CHAIN];
		for (unsigned j = 0; j < VQ_MAX_CHAIN; j++)
			sg[j] = (struct vq_sg){ iova_of(h.pool->data), 1, 0 };
		int rc = vq_add(h.vq, sg, c->size + 1, h.pool, NULL, NULL);
		CHECK(rc == -ENOSPC, "%s: %u-chain on an empty ring: %d", h.name, c->size + 1, rc);
	}
	unsigned fails = 0;
	while (h.added < c->chains && !fails) {
		unsigned want = 1 + rng_next(&h.rng) % (c->size < 64 ? c->size + 2 : 80);
		for (unsigned i = 0; i < want; i++) {
			int rc = h_add(&h);
			if (rc < 0)
				fails++;
			if (rc <= 0)
				break;
			if (rng_next(&h.rng) % 8 == 0)
				vq_kick_prepare(h.vq); /* several publishes per round */
		}
		vq_kick_prepare(h.vq);
		h_device(&h, 1 + rng_next(&h.rng) % DEV_BATCH);
		h_collect(&h);
		if (t_failures > 20)
			exit(t_done("test_ring_roundtrip"));
	}
	while (h_device(&h, DEV_BATCH))
		h_collect(&h);
	h_collect(&h);
	CHECK(h.completed == h.added, "%s: %llu completed of %llu", h.name,
	      (unsigned long long)h.completed, (unsigned long long)h.added);
	CHECK(vq_num_free(h.vq) == c->size, "%s: num_free %u at the end", h.name,
	      vq_num_free(h.vq));
	struct vq_stats st;
	vq_get_stats(h.vq, &st);
	CHECK(st.added == h.added && st.completed == h.completed, "%s: stats", h.name);
	CHECK(!vq_is_broken(h.vq) && !vq_dev_is_broken(h.dev), "%s: broken", h.name);
	CHECK(h.arena.refused == 0, "%s: %lu translate refusals", h.name, h.arena.refused);
	printf("  %-60s %8llu chains, %9llu bytes verified\n", h.name,
	       (unsigned long long)h.added, (unsigned long long)h.bytes_checked);
	h_fini(&h);
}

/* ---- scripted: notifications ---------------------------------------- */

static void add_simple(struct h *h, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		REQ1(h_add(h) == 1, "%s: add", h->name);
}

static int pop_n(struct h *h, struct vq_chain *ch, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		int rc = vq_dev_pop(h->dev, &ch[i]);
		if (rc != 1)
			return -1;
	}
	return 0;
}

static void notify_script(enum vq_layout l, bool ev)
{
	/* Single-buffer readable chains so positions equal indices. */
	struct rt_cfg c = { l, 8, false, false, ev, IND_NONE, 0 };
	struct h h;
	static struct vq_chain ch[8];
	struct vq_used u;
	int k;

	h_init(&h, &c);
	h.seq = 0; /* seq % 19 == 0 -> n = 1 */
#define ADD1()                                                                 \
	do {                                                                   \
		h.seq = (h.seq + 18) / 19 * 19; /* next n = 1 */               \
		REQ1(h_add(&h) == 1, "%s: add", h.name);                    \
	} while (0)
#define KICK(want)                                                             \
	do {                                                                   \
		k = vq_kick_prepare(h.vq);                                     \
		CHECK(k == (want), "%s: line %d kick %d want %d", h.name,      \
		      __LINE__, k, (want));                                    \
	} while (0)
#define CALL(want)                                                             \
	do {                                                                   \
		k = vq_dev_publish(h.dev);                                     \
		CHECK(k == (want), "%s: line %d call %d want %d", h.name,      \
		      __LINE__, k, (want));                                    \
	} while (0)
	CHECK(!vq_dev_enable_kick(h.dev), "%s: nothing pending yet", h.name);
	ADD1(); ADD1(); ADD1();
	KICK(1);
	ADD1(); ADD1();
	KICK(ev ? 0 : 1); /* event: device still waits at index 0 */
	vq_dev_disable_kick(h.dev);
	ADD1();
	KICK(0);
	REQ1(pop_n(&h, ch, 6) == 0, "%s: pop 6", h.name);
	CHECK(!vq_dev_enable_kick(h.dev), "%s: nothing pending after 6 pops", h.name);
	ADD1();
	KICK(1);
	ADD1();
	KICK(ev ? 0 : 1); /* event: device not past index 6 yet */
	CHECK(vq_dev_enable_kick(h.dev), "%s: 2 pending must be seen", h.name);
	struct vq_stats st;
	vq_get_stats(h.vq, &st);
	CHECK(st.kicks == (ev ? 2u : 4u) && st.publishes == 5, "%s: kicks %llu publishes %llu",
	      h.name, (unsigned long long)st.kicks, (unsigned long long)st.publishes);

	CHECK(!vq_enable_cb(h.vq), "%s: nothing used yet", h.name);
	REQ1(pop_n(&h, ch + 6, 2) == 0, "%s: pop 2", h.name);
	vq_dev_push(h.dev, &ch[0], 0);
	CALL(1);
	vq_dev_push(h.dev, &ch[1], 0);
	CALL(ev ? 0 : 1); /* event: the driver has not consumed entry 0 */
	CHECK(vq_get_used(h.vq, &u) == 1, "%s: get 1", h.name);
	CHECK(vq_get_used(h.vq, &u) == 1, "%s: get 2", h.name);
	vq_dev_push(h.dev, &ch[2], 0);
	CALL(1);
	vq_disable_cb(h.vq);
	vq_dev_push(h.dev, &ch[3], 0);
	CALL(0);
	CHECK(vq_enable_cb(h.vq), "%s: 2 completions pending must be seen", h.name);
	CHECK(vq_get_used(h.vq, &u) == 1 && vq_get_used(h.vq, &u) == 1, "%s: get 3,4", h.name);
	for (int i = 4; i < 8; i++)
		vq_dev_push(h.dev, &ch[i], 0);
	CALL(1);
	for (int i = 0; i < 4; i++)
		CHECK(vq_get_used(h.vq, &u) == 1, "%s: final get", h.name);
	CHECK(vq_get_used(h.vq, &u) == 0 && vq_num_free(h.vq) == 8, "%s: drained", h.name);
	printf("  notifications %-7s event_idx=%d: exact kick/call sequence\n",
	       layout_name(l), ev);
	h_fini(&h);
#undef ADD1
#undef KICK
#undef CALL
}

/* ---- scripted: in-order batch used entries -------------------------- */

static uint16_t ring16(struct h *h, size_t off)
{
	const unsigned char *p = (const unsigned char *)h->ring + off;
	return (uint16_t)(p[0] | p[1] << 8);
}

static void batch_script(enum vq_layout l)
{
	struct rt_cfg c = { l, 16, true, true, false, IND_MIXED, 0 };
	struct h h;
	static struct vq_chain ch[8];
	struct vq_used u;

	h_init(&h, &c);
	h.seq = 1; /* chains of 2..6 buffers, some indirect */
	add_simple(&h, 5);
	vq_kick_prepare(h.vq);
	REQ1(pop_n(&h, ch, 5) == 0, "%s: pop 5", h.name);
	for (int i = 0; i < 4; i++)
		CHECK(vq_dev_push(h.dev, &ch[i], ch[i].in_bytes) == 0, "push");
	uint32_t last_len = ch[4].in_bytes / 2;
	vq_dev_push(h.dev, &ch[4], last_len);
	vq_dev_publish(h.dev);
	if (l == VQ_LAYOUT_SPLIT)
		CHECK(ring16(&h, h.areas.device_off + 2) == 1,
		      "%s: 5 chains need 1 used entry, used idx %u", h.name,
		      ring16(&h, h.areas.device_off + 2));
	else
		CHECK(ring16(&h, 12) == ch[4].id &&
			      (ring16(&h, 14) & VQ_DESC_F_USED) &&
			      !(ring16(&h, 16 * ch[0].ndesc + 14) & VQ_DESC_F_USED),
		      "%s: one used descriptor at position 0 naming id %u", h.name, ch[4].id);
	for (int i = 0; i < 5; i++) {
		int rc = vq_get_used(h.vq, &u);
		struct pkt *p = u.token;
		CHECK(rc == 1 && p->head == ch[i].id, "%s: batch member %d", h.name, i);
		CHECK(u.len == (i == 4 ? last_len : ch[i].in_bytes), "%s: batch len %d", h.name, i);
		if (rc == 1) {
			for (unsigned j = 0; j < p->nslots; j++)
				h.owner[p->slots[j]] = -1;
			p->inflight = false;
			h.free_pkts[h.nfree_pkts++] = (uint32_t)(p - h.pool);
		}
	}
	CHECK(vq_get_used(&*h.vq, &u) == 0, "%s: batch over", h.name);
	/* A short chain in the middle ends the run: 3 chains, 2 entries. */
	h.seq = 9; /* three indirect chains, each with a writable tail */
	add_simple(&h, 3);
	vq_kick_prepare(h.vq);
	REQ1(pop_n(&h, ch, 3) == 0, "%s: pop 3", h.name);
	vq_dev_push(h.dev, &ch[0], ch[0].in_bytes);
	vq_dev_push(h.dev, &ch[1], ch[1].in_bytes ? ch[1].in_bytes - 1 : 0);
	vq_dev_push(h.dev, &ch[2], ch[2].in_bytes);
	vq_dev_publish(h.dev);
	if (l == VQ_LAYOUT_SPLIT)
		CHECK(ring16(&h, h.areas.device_off + 2) == 3, "%s: used idx %u want 3",
		      h.name, ring16(&h, h.areas.device_off + 2));
	for (int i = 0; i < 3; i++) {
		int rc = vq_get_used(h.vq, &u);
		CHECK(rc == 1 && ((struct pkt *)u.token)->head == ch[i].id, "%s: run %d", h.name, i);
		CHECK(u.len == (i == 1 && ch[1].in_bytes ? ch[1].in_bytes - 1 : ch[i].in_bytes),
		      "%s: run len %d = %u", h.name, i, u.len);
	}
	CHECK(vq_num_free(h.vq) == 16, "%s: all free", h.name);
	printf("  in-order batch used %-7s: 1 entry for 5 chains, short chain splits a run\n",
	       layout_name(l));
	h_fini(&h);
}

/* ---- scripted: detach after reset ----------------------------------- */

static void detach_script(enum vq_layout l, bool in_order)
{
	struct rt_cfg c = { l, 64, in_order, false, false, IND_MIXED, 0 };
	struct h h;
	struct vq_used u;

	h_init(&h, &c);
	add_simple(&h, 6);
	vq_kick_prepare(h.vq);
	h_device(&h, 3); /* 3 complete */
	h_collect(&h);
	add_simple(&h, 4);
	vq_kick_prepare(h.vq);
	h_device(&h, 2); /* 2 more complete, not collected */
	add_simple(&h, 2); /* never published */
	uint32_t want = (uint32_t)(h.added - h.completed), got = 0;
	vq_dev_destroy(h.dev); /* "reset" */
	h.dev = NULL;
	int rc;
	while ((rc = vq_detach_unused(h.vq, &u)) == 1) {
		struct pkt *p = u.token;
		CHECK(p && p->inflight, "%s: detached token not in flight (twice?)", h.name);
		if (!p || !p->inflight)
			break;
		CHECK(u.len == 0 && u.head == p->head && u.ndesc == p->n, "%s: detach info", h.name);
		for (unsigned j = 0; j < p->nslots; j++)
			CHECK(u.slots[j] == p->slots[j], "%s: detach slots", h.name);
		p->inflight = false;
		got++;
	}
	CHECK(got == want, "%s: detached %u of %u in flight", h.name, got, want);
	CHECK(vq_num_free(h.vq) == 64, "%s: num_free %u after detach", h.name, vq_num_free(h.vq));
	CHECK(vq_detach_unused(h.vq, &u) == 0, "%s: nothing left", h.name);
	printf("  detach after reset %-7s in_order=%d: %u in-flight tokens back once each\n",
	       layout_name(l), in_order, got);
	h.dev = NULL;
	vq_destroy(h.vq);
	free(h.ring);
	free(h.pool);
	free(h.free_pkts);
	free(h.owner);
	free(h.order);
}

int main(int argc, char **argv)
{
	static const uint32_t split_sizes[] = { 1, 2, 256, 32768 };
	static const uint32_t packed_sizes[] = { 1, 2, 3, 256, 1000, 32768 };
	static const struct { bool in_order, batch; } modes[] = {
		{ false, false }, { true, false }, { true, true } };
	double scale = argc > 1 ? atof(argv[1]) : 1.0;

	printf("roundtrip (one thread):\n");
	for (int l = 0; l < 2; l++) {
		const uint32_t *sizes = l ? packed_sizes : split_sizes;
		size_t ns = l ? 6 : 4;
		for (size_t si = 0; si < ns; si++)
			for (size_t m = 0; m < 3; m++)
				for (int ev = 0; ev < 2; ev++)
					for (int ind = 0; ind < 3; ind++) {
						uint32_t sz = sizes[si];
						uint32_t chains = sz >= 32768 ? 2 * sz
								  : 6 * sz > 3000 ? 6 * sz : 3000;
						/* 16-bit index wraps on a few small rings */
						if ((sz == 2 || sz == 3) && ind == IND_MIXED)
							chains = 70000;
						struct rt_cfg c = { (enum vq_layout)l, sz, modes[m].in_order,
								    modes[m].batch, ev, (enum ind_mode)ind,
								    (uint32_t)(chains * scale) + 1 };
						run_config(&c);
					}
	}
	printf("scripted:\n");
	for (int l = 0; l < 2; l++) {
		notify_script((enum vq_layout)l, false);
		notify_script((enum vq_layout)l, true);
		batch_script((enum vq_layout)l);
		detach_script((enum vq_layout)l, false);
		detach_script((enum vq_layout)l, true);
	}
	printf("checked: chains of every length 1..19, direct/indirect/mixed, split 1..32768 and "
	       "packed 1..32768 (incl. 3 and 1000), in-order (+batch used) and shuffled "
	       "completion, payload bytes both ways, slots unique and returned, exact "
	       "notification counts, batch used entries, detach after reset\n");
	return t_done("test_ring_roundtrip");
}
