/* SPDX-License-Identifier: MIT */
/*
 * test_cli_options - vqbench's option table: every bad value of every
 * option is refused with one line naming the flag, the value and what is
 * allowed; unknown flags, --packets with --seconds, options given twice;
 * lists, --opt=value, the defaults (the default study), the plan's order,
 * and that --help and --list-columns list every option and column.
 */
#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vqb_csv.h"
#include "vqb_opts.h"
#include "vqb_plan.h"
#include "vqb_test.h"

/* REQUIRE evaluates its condition twice: ONCE evaluates it once, so a
 * condition with side effects (parse, build, open) runs once. */
#define ONCE(cond, ...)                                                        \
	do {                                                                   \
		bool once_ = (cond);                                           \
		REQUIRE(once_, __VA_ARGS__);                                   \
	} while (0)

static struct vqb_opts o;
static char msg[1024];

/* Parse a command line given as one string of space-separated words. */
static int parse(const char *line)
{
	static char buf[1024];
	char *argv[64];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	argv[argc++] = "vqbench";
	for (char *t = strtok(buf, " "); t && argc < 63; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	return vqb_opts_parse(&o, argc, argv, msg, sizeof(msg));
}

/* Parse argv as given (for values that hold spaces or are empty). */
static int parse2(const char *a, const char *b)
{
	char *argv[] = { "vqbench", (char *)a, (char *)b, NULL };
	return vqb_opts_parse(&o, b ? 3 : 2, argv, msg, sizeof(msg));
}

/* A refused value: -EINVAL, one line naming --flag, 'value' and the
 * allowed values from the table. */
static void expect_bad(enum vqb_opt_id id, const char *value)
{
	char want_flag[64], want_value[128], allowed[512], want_allowed[600];
	const char *name = vqb_options[id].name;

	int rc;
	snprintf(want_flag, sizeof(want_flag), "--%s", name);
	if (vqb_options[id].arg == VQB_ARG_FLAG) {
		/* value is the whole argument, e.g. "--quiet=1" */
		rc = parse2(value, NULL);
		snprintf(want_value, sizeof(want_value), "'%s'", strchr(value, '=') + 1);
	} else {
		rc = parse2(want_flag, value);
		snprintf(want_value, sizeof(want_value), "'%s'", value);
	}
	vqb_opt_allowed(id, allowed, sizeof(allowed));
	snprintf(want_allowed, sizeof(want_allowed), "(allowed: %s)", allowed);
	CHECK(rc == -EINVAL, "--%s %s: parse returned %d, want -EINVAL", name, value, rc);
	CHECK(!strncmp(msg, want_flag, strlen(want_flag)), "--%s %s: message does not start with the flag: %s",
	      name, value, msg);
	CHECK(strstr(msg, want_value), "--%s %s: message does not quote the value: %s", name, value, msg);
	CHECK(strstr(msg, want_allowed), "--%s %s: message does not say what is allowed (%s): %s",
	      name, value, want_allowed, msg);
	CHECK(!strchr(msg, '\n'), "--%s %s: message is more than one line", name, value);
}

/* Bad values per kind of argument; every option of the table is tried
 * with every bad value of its kind. */
static void bad_values_of_every_option(void)
{
	static const char *const uint_bad[] = { "3x", "-1", "", " 5", "0x10", "1.5", "99999999999999999999999", NULL };
	static const char *const sec_bad[] = { "abc", "0", "-1", "inf", "nan", "1s", "", "3601", NULL };
	static const char *const onoff_bad[] = { "yes", "ON", "1", "", NULL };
	static const char *const name_bad[] = { "bogus", "", "Split", "full ", NULL };
	static const char *const descs_bad[] = { "0", "20", "5-2", "x", "1-20", "0-3", "-3", "3-", "mixx", NULL };
	static const char *const cores_bad[] = { "0,0", "a,b", "1", "0,99999", "0,1,0", "0,,1", "0,1,", "", NULL };
	static const char *const node_bad[] = { "99999", "x", "-1", "", NULL };
	static const char *const path_bad[] = { "", NULL };
	unsigned tried = 0;

	for (int id = 0; id < VQB_OPT_COUNT; id++) {
		const struct vqb_option *op = &vqb_options[id];
		const char *const *bad = NULL;
		char extra[2][64];

		switch (op->arg) {
		case VQB_ARG_FLAG: {
			char arg[64];
			snprintf(arg, sizeof(arg), "--%s=1", op->name);
			expect_bad((enum vqb_opt_id)id, arg);
			tried++;
			continue;
		}
		case VQB_ARG_UINT:
			bad = uint_bad;
			/* just outside the range */
			snprintf(extra[0], sizeof(extra[0]), "%llu", (unsigned long long)op->max + 1);
			expect_bad((enum vqb_opt_id)id, extra[0]);
			tried++;
			if (op->min > 0) {
				snprintf(extra[1], sizeof(extra[1]), "%llu", (unsigned long long)op->min - 1);
				expect_bad((enum vqb_opt_id)id, extra[1]);
				tried++;
			}
			break;
		case VQB_ARG_SECONDS: bad = sec_bad; break;
		case VQB_ARG_ONOFF: bad = onoff_bad; break;
		case VQB_ARG_ENUM:
		case VQB_ARG_NAME: bad = name_bad; break;
		case VQB_ARG_DESCS: bad = descs_bad; break;
		case VQB_ARG_CORES: bad = cores_bad; break;
		case VQB_ARG_NODE: bad = node_bad; break;
		case VQB_ARG_PATH: bad = path_bad; break;
		}
		for (unsigned k = 0; bad[k]; k++, tried++) {
			/* An empty value or a leading space is still a value. */
			expect_bad((enum vqb_opt_id)id, bad[k]);
		}
		/* a list with an empty item, and a list for a one-value option */
		if (op->arg != VQB_ARG_PATH && op->arg != VQB_ARG_CORES) {
			char v[64];
			snprintf(v, sizeof(v), "%s,", op->def ? op->def : "1");
			expect_bad((enum vqb_opt_id)id, v);
			tried++;
		}
	}
	printf("ok: %u bad values over %d options refused with flag, value and allowed values\n",
	       tried, VQB_OPT_COUNT);
}

static void unknown_and_conflicts(void)
{
	CHECK(parse("--foo") == -EINVAL && !strcmp(msg, "unknown option '--foo' (see vqbench --help)"),
	      "unknown option: %s", msg);
	CHECK(parse("--foo=3") == -EINVAL && strstr(msg, "'--foo'"), "unknown option with value: %s", msg);
	CHECK(parse("-x") == -EINVAL && strstr(msg, "'-x'"), "unknown short option: %s", msg);
	CHECK(parse("split") == -EINVAL && strstr(msg, "'split'"), "positional argument: %s", msg);
	CHECK(parse("--packets 1000 --seconds 1") == -EINVAL && strstr(msg, "--packets") &&
	      strstr(msg, "--seconds") && strstr(msg, "'1000'") && strstr(msg, "'1'"),
	      "--packets with --seconds: %s", msg);
	CHECK(parse("--seconds=2 --packets=5") == -EINVAL && strstr(msg, "--packets") && strstr(msg, "--seconds"),
	      "--seconds with --packets: %s", msg);
	CHECK(parse("--layout split --layout packed") == -EINVAL && strstr(msg, "--layout") &&
	      strstr(msg, "twice"), "given twice: %s", msg);
	CHECK(parse("--layout") == -EINVAL && strstr(msg, "--layout: missing value (allowed: split"),
	      "missing value: %s", msg);
	CHECK(parse("--layout --policy full") == -EINVAL && strstr(msg, "--layout: missing value"),
	      "value that is the next option: %s", msg);
	CHECK(parse("--policy full,full") == -EINVAL && strstr(msg, "'full' is listed twice"),
	      "duplicate list value: %s", msg);
	CHECK(parse("--descs 4,4-4") == -EINVAL && strstr(msg, "twice"), "4-4 is 4: %s", msg);
	CHECK(parse("--queues 1,65") == -EINVAL && !strcmp(msg, "--queues: '65' is out of range (allowed: 1..64)"),
	      "--queues above 64: %s", msg);
	CHECK(parse("--queues 2,1,2") == -EINVAL && strstr(msg, "--queues: '2' is listed twice"), "--queues twice: %s", msg);
	CHECK(parse("--queues 0") == -EINVAL && strstr(msg, "--queues: '0' is out of range"), "--queues 0: %s", msg);
	CHECK(parse("--cores 0,1,1") == -EINVAL && strstr(msg, "--cores: '0,1,1' names CPU 1 twice (allowed: auto, or 2.."),
	      "--cores with a CPU twice: %s", msg);
	printf("ok: unknown options, positional arguments, --packets with --seconds, repeats, missing values\n");
}

static void lists_and_forms(void)
{
	struct vqb_plan p;

	ONCE(parse("--layout=split,packed --policy full,skip --descs 1,2-4,mix --queue-size 64 "
		      "--packets=1000 --reps 2 --warmup 0 --cores auto --csv - -q") == 0, "%s", msg);
	CHECK(o.val[VQB_OPT_LAYOUT].n == 2 && o.val[VQB_OPT_POLICY].n == 2 && o.val[VQB_OPT_DESCS].n == 3,
	      "list lengths %u %u %u", o.val[VQB_OPT_LAYOUT].n, o.val[VQB_OPT_POLICY].n, o.val[VQB_OPT_DESCS].n);
	CHECK(o.quiet && o.csv_path && !strcmp(o.csv_path, "-"), "run-level options stored");
	ONCE(vqb_plan_build(&o, &p) == 0, "plan");
	CHECK(p.n == 12, "2 layouts x 2 policies x 3 descs = %zu configurations", p.n);
	/* table order: layout slowest, then descs, then policy */
	const struct vqb_config *c0 = &p.cfg[0], *c1 = &p.cfg[1], *c11 = &p.cfg[11];
	CHECK(c0->layout == VQB_LAYOUT_SPLIT && c0->descs_kind == VQB_DESCS_FIXED && c0->descs_lo == 1 &&
	      !strcmp(c0->policy, "full"), "first configuration");
	CHECK(c1->layout == VQB_LAYOUT_SPLIT && c1->descs_lo == 1 && !strcmp(c1->policy, "skip"),
	      "policy varies fastest among the lists");
	CHECK(p.cfg[2].descs_kind == VQB_DESCS_RANGE && p.cfg[2].descs_lo == 2 && p.cfg[2].descs_hi == 4,
	      "2-4 is a range");
	CHECK(c11->layout == VQB_LAYOUT_PACKED && c11->descs_kind == VQB_DESCS_MIX && c11->descs_lo == 1 &&
	      c11->descs_hi == 19 && !strcmp(c11->policy, "skip") && c11->index == 11, "last configuration");
	CHECK(c0->queue_size == 64 && c0->packets == 1000 && c0->seconds == 0 && c0->reps == 2 &&
	      c0->warmup == 0 && c0->ncores == 0 && c0->mem_node == -1 && c0->batch == 32 && c0->queues == 1,
	      "single values and defaults reach every configuration");
	char label[128];
	vqb_plan_label(&p, &p.cfg[2], label, sizeof(label));
	CHECK(!strcmp(label, "split descs=2-4 full"), "label names the varying options: '%s'", label);

	/* interleaved order: rep 0 of every configuration, then rep 1 */
	struct vqb_step s;
	CHECK(vqb_plan_runs(&p) == 24, "runs %zu", vqb_plan_runs(&p));
	vqb_plan_step(&p, 0, &s);
	CHECK(s.cfg == 0 && s.rep == 0 && !s.warmup && !s.last, "step 0");
	vqb_plan_step(&p, 11, &s);
	CHECK(s.cfg == 11 && s.rep == 0, "step 11: cfg %zu rep %u", s.cfg, s.rep);
	vqb_plan_step(&p, 12, &s);
	CHECK(s.cfg == 0 && s.rep == 1 && s.last, "step 12: cfg %zu rep %u", s.cfg, s.rep);
	vqb_plan_remove(&p, 0);
	CHECK(p.n == 11 && p.cfg[0].index == 0 && !strcmp(p.cfg[0].policy, "skip"), "remove renumbers");
	vqb_plan_free(&p);

	/* sequential order, with warmups right before rep 0 */
	ONCE(parse("--policy full,skip --layout split --descs 1 --reps 3 --warmup 2 --order sequential") == 0,
		"%s", msg);
	ONCE(vqb_plan_build(&o, &p) == 0, "plan");
	unsigned seen[2][5] = { { 0 } };
	for (size_t k = 0; k < vqb_plan_runs(&p); k++) {
		vqb_plan_step(&p, k, &s);
		CHECK(s.cfg == k / 5, "sequential: step %zu is configuration %zu", k, s.cfg);
		seen[s.cfg][s.warmup ? s.rep : 2 + s.rep]++;
		CHECK(s.warmup == (k % 5 < 2), "sequential: warmups first (step %zu)", k);
	}
	for (int c = 0; c < 2; c++)
		for (int j = 0; j < 5; j++)
			CHECK(seen[c][j] == 1, "sequential: cfg %d slot %d ran %u times", c, j, seen[c][j]);
	vqb_plan_free(&p);

	/* interleaved with warmups: every (cfg, slot) exactly once, warmups before rep 0 */
	ONCE(parse("--policy full,compact,skip --layout split --descs 1 --reps 3 --warmup 2") == 0, "%s", msg);
	ONCE(vqb_plan_build(&o, &p) == 0, "plan");
	unsigned seen3[3][5] = { { 0 } };
	int pos_rep0[3], pos_warm[3] = { -1, -1, -1 };
	for (size_t k = 0; k < vqb_plan_runs(&p); k++) {
		vqb_plan_step(&p, k, &s);
		seen3[s.cfg][s.warmup ? s.rep : 2 + s.rep]++;
		if (s.warmup)
			pos_warm[s.cfg] = (int)k;
		else if (s.rep == 0)
			pos_rep0[s.cfg] = (int)k;
	}
	for (int c = 0; c < 3; c++) {
		CHECK(pos_warm[c] + 1 == pos_rep0[c], "interleave: cfg %d warmup right before rep 0", c);
		for (int j = 0; j < 5; j++)
			CHECK(seen3[c][j] == 1, "interleave: cfg %d slot %d ran %u times", c, j, seen3[c][j]);
	}
	vqb_plan_free(&p);
	/* --queues is a sweep axis; --cores a list in order of use */
	ONCE(parse("--queues 1,2,4 --layout split --policy full --descs 1") == 0, "%s", msg);
	ONCE(vqb_plan_build(&o, &p) == 0, "plan");
	CHECK(p.n == 3 && p.cfg[0].queues == 1 && p.cfg[1].queues == 2 && p.cfg[2].queues == 4 && p.varies[VQB_OPT_QUEUES],
	      "--queues 1,2,4: %zu configurations", p.n);
	vqb_plan_label(&p, &p.cfg[2], label, sizeof(label));
	CHECK(!strcmp(label, "queues=4"), "label '%s'", label);
	vqb_plan_free(&p);
	printf("ok: lists, --opt=value, cartesian order, labels, interleaved and sequential run order, --queues\n");
}

static void defaults_are_the_default_study(void)
{
	struct vqb_plan p;
	char d[256];

	ONCE(parse("") == 0, "the defaults parse: %s", msg);
	ONCE(vqb_plan_build(&o, &p) == 0, "plan");
	vqb_plan_describe(&p, d, sizeof(d));
	double seconds = 0;
	for (size_t i = 0; i < p.n; i++)
		seconds += p.cfg[i].seconds * (p.reps + p.warmup);
	CHECK(p.n == 16 && p.reps == 5 && p.warmup == 1, "default study: %s", d);
	CHECK(seconds > 0 && seconds <= 45, "default study measures %.1f s (under 60 s with setup)", seconds);
	CHECK(!o.csv_path && o.order == VQB_ORDER_INTERLEAVE, "default CSV path and interleaved order");
	printf("ok: the defaults parse: %s\n", d);
	vqb_plan_free(&p);
	ONCE(parse("--packets 5000") == 0, "%s", msg);
	ONCE(vqb_plan_build(&o, &p) == 0, "plan");
	CHECK(p.cfg[0].packets == 5000 && p.cfg[0].seconds == 0, "--packets replaces the default --seconds");
	vqb_plan_free(&p);
}

static char *capture(void (*fn)(FILE *, int), int arg, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	ONCE(f, "open_memstream");
	fn(f, arg);
	fclose(f);
	return buf;
}

static void help_fn(FILE *f, int arg)
{
	(void)arg;
	vqb_opts_help(f);
}

static void help_and_columns(void)
{
	size_t len;
	char *help = capture(help_fn, 0, &len);
	char want[64];

	for (int id = 0; id < VQB_OPT_COUNT; id++) {
		snprintf(want, sizeof(want), "--%s", vqb_options[id].name);
		CHECK(strstr(help, want), "--help lists %s", want);
		if (vqb_options[id].def) {
			snprintf(want, sizeof(want), "default: %s", vqb_options[id].def);
			CHECK(strstr(help, want), "--help shows --%s's %s", vqb_options[id].name, want);
		}
	}
	CHECK(strstr(help, "Exit codes: 0 ok, 1") && strstr(help, "2 bad option") && strstr(help, "3 the machine"),
	      "--help documents the exit codes");
	CHECK(strstr(help, "Examples:"), "--help has examples");
	CHECK(strstr(help, "16 configurations"), "--help states the default study's size");
	free(help);
	printf("ok: --help lists all %d options with defaults and exit codes\n", VQB_OPT_COUNT);

	for (int fmt = VQB_FORMAT_TEXT; fmt <= VQB_FORMAT_JSON; fmt++) {
		char *cols = capture(vqb_csv_list_columns, fmt, &len);
		for (size_t i = 0; i < vqb_ncolumns; i++) {
			snprintf(want, sizeof(want), fmt == VQB_FORMAT_MARKDOWN ? "| `%s` |" : "\n%s ", vqb_columns[i].name);
			if (fmt == VQB_FORMAT_CSV)
				snprintf(want, sizeof(want), "\n%s,", vqb_columns[i].name);
			if (fmt == VQB_FORMAT_JSON)
				snprintf(want, sizeof(want), "{\"name\": \"%s\", ", vqb_columns[i].name);
			CHECK(strstr(cols, want), "--list-columns format %d lists %s", fmt, vqb_columns[i].name);
		}
		free(cols);
	}
	printf("ok: --list-columns lists all %zu columns in text, markdown, csv and json\n", vqb_ncolumns);

	/* every sweep parameter is recorded by a CSV column */
	for (int id = 0; id < VQB_OPT_COUNT; id++) {
		if (vqb_options[id].dest != VQB_DEST_CFG)
			continue;
		bool found = false;
		for (size_t i = 0; i < vqb_ncolumns; i++)
			found |= vqb_columns[i].opt == id;
		CHECK(found, "--%s has a CSV column", vqb_options[id].name);
	}
	printf("ok: every configuration option has a CSV column\n");
}

int main(void)
{
	bad_values_of_every_option();
	unknown_and_conflicts();
	lists_and_forms();
	defaults_are_the_default_study();
	help_and_columns();
	return t_done("test_cli_options");
}
