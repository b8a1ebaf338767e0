/* SPDX-License-Identifier: MIT */
/*
 * vqb_run.h - run one configuration for one repetition (vqb_run.c).
 */
#ifndef VQB_RUN_H
#define VQB_RUN_H

#include "vqb.h"
#include "vqb_env.h"
#include "vqb_place.h"
#include "vqb_plan.h"
#include "vqb_traffic.h"
#include "dma.h"
#include "vq.h"

/** Check a configuration before running anything (policy x layout x
 * backend allowed, sizes valid). On refusal writes one line naming the
 * option and value and why into msg. @return 0 or -errno. */
int vqb_run_check(const struct vqb_config *cfg, char *msg, size_t msglen);

/** The DMA parameters (struct dma_params) configuration cfg asks for. */
struct dma_params vqb_run_dma_params(const struct vqb_config *cfg);
/** The ring configuration (layout, size, features) cfg asks for. */
struct vq_config vqb_run_ring_config(const struct vqb_config *cfg);

/** Run cfg once (repetition m->rep; m->warmup says whether it is a
 * warmup) and fill m. The caller clears m first with vqb_metrics_clear()
 * (every metric NAN, i.e. not measured), then sets rep and warmup. @return 0, or -errno with a message in msg (the run
 * failed: lost or corrupt packets on a safe configuration, broken queue,
 * map failure). A DMA resource that ran out (bounce pool, IOVA space) sets
 * m->status to "exhausted" and msg to the resource, its size and use and
 * the packets until then, and returns 0 under --unsafe-skip (the measured
 * damage), -ENOSPC otherwise. */
int vqb_run_once(const struct vqb_config *cfg, const struct vqb_env *env,
		 struct vqb_metrics *m, char *msg, size_t msglen);

/** The traffic engine's parameters for cfg on a software device, placed
 * as pl says (m: its rep seeds the payload). @return 0 or -EINVAL (msg). */
int vqb_run_traffic_params(const struct vqb_config *cfg, const struct vqb_env *env,
			   const struct vqb_placement *pl, const struct vqb_metrics *m,
			   struct vqb_traffic_params *tp, char *msg, size_t msglen);

/* --order blocks (vqb_run_blocks.c): the configurations that differ only
 * in --policy form a group; each group's queues are set up once, then
 * warmup + reps rounds, each round one block of --packets packets per
 * policy, back to back, the policy order rotating by one every round. A
 * round is bracketed by a short core-to-core probe (driver CPU and the
 * second CPU): its rows carry c2c_ns_before/after and placement_changed
 * (the probe moved by more than 1.5x), so a consumer pairs the policies'
 * blocks of one round (same rep) and drops moved rounds. */

/** Why cfg cannot run in blocks ("--order blocks: ..."), or 0. */
int vqb_run_blocks_check(const struct vqb_config *cfg, char *msg, size_t msglen);

/** One block's row (step: its configuration, round and warmup flag). */
typedef int (*vqb_blocks_row_fn)(void *ctx, const struct vqb_step *s, struct vqb_metrics *m, int rc,
				 const char *msg);

/** Run every group of p in blocks; emit each block's row. @return 0, or
 * the first negative value emit returned, or -EINTR (stop requested). */
int vqb_run_blocks(const struct vqb_plan *p, const struct vqb_env *env, vqb_blocks_row_fn emit, void *ctx);

#endif
