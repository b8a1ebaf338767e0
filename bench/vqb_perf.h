/* SPDX-License-Identifier: MIT */
/*
 * vqb_perf.h - hardware counters through perf_event_open, for the calling
 * thread. Where the machine cannot count (a VM without a PMU), every value
 * is NAN: reported as unavailable, never as zero.
 */
#ifndef VQB_PERF_H
#define VQB_PERF_H

enum { VQB_HW_CYCLES, VQB_HW_INSTRUCTIONS, VQB_HW_L1D_MISSES, VQB_HW_LLC_MISSES,
       VQB_HW_DTLB_MISSES, VQB_HW_N };

struct vqb_perf {
	int fd[VQB_HW_N];
	double value[VQB_HW_N]; /* after stop: counts, NAN where unavailable */
};

/** Open and start the counters (missing ones stay NAN). */
void vqb_perf_start(struct vqb_perf *p);
/** Stop, read into value[], close. */
void vqb_perf_stop(struct vqb_perf *p);

#endif
