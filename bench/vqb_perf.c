/* SPDX-License-Identifier: MIT */
/*
 * vqb_perf.c - per-thread hardware counters (perf_event_open).
 */
#include <linux/perf_event.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vqb_perf.h"

#define CACHE_EV(cache, op, res) \
	((cache) | ((op) << 8) | ((res) << 16))

static const struct {
	uint32_t type;
	uint64_t config;
} events[VQB_HW_N] = {
	[VQB_HW_CYCLES] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
	[VQB_HW_INSTRUCTIONS] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
	[VQB_HW_L1D_MISSES] = {PERF_TYPE_HW_CACHE, CACHE_EV(PERF_COUNT_HW_CACHE_L1D, PERF_COUNT_HW_CACHE_OP_READ,
							   PERF_COUNT_HW_CACHE_RESULT_MISS)},
	[VQB_HW_LLC_MISSES] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
	[VQB_HW_DTLB_MISSES] = {PERF_TYPE_HW_CACHE, CACHE_EV(PERF_COUNT_HW_CACHE_DTLB, PERF_COUNT_HW_CACHE_OP_READ,
							    PERF_COUNT_HW_CACHE_RESULT_MISS)},
};

void vqb_perf_start(struct vqb_perf *p)
{
	for (int i = 0; i < VQB_HW_N; i++) {
		struct perf_event_attr a;
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.type = events[i].type;
		a.config = events[i].config;
		a.disabled = 1;
		a.exclude_kernel = 1;
		a.exclude_hv = 1;
		p->value[i] = NAN;
		p->fd[i] = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
		if (p->fd[i] >= 0) {
			ioctl(p->fd[i], PERF_EVENT_IOC_RESET, 0);
			ioctl(p->fd[i], PERF_EVENT_IOC_ENABLE, 0);
		}
	}
}

void vqb_perf_stop(struct vqb_perf *p)
{
	for (int i = 0; i < VQB_HW_N; i++) {
		if (p->fd[i] < 0)
			continue;
		ioctl(p->fd[i], PERF_EVENT_IOC_DISABLE, 0);
		uint64_t v;
		if (read(p->fd[i], &v, sizeof(v)) == (ssize_t)sizeof(v))
			p->value[i] = (double)v;
		close(p->fd[i]);
		p->fd[i] = -1;
	}
}
