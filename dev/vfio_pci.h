/* SPDX-License-Identifier: MIT */
/*
 * vfio_pci.h - @internal to dev/: a PCI device owned through VFIO (group +
 * container, type1 IOMMU or no-IOMMU), its config space and mmap'ed BARs.
 *
 * Every failure names the device (its PCI address) and the fix: vfio-pci not
 * loaded, the device bound to another driver, the group not viable, no
 * permission on /dev/vfio/N, no IOMMU. Errors are negative errno; the text is
 * in the err buffer the caller passes.
 */
#ifndef VFIO_PCI_H
#define VFIO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VFIO_PCI_NBARS 6

struct vfio_pci {
	char bdf[16];       /* 0000:00:03.0 */
	int container;      /* /dev/vfio/vfio, IOMMU type set */
	int group;          /* /dev/vfio/N (or noiommu-N) */
	int device;         /* VFIO_GROUP_GET_DEVICE_FD */
	int group_id;
	bool noiommu;       /* the group is a no-IOMMU group: DMA uses physical addresses */
	uint64_t cfg_off;   /* offset of the config region in the device fd */
	void *bar[VFIO_PCI_NBARS];
	size_t bar_len[VFIO_PCI_NBARS];
	uint16_t vendor, devid;
};

/** Check that bdf names a PCI device bound to vfio-pci, open its group,
 * a container (type1v2/type1, or no-IOMMU for a noiommu group) and the device
 * fd. sysfs is read under `sysfs` (normally "/sys"; tests point it at a
 * fake tree). @return 0, -ENOENT (no such device), -ENODEV (not bound to
 * vfio-pci, vfio not loaded, no IOMMU), -EBUSY (group not viable or in use),
 * -EACCES (no permission); the message names the device and the fix. */
int vfio_pci_open(struct vfio_pci *v, const char *bdf, const char *sysfs,
		  char *err, size_t errlen);
void vfio_pci_close(struct vfio_pci *v);

/** Config space access through the VFIO config region. @return 0 or -errno. */
int vfio_pci_cfg_read(const struct vfio_pci *v, unsigned off, void *buf, size_t len);
int vfio_pci_cfg_write(const struct vfio_pci *v, unsigned off, const void *buf, size_t len);

/** mmap BAR i (once; later calls return the same mapping).
 * @return the mapping or NULL (message in err). */
void *vfio_pci_bar(struct vfio_pci *v, unsigned i, char *err, size_t errlen);

/** Set (on) or clear bus mastering and memory decoding, and disable INTx
 * (this driver polls). */
int vfio_pci_enable(struct vfio_pci *v, bool on);

/** Parse "DDDD:BB:DD.F" (or "BB:DD.F", domain 0) into canonical form.
 * @return 0 or -EINVAL. */
int vfio_pci_parse_bdf(const char *s, char *out, size_t outlen);

#endif
