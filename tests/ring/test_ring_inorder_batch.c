/* SPDX-License-Identifier: MIT */
/*
 * test_ring_inorder_batch: VIRTIO_F_IN_ORDER's batch completion (virtio 1.2
 * 2.7.9 split, 2.8.20 packed): the device writes one used entry, naming the
 * last chain of a run, and the driver infers the chains before it as fully
 * used.
 *  1. A device with one used entry per publish (vq_dev_set_batch_used)
 *     writes exactly one used entry for four fully used chains of 2, 1, 2
 *     and 1 descriptors (split: used idx moves by 1; packed: only the first
 *     ring position turns used, the device skips the batch's 6
 *     descriptors); the driver returns the four chains in order, the first
 *     three with their device-writable length, the last with the length
 *     the device gave. A short chain ends a run: it gets its own entry.
 *  2. A hostile device's batch entry: naming a slot inside a chain (not a
 *     head), an id out of range, a last chain with a len above its
 *     writable bytes, a chain already completed. The driver must answer
 *     -EIO, stay broken with the reason, and detach every chain in flight
 *     exactly once.
 */
#include <errno.h>
#include <stdio.h>

#include "ring_util.h"

#define QSZ 16

static unsigned char g_mem[4096];
static struct arena g_arena = { g_mem, sizeof(g_mem), 0 };

static bool has(const char *s, const char *sub) { return s && strstr(s, sub); }

struct rig {
	struct vq_config cfg;
	struct vq_areas a;
	void *m;
	struct vq *vq;
	struct vq_dev *dev;
	int tokens[4], heads[4];
	char name[96];
};

/* Four chains: 2 descriptors (read 8 + write 16), 1 (write 16), 2, 1. */
static void rig_init(struct rig *r, enum vq_layout l, const char *what)
{
	r->cfg = (struct vq_config){ l, QSZ,
		VQ_FEATURE(VQ_F_IN_ORDER) | (l == VQ_LAYOUT_PACKED ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) };
	r->m = ring_alloc(&r->cfg, &r->a);
	snprintf(r->name, sizeof(r->name), "%s in-order: %s", layout_name(l), what);
	REQ1(r->m && vq_create(&r->cfg, r->m, &r->vq) == 0, "%s: create", r->name);
	REQ1(vq_dev_create(&r->cfg, r->m, arena_translate, &g_arena, &r->dev) == 0, "%s: dev",
	     r->name);
	vq_dev_set_batch_used(r->dev, true);
	for (int i = 0; i < 4; i++) {
		struct vq_sg sg[2] = { { iova_of(g_mem + 64 * i), 8, 0 },
				       { iova_of(g_mem + 64 * i + 8), 16, 1 } };
		r->heads[i] = vq_add(r->vq, i % 2 ? sg + 1 : sg, i % 2 ? 1 : 2, &r->tokens[i], NULL, NULL);
		REQ1(r->heads[i] >= 0, "%s: add %d", r->name, i);
	}
	REQ1(vq_kick_prepare(r->vq) >= 0, "%s: publish", r->name);
}

static void rig_fini(struct rig *r)
{
	vq_dev_destroy(r->dev);
	vq_destroy(r->vq);
	free(r->m);
}

static uint16_t rd16(const void *m, size_t off)
{
	uint16_t v;
	memcpy(&v, (const char *)m + off, 2);
	return v;
}

/* 1: the device's batch entry and the driver's inference. */
static void legit_batch(enum vq_layout l, bool short_mid)
{
	struct rig r;
	rig_init(&r, l, short_mid ? "a short chain ends a run" : "one used entry for 4 chains");
	static struct vq_chain c[4];
	int st;
	REQ1(vq_dev_pop_burst(r.dev, c, 4, &st) == 4, "%s: pop", r.name);
	uint32_t lens[4] = { 16, short_mid ? 5 : 16, 16, 10 };
	REQ1(vq_dev_push_burst(r.dev, c, lens, 4) == 4, "%s: push", r.name);
	vq_dev_publish(r.dev);
	/* entries written: 1, or 2 when chain 1 is short (run 0..1, run 2..3) */
	unsigned want_entries = short_mid ? 2 : 1;
	if (l == VQ_LAYOUT_SPLIT) {
		CHECK(rd16(r.m, r.a.device_off + 2) == want_entries, "%s: used idx %u, want %u",
		      r.name, rd16(r.m, r.a.device_off + 2), want_entries);
	} else {
		/* used: AVAIL == USED == wrap 1 at position 0 (and 3 when
		 * chain 1 ends a run: chains 0 and 1 span 3 descriptors) */
		const uint16_t AU = VQ_DESC_F_AVAIL | VQ_DESC_F_USED;
		for (unsigned p = 0; p < 6; p++) {
			bool used = (rd16(r.m, r.a.desc_off + 16 * p + 14) & AU) == AU;
			bool want = p == 0 || (short_mid && p == 3);
			CHECK(used == want, "%s: position %u used=%d, want %d", r.name, p, used, want);
		}
	}
	struct vq_used u;
	for (unsigned i = 0; i < 4; i++) {
		int rc = vq_get_used(r.vq, &u);
		CHECK(rc == 1 && u.token == &r.tokens[i] && u.len == lens[i],
		      "%s: completion %u: rc %d len %u, want len %u", r.name, i, rc, rc == 1 ? u.len : 0,
		      lens[i]);
	}
	CHECK(vq_get_used(r.vq, &u) == 0 && !vq_is_broken(r.vq), "%s: more than 4", r.name);
	CHECK(vq_num_free(r.vq) == QSZ, "%s: num_free %u", r.name, vq_num_free(r.vq));
	printf("  %-50s -> %u used entr%s, 4 completions in order\n", r.name, want_entries,
	       want_entries == 1 ? "y" : "ies");
	rig_fini(&r);
}

enum atk { ATK_NONHEAD, ATK_RANGE, ATK_LEN, ATK_DONE, ATK_COUNT };
static const char *const atk_name[] = { "batch names a slot inside a chain",
	"batch id out of range", "batch len above the last chain's", "batch names a completed chain" };
static const char *const atk_reason[] = { "double completion", "out of range", "exceeds",
	"double completion" };

/* Forge the used entry the driver reads next: id, len. */
static void forge(struct rig *r, unsigned used_idx, unsigned pos, uint32_t id, uint32_t len)
{
	char *m = r->m;
	if (r->cfg.layout == VQ_LAYOUT_SPLIT) {
		char *e = m + r->a.device_off + 4 + 8 * (used_idx % QSZ);
		memcpy(e, &id, 4);
		memcpy(e + 4, &len, 4);
		uint16_t idx = (uint16_t)(used_idx + 1);
		memcpy(m + r->a.device_off + 2, &idx, 2);
	} else {
		char *d = m + r->a.desc_off + 16 * pos;
		uint16_t id16 = (uint16_t)id, f = VQ_DESC_F_AVAIL | VQ_DESC_F_USED | VQ_DESC_F_WRITE;
		memcpy(d + 8, &len, 4);
		memcpy(d + 12, &id16, 2);
		memcpy(d + 14, &f, 2);
	}
}

/* 2: a hostile device's batch entry. */
static void hostile_batch(enum vq_layout l, enum atk atk)
{
	struct rig r;
	rig_init(&r, l, atk_name[atk]);
	static struct vq_chain c[4];
	int st;
	REQ1(vq_dev_pop_burst(r.dev, c, 4, &st) == 4, "%s: pop", r.name);
	int done = -1; /* token index completed legitimately */
	unsigned used_idx = 0, pos = 0;
	if (atk == ATK_DONE) {
		/* chain 0 completes legitimately, alone */
		uint32_t len = 16;
		REQ1(vq_dev_push_burst(r.dev, c, &len, 1) == 1, "%s: push", r.name);
		vq_dev_publish(r.dev);
		struct vq_used u;
		REQ1(vq_get_used(r.vq, &u) == 1 && u.token == &r.tokens[0], "%s: legit", r.name);
		done = 0;
		used_idx = 1;
		pos = 2;
	}
	switch (atk) {
	case ATK_NONHEAD: forge(&r, used_idx, pos, (uint32_t)r.heads[2] + 1, 16); break;
	case ATK_RANGE: forge(&r, used_idx, pos, QSZ + 3, 16); break;
	case ATK_LEN: forge(&r, used_idx, pos, (uint32_t)r.heads[2], 17); break;
	case ATK_DONE: forge(&r, used_idx, pos, (uint32_t)r.heads[0], 16); break;
	default: break;
	}
	struct vq_used u;
	int rc = vq_get_used(r.vq, &u);
	CHECK(rc == -EIO, "%s: get_used %d, want -EIO", r.name, rc);
	CHECK(vq_is_broken(r.vq), "%s: driver not broken", r.name);
	CHECK(has(vq_broken_reason(r.vq), atk_reason[atk]), "%s: reason '%s' lacks '%s'", r.name,
	      vq_broken_reason(r.vq) ? vq_broken_reason(r.vq) : "(null)", atk_reason[atk]);
	CHECK(vq_get_used(r.vq, &u) == -EIO, "%s: get_used after broken", r.name);
	int seen[4] = { 0 };
	while (vq_detach_unused(r.vq, &u) == 1) {
		int i = (int)((int *)u.token - r.tokens);
		CHECK(i >= 0 && i < 4 && i != done, "%s: detached token %d", r.name, i);
		if (i >= 0 && i < 4)
			seen[i]++;
	}
	for (int i = 0; i < 4; i++)
		CHECK(seen[i] == (i == done ? 0 : 1), "%s: token %d detached %d times", r.name, i,
		      seen[i]);
	CHECK(vq_num_free(r.vq) == QSZ, "%s: num_free %u", r.name, vq_num_free(r.vq));
	printf("  %-50s -> -EIO, \"%s\"\n", r.name, vq_broken_reason(r.vq));
	rig_fini(&r);
}

int main(void)
{
	for (int l = 0; l < 2; l++) {
		legit_batch((enum vq_layout)l, false);
		legit_batch((enum vq_layout)l, true);
		for (int a = 0; a < ATK_COUNT; a++)
			hostile_batch((enum vq_layout)l, (enum atk)a);
	}
	return t_done("test_ring_inorder_batch");
}
