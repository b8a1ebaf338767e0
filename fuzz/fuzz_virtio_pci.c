/* SPDX-License-Identifier: MIT */
/*
 * fuzz_virtio_pci - the virtio PCI capability walk (virtio_pci_init) fed an
 * arbitrary config space and BAR sizes, then the transport's register
 * accesses (queue setup, notify address, device config reads) over BAR
 * contents from the input.
 *
 * The config space is a memfd standing in for the VFIO config region
 * (vfio_pci_cfg_read preads it); the BARs are exact-size heap buffers
 * already "mapped" in struct vfio_pci, so ASan sees any access a
 * capability (offset, length, BAR number) could send outside them.
 * Checked: init succeeds only with common, notify and ISR found, each
 * inside its BAR; a refusal carries a message naming the device; every
 * later access stays inside the BARs.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "virtio_pci.h"

#define CFG_BYTES 4096u
#define BAR_MAX 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static uint8_t cfgspace[CFG_BYTES];
	struct fz f = { data, size };
	if (fd < 0) {
		fd = memfd_create("fuzz-pci-config", 0);
		FUZZ_CHECK(fd >= 0, "memfd_create");
	}
	struct vfio_pci pci;
	memset(&pci, 0, sizeof(pci));
	snprintf(pci.bdf, sizeof(pci.bdf), "0000:00:04.0");
	pci.container = pci.group = -1;
	pci.device = fd;
	pci.vendor = 0x1af4;
	pci.devid = (uint16_t)(0x1040 + fz_u8(&f) % 0x48); /* mostly modern, a few out of range */
	uint16_t cfglen = fz_u16(&f) % (CFG_BYTES + 1);
	for (unsigned i = 0; i < VFIO_PCI_NBARS; i++) {
		pci.bar_len[i] = fz_u16(&f) % (BAR_MAX + 1);
		if (pci.bar_len[i]) {
			pci.bar[i] = malloc(pci.bar_len[i]);
			FUZZ_CHECK(pci.bar[i], "out of memory");
		}
	}
	fz_bytes(&f, cfgspace, cfglen);
	/* the capability list bit and pointer, most of the time */
	if (cfglen > 0x34 && (cfgspace[0] & 1)) {
		cfgspace[6] |= 0x10;
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, cfgspace, cfglen, 0) == (ssize_t)cfglen, "config write");
	for (unsigned i = 0; i < VFIO_PCI_NBARS; i++)
		if (pci.bar[i])
			fz_bytes(&f, pci.bar[i], pci.bar_len[i]);
	/* a BAR a capability names but that is absent must not be mmap'ed
	 * through the memfd: vfio_pci_bar's region-info ioctl fails on it */
	struct virtio_pci vp;
	char err[512] = "";
	int rc = virtio_pci_init(&vp, &pci, err, sizeof(err));
	if (rc < 0) {
		FUZZ_CHECK(rc == -ENODEV || rc == -EINVAL || rc == -ENOTTY || rc == -ENOTSUP,
			   "virtio_pci_init returned %d: %s", rc, err);
		FUZZ_CHECK(err[0], "refusal without a message");
	} else {
		FUZZ_CHECK(vp.common && vp.notify && vp.isr, "init accepted a device without common/notify/ISR");
		(void)virtio_pci_status(&vp);
		(void)virtio_pci_device_features(&vp);
		uint16_t nq = virtio_pci_num_queues(&vp);
		for (uint16_t q = 0; q < 3 && q <= nq; q++) {
			volatile uint16_t *notify = NULL;
			uint16_t max = virtio_pci_queue_max(&vp, q);
			if (virtio_pci_queue_setup(&vp, q, max, 0x1000, 0x2000, 0x3000, &notify) == 0)
				virtio_pci_notify(notify, q);
		}
		uint8_t mac[64];
		virtio_pci_devcfg_read(&vp, fz_u8(&f), mac, sizeof(mac));
		(void)virtio_pci_set_features(&vp, fz_u64(&f));
	}
	for (unsigned i = 0; i < VFIO_PCI_NBARS; i++)
		free(pci.bar[i]);
	return 0;
}
