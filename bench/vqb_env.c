/* SPDX-License-Identifier: MIT */
/*
 * vqb_env.c - probe the machine: hwloc topology, libnuma nodes, hugepages,
 * and DPDK EAL initialisation.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <hwloc.h>
#include <numa.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_version.h>

#include "vqb_env.h"

static uint64_t cache_size(hwloc_topology_t topo, hwloc_obj_type_t type)
{
	hwloc_obj_t o = hwloc_get_obj_by_type(topo, type, 0);
	return o && o->attr ? o->attr->cache.size : 0;
}

static void read_hugepages(struct vqb_env *env)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			unsigned long long v;
			if (sscanf(line, "HugePages_Free: %llu", &v) == 1)
				env->hugepages_free = v;
			else if (sscanf(line, "Hugepagesize: %llu kB", &v) == 1)
				env->hugepage_bytes = v * 1024;
		}
		fclose(f);
	}
	f = fopen("/proc/mounts", "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (strstr(line, " hugetlbfs "))
				env->hugetlbfs_mounted = true;
		fclose(f);
	}
}

/* Data TLB sizes from CPUID (hwloc does not report TLBs). */
static void read_dtlb(struct vqb_env *env)
{
	unsigned a, b, c, d;
	if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000006 &&
	    __get_cpuid(0, &a, &b, &c, &d) && b == 0x68747541 /* "Auth"enticAMD */) {
		__get_cpuid(0x80000005, &a, &b, &c, &d);
		env->dtlb_l1[0] = (b >> 16) & 0xff; /* EBX: 4 KiB L1 DTLB */
		env->dtlb_l1[1] = (a >> 16) & 0xff; /* EAX: 2 MiB L1 DTLB */
		__get_cpuid(0x80000006, &a, &b, &c, &d);
		env->dtlb_l2[0] = (b >> 16) & 0xfff;
		env->dtlb_l2[1] = (a >> 16) & 0xfff;
		return;
	}
	/* Intel: leaf 0x18, one sub-leaf per translation cache */
	if (__get_cpuid(0, &a, &b, &c, &d) && a >= 0x18) {
		unsigned max;
		__cpuid_count(0x18, 0, max, b, c, d);
		for (unsigned sub = 0; sub <= max && sub < 64; sub++) {
			__cpuid_count(0x18, sub, a, b, c, d);
			unsigned type = d & 0x1f, level = (d >> 5) & 7, entries = (b >> 16) * c;
			if (type != 1 && type != 3) /* data or unified TLB */
				continue;
			unsigned *slot = level == 1 ? env->dtlb_l1 : level == 2 ? env->dtlb_l2 : NULL;
			if (!slot)
				continue;
			if ((b & 1) && !slot[0])
				slot[0] = entries;
			if ((b & 2) && !slot[1])
				slot[1] = entries;
		}
	}
}

int vqb_env_probe(struct vqb_env *env)
{
	hwloc_topology_t topo;

	memset(env, 0, sizeof(*env));
	if (hwloc_topology_init(&topo) < 0 || hwloc_topology_load(topo) < 0) {
		fprintf(stderr, "vqbench: hwloc could not load the topology\n");
		return -EIO;
	}
	env->packages = (unsigned)hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
	env->cores = (unsigned)hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
	env->pus = (unsigned)hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
	env->l1d_bytes = cache_size(topo, HWLOC_OBJ_L1CACHE);
	env->l2_bytes = cache_size(topo, HWLOC_OBJ_L2CACHE);
	env->l3_bytes = cache_size(topo, HWLOC_OBJ_L3CACHE);
	read_dtlb(env);
	hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
	const char *model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
	snprintf(env->cpu_model, sizeof(env->cpu_model), "%s", model ? model : "unknown");
	hwloc_topology_destroy(topo);

	env->numa_nodes = numa_available() < 0 ? -1 : numa_num_configured_nodes();
	read_hugepages(env);

	struct utsname u;
	if (uname(&u) == 0) {
		snprintf(env->kernel, sizeof(env->kernel), "%.127s", u.release);
		snprintf(env->host, sizeof(env->host), "%.79s", u.nodename);
	}
	snprintf(env->eal_version, sizeof(env->eal_version), "%s", rte_version());
	return 0;
}

int vqb_env_eal_init(struct vqb_env *env, const char *cores, bool quiet)
{
	char prefix[64], lcores[64];
	char *argv[16];
	int argc = 0;

	snprintf(prefix, sizeof(prefix), "--file-prefix=vqbench%ld", (long)getpid());
	snprintf(lcores, sizeof(lcores), "-l%s", cores ? cores : "0");
	argv[argc++] = "vqbench";
	argv[argc++] = lcores;
	/* Never probe PCI: this machine's own network may be a PCI device. */
	argv[argc++] = "--no-pci";
	argv[argc++] = "--no-telemetry";
	/* EAL reserves virtual memory from 4 GiB up by default; start it at
	 * 16 TiB so the low address space stays free for --dma-mask runs,
	 * whose buffers must straddle 2^bits. */
	argv[argc++] = "--base-virtaddr=0x100000000000";
	argv[argc++] = "--log-level=3"; /* errors only: vqbench prints its own notices */
	argv[argc++] = prefix;
	/* hugepages only with a margin: other DPDK processes share them */
	env->eal_no_huge = !(env->hugetlbfs_mounted && env->hugepages_free * env->hugepage_bytes >= (128u << 20));
	if (env->eal_no_huge) {
		/* --no-huge implies legacy memory, which --in-memory refuses;
		 * --no-shconf keeps the run from leaving runtime files. */
		argv[argc++] = "--no-shconf";
		argv[argc++] = "--no-huge";
		argv[argc++] = "-m";
		argv[argc++] = "256";
		if (!quiet)
			fprintf(stderr, "vqbench: notice: no free hugepages (HugePages_Free=%llu, hugetlbfs %s): "
				"DPDK runs with --no-huge on 4 KiB pages; reserve some with scripts/hugepages.sh\n",
				(unsigned long long)env->hugepages_free,
				env->hugetlbfs_mounted ? "mounted" : "not mounted");
	} else {
		/* no --socket-mem: hugepages are taken as rings and pools need
		 * them, so concurrent DPDK processes share the reservation */
		argv[argc++] = "--in-memory";
	}
	argv[argc] = NULL;
	int rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "vqbench: DPDK EAL initialisation failed (%s, mode %s)\n",
			strerror(rte_errno), env->eal_no_huge ? "--no-huge" : "hugepages");
		return -(rte_errno ? rte_errno : EIO);
	}
	env->eal_up = true;
	env->eal_lcores = rte_lcore_count();
	return 0;
}

void vqb_env_eal_fini(struct vqb_env *env)
{
	if (env->eal_up) {
		/* EAL leaves its (empty) runtime directory behind. */
		char dir[256];
		snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
		rte_eal_cleanup();
		env->eal_up = false;
		rmdir(dir);
	}
}

static void print_size(FILE *f, const char *key, uint64_t b)
{
	if (!b)
		fprintf(f, "%-14s unknown\n", key);
	else if (b >= 1 << 20)
		fprintf(f, "%-14s %llu MiB\n", key, (unsigned long long)(b >> 20));
	else
		fprintf(f, "%-14s %llu KiB\n", key, (unsigned long long)(b >> 10));
}

void vqb_env_print(const struct vqb_env *env, void *file)
{
	FILE *f = file;
	fprintf(f, "%-14s %s\n", "cpu:", env->cpu_model);
	fprintf(f, "%-14s %u package(s), %u core(s), %u PU(s) (hwloc %s)\n", "topology:",
		env->packages, env->cores, env->pus, HWLOC_VERSION);
	print_size(f, "L1d:", env->l1d_bytes);
	print_size(f, "L2:", env->l2_bytes);
	print_size(f, "L3:", env->l3_bytes);
	for (int l = 0; l < 2; l++) {
		const unsigned *e = l ? env->dtlb_l2 : env->dtlb_l1;
		if (!e[0] && !e[1]) {
			fprintf(f, "%-14s unknown (CPUID)\n", l ? "dTLB L2:" : "dTLB L1:");
			continue;
		}
		fprintf(f, "%-14s %u entries 4 KiB (reach %u KiB), %u entries 2 MiB (reach %u MiB)\n",
			l ? "dTLB L2:" : "dTLB L1:", e[0], e[0] * 4, e[1], e[1] * 2);
	}
	if (env->numa_nodes < 0)
		fprintf(f, "%-14s not available (libnuma)\n", "numa nodes:");
	else
		fprintf(f, "%-14s %d (libnuma)\n", "numa nodes:", env->numa_nodes);
	fprintf(f, "%-14s %llu free of %llu KiB, hugetlbfs %s\n", "hugepages:",
		(unsigned long long)env->hugepages_free,
		(unsigned long long)(env->hugepage_bytes >> 10),
		env->hugetlbfs_mounted ? "mounted" : "not mounted");
	if (env->eal_up)
		fprintf(f, "%-14s %s, %u lcore(s), %s\n", "dpdk eal:", env->eal_version,
			env->eal_lcores, env->eal_no_huge ? "--no-huge (4 KiB pages)" : "hugepages");
	else
		fprintf(f, "%-14s %s, not initialised\n", "dpdk eal:", env->eal_version);
	fprintf(f, "%-14s %s (%s)\n", "kernel:", env->kernel, env->host);
}
