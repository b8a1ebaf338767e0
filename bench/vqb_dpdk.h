/* SPDX-License-Identifier: MIT */
/*
 * vqb_dpdk.h - DPDK where it is the right tool: hugepage-backed ring
 * memory (rte_zmalloc), buffer pools as rte_mempools populated over one
 * hugepage arena, and the device thread launched on an EAL worker lcore.
 */
#ifndef VQB_DPDK_H
#define VQB_DPDK_H

#include "dev.h"
#include "vqb_env.h"
#include "vqb_traffic.h"

/** Memory from DPDK when the EAL runs on hugepages; NULL otherwise (the
 * traffic engine then uses anonymous 4 KiB pages). */
const struct vqb_mem_ops *vqb_dpdk_mem_ops(const struct vqb_env *env);

/** EAL worker-lcore launcher when the EAL is up with a worker lcore;
 * NULL otherwise (the device uses a pinned pthread). */
const struct dev_launcher *vqb_dpdk_launcher(const struct vqb_env *env);

#endif
