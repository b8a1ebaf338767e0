/* SPDX-License-Identifier: MIT */
/*
 * vqb_csv_read.c - read a vqbench CSV back through the column table
 * (RFC 4180 fields: quoted fields may hold commas, quotes and line breaks).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vqb_csv.h"

/* One record's fields as offsets into a growing buffer. */
struct record {
	char *buf;
	size_t len, cap;
	size_t *start; /* field k starts at buf + start[k] (NUL-terminated) */
	size_t nfields, capfields;
};

static int put(struct record *r, char ch)
{
	if (r->len + 1 >= r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		char *b = realloc(r->buf, cap);
		if (!b)
			return -ENOMEM;
		r->buf = b;
		r->cap = cap;
	}
	r->buf[r->len++] = ch;
	return 0;
}

static int new_field(struct record *r)
{
	if (r->nfields == r->capfields) {
		size_t cap = r->capfields ? r->capfields * 2 : 64;
		size_t *s = realloc(r->start, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		r->start = s;
		r->capfields = cap;
	}
	r->start[r->nfields++] = r->len;
	return 0;
}

/* Read one record. @return 1 (got one), 0 (end of file), -EINVAL (an
 * unterminated quote or text after a closing quote), -ENOMEM. *lines is
 * advanced by the line breaks consumed. */
static int read_record(FILE *f, struct record *r, unsigned long *lines)
{
	int ch = getc(f);

	r->len = r->nfields = 0;
	if (ch == EOF)
		return 0;
	if (new_field(r) < 0)
		return -ENOMEM;
	for (;;) {
		if (ch == '"' && r->len == r->start[r->nfields - 1]) {
			/* quoted field */
			for (;;) {
				ch = getc(f);
				if (ch == EOF)
					return -EINVAL;
				if (ch == '"') {
					ch = getc(f);
					if (ch != '"')
						break;
				}
				if (ch == '\n')
					(*lines)++;
				if (put(r, (char)ch) < 0)
					return -ENOMEM;
			}
			if (ch != ',' && ch != '\n' && ch != '\r' && ch != EOF)
				return -EINVAL;
			continue; /* ch is the delimiter after the quote */
		}
		if (ch == '\r') {
			int next = getc(f);
			if (next != '\n' && next != EOF)
				ungetc(next, f);
			ch = '\n';
		}
		if (ch == ',' || ch == '\n' || ch == EOF) {
			if (put(r, '\0') < 0)
				return -ENOMEM;
			if (ch == '\n')
				(*lines)++;
			if (ch != ',')
				return 1;
			if (new_field(r) < 0)
				return -ENOMEM;
		} else if (put(r, (char)ch) < 0) {
			return -ENOMEM;
		}
		ch = getc(f);
	}
}

static bool parse_int(const char *s, int64_t *v)
{
	char *end;

	if (!(*s == '-' || (*s >= '0' && *s <= '9')))
		return false;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (*end || errno == ERANGE)
		return false;
	*v = x;
	return true;
}

static bool parse_float(const char *s, double *v)
{
	char *end;

	if (!*s || *s == ' ')
		return false;
	*v = strtod(s, &end);
	return !*end;
}

const struct vqb_cell *vqb_csv_get(const struct vqb_csv_rec *r, const char *name)
{
	int i = vqb_csv_column(name);
	return i < 0 ? NULL : &r->cell[i];
}

/* One file being read: its header's columns and the row being read. */
struct reader {
	const char *path;
	FILE *f;
	struct record r;
	struct vqb_cell *cells; /* by column index */
	int *map;               /* file field k -> column index */
	size_t nheader;
	unsigned version;       /* the schema version the header is */
	unsigned long line;     /* the next line's number */
	char *msg;
	size_t msglen;
};

/* The header: every field a known column, none twice. */
static int header_columns(struct reader *rd)
{
	rd->map = calloc(rd->r.nfields, sizeof(*rd->map));
	if (!rd->map)
		return -ENOMEM;
	rd->nheader = rd->r.nfields;
	for (size_t k = 0; k < rd->r.nfields; k++) {
		const char *name = rd->r.buf + rd->r.start[k];
		rd->map[k] = vqb_csv_column(name);
		if (rd->map[k] < 0)
			return snprintf(rd->msg, rd->msglen, "'%s': line 1: unknown column '%.64s' (not in CSV "
					"schema version %d)", rd->path, name, VQB_CSV_SCHEMA_VERSION), -EINVAL;
		for (size_t j = 0; j < k; j++)
			if (rd->map[j] == rd->map[k])
				return snprintf(rd->msg, rd->msglen, "'%s': line 1: column '%s' appears twice",
						rd->path, name), -EINVAL;
	}
	return 0;
}

/* The version the header is: the newest whose columns it has (a column
 * added in a later version makes it that version), then it must have
 * every column of that version. */
static int header_version(struct reader *rd)
{
	rd->version = VQB_CSV_SCHEMA_OLDEST;
	for (size_t k = 0; k < rd->nheader; k++) {
		unsigned since = vqb_columns[rd->map[k]].since ? vqb_columns[rd->map[k]].since : 1;
		rd->version = since > rd->version ? since : rd->version;
	}
	for (size_t i = 0; i < vqb_ncolumns; i++) {
		unsigned since = vqb_columns[i].since ? vqb_columns[i].since : 1;
		size_t k = 0;
		while (k < rd->nheader && rd->map[k] != (int)i)
			k++;
		if (k == rd->nheader && since <= rd->version)
			return snprintf(rd->msg, rd->msglen, "'%s': line 1: column '%s' is missing (CSV schema "
					"version %u)", rd->path, vqb_columns[i].name, rd->version), -EINVAL;
	}
	return 0;
}

/* Text t into cell c of column col. @return whether t is of its type. */
static bool parse_cell(const struct vqb_column *col, struct vqb_cell *c, const char *t)
{
	bool ok = true;

	memset(c, 0, sizeof(*c));
	c->text = t;
	c->empty = !*t;
	c->f = NAN;
	if (c->empty)
		return true;
	switch (col->type) {
	case VQB_CT_INT:
		ok = parse_int(t, &c->i);
		c->f = (double)c->i;
		break;
	case VQB_CT_FLOAT:
		ok = parse_float(t, &c->f);
		break;
	case VQB_CT_BOOL:
		ok = !strcmp(t, "0") || !strcmp(t, "1");
		c->i = *t == '1';
		c->f = (double)c->i;
		break;
	case VQB_CT_STRING:
		break;
	}
	return ok;
}

/* The record read from line `start` into the cells, each of its type,
 * and its schema_version the header's. */
static int row_cells(struct reader *rd, unsigned long start)
{
	static const char *const type_names[] = { "int", "float", "string", "bool" };
	const struct record *r = &rd->r;

	if (r->nfields != rd->nheader)
		return snprintf(rd->msg, rd->msglen, "'%s': line %lu: %zu fields, the header has %zu",
				rd->path, start, r->nfields, rd->nheader), -EINVAL;
	for (size_t k = 0; k < r->nfields; k++) {
		const struct vqb_column *col = &vqb_columns[rd->map[k]];
		const char *t = r->buf + r->start[k];
		if (!parse_cell(col, &rd->cells[rd->map[k]], t))
			return snprintf(rd->msg, rd->msglen, "'%s': line %lu: column '%s': '%.64s' is not a%s %s",
					rd->path, start, col->name, t, col->type == VQB_CT_INT ? "n" : "",
					type_names[col->type]), -EINVAL;
	}
	const struct vqb_cell *sv = &rd->cells[vqb_csv_column("schema_version")];
	if (sv->empty || sv->i != (int64_t)rd->version)
		return snprintf(rd->msg, rd->msglen, "'%s': line %lu: schema_version '%s', this vqbench reads "
				"version %d (and %d, whose header lacks the newer columns); the header has version "
				"%u's columns", rd->path, start, sv->text, VQB_CSV_SCHEMA_VERSION,
				VQB_CSV_SCHEMA_OLDEST, rd->version), -EINVAL;
	return 0;
}

/* An older row: the columns it lacks read as what that version did. */
static void older_row_defaults(struct reader *rd)
{
	for (size_t i = 0; i < vqb_ncolumns && rd->version < VQB_CSV_SCHEMA_VERSION; i++) {
		const struct vqb_column *col = &vqb_columns[i];
		if ((col->since ? col->since : 1) <= rd->version)
			continue;
		struct vqb_cell *c = &rd->cells[i];
		memset(c, 0, sizeof(*c));
		c->text = col->before ? col->before : "";
		c->empty = !*c->text;
		c->f = NAN;
		if (!c->empty && (col->type == VQB_CT_INT || col->type == VQB_CT_BOOL)) {
			c->i = strtoll(c->text, NULL, 10);
			c->f = (double)c->i;
		} else if (!c->empty && col->type == VQB_CT_FLOAT) {
			c->f = strtod(c->text, NULL);
		}
	}
}

/* Open the file and read its header. */
static int read_header(struct reader *rd)
{
	rd->cells = calloc(vqb_ncolumns, sizeof(*rd->cells));
	rd->f = fopen(rd->path, "r");
	if (!rd->f || !rd->cells) {
		int rc = rd->f ? -ENOMEM : -errno;
		return snprintf(rd->msg, rd->msglen, "cannot read '%s': %s", rd->path, strerror(-rc)), rc;
	}
	int rc = read_record(rd->f, &rd->r, &rd->line);
	if (rc <= 0)
		return snprintf(rd->msg, rd->msglen, "'%s': %s", rd->path,
				rc == 0 ? "empty file, no header" : "malformed header"), rc == 0 ? -EINVAL : rc;
	if ((rc = header_columns(rd)) < 0)
		return rc;
	return header_version(rd);
}

int vqb_csv_read(const char *path, vqb_csv_row_fn fn, void *arg, char *msg, size_t msglen)
{
	struct reader rd = { .path = path, .line = 1, .msg = msg, .msglen = msglen };
	int rc, rows = 0;

	if (msglen)
		msg[0] = '\0';
	if ((rc = read_header(&rd)) < 0)
		goto out;
	for (;;) {
		unsigned long start = rd.line;
		rc = read_record(rd.f, &rd.r, &rd.line);
		if (rc == 0)
			break;
		if (rc < 0) {
			snprintf(msg, msglen, "'%s': line %lu: malformed quoted field", path, start);
			goto out;
		}
		if (rd.r.nfields == 1 && !rd.r.buf[rd.r.start[0]])
			continue; /* a blank line */
		if ((rc = row_cells(&rd, start)) < 0)
			goto out;
		older_row_defaults(&rd);
		rows++;
		if (fn) {
			struct vqb_csv_rec rec = { .line = start, .cell = rd.cells };
			rc = fn(&rec, arg);
			if (rc)
				goto out;
		}
	}
	rc = rows;
out:
	/* the message quotes the file: keep it one line, no escape sequences */
	for (char *s = msg; rc < 0 && msglen && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	if (rd.f)
		fclose(rd.f);
	free(rd.r.buf);
	free(rd.r.start);
	free(rd.map);
	free(rd.cells);
	return rc;
}
