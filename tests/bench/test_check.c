/* SPDX-License-Identifier: MIT */
/*
 * test_check - the regression thresholds (bench/vqb_check.h):
 *   1. the parser rejects each kind of bad line, naming the line and what
 *      is wrong, and accepts every documented form;
 *   2. a CSV written by vqbench's own writer passes a thresholds file of
 *      every kind (exact, count with tol, ratio);
 *   3. the same CSV doctored (one footprint 8 bytes larger, skip slower,
 *      more instructions than the tolerance) fails exactly those bounds,
 *      each line naming the metric, the selection, the bound and the value;
 *   4. a bound that matches no row, or a median over two configurations,
 *      fails; an exact bound may span configurations;
 *   5. a ratio pairs rep r of its numerator with rep r of its denominator
 *      in one CSV file and bounds the median of the paired ratios (a
 *      placement change in the middle of a round, which moves the two
 *      medians apart, does not fail it); a pair with placement_changed is
 *      left out, rows without a partner are unused, and the line counts
 *      both; rows of two files never pair (the bound falls short).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vqb_check.h"
#include "vqb_csv.h"
#include "vqb_test.h"

static void parse_bad(const char *text, unsigned line, const char *want)
{
	struct vqb_check *c = NULL;
	char msg[1024] = "", head[64];
	int rc = vqb_check_parse("t.txt", text, &c, msg, sizeof(msg));

	snprintf(head, sizeof(head), "t.txt:%u: ", line);
	CHECK(rc == -EINVAL, "'%s' is refused (rc %d)", text, rc);
	CHECK(!strncmp(msg, head, strlen(head)), "'%s': message '%s' starts with '%s'", text, msg, head);
	CHECK(strstr(msg, want), "'%s': message '%s' says '%s'", text, msg, want);
	if (rc == 0)
		vqb_check_free(c);
}

static void test_parser(void)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *want;
	} bad[] = {
		{ "bogus mpps >= 1", 1, "'bogus' is not a kind of bound" },
		{ "# c\n\nexact nosuch == 1", 3, "metric 'nosuch' is not a column" },
		{ "exact mpps where layout=split == 1", 1, "metric mpps is a rate, too noisy for an exact bound" },
		{ "count ns_per_pkt <= 100 tol 5%", 1, "too noisy for an count bound" },
		{ "count hw_instructions_per_pkt <= 100", 1, "perf counter" },
		{ "exact queue_size == 256", 1, "not a measured number" },
		{ "exact footprint_bytes where nosuch=1 == 1", 1, "'nosuch' is not a column of the CSV schema" },
		{ "exact footprint_bytes where policy=ful == 1", 1, "'ful' is not a known tracking policy" },
		{ "exact footprint_bytes where layout=ring == 1", 1, "'ring' is not a known layout" },
		{ "exact footprint_bytes where indirect=maybe == 1", 1, "indirect is a bool" },
		{ "exact footprint_bytes where queue_size=abc == 1", 1, "'abc' is not a number" },
		{ "exact footprint_bytes where policy=full,policy=skip == 1", 1, "column policy is selected twice" },
		{ "exact footprint_bytes where layout == 1", 1, "'layout' is not K=V" },
		{ "exact footprint_bytes where == 1", 1, "'==' is not K=V" },
		{ "exact footprint_bytes =< 1", 1, "'=<' is not a comparison" },
		{ "exact footprint_bytes ==", 1, "after == is not a number" },
		{ "exact footprint_bytes == 12x", 1, "'12x' after == is not a number" },
		{ "exact footprint_bytes", 1, "missing the comparison" },
		{ "exact footprint_bytes == 1 tol 5%", 1, "'tol' is for count bounds only" },
		{ "count cg_instructions_per_pkt <= 1 tol 5", 1, "expected a percentage" },
		{ "count cg_instructions_per_pkt <= 1 tol 500%", 1, "is not a percentage 0..100" },
		{ "count cg_instructions_per_pkt <= 1 extra", 1, "unexpected 'extra'" },
		{ "ratio mpps policy=skip policy=full >= 1", 1, "expected 'SEL / SEL'" },
		{ "ratio mpps policy=skip / policy=full >= 0", 1, "needs a number > 0" },
		{ "ratio mpps policy=skip / policy=full where policy=full >= 1", 1, "column policy is in both" },
		{ "ratio mpps policy=skip / dma=nosuch >= 1", 1, "'nosuch' is not a known DMA backend" },
		{ "exact\n", 1, "missing the metric" },
		{ "# only comments\n\n", 2, "no bound in the file" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_bad(bad[i].text, bad[i].line, bad[i].want);
	printf("ok: %zu kinds of bad line refused with file:line and the reason\n",
	       sizeof(bad) / sizeof(bad[0]));

	struct vqb_check *c = NULL;
	char msg[512] = "";
	const char *good =
		"# every documented form\n"
		"exact footprint_bytes == 1  # trailing comment\n"
		"exact errors where layout=split,indirect=on,mem_node= <= 0\n"
		"count cg_instructions_per_pkt where policy=full <= 420 tol 5%\n"
		"count cg_d1_misses_per_pkt >= 0\n"
		"\tratio  mpps  layout=packed / layout=split  where descs=1,queue_size=256  >=  0.5\n"
		"ratio ns_per_pkt policy=skip / policy=full == 1\n";
	int rc = vqb_check_parse("good.txt", good, &c, msg, sizeof(msg));
	CHECK(rc == 0, "the documented forms parse: %s", msg);
	if (rc == 0) {
		CHECK(vqb_check_bounds(c) == 6, "6 bounds, got %zu", vqb_check_bounds(c));
		vqb_check_free(c);
	}
	printf("ok: exact, count (tol), ratio and where forms accepted\n");
}

/* A CSV from the writer: split and packed, policy full and skip, 3 reps. */
static void write_csv(const char *path, bool doctored)
{
	struct vqb_csv *csv;
	char msg[512];
	struct vqb_run_info info = { .vqbench_version = "test", .git_rev = "x", .host = "h",
				     .cpu_model = "cpu", .kernel = "k" };
	static const char *const policies[] = { "full", "skip" };

	REQUIRE(vqb_csv_open(path, &csv, msg, sizeof(msg)) == 0, "open %s: %s", path, msg);
	vqb_csv_stamp(&info);
	unsigned idx = 0;
	for (int l = 0; l < 2; l++)
		for (int p = 0; p < 2; p++, idx++)
			for (unsigned rep = 0; rep < 3; rep++) {
				struct vqb_config cfg = { .layout = (enum vqb_layout)l, .queue_size = 256,
							  .descs_kind = VQB_DESCS_FIXED, .descs_lo = 4, .descs_hi = 4,
							  .pkt_bytes = 64, .event_idx = true, .batch = 32,
							  .device = VQB_DEV_INLINE, .seconds = 0.1, .reps = 3,
							  .cores = { 0, 1 }, .ncores = 2, .queues = 1,
							  .mem_node = -1, .index = idx };
				snprintf(cfg.policy, sizeof(cfg.policy), "%s", policies[p]);
				snprintf(cfg.dma, sizeof(cfg.dma), "identity");
				struct vqb_metrics m;
				vqb_metrics_clear(&m);
				m.rep = rep;
				m.packets = 1000;
				m.mpps = (l ? 6.0 : 5.0) * (p ? 1.2 : 1.0) + 0.01 * rep;
				m.maps_per_pkt = m.unmaps_per_pkt = p ? 0 : 4;
				m.footprint_bytes = 30000 + 1000 * (unsigned)l + (p ? 0 : 4096);
				m.cg_instructions = 400 + 10 * p;
				if (doctored && l == 0 && p == 0 && rep == 1)
					m.footprint_bytes += 8;
				if (doctored && l == 0 && p == 1)
					m.mpps = 4.0;
				if (doctored && l == 1 && p == 0)
					m.cg_instructions = 430; /* the bound allows 400 + 2% */
				REQUIRE(vqb_csv_write_row(csv, &info, &cfg, &m, msg, sizeof(msg)) == 0, "%s", msg);
			}
	REQUIRE(vqb_csv_close(csv) == 0, "close %s", path);
}

static const char thresholds[] =
	"exact footprint_bytes where layout=split,policy=full == 34096\n"
	"exact maps_per_pkt where layout=packed,policy=full == 4\n"
	"exact unmaps_per_pkt where layout=packed,policy=skip == 0\n"
	"count cg_instructions_per_pkt where layout=packed,policy=full <= 400 tol 2%\n"
	"ratio mpps policy=skip / policy=full where layout=split >= 1.1\n"
	"ratio mpps layout=packed / layout=split where policy=full >= 1.1\n";

/* Run the check of thresholds against csv; return failures, output in out. */
static size_t run_check(const char *text, const char *csv, char *out, size_t outlen)
{
	struct vqb_check *c = NULL;
	char msg[1024];
	size_t failed;

	REQUIRE(vqb_check_parse("th.txt", text, &c, msg, sizeof(msg)) == 0, "thresholds parse: %s", msg);
	int rows = vqb_check_add_csv(c, csv, msg, sizeof(msg));
	REQUIRE(rows == 12, "read %s: %d rows (%s)", csv, rows, msg);
	FILE *f = fmemopen(out, outlen, "w");
	REQUIRE(f, "fmemopen");
	failed = vqb_check_eval(c, f);
	fclose(f);
	vqb_check_free(c);
	return failed;
}

static void want_line(const char *out, const char *head, const char *const *words)
{
	const char *l = strstr(out, head);

	CHECK(l, "output has a line starting '%s':\n%s", head, out);
	if (!l)
		return;
	size_t n = strcspn(l, "\n");
	char line[1024];
	snprintf(line, sizeof(line), "%.*s", (int)n, l);
	for (; *words; words++)
		CHECK(strstr(line, *words), "line '%s' names '%s'", line, *words);
}

static void test_check(const char *dir)
{
	char good[512], bad[512], out[16384];

	snprintf(good, sizeof(good), "%s/good.csv", dir);
	snprintf(bad, sizeof(bad), "%s/doctored.csv", dir);
	write_csv(good, false);
	write_csv(bad, true);

	size_t failed = run_check(thresholds, good, out, sizeof(out));
	CHECK(failed == 0, "the good CSV passes every bound, %zu failed:\n%s", failed, out);
	CHECK(strstr(out, "check: 6 of 6 bounds hold"), "summary line says all 6 hold:\n%s", out);
	want_line(out, "ok   ratio mpps policy=skip / policy=full where layout=split",
		  (const char *const[]){ "1.2", ">= 1.1", "median of 3 paired ratios", NULL });
	printf("ok: the good CSV passes all 6 bounds (exact, count, ratio)\n");

	failed = run_check(thresholds, bad, out, sizeof(out));
	CHECK(failed == 3, "the doctored CSV fails 3 bounds, got %zu:\n%s", failed, out);
	want_line(out, "FAIL exact footprint_bytes where layout=split,policy=full",
		  (const char *const[]){ "measured 34104", "expected == 34096", "1 of 3 rows", "doctored.csv:3",
					 "[th.txt:1]", NULL });
	want_line(out, "FAIL count cg_instructions_per_pkt where layout=packed,policy=full",
		  (const char *const[]){ "measured 430", "expected <= 400 (tol 2%)", "[th.txt:4]", NULL });
	want_line(out, "FAIL ratio mpps policy=skip / policy=full where layout=split",
		  (const char *const[]){ "measured 0.79", "expected >= 1.1", "[th.txt:5]", NULL });
	want_line(out, "ok   ratio mpps layout=packed / layout=split", (const char *const[]){ "1.2", NULL });
	CHECK(strstr(out, "check: 3 of 6 bounds fell short"), "summary says 3 of 6 fell short:\n%s", out);
	printf("ok: the doctored CSV fails exactly the 3 doctored bounds, each naming metric, "
	       "selection, bound and measured value\n");

	failed = run_check("count footprint_bytes where policy=full == 34096\n"
			   "exact footprint_bytes where layout=split,policy=full,queue_size=512 == 1\n"
			   "ratio mpps policy=skip / policy=full where dma=iommu >= 1\n",
			   good, out, sizeof(out));
	CHECK(failed == 3, "ambiguous and empty selections fail, got %zu:\n%s", failed, out);
	want_line(out, "FAIL count footprint_bytes where policy=full:",
		  (const char *const[]){ "more than one configuration", "differ in layout", NULL });
	want_line(out, "FAIL exact footprint_bytes where layout=split,policy=full,queue_size=512",
		  (const char *const[]){ "no row with a value of footprint_bytes matches", NULL });
	want_line(out, "FAIL ratio mpps", (const char *const[]){ "the numerator", NULL });
	printf("ok: a median over two configurations, or a selection of none, fails and says why\n");
	failed = run_check("exact errors == 0\nexact maps_per_pkt where policy=full == 4\n", good, out, sizeof(out));
	CHECK(failed == 0, "exact bounds may span configurations, %zu failed:\n%s", failed, out);
	want_line(out, "ok   exact errors:", (const char *const[]){ "0 == 0 (12 rows)", NULL });
	printf("ok: an exact bound spans configurations (every row must hold)\n");
	unlink(good);
	unlink(bad);
}

/* Split, policy full and skip, rep 0..n-1 of each, into path: mpps of rep
 * r from full[r] and skip[r] (< 0: no row), placement_changed from moved. */
static void write_pairs(const char *path, const double *full, const double *skip, const bool *moved, unsigned n)
{
	struct vqb_csv *csv;
	char msg[512];
	struct vqb_run_info info = { .vqbench_version = "test", .git_rev = "x", .host = "h",
				     .cpu_model = "cpu", .kernel = "k" };

	REQUIRE(vqb_csv_open(path, &csv, msg, sizeof(msg)) == 0, "open %s: %s", path, msg);
	vqb_csv_stamp(&info);
	for (unsigned rep = 0; rep < n; rep++)
		for (int p = 0; p < 2; p++) {
			double v = p ? skip[rep] : full[rep];
			if (v < 0)
				continue;
			struct vqb_config cfg = { .layout = VQB_LAYOUT_SPLIT, .queue_size = 256,
						  .descs_kind = VQB_DESCS_FIXED, .descs_lo = 1, .descs_hi = 1,
						  .pkt_bytes = 64, .event_idx = true, .batch = 32,
						  .device = VQB_DEV_INLINE, .seconds = 0.05, .reps = n,
						  .cores = { 0, 1 }, .ncores = 2, .queues = 1,
						  .mem_node = -1, .index = (unsigned)p };
			snprintf(cfg.policy, sizeof(cfg.policy), "%s", p ? "skip" : "full");
			snprintf(cfg.dma, sizeof(cfg.dma), "identity");
			struct vqb_metrics m;
			vqb_metrics_clear(&m);
			m.rep = rep;
			m.packets = 1000;
			m.mpps = v;
			m.placement_changed = moved && p && moved[rep];
			REQUIRE(vqb_csv_write_row(csv, &info, &cfg, &m, msg, sizeof(msg)) == 0, "%s", msg);
		}
	REQUIRE(vqb_csv_close(csv) == 0, "close %s", path);
}

/* Check text against the CSV files; return failures, output in out. */
static size_t run_check_files(const char *text, const char *const *csvs, char *out, size_t outlen)
{
	struct vqb_check *c = NULL;
	char msg[1024];
	size_t failed;

	REQUIRE(vqb_check_parse("th.txt", text, &c, msg, sizeof(msg)) == 0, "thresholds parse: %s", msg);
	for (; *csvs; csvs++)
		REQUIRE(vqb_check_add_csv(c, *csvs, msg, sizeof(msg)) > 0, "read %s: %s", *csvs, msg);
	FILE *f = fmemopen(out, outlen, "w");
	REQUIRE(f, "fmemopen");
	failed = vqb_check_eval(c, f);
	fclose(f);
	vqb_check_free(c);
	return failed;
}

static void test_paired(const char *dir)
{
	static const char bound[] = "ratio mpps policy=skip / policy=full >= 1.1\n";
	/* the host slows everything 2x in round 2, between full's run and skip's:
	 * the medians (10 / 6) say 0.6, every round but that one says 1.2 */
	static const double full[] = { 10, 10, 10, 5, 5, 8 }, skip[] = { 12, 12, 6, 6, 6, -1 };
	static const bool moved[] = { false, false, true, false, false, false };
	char a[512], b[512], out[4096];

	snprintf(a, sizeof(a), "%s/pairs.csv", dir);
	write_pairs(a, full, skip, NULL, 5);
	size_t failed = run_check_files(bound, (const char *const[]){ a, NULL }, out, sizeof(out));
	CHECK(failed == 0, "paired ratios hold where the medians' ratio (0.6) would not:\n%s", out);
	want_line(out, "ok   ratio mpps policy=skip / policy=full",
		  (const char *const[]){ "1.2 >= 1.1", "median of 5 paired ratios", "0.6..1.2", NULL });
	CHECK(!strstr(out, "left out") && !strstr(out, "without a partner"), "nothing left out:\n%s", out);
	printf("ok: a ratio bounds the median of rep-by-rep pairs (a mid-round slowdown is one pair of five)\n");

	write_pairs(a, full, skip, moved, 6);
	failed = run_check_files(bound, (const char *const[]){ a, NULL }, out, sizeof(out));
	CHECK(failed == 0, "placement_changed pair left out:\n%s", out);
	want_line(out, "ok   ratio mpps policy=skip / policy=full",
		  (const char *const[]){ "median of 4 paired ratios", "1.2..1.2",
					 "1 pair left out (placement_changed)",
					 "1 row without a partner of the same file and rep", NULL });
	write_pairs(a, full, (const double[]){ 5, 5, 6, 2.5, 2.5, -1 }, moved, 6);
	failed = run_check_files(bound, (const char *const[]){ a, NULL }, out, sizeof(out));
	CHECK(failed == 1, "a slower numerator in every pair fails:\n%s", out);
	want_line(out, "FAIL ratio mpps policy=skip / policy=full",
		  (const char *const[]){ "measured 0.5", "expected >= 1.1", "median of 4 paired ratios",
					 "1 pair left out (placement_changed)", NULL });
	printf("ok: a pair with placement_changed is left out and counted; an unpaired row is counted\n");

	snprintf(b, sizeof(b), "%s/pairs-b.csv", dir);
	write_pairs(a, full, (const double[]){ -1, -1, -1, -1, -1 }, NULL, 5);
	write_pairs(b, (const double[]){ -1, -1, -1, -1, -1 }, skip, NULL, 5);
	failed = run_check_files(bound, (const char *const[]){ a, b, NULL }, out, sizeof(out));
	CHECK(failed == 1, "rows of two files do not pair:\n%s", out);
	want_line(out, "FAIL ratio mpps policy=skip / policy=full",
		  (const char *const[]){ "no usable pair of rows", "5 / 5 rows", "10 rows without a partner", NULL });
	printf("ok: rows of two CSV files never pair: the bound falls short and says why\n");
	unlink(a);
	unlink(b);
}

int main(void)
{
	char dir[] = "vqb_test_check.XXXXXX"; /* in CTest's working directory */

	test_parser();
	REQUIRE(mkdtemp(dir), "mkdtemp");
	test_check(dir);
	test_paired(dir);
	rmdir(dir);
	return t_done("test_check");
}
