/* SPDX-License-Identifier: MIT */
/*
 * test_ring_packed_len - a packed used descriptor's len without the WRITE
 * flag. The spec calls len reserved there, but QEMU 7.2 fills it without
 * setting WRITE (and Linux and DPDK read it regardless): for a chain with
 * device-writable bytes the driver must report the written length; for a
 * device-readable chain a garbage len must be ignored, not break the queue.
 */
#include <stdlib.h>
#include <string.h>

#include "ring_util.h"
#include "vq_pvt.h"
#include "vqb_test.h"

/* Clear WRITE in the used descriptor at ring position pos, and optionally
 * put garbage in its len, as such a device would have written it. */
static void poke_used(void *ring, const struct vq_areas *a, unsigned pos, bool garbage_len)
{
	unsigned char *d = (unsigned char *)ring + a->desc_off + 16u * pos;
	uint16_t flags;
	memcpy(&flags, d + 14, 2);
	flags &= (uint16_t)~VQ_DESC_F_WRITE;
	memcpy(d + 14, &flags, 2);
	if (garbage_len) {
		uint32_t junk = 0xdeadbeef;
		memcpy(d + 8, &junk, 4);
	}
}

int main(void)
{
	static unsigned char buf[4096];
	struct arena ar = {buf, sizeof(buf), 0};
	struct vq_config cfg = {.layout = VQ_LAYOUT_PACKED, .size = 4,
				.features = VQ_FEATURE(VQ_F_VERSION_1) | VQ_FEATURE(VQ_F_RING_PACKED)};
	struct vq_areas a;
	void *ring = ring_alloc(&cfg, &a);
	struct vq *vq;
	struct vq_dev *dev;
	REQUIRE(vq_create(&cfg, ring, &vq) == 0, "vq_create");
	REQUIRE(vq_dev_create(&cfg, ring, arena_translate, &ar, &dev) == 0, "vq_dev_create");

	/* RX: a 100-byte device-writable chain; the device writes 60 bytes */
	struct vq_sg rx = {iova_of(buf), 100, 1};
	int tok = 1, tok2 = 2;
	REQUIRE(vq_add(vq, &rx, 1, &tok, NULL, NULL) >= 0, "add rx");
	vq_kick_prepare(vq);
	struct vq_chain c;
	REQUIRE(vq_dev_pop(dev, &c) == 1, "pop rx");
	REQUIRE(vq_dev_push(dev, &c, 60) == 0, "push rx");
	vq_dev_publish(dev);
	poke_used(ring, &a, 0, false);
	struct vq_used u;
	CHECK(vq_get_used(vq, &u) == 1 && u.token == &tok, "rx completion");
	CHECK(u.len == 60, "rx used len %u without WRITE: want 60 (the device wrote it)", u.len);

	/* TX: device-readable only; len without WRITE is reserved: ignore it */
	struct vq_sg tx = {iova_of(buf + 200), 100, 0};
	REQUIRE(vq_add(vq, &tx, 1, &tok2, NULL, NULL) >= 0, "add tx");
	vq_kick_prepare(vq);
	REQUIRE(vq_dev_pop(dev, &c) == 1, "pop tx");
	REQUIRE(vq_dev_push(dev, &c, 0) == 0, "push tx");
	vq_dev_publish(dev);
	poke_used(ring, &a, 1, true);
	CHECK(vq_get_used(vq, &u) == 1 && u.token == &tok2, "tx completion: %s",
	      vq_broken_reason(vq) ? vq_broken_reason(vq) : "none");
	CHECK(u.len == 0 && !vq_is_broken(vq), "tx: reserved len must read as 0 (got %u), queue intact", u.len);

	vq_dev_destroy(dev);
	vq_destroy(vq);
	free(ring);
	return t_done("test_ring_packed_len");
}
