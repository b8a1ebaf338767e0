/* SPDX-License-Identifier: MIT */
/*
 * vqb_check.c - the thresholds file (parser) and the check of CSV rows
 * against it (see vqb_check.h for the format). Rows come through
 * vqb_csv_read, so the check reads exactly the schema the writer writes.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vqb_check.h"
#include "vqb_csv.h"
#include "vqb_opts.h"

#define MAX_COND 16
#define VAL_MAX 64
#define DESC_MAX 512

enum bkind { B_EXACT, B_COUNT, B_RATIO };
enum bop { OP_EQ, OP_LE, OP_GE };

static const char *const kind_names[] = { "exact", "count", "ratio" };
static const char *const op_names[] = { "==", "<=", ">=" };

/* Columns whose value depends on timing or on the machine's mood: they
 * may be compared only with a neighbour of the same run (ratio). */
static const struct {
	const char *name, *why;
} noisy[] = {
	{ "elapsed_s", "a time" },
	{ "mpps", "a rate" },
	{ "gbps", "a rate" },
	{ "ns_per_pkt", "a time" },
	{ "cycles_per_pkt", "a time (TSC cycles)" },
	{ "packets", "the packet count of a timed run" },
	{ "kicks_per_pkt", "set by the device's timing (thread device)" },
	{ "calls_per_pkt", "set by the device's timing (thread device)" },
	{ "rss_bytes", "the resident set (allocator and page-cache state)" },
	{ "rss_delta_bytes", "the resident set (allocator and page-cache state)" },
	{ "hw_cycles_per_pkt", "a perf counter (varies between runs)" },
	{ "hw_instructions_per_pkt", "a perf counter (varies between runs)" },
	{ "hw_l1d_misses_per_pkt", "a perf counter (varies between runs)" },
	{ "hw_llc_misses_per_pkt", "a perf counter (varies between runs)" },
	{ "hw_dtlb_misses_per_pkt", "a perf counter (varies between runs)" },
	{ "c2c_ns_before", "a time" },
	{ "c2c_ns_after", "a time" },
};

struct cond {
	int col;
	bool numeric; /* compare cell.f with num */
	double num;
	char val[VAL_MAX];
};

struct sel {
	unsigned n;
	struct cond c[MAX_COND];
};

struct sample {
	double v;
	unsigned file;
	unsigned long line;
	char *key; /* the configuration's parameters */
};

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
	char desc[DESC_MAX];
};

struct vqb_check {
	char name[256];
	struct bound *b;
	size_t n, cap;
	char **files;
	unsigned nfiles;
	unsigned long rows;
};

/* ---- parser ---- */

static int perr(char *msg, size_t len, const char *name, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int perr(char *msg, size_t len, const char *name, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(msg, len, "%s:%u: ", name, line);

	if (n >= 0 && (size_t)n < len) {
		va_start(ap, fmt);
		vsnprintf(msg + n, len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* it quotes the file: keep it one line, no escape sequences */
	for (char *s = msg; len && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	return -EINVAL;
}

static bool parse_number(const char *s, double *v)
{
	char *end;

	if (!*s)
		return false;
	*v = strtod(s, &end);
	return !*end && isfinite(*v);
}

/* Whether value v is one of the names option id allows ("a, b, c"). */
static bool option_allows(int id, const char *v, char *allowed, size_t len)
{
	vqb_opt_allowed((enum vqb_opt_id)id, allowed, len);
	for (const char *p = allowed; *p;) {
		const char *e = strstr(p, ", ");
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (strlen(v) == n && !strncmp(p, v, n))
			return true;
		if (!e)
			break;
		p = e + 2;
	}
	return false;
}

static int parse_cond(const char *tok, size_t toklen, struct cond *c, const char *name,
		      unsigned line, char *msg, size_t len)
{
	char item[VAL_MAX * 2], allowed[512];
	const struct vqb_column *col;

	if (toklen >= sizeof(item))
		return perr(msg, len, name, line, "selection '%.*s' is too long", (int)toklen, tok);
	memcpy(item, tok, toklen);
	item[toklen] = '\0';
	char *eq = strchr(item, '=');
	if (!eq || eq == item)
		return perr(msg, len, name, line, "'%s' is not K=V (K a CSV column)", item);
	*eq = '\0';
	const char *v = eq + 1;
	c->col = vqb_csv_column(item);
	if (c->col < 0)
		return perr(msg, len, name, line, "'%s' is not a column of the CSV schema "
			    "(see vqbench --list-columns)", item);
	col = &vqb_columns[c->col];
	if (strlen(v) >= VAL_MAX)
		return perr(msg, len, name, line, "value of %s is longer than %d characters", item, VAL_MAX - 1);
	snprintf(c->val, sizeof(c->val), "%s", v);
	c->numeric = false;
	if (!*v)
		return 0; /* K= : the cell is empty */
	switch (col->type) {
	case VQB_CT_BOOL:
		c->numeric = true;
		if (!strcmp(v, "on") || !strcmp(v, "1"))
			c->num = 1;
		else if (!strcmp(v, "off") || !strcmp(v, "0"))
			c->num = 0;
		else
			return perr(msg, len, name, line, "%s=%s: %s is a bool (allowed: 0, 1, on, off)",
				    item, v, item);
		return 0;
	case VQB_CT_INT:
	case VQB_CT_FLOAT:
		c->numeric = true;
		if (!parse_number(v, &c->num))
			return perr(msg, len, name, line, "%s=%s: '%s' is not a number", item, v, v);
		return 0;
	case VQB_CT_STRING:
		if (col->opt >= 0 && (vqb_options[col->opt].arg == VQB_ARG_ENUM ||
				      vqb_options[col->opt].arg == VQB_ARG_NAME) &&
		    !option_allows(col->opt, v, allowed, sizeof(allowed)))
			return perr(msg, len, name, line, "%s=%s: '%s' is not a known %s (allowed: %s)",
				    item, v, v, vqb_options[col->opt].what ? vqb_options[col->opt].what : item,
				    allowed);
		return 0;
	}
	return 0;
}

/* Parse SEL (K=V[,K=V...]) into s, appending to its conditions. */
static int parse_sel(const char *tok, struct sel *s, const char *name, unsigned line,
		     char *msg, size_t len)
{
	for (const char *p = tok;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (!n)
			return perr(msg, len, name, line, "empty condition in selection '%s'", tok);
		if (s->n == MAX_COND)
			return perr(msg, len, name, line, "more than %d conditions in selection '%s'",
				    MAX_COND, tok);
		int rc = parse_cond(p, n, &s->c[s->n], name, line, msg, len);
		if (rc < 0)
			return rc;
		for (unsigned k = 0; k < s->n; k++)
			if (s->c[k].col == s->c[s->n].col)
				return perr(msg, len, name, line, "column %s is selected twice",
					    vqb_columns[s->c[k].col].name);
		s->n++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* A side's selection must not repeat a column of the where clause. */
static int check_overlap(const struct sel *side, const struct sel *where, const char *name,
			 unsigned line, char *msg, size_t len)
{
	for (unsigned i = 0; i < side->n; i++)
		for (unsigned k = 0; k < where->n; k++)
			if (side->c[i].col == where->c[k].col)
				return perr(msg, len, name, line, "column %s is in both a ratio side and where",
					    vqb_columns[side->c[i].col].name);
	return 0;
}

static int parse_metric(const char *tok, enum bkind kind, int *out, const char *name,
			unsigned line, char *msg, size_t len)
{
	int i = vqb_csv_column(tok);

	if (i < 0)
		return perr(msg, len, name, line, "metric '%s' is not a column of the CSV schema "
			    "(see vqbench --list-columns)", tok);
	const struct vqb_column *col = &vqb_columns[i];
	if (col->src != VQB_SRC_MET || (col->type != VQB_CT_INT && col->type != VQB_CT_FLOAT))
		return perr(msg, len, name, line, "metric '%s' is not a measured number "
			    "(a parameter, name or label)", tok);
	if (kind != B_RATIO)
		for (size_t k = 0; k < sizeof(noisy) / sizeof(noisy[0]); k++)
			if (!strcmp(noisy[k].name, tok))
				return perr(msg, len, name, line, "metric %s is %s, too noisy for an %s bound; "
					    "compare it within one run with a ratio bound", tok,
					    noisy[k].why, kind_names[kind]);
	*out = i;
	return 0;
}

#define MAX_TOK 16

static int parse_line(char *text, unsigned line, struct bound *b, const char *name,
		      char *msg, size_t len)
{
	char *tok[MAX_TOK + 1], *save = NULL;
	unsigned nt = 0, k = 0;
	int rc;

	for (char *t = strtok_r(text, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if (nt == MAX_TOK)
			return perr(msg, len, name, line, "too many words (a bound has at most %d)", MAX_TOK);
		tok[nt++] = t;
	}
	tok[nt] = NULL;
	memset(b, 0, sizeof(*b));
	b->line = line;
	b->nsides = 1;
	b->optional = !strcmp(tok[0], "optional");
	k = b->optional;
	unsigned kind;
	for (kind = 0; tok[k] && kind < 3; kind++)
		if (!strcmp(tok[k], kind_names[kind]))
			break;
	if (!tok[k] || kind == 3)
		return perr(msg, len, name, line, "'%s' is not a kind of bound (allowed: [optional] exact, count, ratio)",
			    tok[k] ? tok[k] : "");
	b->kind = (enum bkind)kind;
	k++;
	if (!tok[k])
		return perr(msg, len, name, line, "%s: missing the metric", tok[k - 1]);
	rc = parse_metric(tok[k++], b->kind, &b->metric, name, line, msg, len);
	if (rc < 0)
		return rc;
	if (b->kind == B_RATIO) {
		if (!tok[k] || !tok[k + 1] || strcmp(tok[k + 1], "/") || !tok[k + 2])
			return perr(msg, len, name, line, "ratio: expected 'SEL / SEL' after the metric "
				    "(e.g. policy=skip / policy=full)");
		for (int s = 0; s < 2; s++) {
			rc = parse_sel(tok[k], &b->side[s].sel, name, line, msg, len);
			if (rc < 0)
				return rc;
			k += s ? 1 : 2;
		}
		b->nsides = 2;
	}
	if (tok[k] && !strcmp(tok[k], "where")) {
		if (!tok[k + 1])
			return perr(msg, len, name, line, "'where' without a selection");
		rc = parse_sel(tok[k + 1], &b->where, name, line, msg, len);
		if (rc < 0)
			return rc;
		k += 2;
		for (unsigned s = 0; b->kind == B_RATIO && s < 2; s++) {
			rc = check_overlap(&b->side[s].sel, &b->where, name, line, msg, len);
			if (rc < 0)
				return rc;
		}
	}
	if (!tok[k])
		return perr(msg, len, name, line, "missing the comparison (==, <= or >=) and its number");
	unsigned op;
	for (op = 0; op < 3; op++)
		if (!strcmp(tok[k], op_names[op]))
			break;
	if (op == 3)
		return perr(msg, len, name, line, "'%s' is not a comparison (allowed: ==, <=, >=)", tok[k]);
	b->op = (enum bop)op;
	k++;
	if (!tok[k] || !parse_number(tok[k], &b->limit))
		return perr(msg, len, name, line, "'%s' after %s is not a number", tok[k] ? tok[k] : "",
			    op_names[op]);
	k++;
	if (tok[k] && !strcmp(tok[k], "tol")) {
		if (b->kind != B_COUNT)
			return perr(msg, len, name, line, "'tol' is for count bounds only (%s bounds are %s)",
				    kind_names[b->kind], b->kind == B_EXACT ? "exact" : "loose by their number");
		char *pct = tok[k + 1];
		size_t pl = pct ? strlen(pct) : 0;
		double t;
		if (!pl || pct[pl - 1] != '%')
			return perr(msg, len, name, line, "tol: expected a percentage such as 5%%, got '%s'",
				    pct ? pct : "");
		pct[pl - 1] = '\0';
		if (!parse_number(pct, &t) || t < 0 || t > 100)
			return perr(msg, len, name, line, "tol: '%s%%' is not a percentage 0..100", pct);
		b->tol = t / 100;
		k += 2;
	}
	if (tok[k])
		return perr(msg, len, name, line, "unexpected '%s' after the bound", tok[k]);
	if (b->kind == B_RATIO && !(b->limit > 0))
		return perr(msg, len, name, line, "a ratio bound needs a number > 0");
	return 0;
}

/* "ratio mpps policy=skip / policy=full where layout=split" from the tokens
 * (the original text, blanks normalised). */
static void describe(const char *line, char *desc, size_t len)
{
	size_t pos = 0;
	char copy[DESC_MAX], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", line);
	desc[0] = '\0';
	for (char *t = strtok_r(copy, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if (!strcmp(t, "==") || !strcmp(t, "<=") || !strcmp(t, ">="))
			break;
		int n = snprintf(desc + pos, len - pos, "%s%s", pos ? " " : "", t);
		if (n < 0 || (size_t)n >= len - pos)
			break;
		pos += (size_t)n;
	}
}

int vqb_check_parse(const char *name, const char *text, struct vqb_check **out,
		    char *msg, size_t msglen)
{
	struct vqb_check *c = calloc(1, sizeof(*c));
	unsigned line = 0;
	int rc = 0;

	if (!c)
		return -ENOMEM;
	snprintf(c->name, sizeof(c->name), "%s", name);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char buf[DESC_MAX];
		line++;
		if (n >= sizeof(buf)) {
			rc = perr(msg, msglen, name, line, "line longer than %zu characters", sizeof(buf) - 1);
			break;
		}
		memcpy(buf, p, n);
		buf[n] = '\0';
		p = nl ? nl + 1 : p + n;
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		if (!buf[strspn(buf, " \t\r")])
			continue;
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 16;
			struct bound *nb = realloc(c->b, cap * sizeof(*nb));
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			c->b = nb;
			c->cap = cap;
		}
		struct bound *b = &c->b[c->n];
		char work[DESC_MAX];
		snprintf(work, sizeof(work), "%s", buf);
		rc = parse_line(work, line, b, name, msg, msglen);
		if (rc < 0)
			break;
		describe(buf, b->desc, sizeof(b->desc));
		c->n++;
	}
	if (!rc && !c->n)
		rc = perr(msg, msglen, name, line ? line : 1, "no bound in the file");
	if (rc < 0) {
		vqb_check_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int vqb_check_load(const char *path, struct vqb_check **out, char *msg, size_t msglen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if (!f) {
		rc = -errno;
		snprintf(msg, msglen, "--check: cannot read the thresholds file '%s': %s", path, strerror(-rc));
		return rc;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *t = realloc(text, cap);
			if (!t) {
				free(text);
				fclose(f);
				return -ENOMEM;
			}
			text = t;
		}
		size_t n = fread(text + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	rc = ferror(f) ? -EIO : 0;
	fclose(f);
	if (rc < 0) {
		snprintf(msg, msglen, "--check: cannot read the thresholds file '%s': %s", path, strerror(EIO));
		free(text);
		return rc;
	}
	text[len] = '\0';
	if (memchr(text, '\0', len)) {
		free(text);
		snprintf(msg, msglen, "%s: not a text file (holds a NUL byte)", path);
		return -EINVAL;
	}
	rc = vqb_check_parse(path, text, out, msg, msglen);
	free(text);
	return rc;
}

size_t vqb_check_bounds(const struct vqb_check *c)
{
	return c->n;
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

/* ---- rows ---- */

/* The sweep parameters that make a configuration (not the run length,
 * the CPUs or the position in the sweep). */
static bool identity_column(const struct vqb_column *col)
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

struct feed {
	struct vqb_check *c;
	unsigned file;
};

static int add_row(const struct vqb_csv_rec *r, void *arg)
{
	struct feed *fd = arg;
	struct vqb_check *c = fd->c;
	char key[1024];
	size_t pos = 0;

	for (size_t i = 0; i < vqb_ncolumns && pos < sizeof(key); i++)
		if (identity_column(&vqb_columns[i])) {
			int n = snprintf(key + pos, sizeof(key) - pos, "%s\x1f", r->cell[i].text);
			if (n > 0)
				pos += (size_t)n;
		}
	c->rows++;
	for (size_t i = 0; i < c->n; i++) {
		struct bound *b = &c->b[i];
		const struct vqb_cell *m = &r->cell[b->metric];
		if (m->empty || !sel_match(&b->where, r))
			continue;
		for (unsigned s = 0; s < b->nsides; s++) {
			struct side *sd = &b->side[s];
			if (!sel_match(&sd->sel, r))
				continue;
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
			smp->v = m->f;
			smp->file = fd->file;
			smp->line = r->line;
			sd->n++;
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

/* ---- evaluation ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(const struct side *sd)
{
	double *v = malloc(sd->n * sizeof(*v));
	double m;

	if (!v)
		return NAN;
	for (size_t i = 0; i < sd->n; i++)
		v[i] = sd->s[i].v;
	qsort(v, sd->n, sizeof(*v), cmp_double);
	m = sd->n % 2 ? v[sd->n / 2] : (v[sd->n / 2 - 1] + v[sd->n / 2]) / 2;
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
			if (!identity_column(&vqb_columns[col]))
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
		snprintf(buf, len, "%s %.9g (tol %.9g%%)", op_names[b->op], b->limit, b->tol * 100);
	else
		snprintf(buf, len, "%s %.9g", op_names[b->op], b->limit);
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

/* Fill r (verdict, value, rows, text) for bound b. */
static void eval_bound(const struct vqb_check *c, const struct bound *b, struct vqb_check_result *r)
{
	char *out = r->text, *lim = r->expected, why[512];
	size_t len = sizeof(r->text);
	const char *mname = vqb_columns[b->metric].name;

	bound_text(b, lim, sizeof(r->expected));
	r->verdict = VQB_CHECK_FAIL;
	r->value = NAN;
	r->rows[0] = '\0';
	for (unsigned s = 0; s < b->nsides; s++) {
		const struct side *sd = &b->side[s];
		if (!sd->n) {
			snprintf(out, len, "no row with a value of %s matches%s; %s %s", mname,
				 b->nsides == 2 ? (s ? " the denominator" : " the numerator") : "",
				 b->optional ? "optional bound skipped, expected" : "expected", lim);
			if (b->optional)
				r->verdict = VQB_CHECK_SKIP;
			return;
		}
		if (b->kind != B_EXACT && !one_config(sd, why, sizeof(why))) {
			snprintf(out, len, "%s%s; expected %s", b->nsides == 2 ? (s ? "denominator: " : "numerator: ") : "",
				 why, lim);
			side_rows(c, sd, "", r->rows, sizeof(r->rows));
			return;
		}
	}
	const struct side *s0 = &b->side[0];
	if (b->kind == B_EXACT) {
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
			snprintf(out, len, "measured %.9g, expected %s (%zu of %zu rows fall short, first at %s:%lu)",
				 s0->s[first].v, lim, bad, s0->n, c->files[s0->s[first].file], s0->s[first].line);
			return;
		}
		r->value = lo;
		side_rows(c, s0, "", r->rows, sizeof(r->rows));
		if (lo == hi)
			snprintf(out, len, "%.9g %s (%zu rows)", lo, lim, s0->n);
		else
			snprintf(out, len, "%.9g..%.9g %s (%zu rows)", lo, hi, lim, s0->n);
		r->verdict = VQB_CHECK_OK;
		return;
	}
	if (b->kind == B_COUNT) {
		double m = median(s0);
		bool ok = holds(b->op, m, b->limit, b->tol);
		r->value = m;
		side_rows(c, s0, "", r->rows, sizeof(r->rows));
		snprintf(out, len, ok ? "%.9g %s (median of %zu rows)" : "measured %.9g, expected %s (median of %zu rows)",
			 m, lim, s0->n);
		r->verdict = ok ? VQB_CHECK_OK : VQB_CHECK_FAIL;
		return;
	}
	double num = median(&b->side[0]), den = median(&b->side[1]);
	side_rows(c, &b->side[0], "numerator ", r->rows, sizeof(r->rows));
	side_rows(c, &b->side[1], " / denominator ", r->rows, sizeof(r->rows));
	if (!(den != 0)) {
		snprintf(out, len, "the denominator's median %s is 0; expected %s", mname, lim);
		return;
	}
	double q = num / den;
	bool ok = holds(b->op, q, b->limit, 0);
	r->value = q;
	if (ok)
		snprintf(out, len, "%.4g %s (%s medians %.6g / %.6g of %zu / %zu rows)", q, lim, mname,
			 num, den, b->side[0].n, b->side[1].n);
	else
		snprintf(out, len, "measured %.4g, expected %s (%s medians %.6g / %.6g of %zu / %zu rows)", q,
			 lim, mname, num, den, b->side[0].n, b->side[1].n);
	r->verdict = ok ? VQB_CHECK_OK : VQB_CHECK_FAIL;
}

void vqb_check_result(const struct vqb_check *c, size_t i, struct vqb_check_result *r)
{
	const struct bound *b = &c->b[i];

	memset(r, 0, sizeof(*r));
	r->desc = b->desc;
	r->kind = kind_names[b->kind];
	r->metric = vqb_columns[b->metric].name;
	r->thresholds = c->name;
	r->line = b->line;
	eval_bound(c, b, r);
}

const char *vqb_check_csv(const struct vqb_check *c, unsigned i, unsigned long *rows)
{
	if (rows)
		*rows = c->rows;
	return i < c->nfiles ? c->files[i] : NULL;
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
