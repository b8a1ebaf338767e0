/* SPDX-License-Identifier: MIT */
/*
 * dev_vfio.c - the "vfio:BDF" device kind: a virtio-net PCI device driven
 * from userspace (see dev_vfio.h for the sequence, features and packets).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_payload.h"
#include "dev_pvt.h"
#include "dev_vfio.h"
#include "virtio_pci.h"

/* virtio-net feature bits used here */
#define NET_F_MAC 5
#define NET_F_MRG_RXBUF 15

/* virtio-net queue index of each dev_queue */
static const uint16_t vq_index[DEV_NQ] = {[DEV_Q_TX] = 1, [DEV_Q_RX] = 0};

#define ARP_FRAME 42u     /* Ethernet 14 + ARP 28 */
#define ARP_REPLY_LEN 64u /* QEMU's user network pads its replies to 64 bytes */
#define ETHERTYPE_LOCAL 0x88b5

struct dev_vfio {
	struct vfio_pci pci;
	struct virtio_pci vp;
	bool set_up;
	uint64_t offered, accepted;
	uint8_t mac[6];
	struct dma *dma;
	void *ring[DEV_NQ];
	size_t ring_len[DEV_NQ];
	uint64_t ring_iova[DEV_NQ];
	bool ring_mapped[DEV_NQ];
	volatile uint16_t *notify[DEV_NQ];
	uint64_t kicks, polls;
	/* packet format */
	struct dev_format fmt;
	uint8_t tx_frame[DEV_NET_HDR_BYTES + ARP_FRAME]; /* header + ARP request */
	uint8_t rx_expect[DEV_NET_HDR_BYTES + ARP_REPLY_LEN];
	bool num_buffers_any; /* no MRG_RXBUF: QEMU leaves num_buffers 0 */
	char describe[400];
	char error[300];
};

static int verr(char *err, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int verr(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc;
}

int dev_vfio_attach(const char *bdf, struct dev_vfio **out)
{
	char err[300];
	struct dev_vfio *v = calloc(1, sizeof(*v));
	if (!v)
		return dev_set_last_error(-ENOMEM, "vfio device %s: out of memory", bdf);
	int rc = vfio_pci_open(&v->pci, bdf, getenv("VQB_SYSFS"), err, sizeof(err));
	if (rc == 0)
		rc = virtio_pci_init(&v->vp, &v->pci, err, sizeof(err));
	if (rc == 0 && (rc = vfio_pci_enable(&v->pci, true)) < 0)
		snprintf(err, sizeof(err), "vfio device %s: cannot enable bus mastering: %s", v->pci.bdf,
			 strerror(-rc));
	/* no FLR on virtio-pci: reset through the status register */
	if (rc == 0 && virtio_pci_reset(&v->vp) < 0)
		rc = verr(err, sizeof(err), -ETIMEDOUT, "vfio device %s: the device did not "
			  "finish its reset within 1 s (status stays %#x)", v->pci.bdf,
			  virtio_pci_status(&v->vp));
	if (rc < 0) {
		vfio_pci_close(&v->pci);
		free(v);
		return dev_set_last_error(rc, "%s", err);
	}
	*out = v;
	return 0;
}

void dev_vfio_detach(struct dev_vfio *v)
{
	if (!v)
		return;
	if (v->set_up)
		dev_vfio_teardown(v);
	vfio_pci_enable(&v->pci, false);
	vfio_pci_close(&v->pci);
	free(v);
}

int dev_vfio_container_fd(const struct dev_vfio *v) { return v->pci.container; }
bool dev_vfio_noiommu(const struct dev_vfio *v) { return v->pci.noiommu; }
const char *dev_vfio_describe(const struct dev_vfio *v) { return v->describe; }
uint64_t dev_vfio_offered(const struct dev_vfio *v) { return v->offered; }
uint64_t dev_vfio_accepted(const struct dev_vfio *v) { return v->accepted; }

/* ---- packets ---- */

static void put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet + ARP: op, sender MAC/IP, target MAC/IP. */
static void arp_frame(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t op,
		      const uint8_t sha[6], const uint8_t spa[4], const uint8_t tha[6],
		      const uint8_t tpa[4])
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16be(f + 12, 0x0806);
	put16be(f + 14, 1);      /* Ethernet */
	put16be(f + 16, 0x0800); /* IPv4 */
	f[18] = 6;
	f[19] = 4;
	put16be(f + 20, op);
	memcpy(f + 22, sha, 6);
	memcpy(f + 28, spa, 4);
	memcpy(f + 32, tha, 6);
	memcpy(f + 38, tpa, 4);
}

static struct dev_vfio *fmt_owner(const struct dev_format *f)
{
	return (struct dev_vfio *)((char *)(uintptr_t)f - offsetof(struct dev_vfio, fmt));
}

/* tx-only: the numbered stream, ethertype forced to 0x88B5 (frame bytes
 * 12-13, stream offsets 24-25) so no network stack acts on the frames. */
static void sink_fill(const struct dev_format *f, uint8_t *dst, size_t len, uint64_t seq, size_t off)
{
	(void)f;
	dev_stream_fill(dst, len, seq, off);
	static const uint8_t et[2] = {ETHERTYPE_LOCAL >> 8, ETHERTYPE_LOCAL & 0xff};
	for (size_t k = 0; k < 2; k++) {
		size_t at = DEV_NET_HDR_BYTES + 12 + k;
		if (at >= off && at < off + len)
			dst[at - off] = et[k];
	}
}

/* tx+rx: header + ARP request, then the numbered stream as padding. */
static void arp_fill(const struct dev_format *f, uint8_t *dst, size_t len, uint64_t seq, size_t off)
{
	const struct dev_vfio *v = fmt_owner(f);
	dev_stream_fill(dst, len, seq, off);
	for (size_t at = off; at < off + len && at < sizeof(v->tx_frame); at++)
		dst[at - off] = v->tx_frame[at];
}

static size_t arp_check(const struct dev_format *f, const uint8_t *src, size_t len, size_t off)
{
	const struct dev_vfio *v = fmt_owner(f);
	size_t bad = 0;
	for (size_t k = 0; k < len; k++) {
		size_t at = off + k;
		uint8_t want = at < sizeof(v->rx_expect) ? v->rx_expect[at] : 0;
		/* num_buffers (header bytes 10-11): 1 with MRG_RXBUF; without it
		 * QEMU leaves 0 where the spec says 1, so take either */
		if (at == 10 && v->num_buffers_any && (src[k] == 0 || src[k] == 1))
			continue;
		bad += src[k] != want;
	}
	return bad;
}

static void build_format(struct dev_vfio *v, bool rx, bool packed)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, zero6[6] = {0};
	static const uint8_t guest_ip[4] = {10, 0, 2, 15}, gw_ip[4] = {10, 0, 2, 2};
	/* QEMU's user network answers from 52:55 followed by the asked IP */
	static const uint8_t gw_mac[6] = {0x52, 0x55, 10, 0, 2, 2};

	memset(v->tx_frame, 0, sizeof(v->tx_frame));
	arp_frame(v->tx_frame + DEV_NET_HDR_BYTES, bcast, v->mac, 1, v->mac, guest_ip, zero6, gw_ip);
	memset(v->rx_expect, 0, sizeof(v->rx_expect));
	arp_frame(v->rx_expect + DEV_NET_HDR_BYTES, v->mac, gw_mac, 2, gw_mac, gw_ip, v->mac, guest_ip);
	v->num_buffers_any = !(v->accepted & VQ_FEATURE(NET_F_MRG_RXBUF));
	if (!v->num_buffers_any)
		v->rx_expect[10] = 1;
	v->fmt = (struct dev_format){
		.name = rx ? "arp" : "sink",
		.rx_answers_tx = rx,
		.rx_len = DEV_NET_HDR_BYTES + ARP_REPLY_LEN,
		.used_len_missing = packed,
		.tx_fill = rx ? arp_fill : sink_fill,
		.rx_check = arp_check,
	};
}

/* ---- setup ---- */

static void describe(struct dev_vfio *v)
{
	size_t n = (size_t)snprintf(v->describe, sizeof(v->describe),
				    "vfio device %s (%04x:%04x, %s), MAC %02x:%02x:%02x:%02x:%02x:%02x, "
				    "features offered %#llx, accepted %#llx:", v->pci.bdf, v->pci.vendor,
				    v->pci.devid, v->pci.noiommu ? "no-IOMMU" : "type1 IOMMU",
				    v->mac[0], v->mac[1], v->mac[2], v->mac[3], v->mac[4], v->mac[5],
				    (unsigned long long)v->offered, (unsigned long long)v->accepted);
	for (unsigned b = 0; b < 64 && n < sizeof(v->describe); b++) {
		if (!(v->accepted >> b & 1))
			continue;
		const char *nm = virtio_net_feature_name(b);
		if (nm)
			n += (size_t)snprintf(v->describe + n, sizeof(v->describe) - n, " %s", nm);
		else
			n += (size_t)snprintf(v->describe + n, sizeof(v->describe) - n, " bit%u", b);
	}
}

/* The ring features a configuration asks for, each with its option. */
static const struct {
	unsigned bit;
	const char *option;
} ring_features[] = {
	{VQ_F_RING_PACKED, "--layout packed"},
	{VQ_F_IN_ORDER, "--in-order on"},
	{VQ_F_EVENT_IDX, "--event-idx on"},
	{VQ_F_INDIRECT_DESC, "--indirect on"},
};

static int negotiate(struct dev_vfio *v, const struct vq_config *cfg, char *err, size_t errlen)
{
	v->offered = virtio_pci_device_features(&v->vp);
	uint64_t want = VQ_FEATURE(VQ_F_VERSION_1);
	if (!(v->offered & want))
		return verr(err, errlen, -ENOTSUP, "vfio device %s: does not offer VERSION_1 (features "
			    "%#llx): a legacy-only device is not supported", v->pci.bdf,
			    (unsigned long long)v->offered);
	if (v->offered & VQ_FEATURE(VQ_F_ACCESS_PLATFORM))
		want |= VQ_FEATURE(VQ_F_ACCESS_PLATFORM);
	else if (!v->pci.noiommu)
		return verr(err, errlen, -ENOTSUP, "vfio device %s: does not offer ACCESS_PLATFORM, so "
			    "it would bypass the IOMMU and DMA to IOVAs as if they were physical "
			    "addresses (QEMU: add iommu_platform=on to -device virtio-net-pci)",
			    v->pci.bdf);
	for (unsigned b = 0; b < sizeof(ring_features) / sizeof(ring_features[0]); b++) {
		uint64_t f = VQ_FEATURE(ring_features[b].bit);
		if (!(cfg->features & f))
			continue;
		if (!(v->offered & f))
			return verr(err, errlen, -ENOTSUP, "%s: vfio device %s does not offer %s "
				    "(features %#llx)", ring_features[b].option, v->pci.bdf,
				    virtio_net_feature_name(ring_features[b].bit),
				    (unsigned long long)v->offered);
		want |= f;
	}
	want |= v->offered & (VQ_FEATURE(NET_F_MAC) | VQ_FEATURE(NET_F_MRG_RXBUF));
	virtio_pci_add_status(&v->vp, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	if (virtio_pci_set_features(&v->vp, want) < 0)
		return verr(err, errlen, -EPROTO, "vfio device %s: refused the features %#llx "
			    "(FEATURES_OK cleared)", v->pci.bdf, (unsigned long long)want);
	v->accepted = want;
	static const uint8_t qemu_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	if (want & VQ_FEATURE(NET_F_MAC))
		virtio_pci_devcfg_read(&v->vp, 0, v->mac, 6);
	else
		memcpy(v->mac, qemu_mac, 6);
	return 0;
}

static int queue_setup(struct dev_vfio *v, const struct dev_params *p, enum dev_queue q, char *err,
		       size_t errlen)
{
	struct vq_areas a;
	int rc = vq_ring_layout(&p->cfg, &a);
	if (rc < 0)
		return verr(err, errlen, rc, "vfio device %s: bad ring configuration", v->pci.bdf);
	uint16_t idx = vq_index[q], max = virtio_pci_queue_max(&v->vp, idx);
	if (max == 0)
		return verr(err, errlen, -ENODEV, "vfio device %s: has no queue %u (%s)", v->pci.bdf,
			    idx, q == DEV_Q_TX ? "tx0" : "rx0");
	if (p->cfg.size > max)
		return verr(err, errlen, -EINVAL, "--queue-size %u: vfio device %s holds at most %u "
			    "descriptors in queue %u", p->cfg.size, v->pci.bdf, max, idx);
	/* the ring itself is DMA memory: mapped once, for both directions */
	struct dma_counters c0, c1;
	dma_get_counters(p->dma, &c0);
	rc = dma_map(p->dma, p->ring[q], a.total, DMA_BIDIRECTIONAL, &v->ring_iova[q]);
	if (rc < 0)
		return verr(err, errlen, rc, "vfio device %s: cannot map the %s ring (%zu bytes): %s",
			    v->pci.bdf, q == DEV_Q_TX ? "tx" : "rx", a.total, dma_last_error());
	v->ring_mapped[q] = true;
	v->ring[q] = p->ring[q];
	v->ring_len[q] = a.total;
	dma_get_counters(p->dma, &c1);
	if (c1.bounced != c0.bounced)
		return verr(err, errlen, -EINVAL, "vfio device %s: --dma %s bounced the ring mapping "
			    "(not contiguous for the device); use hugepage memory (scripts/hugepages.sh)",
			    v->pci.bdf, dma_name(p->dma));
	uint64_t base = v->ring_iova[q];
	if (virtio_pci_queue_setup(&v->vp, idx, (uint16_t)p->cfg.size, base + a.desc_off,
				   base + a.driver_off, base + a.device_off, &v->notify[q]) < 0)
		return verr(err, errlen, -EINVAL, "vfio device %s: queue %u setup refused (notify "
			    "offset outside the notify capability)", v->pci.bdf, idx);
	return 0;
}

int dev_vfio_setup(struct dev_vfio *v, const struct dev_params *p, char *err, size_t errlen)
{
	int rc = 0;
	if (!p->dma)
		return verr(err, errlen, -EINVAL, "vfio device %s: needs a dma backend", v->pci.bdf);
	if (virtio_pci_reset(&v->vp) < 0)
		return verr(err, errlen, -ETIMEDOUT, "vfio device %s: reset did not complete",
			    v->pci.bdf);
	v->set_up = true;
	v->dma = p->dma;
	rc = negotiate(v, &p->cfg, err, errlen);
	for (int q = 0; q < DEV_NQ && rc == 0; q++)
		if (p->ring[q])
			rc = queue_setup(v, p, (enum dev_queue)q, err, errlen);
	if (rc == 0) {
		virtio_pci_add_status(&v->vp, VIRTIO_S_DRIVER_OK);
		rc = dev_vfio_check(v, err, errlen);
	}
	if (rc < 0) {
		virtio_pci_add_status(&v->vp, VIRTIO_S_FAILED);
		dev_vfio_teardown(v);
		return rc;
	}
	build_format(v, p->ring[DEV_Q_RX] != NULL, p->cfg.layout == VQ_LAYOUT_PACKED);
	describe(v);
	return 0;
}

void dev_vfio_kick(struct dev_vfio *v, enum dev_queue q)
{
	v->kicks++;
	if (v->notify[q])
		virtio_pci_notify(v->notify[q], vq_index[q]);
}

int dev_vfio_check(struct dev_vfio *v, char *err, size_t errlen)
{
	uint8_t s = virtio_pci_status(&v->vp);
	if (s & VIRTIO_S_NEEDS_RESET)
		return verr(err, errlen, -EIO, "vfio device %s: the device set DEVICE_NEEDS_RESET "
			    "(status %#x): it found the rings or a buffer invalid", v->pci.bdf, s);
	if (s & VIRTIO_S_FAILED || !(s & VIRTIO_S_DRIVER_OK))
		return verr(err, errlen, -EIO, "vfio device %s: status %#x: not running (was it "
			    "reset under us?)", v->pci.bdf, s);
	return 0;
}

void dev_vfio_reset(struct dev_vfio *v)
{
	if (v->set_up)
		virtio_pci_reset(&v->vp);
}

void dev_vfio_teardown(struct dev_vfio *v)
{
	/* reset first: afterwards the device touches neither ring nor buffers */
	virtio_pci_reset(&v->vp);
	for (int q = 0; q < DEV_NQ; q++) {
		if (v->ring_mapped[q])
			dma_unmap(v->dma, v->ring_iova[q], v->ring_len[q], DMA_BIDIRECTIONAL);
		v->ring_mapped[q] = false;
		v->notify[q] = NULL;
	}
	v->set_up = false;
}

const struct dev_format *dev_vfio_format(const struct dev_vfio *v) { return &v->fmt; }

/* ---- the dev.h kind ---- */

struct vfio_impl {
	struct dev_vfio *v;
	struct dev_counters c;
	unsigned since_check;
};

static int ext_open(const struct dev_params *p, const char *arg, void **impl)
{
	char bdf[16], err[300];
	if (!p->vfio)
		return dev_set_last_error(-EINVAL, "device 'vfio:%s': not attached (call "
					  "dev_vfio_attach first)", arg);
	if (vfio_pci_parse_bdf(arg, bdf, sizeof(bdf)) < 0 || strcmp(bdf, p->vfio->pci.bdf))
		return dev_set_last_error(-EINVAL, "device 'vfio:%s': attached device is %s", arg,
					  p->vfio->pci.bdf);
	struct vfio_impl *im = calloc(1, sizeof(*im));
	if (!im)
		return dev_set_last_error(-ENOMEM, "vfio device %s: out of memory", bdf);
	im->v = p->vfio;
	int rc = dev_vfio_setup(im->v, p, err, sizeof(err));
	if (rc < 0) {
		free(im);
		return dev_set_last_error(rc, "%s", err);
	}
	*impl = im;
	return 0;
}

static int ext_start(void *impl) { (void)impl; return 0; }
static void ext_stop(void *impl) { (void)impl; }

static int ext_poll(void *impl)
{
	struct vfio_impl *im = impl;
	im->c.polls++;
	/* a status read is an MMIO round trip: once per 256 polls */
	if (++im->since_check < 256)
		return 0;
	im->since_check = 0;
	return dev_vfio_check(im->v, im->v->error, sizeof(im->v->error)) < 0 ? -EIO : 0;
}

static void ext_kick(void *impl, enum dev_queue q)
{
	struct vfio_impl *im = impl;
	im->c.kicks++;
	dev_vfio_kick(im->v, q);
}

static void ext_close(void *impl)
{
	struct vfio_impl *im = impl;
	dev_vfio_teardown(im->v);
	free(im);
}

static void ext_counters(const void *impl, struct dev_counters *c)
{
	*c = ((const struct vfio_impl *)impl)->c;
}

static const char *ext_error(const void *impl)
{
	const struct vfio_impl *im = impl;
	return im->v->error[0] ? im->v->error : NULL;
}

static uint16_t ext_num_buffers(const void *impl)
{
	const struct vfio_impl *im = impl;
	return im->v->num_buffers_any ? 0 : 1;
}

static void ext_reset(void *impl) { dev_vfio_reset(((struct vfio_impl *)impl)->v); }

static const struct dev_format *ext_format(const void *impl)
{
	return dev_vfio_format(((const struct vfio_impl *)impl)->v);
}

const struct dev_ext_ops dev_vfio_ops = {
	.prefix = "vfio:",
	.open = ext_open,
	.start = ext_start,
	.stop = ext_stop,
	.poll = ext_poll,
	.kick = ext_kick,
	.close = ext_close,
	.counters = ext_counters,
	.error = ext_error,
	.rx_num_buffers = ext_num_buffers,
	.reset = ext_reset,
	.format = ext_format,
};
