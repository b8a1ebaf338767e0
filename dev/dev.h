/* SPDX-License-Identifier: MIT */
/*
 * dev.h - the device side a driver's queues talk to, behind one ops table
 * (start, stop, kick, poll, close). One file per device kind:
 *
 *   inline   the device steps run in the caller's thread when it calls
 *            dev_poll(): deterministic, measurable under valgrind.
 *   thread   a device thread pinned to its own CPU polls the rings.
 *   vfio     a real virtio-net PCI device through vfio-pci (dev_vfio.h):
 *            the hardware consumes and produces; dev_poll checks its status.
 *   vhost-user:PATH  the rings go to a vhost-user backend listening on the
 *            UNIX socket PATH (dev_vhost_user.h): rings and buffers must be
 *            in dev_params.shm and addressed by identity IOVAs.
 *
 * The software device consumes TX chains (reading and verifying every
 * payload byte through the dma backend's translate) and fills RX chains
 * with numbered packets the driver verifies. Packets are a 12-byte
 * virtio_net_hdr_v1 followed by a payload in the format of dev_payload.h.
 */
#ifndef DEV_H
#define DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dma.h"
#include "dev_shm.h"
#include "vq.h"

enum dev_queue { DEV_Q_TX = 0, DEV_Q_RX = 1, DEV_NQ = 2 };

/* How the thread device starts its thread: vqbench launches it on a DPDK
 * lcore; NULL means a pthread pinned to `cpu`. */
struct dev_launcher {
	const char *name;
	/* run fn(arg) on cpu; @return a handle >= 0, or -errno (then a pthread) */
	int (*launch)(void *(*fn)(void *), void *arg, int cpu, void *ctx);
	void (*join)(int handle, void *ctx);
	void *ctx;
};

struct dev_params {
	const char *kind;          /* "inline" or "thread" */
	struct vq_config cfg;      /* same for both queues */
	void *ring[DEV_NQ];        /* ring memory; NULL = queue not used */
	struct dma *dma;           /* translates the driver's IOVAs */
	int cpu;                   /* thread: CPU to pin to; -1 = any */
	bool batch_used;           /* in-order: one used entry per publish */
	uint32_t rx_payload_bytes; /* payload bytes per RX packet (after the header) */
	uint32_t budget;           /* chains per queue per poll (0 = 64) */
	const struct dev_launcher *launcher; /* thread: NULL = pthread */
	bool late_writes;          /* inline device: remember each completed RX
				    * chain's first writable buffer for
				    * dev_late_writes(): a device that kept access
				    * after completion (issue 19) */
	struct dev_shm *shm;       /* vhost-user: the memfd regions ring[] and the
				    * buffers live in (dev_shm.h) */	struct dev_vfio *vfio;     /* vfio: the attached device (dev_vfio_attach) */
};

/* What the device's packets look like to the driver, where they are not
 * the numbered stream of dev_payload.h (dev_format() returns NULL then).
 * A real device cannot check TX payloads, and it receives what its network
 * sends: for vfio on QEMU's user network, ARP replies to TX ARP requests. */
struct dev_format {
	const char *name;   /* "sink", "arp" */
	bool rx_answers_tx; /* each RX packet answers one TX packet: post no
			       more RX buffers than TX packets */
	uint32_t rx_len;    /* bytes the device writes per RX packet (header + frame) */
	/* the device leaves VIRTQ_DESC_F_WRITE clear in packed used
	 * descriptors, so vq_get_used (spec-exact: len is reserved without
	 * WRITE) reports len 0 for packets it did write (QEMU 7.2) */
	bool used_len_missing;
	/* fill [off, off+len) of TX packet seq's stream (header included) */
	void (*tx_fill)(const struct dev_format *f, uint8_t *dst, size_t len, uint64_t seq,
			size_t off);
	/* bytes of [off, off+len) of a received packet that differ from what
	 * the device must have written */
	size_t (*rx_check)(const struct dev_format *f, const uint8_t *src, size_t len, size_t off);
};

/* Exact device-side counters; read them after dev_stop(). */
struct dev_counters {
	uint64_t pkts[DEV_NQ];
	uint64_t bytes[DEV_NQ];   /* header + payload */
	uint64_t tx_errors;       /* TX payload or sequence mismatches */
	uint64_t rx_short;        /* RX chains too small for the packet */
	uint64_t calls;           /* used-buffer notifications the driver asked for */
	uint64_t kicks;           /* dev_kick() calls received */
	uint64_t invalid;         /* chains rejected as malformed / untranslatable */
	uint64_t too_long;        /* chains of more than VQ_DEV_MAX_SEGS buffers: consumed,
				     pushed used with length 0, not served (not in pkts) */
	uint64_t polls, empty_polls;
	uint64_t late_writes_landed;  /* late writes that reached the buffer the driver got back */
	uint64_t late_writes_blocked; /* late writes it refused (a fault) */
	uint64_t late_writes_remapped; /* late writes that reached another buffer mapped at the IOVA since */
};

struct dev;

/** Device kind by name: "inline", "thread", "vhost-user:PATH", "vfio:BDF"
 * (dev_params.vfio attached first, dev_vfio.h).
 * @return 0, -ENOENT, -EINVAL, -ENOMEM; vhost-user also -ENOENT/-ECONNREFUSED
 * (no backend on PATH), -ENOTSUP (a needed feature not offered), -EPIPE,
 * -ETIMEDOUT, -EREMOTEIO (the backend refused a message). dev_last_error()
 * names the kind (and socket path) and the value. */
int dev_open(const struct dev_params *p, struct dev **out);
/** Start serving (thread: creates and pins the device thread). */
int dev_start(struct dev *d);
/** Stop serving and wait for the device thread. */
void dev_stop(struct dev *d);
/** Stop the device from touching the rings at all (vfio: reset through the
 * status register; software: dev_stop). After it, chains still in flight
 * may be detached and their buffers unmapped. */
void dev_reset(struct dev *d);
/** The packet format, or NULL for dev_payload.h's numbered stream. */
const struct dev_format *dev_format(const struct dev *d);
/** Software device with params.late_writes: write again to the first
 * writable buffer of every RX chain completed since the last call, the
 * bytes already there, through the DMA backend (counters late_writes_*).
 * The inline device calls it when the driver hands it control between
 * reaping completions and posting new chains: a device acting after
 * completion, while the driver owns its buffers again. */
void dev_late_writes(struct dev *d);
/** Driver -> device notification. */
void dev_kick(struct dev *d, enum dev_queue q);
/** inline: run the device steps once over both queues.
 * @return chains processed, or -EIO (the device found the ring broken).
 * thread: 0 (the thread polls by itself). */
int dev_poll(struct dev *d);
void dev_close(struct dev *d);
void dev_get_counters(const struct dev *d, struct dev_counters *c);
/** The num_buffers value the device writes into an RX virtio_net_hdr_v1
 * (bytes 10-11): 1 for a vhost-user backend with MRG_RXBUF negotiated, 0
 * otherwise (the header stays as the device found it: zero). */
uint16_t dev_rx_num_buffers(const struct dev *d);
/** Why the device stopped or refused a chain, or NULL. */
const char *dev_error(const struct dev *d);
const char *dev_last_error(void);
/** Name of device kind i, NULL past the end. */
const char *dev_kind_name(unsigned i);

#endif
