/* SPDX-License-Identifier: MIT */
/*
 * vqb_traffic.h - the driver-side traffic engine: one configuration's queues
 * (TX, RX or both), their tracking policy and dma backend, a software
 * device, and the loop that posts, kicks, reaps and verifies every packet.
 * Used by vqbench's runs and by the policy tests; no DPDK here.
 */
#ifndef VQB_TRAFFIC_H
#define VQB_TRAFFIC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev.h"
#include "dma.h"
#include "vq_track.h"
#include "vqb.h"

/* Where ring and buffer memory come from. NULL: anonymous 4 KiB pages bound
 * to mem_node (transparent hugepages refused with MADV_NOHUGEPAGE). vqbench supplies DPDK's (hugepage memory, rte_mempool). */
struct vqb_mem_ops {
	const char *name;
	/* zeroed, 4 KiB-aligned ring memory */
	void *(*ring_alloc)(size_t len, int node, void *ctx);
	void (*ring_free)(void *p, void *ctx);
	/* a pool of nbufs buffers in one contiguous arena of nbufs slots of
	 * slot_size bytes; bufs[i] gets buffer i (headroom bytes into a slot) */
	int (*pool_create)(size_t nbufs, uint32_t slot_size, int node, void *ctx, void **handle,
			   char **arena, void **bufs);
	void (*pool_free)(void *handle, void *ctx);
	uint32_t headroom; /* bytes a slot reserves before its buffer (object header) */
	/* bytes per page backing the memory at p (4096, 2 MiB, ...) */
	size_t (*page_of)(const void *p, void *ctx);
	void *ctx;
};

struct vqb_traffic_params {
	struct vq_config cfg;     /* layout, size, features (indirect/in-order/event idx) */
	enum vq_policy policy;
	enum vq_skip_rule skip_rule;
	enum vq_ind_extra ind_extra; /* --indirect-extra */
	bool unsafe_skip;
	const char *dma;          /* backend name */
	struct dma_params dma_params;
	/* One device's DMA state shared by several engines (--queues), as
	 * one struct device serves every queue of a NIC. NULL: this engine
	 * opens its own backend and closes it at teardown. Non-NULL: the
	 * first engine set up opens the backend into *dma_dev (its
	 * dma_params.cpus = the number of engines sharing it), the others
	 * use that one; the caller reads it with vqb_traffic_dma_final() and
	 * closes it after every engine's teardown. Setups sharing a backend
	 * run one at a time. */
	struct dma **dma_dev;
	const char *device;       /* "inline" or "thread" */
	int dev_cpu;              /* thread device CPU, -1 any */
	enum vqb_dir dir;
	enum vqb_descs_kind descs_kind;
	uint32_t descs_lo, descs_hi;
	uint32_t pkt_bytes;       /* payload bytes after the 12-byte header, >= 8 */
	bool indirect;            /* post chains through indirect tables */
	uint32_t batch;           /* chains per publish */
	int mem_node;             /* -1 local */
	uint64_t seed;            /* descriptor-count PRNG */
	const struct vqb_mem_ops *mem;       /* NULL: anonymous pages */
	const struct dev_launcher *launcher; /* NULL: pthread device */
	/* A vhost-user device ("vhost-user:PATH"): mem must place rings and
	 * buffers in shm (vqb_shm_mem_ops), which the device shares. */
	struct dev_shm *shm;
	bool poll_only;   /* the driver polls: suppress used-buffer notifications */
	/* echo (dir both): the device returns every TX packet on RX, in order
	 * (a vhost backend forwarding TX to RX). A TX packet is posted only
	 * when an RX buffer is already posted for it, each queue carries half
	 * of `packets`, and RX verifies the TX sequence: every payload sent is
	 * checked when it comes back. */
	bool echo;
	/* RX packets come from a generator whose payload is not in
	 * dev_payload.h's format (a vhost backend in txonly mode): check only
	 * the length of each received packet. */
	bool rx_len_only;
	/* the software device writes each completed RX chain's first buffer
	 * again one poll later (dev_params.late_writes) */
	bool late_writes;
};

/** Rings and buffer pools in shm's memfd regions (each allocation one
 * region), for a vhost-user device. Fills *out; out->ctx = shm. */
void vqb_shm_mem_ops(struct dev_shm *shm, struct vqb_mem_ops *out);

struct vqb_traffic_result {
	uint64_t packets;         /* completed (TX + RX) */
	uint64_t tx_packets, rx_packets;
	uint64_t errors;          /* TX mismatches seen by the device + RX mismatches */
	uint64_t lost_bytes;      /* RX bytes that did not arrive in the driver's buffer */
	uint64_t payload_bytes;
	uint64_t kicks, calls;
	/* late_writes: reached the driver's buffer / refused / reached another buffer at the IOVA */
	uint64_t late_writes_landed, late_writes_blocked, late_writes_remapped;
	uint64_t tsc_cycles;
	double seconds;
	double t_start, t_end;    /* CLOCK_MONOTONIC s: the packet loop's first and last instant */
	bool stopped_early;       /* unsafe skip exhausted the backend */
	bool exhausted;           /* a DMA resource ran out with nothing in flight to free it
				     (the run returns -1; note and err name it); packets =
				     packets until exhaustion */
	bool interrupted;         /* vqb_traffic_request_stop() cut the run short */
	char note[480];           /* why it stopped early */
};

struct vqb_traffic;

/** Build everything for p. @return 0, -ENOSPC (a DMA resource ran out
 * during setup: premapped mapping its arena; err names the resource, its
 * size and use), or -1 with a message in err. */
int vqb_traffic_setup(const struct vqb_traffic_params *p, struct vqb_traffic **out,
		      char *err, size_t errlen);
/** Run until `packets` complete (or `seconds` pass when packets == 0). */
int vqb_traffic_run(struct vqb_traffic *t, uint64_t packets, double seconds,
		    struct vqb_traffic_result *r, char *err, size_t errlen);

/* Several traffic engines (--queues) run together, one per thread: each
 * starts its device, then waits at `start` for the others, so every packet
 * loop starts at once; a queue that fails sets `failed` and the others
 * stop at their next check (a few microseconds of traffic apart). Setup
 * and teardown stay outside: the caller does them. */
struct vqb_traffic_sync {
	pthread_barrier_t start;  /* count: the number of queues */
	atomic_uint failed;       /* relaxed: a stop flag; the message is read after join */
};

/** vqb_traffic_run for one of the queues sharing s (s == NULL: alone).
 * A queue stopped because another failed returns 0 with r->note saying so. */
int vqb_traffic_run_sync(struct vqb_traffic *t, struct vqb_traffic_sync *s, uint64_t packets,
			 double seconds, struct vqb_traffic_result *r, char *err, size_t errlen);

/** A queue whose setup failed still meets the others at s's barrier (so
 * they are not left waiting), and makes them stop. */
void vqb_traffic_sync_fail(struct vqb_traffic_sync *s);

/* What teardown found: the state left after stopping the device and
 * detaching every chain still in flight. */
struct vqb_traffic_final {
	struct dma_counters dma;     /* taken before dma_close */
	struct vq_track_stats track; /* summed over queues */
	uint64_t leaked_mappings;    /* dma live mappings after detach that hold a resource */
	uint64_t unmaintained_lines; /* noncoherent: invalidates the skipped unmaps owe */
	struct vq_footprint fp;      /* per queue */
	unsigned queues;             /* 1 (tx or rx) or 2 (both) */
	char memory[24];             /* what rings and pools came from (mem ops name, 4k-pages, mixed) */
	size_t page_bytes;           /* bytes per page backing the buffers (queue 0's arena) */
	size_t arena_bytes;
	size_t dma_mem_bytes;
	char iova_api[200];          /* policy iova: queue 0's vq_track_iova_mode() */
};
void vqb_traffic_teardown(struct vqb_traffic *t, struct vqb_traffic_final *f);

/** What the backend's counters say at the end of a run (after every
 * engine using it tore down): f->dma, f->leaked_mappings, f->dma_mem_bytes.
 * For a backend shared through vqb_traffic_params.dma_dev; teardown fills
 * them itself for an engine's own backend. */
void vqb_traffic_dma_final(const struct dma *d, struct vqb_traffic_final *f);

/** The backend's counters now (between runs: exact). */
void vqb_traffic_dma_counters(const struct vqb_traffic *t, struct dma_counters *c);

/** Make every vqb_traffic_run of this process stop at its next check (a
 * few microseconds of traffic apart) and return -1 with "interrupted" in
 * err and result.interrupted set. Async-signal-safe (one lock-free atomic
 * store): vqbench's SIGINT/SIGTERM handler calls it. Sticky: later runs
 * stop at once. */
void vqb_traffic_request_stop(void);
/** Whether vqb_traffic_request_stop() was called. */
bool vqb_traffic_stop_requested(void);

/** TSC ticks per second (measured once against CLOCK_MONOTONIC). */
double vqb_tsc_hz(void);

#endif
