/* SPDX-License-Identifier: MIT */
/*
 * vqb_plan.h - the sweep: the cartesian product of every list option into
 * an array of struct vqb_config, and the order the runs go in.
 *
 * Configuration order: options nest in the order of the option table
 * (vqb_options[], the order of --help): --layout varies slowest, then
 * --queue-size, --descs, --pkt-bytes, --indirect, --in-order, --event-idx,
 * --batch, --dir, --policy, --dma, --device, --mem-node, --packets and
 * --seconds fastest; within one option, values go in the order given.
 *
 * Run order (--order):
 *   interleave (default)  round 0 runs, for each configuration in turn, its
 *                         warmup repetitions then its repetition 0; round r
 *                         (r >= 1) runs repetition r of every configuration.
 *                         A configuration's repetitions are spread over the
 *                         whole sweep, so a ratio between two configurations
 *                         compares neighbouring runs and slow drift (thermal,
 *                         frequency, other load) hits both alike.
 *   sequential            all runs of configuration 0, then of 1, ...
 * Either way a configuration's warmups run right before its repetition 0.
 */
#ifndef VQB_PLAN_H
#define VQB_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "vqb.h"
#include "vqb_opts.h"

/* Largest sweep vqb_plan_build accepts. */
#define VQB_PLAN_MAX 100000

struct vqb_plan {
	struct vqb_config *cfg; /* n configurations; cfg[i].index == i */
	size_t n;
	size_t product;         /* configurations before vqb_plan_remove() */
	uint32_t reps, warmup;  /* the same for every configuration */
	enum vqb_order order;
	bool varies[VQB_OPT_COUNT]; /* the option has more than one value */
};

/* One run: configuration cfg, repetition rep (a warmup's rep counts the
 * warmups from 0). */
struct vqb_step {
	size_t cfg;
	uint32_t rep;
	bool warmup;
	bool last; /* the last repetition of its configuration */
};

/** Build the cartesian product of o's lists.
 * @return 0, -E2BIG (more than VQB_PLAN_MAX configurations), -ENOMEM. */
int vqb_plan_build(const struct vqb_opts *o, struct vqb_plan *p);
void vqb_plan_free(struct vqb_plan *p);

/** Drop configuration i (refused by vqb_run_check); later configurations
 * move down and are renumbered. */
void vqb_plan_remove(struct vqb_plan *p, size_t i);

/** Number of runs: configurations x (warmups + repetitions). */
size_t vqb_plan_runs(const struct vqb_plan *p);

/** Run k (0 <= k < vqb_plan_runs()) in run order. */
void vqb_plan_step(const struct vqb_plan *p, size_t k, struct vqb_step *s);

/** A short name for configuration c: the values of the options that vary
 * in this sweep ("split descs=4 full"); with none varying, layout, policy
 * and dma. @return buf. */
const char *vqb_plan_label(const struct vqb_plan *p, const struct vqb_config *c,
			   char *buf, size_t len);

/** The values every configuration shares ("q=256 pkt=1500 tx ..."). */
void vqb_plan_fixed(const struct vqb_plan *p, char *buf, size_t len);

/** "sweep: 16 configurations x 5 repetitions (+1 warmup) = 96 runs,
 * about 29 s" (the time only when runs are timed). */
void vqb_plan_describe(const struct vqb_plan *p, char *buf, size_t len);

#endif
