/* SPDX-License-Identifier: MIT */
/*
 * test_ring_events - notification suppression compared across layouts.
 *
 * One seeded schedule of driver and device steps (add a few chains and
 * publish; pop, push and publish a few; reap a few; now and then turn
 * notifications off and on again) runs on a split and on a packed ring. The
 * event positions mean the same thing in both layouts (the next chain the
 * other side will look at), so with VIRTIO_RING_F_EVENT_IDX the packed
 * ring must decide exactly as the split ring does: the same kicks and the
 * same used-buffer notifications, step for step, and fewer kicks than
 * publishes (the schedule lets the device fall behind). Without EVENT_IDX
 * every publish notifies on both.
 *
 * It also checks that the packed event suppression areas carry a hint only
 * while the other side reads it: off_wrap stays untouched without EVENT_IDX
 * and stops moving while the side's flags say DISABLE.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring_util.h"

#define SLOT 64 /* bytes per buffer */

struct side {
	enum vq_layout layout;
	struct vq_config cfg;
	struct vq_areas a;
	void *ring;
	unsigned char *bufs; /* size * SLOT bytes, one buffer per descriptor */
	struct arena arena;
	struct vq *vq;
	struct vq_dev *dev;
	struct vq_chain ch;
	unsigned next_slot; /* buffers are handed out round robin */
	uint64_t kicks, publishes, calls, dev_publishes, reaped;
};

static uint16_t rd16(const struct side *s, size_t off)
{
	const unsigned char *p = (const unsigned char *)s->ring + off;
	return (uint16_t)(p[0] | p[1] << 8);
}

static void side_init(struct side *s, enum vq_layout l, uint32_t size, bool ev)
{
	memset(s, 0, sizeof(*s));
	s->layout = l;
	s->cfg = (struct vq_config){ l, size,
				     VQ_FEATURE(VQ_F_VERSION_1) | (ev ? VQ_FEATURE(VQ_F_EVENT_IDX) : 0) |
					     (l == VQ_LAYOUT_PACKED ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) };
	s->ring = ring_alloc(&s->cfg, &s->a);
	REQ1(s->ring, "%s: layout refused", layout_name(l));
	s->bufs = calloc(size, SLOT);
	REQ1(s->bufs, "out of memory");
	s->arena.base = s->bufs;
	s->arena.len = (size_t)size * SLOT;
	REQ1(vq_create(&s->cfg, s->ring, &s->vq) == 0, "%s: vq_create", layout_name(l));
	REQ1(vq_dev_create(&s->cfg, s->ring, arena_translate, &s->arena, &s->dev) == 0,
	     "%s: vq_dev_create", layout_name(l));
}

static void side_fini(struct side *s)
{
	vq_dev_destroy(s->dev);
	vq_destroy(s->vq);
	free(s->ring);
	free(s->bufs);
}

/* Add up to `want` chains of `n` device-readable buffers each, then
 * publish. Nothing reads the bytes: only the chain counts matter here. */
static void drv_add(struct side *s, unsigned want, unsigned n)
{
	unsigned added = 0;
	while (added < want && vq_num_free(s->vq) >= n) {
		struct vq_sg sg[4];
		for (unsigned j = 0; j < n; j++) {
			unsigned slot = s->next_slot++ % s->cfg.size;
			sg[j] = (struct vq_sg){ iova_of(s->bufs + (size_t)slot * SLOT), SLOT, 0 };
		}
		REQ1(vq_add(s->vq, sg, n, s, NULL, NULL) >= 0, "%s: add", layout_name(s->layout));
		added++;
	}
	int k = vq_kick_prepare(s->vq);
	REQ1(k >= 0, "%s: kick_prepare %d", layout_name(s->layout), k);
	s->publishes += added != 0;
	s->kicks += k == 1;
}

/* Pop, push (len 0: device-readable chains) and publish up to `want`. */
static void dev_serve(struct side *s, unsigned want)
{
	unsigned done = 0;
	while (done < want) {
		int rc = vq_dev_pop(s->dev, &s->ch);
		REQ1(rc >= 0, "%s: pop %d (%s)", layout_name(s->layout), rc,
		     vq_dev_broken_reason(s->dev));
		if (!rc)
			break;
		REQ1(vq_dev_push(s->dev, &s->ch, 0) == 0, "%s: push", layout_name(s->layout));
		done++;
	}
	int c = vq_dev_publish(s->dev);
	s->dev_publishes += done != 0;
	s->calls += c == 1;
}

/* Reap up to `want` chains. */
static void drv_reap(struct side *s, unsigned want)
{
	struct vq_used u;
	for (unsigned i = 0; i < want; i++) {
		int rc = vq_get_used(s->vq, &u);
		REQ1(rc >= 0, "%s: get_used %d (%s)", layout_name(s->layout), rc,
		     vq_broken_reason(s->vq));
		if (!rc)
			break;
		REQ1(u.token == s, "%s: foreign token", layout_name(s->layout));
		s->reaped++;
	}
}

/* One configuration: the same schedule on both layouts, step by step. */
static void compare(uint32_t size, bool ev, unsigned max_n, bool toggles, uint64_t seed,
		    unsigned steps)
{
	struct side sd[2];
	side_init(&sd[0], VQ_LAYOUT_SPLIT, size, ev);
	side_init(&sd[1], VQ_LAYOUT_PACKED, size, ev);
	const size_t drv_ev = sd[1].a.driver_off, dev_ev = sd[1].a.device_off;
	uint64_t rng = seed;
	bool cb_off = false, kick_off = false, hint_moved_off = false;
	unsigned mismatch = 0;

	for (unsigned step = 0; step < steps; step++) {
		uint32_t r = rng_next(&rng), what = r % 8, cnt = 1 + (r >> 8) % 12;
		if (what == 7 && !toggles)
			what = 0; /* as the benchmark's driver and device: never toggled */
		unsigned n = 1 + (r >> 16) % max_n;
		uint16_t drv_before = rd16(&sd[1], drv_ev), dev_before = rd16(&sd[1], dev_ev);
		uint64_t k0[2], c0[2];
		for (int i = 0; i < 2; i++) {
			struct side *s = &sd[i];
			k0[i] = s->kicks;
			c0[i] = s->calls;
			switch (what) {
			case 0: case 1: case 2:
				drv_add(s, cnt, n);
				break;
			case 3: case 4:
				dev_serve(s, cnt);
				break;
			case 5: case 6:
				drv_reap(s, cnt);
				break;
			default: /* toggle one side's notifications */
				if (r & (1u << 30)) {
					if (cb_off)
						vq_enable_cb(s->vq);
					else
						vq_disable_cb(s->vq);
				} else {
					if (kick_off)
						vq_dev_enable_kick(s->dev);
					else
						vq_dev_disable_kick(s->dev);
				}
				break;
			}
		}
		if (what == 7) {
			if (r & (1u << 30))
				cb_off = !cb_off;
			else
				kick_off = !kick_off;
		}
		if (sd[0].kicks - k0[0] != sd[1].kicks - k0[1] || sd[0].calls - c0[0] != sd[1].calls - c0[1])
			mismatch++;
		/* packed: a hint moves only while the reader's flags are DESC */
		if (what != 7 && ((cb_off && rd16(&sd[1], drv_ev) != drv_before) ||
				  (kick_off && rd16(&sd[1], dev_ev) != dev_before)))
			hint_moved_off = true;
		if (!ev && (rd16(&sd[1], drv_ev) || rd16(&sd[1], dev_ev)))
			hint_moved_off = true;
	}
	const char *cfg = ev ? (toggles ? "event_idx=1 toggled" : "event_idx=1 always on")
			     : (toggles ? "event_idx=0 toggled" : "event_idx=0 always on");
	CHECK(mismatch == 0, "size=%u %s chains<=%u: %u steps decided differently", size, cfg, max_n,
	      mismatch);
	CHECK(sd[0].kicks == sd[1].kicks && sd[0].calls == sd[1].calls,
	      "size=%u %s: kicks split %llu packed %llu, calls split %llu packed %llu", size, cfg,
	      (unsigned long long)sd[0].kicks, (unsigned long long)sd[1].kicks,
	      (unsigned long long)sd[0].calls, (unsigned long long)sd[1].calls);
	CHECK(sd[0].reaped == sd[1].reaped && sd[1].reaped > steps / 8,
	      "size=%u %s: reaped split %llu packed %llu", size, cfg, (unsigned long long)sd[0].reaped,
	      (unsigned long long)sd[1].reaped);
	CHECK(!hint_moved_off, "size=%u %s: packed off_wrap written while its reader's flags were not DESC",
	      size, cfg);
	for (int i = 0; i < 2; i++) {
		struct side *s = &sd[i];
		if (ev)
			CHECK(s->kicks < s->publishes && s->calls < s->dev_publishes,
			      "%s size=%u %s: suppression never happened: %llu kicks / %llu publishes, %llu calls / %llu",
			      layout_name(s->layout), size, cfg, (unsigned long long)s->kicks,
			      (unsigned long long)s->publishes, (unsigned long long)s->calls,
			      (unsigned long long)s->dev_publishes);
	}
	printf("  size=%-4u %-20s chains of 1..%u: %llu publishes, kicks split %llu, packed %llu; "
	       "%llu device publishes, calls split %llu, packed %llu\n",
	       size, cfg, max_n, (unsigned long long)sd[1].publishes, (unsigned long long)sd[0].kicks,
	       (unsigned long long)sd[1].kicks, (unsigned long long)sd[1].dev_publishes,
	       (unsigned long long)sd[0].calls, (unsigned long long)sd[1].calls);
	side_fini(&sd[0]);
	side_fini(&sd[1]);
}

int main(void)
{
	static const uint32_t sizes[] = { 8, 64, 256 };
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (int ev = 1; ev >= 0; ev--)
			for (unsigned max_n = 1; max_n <= 4; max_n += 3)
				for (int tg = 0; tg < 2; tg++)
					compare(sizes[i], ev, max_n, tg, 0x2545f4914f6cdd1dull ^ (sizes[i] * 77u + max_n),
						20000);
	return t_done("test_ring_events");
}
