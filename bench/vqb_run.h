/* SPDX-License-Identifier: MIT */
/*
 * vqb_run.h - run one configuration for one repetition (vqb_run.c).
 */
#ifndef VQB_RUN_H
#define VQB_RUN_H

#include "vqb.h"
#include "vqb_env.h"
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

#endif
