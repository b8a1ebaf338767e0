/* SPDX-License-Identifier: MIT */
/*
 * test_ring_packed_indirect - flags inside a packed indirect table, as vq.h
 * states them. The spec makes WRITE the only valid flag in a packed indirect
 * table (the others are reserved and the device ignores them; so is the
 * buffer id), and the table's length alone gives the number of buffers. So
 * NEXT set on any entry (the last one too) or on none, and garbage ids,
 * change nothing: the device pops exactly len / 16 buffers with the WRITE
 * directions given. INDIRECT inside the table is a nested table, which is
 * rejected (test_ring_hostile); so is NEXT on the descriptor that points to
 * the table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring_util.h"
#include "vqb_test.h"

#define QSZ 8
#define NENT 5

static unsigned char g_mem[4096];
static struct arena g_arena = { g_mem, sizeof(g_mem), 0 };

/* A packed descriptor (ring or table entry): addr, len, id, flags. */
static void pdesc(void *m, unsigned i, uint64_t addr, uint32_t len, uint16_t id, uint16_t fl)
{
	memcpy((char *)m + 16 * i, &addr, 8);
	memcpy((char *)m + 16 * i + 8, &len, 4);
	memcpy((char *)m + 16 * i + 12, &id, 2);
	memcpy((char *)m + 16 * i + 14, &fl, 2);
}

/* next_mask bit j: entry j carries NEXT. The last two entries are writable. */
static void one(unsigned next_mask, bool next_on_head)
{
	struct vq_config cfg = { VQ_LAYOUT_PACKED, QSZ,
				 VQ_FEATURE(VQ_F_RING_PACKED) | VQ_FEATURE(VQ_F_INDIRECT_DESC) };
	struct vq_areas a;
	void *m = ring_alloc(&cfg, &a);
	unsigned char *tbl = g_mem + 2048;
	char name[80];
	snprintf(name, sizeof(name), "NEXT on entries 0x%02x%s", next_mask,
		 next_on_head ? ", and on the ring descriptor" : "");
	for (unsigned j = 0; j < NENT; j++)
		pdesc(tbl, j, iova_of(g_mem + 64 * j), 10 + j, (uint16_t)(0x5a00 + j),
		      (uint16_t)((j >= NENT - 2 ? VQ_DESC_F_WRITE : 0) |
				 (next_mask & (1u << j) ? VQ_DESC_F_NEXT : 0)));
	pdesc(m, 0, iova_of(tbl), 16 * NENT, 3,
	      (uint16_t)(VQ_DESC_F_INDIRECT | VQ_DESC_F_AVAIL | (next_on_head ? VQ_DESC_F_NEXT : 0)));
	struct vq_dev *dev;
	REQ1(vq_dev_create(&cfg, m, arena_translate, &g_arena, &dev) == 0, "%s: dev", name);
	struct vq_chain c;
	int rc = vq_dev_pop(dev, &c);
	if (next_on_head) {
		CHECK(rc == -EINVAL && vq_dev_is_broken(dev), "%s: pop %d, want -EINVAL", name, rc);
		printf("  %-56s -> %d, \"%s\"\n", name, rc,
		       vq_dev_broken_reason(dev) ? vq_dev_broken_reason(dev) : "(null)");
	} else {
		CHECK(rc == 1, "%s: pop %d (%s), want 1", name, rc,
		      vq_dev_broken_reason(dev) ? vq_dev_broken_reason(dev) : "not broken");
		if (rc == 1) {
			CHECK(c.id == 3 && c.ndesc == 1 && c.indirect && c.nbufs == NENT,
			      "%s: id %u ndesc %u indirect %d nbufs %u, want 3 1 1 %u", name, c.id, c.ndesc,
			      c.indirect, c.nbufs, NENT);
			uint32_t out = 0, in = 0;
			for (unsigned j = 0; j < NENT && j < c.nbufs; j++) {
				bool w = j >= NENT - 2;
				CHECK(c.buf[j].addr == iova_of(g_mem + 64 * j) && c.buf[j].len == 10 + j &&
					      c.buf[j].write == w && c.buf[j].ptr == g_mem + 64 * j,
				      "%s: buffer %u is 0x%llx+%u write %u", name, j,
				      (unsigned long long)c.buf[j].addr, c.buf[j].len, c.buf[j].write);
				if (w)
					in += 10 + j;
				else
					out += 10 + j;
			}
			CHECK(c.out_bytes == out && c.in_bytes == in, "%s: out %u in %u, want %u %u", name,
			      c.out_bytes, c.in_bytes, out, in);
		}
		printf("  %-56s -> %d, %u buffers\n", name, rc, rc == 1 ? c.nbufs : 0);
	}
	vq_dev_destroy(dev);
	free(m);
}

int main(void)
{
	one(0x00, false); /* what vq_add writes: no NEXT */
	one(0x1f, false); /* NEXT everywhere, the last entry too */
	one(0x0f, false); /* NEXT linking entries 0..4, as a split table would */
	one(0x01, false); /* NEXT on the first only: must not end the chain early */
	one(0x00, true);  /* NEXT on the ring descriptor holding the table */
	printf("checked: NEXT inside a packed indirect table is ignored (the table length gives %d buffers); "
	       "NEXT beside INDIRECT on a ring descriptor is rejected\n", NENT);
	return t_done("test_ring_packed_indirect");
}
