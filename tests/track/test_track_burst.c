/* SPDX-License-Identifier: MIT */
/*
 * test_track_burst - vq_track_add_burst and vq_track_get_used_burst against
 * the one-chain calls, through a device written here over vq_dev_*:
 *   - the same chains added one by one and in one burst, then completed
 *     and reaped one by one and in bursts, leave byte-identical ring
 *     memory and indirect tables, identical tokens, lengths and counters
 *     (ring, tracking, dma), and every payload byte is checked (TX at the
 *     device, RX at the driver): split and packed, direct and indirect,
 *     1, 4 and 19 buffers, policies full, skip and premapped, TX and RX;
 *   - a burst larger than the free descriptors adds what fits and says
 *     -ENOSPC with the count;
 *   - a dma_map failure in the middle of a burst (debug's fail_map_at):
 *     the chains before it stay added and mapped, the failing one leaves
 *     nothing mapped, -ENOMEM with the count; they complete and the rest
 *     goes in afterwards;
 *   - an invalid chain in the middle (zero buffers, no token): the ones
 *     before it stay, -EINVAL;
 *   - a used entry the device corrupts in the middle of a reap burst: the
 *     chains before it come back, the next reap and add say -EIO, the rest
 *     is detached and nothing stays mapped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dma.h"
#include "vq_track.h"
#include "vqb_test.h"

#define QSZ 64
#define BUF 256
#define NBUFS 512
#define NCH 12 /* chains per equivalence run */
#define TABLE_BYTES (QSZ * 512)

/* One queue: ring, arena and indirect tables at fixed addresses, so two
 * runs (one by one, burst) can be compared byte for byte. */
static _Alignas(4096) unsigned char ring_mem[65536];
static _Alignas(4096) unsigned char arena[NBUFS * BUF];
static _Alignas(4096) unsigned char tables[TABLE_BYTES];

static void *table_alloc(size_t len, void *ctx)
{
	(void)ctx;
	if (len > sizeof(tables))
		return NULL;
	memset(tables, 0, sizeof(tables));
	return tables;
}

static void table_free(void *p, void *ctx)
{
	(void)p;
	(void)ctx;
}

static void *dev_translate(void *ctx, uint64_t iova, uint32_t len, int write)
{
	return dma_translate(ctx, iova, len, write ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
}

struct rig {
	struct vq_config cfg;
	struct vq_areas a;
	struct dma *d;
	struct vq *vq;
	struct vq_dev *dev;
	struct vq_track *t;
	int create_rc;
};

static void rig_open(struct rig *r, enum vq_layout layout, enum vq_policy pol, const char *be,
		     const struct dma_params *dpp)
{
	memset(r, 0, sizeof(*r));
	r->cfg = (struct vq_config){
		.layout = layout, .size = QSZ,
		.features = VQ_FEATURE(VQ_F_VERSION_1) | VQ_FEATURE(VQ_F_INDIRECT_DESC) |
			    (layout == VQ_LAYOUT_PACKED ? VQ_FEATURE(VQ_F_RING_PACKED) : 0),
	};
	REQUIRE(vq_ring_layout(&r->cfg, &r->a) == 0 && r->a.total <= sizeof(ring_mem), "layout");
	memset(ring_mem, 0, sizeof(ring_mem));
	memset(arena, 0, sizeof(arena));
	struct dma_params dp = dpp ? *dpp : (struct dma_params){0};
	dp.vfio_container_fd = -1;
	REQUIRE(dma_open(be, &dp, &r->d) == 0, "dma_open %s: %s", be, dma_last_error());
	REQUIRE(vq_create(&r->cfg, ring_mem, &r->vq) == 0 &&
		vq_dev_create(&r->cfg, ring_mem, dev_translate, r->d, &r->dev) == 0, "vq create");
	struct vq_track_params tp = {.policy = pol, .arena = arena, .arena_len = sizeof(arena), .buf_size = BUF,
				     .table_alloc = table_alloc, .table_free = table_free};
	r->create_rc = vq_track_create(r->vq, r->d, &tp, &r->t);
	REQUIRE(r->create_rc == 0, "vq_track_create %s: %s", vq_policy_name(pol), vq_track_last_error());
}

static void rig_close(struct rig *r)
{
	void *tok;
	while (vq_track_detach(r->t, &tok) == 1)
		;
	vq_track_destroy(r->t);
	vq_dev_destroy(r->dev);
	vq_destroy(r->vq);
	dma_close(r->d);
}

/* Byte k of buffer b of chain c: what the driver (TX) or device (RX) writes. */
static unsigned char pat(unsigned c, unsigned b, unsigned k, bool rx)
{
	return (unsigned char)(c * 131u + b * 17u + k * 7u + (rx ? 0x5au : 0x11u));
}

/* Chain c: n buffers, all device-readable (TX) or all device-writable (RX,
 * after a readable 12-byte header), each in its own arena buffer. */
static void make_chain(unsigned c, unsigned n, bool rx, struct vq_buf *b)
{
	for (unsigned k = 0; k < n; k++) {
		b[k].cpu = arena + (size_t)((c * VQ_MAX_CHAIN + k) % NBUFS) * BUF;
		b[k].len = k == 0 ? 12 : 40 + k;
		b[k].write = rx && (k > 0 || n == 1);
		for (unsigned i = 0; i < b[k].len; i++)
			((unsigned char *)b[k].cpu)[i] = b[k].write ? 0 : pat(c, k, i, false);
	}
}

/* The device: pop every available chain, check every readable byte, fill
 * every writable one, push it with the bytes written. @return chains. */
static unsigned dev_run(struct rig *r, unsigned max)
{
	struct vq_chain ch;
	unsigned done = 0;
	while (done < max && vq_dev_pop(r->dev, &ch) == 1) {
		/* the chain number: from the first buffer's place in the arena */
		unsigned c = (unsigned)(((unsigned char *)ch.buf[0].ptr - arena) / BUF) / VQ_MAX_CHAIN;
		for (unsigned k = 0; k < ch.nbufs; k++) {
			unsigned char *p = ch.buf[k].ptr;
			for (unsigned i = 0; i < ch.buf[k].len; i++) {
				if (ch.buf[k].write)
					p[i] = pat(c, k, i, true);
				else
					CHECK(p[i] == pat(c, k, i, false), "chain %u buffer %u byte %u: device read 0x%02x",
					      c, k, i, p[i]);
			}
		}
		REQUIRE(vq_dev_push(r->dev, &ch, ch.in_bytes) == 0, "push");
		done++;
	}
	vq_dev_publish(r->dev);
	return done;
}

struct snap {
	unsigned char ring[4096];
	unsigned char tables[TABLE_BYTES];
	struct vq_stats vs;
	struct vq_track_stats ts;
	struct dma_counters dc;
	void *tok[NCH];
	uint32_t len[NCH];
	unsigned reaped;
};

static void take(struct rig *r, struct snap *s)
{
	REQUIRE(r->a.total <= sizeof(s->ring), "ring fits the snapshot");
	memcpy(s->ring, ring_mem, r->a.total);
	memcpy(s->tables, tables, sizeof(tables));
	vq_get_stats(r->vq, &s->vs);
	vq_track_get_stats(r->t, &s->ts);
	dma_get_counters(r->d, &s->dc);
}

/* Add NCH chains of n buffers (one by one or in bursts of 5), let the
 * device complete them, reap (one by one or in bursts of 5), check RX
 * payloads; snapshot after adding (a) and after reaping (b). */
static void run_equiv(struct rig *r, unsigned n, bool ind, bool rx, bool burst, struct snap *a, struct snap *b,
		      const char *name)
{
	static struct vq_buf bufs[NCH][VQ_MAX_CHAIN];
	static unsigned tokens[NCH];
	struct vq_track_chain ch[NCH];
	for (unsigned c = 0; c < NCH; c++) {
		make_chain(c, n, rx, bufs[c]);
		ch[c] = (struct vq_track_chain){bufs[c], n, &tokens[c], ind};
	}
	if (burst) {
		for (unsigned c = 0; c < NCH; c += 5) {
			unsigned cnt = NCH - c < 5 ? NCH - c : 5;
			int err = 1;
			int got = vq_track_add_burst(r->t, &ch[c], cnt, &err);
			REQUIRE(got == (int)cnt && err == 0, "%s: burst at %u: %d added, err %d: %s", name, c, got,
				err, vq_track_last_error());
		}
	} else {
		for (unsigned c = 0; c < NCH; c++)
			REQUIRE(vq_track_add(r->t, bufs[c], n, &tokens[c], ind) >= 0, "%s: add %u: %s", name, c,
				vq_track_last_error());
	}
	REQUIRE(vq_track_kick_prepare(r->t) >= 0, "%s: kick", name);
	take(r, a);
	CHECK(dev_run(r, NCH) == NCH, "%s: device completed fewer than %u chains", name, NCH);
	b->reaped = 0;
	while (b->reaped < NCH) {
		int got;
		if (burst) {
			got = vq_track_get_used_burst(r->t, &b->tok[b->reaped], &b->len[b->reaped],
						      NCH - b->reaped < 5 ? NCH - b->reaped : 5);
		} else {
			got = vq_track_get_used(r->t, &b->tok[b->reaped], &b->len[b->reaped]);
		}
		if (got <= 0)
			break;
		b->reaped += (unsigned)got;
	}
	CHECK(b->reaped == NCH, "%s: reaped %u of %u", name, b->reaped, NCH);
	CHECK(vq_track_get_used_burst(r->t, b->tok, b->len, 5) == 0, "%s: an empty queue reaps 0", name);
	for (unsigned i = 0; i < b->reaped; i++) {
		unsigned c = (unsigned)((unsigned *)b->tok[i] - tokens);
		CHECK(c == i, "%s: reap %u returned chain %u", name, i, c);
		uint32_t want = 0;
		for (unsigned k = 0; k < n; k++)
			want += bufs[c][k].write ? bufs[c][k].len : 0;
		CHECK(b->len[i] == want, "%s: chain %u len %u, want %u", name, c, b->len[i], want);
		for (unsigned k = 0; rx && k < n; k++)
			for (unsigned j = 0; bufs[c][k].write && j < bufs[c][k].len; j++)
				CHECK(((unsigned char *)bufs[c][k].cpu)[j] == pat(c, k, j, true),
				      "%s: chain %u buffer %u byte %u: driver read 0x%02x", name, c, k, j,
				      ((unsigned char *)bufs[c][k].cpu)[j]);
	}
	take(r, b);
}

static void check_equiv(void)
{
	static const unsigned ns[] = {1, 4, 19};
	static const enum vq_policy pols[] = {VQ_POLICY_FULL, VQ_POLICY_SKIP, VQ_POLICY_PREMAPPED};
	static struct snap a1, b1, a2, b2;
	unsigned cases = 0;
	for (int lay = 0; lay < 2; lay++)
	for (unsigned pi = 0; pi < 3; pi++)
	for (unsigned ni = 0; ni < 3; ni++)
	for (int ind = 0; ind < 2; ind++)
	for (int rx = 0; rx < 2; rx++) {
		unsigned n = ns[ni];
		if (!ind && n * NCH > QSZ)
			continue; /* direct 19-buffer chains: fewer fit, covered by check_partial */
		char name[128];
		snprintf(name, sizeof(name), "%s/%s/n=%u/%s/%s", lay ? "packed" : "split", vq_policy_name(pols[pi]), n,
			 ind ? "indirect" : "direct", rx ? "rx" : "tx");
		struct rig r;
		enum vq_layout layout = lay ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT;
		rig_open(&r, layout, pols[pi], "identity", NULL);
		run_equiv(&r, n, ind, rx, false, &a1, &b1, name);
		rig_close(&r);
		rig_open(&r, layout, pols[pi], "identity", NULL);
		run_equiv(&r, n, ind, rx, true, &a2, &b2, name);
		rig_close(&r);
		CHECK(!memcmp(a1.ring, a2.ring, r.a.total) && !memcmp(b1.ring, b2.ring, r.a.total),
		      "%s: ring memory differs between one-by-one and burst", name);
		CHECK(!memcmp(a1.tables, a2.tables, TABLE_BYTES) && !memcmp(b1.tables, b2.tables, TABLE_BYTES),
		      "%s: indirect tables differ", name);
		CHECK(!memcmp(&b1.vs, &b2.vs, sizeof(b1.vs)) && !memcmp(&a1.vs, &a2.vs, sizeof(a1.vs)),
		      "%s: ring counters differ (added %llu/%llu completed %llu/%llu publishes %llu/%llu)", name,
		      (unsigned long long)b1.vs.added, (unsigned long long)b2.vs.added,
		      (unsigned long long)b1.vs.completed, (unsigned long long)b2.vs.completed,
		      (unsigned long long)b1.vs.publishes, (unsigned long long)b2.vs.publishes);
		CHECK(!memcmp(&b1.ts, &b2.ts, sizeof(b1.ts)) && !memcmp(&a1.ts, &a2.ts, sizeof(a1.ts)),
		      "%s: tracking counters differ (maps %llu/%llu unmaps %llu/%llu skipped %llu/%llu)", name,
		      (unsigned long long)b1.ts.maps, (unsigned long long)b2.ts.maps,
		      (unsigned long long)b1.ts.unmaps, (unsigned long long)b2.ts.unmaps,
		      (unsigned long long)b1.ts.skipped_unmaps, (unsigned long long)b2.ts.skipped_unmaps);
		CHECK(b1.dc.maps == b2.dc.maps && b1.dc.unmaps == b2.dc.unmaps && b1.dc.live == b2.dc.live &&
		      a1.dc.live == a2.dc.live, "%s: dma counters differ (maps %llu/%llu live %llu/%llu)", name,
		      (unsigned long long)b1.dc.maps, (unsigned long long)b2.dc.maps,
		      (unsigned long long)b1.dc.live, (unsigned long long)b2.dc.live);
		uint64_t per = (uint64_t)NCH * (n + (ind ? 1u : 0u));
		if (pols[pi] == VQ_POLICY_FULL)
			CHECK(a2.dc.maps == per && b2.ts.maps == per && b2.ts.unmaps == per && b2.dc.live == 0,
			      "%s: full made %llu maps %llu unmaps, want %llu each", name,
			      (unsigned long long)b2.ts.maps, (unsigned long long)b2.ts.unmaps, (unsigned long long)per);
		if (pols[pi] == VQ_POLICY_SKIP)
			CHECK(b2.ts.maps == per && b2.ts.unmaps == 0 && b2.ts.skipped_unmaps == per,
			      "%s: skip made %llu maps, %llu unmaps, %llu skipped; want %llu, 0, %llu", name,
			      (unsigned long long)b2.ts.maps, (unsigned long long)b2.ts.unmaps,
			      (unsigned long long)b2.ts.skipped_unmaps, (unsigned long long)per, (unsigned long long)per);
		CHECK(b2.vs.added == NCH && b2.vs.completed == NCH, "%s: %llu added %llu completed", name,
		      (unsigned long long)b2.vs.added, (unsigned long long)b2.vs.completed);
		cases++;
	}
	printf("burst == one by one: %u cases (split/packed, full/skip/premapped, 1/4/19 buffers, direct/indirect, "
	       "tx/rx): ring bytes, tables, tokens, lengths, counters and payloads identical\n", cases);
}

/* More chains than free descriptors: what fits goes in, -ENOSPC says the rest did not. */
static void check_partial(void)
{
	for (int lay = 0; lay < 2; lay++) {
		const char *ln = lay ? "packed" : "split";
		struct rig r;
		rig_open(&r, lay ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT, VQ_POLICY_FULL, "identity", NULL);
		static struct vq_buf bufs[8][VQ_MAX_CHAIN];
		static unsigned tokens[8];
		struct vq_track_chain ch[8];
		for (unsigned c = 0; c < 8; c++) {
			make_chain(c, 19, false, bufs[c]);
			ch[c] = (struct vq_track_chain){bufs[c], 19, &tokens[c], false};
		}
		int err = 0;
		int got = vq_track_add_burst(r.t, ch, 8, &err); /* 64 slots: 3 chains of 19 */
		struct dma_counters dc;
		dma_get_counters(r.d, &dc);
		CHECK(got == 3 && err == -ENOSPC, "%s: 8 chains of 19 in 64 slots: %d added, err %d", ln, got, err);
		CHECK(vq_num_free(r.vq) == QSZ - 57 && dc.live == 57, "%s: %u free, %llu live after a partial burst",
		      ln, vq_num_free(r.vq), (unsigned long long)dc.live);
		CHECK(strstr(vq_track_last_error(), "ring full") != NULL, "%s: error text '%s'", ln,
		      vq_track_last_error());
		vq_track_kick_prepare(r.t);
		CHECK(dev_run(&r, 8) == 3, "%s: device saw other than 3 chains", ln);
		void *tok[8];
		uint32_t len[8];
		got = vq_track_get_used_burst(r.t, tok, len, 8);
		CHECK(got == 3 && tok[0] == &tokens[0] && tok[2] == &tokens[2], "%s: reaped %d", ln, got);
		got = vq_track_add_burst(r.t, &ch[3], 5, &err);
		CHECK(got == 3 && err == -ENOSPC, "%s: the rest: %d added, err %d", ln, got, err);
		vq_track_kick_prepare(r.t);
		dev_run(&r, 8);
		got = vq_track_get_used_burst(r.t, tok, len, 8);
		dma_get_counters(r.d, &dc);
		CHECK(got == 3 && tok[0] == &tokens[3] && dc.live == 0 && vq_num_free(r.vq) == QSZ,
		      "%s: second round reaped %d, %llu live, %u free", ln, got, (unsigned long long)dc.live,
		      vq_num_free(r.vq));
		rig_close(&r);
	}
	printf("partial bursts: a full ring takes 3 of 8 19-buffer chains, -ENOSPC, counts exact (split, packed)\n");
}

/* The k-th dma_map of a burst fails: the chains before it stay, it leaves nothing. */
static void check_map_failure(void)
{
	static const unsigned ns[] = {1, 4, 19};
	unsigned cases = 0;
	for (int lay = 0; lay < 2; lay++)
	for (unsigned ni = 0; ni < 3; ni++)
	for (int ind = 0; ind < 2; ind++) {
		unsigned n = ns[ni], per = n + (ind ? 1u : 0u);
		char name[96];
		snprintf(name, sizeof(name), "%s/n=%u/%s", lay ? "packed" : "split", n, ind ? "indirect" : "direct");
		/* fail the third chain's second map (its table's when n == 1,
		 * indirect), or its only one */
		struct dma_params dp = {.inner = "identity", .fail_map_at = 2 * per + (per > 1 ? 2 : 1),
					.debug_entries = 256};
		struct rig r;
		rig_open(&r, lay ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT, VQ_POLICY_FULL, "debug", &dp);
		static struct vq_buf bufs[3][VQ_MAX_CHAIN];
		static unsigned tokens[3];
		struct vq_track_chain ch[3];
		for (unsigned c = 0; c < 3; c++) {
			make_chain(c, n, false, bufs[c]);
			ch[c] = (struct vq_track_chain){bufs[c], n, &tokens[c], ind};
		}
		int err = 0;
		int got = vq_track_add_burst(r.t, ch, 3, &err);
		struct dma_counters dc;
		dma_get_counters(r.d, &dc);
		struct vq_stats vs;
		vq_get_stats(r.vq, &vs);
		CHECK(got == 2 && err == -ENOMEM, "%s: %d added, err %d", name, got, err);
		CHECK(strstr(vq_track_last_error(), "injected") != NULL, "%s: error '%s'", name,
		      vq_track_last_error());
		CHECK(dc.live == 2u * per && vs.added == 2 && vq_num_free(r.vq) == QSZ - 2u * (ind ? 1u : n),
		      "%s: after the failure %llu live (want %u), %llu added, %u free", name,
		      (unsigned long long)dc.live, 2u * per, (unsigned long long)vs.added, vq_num_free(r.vq));
		vq_track_kick_prepare(r.t);
		CHECK(dev_run(&r, 3) == 2, "%s: the device saw other than the 2 chains added", name);
		void *tok[3];
		uint32_t len[3];
		got = vq_track_get_used_burst(r.t, tok, len, 3);
		CHECK(got == 2 && tok[0] == &tokens[0] && tok[1] == &tokens[1], "%s: reaped %d", name, got);
		got = vq_track_add_burst(r.t, &ch[2], 1, &err); /* the injection was one call: it goes in now */
		vq_track_kick_prepare(r.t);
		dev_run(&r, 3);
		CHECK(got == 1 && err == 0 && vq_track_get_used_burst(r.t, tok, len, 3) == 1 && tok[0] == &tokens[2],
		      "%s: the failed chain retried: %d added, err %d", name, got, err);
		dma_get_counters(r.d, &dc);
		CHECK(dc.live == 0 && dc.debug_reports == 0, "%s: %llu live, %llu debug reports at the end", name,
		      (unsigned long long)dc.live, (unsigned long long)dc.debug_reports);
		rig_close(&r);
		cases++;
	}
	printf("map failure mid-burst: %u cases, 2 of 3 chains added and mapped, the third left nothing, -ENOMEM\n",
	       cases);
}

/* A chain the ring refuses in the middle of a burst. */
static void check_invalid(void)
{
	struct rig r;
	rig_open(&r, VQ_LAYOUT_SPLIT, VQ_POLICY_FULL, "identity", NULL);
	static struct vq_buf bufs[4][VQ_MAX_CHAIN];
	static unsigned tokens[4];
	struct vq_track_chain ch[4];
	for (unsigned c = 0; c < 4; c++) {
		make_chain(c, 2, false, bufs[c]);
		ch[c] = (struct vq_track_chain){bufs[c], 2, &tokens[c], false};
	}
	ch[2].n = 0;
	int err = 0;
	int got = vq_track_add_burst(r.t, ch, 4, &err);
	CHECK(got == 2 && err == -EINVAL && strstr(vq_track_last_error(), "0 buffers"),
	      "zero-buffer chain third: %d added, err %d, '%s'", got, err, vq_track_last_error());
	ch[2].n = 2;
	ch[2].token = NULL;
	got = vq_track_add_burst(r.t, &ch[2], 2, &err);
	CHECK(got == 0 && err == -EINVAL && strstr(vq_track_last_error(), "token"), "NULL token: %d added, err %d",
	      got, err);
	got = vq_track_add_burst(r.t, NULL, 2, &err);
	CHECK(got == 0 && err == -EINVAL, "NULL chain array: %d added, err %d", got, err);
	got = vq_track_add_burst(r.t, ch, 0, &err);
	CHECK(got == 0 && err == 0, "empty burst: %d added, err %d", got, err);
	struct dma_counters dc;
	dma_get_counters(r.d, &dc);
	CHECK(dc.live == 4, "invalid chains left %llu live mappings, want the 2 chains' 4", (unsigned long long)dc.live);
	rig_close(&r);
	printf("invalid chains mid-burst: the ones before stay, -EINVAL names the rule\n");
}

/* Corrupt the id of the third used entry: split's used ring, packed's descriptor. */
static void corrupt_third_used(struct rig *r)
{
	size_t off = r->cfg.layout == VQ_LAYOUT_SPLIT ? r->a.device_off + 4 + 2 * 8 : r->a.desc_off + 2 * 16 + 12;
	uint16_t bad = 999;
	memcpy(ring_mem + off, &bad, sizeof(bad));
}

static void check_broken(void)
{
	for (int lay = 0; lay < 2; lay++)
	for (int ind = 0; ind < 2; ind++) {
		char name[64];
		snprintf(name, sizeof(name), "%s/%s", lay ? "packed" : "split", ind ? "indirect" : "direct");
		struct rig r;
		rig_open(&r, lay ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT, VQ_POLICY_FULL, "identity", NULL);
		static struct vq_buf bufs[5][VQ_MAX_CHAIN];
		static unsigned tokens[5];
		struct vq_track_chain ch[5];
		for (unsigned c = 0; c < 5; c++) {
			make_chain(c, 1, true, bufs[c]);
			ch[c] = (struct vq_track_chain){bufs[c], 1, &tokens[c], ind};
		}
		int err = 0;
		REQUIRE(vq_track_add_burst(r.t, ch, 5, &err) == 5, "%s: add", name);
		vq_track_kick_prepare(r.t);
		CHECK(dev_run(&r, 5) == 5, "%s: device", name);
		corrupt_third_used(&r);
		void *tok[5];
		uint32_t len[5];
		int got = vq_track_get_used_burst(r.t, tok, len, 5);
		CHECK(got == 2 && tok[0] == &tokens[0] && tok[1] == &tokens[1], "%s: reaped %d before the bad entry",
		      name, got);
		CHECK(vq_is_broken(r.vq) && strstr(vq_broken_reason(r.vq), "999"), "%s: broken: %s", name,
		      vq_broken_reason(r.vq) ? vq_broken_reason(r.vq) : "(not broken)");
		CHECK(vq_track_get_used_burst(r.t, tok, len, 5) == -EIO, "%s: the next reap is not -EIO", name);
		got = vq_track_add_burst(r.t, ch, 1, &err);
		CHECK(got == 0 && err == -EIO, "%s: add on a broken queue: %d added, err %d", name, got, err);
		unsigned detached = 0;
		while (vq_track_detach(r.t, tok) == 1)
			detached++;
		struct dma_counters dc;
		dma_get_counters(r.d, &dc);
		CHECK(detached == 3 && dc.live == 0, "%s: %u detached, %llu live", name, detached,
		      (unsigned long long)dc.live);
		rig_close(&r);
	}
	printf("broken mid-burst (split, packed, direct, indirect): 2 chains reaped, then -EIO, 3 detached, 0 live\n");
}

int main(void)
{
	check_equiv();
	check_partial();
	check_map_failure();
	check_invalid();
	check_broken();
	return t_done("test_track_burst");
}
