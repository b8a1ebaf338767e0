/* SPDX-License-Identifier: MIT */
/*
 * vqb_check.h - regression thresholds: compare vqbench CSV files with the
 * bounds of a thresholds file (vqbench --check FILE CSV...).
 *
 * Thresholds file: one bound a line; '#' starts a comment; blank lines are
 * ignored. Tokens are separated by blanks; a selection SEL is K=V[,K=V...]
 * with no blanks, K a column of the CSV schema, V compared with the cell
 * (numerically for int, float and bool columns, where on/off mean 1/0;
 * values of layout, dir, device, policy and dma must be known names):
 *
 *   exact METRIC [where SEL] OP NUMBER
 *       every matching row's METRIC must satisfy OP NUMBER (footprint
 *       bytes, map/unmap calls per packet: exact by construction)
 *   count METRIC [where SEL] OP NUMBER [tol PCT%]
 *       the median over the matching rows must satisfy OP NUMBER, widened
 *       by PCT percent of NUMBER (deterministic counts, e.g. the callgrind
 *       columns cg_* written by scripts/callgrind-counts.py)
 *   ratio METRIC SEL_NUM / SEL_DEN [where SEL] OP NUMBER
 *       paired: each row matching SEL and SEL_NUM pairs with the row
 *       matching SEL and SEL_DEN of the same CSV file and the same rep
 *       (under --order interleave, repetition r of both configurations
 *       runs in round r of the sweep: close in time); the bound holds the
 *       median of the pairs' ratios METRIC_num / METRIC_den. A pair with
 *       a row flagged placement_changed = 1 (the vCPUs moved during it),
 *       or a denominator of 0, is left out; rows without a partner are
 *       not used; the line counts both. No usable pair: the bound falls
 *       short. E.g. skip/full pps, packed/split pps
 *
 * OP is ==, <= or >=. With tol, "<= B tol 5%" holds up to B * 1.05, ">= B"
 * down to B * 0.95, "== B" within B +- 5%. Noisy absolute measurements
 * (times, rates, TSC and perf cycles, resident set, core-to-core
 * latency, the packet count of a timed run) may appear only in ratio
 * bounds: the parser refuses them in exact and count bounds.
 *
 * A bound may start with "optional": when no row matches it (a
 * configuration the run did not include), it is skipped ("skip" line,
 * JUnit <skipped/>) instead of falling short.
 *
 * Matching: a row takes part in a bound (or one side of a ratio) when it
 * matches every K=V and its METRIC cell is not empty. An exact bound may
 * span configurations (every row must hold: "exact errors == 0"). The rows
 * of a count bound, and of each side of a ratio, must come from ONE
 * configuration (equal sweep parameters: layout, queue_size, descs,
 * pkt_bytes, indirect, in_order, event_idx, batch, dir, policy, dma,
 * device, mem_node, unsafe), since a median over two configurations means
 * nothing. A bound that matches no row, or a median over rows of two
 * configurations, falls short with a message saying so.
 *
 * Return convention: 0 or -errno; nothing sets errno.
 */
#ifndef VQB_CHECK_H
#define VQB_CHECK_H

#include <stddef.h>
#include <stdio.h>

struct vqb_check;

/** Parse thresholds text; name is used in messages ("name:line: ...").
 * @return 0, or -EINVAL with one line "name:LINE: what is wrong" in msg
 * (-ENOMEM on allocation failure). */
int vqb_check_parse(const char *name, const char *text, struct vqb_check **out,
		    char *msg, size_t msglen);

/** Read and parse a thresholds file. @return as vqb_check_parse, or the
 * -errno of open/read with msg naming the path. */
int vqb_check_load(const char *path, struct vqb_check **out, char *msg, size_t msglen);

/** Number of bounds parsed. */
size_t vqb_check_bounds(const struct vqb_check *c);

/** Feed the rows of one vqbench CSV (read with vqb_csv_read, the writer's
 * schema). Call once per file before vqb_check_eval.
 * @return number of rows read, or -errno with msg naming the path and line. */
int vqb_check_add_csv(struct vqb_check *c, const char *path, char *msg, size_t msglen);

/* One bound's outcome (vqb_check_result). */
enum vqb_check_verdict { VQB_CHECK_OK, VQB_CHECK_FAIL, VQB_CHECK_SKIP };

struct vqb_check_result {
	enum vqb_check_verdict verdict; /* SKIP: an optional bound no row matches */
	const char *desc;       /* the bound up to its comparison: "exact footprint_bytes where ..." */
	const char *kind;       /* exact, count or ratio */
	const char *metric;     /* the CSV column */
	char expected[96];      /* the comparison: "== 48614", "<= 1200 (tol 3%)" */
	double value;           /* measured: the first failing row's value (exact; the lowest when
				 * all hold), the median (count) or the ratio; NAN: none */
	char rows[512];         /* the CSV rows behind value, "run.csv:2,5; b.csv:3" (exact failing:
				 * the failing rows; ratio: "numerator ... / denominator ..."); "" none */
	char text[1024];        /* the explanation, as in the ok/FAIL line */
	const char *thresholds; /* the thresholds file */
	unsigned line;          /* the bound's line in it */
};

/** Evaluate bound i (0 <= i < vqb_check_bounds()) into r; the strings
 * point into c, valid until vqb_check_free. */
void vqb_check_result(const struct vqb_check *c, size_t i, struct vqb_check_result *r);

/** The path of CSV file i (NULL past the last) and, in rows, the rows read
 * from all files. */
const char *vqb_check_csv(const struct vqb_check *c, unsigned i, unsigned long *rows);

/** Evaluate every bound; print one line per bound to out ("ok ...",
 * "skip ..." or "FAIL ..." naming the metric, the configuration, the expected bound and
 * the measured value) and a summary line.
 * @return the number of bounds that fell short (0: all hold). */
size_t vqb_check_eval(struct vqb_check *c, FILE *out);

void vqb_check_free(struct vqb_check *c);

#endif
