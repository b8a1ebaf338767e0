/* SPDX-License-Identifier: MIT */
/*
 * test_ring_hostile: a hostile device writes ring memory directly to break
 * each driver-side hardening rule (bad used id, id not in flight, double
 * completion, oversized len, used index jump, packed wrap/flag
 * inconsistencies, a used entry naming a chain added but not yet
 * published); the driver must answer -EIO, stay broken with a reason
 * naming the rule, refuse further work, and vq_detach_unused must still
 * return every in-flight token exactly once. Then a hostile driver breaks
 * each device-side rule (loop, over-long chain, nested indirect, bad
 * indirect length, index out of range, untranslatable address, writable
 * before readable, avail index jump); the device must refuse the chain.
 */
#include <errno.h>
#include <stdio.h>

#include "ring_util.h"

#define QSZ 8

static unsigned char g_mem[4096];
static struct arena g_arena = { g_mem, sizeof(g_mem), 0 };

static void wr16(void *m, size_t off, uint16_t v) { memcpy((char *)m + off, &v, 2); }
static void wr32(void *m, size_t off, uint32_t v) { memcpy((char *)m + off, &v, 4); }
static void wr64(void *m, size_t off, uint64_t v) { memcpy((char *)m + off, &v, 8); }

static bool has(const char *s, const char *sub) { return s && strstr(s, sub); }

/* ---- hostile device ------------------------------------------------- */

enum dev_attack {
	ATK_ID_RANGE, ATK_NOT_INFLIGHT, ATK_DOUBLE, ATK_LEN, ATK_IDX_JUMP,
	ATK_WRAP_FLAGS, ATK_WRAP_USED, ATK_COUNT
};

static const char *const atk_name[] = { "used id out of range", "used id not in flight",
	"double completion", "oversized len", "used index jump",
	"packed AVAIL!=USED against wrap", "packed used with wrong wrap" };
static const char *const atk_reason[] = { "out of range", "not", "double completion",
	"exceeds", "jumped", "AVAIL=0 USED=1", "used with wrap 0" };

static void hostile_device(enum vq_layout l, enum dev_attack atk)
{
	uint64_t f = VQ_FEATURE(VQ_F_INDIRECT_DESC) |
		     (l == VQ_LAYOUT_PACKED ? VQ_FEATURE(VQ_F_RING_PACKED) : 0);
	struct vq_config cfg = { l, QSZ, f };
	struct vq_areas a;
	void *m = ring_alloc(&cfg, &a);
	struct vq *vq;
	struct vq_dev *dev;
	char name[80];
	snprintf(name, sizeof(name), "%s: %s", layout_name(l), atk_name[atk]);
	REQ1(vq_create(&cfg, m, &vq) == 0, "%s: create", name);
	REQ1(vq_dev_create(&cfg, m, arena_translate, &g_arena, &dev) == 0, "%s: dev", name);

	/* Four chains: 2 descriptors (read + write 16), 1, 2, 1. */
	int tokens[4] = { 0 }, heads[4];
	for (int i = 0; i < 4; i++) {
		struct vq_sg sg[2] = { { iova_of(g_mem + 64 * i), 8, 0 },
				       { iova_of(g_mem + 64 * i + 8), 16, 1 } };
		heads[i] = vq_add(vq, sg, i % 2 ? 1 : 2, &tokens[i], NULL, NULL);
		REQ1(heads[i] >= 0, "%s: add %d", name, i);
	}
	vq_kick_prepare(vq);
	struct vq_chain ch;
	for (int i = 0; i < 4; i++)
		REQ1(vq_dev_pop(dev, &ch) == 1, "%s: pop", name);
	/* Chain 0 completes legitimately (device pushes it). */
	struct vq_chain c0 = { .id = (uint16_t)heads[0], .ndesc = 2, .nbufs = 0,
			       .in_bytes = 16 };
	REQ1(vq_dev_push(dev, &c0, 16) == 0, "%s: push", name);
	vq_dev_publish(dev);
	struct vq_used u;
	REQ1(vq_get_used(vq, &u) == 1 && u.token == &tokens[0] && u.len == 16,
	     "%s: legit completion", name);
	tokens[0] = -1; /* no longer in flight */

	/* The forged entry, at the next used slot / position. */
	uint32_t id = (uint32_t)heads[2], len = 0;
	switch (atk) {
	case ATK_ID_RANGE: id = l == VQ_LAYOUT_SPLIT ? 70000 : QSZ + 1; break;
	case ATK_NOT_INFLIGHT: id = (uint32_t)heads[2] + 1; break; /* body, not head */
	case ATK_DOUBLE: id = (uint32_t)heads[0]; break;
	case ATK_LEN: len = 17; id = (uint32_t)heads[2]; break;
	default: break;
	}
	if (l == VQ_LAYOUT_SPLIT) {
		if (atk >= ATK_WRAP_FLAGS) {
			vq_destroy(vq);
			vq_dev_destroy(dev);
			free(m);
			return; /* packed only */
		}
		wr32(m, a.device_off + 4 + 8 * 1, id);
		wr32(m, a.device_off + 4 + 8 * 1 + 4, len);
		wr16(m, a.device_off + 2, atk == ATK_IDX_JUMP ? 1 + QSZ + 1 : 2);
	} else {
		if (atk == ATK_IDX_JUMP) {
			vq_destroy(vq);
			vq_dev_destroy(dev);
			free(m);
			return; /* split only: packed has no index */
		}
		size_t d = 16 * 2; /* chain 0 took positions 0-1 */
		uint16_t fl = VQ_DESC_F_AVAIL | VQ_DESC_F_USED | VQ_DESC_F_WRITE;
		if (atk == ATK_WRAP_FLAGS)
			fl = VQ_DESC_F_USED; /* AVAIL=0 USED=1 with wrap 1 */
		if (atk == ATK_WRAP_USED)
			fl = 0; /* used, but for wrap 0 */
		wr16(m, d + 12, (uint16_t)id);
		wr32(m, d + 8, len);
		wr16(m, d + 14, fl);
	}
	int rc = vq_get_used(vq, &u);
	CHECK(rc == -EIO, "%s: get_used %d, want -EIO", name, rc);
	CHECK(vq_is_broken(vq), "%s: not broken", name);
	CHECK(has(vq_broken_reason(vq), atk_reason[atk]), "%s: reason '%s' lacks '%s'", name,
	      vq_broken_reason(vq) ? vq_broken_reason(vq) : "(null)", atk_reason[atk]);
	struct vq_sg sg = { iova_of(g_mem), 8, 0 };
	CHECK(vq_add(vq, &sg, 1, &tokens[0], NULL, NULL) == -EIO, "%s: add after broken", name);
	CHECK(vq_get_used(vq, &u) == -EIO, "%s: get_used after broken", name);
	CHECK(vq_kick_prepare(vq) == -EIO, "%s: kick after broken", name);
	/* Every in-flight token once, nothing twice. */
	int seen[4] = { 0 };
	while (vq_detach_unused(vq, &u) == 1) {
		int i = (int)((int *)u.token - tokens);
		CHECK(i >= 1 && i < 4, "%s: detached token %d was not in flight", name, i);
		if (i >= 0 && i < 4)
			seen[i]++;
	}
	CHECK(seen[0] == 0 && seen[1] == 1 && seen[2] == 1 && seen[3] == 1,
	      "%s: detached %d %d %d %d", name, seen[0], seen[1], seen[2], seen[3]);
	CHECK(vq_num_free(vq) == QSZ, "%s: num_free %u", name, vq_num_free(vq));
	printf("  hostile device %-40s -> -EIO, \"%s\"\n", name, vq_broken_reason(vq));
	vq_destroy(vq);
	vq_dev_destroy(dev);
	free(m);
}

/* A used entry naming a chain that vq_add took but vq_kick_prepare has not
 * published yet: the device cannot have seen it, so the driver must treat
 * it as not in flight (-EIO, broken), in and out of order. Two one-buffer
 * chains are published, a third is only added; the forged entry names the
 * third. Every token is still detached exactly once. */
static void unpublished_completion(enum vq_layout l, bool in_order)
{
	uint64_t f = VQ_FEATURE(VQ_F_INDIRECT_DESC) |
		     (l == VQ_LAYOUT_PACKED ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) |
		     (in_order ? VQ_FEATURE(VQ_F_IN_ORDER) : 0);
	struct vq_config cfg = { l, QSZ, f };
	struct vq_areas a;
	void *m = ring_alloc(&cfg, &a);
	struct vq *vq;
	char name[80];
	snprintf(name, sizeof(name), "%s%s: used names an unpublished chain", layout_name(l),
		 in_order ? " in-order" : "");
	REQ1(vq_create(&cfg, m, &vq) == 0, "%s: create", name);
	int tokens[3] = { 0 }, heads[3];
	for (int i = 0; i < 3; i++) {
		struct vq_sg sg = { iova_of(g_mem + 64 * i), 16, 1 };
		heads[i] = vq_add(vq, &sg, 1, &tokens[i], NULL, NULL);
		REQ1(heads[i] >= 0, "%s: add %d", name, i);
		if (i == 1)
			REQ1(vq_kick_prepare(vq) >= 0, "%s: publish", name);
	}
	if (l == VQ_LAYOUT_SPLIT) {
		wr32(m, a.device_off + 4, (uint32_t)heads[2]);
		wr32(m, a.device_off + 8, 16);
		wr16(m, a.device_off + 2, 1);
	} else {
		wr16(m, 12, (uint16_t)heads[2]);
		wr32(m, 8, 16);
		wr16(m, 14, VQ_DESC_F_AVAIL | VQ_DESC_F_USED | VQ_DESC_F_WRITE);
	}
	struct vq_used u;
	int rc = vq_get_used(vq, &u);
	CHECK(rc == -EIO, "%s: get_used %d (token %s), want -EIO", name, rc,
	      rc == 1 ? (u.token == &tokens[2] ? "of the unpublished chain" : "of a published chain")
		      : "none");
	CHECK(vq_is_broken(vq), "%s: not broken", name);
	CHECK(has(vq_broken_reason(vq), "not yet published"), "%s: reason '%s' lacks 'not yet published'",
	      name, vq_broken_reason(vq) ? vq_broken_reason(vq) : "(null)");
	int seen[3] = { 0 };
	while (vq_detach_unused(vq, &u) == 1) {
		int i = (int)((int *)u.token - tokens);
		CHECK(i >= 0 && i < 3, "%s: detached an unknown token", name);
		if (i >= 0 && i < 3)
			seen[i]++;
	}
	CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1, "%s: detached %d %d %d", name, seen[0],
	      seen[1], seen[2]);
	CHECK(vq_num_free(vq) == QSZ, "%s: num_free %u", name, vq_num_free(vq));
	printf("  hostile device %-40s -> -EIO, \"%s\"\n", name,
	       vq_broken_reason(vq) ? vq_broken_reason(vq) : "(null)");
	vq_destroy(vq);
	free(m);
}

/* The other side of that rule: a legitimate device that keeps one chain
 * while 65535 others are published and completed, then completes it. The
 * driver tags chains with a 16-bit publish generation, which comes round
 * to the kept chain's tag after 2^16 publishes; the completion must still
 * be accepted (no false "not yet published"). */
static void long_held_chain(enum vq_layout l)
{
	uint64_t f = l == VQ_LAYOUT_PACKED ? VQ_FEATURE(VQ_F_RING_PACKED) : 0;
	struct vq_config cfg = { l, QSZ, f };
	struct vq_areas a;
	void *m = ring_alloc(&cfg, &a);
	struct vq *vq;
	struct vq_dev *dev;
	const char *name = layout_name(l);
	REQ1(vq_create(&cfg, m, &vq) == 0, "%s: create", name);
	REQ1(vq_dev_create(&cfg, m, arena_translate, &g_arena, &dev) == 0, "%s: dev", name);
	int kept = 0, other = 0;
	struct vq_sg sg = { iova_of(g_mem), 16, 1 };
	struct vq_chain held, c;
	struct vq_used u;
	REQ1(vq_add(vq, &sg, 1, &kept, NULL, NULL) >= 0 && vq_kick_prepare(vq) >= 0, "%s: add", name);
	REQ1(vq_dev_pop(dev, &held) == 1, "%s: pop the kept chain", name);
	unsigned done = 0;
	for (unsigned i = 0; i < 65535; i++) {
		if (vq_add(vq, &sg, 1, &other, NULL, NULL) < 0 || vq_kick_prepare(vq) < 0 ||
		    vq_dev_pop(dev, &c) != 1 || vq_dev_push(dev, &c, 4) != 0)
			break;
		vq_dev_publish(dev);
		if (vq_get_used(vq, &u) != 1 || u.token != &other)
			break;
		done++;
	}
	CHECK(done == 65535, "%s: %u of 65535 round trips beside the kept chain (%s)", name, done,
	      vq_broken_reason(vq) ? vq_broken_reason(vq) : "not broken");
	REQ1(vq_dev_push(dev, &held, 8) == 0, "%s: push the kept chain", name);
	vq_dev_publish(dev);
	int rc = vq_get_used(vq, &u);
	CHECK(rc == 1 && u.token == &kept && u.len == 8,
	      "%s: the chain kept across 65535 publishes: get_used %d (%s), want 1", name, rc,
	      vq_broken_reason(vq) ? vq_broken_reason(vq) : "not broken");
	printf("  legit device %s: a chain kept across 65535 publishes completes (get_used %d)\n", name,
	       rc);
	vq_destroy(vq);
	vq_dev_destroy(dev);
	free(m);
}

/* ---- hostile driver ------------------------------------------------- */

enum drv_attack {
	D_LOOP, D_LONG, D_NESTED, D_IND_ZERO, D_IND_ODD, D_INDEX, D_NEXT_INDEX,
	D_UNTRANSLATABLE, D_WRITE_ORDER, D_AVAIL_JUMP, D_IND_NEXT, D_ID, D_ID_CHAIN,
	D_UNTRANSLATABLE_CHAIN, D_COUNT
};

static const char *const d_name[] = { "loop", "over-long chain", "nested indirect",
	"zero-length indirect", "indirect len % 16", "head index out of range",
	"next index out of range", "untranslatable address", "writable before readable",
	"avail index jump", "indirect next out of range",
	"buffer id out of range (one descriptor)", "buffer id out of range (chain of 2)",
	"untranslatable address (2nd of a chain)" };
static const char *const d_reason[] = { "loop", "", "inside an indirect", "zero",
	"multiple of 16", "out of range", "out of range", "not translatable",
	"readable buffer after", "jumped", "out of range", "buffer id 11 out of range",
	"buffer id 11 out of range", "0x1000+8 not translatable" };

/* Split: desc i at 16*i: addr, len, flags, next. */
static void sdesc(void *m, unsigned i, uint64_t addr, uint32_t len, uint16_t fl,
		  uint16_t next)
{
	wr64(m, 16 * i, addr);
	wr32(m, 16 * i + 8, len);
	wr16(m, 16 * i + 12, fl);
	wr16(m, 16 * i + 14, next);
}

/* Packed: desc i: addr, len, id, flags (available for wrap 1). */
static void pdesc(void *m, unsigned i, uint64_t addr, uint32_t len, uint16_t fl)
{
	wr64(m, 16 * i, addr);
	wr32(m, 16 * i + 8, len);
	wr16(m, 16 * i + 12, 0);
	wr16(m, 16 * i + 14, (uint16_t)(fl | VQ_DESC_F_AVAIL));
}

static void hostile_driver(enum vq_layout l, enum drv_attack atk)
{
	struct vq_config cfg = { l, QSZ, VQ_FEATURE(VQ_F_INDIRECT_DESC) };
	struct vq_areas a;
	void *m = ring_alloc(&cfg, &a);
	struct vq_dev *dev;
	char name[80];
	uint64_t buf = iova_of(g_mem), tbl = iova_of(g_mem + 1024);
	const uint16_t N = VQ_DESC_F_NEXT, W = VQ_DESC_F_WRITE, I = VQ_DESC_F_INDIRECT;
	snprintf(name, sizeof(name), "%s: %s", layout_name(l), d_name[atk]);
	memset(g_mem + 1024, 0, 256);

	if (l == VQ_LAYOUT_SPLIT) {
		uint16_t head = 0, idx = 1;
		if (atk == D_ID || atk == D_ID_CHAIN) {
			free(m);
			return; /* packed-only: a split chain's id is its head index */
		}
		switch (atk) {
		case D_LOOP: sdesc(m, 0, buf, 8, N, 1); sdesc(m, 1, buf, 8, N, 0); break;
		case D_LONG:
			for (unsigned i = 0; i < QSZ; i++)
				sdesc(m, i, buf, 8, N, (uint16_t)((i + 1) % QSZ));
			break;
		case D_NESTED:
			sdesc(m, 0, tbl, 32, I, 0);
			sdesc(g_mem + 1024, 0, buf, 8, N, 1);
			sdesc(g_mem + 1024, 1, tbl, 16, I, 0);
			break;
		case D_IND_ZERO: sdesc(m, 0, tbl, 0, I, 0); break;
		case D_IND_ODD: sdesc(m, 0, tbl, 24, I, 0); break;
		case D_INDEX: head = QSZ + 1; break;
		case D_NEXT_INDEX: sdesc(m, 0, buf, 8, N, 100); break;
		case D_UNTRANSLATABLE: sdesc(m, 0, 0x1000, 8, 0, 0); break;
		case D_WRITE_ORDER: sdesc(m, 0, buf, 8, W | N, 1); sdesc(m, 1, buf, 8, 0, 0); break;
		case D_AVAIL_JUMP: sdesc(m, 0, buf, 8, 0, 0); idx = QSZ + 5; break;
		case D_IND_NEXT:
			sdesc(m, 0, tbl, 32, I, 0);
			sdesc(g_mem + 1024, 0, buf, 8, N, 2); /* table has 2 entries */
			break;
		case D_UNTRANSLATABLE_CHAIN:
			sdesc(m, 0, buf, 8, N, 1);
			sdesc(m, 1, 0x1000, 8, 0, 0);
			break;
		default: break;
		}
		wr16(m, a.driver_off + 4, head);
		wr16(m, a.driver_off + 2, idx);
	} else {
		if (atk == D_AVAIL_JUMP || atk == D_IND_NEXT || atk == D_NEXT_INDEX ||
		    atk == D_INDEX || atk == D_LOOP) {
			free(m);
			return; /* split-only notions */
		}
		switch (atk) {
		case D_LONG:
			for (unsigned i = 0; i < QSZ; i++)
				pdesc(m, i, buf, 8, N);
			break;
		case D_NESTED:
			pdesc(m, 0, tbl, 32, I);
			/* packed table entries: flags at +14 */
			wr64(g_mem + 1024, 0, buf);
			wr32(g_mem + 1024, 8, 8);
			wr64(g_mem + 1024, 16, tbl);
			wr32(g_mem + 1024, 24, 16);
			wr16(g_mem + 1024, 30, I);
			break;
		case D_IND_ZERO: pdesc(m, 0, tbl, 0, I); break;
		case D_IND_ODD: pdesc(m, 0, tbl, 24, I); break;
		case D_UNTRANSLATABLE: pdesc(m, 0, 0x1000, 8, 0); break;
		case D_WRITE_ORDER: pdesc(m, 0, buf, 8, W | N); pdesc(m, 1, buf, 8, 0); break;
		case D_ID: /* the single-descriptor path */
			pdesc(m, 0, buf, 8, 0);
			wr16(m, 12, QSZ + 3);
			break;
		case D_ID_CHAIN: /* the id of the chain's last descriptor */
			pdesc(m, 0, buf, 8, N);
			pdesc(m, 1, buf, 8, 0);
			wr16(m, 16 + 12, QSZ + 3);
			break;
		case D_UNTRANSLATABLE_CHAIN:
			pdesc(m, 0, buf, 8, N);
			pdesc(m, 1, 0x1000, 8, 0);
			break;
		default: break;
		}
	}
	REQ1(vq_dev_create(&cfg, m, arena_translate, &g_arena, &dev) == 0, "%s: dev", name);
	struct vq_chain c;
	int rc = vq_dev_pop(dev, &c);
	CHECK(rc == -EINVAL, "%s: pop %d, want -EINVAL", name, rc);
	CHECK(vq_dev_is_broken(dev), "%s: device not broken", name);
	CHECK(has(vq_dev_broken_reason(dev), d_reason[atk]), "%s: reason '%s' lacks '%s'",
	      name, vq_dev_broken_reason(dev) ? vq_dev_broken_reason(dev) : "(null)",
	      d_reason[atk]);
	CHECK(vq_dev_pop(dev, &c) == -EINVAL, "%s: pop after broken", name);
	printf("  hostile driver %-40s -> -EINVAL, \"%s\"\n", name, vq_dev_broken_reason(dev));
	vq_dev_destroy(dev);
	free(m);
}

int main(void)
{
	for (int l = 0; l < 2; l++)
		for (int atk = 0; atk < ATK_COUNT; atk++)
			hostile_device((enum vq_layout)l, (enum dev_attack)atk);
	for (int l = 0; l < 2; l++)
		for (int io = 0; io < 2; io++)
			unpublished_completion((enum vq_layout)l, io);
	for (int l = 0; l < 2; l++)
		long_held_chain((enum vq_layout)l);
	for (int l = 0; l < 2; l++)
		for (int atk = 0; atk < D_COUNT; atk++)
			hostile_driver((enum vq_layout)l, (enum drv_attack)atk);
	printf("checked: each driver hardening rule gives -EIO + broken + reason, later calls "
	       "refused, every in-flight token detached once; each device validation rule "
	       "rejects the chain and breaks the device\n");
	return t_done("test_ring_hostile");
}
