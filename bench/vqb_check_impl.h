/* SPDX-License-Identifier: MIT */
/*
 * vqb_check_impl.h - private to the vqb_check*.c files: the parsed form of
 * a thresholds file (bounds, selections) and the samples each bound
 * collects from the CSV rows. The public API and the file format are in
 * vqb_check.h.
 *
 *   vqb_check_parse.c  the thresholds file: lines -> struct bound
 *   vqb_check_rows.c   the CSV rows: each row -> the samples of the bounds it matches
 *   vqb_check_eval.c   one bound's samples -> verdict, value, rows, text
 *   vqb_check.c        the object's accessors and lifetime, the text report
 */
#ifndef VQB_CHECK_IMPL_H
#define VQB_CHECK_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "vqb_csv.h"

#define VQB_CHECK_MAX_COND 16 /* conditions in one selection */
#define VQB_CHECK_VAL_MAX 64  /* characters of a selected value, with its NUL */
#define VQB_CHECK_DESC_MAX 512 /* characters of a line of the file, with its NUL */

enum bkind { B_EXACT, B_COUNT, B_RATIO };
enum bop { OP_EQ, OP_LE, OP_GE };

/* Indexed by enum bkind and enum bop (vqb_check.c). */
extern const char *const vqb_check_kind_names[3];
extern const char *const vqb_check_op_names[3];

/* One K=V of a selection. */
struct cond {
	int col;
	bool numeric; /* compare cell.f with num */
	double num;
	char val[VQB_CHECK_VAL_MAX];
};

struct sel {
	unsigned n;
	struct cond c[VQB_CHECK_MAX_COND];
};

/* A matching row's METRIC value and where it came from. */
struct sample {
	double v;
	unsigned file;
	unsigned long line;
	char *key; /* the configuration's parameters */
	long rep;  /* the row's repetition (CSV rep); -1: empty */
	bool moved; /* CSV placement_changed = 1: the vCPUs changed host placement */
};

/* The rows of one side of a bound (a ratio has two). */
struct side {
	struct sel sel;
	struct sample *s;
	size_t n, cap;
};

struct bound {
	enum bkind kind;
	enum bop op;
	int metric;
	double limit, tol; /* tol: a fraction of limit */
	unsigned line;
	struct sel where;
	bool optional;   /* "optional ...": no matching row skips it, not a failure */
	unsigned nsides; /* 1, or 2 for ratio */
	struct side side[2];
	char desc[VQB_CHECK_DESC_MAX];
};

struct vqb_check {
	char name[256];
	struct bound *b;
	size_t n, cap;
	char **files;
	unsigned nfiles;
	unsigned long rows;
};

/* Whether col is a sweep parameter that makes a configuration (not the
 * run length, the CPUs or the position in the sweep): the columns of a
 * sample's key (vqb_check_rows.c). */
bool vqb_check_identity_column(const struct vqb_column *col);

#endif
