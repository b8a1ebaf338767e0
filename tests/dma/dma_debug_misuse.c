/* SPDX-License-Identifier: MIT */
/*
 * dma_debug_misuse: the debug backend reports each misuse class once, with
 * a message, refuses the call, and counts it in debug_reports: unmap with a
 * wrong length, with a wrong direction, double unmap, unmap of an unknown
 * IOVA, device access to unmapped memory, device read of a FROM_DEVICE and
 * write to a TO_DEVICE mapping, and leaks at close (one stderr line per
 * leaked mapping up to 16, then a total; dma_last_error() after close).
 * Run over three inner backends.
 */
#include "dma_tcommon.h"

#define U(x) ((unsigned long long)(x))

static const char *const inners[] = { "identity", "iommu", "bounce" };

static void expect(const char *inner, struct dma *d, int r, int want_r,
		   uint64_t reports, const char *needle)
{
	CHECK(r == want_r, "debug(%s): %s: returned %d want %d", inner, needle,
	      r, want_r);
	CHECK(t_ctr(d).debug_reports == reports, "debug(%s): %s: reports %llu "
	      "want %llu", inner, needle, U(t_ctr(d).debug_reports), U(reports));
	CHECK(strstr(dma_last_error(), needle) && strstr(dma_last_error(), "debug"),
	      "debug(%s): message names the backend and says '%s': \"%s\"",
	      inner, needle, dma_last_error());
}

/* Close d with stderr captured; the number of lines written. */
static unsigned close_counting_lines(struct dma *d)
{
	FILE *tmp = tmpfile();
	REQUIRE(tmp != NULL, "tmpfile");
	int fd = fileno(tmp);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	dma_close(d);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char buf[8192];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	fclose(tmp);
	unsigned lines = 0;
	for (ssize_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	return lines;
}

static void run(const char *inner, uint8_t *arena)
{
	struct dma_params p = TP(.inner = inner, .bounce_pool_bytes = 1 << 20);
	struct dma *d;
	int r = dma_open("debug", &p, &d);
	REQUIRE(r == 0, "open debug(%s): %s", inner, dma_last_error());
	unsigned f0 = (unsigned)t_failures;
	uint64_t a, b, c;
	r = dma_map(d, arena, 1500, DMA_TO_DEVICE, &a);
	REQUIRE(r == 0, "debug(%s): map: %s", inner, dma_last_error());

	expect(inner, d, dma_unmap(d, a, 1000, DMA_TO_DEVICE), -EINVAL, 1,
	       "wrong length");
	expect(inner, d, dma_unmap(d, a, 1500, DMA_FROM_DEVICE), -EINVAL, 2,
	       "wrong direction");
	CHECK(t_ctr(d).live == 1, "debug(%s): a refused unmap leaves the "
	      "mapping live", inner);
	r = dma_unmap(d, a, 1500, DMA_TO_DEVICE);
	CHECK(r == 0, "debug(%s): the right unmap works: %s", inner,
	      dma_last_error());
	expect(inner, d, dma_unmap(d, a, 1500, DMA_TO_DEVICE), -EINVAL, 3,
	       "double unmap");
	expect(inner, d, dma_unmap(d, 0x7654321000ull, 64, DMA_TO_DEVICE),
	       -EINVAL, 4, "unknown iova");
	void *q = dma_translate(d, a, 64, DMA_TO_DEVICE);
	expect(inner, d, q ? 0 : -1, -1, 5, "device access to unmapped");

	r = dma_map(d, arena + 4096, 1500, DMA_FROM_DEVICE, &b);
	REQUIRE(r == 0, "debug(%s): map: %s", inner, dma_last_error());
	r = dma_map(d, arena + 8192, 1500, DMA_TO_DEVICE, &c);
	REQUIRE(r == 0, "debug(%s): map: %s", inner, dma_last_error());
	q = dma_translate(d, b, 64, DMA_TO_DEVICE);
	expect(inner, d, q ? 0 : -1, -1, 6, "read of");
	q = dma_translate(d, c + 8, 64, DMA_FROM_DEVICE);
	expect(inner, d, q ? 0 : -1, -1, 7, "write to");
	CHECK(dma_translate(d, b + 100, 64, DMA_FROM_DEVICE) != NULL,
	      "debug(%s): a proper device write inside a mapping passes", inner);
	CHECK(dma_translate(d, c, 1500, DMA_TO_DEVICE) != NULL,
	      "debug(%s): a proper device read passes", inner);
	struct dma_counters ct = t_ctr(d);
	CHECK(ct.debug_reports == 7 && ct.faults == 3 && ct.live == 2,
	      "debug(%s): reports %llu (7) faults %llu (3) live %llu (2)", inner,
	      U(ct.debug_reports), U(ct.faults), U(ct.live));
	CHECK(dma_need_unmap_reason(d) & DMA_R_DEBUG, "debug(%s): reason", inner);

	unsigned lines = close_counting_lines(d);
	CHECK(lines == 2, "debug(%s): 2 leak lines at close, got %u", inner,
	      lines);
	CHECK(strstr(dma_last_error(), "2 mappings leaked"),
	      "debug(%s): after close: \"%s\"", inner, dma_last_error());
	printf("debug(%-8s): wrong length, wrong direction, double unmap, "
	       "unknown IOVA, unmapped access, read of FROM_DEVICE, write to "
	       "TO_DEVICE, 2 leaks at close: %s\n", inner,
	       t_failures == f0 ? "ok" : "FAILED");
}

static void many_leaks(uint8_t *arena)
{
	struct dma_params p = TP();
	struct dma *d;
	int r = dma_open("debug", &p, &d);
	REQUIRE(r == 0, "open debug: %s", dma_last_error());
	for (unsigned i = 0; i < 20; i++) {
		uint64_t iova;
		r = dma_map(d, arena + 64 * i, 64, DMA_BIDIRECTIONAL, &iova);
		CHECK(r == 0, "map %u", i);
	}
	CHECK(t_ctr(d).live == 20, "20 live");
	unsigned lines = close_counting_lines(d);
	CHECK(lines == 17, "20 leaks print 16 lines and a total: %u lines", lines);
	CHECK(strstr(dma_last_error(), "20 mappings leaked"), "\"%s\"",
	      dma_last_error());
	printf("debug: 20 leaks -> %u stderr lines (16 + total), \"%s\"\n",
	       lines, dma_last_error());
}

/* Lookups of an address inside a mapping walk back the hash buckets (64
 * bytes of address each, bucket_find_contain): a device access 40 KiB into a
 * 64 KiB mapping and a sync 20 KiB into it are found, one byte past its end
 * is not, among other mappings in the same and in neighbouring buckets. */
static void inside_long_mapping(uint8_t *arena)
{
	struct dma *d;
	struct dma_params p = TP();
	REQUIRE(dma_open("debug", &p, &d) == 0, "open debug: %s", dma_last_error());
	uint8_t *big = aligned_alloc(4096, 128 << 10);
	REQUIRE(big, "buffer");
	uint64_t a, small[8];
	REQUIRE(dma_map(d, big, 64 << 10, DMA_FROM_DEVICE, &a) == 0, "map 64 KiB");
	for (unsigned i = 0; i < 8; i++) /* neighbours: after it, in other buckets */
		REQUIRE(dma_map(d, big + (64 << 10) + i * 8192, 100, DMA_TO_DEVICE, &small[i]) == 0, "map small %u", i);
	uint64_t before = t_ctr(d).debug_reports;
	CHECK(dma_translate(d, a + (40 << 10), 256, DMA_FROM_DEVICE) != NULL,
	      "a write 40 KiB into a 64 KiB mapping is refused: %s", dma_last_error());
	dma_sync_for_cpu(d, a + (20 << 10), 4096, DMA_FROM_DEVICE);
	CHECK(t_ctr(d).debug_reports == before, "a sync 20 KiB into the mapping reported: %s", dma_last_error());
	CHECK(dma_translate(d, a + (64 << 10) - 16, 32, DMA_FROM_DEVICE) == NULL &&
	      t_ctr(d).debug_reports == before + 1, "an access running past the mapping's end passes");
	CHECK(dma_translate(d, small[3] + 50, 50, DMA_TO_DEVICE) != NULL, "a read inside a small mapping refused");
	for (unsigned i = 0; i < 8; i++)
		dma_unmap(d, small[i], 100, DMA_TO_DEVICE);
	dma_unmap(d, a, 64 << 10, DMA_FROM_DEVICE);
	CHECK(t_ctr(d).live == 0, "all unmapped");
	dma_close(d);
	free(big);
	(void)arena;
	printf("debug: accesses and syncs inside a 64 KiB mapping found across hash buckets; past its end refused\n");
}

int main(void)
{
	uint8_t *arena = t_arena();
	inside_long_mapping(arena);
	for (size_t i = 0; i < sizeof(inners) / sizeof(inners[0]); i++)
		run(inners[i], arena);
	many_leaks(arena);
	struct dma *d;
	struct dma_params p = TP(.inner = "debug");
	CHECK(dma_open("debug", &p, &d) == -EINVAL, "debug cannot wrap debug");
	p.inner = "nosuch";
	CHECK(dma_open("debug", &p, &d) == -ENOENT, "unknown inner: -ENOENT");
	t_arena_free(arena);
	return t_done("dma_debug_misuse");
}
