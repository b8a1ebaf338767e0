/* SPDX-License-Identifier: MIT */
/*
 * dev_vfio.h - a real virtio-net PCI device driven from userspace through
 * vfio-pci (the "vfio" device kind of dev.h).
 *
 * Two steps, because the DMA backend needs the device's VFIO container
 * before any ring exists:
 *
 *   dev_vfio_attach("0000:00:03.0")  checks sysfs, opens group, container
 *                                    (type1 IOMMU, or no-IOMMU) and device,
 *                                    maps the BARs, resets the device;
 *   dma_open("vfio", {.vfio_container_fd = dev_vfio_container_fd(v)})
 *                                    (no-IOMMU: dma_open("pa"));
 *   dev_open({.kind = "vfio", .vfio = v, .ring = ..., .dma = d})
 *                                    negotiates features, maps each ring once
 *                                    through d, programs the queues, DRIVER_OK;
 *   ... dev_kick / dev_poll ...
 *   dev_reset, dev_close             the device is left reset, the ring
 *                                    mappings removed;
 *   dma_close; dev_vfio_detach(v)    closes device, group, container.
 *
 * Queues: virtio-net rx0 (DEV_Q_RX) and tx0 (DEV_Q_TX); polling only (no
 * MSI-X vector is assigned, INTx is disabled). Features: VERSION_1 is
 * required; ACCESS_PLATFORM is required where an IOMMU translates (without
 * it the device bypasses the IOMMU); MAC and MRG_RXBUF are accepted when
 * offered; RING_PACKED, IN_ORDER, EVENT_IDX and INDIRECT_DESC exactly as the
 * ring configuration asks (refused, naming the option, when not offered).
 *
 * Packets (dev_format()): with only a TX queue, frames are the numbered
 * stream of dev_payload.h with ethertype 0x88B5 (IEEE local experimental),
 * consumed by the device: a sink. With an RX queue too, each TX frame is an
 * ARP request for 10.0.2.2 from the device's MAC and 10.0.2.15 (QEMU's user
 * network answers it), and every RX packet must be the byte-exact reply
 * naming that MAC and IP. Errors name the device and the fix.
 */
#ifndef DEV_VFIO_H
#define DEV_VFIO_H

#include <stdbool.h>
#include <stdint.h>

#include "dev.h"

struct dev_vfio;

/** Attach the PCI device at bdf ("DDDD:BB:DD.F"). @return 0, -EINVAL (bad
 * address), -ENOENT, -ENODEV, -EBUSY, -EACCES; dev_last_error() names the
 * device, what is missing and the fix. */
int dev_vfio_attach(const char *bdf, struct dev_vfio **out);
/** Close device, group and container. The device must be closed first. */
void dev_vfio_detach(struct dev_vfio *v);
/** The container the "vfio" DMA backend maps through. */
int dev_vfio_container_fd(const struct dev_vfio *v);
/** True for a no-IOMMU group: DMA addresses are physical ("pa" backend). */
bool dev_vfio_noiommu(const struct dev_vfio *v);
/** One line: device, MAC, features offered and accepted (after dev_open). */
const char *dev_vfio_describe(const struct dev_vfio *v);
/** Features the device offered / the driver accepted (after dev_open). */
uint64_t dev_vfio_offered(const struct dev_vfio *v);
uint64_t dev_vfio_accepted(const struct dev_vfio *v);

/* The "vfio" kind's hooks, called through dev.h by dev_sw.c's table. */
int dev_vfio_setup(struct dev_vfio *v, const struct dev_params *p, char *err, size_t errlen);
void dev_vfio_kick(struct dev_vfio *v, enum dev_queue q);
/** @return 0, or -EIO when the device asks for a reset or failed (reason in err). */
int dev_vfio_check(struct dev_vfio *v, char *err, size_t errlen);
void dev_vfio_reset(struct dev_vfio *v);
void dev_vfio_teardown(struct dev_vfio *v);
const struct dev_format *dev_vfio_format(const struct dev_vfio *v);

#endif
