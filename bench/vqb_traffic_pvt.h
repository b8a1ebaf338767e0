/* SPDX-License-Identifier: MIT */
/*
 * vqb_traffic_pvt.h - the traffic engine's internals shared by its two
 * halves: vqb_traffic_setup.c (memory, queues, backend and device: built
 * and torn down) and vqb_traffic_loop.c (the packet loop: post, kick,
 * reap, verify). Not a public header: only those two files include it.
 */
#ifndef VQB_TRAFFIC_PVT_H
#define VQB_TRAFFIC_PVT_H

#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dev.h"
#include "dev_vfio.h"
#include "vqb_traffic.h"

/* Map failures in a row with nothing in flight before a run gives up. */
#define IDLE_MAP_RETRIES 8u

/* One packet context. n, stream_len, ci and bufs[].len describe the chain
 * of the context's last post: written when n changes (post_prepare), so a
 * context posted again with the same n only gets a new seq (and, TX, its
 * payload). */
struct pkt {
	uint64_t seq;
	uint32_t n;          /* buffers; 0: never posted */
	uint32_t stream_len;
	uint32_t ci;         /* own index in queue.pkts (put back on free_ctx) */
	struct vq_buf bufs[VQ_MAX_CHAIN];
};

struct queue {
	enum dev_queue kind;
	void *ring;
	size_t ring_len;
	void *pool;      /* mem ops' pool handle; NULL: our own anonymous arena */
	bool ring_dpdk;  /* ring from the mem ops (else anonymous pages) */
	void **bufs;     /* pool buffers, [nctx * descs_hi] */
	struct vq *vq;
	struct vq_track *tr;
	char *arena;
	size_t arena_len;
	struct pkt *pkts;
	uint32_t *free_ctx;  /* LIFO stack, or a FIFO ring from fifo_head */
	uint32_t nctx, nfree, fifo_head;
	bool fifo;
	uint64_t next_seq, expect_seq;
	uint64_t done;
	bool ring_counted, arena_counted; /* charged to the counting allocator */
};

/* One per queue pair (--queues): the driver thread writes its counters
 * per packet, so the struct starts on its own cache line and is allocated
 * in whole lines (traffic_alloc): no false sharing between queues. */
struct vqb_traffic {
	alignas(64) struct vqb_traffic_params p;
	struct dma *dma;
	bool own_dma;    /* opened here, closed at teardown (else shared: dma_dev) */
	struct dev *dev;
	struct queue q[DEV_NQ];
	unsigned nq;
	uint32_t buf_size;
	uint32_t lens[VQ_MAX_CHAIN + 1][VQ_MAX_CHAIN]; /* buffer lengths by n */
	uint8_t mix[128];
	uint64_t rng;
	uint64_t errors, lost_bytes, kicks;
	unsigned idle_map_failures; /* in a row, with nothing in flight */
	bool exhausted;             /* the last of them was -ENOMEM: a DMA resource ran out */
	bool setup_exhausted;       /* setup: a DMA resource ran out (premapped's arena) */
	uint16_t rx_num_buffers; /* what the device writes into the RX header */
	struct dev_vfio *vfio;          /* --device vfio:BDF: attached before the dma backend */
	const struct dev_format *fmt;   /* NULL: dev_payload.h's numbered stream */
};

/* Format the message into err. @return -1 */
__attribute__((format(printf, 3, 4))) static inline int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

#endif
