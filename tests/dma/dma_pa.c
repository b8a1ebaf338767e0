/* SPDX-License-Identifier: MIT */
/*
 * dma_pa: the physical-address backend. As root: registered (mlocked)
 * memory maps to its real frame (checked against this test's own read of
 * /proc/self/pagemap), translate goes back from the physical address to the
 * buffer, memory outside a registered region is refused (-EINVAL), a buffer
 * crossing non-adjacent frames is refused with both frames named and one
 * crossing adjacent frames (if the arena has one) is mapped, an unknown
 * physical address faults. Unprivileged (a child that drops to nobody, or
 * the whole test when not root): register fails with -EPERM saying that
 * pagemap gives no frame numbers.
 * nodma (virtio without ACCESS_PLATFORM): the same physical addresses and
 * translation, but no map, unmap or live mapping is counted, nothing needs
 * unmap or sync, and a bounce setting is refused naming it.
 */
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "dma_tcommon.h"

static uint64_t pfn_of(int fd, const void *p)
{
	uint64_t e = 0;
	if (pread(fd, &e, 8, (off_t)((uintptr_t)p / 4096) * 8) != 8)
		return 0;
	return e & ((1ull << 55) - 1);
}

/* 0 when register is refused as documented. */
static int unprivileged_check(void)
{
	void *buf = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	struct dma *d;
	struct dma_params p = TP();
	int r = dma_open("pa", &p, &d);
	if (r < 0) {
		fprintf(stderr, "unprivileged: open: %s\n", dma_last_error());
		return 1;
	}
	r = dma_register(d, buf, 1 << 16);
	bool ok = r == -EPERM && strstr(dma_last_error(), "no frame numbers");
	printf("unprivileged register: %d \"%s\": %s\n", r, dma_last_error(),
	       ok ? "ok" : "FAILED");
	fflush(stdout);
	dma_close(d);
	return ok ? 0 : 1;
}

int main(void)
{
	if (geteuid() != 0) {
		CHECK(unprivileged_check() == 0, "not root: -EPERM with a reason");
		return t_done("dma_pa (unprivileged only)");
	}
	uint8_t *arena = t_arena();
	struct dma *d;
	struct dma_params p = TP();
	int r = dma_open("pa", &p, &d);
	REQUIRE(r == 0, "open: %s", dma_last_error());
	r = dma_register(d, arena, T_ARENA);
	REQUIRE(r == 0, "register: %s", dma_last_error());
	CHECK(t_ctr(d).mem_bytes >= (T_ARENA / 4096) * 8, "mem_bytes %llu "
	      "holds the frame table", (unsigned long long)t_ctr(d).mem_bytes);
	int pm = open("/proc/self/pagemap", O_RDONLY);
	REQUIRE(pm >= 0, "open pagemap");

	/* 1. Frames and round trip. */
	for (unsigned k = 0; k < 16; k++) {
		uint8_t *buf = arena + k * 4096 + 8 * k;
		uint64_t iova;
		t_fill(buf, 1500, k);
		r = dma_map(d, buf, 1500, DMA_TO_DEVICE, &iova);
		REQUIRE(r == 0, "map %u: %s", k, dma_last_error());
		uint64_t pfn = pfn_of(pm, buf);
		CHECK(pfn != 0 && iova >> 12 == pfn && (iova & 4095) == 8 * k,
		      "buffer %u: iova 0x%llx is frame 0x%llx + offset", k,
		      (unsigned long long)iova, (unsigned long long)pfn);
		CHECK(iova != (uintptr_t)buf, "buffer %u: IOVA is not the VA", k);
		uint8_t *q = dma_translate(d, iova, 1500, DMA_TO_DEVICE);
		CHECK(q == buf && t_check(q, 1500, k), "buffer %u: translate "
		      "PA -> VA round trip", k);
		CHECK(dma_unmap(d, iova, 1500, DMA_TO_DEVICE) == 0, "unmap");
	}
	printf("16 buffers: IOVA = frame from pagemap + offset, translate "
	       "returns the buffer\n");

	/* 2. Outside every region. */
	static uint8_t outside[4096];
	uint64_t iova;
	r = dma_map(d, outside, 100, DMA_TO_DEVICE, &iova);
	CHECK(r == -EINVAL && strstr(dma_last_error(), "outside every "
	      "registered region"), "unregistered memory: %d \"%s\"", r,
	      dma_last_error());
	printf("unregistered buffer: %d \"%s\"\n", r, dma_last_error());

	/* 3. Crossings: adjacent frames map, non-adjacent are refused. */
	bool seen_gap = false, seen_adj = false;
	for (unsigned k = 1; k < T_ARENA / 4096 && !(seen_gap && seen_adj); k++) {
		uint8_t *b = arena + k * 4096 - 100;
		bool adj = pfn_of(pm, b) + 1 == pfn_of(pm, b + 100);
		if ((adj && seen_adj) || (!adj && seen_gap))
			continue;
		t_fill(b, 200, k);
		r = dma_map(d, b, 200, DMA_FROM_DEVICE, &iova);
		if (adj) {
			seen_adj = true;
			CHECK(r == 0, "adjacent frames at page %u: %s", k,
			      dma_last_error());
			uint8_t *q = dma_translate(d, iova, 200, DMA_FROM_DEVICE);
			CHECK(q == b, "adjacent crossing translates to the buffer");
			if (r == 0)
				dma_unmap(d, iova, 200, DMA_FROM_DEVICE);
			printf("crossing adjacent frames at page %u: mapped\n", k);
		} else {
			seen_gap = true;
			CHECK(r == -EINVAL && strstr(dma_last_error(),
			      "not physically adjacent"), "gap at page %u: %d %s",
			      k, r, dma_last_error());
			printf("crossing non-adjacent frames: \"%s\"\n",
			       dma_last_error());
		}
	}
	CHECK(seen_gap || seen_adj, "some page boundary was tried");

	/* 4. A physical address nobody registered. */
	CHECK(dma_translate(d, 0x1000, 64, DMA_TO_DEVICE) == NULL &&
	      t_ctr(d).faults == 1, "unknown physical address faults");
	CHECK(dma_need_unmap(d) == false, "pa without bouncing needs no unmap");
	dma_close(d);

	/* 5. nodma: pa's addresses without a DMA API call counted. */
	r = dma_open("nodma", &p, &d);
	REQUIRE(r == 0, "nodma open: %s", dma_last_error());
	REQUIRE(dma_register(d, arena, T_ARENA) == 0, "nodma register: %s", dma_last_error());
	for (unsigned k = 0; k < 8; k++) {
		uint8_t *buf = arena + k * 4096 + 16 * k;
		t_fill(buf, 1000, k + 40);
		r = dma_map(d, buf, 1000, k & 1 ? DMA_FROM_DEVICE : DMA_TO_DEVICE, &iova);
		REQUIRE(r == 0, "nodma map %u: %s", k, dma_last_error());
		CHECK(iova >> 12 == pfn_of(pm, buf) && (iova & 4095) == 16 * k,
		      "nodma buffer %u: the physical address 0x%llx", k, (unsigned long long)iova);
		uint8_t *q = dma_translate(d, iova, 1000, DMA_TO_DEVICE);
		CHECK(q == buf && t_check(q, 1000, k + 40), "nodma buffer %u: translate round trip", k);
		CHECK(!dma_need_sync(d, iova), "nodma: no sync needed");
		CHECK(dma_unmap(d, iova, 1000, k & 1 ? DMA_FROM_DEVICE : DMA_TO_DEVICE) == 0, "nodma unmap");
	}
	struct dma_counters c = t_ctr(d);
	CHECK(c.maps == 0 && c.unmaps == 0 && c.peak_live == 0 && c.bounced == 0 &&
	      c.bytes_copied == 0 && c.syncs_for_cpu + c.syncs_for_device == 0,
	      "nodma: 8 map/unmap pairs count no DMA API call (maps %llu, unmaps %llu, peak_live %llu)",
	      (unsigned long long)c.maps, (unsigned long long)c.unmaps, (unsigned long long)c.peak_live);
	CHECK(!dma_need_unmap(d) && dma_held_mappings(d) == 0, "nodma: nothing needs unmap");
	dma_close(d);
	struct dma_params pb = TP(.force_bounce = true);
	r = dma_open("nodma", &pb, &d);
	CHECK(r == -EINVAL && strstr(dma_last_error(), "nodma: force_bounce 1") &&
	      strstr(dma_last_error(), "without the DMA API nothing bounces"),
	      "nodma refuses force_bounce: %d \"%s\"", r, dma_last_error());
	printf("nodma: 8 buffers at their physical addresses, 0 maps counted; force_bounce: \"%s\"\n",
	       dma_last_error());
	close(pm);
	t_arena_free(arena);

	/* 6. Unprivileged: a child drops root. */
	fflush(stdout);
	pid_t pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		/* setuid made us non-dumpable, which hides /proc/self;
		 * a process started unprivileged is dumpable. */
		prctl(PR_SET_DUMPABLE, 1);
		_exit(unprivileged_check());
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "as nobody, register is "
	      "-EPERM with a reason (child status 0x%x)", st);
	return t_done("dma_pa");
}
