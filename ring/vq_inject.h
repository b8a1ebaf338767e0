/* SPDX-License-Identifier: MIT */
/*
 * vq_inject.h - a deliberate per-packet regression, for the test of the
 * regression check only (tests/bench/test_check_regress.sh builds
 * vqbench-inject-* with it; vqbench and every other target never define
 * VQ_INJECT_WORK, so there the hook is empty and costs nothing).
 *
 *   -DVQ_INJECT_WORK=K       K loop iterations (about 4 instructions each)
 *                            per buffer of every chain vq_track_add maps
 *   -DVQ_INJECT_POLICY=P     only for chains of policy P (an enum vq_policy
 *                            name, e.g. VQ_POLICY_SKIP); absent: every
 *                            policy (the common path)
 *
 * The work is an empty asm on a register, so the compiler can neither drop
 * the loop nor fold it: callgrind counts it exactly.
 */
#ifndef VQ_INJECT_H
#define VQ_INJECT_H

#ifdef VQ_INJECT_WORK
static inline void vq_inject_work(enum vq_policy p, unsigned nbufs)
{
#ifdef VQ_INJECT_POLICY
	if (p != VQ_INJECT_POLICY)
		return;
#else
	(void)p;
#endif
	unsigned x = 0;

	for (unsigned i = 0; i < nbufs * (unsigned)(VQ_INJECT_WORK); i++) {
		x += i;
		__asm__ volatile("" : "+r"(x));
	}
}
#else
#define vq_inject_work(p, nbufs) ((void)0)
#endif

#endif
