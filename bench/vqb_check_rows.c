/* SPDX-License-Identifier: MIT */
/*
 * vqb_check_rows.c - the CSV side of the check: each row read (through
 * vqb_csv_read, so exactly the schema the writer writes) becomes a sample
 * of every bound, or side of a ratio, whose selection it matches, with its
 * configuration's key and its file:line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vqb_check.h"
#include "vqb_check_impl.h"
#include "vqb_csv.h"
#include "vqb_opts.h"

bool vqb_check_identity_column(const struct vqb_column *col)
{
	return col->src == VQB_SRC_CFG && col->opt >= 0 && col->opt != VQB_OPT_PACKETS &&
	       col->opt != VQB_OPT_SECONDS && col->opt != VQB_OPT_WARMUP &&
	       col->opt != VQB_OPT_REPS && col->opt != VQB_OPT_CORES;
}

static bool cond_match(const struct cond *c, const struct vqb_csv_rec *r)
{
	const struct vqb_cell *cell = &r->cell[c->col];

	if (!c->val[0])
		return cell->empty;
	if (cell->empty)
		return false;
	if (c->numeric)
		return cell->f == c->num;
	return !strcmp(cell->text, c->val);
}

static bool sel_match(const struct sel *s, const struct vqb_csv_rec *r)
{
	for (unsigned i = 0; i < s->n; i++)
		if (!cond_match(&s->c[i], r))
			return false;
	return true;
}

/* The configuration of row r: its identity cells, each ended by 0x1f. */
static void row_key(const struct vqb_csv_rec *r, char *key, size_t len)
{
	size_t pos = 0;

	for (size_t i = 0; i < vqb_ncolumns && pos < len; i++)
		if (vqb_check_identity_column(&vqb_columns[i])) {
			int n = snprintf(key + pos, len - pos, "%s\x1f", r->cell[i].text);
			if (n > 0)
				pos += (size_t)n;
		}
}

/* Append value v of row r (file) with configuration key to sd, with the
 * row's repetition and placement flag (what a ratio pairs and excludes by). */
static int side_add(struct side *sd, double v, unsigned file, const struct vqb_csv_rec *r, const char *key)
{
	static int rep_col = -2, moved_col = -2;

	if (rep_col == -2) {
		rep_col = vqb_csv_column("rep");
		moved_col = vqb_csv_column("placement_changed");
	}
	if (sd->n == sd->cap) {
		size_t cap = sd->cap ? sd->cap * 2 : 8;
		struct sample *ns = realloc(sd->s, cap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		sd->s = ns;
		sd->cap = cap;
	}
	struct sample *smp = &sd->s[sd->n];
	smp->key = strdup(key);
	if (!smp->key)
		return -ENOMEM;
	smp->v = v;
	smp->file = file;
	smp->line = r->line;
	smp->rep = rep_col >= 0 && !r->cell[rep_col].empty ? (long)r->cell[rep_col].f : -1;
	smp->moved = moved_col >= 0 && !r->cell[moved_col].empty && r->cell[moved_col].f != 0;
	sd->n++;
	return 0;
}

struct feed {
	struct vqb_check *c;
	unsigned file;
};

/* vqb_csv_read's callback: row r as a sample of every bound side it matches. */
static int add_row(const struct vqb_csv_rec *r, void *arg)
{
	struct feed *fd = arg;
	struct vqb_check *c = fd->c;
	char key[1024];

	key[0] = '\0';
	row_key(r, key, sizeof(key));
	c->rows++;
	for (size_t i = 0; i < c->n; i++) {
		struct bound *b = &c->b[i];
		const struct vqb_cell *m = &r->cell[b->metric];
		if (m->empty || !sel_match(&b->where, r))
			continue;
		for (unsigned s = 0; s < b->nsides; s++) {
			if (!sel_match(&b->side[s].sel, r))
				continue;
			int rc = side_add(&b->side[s], m->f, fd->file, r, key);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int vqb_check_add_csv(struct vqb_check *c, const char *path, char *msg, size_t msglen)
{
	char **nf = realloc(c->files, (c->nfiles + 1) * sizeof(*nf));

	if (!nf)
		return -ENOMEM;
	c->files = nf;
	c->files[c->nfiles] = strdup(path);
	if (!c->files[c->nfiles])
		return -ENOMEM;
	struct feed fd = { .c = c, .file = c->nfiles++ };
	int rc = vqb_csv_read(path, add_row, &fd, msg, msglen);
	if (rc == -ENOMEM)
		snprintf(msg, msglen, "'%s': out of memory", path);
	return rc;
}
