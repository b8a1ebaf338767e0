/* SPDX-License-Identifier: MIT */
/*
 * vqb_run_blocks.c - --order blocks: the policies of one configuration as
 * neighbours in time. Every group of configurations that differ only in
 * --policy is set up once (one engine per policy, each its own DMA
 * backend); then each round runs one block of --packets packets per
 * policy, back to back, the order rotating by one per round, so a round's
 * blocks are milliseconds apart and a difference taken within the round
 * does not see the host moving the vCPUs between rounds. A short
 * core-to-core probe before and after each round tells whether the
 * placement moved during it (placement_changed: more than 1.5x).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma_mem.h"
#include "vqb_csv.h"
#include "vqb_run.h"

/* Round trips per probe: about 20-150 us, small against a block. */
#define BLOCK_C2C_ROUNDS 300u
/* Most policies in one group (full, skip, premapped, iova, ...). */
#define BLOCK_GROUP_MAX 16

int vqb_run_blocks_check(const struct vqb_config *c, char *msg, size_t len)
{
	if (c->device != VQB_DEV_INLINE && c->device != VQB_DEV_THREAD)
		return snprintf(msg, len, "--order blocks: --device %s (allowed: inline, thread; a block is "
				"milliseconds, another process or hardware is not restarted that often)",
				vqb_device_name(c->device)), -EINVAL;
	if (c->layout == VQB_LAYOUT_RTE_RING)
		return snprintf(msg, len, "--order blocks: --layout rte_ring (allowed: split, packed)"), -EINVAL;
	if (c->queues > 1)
		return snprintf(msg, len, "--order blocks: --queues %u (allowed: 1)", c->queues), -EINVAL;
	if (!c->packets)
		return snprintf(msg, len, "--order blocks: give --packets (the block size, e.g. 20000), not "
				"--seconds"), -EINVAL;
	return 0;
}

/* Same configuration but for the policy? */
static bool same_but_policy(const struct vqb_config *a, const struct vqb_config *b)
{
	char va[128], vb[128];
	for (int id = VQB_OPT_LAYOUT; id <= VQB_OPT_CORES; id++) {
		if (id == VQB_OPT_POLICY)
			continue;
		vqb_opt_format((enum vqb_opt_id)id, a, va, sizeof(va));
		vqb_opt_format((enum vqb_opt_id)id, b, vb, sizeof(vb));
		if (strcmp(va, vb))
			return false;
	}
	return true;
}

struct block_member {
	const struct vqb_config *c;
	struct vqb_traffic *t;
	struct vqb_metrics m;
	uint64_t tracking_bytes, footprint_bytes; /* the allocator's count over its setup */
	int rc;
	char msg[512];
};

struct block_group {
	struct block_member mem[BLOCK_GROUP_MAX];
	unsigned n;
	struct vqb_placement pl;
	const struct vqb_plan *p;
};

/* One block of member b: its row in b->m (c2c filled in by the caller). */
static void run_block(struct block_group *g, struct block_member *b, uint32_t round)
{
	const struct vqb_config *c = b->c;
	struct vqb_traffic_result r;
	struct dma_counters d0, d1;
	struct vqb_metrics *m = &b->m;

	vqb_metrics_clear(m);
	m->warmup = round < g->p->warmup;
	m->rep = m->warmup ? round : round - g->p->warmup;
	m->driver_cpu = g->pl.driver_cpu;
	m->device_cpu = c->device == VQB_DEV_INLINE ? g->pl.driver_cpu : g->pl.device_cpu;
	b->msg[0] = '\0';
	vqb_traffic_dma_counters(b->t, &d0);
	b->rc = vqb_traffic_run(b->t, c->packets, 0, &r, b->msg, sizeof(b->msg));
	vqb_traffic_dma_counters(b->t, &d1);
	double pk = r.packets ? (double)r.packets : NAN, s = r.t_end - r.t_start;
	m->packets = r.packets;
	m->errors = r.errors;
	m->lost_bytes = r.lost_bytes;
	m->seconds = s;
	m->mpps = (double)r.packets / s / 1e6;
	m->gbps = (double)r.payload_bytes * 8 / s / 1e9;
	m->ns_per_pkt = s * 1e9 / pk;
	m->cycles_per_pkt = (double)r.tsc_cycles / pk;
	m->maps_per_pkt = (double)(d1.maps - d0.maps) / pk;
	m->unmaps_per_pkt = (double)(d1.unmaps - d0.unmaps) / pk;
	m->syncs_per_pkt = (double)(d1.syncs_for_cpu + d1.syncs_for_device - d0.syncs_for_cpu -
				    d0.syncs_for_device) / pk;
	m->bytes_copied_per_pkt = (double)(d1.bytes_copied - d0.bytes_copied) / pk;
	m->kicks_per_pkt = (double)r.kicks / pk;
	m->calls_per_pkt = (double)r.calls / pk;
	/* the engine's memory as its setup left it (nothing is allocated per
	 * packet); rss is the process's, every engine's: not measured (the
	 * CSV cells are empty) */
	m->rss_bytes = 0;
	m->rss_delta_bytes = INT64_MIN;
	m->tracking_bytes = b->tracking_bytes;
	m->footprint_bytes = b->footprint_bytes;
	m->bytes_per_inflight = (double)b->footprint_bytes / ((double)c->queue_size * (c->dir == VQB_DIR_BOTH ? 2 : 1));
	if (r.exhausted) {
		snprintf(m->status, sizeof(m->status), "exhausted");
		b->rc = c->unsafe_skip ? 0 : -ENOSPC;
	} else if (b->rc == 0 && r.errors && !c->unsafe_skip) {
		b->rc = -EIO;
		snprintf(b->msg, sizeof(b->msg), "%llu packet(s) failed verification (%llu bytes lost)",
			 (unsigned long long)r.errors, (unsigned long long)r.lost_bytes);
	} else if (b->rc == 0 && r.packets != c->packets) {
		b->rc = -EIO;
		snprintf(b->msg, sizeof(b->msg), "%llu of %llu packets completed: %s", (unsigned long long)r.packets,
			 (unsigned long long)c->packets, r.note);
	}
	if (!m->status[0])
		snprintf(m->status, sizeof(m->status), "%s", b->rc < 0 ? "failed" : "ok");
	snprintf(m->error, sizeof(m->error), "%.*s", (int)sizeof(m->error) - 1, b->rc < 0 ? b->msg : "");
}

/* Set up every member's engine on this (pinned) thread. @return 0 or -errno (msg). */
static int group_setup(struct block_group *g, const struct vqb_env *env, char *msg, size_t len)
{
	const struct vqb_config *c0 = g->mem[0].c;
	int rc = vqb_place_choose(c0->cores, c0->ncores, 2, &g->pl, msg, len);
	if (rc < 0)
		return rc;
	vqb_place_pin_self(g->pl.driver_cpu);
	dma_set_this_cpu(0);
	for (unsigned k = 0; k < g->n; k++) {
		struct block_member *b = &g->mem[k];
		struct vqb_traffic_params tp;
		struct vqb_metrics m0;
		vqb_metrics_clear(&m0);
		if ((rc = vqb_run_traffic_params(b->c, env, &g->pl, &m0, &tp, msg, len)) < 0)
			return rc;
		tp.launcher = NULL; /* a pthread device: started per block, the EAL's lcore is not */
		char err[480];
		uint64_t mem0[DMA_MEM_NCAT], mem1[DMA_MEM_NCAT];
		dma_mem_get(mem0);
		if ((rc = vqb_traffic_setup(&tp, &b->t, err, sizeof(err))) < 0) {
			snprintf(msg, len, "--policy %.32s: setup: %.440s", b->c->policy, err);
			return rc == -ENOSPC ? rc : -EINVAL;
		}
		dma_mem_get(mem1);
		b->tracking_bytes = mem1[DMA_MEM_TRACKING] - mem0[DMA_MEM_TRACKING];
		b->footprint_bytes = dma_mem_footprint(mem1, mem0);
	}
	return 0;
}

/* Tear every engine down: a leaked mapping on a safe configuration is a
 * failure (as vqb_run_once's verdict). @return 0 or -EIO (printed). */
static int group_teardown(struct block_group *g)
{
	int rc = 0;
	for (unsigned k = 0; k < g->n; k++) {
		struct vqb_traffic_final fin;
		memset(&fin, 0, sizeof(fin));
		if (!g->mem[k].t)
			continue;
		vqb_traffic_teardown(g->mem[k].t, &fin);
		g->mem[k].t = NULL;
		if ((fin.leaked_mappings || fin.dma.faults || fin.dma.debug_reports) && !g->mem[k].c->unsafe_skip) {
			fprintf(stderr, "vqbench: --order blocks: --policy %s: %llu mapping(s) leaked, %llu device "
				"fault(s), %llu DMA debug report(s) at teardown\n", g->mem[k].c->policy,
				(unsigned long long)fin.leaked_mappings, (unsigned long long)fin.dma.faults,
				(unsigned long long)fin.dma.debug_reports);
			rc = -EIO;
		}
	}
	return rc;
}

/* Every round of one group: probe, the blocks in rotated order, probe,
 * then the round's rows in configuration order. */
static int group_rounds(struct block_group *g, vqb_blocks_row_fn emit, void *ctx)
{
	uint32_t rounds = g->p->warmup + g->p->reps;
	bool probe = g->pl.device_cpu != g->pl.driver_cpu;
	double c2c = probe ? vqb_place_c2c_ns(g->pl.device_cpu, BLOCK_C2C_ROUNDS) : NAN;
	for (uint32_t r = 0; r < rounds; r++) {
		if (vqb_traffic_stop_requested())
			return -EINTR;
		for (unsigned j = 0; j < g->n; j++)
			run_block(g, &g->mem[(r + j) % g->n], r);
		double after = probe ? vqb_place_c2c_ns(g->pl.device_cpu, BLOCK_C2C_ROUNDS) : NAN;
		double lo = fmin(c2c, after), hi = fmax(c2c, after);
		for (unsigned k = 0; k < g->n; k++) {
			struct block_member *b = &g->mem[k];
			b->m.c2c_ns_before = c2c;
			b->m.c2c_ns_after = after;
			b->m.placement_changed = lo > 0 && hi / lo > 1.5;
			struct vqb_step s = { .cfg = b->c->index, .rep = b->m.rep, .warmup = b->m.warmup,
					      .last = !b->m.warmup && b->m.rep + 1 == g->p->reps };
			int rc = emit(ctx, &s, &b->m, b->rc, b->msg);
			if (rc < 0)
				return rc;
		}
		c2c = after;
	}
	return 0;
}

int vqb_run_blocks(const struct vqb_plan *p, const struct vqb_env *env, vqb_blocks_row_fn emit, void *ctx)
{
	bool *done = calloc(p->n ? p->n : 1, sizeof(*done));
	int rc = done ? 0 : -ENOMEM, fail = 0;
	for (size_t i = 0; i < p->n && rc == 0; i++) {
		if (done[i])
			continue;
		static struct block_group g;
		memset(&g, 0, sizeof(g));
		g.p = p;
		for (size_t k = i; k < p->n && g.n < BLOCK_GROUP_MAX; k++)
			if (!done[k] && same_but_policy(&p->cfg[i], &p->cfg[k])) {
				g.mem[g.n++].c = &p->cfg[k];
				done[k] = true;
			}
		char msg[512] = "";
		int sr = group_setup(&g, env, msg, sizeof(msg));
		if (sr < 0) {
			/* every member's rows say why: nothing ran */
			for (unsigned k = 0; k < g.n && rc == 0; k++) {
				struct vqb_metrics m;
				vqb_metrics_clear(&m);
				snprintf(m.status, sizeof(m.status), "%s", sr == -ENOSPC ? "exhausted" : "failed");
				snprintf(m.error, sizeof(m.error), "%.*s", (int)sizeof(m.error) - 1, msg);
				struct vqb_step s = { .cfg = g.mem[k].c->index, .last = true };
				rc = emit(ctx, &s, &m, -EINVAL, msg);
			}
		} else {
			rc = group_rounds(&g, emit, ctx);
		}
		if (group_teardown(&g) < 0)
			fail = -EIO;
	}
	free(done);
	return rc ? rc : fail;
}
