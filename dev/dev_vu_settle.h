/* SPDX-License-Identifier: MIT */
/*
 * dev_vu_settle.h - the vhost-user device's measurement mode: before the
 * driver reaps, wait until the backend has consumed every chain the driver
 * made available (or, for a backend that delays its used updates, until the
 * rings have been still for DEV_VU_SETTLE_QUIET_US).
 *
 * Why: against a backend running natively, vqbench under valgrind finds a
 * different number of completions at each poll, and sometimes none (the
 * backend was descheduled), so its instructions per packet mix the packet
 * path with idle polls and partial bursts and repeat only approximately.
 * With settling, every poll finds the whole burst it posted, and the wait
 * itself runs in dev_vu_settle(), which scripts/callgrind-counts.py leaves
 * out of the count (--toggle-collect on it turns collection off inside).
 * Turned on by the environment variable VQB_VU_SETTLE=1; never on in a
 * timed run (it changes what the timing means).
 *
 * The device reads only what a vhost-user backend reads: split, the avail
 * and used indices; packed, the descriptor flags (a cursor follows the
 * descriptors the driver made available, another the used elements and
 * the chains they cover, in-order batches included). Nothing is written.
 */
#ifndef DEV_VU_SETTLE_H
#define DEV_VU_SETTLE_H

#include <stdbool.h>
#include <stdint.h>

#include "vq.h"

/* A ring still for this long counts as settled (a backend that holds back
 * its used updates: DPDK's packed dequeue flushes them in large batches). */
#define DEV_VU_SETTLE_QUIET_US 20000

struct dev_vu_watch {
	uint8_t *ring;     /* NULL: queue not used */
	struct vq_config cfg;
	size_t desc_off, avail_idx_off, used_idx_off;
	/* packed: the driver's next avail slot, the backend's next used slot;
	 * split: avail entries the used entries cover, used entries seen */
	uint16_t apos, upos;
	bool awrap, uwrap, lost; /* lost: the used cursor gave up (still-ring rule only) */
};

struct dev_vu_settle_stats {
	uint64_t waits;    /* dev_vu_settle() calls that found the backend behind */
	uint64_t quiet;    /* ... of them ended by the still-ring rule */
};

/** Watch ring memory `ring` (cfg's layout; NULL: a queue not used).
 * Allocates nothing. @return 0, or -EINVAL (cfg invalid). */
int dev_vu_watch_init(struct dev_vu_watch *w, const struct vq_config *cfg, void *ring);

/** Wait until the backend has consumed every chain made available on the
 * nq watched rings (those with a ring), or until none of them moved for
 * DEV_VU_SETTLE_QUIET_US (a backend that holds back used updates, or one
 * that died: the next poll of the socket reports that). Kept out of line
 * under its own symbol for callgrind. */
void dev_vu_settle(struct dev_vu_watch *w, unsigned nq, struct dev_vu_settle_stats *st);

#endif
