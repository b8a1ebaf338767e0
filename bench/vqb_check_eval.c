/* SPDX-License-Identifier: MIT */
/*
 * vqb_check_eval.c - one bound's verdict from the samples the CSV rows gave
 * it: every row (exact), the median (count) or the ratio of two medians
 * (ratio) against the bound, with the value, the rows behind it and the
 * explanation the report prints (vqb_check_result).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vqb_check.h"
#include "vqb_check_impl.h"
#include "vqb_csv.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median of the n values at v (sorted in place); NAN for none. */
static double median_of(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The median of a side's values. */
static double median(const struct side *sd)
{
	double *v = malloc((sd->n ? sd->n : 1) * sizeof(*v));
	double m;

	if (!v)
		return NAN;
	for (size_t i = 0; i < sd->n; i++)
		v[i] = sd->s[i].v;
	m = median_of(v, sd->n);
	free(v);
	return m;
}

static bool holds(enum bop op, double v, double limit, double tol)
{
	double slack = fabs(limit) * tol;

	switch (op) {
	case OP_EQ:
		return tol > 0 ? fabs(v - limit) <= slack : v == limit;
	case OP_LE:
		return v <= limit + slack;
	case OP_GE:
		return v >= limit - slack;
	}
	return false;
}

/* Whether the side's rows all come from one configuration; if not, say in
 * why which parameter differs. */
static bool one_config(const struct side *sd, char *why, size_t len)
{
	for (size_t i = 1; i < sd->n; i++) {
		if (!strcmp(sd->s[i].key, sd->s[0].key))
			continue;
		const char *a = sd->s[0].key, *b = sd->s[i].key;
		for (size_t col = 0; col < vqb_ncolumns; col++) {
			if (!vqb_check_identity_column(&vqb_columns[col]))
				continue;
			size_t la = strcspn(a, "\x1f"), lb = strcspn(b, "\x1f");
			if (la != lb || strncmp(a, b, la)) {
				snprintf(why, len, "rows of more than one configuration match (they differ in %s: "
					 "'%.*s' and '%.*s'); narrow the selection", vqb_columns[col].name,
					 (int)la, a, (int)lb, b);
				return false;
			}
			a += la + 1;
			b += lb + 1;
		}
	}
	return true;
}

static void bound_text(const struct bound *b, char *buf, size_t len)
{
	if (b->tol > 0)
		snprintf(buf, len, "%s %.9g (tol %.9g%%)", vqb_check_op_names[b->op], b->limit, b->tol * 100);
	else
		snprintf(buf, len, "%s %.9g", vqb_check_op_names[b->op], b->limit);
}

/* Append "file:line" of sample k of sd to rows: "a.csv:2,5; b.csv:3".
 * *last: the file of the previous reference, -1 before the first. */
static void add_row_ref(const struct vqb_check *c, const struct side *sd, size_t k, int *last,
			char *rows, size_t len)
{
	size_t pos = strlen(rows);
	int n;

	if (pos + 24 >= len) {
		if (pos + 4 < len && strcmp(rows + pos - 3, "..."))
			strcat(rows, "...");
		return;
	}
	if (*last == (int)sd->s[k].file)
		n = snprintf(rows + pos, len - pos, ",%lu", sd->s[k].line);
	else
		n = snprintf(rows + pos, len - pos, "%s%s:%lu", *last >= 0 ? "; " : "", c->files[sd->s[k].file],
			     sd->s[k].line);
	if (n < 0 || (size_t)n >= len - pos)
		rows[pos] = '\0';
	*last = (int)sd->s[k].file;
}

/* Every row of sd as file:line into rows, after prefix. */
static void side_rows(const struct vqb_check *c, const struct side *sd, const char *prefix, char *rows, size_t len)
{
	size_t pos = strlen(rows);
	int last = -1;

	snprintf(rows + pos, len - pos, "%s", prefix);
	for (size_t k = 0; k < sd->n; k++)
		add_row_ref(c, sd, k, &last, rows, len);
}

/* Whether every side of b has rows, of one configuration unless b is
 * exact; if not, r says why (and is a SKIP for an optional bound that no
 * row matches). */
static bool sides_usable(const struct vqb_check *c, const struct bound *b, struct vqb_check_result *r)
{
	const char *mname = vqb_columns[b->metric].name;
	char why[512];

	for (unsigned s = 0; s < b->nsides; s++) {
		const struct side *sd = &b->side[s];
		if (!sd->n) {
			snprintf(r->text, sizeof(r->text), "no row with a value of %s matches%s; %s %s", mname,
				 b->nsides == 2 ? (s ? " the denominator" : " the numerator") : "",
				 b->optional ? "optional bound skipped, expected" : "expected", r->expected);
			if (b->optional)
				r->verdict = VQB_CHECK_SKIP;
			return false;
		}
		if (b->kind != B_EXACT && !one_config(sd, why, sizeof(why))) {
			snprintf(r->text, sizeof(r->text), "%s%s; expected %s",
				 b->nsides == 2 ? (s ? "denominator: " : "numerator: ") : "", why, r->expected);
			side_rows(c, sd, "", r->rows, sizeof(r->rows));
			return false;
		}
	}
	return true;
}

/* exact: every row must hold; the value is the first failing row's, or
 * the lowest when all hold. */
static void eval_exact(const struct vqb_check *c, const struct bound *b, struct vqb_check_result *r)
{
	const struct side *s0 = &b->side[0];
	size_t bad = 0, first = 0;
	double lo = s0->s[0].v, hi = lo;

	for (size_t i = 0; i < s0->n; i++) {
		lo = fmin(lo, s0->s[i].v);
		hi = fmax(hi, s0->s[i].v);
		if (!holds(b->op, s0->s[i].v, b->limit, 0) && !bad++)
			first = i;
	}
	if (bad) {
		int last = -1;
		r->value = s0->s[first].v;
		for (size_t i = first; i < s0->n; i++)
			if (!holds(b->op, s0->s[i].v, b->limit, 0))
				add_row_ref(c, s0, i, &last, r->rows, sizeof(r->rows));
		snprintf(r->text, sizeof(r->text),
			 "measured %.9g, expected %s (%zu of %zu rows fall short, first at %s:%lu)",
			 s0->s[first].v, r->expected, bad, s0->n, c->files[s0->s[first].file], s0->s[first].line);
		return;
	}
	r->value = lo;
	side_rows(c, s0, "", r->rows, sizeof(r->rows));
	if (lo == hi)
		snprintf(r->text, sizeof(r->text), "%.9g %s (%zu rows)", lo, r->expected, s0->n);
	else
		snprintf(r->text, sizeof(r->text), "%.9g..%.9g %s (%zu rows)", lo, hi, r->expected, s0->n);
	r->verdict = VQB_CHECK_OK;
}

/* count: the median of the rows, within the tolerance. */
static void eval_count(const struct vqb_check *c, const struct bound *b, struct vqb_check_result *r)
{
	const struct side *s0 = &b->side[0];
	double m = median(s0);
	bool ok = holds(b->op, m, b->limit, b->tol);

	r->value = m;
	side_rows(c, s0, "", r->rows, sizeof(r->rows));
	snprintf(r->text, sizeof(r->text),
		 ok ? "%.9g %s (median of %zu rows)" : "measured %.9g, expected %s (median of %zu rows)",
		 m, r->expected, s0->n);
	r->verdict = ok ? VQB_CHECK_OK : VQB_CHECK_FAIL;
}

/* The pairing of a ratio's rows: numerator row and denominator row of one
 * CSV file with the same rep (under --order interleave, the two runs of
 * one round of the sweep, close in time). */
struct pairing {
	double *q;        /* the paired ratios (numerator / denominator) */
	size_t n;         /* pairs used */
	size_t moved;     /* pairs left out: a row with placement_changed = 1 */
	size_t zero;      /* pairs left out: the denominator row's value is 0 */
	size_t unpaired;  /* rows of either side with no partner */
};

static int pair_rows(const struct side *num, const struct side *den, struct pairing *p)
{
	bool *used = calloc(den->n ? den->n : 1, sizeof(*used));

	memset(p, 0, sizeof(*p));
	p->q = malloc((num->n ? num->n : 1) * sizeof(*p->q));
	if (!used || !p->q) {
		free(used);
		free(p->q);
		p->q = NULL;
		return -1;
	}
	for (size_t i = 0; i < num->n; i++) {
		const struct sample *a = &num->s[i];
		size_t j = 0;
		while (j < den->n && (used[j] || a->rep < 0 || den->s[j].rep != a->rep || den->s[j].file != a->file))
			j++;
		if (j == den->n) {
			p->unpaired++;
			continue;
		}
		used[j] = true;
		if (a->moved || den->s[j].moved)
			p->moved++;
		else if (!(den->s[j].v != 0))
			p->zero++;
		else
			p->q[p->n++] = a->v / den->s[j].v;
	}
	for (size_t j = 0; j < den->n; j++)
		p->unpaired += !used[j];
	free(used);
	return 0;
}

/* "; 1 pair left out (placement_changed); 2 rows unpaired" for what the
 * pairing did not use, at buf. */
static void pairing_notes(const struct pairing *p, char *buf, size_t len)
{
	size_t pos = 0;

	buf[0] = '\0';
	if (p->moved)
		pos += (size_t)snprintf(buf + pos, len - pos, "; %zu pair%s left out (placement_changed)", p->moved,
					p->moved == 1 ? "" : "s");
	if (p->zero && pos < len)
		pos += (size_t)snprintf(buf + pos, len - pos, "; %zu pair%s left out (denominator 0)", p->zero,
					p->zero == 1 ? "" : "s");
	if (p->unpaired && pos < len)
		snprintf(buf + pos, len - pos, "; %zu row%s without a partner of the same file and rep", p->unpaired,
			 p->unpaired == 1 ? "" : "s");
}

/* ratio: the median of the paired ratios (rep r of the numerator over rep
 * r of the denominator, both from one CSV file). */
static void eval_ratio(const struct vqb_check *c, const struct bound *b, struct vqb_check_result *r)
{
	const char *mname = vqb_columns[b->metric].name;
	struct pairing p;
	char notes[256];

	side_rows(c, &b->side[0], "numerator ", r->rows, sizeof(r->rows));
	side_rows(c, &b->side[1], " / denominator ", r->rows, sizeof(r->rows));
	if (pair_rows(&b->side[0], &b->side[1], &p) < 0) {
		snprintf(r->text, sizeof(r->text), "out of memory pairing the rows; expected %s", r->expected);
		return;
	}
	pairing_notes(&p, notes, sizeof(notes));
	if (!p.n) {
		snprintf(r->text, sizeof(r->text),
			 "no usable pair of rows (a numerator row pairs with the denominator row of the same CSV "
			 "file and rep; %zu / %zu rows)%s; expected %s", b->side[0].n, b->side[1].n, notes,
			 r->expected);
		free(p.q);
		return;
	}
	double q = median_of(p.q, p.n), lo = p.q[0], hi = p.q[p.n - 1]; /* sorted by median_of */
	bool ok = holds(b->op, q, b->limit, 0);
	r->value = q;
	snprintf(r->text, sizeof(r->text), "%s%.4g%s %s (%s: median of %zu paired ratios, %.4g..%.4g%s)",
		 ok ? "" : "measured ", q, ok ? "" : ", expected", r->expected, mname, p.n, lo, hi, notes);
	r->verdict = ok ? VQB_CHECK_OK : VQB_CHECK_FAIL;
	free(p.q);
}

void vqb_check_result(const struct vqb_check *c, size_t i, struct vqb_check_result *r)
{
	const struct bound *b = &c->b[i];

	memset(r, 0, sizeof(*r));
	r->desc = b->desc;
	r->kind = vqb_check_kind_names[b->kind];
	r->metric = vqb_columns[b->metric].name;
	r->thresholds = c->name;
	r->line = b->line;
	bound_text(b, r->expected, sizeof(r->expected));
	r->verdict = VQB_CHECK_FAIL;
	r->value = NAN;
	r->rows[0] = '\0';
	if (!sides_usable(c, b, r))
		return;
	if (b->kind == B_EXACT)
		eval_exact(c, b, r);
	else if (b->kind == B_COUNT)
		eval_count(c, b, r);
	else
		eval_ratio(c, b, r);
}
