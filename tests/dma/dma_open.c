/* SPDX-License-Identifier: MIT */
/*
 * dma_open: the backend table: every listed name opens (vfio only where a
 * container exists), names come back from dma_name, an unknown name is
 * -ENOENT with a message naming it, bad parameters are -EINVAL with a
 * message naming the backend and value, and the last error is per thread.
 */
#include <pthread.h>

#include "dma_tcommon.h"

static void *other_thread(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)(dma_last_error()[0] == '\0');
}

int main(void)
{
	static const char *const want[] = { "identity", "pa", "iommu", "vfio",
					    "bounce", "noncoherent", "debug",
					    "nodma" };
	unsigned n = 0;
	for (const char *name; (name = dma_backend_name(n)); n++) {
		CHECK(n < 8 && strcmp(name, want[n]) == 0, "backend %u is %s",
		      n, name);
		struct dma *d;
		struct dma_params p = TP();
		int r = dma_open(name, &p, &d);
		if (strcmp(name, "vfio") == 0) {
			CHECK(r == 0 || r == -ENODEV, "vfio: 0 or -ENODEV");
			if (r == 0)
				dma_close(d);
			continue;
		}
		CHECK(r == 0, "%s opens: %s", name, dma_last_error());
		if (r == 0) {
			CHECK(strcmp(dma_name(d), name) == 0, "dma_name %s", name);
			dma_close(d);
		}
	}
	CHECK(n == 8, "8 backends listed, got %u", n);
	printf("backends: %u listed and opened\n", n);

	struct dma *d = (struct dma *)1;
	int r = dma_open("nosuch", NULL, &d);
	CHECK(r == -ENOENT && d == NULL && strstr(dma_last_error(), "'nosuch'"),
	      "unknown: %d \"%s\"", r, dma_last_error());
	printf("unknown backend: %d \"%s\"\n", r, dma_last_error());

	static const struct {
		const char *backend;
		struct dma_params p;
		const char *needle;
	} bad[] = {
		{ "identity", TP(.mask_bits = 65), "mask_bits 65" },
		{ "identity", TP(.min_align = 48), "min_align 48" },
		{ "identity", TP(.min_align = 4096), "min_align 4096" },
		{ "bounce", TP(.bounce_pool_bytes = 1000), "bounce pool of 1000 bytes" },
		{ "iommu", TP(.flush_batch = 1u << 30), "flush_batch" },
		{ "identity", TP(.mask_bits = 20), "does not fit under mask_bits 20" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = dma_open(bad[i].backend, &bad[i].p, &d);
		CHECK(r == -EINVAL && strstr(dma_last_error(), bad[i].needle) &&
		      strstr(dma_last_error(), bad[i].backend),
		      "%s bad params: %d \"%s\" (want \"%s\")", bad[i].backend,
		      r, dma_last_error(), bad[i].needle);
		printf("bad params: %d \"%s\"\n", r, dma_last_error());
	}

	pthread_t t;
	void *res;
	pthread_create(&t, NULL, other_thread, NULL);
	pthread_join(t, &res);
	CHECK(res == (void *)1, "the last error is per thread");
	return t_done("dma_open");
}
