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

int vqb_csv_read(const char *path, vqb_csv_row_fn fn, void *arg, char *msg, size_t msglen)
{
	static const char *const type_names[] = { "int", "float", "string", "bool" };
	struct record r = { 0 };
	struct vqb_cell *cells = calloc(vqb_ncolumns, sizeof(*cells));
	int *map = NULL; /* file field k -> column index */
	unsigned long line = 1, start;
	int rc = 0, rows = 0;
	FILE *f = fopen(path, "r");

	if (msglen)
		msg[0] = '\0';
	if (!f || !cells) {
		rc = f ? -ENOMEM : -errno;
		snprintf(msg, msglen, "cannot read '%s': %s", path, strerror(-rc));
		goto out;
	}
	rc = read_record(f, &r, &line);
	if (rc <= 0) {
		snprintf(msg, msglen, "'%s': %s", path, rc == 0 ? "empty file, no header" : "malformed header");
		rc = rc == 0 ? -EINVAL : rc;
		goto out;
	}
	map = calloc(r.nfields, sizeof(*map));
	if (!map) {
		rc = -ENOMEM;
		goto out;
	}
	size_t nheader = r.nfields;
	for (size_t k = 0; k < r.nfields; k++) {
		const char *name = r.buf + r.start[k];
		map[k] = vqb_csv_column(name);
		if (map[k] < 0) {
			snprintf(msg, msglen, "'%s': line 1: unknown column '%.64s' (not in CSV schema version %d)",
				 path, name, VQB_CSV_SCHEMA_VERSION);
			rc = -EINVAL;
			goto out;
		}
		for (size_t j = 0; j < k; j++)
			if (map[j] == map[k]) {
				snprintf(msg, msglen, "'%s': line 1: column '%s' appears twice", path, name);
				rc = -EINVAL;
				goto out;
			}
	}
	/* the version the header is: the newest whose columns it has (a
	 * column added in a later version makes it that version), then it
	 * must have every column of that version */
	unsigned version = VQB_CSV_SCHEMA_OLDEST;
	for (size_t k = 0; k < nheader; k++) {
		unsigned since = vqb_columns[map[k]].since ? vqb_columns[map[k]].since : 1;
		version = since > version ? since : version;
	}
	for (size_t i = 0; i < vqb_ncolumns; i++) {
		unsigned since = vqb_columns[i].since ? vqb_columns[i].since : 1;
		size_t k = 0;
		while (k < nheader && map[k] != (int)i)
			k++;
		if (k == nheader && since <= version) {
			snprintf(msg, msglen, "'%s': line 1: column '%s' is missing (CSV schema version %u)",
				 path, vqb_columns[i].name, version);
			rc = -EINVAL;
			goto out;
		}
	}

	for (;;) {
		start = line;
		rc = read_record(f, &r, &line);
		if (rc == 0)
			break;
		if (rc < 0) {
			snprintf(msg, msglen, "'%s': line %lu: malformed quoted field", path, start);
			goto out;
		}
		if (r.nfields == 1 && !r.buf[r.start[0]])
			continue; /* a blank line */
		if (r.nfields != nheader) {
			snprintf(msg, msglen, "'%s': line %lu: %zu fields, the header has %zu",
				 path, start, r.nfields, nheader);
			rc = -EINVAL;
			goto out;
		}
		for (size_t k = 0; k < r.nfields; k++) {
			const struct vqb_column *col = &vqb_columns[map[k]];
			struct vqb_cell *c = &cells[map[k]];
			const char *t = r.buf + r.start[k];
			bool ok = true;

			memset(c, 0, sizeof(*c));
			c->text = t;
			c->empty = !*t;
			c->f = NAN;
			if (c->empty)
				continue;
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
			if (!ok) {
				snprintf(msg, msglen, "'%s': line %lu: column '%s': '%.64s' is not a%s %s",
					 path, start, col->name, t, col->type == VQB_CT_INT ? "n" : "",
					 type_names[col->type]);
				rc = -EINVAL;
				goto out;
			}
		}
		const struct vqb_cell *sv = &cells[vqb_csv_column("schema_version")];
		if (sv->empty || sv->i != (int64_t)version) {
			snprintf(msg, msglen, "'%s': line %lu: schema_version '%s', this vqbench reads version %d "
				 "(and %d, whose header lacks the newer columns); the header has version %u's columns",
				 path, start, sv->text, VQB_CSV_SCHEMA_VERSION, VQB_CSV_SCHEMA_OLDEST, version);
			rc = -EINVAL;
			goto out;
		}
		/* an older row: the columns it lacks read as what that version did */
		for (size_t i = 0; i < vqb_ncolumns && version < VQB_CSV_SCHEMA_VERSION; i++) {
			const struct vqb_column *col = &vqb_columns[i];
			if ((col->since ? col->since : 1) <= version)
				continue;
			struct vqb_cell *c = &cells[i];
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
		rows++;
		if (fn) {
			struct vqb_csv_rec rec = { .line = start, .cell = cells };
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
	if (f)
		fclose(f);
	free(r.buf);
	free(r.start);
	free(map);
	free(cells);
	return rc;
}
