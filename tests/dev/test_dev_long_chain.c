/* SPDX-License-Identifier: MIT */
/*
 * test_dev_long_chain - the software device and a chain longer than it
 * serves. vq_dev_pop returns -E2BIG for a valid chain of more than
 * VQ_DEV_MAX_SEGS buffers, and vq.h says the chain is consumed and must still
 * be pushed. A driver (written by hand here: vq_add posts at most
 * VQ_MAX_CHAIN buffers) posts one chain of VQ_DEV_MAX_SEGS + 1 buffers, then
 * a normal one-buffer chain, on split and packed rings, direct and through
 * an indirect table, TX and RX. The inline device must keep serving: the
 * long chain used with length 0 and counted in too_long (TX: one payload
 * error), the next chain served with the next packet number (RX: its bytes
 * checked; TX: no further error), dev_error() NULL. A chain that breaks a
 * rule (writable before readable) still stops the device, with an error
 * naming the queue and the ring's reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev.h"
#include "dev_payload.h"
#include "vqb_test.h"

#define QSZ 128
#define LONG (VQ_DEV_MAX_SEGS + 1)
#define SEG 16
#define PAYLOAD 100
#define PKT (DEV_NET_HDR_BYTES + PAYLOAD)

static unsigned char g_bufs[LONG * SEG];
static unsigned char g_one[256];
static unsigned char g_table[LONG * 16];

static uint64_t iova(const void *p) { return (uint64_t)(uintptr_t)p; }

static void put16(void *m, size_t off, uint16_t v) { memcpy((char *)m + off, &v, 2); }
static void put32(void *m, size_t off, uint32_t v) { memcpy((char *)m + off, &v, 4); }
static void put64(void *m, size_t off, uint64_t v) { memcpy((char *)m + off, &v, 8); }
static uint16_t get16(const void *m, size_t off) { uint16_t v; memcpy(&v, (const char *)m + off, 2); return v; }
static uint32_t get32(const void *m, size_t off) { uint32_t v; memcpy(&v, (const char *)m + off, 4); return v; }

/* One 16-byte descriptor: split (addr, len, flags, next) or packed (addr,
 * len, id, flags); `tbl` entries have the same layout. */
static void desc(void *m, unsigned i, bool packed, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next_or_id)
{
	put64(m, 16 * i, addr);
	put32(m, 16 * i + 8, len);
	put16(m, 16 * i + (packed ? 14 : 12), flags);
	put16(m, 16 * i + (packed ? 12 : 14), next_or_id);
}

struct used { uint32_t id, len; };

/* Post the long chain (id 0) and a one-buffer chain (id 1); return the ring
 * position of the second chain's first descriptor. */
static unsigned post(void *m, const struct vq_areas *a, bool packed, bool ind, bool rx)
{
	const uint16_t N = VQ_DESC_F_NEXT, W = rx ? VQ_DESC_F_WRITE : 0, I = VQ_DESC_F_INDIRECT;
	const uint16_t AV = packed ? VQ_DESC_F_AVAIL : 0; /* available for wrap 1 */
	unsigned pos = 0;
	if (ind) {
		for (unsigned j = 0; j < LONG; j++) /* packed tables: only WRITE counts */
			desc(g_table, j, packed, iova(g_bufs + SEG * j), SEG,
			     (uint16_t)(W | (!packed && j + 1 < LONG ? N : 0)),
			     (uint16_t)(packed ? 0 : j + 1));
		desc(m, pos++, packed, iova(g_table), sizeof(g_table), (uint16_t)(I | AV), 0);
	} else {
		for (unsigned j = 0; j < LONG; j++, pos++)
			desc(m, pos, packed, iova(g_bufs + SEG * j), SEG,
			     (uint16_t)(W | AV | (j + 1 < LONG ? N : 0)), (uint16_t)(packed ? 0 : pos + 1));
	}
	unsigned second = pos;
	desc(m, pos, packed, iova(g_one), rx ? sizeof(g_one) : PKT, (uint16_t)(W | AV),
	     (uint16_t)(packed ? 1 : 0));
	if (!packed) {
		put16(m, a->driver_off + 4, 0);
		put16(m, a->driver_off + 6, (uint16_t)second);
		put16(m, a->driver_off + 2, 2); /* avail idx */
	}
	return second;
}

/* The used entries the device wrote: split from the used ring, packed from
 * the positions the chains started at. @return entries found. */
static unsigned used_entries(const void *m, const struct vq_areas *a, bool packed, unsigned second,
			     struct used u[2])
{
	if (!packed) {
		unsigned n = get16(m, a->device_off + 2);
		for (unsigned i = 0; i < n && i < 2; i++) {
			u[i].id = get32(m, a->device_off + 4 + 8 * i);
			u[i].len = get32(m, a->device_off + 8 + 8 * i);
		}
		return n;
	}
	const unsigned at[2] = { 0, second };
	unsigned n = 0;
	for (unsigned i = 0; i < 2; i++) {
		uint16_t f = get16(m, 16 * at[i] + 14);
		if (!(f & VQ_DESC_F_USED))
			break;
		u[i].id = get16(m, 16 * at[i] + 12);
		u[i].len = get32(m, 16 * at[i] + 8);
		n++;
	}
	return n;
}

static void *ring_for(const struct vq_config *cfg, struct vq_areas *a)
{
	REQUIRE(vq_ring_layout(cfg, a) == 0, "layout");
	size_t sz = (a->total + 63) & ~(size_t)63;
	void *m = aligned_alloc(64, sz);
	REQUIRE(m, "out of memory");
	memset(m, 0, sz);
	return m;
}

static void long_chain(struct dma *dma, bool packed, bool ind, bool rx)
{
	char name[64];
	snprintf(name, sizeof(name), "%s %s %s", packed ? "packed" : "split", ind ? "indirect" : "direct",
		 rx ? "rx" : "tx");
	struct vq_config cfg = { packed ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT, QSZ,
				 VQ_FEATURE(VQ_F_VERSION_1) | VQ_FEATURE(VQ_F_INDIRECT_DESC) |
					 (packed ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) };
	struct vq_areas a;
	void *m = ring_for(&cfg, &a);
	enum dev_queue qi = rx ? DEV_Q_RX : DEV_Q_TX;
	struct dev_params p = { .kind = "inline", .cfg = cfg, .dma = dma, .cpu = -1,
				.rx_payload_bytes = PAYLOAD };
	p.ring[qi] = m;
	memset(g_one, 0xa5, sizeof(g_one));
	if (!rx) /* packet number 1: number 0 went to the long chain */
		dev_stream_fill(g_one, PKT, 1, 0);
	unsigned second = post(m, &a, packed, ind, rx);

	struct dev *d;
	REQUIRE(dev_open(&p, &d) == 0, "%s: dev_open: %s", name, dev_last_error());
	REQUIRE(dev_start(d) == 0, "%s: dev_start", name);
	int rc = dev_poll(d);
	struct dev_counters c;
	dev_stop(d);
	dev_get_counters(d, &c);
	CHECK(rc == 2, "%s: dev_poll %d (%s), want 2 chains consumed", name, rc,
	      dev_error(d) ? dev_error(d) : "no error");
	CHECK(dev_error(d) == NULL, "%s: dev_error '%s'", name, dev_error(d));
	CHECK(c.too_long == 1 && c.invalid == 0 && c.pkts[qi] == 1,
	      "%s: too_long %llu invalid %llu pkts %llu, want 1 0 1", name, (unsigned long long)c.too_long,
	      (unsigned long long)c.invalid, (unsigned long long)c.pkts[qi]);
	CHECK(c.tx_errors == (rx ? 0u : 1u), "%s: tx_errors %llu, want %d", name,
	      (unsigned long long)c.tx_errors, rx ? 0 : 1);
	struct used u[2] = { { 99, 99 }, { 99, 99 } };
	unsigned n = used_entries(m, &a, packed, second, u);
	uint32_t id1 = packed ? 1 : second;
	CHECK(n == 2, "%s: %u used entries, want 2 (the long chain is still pushed)", name, n);
	CHECK(u[0].id == 0 && u[0].len == 0, "%s: used[0] id %u len %u, want the long chain, 0 bytes", name,
	      u[0].id, u[0].len);
	CHECK(u[1].id == id1 && u[1].len == (rx ? PKT : 0u), "%s: used[1] id %u len %u, want id %u, %u bytes",
	      name, u[1].id, u[1].len, id1, rx ? PKT : 0u);
	if (rx)
		CHECK(dev_stream_check(g_one, PKT, 1, 0) == 0, "%s: the next chain does not hold packet 1", name);
	printf("  %-22s long chain pushed with 0 bytes, too_long %llu, next chain served (pkts %llu)\n", name,
	       (unsigned long long)c.too_long, (unsigned long long)c.pkts[qi]);
	dev_close(d);
	free(m);
}

/* A rule broken: writable before readable. The device stops, naming it. */
static void broken_rule(struct dma *dma, bool packed)
{
	const char *name = packed ? "packed" : "split";
	struct vq_config cfg = { packed ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT, QSZ,
				 VQ_FEATURE(VQ_F_VERSION_1) | (packed ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) };
	struct vq_areas a;
	void *m = ring_for(&cfg, &a);
	const uint16_t AV = packed ? VQ_DESC_F_AVAIL : 0;
	desc(m, 0, packed, iova(g_one), 16, (uint16_t)(VQ_DESC_F_WRITE | VQ_DESC_F_NEXT | AV), 1);
	desc(m, 1, packed, iova(g_one + 16), 16, AV, 0);
	if (!packed)
		put16(m, a.driver_off + 2, 1);
	struct dev_params p = { .kind = "inline", .cfg = cfg, .dma = dma, .cpu = -1 };
	p.ring[DEV_Q_TX] = m;
	struct dev *d;
	REQUIRE(dev_open(&p, &d) == 0, "%s: dev_open: %s", name, dev_last_error());
	REQUIRE(dev_start(d) == 0, "%s: dev_start", name);
	int rc = dev_poll(d);
	struct dev_counters c;
	dev_stop(d);
	dev_get_counters(d, &c);
	const char *e = dev_error(d);
	CHECK(rc == -EIO && c.invalid == 1 && c.too_long == 0, "%s: dev_poll %d invalid %llu too_long %llu", name,
	      rc, (unsigned long long)c.invalid, (unsigned long long)c.too_long);
	CHECK(e && strstr(e, "tx queue") && strstr(e, "chain rejected") && strstr(e, "readable buffer after"),
	      "%s: error '%s' does not name the queue and the rule", name, e ? e : "(null)");
	printf("  %-22s writable before readable -> %d, \"%s\"\n", name, rc, e ? e : "(null)");
	dev_close(d);
	free(m);
}

/* TX in bursts: packets 0..5 in one poll (packet 2 corrupted, packet 3
 * scattered over two buffers), then 6 and 7 in a second poll. Each chain is
 * checked against its own packet number (dev_sw.c serves a burst with the
 * sequence, errors and bytes added once): one error, the right bytes, and
 * the numbering goes on across polls. */
#define NB 8
static unsigned char g_pk[NB][PKT];

static void tx_burst(struct dma *dma, bool packed)
{
	const char *name = packed ? "packed tx burst" : "split tx burst";
	struct vq_config cfg = { packed ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT, QSZ,
				 VQ_FEATURE(VQ_F_VERSION_1) | (packed ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) };
	struct vq_areas a;
	void *m = ring_for(&cfg, &a);
	const uint16_t AV = packed ? VQ_DESC_F_AVAIL : 0, N = VQ_DESC_F_NEXT;
	for (unsigned k = 0; k < NB; k++)
		dev_stream_fill(g_pk[k], PKT, k, 0);
	g_pk[2][DEV_NET_HDR_BYTES + 40] ^= 0x10; /* one payload bit of packet 2 */
	/* descriptor slots: packet k at slot k, packet 3's second half at slot NB */
	unsigned slot = 0, heads[NB];
	for (unsigned k = 0; k < NB; k++) {
		heads[k] = slot;
		if (k == 3) {
			desc(m, slot, packed, iova(g_pk[k]), 20, (uint16_t)(AV | N), (uint16_t)(packed ? 0 : slot + 1));
			slot++;
			desc(m, slot, packed, iova(g_pk[k] + 20), PKT - 20, AV, (uint16_t)(packed ? k : 0));
		} else {
			desc(m, slot, packed, iova(g_pk[k]), PKT, AV, (uint16_t)(packed ? k : 0));
		}
		slot++;
		if (!packed)
			put16(m, a.driver_off + 4 + 2 * k, (uint16_t)heads[k]);
	}
	struct dev_params p = { .kind = "inline", .cfg = cfg, .dma = dma, .cpu = -1 };
	p.ring[DEV_Q_TX] = m;
	struct dev *d;
	struct dev_counters c;
	REQUIRE(dev_open(&p, &d) == 0, "%s: dev_open: %s", name, dev_last_error());
	REQUIRE(dev_start(d) == 0, "%s: dev_start", name);
	if (!packed)
		put16(m, a.driver_off + 2, 6); /* packets 0..5 */
	else /* packets 6 and 7 (slots 7, 8) not yet available */
		for (unsigned i = 7; i < 9; i++)
			put16(m, 16 * i + 14, 0);
	int rc1 = dev_poll(d);
	dev_get_counters(d, &c);
	CHECK(rc1 == 6 && c.pkts[DEV_Q_TX] == 6 && c.tx_errors == 1 && c.bytes[DEV_Q_TX] == 6u * PKT,
	      "%s: first poll %d, pkts %llu tx_errors %llu bytes %llu (want 6, 6, 1, %u)", name, rc1,
	      (unsigned long long)c.pkts[DEV_Q_TX], (unsigned long long)c.tx_errors,
	      (unsigned long long)c.bytes[DEV_Q_TX], 6u * PKT);
	if (!packed)
		put16(m, a.driver_off + 2, NB);
	else
		for (unsigned i = 7; i < 9; i++)
			put16(m, 16 * i + 14, AV);
	int rc2 = dev_poll(d);
	dev_stop(d);
	dev_get_counters(d, &c);
	CHECK(rc2 == 2 && c.pkts[DEV_Q_TX] == NB && c.tx_errors == 1 && c.bytes[DEV_Q_TX] == (uint64_t)NB * PKT,
	      "%s: second poll %d, pkts %llu tx_errors %llu bytes %llu (want 2, %d, 1, %u)", name, rc2,
	      (unsigned long long)c.pkts[DEV_Q_TX], (unsigned long long)c.tx_errors,
	      (unsigned long long)c.bytes[DEV_Q_TX], NB, NB * PKT);
	CHECK(dev_error(d) == NULL, "%s: dev_error '%s'", name, dev_error(d));
	printf("  %-22s %d + %d chains, one corrupted packet -> tx_errors %llu\n", name, rc1, rc2,
	       (unsigned long long)c.tx_errors);
	dev_close(d);
	free(m);
}

int main(void)
{
	struct dma *dma;
	struct dma_params dp = { .vfio_container_fd = -1 };
	REQUIRE(dma_open("identity", &dp, &dma) == 0, "dma_open identity: %s", dma_last_error());
	for (int packed = 0; packed < 2; packed++)
		for (int ind = 0; ind < 2; ind++)
			for (int rx = 0; rx < 2; rx++)
				long_chain(dma, packed, ind, rx);
	for (int packed = 0; packed < 2; packed++)
		broken_rule(dma, packed);
	for (int packed = 0; packed < 2; packed++)
		tx_burst(dma, packed);
	dma_close(dma);
	printf("checked: a chain of %d buffers (limit %d) is consumed, pushed with 0 bytes and counted, and "
	       "the device serves the next one; a broken rule stops it with the ring's reason\n",
	       LONG, VQ_DEV_MAX_SEGS);
	return t_done("test_dev_long_chain");
}
