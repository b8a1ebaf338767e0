/* SPDX-License-Identifier: MIT */
/*
 * virtio_pci.h - @internal to dev/: the virtio 1.x modern PCI transport over
 * a VFIO-owned device: vendor capability walk (common, notify, ISR, device
 * config), status, feature negotiation, queue setup and notification.
 * Register access is through the mmap'ed BARs (volatile MMIO loads and
 * stores of the register's width); no legacy (I/O port) interface.
 */
#ifndef VIRTIO_PCI_H
#define VIRTIO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio_pci.h"

/* Device status bits (virtio 1.x, 2.1). */
#define VIRTIO_S_ACKNOWLEDGE 1u
#define VIRTIO_S_DRIVER 2u
#define VIRTIO_S_DRIVER_OK 4u
#define VIRTIO_S_FEATURES_OK 8u
#define VIRTIO_S_NEEDS_RESET 64u
#define VIRTIO_S_FAILED 128u

#define VIRTIO_NO_VECTOR 0xffffu

struct virtio_pci {
	struct vfio_pci *pci;
	volatile uint8_t *common; /* struct virtio_pci_common_cfg */
	volatile uint8_t *isr;
	volatile uint8_t *devcfg;
	volatile uint8_t *notify; /* notify capability base */
	uint32_t notify_mult;     /* notify_off_multiplier */
	uint32_t devcfg_len, notify_len;
	unsigned bar_used;        /* bitmask of BARs the capabilities use */
};

/** Walk the vendor capabilities of a virtio device (vendor 0x1af4, device
 * 0x1040..0x107f: modern), map the BARs they name.
 * @return 0, -ENODEV (not a modern virtio device, a capability missing). */
int virtio_pci_init(struct virtio_pci *vp, struct vfio_pci *pci, char *err, size_t errlen);

uint8_t virtio_pci_status(const struct virtio_pci *vp);
void virtio_pci_add_status(struct virtio_pci *vp, uint8_t bits);
/** Write 0 to device_status and wait (up to 1 s) until it reads back 0.
 * @return 0 or -ETIMEDOUT. */
int virtio_pci_reset(struct virtio_pci *vp);

uint64_t virtio_pci_device_features(const struct virtio_pci *vp);
/** Write the driver features, set FEATURES_OK and read it back.
 * @return 0 or -EPROTO (the device cleared FEATURES_OK: it refuses the set). */
int virtio_pci_set_features(struct virtio_pci *vp, uint64_t features);

uint16_t virtio_pci_num_queues(const struct virtio_pci *vp);
/** Largest size of queue q (0: the queue does not exist). */
uint16_t virtio_pci_queue_max(struct virtio_pci *vp, uint16_t q);
/** Program queue q (size, ring IOVAs, no MSI-X vector), enable it and
 * return its notification address in *notify. @return 0 or -EINVAL. */
int virtio_pci_queue_setup(struct virtio_pci *vp, uint16_t q, uint16_t size, uint64_t desc,
			   uint64_t driver, uint64_t device, volatile uint16_t **notify);

/** Read the device-specific config (retries across config_generation). */
void virtio_pci_devcfg_read(const struct virtio_pci *vp, unsigned off, void *buf, size_t len);

/** Notify queue q: one 16-bit MMIO store of the queue index (no
 * NOTIFICATION_DATA). Orders earlier ring stores before it. */
void virtio_pci_notify(volatile uint16_t *addr, uint16_t q);

/** Name of feature bit b for reports ("VERSION_1"), or NULL when unknown. */
const char *virtio_net_feature_name(unsigned b);

#endif
