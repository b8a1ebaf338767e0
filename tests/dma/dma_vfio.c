/* SPDX-License-Identifier: MIT */
/*
 * dma_vfio: where there is no VFIO container, dma_open("vfio") is -ENODEV
 * and dma_last_error() gives the reason, naming the backend: here (no
 * /dev/vfio/vfio) "no IOMMU or vfio module not loaded"; with /dev/vfio but no
 * container given, that a container is needed; a descriptor that is not a
 * container is refused too. The mapping path is tested in a QEMU guest.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "dma_tcommon.h"

int main(void)
{
	struct stat st;
	bool have = stat("/dev/vfio/vfio", &st) == 0;
	struct dma *d = (struct dma *)1;
	struct dma_params p = TP();
	int r = dma_open("vfio", &p, &d);
	CHECK(r == -ENODEV && d == NULL, "no container: -ENODEV (%d)", r);
	CHECK(strncmp(dma_last_error(), "vfio: not available here because ",
		      33) == 0, "message: \"%s\"", dma_last_error());
	if (!have)
		CHECK(strstr(dma_last_error(), "no /dev/vfio/vfio: no IOMMU or "
			     "vfio module not loaded"), "reason: \"%s\"",
		      dma_last_error());
	else
		CHECK(strstr(dma_last_error(), "no container was given"),
		      "reason: \"%s\"", dma_last_error());
	printf("vfio, no container: %d \"%s\"\n", r, dma_last_error());

	r = dma_open("vfio", NULL, &d);
	CHECK(r == -ENODEV, "NULL params: -ENODEV (%d)", r);

	/* Not a container: /dev/null. */
	p.vfio_container_fd = open("/dev/null", O_RDWR);
	r = dma_open("vfio", &p, &d);
	CHECK(r == -ENODEV && strstr(dma_last_error(), "is not a VFIO container"),
	      "/dev/null as container: %d \"%s\"", r, dma_last_error());
	printf("vfio, /dev/null as container: %d \"%s\"\n", r, dma_last_error());
	close(p.vfio_container_fd);
	return t_done("dma_vfio");
}
