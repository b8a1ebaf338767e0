/* SPDX-License-Identifier: MIT */
/*
 * test_csv CHECK_CSV_PY - the CSV sink through its column table: write rows
 * for a small fake sweep (NAN metrics, strings needing RFC 4180 quotes),
 * read them back with vqb_csv_read (header, row count, types, empty cells
 * for NAN, values), refuse malformed files naming line/column/value, the
 * default path under results/, an unwritable path; then let Python's csv
 * module (and pandas when importable) load the file with no cleanup.
 */
#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

#define REPS 3

static char dir[256], path[300];

static const char *const nan_columns[] = {
	"hw_cycles_per_pkt", "hw_instructions_per_pkt", "hw_l1d_misses_per_pkt",
	"hw_llc_misses_per_pkt", "hw_dtlb_misses_per_pkt", "c2c_ns_before", "c2c_ns_after",
	"target_packets", "mem_node", NULL,
};

static const char cpu_model[] = "Fake \"Quoted\" CPU, 8-Core";
static const char host[] = "host\nwith-newline";

static void fake_metrics(const struct vqb_config *c, uint32_t rep, struct vqb_metrics *m)
{
	vqb_metrics_clear(m);
	m->rep = rep;
	m->packets = 100000 + c->index;
	m->seconds = 0.25;
	m->mpps = rep == 1 ? NAN : 10.5 + c->index + rep / 8.0; /* rep 1: not measured */
	m->gbps = 1.25;
	m->ns_per_pkt = 1000.0 / m->mpps;
	m->cycles_per_pkt = 123.456789;
	m->maps_per_pkt = 0; /* measured zero: "0", not empty */
	m->unmaps_per_pkt = 0;
	m->footprint_bytes = 4096u * (c->index + 1);
	m->rss_delta_bytes = -4096;
	m->driver_cpu = 2;
	m->device_cpu = 3;
	m->queue_mpps_min = 1.25;
	m->queue_mpps_max = 9.25;
	snprintf(m->queue_mpps, sizeof(m->queue_mpps), "9.25;1.25");
	m->cpus_shared = c->index == 1;
}

struct seen {
	unsigned rows;
	unsigned bad;
};

static int on_row(const struct vqb_csv_rec *r, void *arg)
{
	struct seen *s = arg;
	const struct vqb_cell *c;
	unsigned cfg = (unsigned)vqb_csv_get(r, "config")->i, rep = (unsigned)vqb_csv_get(r, "rep")->i;

	s->rows++;
	CHECK(vqb_csv_get(r, "nonexistent") == NULL, "unknown name gives NULL");
	CHECK(vqb_csv_get(r, "schema_version")->i == VQB_CSV_SCHEMA_VERSION, "line %lu: schema_version", r->line);
	CHECK(!strcmp(vqb_csv_get(r, "cpu_model")->text, cpu_model), "line %lu: quoted cpu_model '%s'",
	      r->line, vqb_csv_get(r, "cpu_model")->text);
	CHECK(!strcmp(vqb_csv_get(r, "host")->text, host), "line %lu: host with a line break", r->line);
	CHECK(!strcmp(vqb_csv_get(r, "layout")->text, cfg < 2 ? "split" : "packed"), "line %lu: layout", r->line);
	CHECK(!strcmp(vqb_csv_get(r, "descs")->text, cfg % 2 ? "mix" : "1-8"), "line %lu: descs '%s'", r->line,
	      vqb_csv_get(r, "descs")->text);
	CHECK(vqb_csv_get(r, "descs_max")->i == (cfg % 2 ? 19 : 8), "line %lu: descs_max", r->line);
	CHECK(vqb_csv_get(r, "target_s")->f == 0.3, "line %lu: target_s", r->line);
	CHECK(vqb_csv_get(r, "unsafe")->i == 1 && !vqb_csv_get(r, "indirect")->i &&
	      vqb_csv_get(r, "event_idx")->i == 1, "line %lu: bools", r->line);
	CHECK(vqb_csv_get(r, "packets")->i == 100000 + cfg, "line %lu: packets", r->line);
	CHECK(vqb_csv_get(r, "rss_delta_bytes")->i == -4096, "line %lu: negative int", r->line);
	CHECK(vqb_csv_get(r, "footprint_bytes")->i == 4096 * (cfg + 1), "line %lu: footprint", r->line);
	CHECK(fabs(vqb_csv_get(r, "cycles_per_pkt")->f - 123.456789) < 1e-9, "line %lu: float", r->line);
	c = vqb_csv_get(r, "maps_per_pkt");
	CHECK(!c->empty && c->f == 0, "line %lu: a measured 0 is written as 0, not empty", r->line);
	c = vqb_csv_get(r, "mpps");
	if (rep == 1)
		CHECK(c->empty && isnan(c->f), "line %lu: NAN mpps is an empty cell", r->line);
	else
		CHECK(!c->empty && fabs(c->f - (10.5 + cfg + rep / 8.0)) < 1e-6, "line %lu: mpps %s", r->line, c->text);
	for (unsigned k = 0; nan_columns[k]; k++)
		CHECK(vqb_csv_get(r, nan_columns[k])->empty, "line %lu: %s empty", r->line, nan_columns[k]);
	CHECK(vqb_csv_get(r, "driver_cpu")->i == 2 && vqb_csv_get(r, "device_cpu")->i == 3, "cpus");
	CHECK(vqb_csv_get(r, "queues")->i == 1, "line %lu: queues (the default)", r->line);
	CHECK(!strcmp(vqb_csv_get(r, "queue_mpps")->text, "9.25;1.25") && vqb_csv_get(r, "queue_mpps_min")->f == 1.25 &&
	      vqb_csv_get(r, "queue_mpps_max")->f == 9.25, "line %lu: per-queue rates", r->line);
	CHECK(vqb_csv_get(r, "cpus_shared")->i == (cfg == 1), "line %lu: cpus_shared", r->line);
	return 0;
}

static void expect_refused(const char *file, const char *what, const char *want);

/* A version-1 row (before --queues): the columns added since read as
 * what version 1 did. */
static int on_v1_row(const struct vqb_csv_rec *r, void *arg)
{
	unsigned *n = arg;

	(*n)++;
	CHECK(vqb_csv_get(r, "schema_version")->i == 1, "v1: schema_version");
	CHECK(vqb_csv_get(r, "queues")->i == 1 && !vqb_csv_get(r, "queues")->empty, "v1: queues reads 1");
	CHECK(vqb_csv_get(r, "cpus_shared")->i == 0 && !vqb_csv_get(r, "cpus_shared")->empty, "v1: cpus_shared reads 0");
	CHECK(vqb_csv_get(r, "queue_mpps")->empty && vqb_csv_get(r, "queue_mpps_min")->empty &&
	      isnan(vqb_csv_get(r, "queue_mpps_max")->f), "v1: per-queue rates empty");
	CHECK(vqb_csv_get(r, "mpps")->f == 7.5, "v1: mpps read");
	return 0;
}

/* Write a file with the columns of schema `version` (skip: one more column
 * left out), one row with schema_version `row_version` and mpps 7.5. */
static void write_version(const char *file, unsigned version, const char *skip, unsigned row_version)
{
	FILE *o = fopen(file, "w");
	bool first = true;

	ONCE(o, "open %s", file);
	for (size_t i = 0; i < vqb_ncolumns; i++) {
		unsigned since = vqb_columns[i].since ? vqb_columns[i].since : 1;
		if (since > version || (skip && !strcmp(skip, vqb_columns[i].name)))
			continue;
		fprintf(o, "%s%s", first ? "" : ",", vqb_columns[i].name);
		first = false;
	}
	fputc('\n', o);
	first = true;
	for (size_t i = 0; i < vqb_ncolumns; i++) {
		unsigned since = vqb_columns[i].since ? vqb_columns[i].since : 1;
		if (since > version || (skip && !strcmp(skip, vqb_columns[i].name)))
			continue;
		const char *v = !strcmp(vqb_columns[i].name, "mpps") ? "7.5" : "";
		if (i == 0)
			fprintf(o, "%u", row_version);
		else
			fprintf(o, "%s%s", first ? "" : ",", v);
		first = false;
	}
	fputc('\n', o);
	fclose(o);
}

static void older_versions(void)
{
	char f[320], msg[512];
	unsigned n = 0;

	snprintf(f, sizeof(f), "%s/v1.csv", dir);
	write_version(f, 1, NULL, 1);
	int rc = vqb_csv_read(f, on_v1_row, &n, msg, sizeof(msg));
	CHECK(rc == 1 && n == 1, "a version-1 file reads (rc %d: %s)", rc, msg);
	write_version(f, 1, NULL, 2);
	expect_refused(f, "v1 header, v2 row", "schema_version '2', this vqbench reads version 5 (and 1");
	write_version(f, 2, NULL, 1);
	expect_refused(f, "v2 header, v1 row", "schema_version '1', this vqbench reads version 5");
	write_version(f, 2, "queues", 2);
	expect_refused(f, "a v2 header without queues", "column 'queues' is missing");
	write_version(f, 1, "mpps", 1);
	expect_refused(f, "a v1 header without mpps", "column 'mpps' is missing");
	printf("ok: version 1 files read (queues 1, cpus_shared 0, per-queue rates empty); mixed versions refused\n");
}

static int write_sweep(const char *file, unsigned *rows)
{
	static struct vqb_opts o;
	struct vqb_plan p;
	struct vqb_run_info info;
	struct vqb_metrics m;
	struct vqb_csv *csv;
	char msg[512];
	char *argv[] = { "vqbench", "--layout", "split,packed", "--descs", "1-8,mix", "--policy", "full",
			 "--unsafe-skip", "--reps", "3", NULL };

	ONCE(vqb_opts_parse(&o, 10, argv, msg, sizeof(msg)) == 0, "%s", msg);
	ONCE(vqb_plan_build(&o, &p) == 0 && p.n == 4, "plan of 4");
	memset(&info, 0, sizeof(info));
	snprintf(info.vqbench_version, sizeof(info.vqbench_version), "0.0.0-test");
	snprintf(info.git_rev, sizeof(info.git_rev), "abc123");
	snprintf(info.host, sizeof(info.host), "%s", host);
	snprintf(info.cpu_model, sizeof(info.cpu_model), "%s", cpu_model);
	snprintf(info.kernel, sizeof(info.kernel), "6.1.0-test");
	ONCE(vqb_csv_open(file, &csv, msg, sizeof(msg)) == 0, "open %s: %s", file, msg);
	*rows = 0;
	for (uint32_t rep = 0; rep < REPS; rep++)
		for (size_t i = 0; i < p.n; i++) {
			fake_metrics(&p.cfg[i], rep, &m);
			vqb_csv_stamp(&info);
			CHECK(vqb_csv_write_row(csv, &info, &p.cfg[i], &m, msg, sizeof(msg)) == 0, "row: %s", msg);
			(*rows)++;
		}
	CHECK(vqb_csv_rows(csv) == *rows, "rows counted");
	CHECK(vqb_csv_close(csv) == 0, "close");
	vqb_plan_free(&p);
	return 0;
}

/* Copy path to a new file with line `line` (1-based) replaced. */
static void variant(const char *out, unsigned line, const char *text)
{
	FILE *in = fopen(path, "r"), *f = fopen(out, "w");
	char buf[8192];
	unsigned n = 0;

	ONCE(in && f, "variant files");
	while (fgets(buf, sizeof(buf), in)) {
		if (++n == line)
			fputs(text, f);
		else
			fputs(buf, f);
	}
	fclose(in);
	fclose(f);
}

static void expect_refused(const char *file, const char *what, const char *want)
{
	char msg[512] = "";
	int rc = vqb_csv_read(file, NULL, NULL, msg, sizeof(msg));
	CHECK(rc == -EINVAL && strstr(msg, want), "%s: rc %d, message '%s' should contain '%s'", what, rc, msg, want);
}

static void malformed(void)
{
	char f[320], line[8192];
	FILE *in;

	/* The first data row starts on line 2; host holds a line break, so
	 * the row spans lines 2-3 and the next row starts on line 4. Build
	 * variants from the header line only. */
	in = fopen(path, "r");
	ONCE(in && fgets(line, sizeof(line), in), "header");
	fclose(in);

	snprintf(f, sizeof(f), "%s/bad_unknown.csv", dir);
	variant(f, 1, "schema_version,bogus\n");
	expect_refused(f, "unknown column", "unknown column 'bogus'");

	snprintf(f, sizeof(f), "%s/bad_missing.csv", dir);
	char hdr[8192];
	snprintf(hdr, sizeof(hdr), "%s", line);
	*strrchr(hdr, ',') = '\n';
	*(strrchr(hdr, '\n') + 1) = '\0';
	variant(f, 1, hdr);
	char want_missing[128]; /* the header lost its last column: the schema's last */
	snprintf(want_missing, sizeof(want_missing), "column '%s' is missing", vqb_columns[vqb_ncolumns - 1].name);
	expect_refused(f, "missing column", want_missing);

	/* a data row with a non-number in an int column, a wrong field
	 * count, a bad bool, another schema version */
	FILE *o;
	static const struct {
		const char *name, *column, *value, *want;
	} cases[] = {
		{ "bad_int", "queue_size", "3x", "column 'queue_size': '3x' is not an int" },
		{ "bad_bool", "unsafe", "2", "column 'unsafe': '2' is not a bool" },
		{ "bad_float", "mpps", "1.5.2", "column 'mpps': '1.5.2' is not a float" },
		{ "bad_schema", "schema_version", "6", "schema_version '6', this vqbench reads version 5" },
	};
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		int col = vqb_csv_column(cases[k].column);
		snprintf(f, sizeof(f), "%s/%s.csv", dir, cases[k].name);
		o = fopen(f, "w");
		ONCE(o, "open %s", f);
		fputs(line, o);
		for (size_t i = 0; i < vqb_ncolumns; i++)
			fprintf(o, "%s%s", i ? "," : "", (int)i == col ? cases[k].value : i == 0 ? "1" : "");
		fputc('\n', o);
		fclose(o);
		expect_refused(f, cases[k].name, cases[k].want);
		expect_refused(f, cases[k].name, "line 2");
	}
	snprintf(f, sizeof(f), "%s/bad_fields.csv", dir);
	o = fopen(f, "w");
	ONCE(o, "open");
	fprintf(o, "%s1,2,3\n", line);
	fclose(o);
	expect_refused(f, "field count", "line 2: 3 fields, the header has");
	snprintf(f, sizeof(f), "%s/bad_quote.csv", dir);
	o = fopen(f, "w");
	ONCE(o, "open");
	fprintf(o, "%s1,\"unterminated\n", line);
	fclose(o);
	expect_refused(f, "unterminated quote", "malformed quoted field");
	printf("ok: unknown/missing columns, bad int/bool/float, other schema version, field count, quote refused\n");
}

static void paths(void)
{
	struct vqb_csv *a, *b;
	char msg[512], cwd[512], bad[320];

	snprintf(bad, sizeof(bad), "%s/no/such/dir/x.csv", dir);
	CHECK(vqb_csv_open(bad, &a, msg, sizeof(msg)) == -ENOENT && strstr(msg, bad) && strstr(msg, "--csv"),
	      "unwritable path named: %s", msg);
	ONCE(getcwd(cwd, sizeof(cwd)), "getcwd");
	ONCE(chdir(dir) == 0, "chdir");
	ONCE(vqb_csv_open(NULL, &a, msg, sizeof(msg)) == 0, "default path: %s", msg);
	ONCE(vqb_csv_open(NULL, &b, msg, sizeof(msg)) == 0, "default path again: %s", msg);
	CHECK(!strncmp(vqb_csv_path(a), "results/vqbench-", 16) && strstr(vqb_csv_path(a), ".csv"),
	      "default path %s", vqb_csv_path(a));
	CHECK(strcmp(vqb_csv_path(a), vqb_csv_path(b)), "a second run never overwrites the first (%s, %s)",
	      vqb_csv_path(a), vqb_csv_path(b));
	struct stat st;
	CHECK(stat(vqb_csv_path(a), &st) == 0 && st.st_size > 0, "header written at open");
	vqb_csv_close(a);
	vqb_csv_close(b);
	CHECK(vqb_csv_read("results/../results/nonexistent.csv", NULL, NULL, msg, sizeof(msg)) == -ENOENT &&
	      strstr(msg, "nonexistent.csv"), "missing file named: %s", msg);
	ONCE(chdir(cwd) == 0, "chdir back");
	printf("ok: default path results/vqbench-*.csv (created, never overwritten), unwritable path named\n");
}

static void python_check(const char *script, unsigned rows)
{
	char schema[320], cmd[2048];
	FILE *f;

	snprintf(schema, sizeof(schema), "%s/schema.csv", dir);
	f = fopen(schema, "w");
	ONCE(f, "schema file");
	vqb_csv_list_columns(f, VQB_FORMAT_CSV);
	fclose(f);
	if (system("command -v python3 >/dev/null 2>&1") != 0) {
		CHECK(0, "python3 not found (scripts/install-deps.sh installs it)");
		return;
	}
	int n = snprintf(cmd, sizeof(cmd), "python3 '%s' '%s' '%s' %u", script, path, schema, rows);
	for (unsigned k = 0; nan_columns[k]; k++)
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " %s", nan_columns[k]);
	fflush(stdout);
	int rc = system(cmd);
	CHECK(rc == 0, "python check failed (%d): %s", rc, cmd);
	if (rc == 0)
		printf("ok: python3 loads the CSV (csv module%s)\n", "; pandas when installed");
}

int main(int argc, char **argv)
{
	unsigned rows;
	struct seen s = { 0 };
	char msg[512];
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/vqb_test_csv.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ONCE(mkdtemp(dir), "mkdtemp %s", dir);
	snprintf(path, sizeof(path), "%s/out.csv", dir);

	write_sweep(path, &rows);
	int rc = vqb_csv_read(path, on_row, &s, msg, sizeof(msg));
	CHECK(rc == (int)rows && s.rows == rows && rows == 4 * REPS, "read %d rows (%s), wrote %u", rc, msg, rows);
	printf("ok: %u rows written and read back through the column table (%zu columns; NAN -> empty; "
	       "quotes, commas, line breaks)\n", rows, vqb_ncolumns);
	malformed();
	older_versions();
	paths();
	if (argc > 1)
		python_check(argv[1], rows);
	else
		CHECK(0, "usage: test_csv CHECK_CSV_PY");
	if (!t_failures) {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("note: could not remove %s\n", dir);
	} else {
		printf("files kept in %s\n", dir);
	}
	return t_done("test_csv");
}
