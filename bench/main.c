/* SPDX-License-Identifier: MIT */
/*
 * vqbench - what does it cost to remember the DMA address of every
 * descriptor in a virtqueue, and when is it safe not to?
 *
 * Pipeline: options (vqb_opts) -> plan, the cartesian sweep (vqb_plan) ->
 * check every configuration (vqb_run_check) -> CSV opened -> machine probed,
 * CPUs chosen, EAL up -> each (configuration, repetition) run (vqb_run_once)
 * -> CSV row + progress -> table rows -> warnings -> exit code.
 *
 * Refusals: a configuration vqb_run_check refuses is skipped with one
 * notice naming it, when the sweep has others to run; when every
 * configuration is refused (in particular the only one), vqbench exits 2.
 *
 * SIGINT/SIGTERM during a sweep: the handler only records the signal and
 * asks the traffic loop to stop (async-signal-safe atomic stores); the run
 * in progress is dropped, never written, so the CSV holds exactly the rows
 * finished before (each written and flushed whole); vqbench prints the
 * table of what completed and exits 128 + the signal number (130, 143).
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hwloc.h>
#include <numa.h>
#include <rte_version.h>

#include "vqb_check.h"
#include "vqb_csv.h"
#include "vqb_env.h"
#include "vqb_junit.h"
#include "vqb_opts.h"
#include "vqb_place.h"
#include "vqb_plan.h"
#include "vqb_report.h"
#include "vqb_run.h"
#include "vqb_traffic.h"
#include "vqb_version.h"

/* The signal that interrupted the sweep, 0 if none. Lock-free, so the
 * handler's store is async-signal-safe; relaxed: a flag, it orders nothing. */
static atomic_int stop_signal;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the signal flag must be lock-free");

static void on_stop_signal(int sig)
{
	atomic_store_explicit(&stop_signal, sig, memory_order_relaxed);
	vqb_traffic_request_stop();
}

/* A signal ignored at startup (nohup, a shell's background job) stays
 * ignored, as the caller asked. */
static void catch_stop_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old, sa = {.sa_handler = on_stop_signal, .sa_flags = SA_RESTART};
		sigemptyset(&sa.sa_mask);
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
}

static int interrupted(void)
{
	return atomic_load_explicit(&stop_signal, memory_order_relaxed);
}

static int cmd_version(void)
{
	printf("vqbench %s (git %s)\n", VQB_VERSION, VQB_GIT_REV);
	printf("built with: %s, hwloc %s, libnuma API %d\n", rte_version(),
	       HWLOC_VERSION, LIBNUMA_API_VERSION);
	return VQB_EXIT_OK;
}

/* --check FILE CSV...: 0 every bound holds, 1 one fell short, 2 a bad
 * thresholds file or CSV (the message names the file and line), or an
 * unwritable --junit file. --junit -: the XML on stdout, the lines on stderr. */
static int cmd_check(const struct vqb_opts *o)
{
	struct vqb_check *c;
	char msg[1024];
	int rc = vqb_check_load(o->check_path, &c, msg, sizeof(msg));

	if (rc < 0) {
		fprintf(stderr, "vqbench: %s\n", rc == -ENOMEM ? "out of memory" : msg);
		return rc == -ENOMEM ? VQB_EXIT_FAIL : VQB_EXIT_USAGE;
	}
	for (unsigned i = 0; i < o->nargs; i++) {
		rc = vqb_check_add_csv(c, o->args[i], msg, sizeof(msg));
		if (rc < 0) {
			fprintf(stderr, "vqbench: --check: %s\n", msg);
			vqb_check_free(c);
			return VQB_EXIT_USAGE;
		}
	}
	bool junit_stdout = o->junit_path && !strcmp(o->junit_path, "-");
	size_t failed = vqb_check_eval(c, junit_stdout ? stderr : stdout);
	if (o->junit_path) {
		char tool[128];
		snprintf(tool, sizeof(tool), "vqbench %s (git %s)", VQB_VERSION, VQB_GIT_REV);
		rc = vqb_junit_write(c, o->junit_path, tool, msg, sizeof(msg));
		if (rc < 0)
			fprintf(stderr, "vqbench: %s\n", msg);
	}
	vqb_check_free(c);
	if (rc < 0)
		return VQB_EXIT_USAGE;
	return failed ? VQB_EXIT_FAIL : VQB_EXIT_OK;
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

/* Drop the configurations vqb_run_check refuses, one notice each.
 * @return 0, or VQB_EXIT_USAGE when none is left. */
static int check_plan(struct vqb_plan *p)
{
	char msg[512], label[256];
	size_t total = p->n, refused = 0;

	for (size_t i = 0; i < p->n;) {
		msg[0] = '\0';
		if (vqb_run_check(&p->cfg[i], msg, sizeof(msg)) >= 0 &&
		    (p->order != VQB_ORDER_BLOCKS || vqb_run_blocks_check(&p->cfg[i], msg, sizeof(msg)) >= 0)) {
			i++;
			continue;
		}
		refused++;
		if (total == 1)
			fprintf(stderr, "vqbench: %s\n", msg);
		else
			fprintf(stderr, "vqbench: skipping configuration %s: %s\n",
				vqb_plan_label(p, &p->cfg[i], label, sizeof(label)), msg);
		vqb_plan_remove(p, i);
	}
	if (!p->n) {
		if (total > 1)
			fprintf(stderr, "vqbench: all %zu configurations were refused; nothing to run\n", total);
		return VQB_EXIT_USAGE;
	}
	if (refused)
		fprintf(stderr, "vqbench: %zu of %zu configurations skipped\n", refused, total);
	return 0;
}

/* Choose the CPUs once for the whole sweep, so every run uses the same
 * ones and the EAL runs on the first pair (queue 0's driver and device):
 * as many as the largest configuration has threads (--queues: a driver per
 * queue, and a device per queue for the thread device). */
static int choose_cores(struct vqb_plan *p, const struct vqb_opts *o, char *lcores, size_t len)
{
	struct vqb_placement pl;
	char msg[512];
	bool thread = false;
	unsigned want = 2, shared_q = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct vqb_config *c = &p->cfg[i];
		unsigned need = c->device == VQB_DEV_THREAD ? 2 * c->queues : c->queues;
		thread |= c->device == VQB_DEV_THREAD;
		if (need > want)
			want = need;
	}
	if (vqb_place_choose(p->cfg[0].cores, p->cfg[0].ncores, want, &pl, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "vqbench: %s\n", msg);
		return p->cfg[0].ncores ? VQB_EXIT_USAGE : VQB_EXIT_ENV;
	}
	if (thread && pl.driver_cpu == pl.device_cpu) {
		fprintf(stderr, "vqbench: the thread device needs two CPUs and this process may use only CPU %d "
			"(widen the affinity, or use --device inline)\n", pl.driver_cpu);
		return VQB_EXIT_ENV;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct vqb_config *c = &p->cfg[i];
		memcpy(c->cores, pl.cpu, sizeof(c->cores));
		c->ncores = (uint16_t)pl.ncpus;
		if (c->device == VQB_DEV_INLINE && c->queues > pl.ncpus && c->queues > shared_q)
			shared_q = c->queues;
	}
	if (pl.driver_cpu == pl.device_cpu)
		snprintf(lcores, len, "%d", pl.driver_cpu);
	else
		snprintf(lcores, len, "%d,%d", pl.driver_cpu, pl.device_cpu);
	if (o->quiet)
		return 0;
	fprintf(stderr, "vqbench: driver on CPU %d, device on CPU %d, shared cache %s (%s)\n",
		pl.driver_cpu, pl.device_cpu, pl.shared_cache, pl.why);
	if (want > 2 && pl.ncpus > 2) {
		fprintf(stderr, "vqbench: --queues: CPUs in order of use:");
		for (unsigned i = 0; i < pl.ncpus; i++)
			fprintf(stderr, "%s%d", i ? "," : " ", pl.cpu[i]);
		fprintf(stderr, " (thread device: driver,device of queue 0, then of queue 1, ...)\n");
	}
	if (shared_q)
		fprintf(stderr, "vqbench: notice: --queues %u with --device inline on %u CPU%s: queues share CPUs, so "
			"their rates are a correctness check, not a scaling measurement (CSV column cpus_shared = 1)\n",
			shared_q, pl.ncpus, pl.ncpus == 1 ? "" : "s");
	return 0;
}

static void run_info(struct vqb_run_info *info, const struct vqb_env *env)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->vqbench_version, sizeof(info->vqbench_version), "%s", VQB_VERSION);
	snprintf(info->git_rev, sizeof(info->git_rev), "%s", VQB_GIT_REV);
	snprintf(info->host, sizeof(info->host), "%s", env->host);
	snprintf(info->cpu_model, sizeof(info->cpu_model), "%s", env->cpu_model);
	snprintf(info->kernel, sizeof(info->kernel), "%s", env->kernel);
}

/* --order blocks: each block's row, as sweep writes a run's. */
struct block_sink {
	struct vqb_csv *csv, *json;
	struct vqb_report *rep;
	struct vqb_run_info info;
	const struct vqb_plan *p;
};

static int block_row(void *ctx, const struct vqb_step *s, struct vqb_metrics *m, int rc, const char *why)
{
	struct block_sink *k = ctx;
	char msg[512];
	const struct vqb_config *cfg = &k->p->cfg[s->cfg];
	vqb_report_progress(k->rep, s);
	if (!s->warmup) {
		vqb_csv_stamp(&k->info);
		if (vqb_csv_write_row(k->csv, &k->info, cfg, m, msg, sizeof(msg)) < 0 ||
		    (k->json && vqb_csv_write_row(k->json, &k->info, cfg, m, msg, sizeof(msg)) < 0)) {
			fprintf(stderr, "vqbench: %s\n", msg);
			return -EIO;
		}
	}
	snprintf(msg, sizeof(msg), "%s", why);
	vqb_report_result(k->rep, s, m, rc, msg);
	return 0;
}

static int sweep_blocks(struct vqb_plan *p, struct vqb_csv *csv, struct vqb_csv *json,
			const struct vqb_env *env, struct vqb_report *rep)
{
	struct block_sink k = { .csv = csv, .json = json, .rep = rep, .p = p };
	run_info(&k.info, env);
	int rc = vqb_run_blocks(p, env, block_row, &k);
	unsigned failed = vqb_report_finish(rep);
	return rc == -EIO || failed ? VQB_EXIT_FAIL : VQB_EXIT_OK;
}

static int sweep(struct vqb_plan *p, struct vqb_csv *csv, struct vqb_csv *json,
		 const struct vqb_env *env, struct vqb_report *rep)
{
	if (p->order == VQB_ORDER_BLOCKS)
		return sweep_blocks(p, csv, json, env, rep);

	struct vqb_run_info info;
	struct vqb_metrics m;
	struct vqb_step s;
	char msg[512];
	size_t runs = vqb_plan_runs(p);

	run_info(&info, env);
	for (size_t k = 0; k < runs && !interrupted(); k++) {
		vqb_plan_step(p, k, &s);
		const struct vqb_config *cfg = &p->cfg[s.cfg];
		vqb_report_progress(rep, &s);
		vqb_metrics_clear(&m);
		m.rep = s.rep;
		m.warmup = s.warmup;
		msg[0] = '\0';
		int rc = vqb_run_once(cfg, env, &m, msg, sizeof(msg));
		if (interrupted())
			break; /* cut short: its row is dropped, never half-written */
		/* a failed run keeps its row, marked, with what it measured */
		/* vqb_run_once sets "exhausted" itself (a result, even where rc is 0) */
		if (!m.status[0])
			snprintf(m.status, sizeof(m.status), "%s", rc < 0 ? "failed" : "ok");
		snprintf(m.error, sizeof(m.error), "%.*s", (int)sizeof(m.error) - 1,
			 rc < 0 || strcmp(m.status, "ok") ? msg : "");
		if (!s.warmup) {
			vqb_csv_stamp(&info);
			if (vqb_csv_write_row(csv, &info, cfg, &m, msg, sizeof(msg)) < 0 ||
			    (json && vqb_csv_write_row(json, &info, cfg, &m, msg, sizeof(msg)) < 0)) {
				vqb_report_finish(rep);
				fprintf(stderr, "vqbench: %s\n", msg);
				return VQB_EXIT_FAIL;
			}
		}
		vqb_report_result(rep, &s, &m, rc, msg);
	}
	return vqb_report_finish(rep) ? VQB_EXIT_FAIL : VQB_EXIT_OK;
}

/* Before any run: an unwritable CSV or JSON path is a usage error. */
static int open_outputs(const struct vqb_opts *o, struct vqb_csv **csv, struct vqb_csv **json)
{
	char msg[1024];

	if (vqb_csv_open(o->csv_path, csv, msg, sizeof(msg)) < 0 ||
	    (o->json_path && vqb_sink_open(o->json_path, true, json, msg, sizeof(msg)) < 0)) {
		fprintf(stderr, "vqbench: %s\n", msg);
		return VQB_EXIT_USAGE;
	}
	return VQB_EXIT_OK;
}

/* The sweep and its report: the options and the plan first, then every
 * run, then where the rows went (on stderr when rows go to stdout). */
static int report_sweep(const struct vqb_opts *o, struct vqb_plan *plan, struct vqb_csv *csv,
			struct vqb_csv *json, const struct vqb_env *env)
{
	char msg[1024];
	bool csv_stdout = !strcmp(vqb_csv_path(csv), "-") || (json && !strcmp(vqb_csv_path(json), "-"));
	struct vqb_report_opts ro = {
		.out = csv_stdout ? stderr : stdout,
		.err = stderr,
		.progress = !o->quiet && isatty(STDERR_FILENO),
	};
	struct vqb_report *rep = vqb_report_new(plan, &ro);
	if (!rep) {
		fprintf(stderr, "vqbench: out of memory\n");
		return VQB_EXIT_FAIL;
	}
	vqb_opts_echo(o, ro.out);
	vqb_plan_describe(plan, msg, sizeof(msg));
	fprintf(ro.out, "%s\n", msg);
	fflush(ro.out);
	int rc = sweep(plan, csv, json, env, rep);
	if (interrupted()) {
		int sig = interrupted();
		fprintf(stderr, "vqbench: interrupted by %s: %lu complete rows written; the run in "
			"progress was dropped\n", sig == SIGINT ? "SIGINT" : "SIGTERM", vqb_csv_rows(csv));
		rc = 128 + sig;
	}
	if (strcmp(vqb_csv_path(csv), "-"))
		fprintf(ro.out, "\ncsv: %s (%lu rows)\n", vqb_csv_path(csv), vqb_csv_rows(csv));
	if (json && strcmp(vqb_csv_path(json), "-"))
		fprintf(ro.out, "json: %s (%lu rows)\n", vqb_csv_path(json), vqb_csv_rows(json));
	vqb_report_free(rep);
	return rc;
}

/* Close the CSV and JSON files (a failed write fails a run that was ok);
 * where nothing ran, remove the file that holds no row. @return rc */
static int close_outputs(const struct vqb_opts *o, struct vqb_csv *csv, struct vqb_csv *json, int rc)
{
	if (csv) {
		bool empty = !vqb_csv_rows(csv) && strcmp(vqb_csv_path(csv), "-");
		char path[4096];
		snprintf(path, sizeof(path), "%s", vqb_csv_path(csv));
		if (vqb_csv_close(csv) < 0 && rc == VQB_EXIT_OK) {
			fprintf(stderr, "vqbench: cannot write the CSV file '%s'\n", path);
			rc = VQB_EXIT_FAIL;
		}
		if (empty && (rc == VQB_EXIT_ENV || rc == VQB_EXIT_USAGE || interrupted()))
			remove(path); /* nothing ran: leave no header-only file */
	}
	if (json) {
		bool empty = !vqb_csv_rows(json) && strcmp(o->json_path, "-");
		if (vqb_csv_close(json) < 0 && rc == VQB_EXIT_OK) {
			fprintf(stderr, "vqbench: cannot write the JSON file '%s'\n", o->json_path);
			rc = VQB_EXIT_FAIL;
		}
		if (empty && (rc == VQB_EXIT_ENV || rc == VQB_EXIT_USAGE || interrupted()))
			remove(o->json_path); /* nothing ran: no empty file */
	}
	return rc;
}

static int cmd_run(const struct vqb_opts *o)
{
	struct vqb_plan plan;
	struct vqb_env env;
	struct vqb_csv *csv = NULL, *json = NULL;
	char lcores[32];
	int rc;

	catch_stop_signals();
	rc = vqb_plan_build(o, &plan);
	if (rc == -E2BIG) {
		fprintf(stderr, "vqbench: the sweep has more than %d configurations; give shorter lists\n",
			VQB_PLAN_MAX);
		return VQB_EXIT_USAGE;
	} else if (rc < 0) {
		fprintf(stderr, "vqbench: cannot build the sweep: %s\n", strerror(-rc));
		return VQB_EXIT_FAIL;
	}
	if ((rc = check_plan(&plan)) || (rc = open_outputs(o, &csv, &json)) ||
	    (rc = choose_cores(&plan, o, lcores, sizeof(lcores))))
		goto out;
	if (vqb_env_probe(&env) < 0 || vqb_env_eal_init(&env, lcores, o->quiet) < 0) {
		rc = VQB_EXIT_ENV;
		goto out;
	}
	if (!o->quiet)
		fprintf(stderr, "vqbench: caches (hwloc): L1d %llu KiB, L2 %llu KiB, L3 %llu KiB\n",
			(unsigned long long)(env.l1d_bytes >> 10), (unsigned long long)(env.l2_bytes >> 10),
			(unsigned long long)(env.l3_bytes >> 10));
	rc = report_sweep(o, &plan, csv, json, &env);
	vqb_env_eal_fini(&env);
out:
	rc = close_outputs(o, csv, json, rc);
	vqb_plan_free(&plan);
	return rc;
}

int main(int argc, char **argv)
{
	static struct vqb_opts o; /* large: every option's value list */
	char msg[1024];

	if (vqb_opts_parse(&o, argc, argv, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "vqbench: %s\n", msg);
		return VQB_EXIT_USAGE;
	}
	if (o.help) {
		vqb_opts_help(stdout);
		return VQB_EXIT_OK;
	}
	if (o.version)
		return cmd_version();
	if (o.list_columns) {
		vqb_csv_list_columns(stdout, o.format);
		return VQB_EXIT_OK;
	}
	if (o.sysinfo)
		return cmd_sysinfo();
	if (o.check_path)
		return cmd_check(&o);
	return cmd_run(&o);
}
