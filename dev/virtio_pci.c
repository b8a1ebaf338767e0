/* SPDX-License-Identifier: MIT */
/*
 * virtio_pci.c - virtio 1.x modern PCI transport (spec 4.1.4) over vfio_pci.
 *
 * MMIO: registers are device memory reached through mmap'ed BARs; every
 * access is a volatile load or store of exactly the register's width (a
 * device register is not ordinary memory, and the compiler must neither
 * merge, split nor drop the access). Ordering between ring memory and the
 * registers is done with explicit fences where it matters (notify).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "virtio_pci.h"

#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_PTR 0x34
#define PCI_CAP_ID_VNDR 0x09

/* virtio_pci_cap cfg_type */
enum { CAP_COMMON = 1, CAP_NOTIFY = 2, CAP_ISR = 3, CAP_DEVICE = 4, CAP_PCI = 5 };

/* struct virtio_pci_common_cfg offsets */
enum {
	CC_DFSELECT = 0x00, CC_DF = 0x04, CC_GFSELECT = 0x08, CC_GF = 0x0c,
	CC_MSIX = 0x10, CC_NUMQ = 0x12, CC_STATUS = 0x14, CC_CFGGEN = 0x15,
	CC_Q_SELECT = 0x16, CC_Q_SIZE = 0x18, CC_Q_MSIX = 0x1a, CC_Q_ENABLE = 0x1c,
	CC_Q_NOFF = 0x1e, CC_Q_DESC = 0x20, CC_Q_DRIVER = 0x28, CC_Q_DEVICE = 0x30,
	CC_MIN_LEN = 0x38,
};

static inline uint8_t rd8(const volatile uint8_t *b, unsigned o) { return b[o]; }
static inline uint16_t rd16(const volatile uint8_t *b, unsigned o)
{
	return *(const volatile uint16_t *)(const volatile void *)(b + o);
}
static inline uint32_t rd32(const volatile uint8_t *b, unsigned o)
{
	return *(const volatile uint32_t *)(const volatile void *)(b + o);
}
static inline void wr8(volatile uint8_t *b, unsigned o, uint8_t v) { b[o] = v; }
static inline void wr16(volatile uint8_t *b, unsigned o, uint16_t v)
{
	*(volatile uint16_t *)(volatile void *)(b + o) = v;
}
static inline void wr32(volatile uint8_t *b, unsigned o, uint32_t v)
{
	*(volatile uint32_t *)(volatile void *)(b + o) = v;
}
/* 64-bit fields as two 32-bit halves, low first (spec 4.1.3.1 allows it). */
static inline void wr64(volatile uint8_t *b, unsigned o, uint64_t v)
{
	wr32(b, o, (uint32_t)v);
	wr32(b, o + 4, (uint32_t)(v >> 32));
}

static int cap_map(struct virtio_pci *vp, const uint8_t cap[16], volatile uint8_t **out,
		   uint32_t *len, char *err, size_t errlen)
{
	unsigned bar = cap[4];
	uint32_t off, length;
	memcpy(&off, cap + 8, 4);
	memcpy(&length, cap + 12, 4);
	uint8_t *base = vfio_pci_bar(vp->pci, bar, err, errlen);
	if (!base)
		return -ENODEV;
	if ((uint64_t)off + length > vp->pci->bar_len[bar]) {
		snprintf(err, errlen, "vfio device %s: virtio capability type %u at BAR %u offset 0x%x "
			 "len 0x%x lies outside the BAR (%zu bytes)", vp->pci->bdf, cap[3], bar, off,
			 length, vp->pci->bar_len[bar]);
		return -ENODEV;
	}
	*out = base + off;
	*len = length;
	vp->bar_used |= 1u << bar;
	return 0;
}

int virtio_pci_init(struct virtio_pci *vp, struct vfio_pci *pci, char *err, size_t errlen)
{
	memset(vp, 0, sizeof(*vp));
	vp->pci = pci;
	if (pci->vendor != 0x1af4 || pci->devid < 0x1040 || pci->devid > 0x107f) {
		snprintf(err, errlen, "vfio device %s: %04x:%04x is not a modern virtio device "
			 "(vendor 1af4, device 1040..107f; a transitional 1000..103f device needs "
			 "disable-legacy=on in QEMU)", pci->bdf, pci->vendor, pci->devid);
		return -ENODEV;
	}
	uint16_t status;
	uint8_t ptr;
	if (vfio_pci_cfg_read(pci, PCI_STATUS, &status, 2) < 0 || !(status & PCI_STATUS_CAP_LIST) ||
	    vfio_pci_cfg_read(pci, PCI_CAP_PTR, &ptr, 1) < 0) {
		snprintf(err, errlen, "vfio device %s: no PCI capability list", pci->bdf);
		return -ENODEV;
	}
	uint32_t common_len = 0, isr_len = 0;
	for (unsigned hops = 0; ptr >= 0x40 && hops < 48; hops++) {
		uint8_t cap[20] = {0};
		if (vfio_pci_cfg_read(pci, ptr & ~3u, cap, sizeof(cap)) < 0)
			break;
		uint8_t next = cap[1];
		if (cap[0] == PCI_CAP_ID_VNDR && cap[2] >= 16) {
			int rc = 0;
			switch (cap[3]) {
			case CAP_COMMON:
				if (!vp->common)
					rc = cap_map(vp, cap, &vp->common, &common_len, err, errlen);
				break;
			case CAP_NOTIFY:
				if (!vp->notify && cap[2] >= 20) {
					rc = cap_map(vp, cap, &vp->notify, &vp->notify_len, err, errlen);
					memcpy(&vp->notify_mult, cap + 16, 4);
				}
				break;
			case CAP_ISR:
				if (!vp->isr)
					rc = cap_map(vp, cap, &vp->isr, &isr_len, err, errlen);
				break;
			case CAP_DEVICE:
				if (!vp->devcfg)
					rc = cap_map(vp, cap, &vp->devcfg, &vp->devcfg_len, err, errlen);
				break;
			default: /* CAP_PCI and vendor extensions: not needed */
				break;
			}
			if (rc < 0)
				return rc;
		}
		ptr = next;
	}
	const char *missing = !vp->common ? "common" : !vp->notify ? "notify" : !vp->isr ? "ISR" : NULL;
	if (missing) {
		snprintf(err, errlen, "vfio device %s: no virtio %s-config capability: not a modern "
			 "virtio-pci device", pci->bdf, missing);
		return -ENODEV;
	}
	if (common_len < CC_MIN_LEN) {
		snprintf(err, errlen, "vfio device %s: common config is %u bytes, needs %u", pci->bdf,
			 common_len, CC_MIN_LEN);
		return -ENODEV;
	}
	return 0;
}

uint8_t virtio_pci_status(const struct virtio_pci *vp) { return rd8(vp->common, CC_STATUS); }

void virtio_pci_add_status(struct virtio_pci *vp, uint8_t bits)
{
	wr8(vp->common, CC_STATUS, (uint8_t)(rd8(vp->common, CC_STATUS) | bits));
}

int virtio_pci_reset(struct virtio_pci *vp)
{
	wr8(vp->common, CC_STATUS, 0);
	struct timespec d = {0, 100 * 1000};
	for (unsigned i = 0; i < 10000; i++) {
		if (rd8(vp->common, CC_STATUS) == 0)
			return 0;
		nanosleep(&d, NULL);
	}
	return -ETIMEDOUT;
}

uint64_t virtio_pci_device_features(const struct virtio_pci *vp)
{
	volatile uint8_t *c = vp->common;
	wr32(c, CC_DFSELECT, 0);
	uint64_t lo = rd32(c, CC_DF);
	wr32(c, CC_DFSELECT, 1);
	uint64_t hi = rd32(c, CC_DF);
	return lo | hi << 32;
}

int virtio_pci_set_features(struct virtio_pci *vp, uint64_t f)
{
	volatile uint8_t *c = vp->common;
	wr32(c, CC_GFSELECT, 0);
	wr32(c, CC_GF, (uint32_t)f);
	wr32(c, CC_GFSELECT, 1);
	wr32(c, CC_GF, (uint32_t)(f >> 32));
	virtio_pci_add_status(vp, VIRTIO_S_FEATURES_OK);
	return (virtio_pci_status(vp) & VIRTIO_S_FEATURES_OK) ? 0 : -EPROTO;
}

uint16_t virtio_pci_num_queues(const struct virtio_pci *vp) { return rd16(vp->common, CC_NUMQ); }

uint16_t virtio_pci_queue_max(struct virtio_pci *vp, uint16_t q)
{
	wr16(vp->common, CC_Q_SELECT, q);
	return rd16(vp->common, CC_Q_SIZE);
}

int virtio_pci_queue_setup(struct virtio_pci *vp, uint16_t q, uint16_t size, uint64_t desc,
			   uint64_t driver, uint64_t device, volatile uint16_t **notify)
{
	volatile uint8_t *c = vp->common;
	wr16(c, CC_Q_SELECT, q);
	uint16_t max = rd16(c, CC_Q_SIZE);
	if (!max || size > max)
		return -EINVAL;
	wr16(c, CC_Q_SIZE, size);
	wr16(c, CC_Q_MSIX, VIRTIO_NO_VECTOR);
	wr64(c, CC_Q_DESC, desc);
	wr64(c, CC_Q_DRIVER, driver);
	wr64(c, CC_Q_DEVICE, device);
	uint64_t off = (uint64_t)rd16(c, CC_Q_NOFF) * vp->notify_mult;
	if (off + 2 > vp->notify_len)
		return -EINVAL;
	*notify = (volatile uint16_t *)(volatile void *)(vp->notify + off);
	wr16(c, CC_Q_ENABLE, 1);
	return 0;
}

void virtio_pci_devcfg_read(const struct virtio_pci *vp, unsigned off, void *buf, size_t len)
{
	uint8_t *out = buf;
	uint8_t gen;
	do {
		gen = rd8(vp->common, CC_CFGGEN);
		for (size_t i = 0; i < len; i++)
			out[i] = off + i < vp->devcfg_len ? rd8(vp->devcfg, (unsigned)(off + i)) : 0;
	} while (gen != rd8(vp->common, CC_CFGGEN));
}

void virtio_pci_notify(volatile uint16_t *addr, uint16_t q)
{
	/* F1: the ring stores vq_kick_prepare published (its release store of
	 * the avail index / descriptor flags) must reach memory before the
	 * device sees the notification and reads them; a C11 fence orders
	 * memory against the MMIO store below (on x86 an mfence). Pairs with
	 * the device's read of the ring after it takes the notification. */
	atomic_thread_fence(memory_order_seq_cst);
	*addr = q;
}

const char *virtio_net_feature_name(unsigned b)
{
	static const char *const n[64] = {
		[0] = "CSUM", [1] = "GUEST_CSUM", [5] = "MAC", [15] = "MRG_RXBUF",
		[16] = "STATUS", [17] = "CTRL_VQ", [28] = "INDIRECT_DESC", [29] = "EVENT_IDX",
		[32] = "VERSION_1", [33] = "ACCESS_PLATFORM", [34] = "RING_PACKED",
		[35] = "IN_ORDER", [36] = "ORDER_PLATFORM", [37] = "SR_IOV",
		[38] = "NOTIFICATION_DATA", [40] = "RING_RESET",
	};
	return b < 64 ? n[b] : NULL;
}
