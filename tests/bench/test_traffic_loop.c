/* SPDX-License-Identifier: MIT */
/*
 * test_traffic_loop - the traffic engine's packet loop (bench/
 * vqb_traffic_loop.c) through the inline software device: exact packet
 * counts when neither the batch nor the packet count is a multiple of the
 * loop's bursts (a post burst is 64 chains, a reap burst 64), for fixed
 * and drawn descriptor counts (a context's chain lengths are rewritten
 * only when its count changes), indirect chains, the LIFO and the FIFO
 * (DMA mask) context order, TX and RX, split and packed; a second run on
 * the same engine (contexts reposted with their lengths kept) exact and
 * clean too; and an RX run that loses its data (skip on a bouncing
 * backend, --unsafe-skip) counted as errors packet by packet.
 */
#include <stdio.h>
#include <string.h>

#include "vqb_test.h"
#include "vqb_traffic.h"

#define PKT_BYTES 100u
#define STREAM (12u + PKT_BYTES)

struct loop_case {
	const char *name;
	enum vqb_descs_kind kind;
	uint32_t lo, hi;
	bool indirect;
	unsigned mask_bits; /* 0: LIFO contexts; 30 on identity: FIFO (the arena
			     * straddles 1 GiB: application memory under ASan and
			     * TSan too, whose shadow covers 1 TiB) */
	uint32_t batch;
};

static const struct loop_case cases[] = {
	{"descs=1 batch=7", VQB_DESCS_FIXED, 1, 1, false, 0, 7},
	{"descs=1 batch=100", VQB_DESCS_FIXED, 1, 1, false, 0, 100},
	{"descs=3 batch=33", VQB_DESCS_FIXED, 3, 3, false, 0, 33},
	{"descs=1-5 batch=100", VQB_DESCS_RANGE, 1, 5, false, 0, 100},
	{"descs=1-5 batch=9", VQB_DESCS_RANGE, 1, 5, false, 0, 9},
	{"descs=3 indirect batch=70", VQB_DESCS_FIXED, 3, 3, true, 0, 70},
	{"descs=1 fifo batch=100", VQB_DESCS_FIXED, 1, 1, false, 30, 100},
	{"descs=1-4 fifo batch=13", VQB_DESCS_RANGE, 1, 4, false, 30, 13},
};

static struct vqb_traffic_params params(const struct loop_case *c, int layout, int rx)
{
	return (struct vqb_traffic_params){
		.cfg = {.layout = layout ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT, .size = 128,
			.features = VQ_FEATURE(VQ_F_VERSION_1) | VQ_FEATURE(VQ_F_EVENT_IDX) |
				    (layout ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) |
				    (c->indirect ? VQ_FEATURE(VQ_F_INDIRECT_DESC) : 0)},
		.policy = VQ_POLICY_FULL,
		.dma = "identity",
		.dma_params = {.mask_bits = c->mask_bits, .bounce_pool_bytes = 8u << 20, .vfio_container_fd = -1},
		.device = "inline",
		.dev_cpu = -1,
		.dir = rx ? VQB_DIR_RX : VQB_DIR_TX,
		.descs_kind = c->kind,
		.descs_lo = c->lo,
		.descs_hi = c->hi,
		.pkt_bytes = PKT_BYTES,
		.indirect = c->indirect,
		.batch = c->batch,
		.mem_node = -1,
		.seed = 7,
	};
}

/* One run of `packets` on t: complete, exact, every payload intact. */
static void check_run(struct vqb_traffic *t, const char *name, uint64_t packets, int rx)
{
	struct vqb_traffic_result r;
	char err[256] = "";
	int rc = vqb_traffic_run(t, packets, 0, &r, err, sizeof(err));
	CHECK(rc == 0, "%s: run of %llu failed: %s", name, (unsigned long long)packets, err);
	CHECK(r.packets == packets, "%s: %llu packets completed, want %llu", name, (unsigned long long)r.packets,
	      (unsigned long long)packets);
	uint64_t mine = rx ? r.rx_packets : r.tx_packets, other = rx ? r.tx_packets : r.rx_packets;
	CHECK(mine == packets && other == 0, "%s: tx %llu rx %llu, want %llu on %s only", name,
	      (unsigned long long)r.tx_packets, (unsigned long long)r.rx_packets, (unsigned long long)packets,
	      rx ? "rx" : "tx");
	CHECK(r.errors == 0 && r.lost_bytes == 0, "%s: %llu errors, %llu bytes lost", name,
	      (unsigned long long)r.errors, (unsigned long long)r.lost_bytes);
	CHECK(r.payload_bytes == packets * STREAM, "%s: %llu payload bytes, want %llu", name,
	      (unsigned long long)r.payload_bytes, (unsigned long long)(packets * STREAM));
}

static void check_case(const struct loop_case *c, int layout, int rx)
{
	char name[160];
	snprintf(name, sizeof(name), "%s/%s/%s", layout ? "packed" : "split", rx ? "rx" : "tx", c->name);
	struct vqb_traffic_params p = params(c, layout, rx);
	struct vqb_traffic *t;
	char err[256] = "";
	int rc = vqb_traffic_setup(&p, &t, err, sizeof(err));
	CHECK(rc == 0, "%s: setup failed: %s", name, err);
	if (rc)
		return;
	check_run(t, name, 1001, rx);
	check_run(t, name, 777, rx); /* the same contexts again: lengths kept or rewritten */
	check_run(t, name, 1, rx);
	struct vqb_traffic_final f;
	vqb_traffic_teardown(t, &f);
	CHECK(f.dma.live == 0, "%s: %llu live mappings at teardown", name, (unsigned long long)f.dma.live);
}

/* RX on a bouncing backend with unmap skipped: the data never reaches the
 * driver's buffers, and the loop says so for every packet. */
static void check_loss(int layout)
{
	const char *name = layout ? "packed/rx/unsafe skip on bounce" : "split/rx/unsafe skip on bounce";
	struct loop_case c = {"loss", VQB_DESCS_FIXED, 1, 1, false, 0, 16};
	struct vqb_traffic_params p = params(&c, layout, 1);
	p.policy = VQ_POLICY_SKIP;
	p.unsafe_skip = true;
	p.dma = "bounce";
	struct vqb_traffic *t;
	char err[256] = "";
	int rc = vqb_traffic_setup(&p, &t, err, sizeof(err));
	CHECK(rc == 0, "%s: setup failed: %s", name, err);
	if (rc)
		return;
	struct vqb_traffic_result r;
	vqb_traffic_run(t, 100, 0, &r, err, sizeof(err));
	CHECK(r.packets > 0, "%s: nothing completed (%s)", name, err);
	CHECK(r.errors == r.packets, "%s: %llu errors in %llu packets, want one each", name,
	      (unsigned long long)r.errors, (unsigned long long)r.packets);
	CHECK(r.lost_bytes > 0, "%s: no bytes counted lost", name);
	struct vqb_traffic_final f;
	vqb_traffic_teardown(t, &f);
}

int main(void)
{
	for (int layout = 0; layout < 2; layout++) {
		for (int rx = 0; rx < 2; rx++)
			for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
				check_case(&cases[i], layout, rx);
		check_loss(layout);
	}
	return t_done("test_traffic_loop");
}
