/* SPDX-License-Identifier: MIT */
/*
 * vqb_check_parse.c - the thresholds file (format in vqb_check.h): read it,
 * split it into lines and each line into a struct bound, or say in one
 * line "name:LINE: what is wrong".
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vqb_check.h"
#include "vqb_check_impl.h"
#include "vqb_csv.h"
#include "vqb_opts.h"

#define MAX_TOK 16 /* words of one bound */

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

/* Where the parser is, for its messages: "name:line: ...". */
struct at {
	const char *name;
	unsigned line;
	char *msg;
	size_t len;
};

static int perr(const struct at *at, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(const struct at *at, const char *fmt, ...)
{
	va_list ap;
	char *msg = at->msg;
	size_t len = at->len;
	int n = snprintf(msg, len, "%s:%u: ", at->name, at->line);

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

/* ---- selections: K=V[,K=V...] ---- */

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

/* The value v of column item (col) into c, checked against the column's
 * type: a bool, a number, or one of the names its option allows. */
static int parse_cond_value(const char *item, const char *v, const struct vqb_column *col,
			    struct cond *c, const struct at *at)
{
	char allowed[512];

	switch (col->type) {
	case VQB_CT_BOOL:
		c->numeric = true;
		if (!strcmp(v, "on") || !strcmp(v, "1"))
			c->num = 1;
		else if (!strcmp(v, "off") || !strcmp(v, "0"))
			c->num = 0;
		else
			return perr(at, "%s=%s: %s is a bool (allowed: 0, 1, on, off)", item, v, item);
		return 0;
	case VQB_CT_INT:
	case VQB_CT_FLOAT:
		c->numeric = true;
		if (!parse_number(v, &c->num))
			return perr(at, "%s=%s: '%s' is not a number", item, v, v);
		return 0;
	case VQB_CT_STRING:
		if (col->opt >= 0 && (vqb_options[col->opt].arg == VQB_ARG_ENUM ||
				      vqb_options[col->opt].arg == VQB_ARG_NAME) &&
		    !option_allows(col->opt, v, allowed, sizeof(allowed)))
			return perr(at, "%s=%s: '%s' is not a known %s (allowed: %s)", item, v, v,
				    vqb_options[col->opt].what ? vqb_options[col->opt].what : item, allowed);
		return 0;
	}
	return 0;
}

/* One K=V (toklen characters at tok) into c. */
static int parse_cond(const char *tok, size_t toklen, struct cond *c, const struct at *at)
{
	char item[VQB_CHECK_VAL_MAX * 2];

	if (toklen >= sizeof(item))
		return perr(at, "selection '%.*s' is too long", (int)toklen, tok);
	memcpy(item, tok, toklen);
	item[toklen] = '\0';
	char *eq = strchr(item, '=');
	if (!eq || eq == item)
		return perr(at, "'%s' is not K=V (K a CSV column)", item);
	*eq = '\0';
	const char *v = eq + 1;
	c->col = vqb_csv_column(item);
	if (c->col < 0)
		return perr(at, "'%s' is not a column of the CSV schema (see vqbench --list-columns)", item);
	if (strlen(v) >= VQB_CHECK_VAL_MAX)
		return perr(at, "value of %s is longer than %d characters", item, VQB_CHECK_VAL_MAX - 1);
	snprintf(c->val, sizeof(c->val), "%s", v);
	c->numeric = false;
	if (!*v)
		return 0; /* K= : the cell is empty */
	return parse_cond_value(item, v, &vqb_columns[c->col], c, at);
}

/* Parse SEL (K=V[,K=V...]) into s, appending to its conditions. */
static int parse_sel(const char *tok, struct sel *s, const struct at *at)
{
	for (const char *p = tok;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (!n)
			return perr(at, "empty condition in selection '%s'", tok);
		if (s->n == VQB_CHECK_MAX_COND)
			return perr(at, "more than %d conditions in selection '%s'", VQB_CHECK_MAX_COND, tok);
		int rc = parse_cond(p, n, &s->c[s->n], at);
		if (rc < 0)
			return rc;
		for (unsigned k = 0; k < s->n; k++)
			if (s->c[k].col == s->c[s->n].col)
				return perr(at, "column %s is selected twice", vqb_columns[s->c[k].col].name);
		s->n++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* A side's selection must not repeat a column of the where clause. */
static int check_overlap(const struct sel *side, const struct sel *where, const struct at *at)
{
	for (unsigned i = 0; i < side->n; i++)
		for (unsigned k = 0; k < where->n; k++)
			if (side->c[i].col == where->c[k].col)
				return perr(at, "column %s is in both a ratio side and where",
					    vqb_columns[side->c[i].col].name);
	return 0;
}

/* ---- one bound: the steps of a line, left to right ---- */

static int parse_metric(const char *tok, enum bkind kind, int *out, const struct at *at)
{
	int i = vqb_csv_column(tok);

	if (i < 0)
		return perr(at, "metric '%s' is not a column of the CSV schema (see vqbench --list-columns)", tok);
	const struct vqb_column *col = &vqb_columns[i];
	if (col->src != VQB_SRC_MET || (col->type != VQB_CT_INT && col->type != VQB_CT_FLOAT))
		return perr(at, "metric '%s' is not a measured number (a parameter, name or label)", tok);
	if (kind != B_RATIO)
		for (size_t k = 0; k < sizeof(noisy) / sizeof(noisy[0]); k++)
			if (!strcmp(noisy[k].name, tok))
				return perr(at, "metric %s is %s, too noisy for an %s bound; "
					    "compare it within one run with a ratio bound", tok,
					    noisy[k].why, vqb_check_kind_names[kind]);
	*out = i;
	return 0;
}

/* The words of text (cut in place) into tok, NULL after the last. */
static int split_words(char *text, char **tok, const struct at *at)
{
	char *save = NULL;
	unsigned nt = 0;

	for (char *t = strtok_r(text, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if (nt == MAX_TOK)
			return perr(at, "too many words (a bound has at most %d)", MAX_TOK);
		tok[nt++] = t;
	}
	tok[nt] = NULL;
	return 0;
}

/* "[optional] KIND METRIC" from tok[*k]. */
static int parse_kind_metric(char **tok, unsigned *k, struct bound *b, const struct at *at)
{
	unsigned kind;

	b->optional = !strcmp(tok[0], "optional");
	*k = b->optional;
	for (kind = 0; tok[*k] && kind < 3; kind++)
		if (!strcmp(tok[*k], vqb_check_kind_names[kind]))
			break;
	if (!tok[*k] || kind == 3)
		return perr(at, "'%s' is not a kind of bound (allowed: [optional] exact, count, ratio)",
			    tok[*k] ? tok[*k] : "");
	b->kind = (enum bkind)kind;
	(*k)++;
	if (!tok[*k])
		return perr(at, "%s: missing the metric", tok[*k - 1]);
	return parse_metric(tok[(*k)++], b->kind, &b->metric, at);
}

/* A ratio's "SEL_NUM / SEL_DEN" from tok[*k]. */
static int parse_ratio_sides(char **tok, unsigned *k, struct bound *b, const struct at *at)
{
	if (!tok[*k] || !tok[*k + 1] || strcmp(tok[*k + 1], "/") || !tok[*k + 2])
		return perr(at, "ratio: expected 'SEL / SEL' after the metric (e.g. policy=skip / policy=full)");
	for (int s = 0; s < 2; s++) {
		int rc = parse_sel(tok[*k], &b->side[s].sel, at);
		if (rc < 0)
			return rc;
		*k += s ? 1 : 2;
	}
	b->nsides = 2;
	return 0;
}

/* "where SEL" from tok[*k], if there. */
static int parse_where(char **tok, unsigned *k, struct bound *b, const struct at *at)
{
	int rc;

	if (!tok[*k] || strcmp(tok[*k], "where"))
		return 0;
	if (!tok[*k + 1])
		return perr(at, "'where' without a selection");
	rc = parse_sel(tok[*k + 1], &b->where, at);
	if (rc < 0)
		return rc;
	*k += 2;
	for (unsigned s = 0; b->kind == B_RATIO && s < 2; s++) {
		rc = check_overlap(&b->side[s].sel, &b->where, at);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* "OP NUMBER" from tok[*k]. */
static int parse_comparison(char **tok, unsigned *k, struct bound *b, const struct at *at)
{
	unsigned op;

	if (!tok[*k])
		return perr(at, "missing the comparison (==, <= or >=) and its number");
	for (op = 0; op < 3; op++)
		if (!strcmp(tok[*k], vqb_check_op_names[op]))
			break;
	if (op == 3)
		return perr(at, "'%s' is not a comparison (allowed: ==, <=, >=)", tok[*k]);
	b->op = (enum bop)op;
	(*k)++;
	if (!tok[*k] || !parse_number(tok[*k], &b->limit))
		return perr(at, "'%s' after %s is not a number", tok[*k] ? tok[*k] : "",
			    vqb_check_op_names[op]);
	(*k)++;
	return 0;
}

/* "tol PCT%" from tok[*k], if there (count bounds only). */
static int parse_tol(char **tok, unsigned *k, struct bound *b, const struct at *at)
{
	if (!tok[*k] || strcmp(tok[*k], "tol"))
		return 0;
	if (b->kind != B_COUNT)
		return perr(at, "'tol' is for count bounds only (%s bounds are %s)",
			    vqb_check_kind_names[b->kind], b->kind == B_EXACT ? "exact" : "loose by their number");
	char *pct = tok[*k + 1];
	size_t pl = pct ? strlen(pct) : 0;
	double t;
	if (!pl || pct[pl - 1] != '%')
		return perr(at, "tol: expected a percentage such as 5%%, got '%s'", pct ? pct : "");
	pct[pl - 1] = '\0';
	if (!parse_number(pct, &t) || t < 0 || t > 100)
		return perr(at, "tol: '%s%%' is not a percentage 0..100", pct);
	b->tol = t / 100;
	*k += 2;
	return 0;
}

/* One bound from the (non-blank, comment-free) text of a line. */
static int parse_line(char *text, struct bound *b, const struct at *at)
{
	char *tok[MAX_TOK + 1];
	unsigned k = 0;
	int rc = split_words(text, tok, at);

	if (rc < 0)
		return rc;
	memset(b, 0, sizeof(*b));
	b->line = at->line;
	b->nsides = 1;
	rc = parse_kind_metric(tok, &k, b, at);
	if (!rc && b->kind == B_RATIO)
		rc = parse_ratio_sides(tok, &k, b, at);
	if (!rc)
		rc = parse_where(tok, &k, b, at);
	if (!rc)
		rc = parse_comparison(tok, &k, b, at);
	if (!rc)
		rc = parse_tol(tok, &k, b, at);
	if (rc < 0)
		return rc;
	if (tok[k])
		return perr(at, "unexpected '%s' after the bound", tok[k]);
	if (b->kind == B_RATIO && !(b->limit > 0))
		return perr(at, "a ratio bound needs a number > 0");
	return 0;
}

/* "ratio mpps policy=skip / policy=full where layout=split" from the tokens
 * (the original text, blanks normalised). */
static void describe(const char *line, char *desc, size_t len)
{
	size_t pos = 0;
	char copy[VQB_CHECK_DESC_MAX], *save = NULL;

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

/* ---- the file ---- */

/* Room for one more bound in c. */
static int grow_bounds(struct vqb_check *c)
{
	if (c->n < c->cap)
		return 0;
	size_t cap = c->cap ? c->cap * 2 : 16;
	struct bound *nb = realloc(c->b, cap * sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	c->b = nb;
	c->cap = cap;
	return 0;
}

/* The bound of line buf (comment cut, not blank) appended to c. */
static int add_bound(struct vqb_check *c, const char *buf, const struct at *at)
{
	char work[VQB_CHECK_DESC_MAX];
	int rc = grow_bounds(c);

	if (rc < 0)
		return rc;
	struct bound *b = &c->b[c->n];
	snprintf(work, sizeof(work), "%s", buf);
	rc = parse_line(work, b, at);
	if (rc < 0)
		return rc;
	describe(buf, b->desc, sizeof(b->desc));
	c->n++;
	return 0;
}

int vqb_check_parse(const char *name, const char *text, struct vqb_check **out,
		    char *msg, size_t msglen)
{
	struct vqb_check *c = calloc(1, sizeof(*c));
	struct at at = { .name = name, .line = 0, .msg = msg, .len = msglen };
	int rc = 0;

	if (!c)
		return -ENOMEM;
	snprintf(c->name, sizeof(c->name), "%s", name);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char buf[VQB_CHECK_DESC_MAX];
		at.line++;
		if (n >= sizeof(buf)) {
			rc = perr(&at, "line longer than %zu characters", sizeof(buf) - 1);
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
		rc = add_bound(c, buf, &at);
		if (rc < 0)
			break;
	}
	if (!rc && !c->n) {
		at.line = at.line ? at.line : 1;
		rc = perr(&at, "no bound in the file");
	}
	if (rc < 0) {
		vqb_check_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* The whole of file f into *text (NUL-terminated), its length in *len. */
static int read_all(FILE *f, char **text, size_t *len)
{
	size_t cap = 0;

	*text = NULL;
	*len = 0;
	for (;;) {
		if (*len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *t = realloc(*text, cap);
			if (!t) {
				free(*text);
				*text = NULL;
				return -ENOMEM;
			}
			*text = t;
		}
		size_t n = fread(*text + *len, 1, 4096, f);
		*len += n;
		if (n < 4096)
			break;
	}
	(*text)[*len] = '\0';
	return ferror(f) ? -EIO : 0;
}

int vqb_check_load(const char *path, struct vqb_check **out, char *msg, size_t msglen)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t len;
	int rc;

	if (!f) {
		rc = -errno;
		snprintf(msg, msglen, "--check: cannot read the thresholds file '%s': %s", path, strerror(-rc));
		return rc;
	}
	rc = read_all(f, &text, &len);
	fclose(f);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		snprintf(msg, msglen, "--check: cannot read the thresholds file '%s': %s", path, strerror(EIO));
		free(text);
		return rc;
	}
	if (memchr(text, '\0', len)) {
		free(text);
		snprintf(msg, msglen, "%s: not a text file (holds a NUL byte)", path);
		return -EINVAL;
	}
	rc = vqb_check_parse(path, text, out, msg, msglen);
	free(text);
	return rc;
}
