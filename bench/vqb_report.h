/* SPDX-License-Identifier: MIT */
/*
 * vqb_report.h - the terminal side: a progress line on stderr, one table row
 * per configuration (median, min and max over its repetitions), warnings.
 *
 * Progress appears only when stderr is a terminal and not --quiet: one line
 * rewritten in place, "[ 3/16] split descs=4 full  rep 2/5  12.3 Mpps".
 * Colour appears only on a terminal, and never with NO_COLOR set (any
 * value) or TERM=dumb. The table row of a configuration is printed after
 * its last repetition (with --order interleave: during the last round). Time
 * per packet is always in ns.
 */
#ifndef VQB_REPORT_H
#define VQB_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "vqb.h"
#include "vqb_plan.h"

/* Median, min and max of the finite values; n counts them. */
struct vqb_stat {
	unsigned n;
	double median, min, max; /* NAN when n == 0 */
};

/** Summarise v[0..n) (sorts v in place; NAN values are ignored). */
void vqb_stat_compute(double *v, unsigned n, struct vqb_stat *s);

/* Thresholds for the warnings (see vqb_report_finish). */
#define VQB_WARN_SPREAD 1.3     /* max/min of Mpps over repetitions */
#define VQB_WARN_FIRST_SLOW 1.3 /* rep 0 (no warmup) slower than the median by */
#define VQB_WARN_WARMUP_SLOW 2.0 /* last warmup slower than the median by */

struct vqb_report_opts {
	FILE *out;     /* the table (stdout; stderr when the CSV goes to stdout) */
	FILE *err;     /* progress, warnings */
	bool progress; /* show the progress line (stderr is a TTY, not --quiet) */
};

struct vqb_report;

/** A report for plan p (kept by reference: p must outlive the report).
 * @return NULL when out of memory. */
struct vqb_report *vqb_report_new(const struct vqb_plan *p, const struct vqb_report_opts *o);
void vqb_report_free(struct vqb_report *r);

/** Whether colour is wanted on f: f is a terminal, NO_COLOR is unset and
 * TERM is not "dumb". */
bool vqb_want_color(FILE *f);

/** Before run s: update the progress line. */
void vqb_report_progress(struct vqb_report *r, const struct vqb_step *s);

/** After run s: keep its metrics (rc < 0: the run failed, msg says why;
 * the error line is printed at once). After the last repetition of a
 * configuration, print its table row. */
void vqb_report_result(struct vqb_report *r, const struct vqb_step *s,
		       const struct vqb_metrics *m, int rc, const char *msg);

/** After the sweep: clear the progress line, print the UNSAFE damage and
 * the warnings (large spread between repetitions, slow first repetition,
 * slow warmup), each naming what to try.
 * @return the number of failed runs. */
unsigned vqb_report_finish(struct vqb_report *r);

#endif
