/* SPDX-License-Identifier: MIT */
/*
 * vqb_env.h - the machine vqbench runs on: DPDK's EAL, the CPU and cache
 * topology (hwloc) and the NUMA nodes (libnuma). bench/ and dev/ only.
 */
#ifndef VQB_ENV_H
#define VQB_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vqb_env {
	/* hwloc */
	char cpu_model[128];
	unsigned packages, cores, pus;
	uint64_t l1d_bytes, l2_bytes, l3_bytes; /* 0 = unknown */
	/* data TLB entries from CPUID (AMD leaves 0x80000005/6, Intel leaf
	 * 0x18): [0] 4 KiB pages, [1] 2 MiB pages; 0 = unknown. Reach =
	 * entries x page size: what a working set can span without a miss. */
	unsigned dtlb_l1[2], dtlb_l2[2];
	/* libnuma */
	int numa_nodes; /* -1: NUMA not available */
	/* hugepages (from /proc) */
	uint64_t hugepage_bytes;  /* default hugepage size */
	uint64_t hugepages_free;  /* free default-size hugepages */
	bool hugetlbfs_mounted;
	/* DPDK EAL */
	bool eal_up;
	bool eal_no_huge; /* EAL runs on ordinary memory (no hugepages reserved) */
	char eal_version[64];
	unsigned eal_lcores;
	/* kernel, host */
	char kernel[128];
	char host[80];
};

/** Read topology and NUMA (no EAL). @return 0 or -errno (message printed). */
int vqb_env_probe(struct vqb_env *env);

/** Initialise DPDK's EAL on lcores `cores` (e.g. "0-1"), with --no-huge
 * when no hugepages are free. Prints one notice line to stderr when it falls
 * back to --no-huge unless quiet. @return 0 or -errno (message printed). */
int vqb_env_eal_init(struct vqb_env *env, const char *cores, bool quiet);
void vqb_env_eal_fini(struct vqb_env *env);

/** Print what was found, one "key: value" line each. */
void vqb_env_print(const struct vqb_env *env, void *file);

#endif
