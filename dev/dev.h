/* SPDX-License-Identifier: MIT */
/*
 * dev.h - the device side a driver's queues talk to, behind one ops table
 * (start, stop, kick, poll, close). One file per device kind:
 *
 *   inline   the device steps run in the caller's thread when it calls
 *            dev_poll(): deterministic, measurable under valgrind.
 *   thread   a device thread pinned to its own CPU polls the rings.
 *
 * The software device consumes TX chains (reading and verifying every
 * payload byte through the dma backend's translate) and fills RX chains
 * with numbered packets the driver verifies. Packets are a 12-byte
 * virtio_net_hdr_v1 followed by a payload in the format of dev_payload.h.
 */
#ifndef DEV_H
#define DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "dma.h"
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
	uint64_t polls, empty_polls;
};

struct dev;

/** Device kind by name: "inline", "thread". @return 0, -ENOENT, -EINVAL,
 * -ENOMEM; dev_last_error() names the kind and value. */
int dev_open(const struct dev_params *p, struct dev **out);
/** Start serving (thread: creates and pins the device thread). */
int dev_start(struct dev *d);
/** Stop serving and wait for the device thread. */
void dev_stop(struct dev *d);
/** Driver -> device notification. */
void dev_kick(struct dev *d, enum dev_queue q);
/** inline: run the device steps once over both queues.
 * @return chains processed, or -EIO (the device found the ring broken).
 * thread: 0 (the thread polls by itself). */
int dev_poll(struct dev *d);
void dev_close(struct dev *d);
void dev_get_counters(const struct dev *d, struct dev_counters *c);
/** Why the device stopped or refused a chain, or NULL. */
const char *dev_error(const struct dev *d);
const char *dev_last_error(void);
/** Name of device kind i, NULL past the end. */
const char *dev_kind_name(unsigned i);

#endif
