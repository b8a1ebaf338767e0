/* SPDX-License-Identifier: MIT */
/*
 * test_ring_layout: byte offsets and lengths of every ring area against the
 * virtio 1.3 formulas (written out here, independently of ring/), the
 * position of each field inside them (checked by driving the ring and
 * reading the bytes), and refusal of invalid configurations.
 */
#include <errno.h>
#include <stdio.h>

#include "ring_util.h"

static size_t align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

static uint16_t rd16(const void *m, size_t off)
{
	const unsigned char *p = (const unsigned char *)m + off;
	return (uint16_t)(p[0] | p[1] << 8); /* little-endian */
}

static uint32_t rd32(const void *m, size_t off)
{
	return rd16(m, off) | (uint32_t)rd16(m, off + 2) << 16;
}

static uint64_t rd64(const void *m, size_t off)
{
	return rd32(m, off) | (uint64_t)rd32(m, off + 4) << 32;
}

static unsigned char g_buf[256];
static struct arena g_arena = { g_buf, sizeof(g_buf), 0 };

/* Spec 2.7: desc 16*q @16, avail 6+2q @2, used 6+8q @4, in that order. */
static void check_split(uint32_t q)
{
	struct vq_config cfg = { VQ_LAYOUT_SPLIT, q, VQ_FEATURE(VQ_F_EVENT_IDX) };
	struct vq_areas a;
	size_t d_off = 0, d_len = 16 * (size_t)q;
	size_t av_off = align_up(d_off + d_len, 2), av_len = 6 + 2 * (size_t)q;
	size_t us_off = align_up(av_off + av_len, 4), us_len = 6 + 8 * (size_t)q;

	int rc = vq_ring_layout(&cfg, &a);
	REQ1(rc == 0, "split q=%u refused", q);
	CHECK(a.desc_off == d_off && a.desc_len == d_len, "split q=%u desc %zu+%zu",
	      q, a.desc_off, a.desc_len);
	CHECK(a.driver_off == av_off && a.driver_len == av_len,
	      "split q=%u avail %zu+%zu, want %zu+%zu", q, a.driver_off,
	      a.driver_len, av_off, av_len);
	CHECK(a.device_off == us_off && a.device_len == us_len,
	      "split q=%u used %zu+%zu, want %zu+%zu", q, a.device_off,
	      a.device_len, us_off, us_len);
	CHECK(a.total == us_off + us_len, "split q=%u total %zu", q, a.total);
	CHECK(vq_driver_state_bytes(&cfg) > 0, "split q=%u state bytes", q);

	/* Fields inside the areas: drive both sides and read the bytes. */
	void *m = ring_alloc(&cfg, &a);
	struct vq *vq;
	struct vq_dev *dev;
	rc = vq_create(&cfg, m, &vq);
	REQ1(rc == 0, "split q=%u create", q);
	rc = vq_dev_create(&cfg, m, arena_translate, &g_arena, &dev);
	REQ1(rc == 0, "split q=%u dev create", q);
	struct vq_sg sg[2] = { { iova_of(g_buf), 8, 0 }, { iova_of(g_buf + 8), 4, 1 } };
	unsigned n = q >= 2 ? 2 : 1;
	int head = vq_add(vq, sg, n, g_buf, NULL, NULL);
	REQ1(head >= 0, "split q=%u add", q);
	CHECK(rd16(m, av_off + 2) == 0, "split q=%u avail idx visible before kick", q);
	vq_kick_prepare(vq);
	CHECK(rd16(m, av_off + 2) == 1, "split q=%u avail->idx at avail+2", q);
	CHECK(rd16(m, av_off + 4) == head, "split q=%u avail->ring[0] at avail+4", q);
	CHECK(rd64(m, d_off + 16 * (size_t)head) == iova_of(g_buf) &&
		      rd32(m, d_off + 16 * (size_t)head + 8) == 8,
	      "split q=%u desc addr/len at desc+16*head", q);
	CHECK(rd16(m, d_off + 16 * (size_t)head + 12) == (n == 2 ? VQ_DESC_F_NEXT : 0),
	      "split q=%u desc flags at +12", q);
	vq_dev_enable_kick(dev);
	struct vq_chain c;
	rc = vq_dev_pop(dev, &c);
	REQ1(rc == 1, "split q=%u pop", q);
	vq_dev_enable_kick(dev); /* writes avail_event = 1 */
	CHECK(rd16(m, us_off + 4 + 8 * (size_t)q) == 1,
	      "split q=%u avail_event at used+4+8q", q);
	vq_dev_push(dev, &c, n == 2 ? 3 : 0);
	vq_dev_publish(dev);
	CHECK(rd16(m, us_off + 2) == 1, "split q=%u used->idx at used+2", q);
	CHECK(rd32(m, us_off + 4) == (uint32_t)head && rd32(m, us_off + 8) == (n == 2 ? 3u : 0u),
	      "split q=%u used->ring[0] id/len at used+4", q);
	struct vq_used u;
	CHECK(vq_get_used(vq, &u) == 1, "split q=%u get_used", q);
	vq_enable_cb(vq); /* used_event = 1 */
	CHECK(rd16(m, av_off + 4 + 2 * (size_t)q) == 1,
	      "split q=%u used_event at avail+4+2q", q);
	vq_dev_destroy(dev);
	vq_destroy(vq);
	free(m);
}

/* Spec 2.8: desc ring 16*q @16, driver event 4 @4, device event 4 @4. */
static void check_packed(uint32_t q)
{
	struct vq_config cfg = { VQ_LAYOUT_PACKED, q,
				 VQ_FEATURE(VQ_F_EVENT_IDX) | VQ_FEATURE(VQ_F_RING_PACKED) };
	struct vq_areas a;
	size_t d_off = 0, d_len = 16 * (size_t)q;
	size_t drv_off = align_up(d_off + d_len, 4), dev_off = align_up(drv_off + 4, 4);

	int rc = vq_ring_layout(&cfg, &a);
	REQ1(rc == 0, "packed q=%u refused", q);
	CHECK(a.desc_off == d_off && a.desc_len == d_len, "packed q=%u desc", q);
	CHECK(a.driver_off == drv_off && a.driver_len == 4,
	      "packed q=%u driver event %zu+%zu", q, a.driver_off, a.driver_len);
	CHECK(a.device_off == dev_off && a.device_len == 4,
	      "packed q=%u device event %zu+%zu", q, a.device_off, a.device_len);
	CHECK(a.total == dev_off + 4, "packed q=%u total %zu", q, a.total);

	void *m = ring_alloc(&cfg, &a);
	struct vq *vq;
	struct vq_dev *dev;
	rc = vq_create(&cfg, m, &vq);
	REQ1(rc == 0, "packed q=%u create", q);
	rc = vq_dev_create(&cfg, m, arena_translate, &g_arena, &dev);
	REQ1(rc == 0, "packed q=%u dev create", q);
	struct vq_sg sg = { iova_of(g_buf), 8, 1 };
	int id = vq_add(vq, &sg, 1, g_buf, NULL, NULL);
	REQ1(id >= 0, "packed q=%u add", q);
	CHECK(rd16(m, d_off + 14) == 0, "packed q=%u flags visible before kick", q);
	vq_kick_prepare(vq);
	CHECK(rd64(m, d_off) == iova_of(g_buf) && rd32(m, d_off + 8) == 8 &&
		      rd16(m, d_off + 12) == id,
	      "packed q=%u desc addr/len/id at +0/+8/+12", q);
	CHECK(rd16(m, d_off + 14) == (VQ_DESC_F_AVAIL | VQ_DESC_F_WRITE),
	      "packed q=%u desc flags at +14: %#x", q, rd16(m, d_off + 14));
	vq_dev_enable_kick(dev);
	CHECK(rd16(m, dev_off + 2) == 2 && rd16(m, dev_off) == (0 | 0x8000),
	      "packed q=%u device event flags/off_wrap at device+2/+0", q);
	struct vq_chain c;
	rc = vq_dev_pop(dev, &c);
	REQ1(rc == 1, "packed q=%u pop", q);
	vq_dev_push(dev, &c, 5);
	vq_dev_publish(dev);
	CHECK(rd16(m, d_off + 14) == (VQ_DESC_F_AVAIL | VQ_DESC_F_USED | VQ_DESC_F_WRITE) &&
		      rd32(m, d_off + 8) == 5,
	      "packed q=%u used desc flags/len", q);
	struct vq_used u;
	CHECK(vq_get_used(vq, &u) == 1 && u.len == 5, "packed q=%u get_used", q);
	vq_enable_cb(vq);
	uint16_t ow = (uint16_t)(q == 1 ? 0 : 1 | 0x8000);
	CHECK(rd16(m, drv_off + 2) == 2 && rd16(m, drv_off) == ow,
	      "packed q=%u driver event flags/off_wrap %#x, want %#x", q,
	      rd16(m, drv_off), ow);
	vq_dev_destroy(dev);
	vq_destroy(vq);
	free(m);
}

int main(void)
{
	static const uint32_t split_sizes[] = { 1, 2, 4, 8, 64, 256, 1024, 4096, 32768 };
	static const uint32_t packed_sizes[] = { 1, 2, 3, 5, 100, 255, 256, 1000, 32767, 32768 };
	struct vq_areas a;

	for (size_t i = 0; i < sizeof(split_sizes) / sizeof(split_sizes[0]); i++)
		check_split(split_sizes[i]);
	for (size_t i = 0; i < sizeof(packed_sizes) / sizeof(packed_sizes[0]); i++)
		check_packed(packed_sizes[i]);

	/* Invalid configurations. */
	static const uint32_t bad_split[] = { 0, 3, 6, 1000, 32767, 32769, 65536 };
	for (size_t i = 0; i < sizeof(bad_split) / sizeof(bad_split[0]); i++) {
		struct vq_config cfg = { VQ_LAYOUT_SPLIT, bad_split[i], 0 };
		CHECK(vq_ring_layout(&cfg, &a) == -EINVAL, "split size %u accepted",
		      bad_split[i]);
		CHECK(vq_driver_state_bytes(&cfg) == 0, "split size %u has state",
		      bad_split[i]);
	}
	static const uint32_t bad_packed[] = { 0, 32769, 65536 };
	for (size_t i = 0; i < sizeof(bad_packed) / sizeof(bad_packed[0]); i++) {
		struct vq_config cfg = { VQ_LAYOUT_PACKED, bad_packed[i], 0 };
		CHECK(vq_ring_layout(&cfg, &a) == -EINVAL, "packed size %u accepted",
		      bad_packed[i]);
	}
	struct vq_config weird = { (enum vq_layout)2, 256, 0 };
	CHECK(vq_ring_layout(&weird, &a) == -EINVAL, "unknown layout accepted");
	struct vq_config feat = { VQ_LAYOUT_SPLIT, 256, VQ_FEATURE(0) };
	CHECK(vq_ring_layout(&feat, &a) == -EINVAL, "unknown feature bit accepted");

	/* Misaligned ring memory. */
	struct vq_config ok = { VQ_LAYOUT_SPLIT, 8, 0 };
	void *m = ring_alloc(&ok, &a);
	struct vq *vq;
	CHECK(vq_create(&ok, (char *)m + 8, &vq) == -EINVAL, "misaligned ring accepted");
	free(m);

	printf("checked: split sizes 1..32768 and packed sizes 1..32768 (incl. 3, 1000, 32767): "
	       "area offsets/lengths vs spec formulas, field positions of idx/ring/"
	       "used_event/avail_event/desc/event suppression; invalid sizes, layout, "
	       "features, alignment refused\n");
	return t_done("test_ring_layout");
}
