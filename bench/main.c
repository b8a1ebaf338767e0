/* SPDX-License-Identifier: MIT */
/*
 * vqbench - what does it cost to remember the DMA address of every
 * descriptor in a virtqueue, and when is it safe not to?
 *
 * Pipeline: options -> plan (cartesian sweep) -> run -> rows -> sinks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hwloc.h>
#include <numa.h>
#include <rte_version.h>

#include "vqb_env.h"
#include "vqb_version.h"

/* Exit codes (documented in --help and the README). */
enum {
	VQB_EXIT_OK = 0,
	VQB_EXIT_FAIL = 1,   /* a run failed, or a check fell short */
	VQB_EXIT_USAGE = 2,  /* bad option or value */
	VQB_EXIT_ENV = 3,    /* the machine cannot run it (EAL, topology) */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vqbench [OPTIONS]\n"
		"\n"
		"Measures what DMA-address tracking costs a virtio driver (memory and\n"
		"packets per second) on split and packed virtqueues, and which DMA\n"
		"setups make skipping unmap wrong rather than merely faster.\n"
		"\n"
		"Options:\n"
		"  --sysinfo       initialise DPDK's EAL, read the topology (hwloc) and\n"
		"                  NUMA nodes (libnuma), print what was found, exit\n"
		"  --version       print the version and the libraries it was built with\n"
		"  -h, --help      this text\n"
		"\n"
		"Exit codes: 0 ok, 1 a run failed, 2 bad option or value, 3 the machine\n"
		"cannot run it (EAL or topology failure).\n");
}

static int cmd_version(void)
{
	printf("vqbench %s (git %s)\n", VQB_VERSION, VQB_GIT_REV);
	printf("built with: %s, hwloc %s, libnuma API %d\n", rte_version(),
	       HWLOC_VERSION, LIBNUMA_API_VERSION);
	return VQB_EXIT_OK;
}

static int cmd_sysinfo(void)
{
	struct vqb_env env;

	cmd_version();
	if (vqb_env_probe(&env) < 0)
		return VQB_EXIT_ENV;
	if (vqb_env_eal_init(&env, "0", false) < 0)
		return VQB_EXIT_ENV;
	vqb_env_print(&env, stdout);
	vqb_env_eal_fini(&env);
	return VQB_EXIT_OK;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return VQB_EXIT_OK;
		}
		if (!strcmp(a, "--version"))
			return cmd_version();
		if (!strcmp(a, "--sysinfo"))
			return cmd_sysinfo();
		fprintf(stderr, "vqbench: unknown option '%s' (see vqbench --help)\n", a);
		return VQB_EXIT_USAGE;
	}
	return cmd_sysinfo();
}
