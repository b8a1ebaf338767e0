/* SPDX-License-Identifier: MIT */
/*
 * fuzz_csv - the vqbench CSV reader (vqb_csv_read: RFC 4180 fields, the
 * header against the column table, typed cells) on arbitrary bytes.
 *
 * Checked: the result is a row count, or -EINVAL with one line naming the
 * file; every row handed to the callback has a cell for every column whose
 * text is a string (read whole here, so ASan sees an overrun), and a typed
 * cell agrees with its emptiness.
 */
#include <errno.h>
#include <math.h>

#include "fuzz_memfile.h"
#include "vqb_csv.h"

static int row(const struct vqb_csv_rec *r, void *arg)
{
	unsigned long *rows = arg;
	for (size_t i = 0; i < vqb_ncolumns; i++) {
		const struct vqb_cell *c = &r->cell[i];
		FUZZ_CHECK(c->text, "row at line %lu: column %s has no text", r->line, vqb_columns[i].name);
		size_t n = strlen(c->text);
		FUZZ_CHECK(c->empty == (n == 0), "column %s: empty %d but %zu bytes", vqb_columns[i].name,
			   c->empty, n);
		if (c->empty)
			FUZZ_CHECK(isnan(c->f), "an empty cell with a value");
	}
	FUZZ_CHECK(vqb_csv_get(r, "schema_version") && !vqb_csv_get(r, "no such column"), "vqb_csv_get");
	(*rows)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[512] = "";
	unsigned long rows = 0;
	const char *path = fuzz_memfile(data, size);
	int rc = vqb_csv_read(path, row, &rows, msg, sizeof(msg));
	if (rc < 0)
		FUZZ_CHECK((rc == -EINVAL || rc == -ENOMEM) && strstr(msg, path) && fz_one_line(msg),
			   "vqb_csv_read returned %d: '%s'", rc, msg);
	else
		FUZZ_CHECK((unsigned long)rc == rows, "%d rows returned, %lu seen", rc, rows);
	return 0;
}
