/* SPDX-License-Identifier: MIT */
/*
 * vqb_rte_ring.h - `--layout rte_ring`: the same packets passed through a
 * DPDK rte_ring single-producer/single-consumer pair (driver -> device,
 * device -> driver) on the same two cores. No descriptors, no DMA
 * addresses: the best plain ring on this machine, a ceiling for the
 * virtqueues in the same table.
 */
#ifndef VQB_RTE_RING_H
#define VQB_RTE_RING_H

#include <stddef.h>

#include "vqb.h"
#include "vqb_place.h"

/** Run cfg once through rte_rings. Needs DPDK's EAL initialised.
 * @return 0 or -errno with a message. */
int vqb_rte_ring_run(const struct vqb_config *cfg, const struct vqb_placement *pl,
		     struct vqb_metrics *m, char *msg, size_t len);

#endif
