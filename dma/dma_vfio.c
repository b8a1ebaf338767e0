/* SPDX-License-Identifier: MIT */
/*
 * dma_vfio.c - real VFIO type1 mappings, one VFIO_IOMMU_MAP_DMA per dma_map
 * and one VFIO_IOMMU_UNMAP_DMA per dma_unmap, on params.vfio_container_fd
 * (an open container with a group added and VFIO_TYPE1_IOMMU set).
 *
 * IOVAs come from the shared allocator (dma_iova.c) over [1 MiB, 4 GiB)
 * minus every page outside the usable ranges the type1 info capability
 * reports (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE); without the capability the
 * x86 MSI window 0xfee00000-0xfeefffff is kept out. A mapping covers the
 * whole pages of the buffer: the kernel pins them for the mapping's life.
 *
 * Where there is no container (no IOMMU, vfio not loaded, none given), open
 * fails with -ENODEV and dma_last_error() says why. On this project's build
 * machines that is all that runs; the QEMU-guest test exercises the rest.
 *
 * translate: the device translates through the real IOMMU; there is no
 * software view, so dma_translate() refuses (NULL, counted as a fault).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "dma_mem.h"
#include "dma_pvt.h"

#define VFIO_BASE_PFN 0x100ull      /* 1 MiB */
#define VFIO_END_PFN (1ull << 20)   /* 4 GiB */

struct dma_vfio {
	struct dma d;
	int fd;
	struct dma_iova iova;
	unsigned nranges; /* usable ranges read from the kernel, 0 = none */
};

/* Reserve what the IOVA-range capability says is unusable. */
static int vfio_read_ranges(struct dma_vfio *v)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	if (ioctl(v->fd, VFIO_IOMMU_GET_INFO, &probe) < 0)
		return -errno;
	if (!(probe.flags & VFIO_IOMMU_INFO_CAPS) || probe.argsz <= sizeof(probe))
		return 0;
	size_t info_len = probe.argsz;
	struct vfio_iommu_type1_info *info = dma_mem_zalloc(DMA_MEM_DMA, info_len, 0);
	if (!info)
		return -ENOMEM;
	info->argsz = probe.argsz;
	int r = 0;
	if (ioctl(v->fd, VFIO_IOMMU_GET_INFO, info) < 0) {
		r = -errno;
		goto out;
	}
	/* Capabilities sit at 4-byte aligned offsets: copy each piece out
	 * with memcpy instead of dereferencing a misaligned u64 field. */
	const char *base = (const char *)info;
	for (uint32_t off = info->cap_offset;
	     off && off + sizeof(struct vfio_info_cap_header) <= info->argsz;) {
		struct vfio_info_cap_header h;
		memcpy(&h, base + off, sizeof(h));
		struct vfio_iommu_type1_info_cap_iova_range cr;
		if (h.id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE &&
		    off + sizeof(cr) <= info->argsz) {
			memcpy(&cr, base + off, sizeof(cr));
			const char *ranges = base + off + sizeof(cr);
			uint32_t nr = cr.nr_iovas;
			if ((info->argsz - off - sizeof(cr)) / sizeof(cr.iova_ranges[0]) < nr)
				nr = (uint32_t)((info->argsz - off - sizeof(cr)) /
						sizeof(cr.iova_ranges[0]));
			/* Reserve everything, then free the usable parts. */
			uint64_t cur = VFIO_BASE_PFN;
			for (uint32_t i = 0; i < nr; i++) {
				struct vfio_iova_range rg;
				memcpy(&rg, ranges + i * sizeof(rg), sizeof(rg));
				if (rg.end < rg.start)
					continue;
				/* pfns clamped to the space; end + 1 may wrap */
				uint64_t s = rg.start >= VFIO_END_PFN << DMA_PAGE_SHIFT
						     ? VFIO_END_PFN
						     : (rg.start + DMA_PAGE_SIZE - 1) >> DMA_PAGE_SHIFT;
				uint64_t e = rg.end >= VFIO_END_PFN << DMA_PAGE_SHIFT
						     ? VFIO_END_PFN
						     : (rg.end + 1) >> DMA_PAGE_SHIFT;
				if (s > cur)
					dma_iova_reserve(&v->iova, cur, s - cur);
				if (e > cur)
					cur = e;
			}
			if (cur < VFIO_END_PFN)
				dma_iova_reserve(&v->iova, cur, VFIO_END_PFN - cur);
			v->nranges = nr;
		}
		off = h.next;
	}
out:
	dma_mem_free(DMA_MEM_DMA, info, info_len);
	return r;
}

static int vfio_open(struct dma *d)
{
	struct dma_vfio *v = DMA_PRIV(struct dma_vfio, d);
	struct stat st;
	if (d->p.vfio_container_fd < 0) {
		if (stat("/dev/vfio/vfio", &st) < 0)
			return dma_err(d, -ENODEV, "not available here because "
				       "no /dev/vfio/vfio: no IOMMU or vfio "
				       "module not loaded");
		return dma_err(d, -ENODEV, "not available here because no "
			       "container was given (vfio_container_fd = %d): "
			       "open /dev/vfio/vfio, add a group, set "
			       "VFIO_TYPE1_IOMMU, pass the fd",
			       d->p.vfio_container_fd);
	}
	v->fd = d->p.vfio_container_fd;
	if (ioctl(v->fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return dma_err(d, -ENODEV, "not available here because fd %d "
			       "is not a VFIO container", v->fd);
	if (ioctl(v->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) <= 0)
		return dma_err(d, -ENODEV, "not available here because "
			       "container fd %d has no type1 IOMMU", v->fd);
	int r = dma_iova_init(d, &v->iova, VFIO_BASE_PFN,
			      VFIO_END_PFN - VFIO_BASE_PFN);
	if (r < 0)
		return r;
	r = vfio_read_ranges(v);
	if (r < 0) {
		dma_iova_fini(d, &v->iova);
		return dma_err(d, -ENODEV, "not available here because "
			       "VFIO_IOMMU_GET_INFO on fd %d failed: %s "
			       "(no group attached or IOMMU type not set?)",
			       v->fd, strerror(-r));
	}
	if (!v->nranges) /* the x86 MSI window */
		dma_iova_reserve(&v->iova, 0xfee00, 0x100);
	return 0;
}

static void vfio_close(struct dma *d)
{
	struct dma_vfio *v = DMA_PRIV(struct dma_vfio, d);
	dma_iova_fini(d, &v->iova);
}

static int vfio_map(struct dma *d, void *cpu, size_t len, enum dma_dir dir,
		    uint64_t *iova)
{
	struct dma_vfio *v = DMA_PRIV(struct dma_vfio, d);
	uint64_t pages = dma_span((uintptr_t)cpu, len, DMA_PAGE_SIZE);
	unsigned order = dma_order(pages);
	int64_t pfn = dma_iova_alloc(&v->iova, order);
	if (pfn < 0)
		return dma_err(d, -ENOMEM, "IOVA space exhausted: no %llu free "
			       "aligned pages for %zu bytes at %p; space %llu "
			       "pages of 4 KiB, %llu allocated", 1ull << order,
			       len, cpu, (unsigned long long)v->iova.npages,
			       (unsigned long long)dma_iova_allocated(&v->iova));
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = (dir & DMA_TO_DEVICE ? VFIO_DMA_MAP_FLAG_READ : 0) |
			 (dir & DMA_FROM_DEVICE ? VFIO_DMA_MAP_FLAG_WRITE : 0),
		.vaddr = (uintptr_t)cpu & ~DMA_PAGE_MASK,
		.iova = (uint64_t)pfn << DMA_PAGE_SHIFT,
		.size = pages << DMA_PAGE_SHIFT,
	};
	if (ioctl(v->fd, VFIO_IOMMU_MAP_DMA, &m) < 0) {
		int e = errno;
		dma_iova_free(&v->iova, (uint64_t)pfn, order);
		return dma_err(d, -e, "VFIO_IOMMU_MAP_DMA of %p len %zu at "
			       "IOVA 0x%llx: %s", cpu, len,
			       (unsigned long long)m.iova, strerror(e));
	}
	*iova = m.iova | ((uintptr_t)cpu & DMA_PAGE_MASK);
	return 0;
}

static int vfio_unmap(struct dma *d, uint64_t iova, size_t len,
		      enum dma_dir dir)
{
	struct dma_vfio *v = DMA_PRIV(struct dma_vfio, d);
	uint64_t pages = dma_span(iova, len, DMA_PAGE_SIZE);
	(void)dir;
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova & ~DMA_PAGE_MASK,
		.size = pages << DMA_PAGE_SHIFT,
	};
	if (ioctl(v->fd, VFIO_IOMMU_UNMAP_DMA, &u) < 0) {
		int e = errno;
		return dma_err(d, -e, "VFIO_IOMMU_UNMAP_DMA of IOVA 0x%llx "
			       "len %zu: %s", (unsigned long long)iova, len,
			       strerror(e));
	}
	if (u.size != pages << DMA_PAGE_SHIFT)
		return dma_err(d, -EINVAL, "VFIO_IOMMU_UNMAP_DMA of IOVA 0x%llx "
			       "len %zu unmapped %llu bytes: not a live mapping",
			       (unsigned long long)iova, len,
			       (unsigned long long)u.size);
	dma_iova_free(&v->iova, iova >> DMA_PAGE_SHIFT, dma_order(pages));
	return 0;
}

static void *vfio_translate(struct dma *d, uint64_t iova, size_t len,
			    enum dma_dir access)
{
	(void)access;
	dma_err(d, -ENOTSUP, "translate of IOVA 0x%llx len %zu: the real "
		"IOMMU translates; there is no software view",
		(unsigned long long)iova, len);
	return NULL;
}

static unsigned vfio_need_unmap(const struct dma *d)
{
	(void)d;
	return DMA_R_VFIO;
}

/* Each mapping holds an IOVA and pinned pages. */
static uint64_t vfio_held(const struct dma *d)
{
	return dma_ctr_read(d, DMA_C_live);
}

const struct dma_ops dma_vfio_ops = {
	.name = "vfio",
	.size = sizeof(struct dma_vfio),
	.cbits = DMA_CBITS_COMMON,
	.open = vfio_open,
	.close = vfio_close,
	.map = vfio_map,
	.unmap = vfio_unmap,
	.translate = vfio_translate,
	.need_unmap = vfio_need_unmap,
	.held = vfio_held,
};
