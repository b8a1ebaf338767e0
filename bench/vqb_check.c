/* SPDX-License-Identifier: MIT */
/*
 * vqb_check.c - the check object (format and API in vqb_check.h): its
 * accessors, its lifetime and the text report of vqbench --check. The work
 * is in vqb_check_parse.c (the thresholds file), vqb_check_rows.c (the CSV
 * rows) and vqb_check_eval.c (one bound's verdict); vqb_junit.c writes the
 * same results as JUnit XML.
 */
#include <stdio.h>
#include <stdlib.h>

#include "vqb_check.h"
#include "vqb_check_impl.h"

const char *const vqb_check_kind_names[3] = { "exact", "count", "ratio" };
const char *const vqb_check_op_names[3] = { "==", "<=", ">=" };

size_t vqb_check_bounds(const struct vqb_check *c)
{
	return c->n;
}

const char *vqb_check_csv(const struct vqb_check *c, unsigned i, unsigned long *rows)
{
	if (rows)
		*rows = c->rows;
	return i < c->nfiles ? c->files[i] : NULL;
}

void vqb_check_free(struct vqb_check *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		for (unsigned s = 0; s < c->b[i].nsides; s++) {
			for (size_t k = 0; k < c->b[i].side[s].n; k++)
				free(c->b[i].side[s].s[k].key);
			free(c->b[i].side[s].s);
		}
	for (unsigned i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	free(c->b);
	free(c);
}

size_t vqb_check_eval(struct vqb_check *c, FILE *out)
{
	static const char *const verdicts[] = { "ok", "FAIL", "skip" };
	size_t failed = 0, skipped = 0;
	struct vqb_check_result r;

	for (size_t i = 0; i < c->n; i++) {
		vqb_check_result(c, i, &r);
		failed += r.verdict == VQB_CHECK_FAIL;
		skipped += r.verdict == VQB_CHECK_SKIP;
		fprintf(out, "%-4s %s: %s [%s:%u]\n", verdicts[r.verdict], r.desc, r.text, c->name, r.line);
	}
	fprintf(out, "check: %zu of %zu bounds %s (%s; %lu rows from %u CSV file%s)",
		failed ? failed : c->n - skipped, c->n, failed ? "fell short" : "hold", c->name, c->rows,
		c->nfiles, c->nfiles == 1 ? "" : "s");
	if (skipped)
		fprintf(out, "; %zu optional bound%s matched no row, skipped", skipped, skipped == 1 ? "" : "s");
	fputc('\n', out);
	return failed;
}
