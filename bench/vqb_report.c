/* SPDX-License-Identifier: MIT */
/*
 * vqb_report.c - progress line, per-configuration table rows, warnings.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vqb_report.h"

struct vqb_report {
	const struct vqb_plan *p;
	struct vqb_report_opts o;
	bool color_out, color_err, erase; /* erase: the terminal knows ESC[K */
	int label_w;
	size_t progress_len;  /* characters of the progress line shown, 0: none */
	size_t per;           /* slots per configuration: warmup + reps */
	struct vqb_metrics *m;  /* [cfg * per + slot] */
	bool *ok;               /* the run finished without error */
	bool *done;             /* the run happened */
	double *scratch;        /* reps values for vqb_stat_compute */
	bool header_done;
	bool multi;             /* a configuration runs several queues (--queues) */
	unsigned failed;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void vqb_stat_compute(double *v, unsigned n, struct vqb_stat *s)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++)
		if (isfinite(v[i]))
			v[k++] = v[i];
	s->n = k;
	if (!k) {
		s->median = s->min = s->max = NAN;
		return;
	}
	qsort(v, k, sizeof(*v), cmp_double);
	s->min = v[0];
	s->max = v[k - 1];
	s->median = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

bool vqb_want_color(FILE *f)
{
	const char *term = getenv("TERM");

	if (getenv("NO_COLOR") || (term && !strcmp(term, "dumb")))
		return false;
	return isatty(fileno(f));
}

struct vqb_report *vqb_report_new(const struct vqb_plan *p, const struct vqb_report_opts *o)
{
	struct vqb_report *r = calloc(1, sizeof(*r));
	const char *term = getenv("TERM");
	char label[256];

	if (!r)
		return NULL;
	r->p = p;
	r->o = *o;
	r->per = (size_t)p->warmup + p->reps;
	size_t slots = p->n * r->per > 0 ? p->n * r->per : 1;
	r->m = calloc(slots, sizeof(*r->m));
	r->ok = calloc(slots, sizeof(*r->ok));
	r->done = calloc(slots, sizeof(*r->done));
	r->scratch = calloc(p->reps ? p->reps : 1, sizeof(*r->scratch));
	if (!r->m || !r->ok || !r->done || !r->scratch) {
		vqb_report_free(r);
		return NULL;
	}
	r->color_out = vqb_want_color(o->out);
	r->color_err = vqb_want_color(o->err);
	r->erase = !(term && !strcmp(term, "dumb"));
	r->label_w = 6;
	for (size_t i = 0; i < p->n; i++)
		r->multi |= p->cfg[i].queues > 1;
	for (size_t i = 0; i < p->n; i++) {
		int w = (int)strlen(vqb_plan_label(p, &p->cfg[i], label, sizeof(label)));
		if (p->cfg[i].unsafe_skip)
			w += 7; /* " UNSAFE" */
		if (w > r->label_w)
			r->label_w = w;
	}
	return r;
}

void vqb_report_free(struct vqb_report *r)
{
	if (!r)
		return;
	free(r->m);
	free(r->ok);
	free(r->done);
	free(r->scratch);
	free(r);
}

static void clear_progress(struct vqb_report *r)
{
	if (!r->progress_len)
		return;
	if (r->erase)
		fputs("\r\033[K", r->o.err);
	else
		fprintf(r->o.err, "\r%*s\r", (int)r->progress_len, "");
	fflush(r->o.err);
	r->progress_len = 0;
}

void vqb_report_progress(struct vqb_report *r, const struct vqb_step *s)
{
	char label[256], line[512];
	const struct vqb_plan *p = r->p;
	int w = snprintf(NULL, 0, "%zu", p->n);

	if (!r->o.progress)
		return;
	int n = snprintf(line, sizeof(line), "[%*zu/%zu] %s  %s %u/%u", w, s->cfg + 1, p->n,
			 vqb_plan_label(p, &p->cfg[s->cfg], label, sizeof(label)),
			 s->warmup ? "warmup" : "rep", s->rep + 1, s->warmup ? p->warmup : p->reps);
	/* The rate of this configuration's previous run, if any. */
	for (size_t k = s->cfg * r->per + (s->warmup ? s->rep : p->warmup + s->rep); n > 0 && k-- > s->cfg * r->per;) {
		if (r->ok[k] && isfinite(r->m[k].mpps)) {
			snprintf(line + n, sizeof(line) - (size_t)n, "  %.3g Mpps", r->m[k].mpps);
			break;
		}
	}
	size_t len = strlen(line);
	if (r->erase)
		fprintf(r->o.err, "\r%s\033[K", line);
	else
		fprintf(r->o.err, "\r%s%*s", line, len < r->progress_len ? (int)(r->progress_len - len) : 0, "");
	fflush(r->o.err);
	r->progress_len = len > r->progress_len ? len : r->progress_len;
	if (r->erase)
		r->progress_len = len;
}

/* "12.3", "16384", "2.50", "0.0283": one decimal less per order of
 * magnitude, three significant digits below 1. */
static void fmt_num(char *buf, size_t len, double v)
{
	double a = fabs(v);
	if (a >= 1 || a == 0)
		snprintf(buf, len, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", v);
	else
		snprintf(buf, len, "%.3g", v); /* 0.0283: three significant digits */
}

static void fmt_stat(char *buf, size_t len, const struct vqb_stat *s)
{
	char a[32], b[32], c[32];

	if (!s->n) {
		snprintf(buf, len, "-");
		return;
	}
	fmt_num(a, sizeof(a), s->median);
	fmt_num(b, sizeof(b), s->min);
	fmt_num(c, sizeof(c), s->max);
	if (!strcmp(b, c))
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s (%s..%s)", a, b, c);
}

/* The metrics a row summarises. */
enum { COL_MPPS, COL_NS, COL_CYCLES, COL_MAPS, COL_FOOT, NCOLS,
       COL_QMIN = NCOLS, COL_QMAX }; /* --queues: after Mpps, when a configuration has several */
static const char *const col_head[NCOLS] = {
	"Mpps", "ns/pkt", "cycles/pkt", "DMA calls/pkt", "footprint B",
};
#define CELL_W 24

static double metric(const struct vqb_metrics *m, int col)
{
	switch (col) {
	case COL_MPPS: return m->mpps;
	case COL_NS: return m->ns_per_pkt;
	case COL_CYCLES: return m->cycles_per_pkt;
	/* map + unmap, or the IOVA API's link + unlink (policy iova) */
	case COL_MAPS: return m->maps_per_pkt + m->unmaps_per_pkt +
			      (vqb_isset(m->links_per_pkt) ? m->links_per_pkt + m->unlinks_per_pkt : 0);
	case COL_QMIN: return m->queue_mpps_min;
	case COL_QMAX: return m->queue_mpps_max;
	default: return (double)m->footprint_bytes;
	}
}

/* Stats of one metric over the successful measured runs of config c. */
static void stat_of(const struct vqb_report *r, size_t c, int col, struct vqb_stat *s)
{
	double *v = r->scratch;
	unsigned n = 0;

	for (uint32_t rep = 0; rep < r->p->reps; rep++) {
		size_t k = c * r->per + r->p->warmup + rep;
		if (r->ok[k])
			v[n++] = metric(&r->m[k], col);
	}
	vqb_stat_compute(v, n, s);
}

/* --queues: the slowest and the fastest queue's rate (medians over the
 * repetitions), "min..max"; "-" for one queue. */
static const char *queue_cell(const struct vqb_report *r, size_t c, char *buf, size_t len)
{
	struct vqb_stat lo, hi;
	char a[32], b[32];

	stat_of(r, c, COL_QMIN, &lo);
	stat_of(r, c, COL_QMAX, &hi);
	if (r->p->cfg[c].queues < 2 || !lo.n || !hi.n) {
		snprintf(buf, len, "-");
		return buf;
	}
	fmt_num(a, sizeof(a), lo.median);
	fmt_num(b, sizeof(b), hi.median);
	snprintf(buf, len, "%s..%s", a, b);
	return buf;
}

static void print_header(struct vqb_report *r)
{
	char fixed[1024];
	FILE *f = r->o.out;

	vqb_plan_fixed(r->p, fixed, sizeof(fixed));
	fprintf(f, "\nall configurations: %s\n\n", fixed);
	fprintf(f, "%s%-*s %3s", r->color_out ? "\033[1m" : "", r->label_w, "config", "n");
	for (int k = 0; k < NCOLS; k++) {
		fprintf(f, "  %-*s", k + 1 < NCOLS ? CELL_W : 0, col_head[k]);
		if (k == COL_MPPS && r->multi)
			fprintf(f, "  %-*s", CELL_W, "per queue Mpps");
	}
	fprintf(f, "%s\n", r->color_out ? "\033[0m" : "");
	r->header_done = true;
}

static void print_row(struct vqb_report *r, size_t c)
{
	const struct vqb_config *cfg = &r->p->cfg[c];
	char label[256], cell[128];
	unsigned fails = 0;
	struct vqb_stat s;
	FILE *f = r->o.out;

	clear_progress(r);
	if (!r->header_done)
		print_header(r);
	for (uint32_t rep = 0; rep < r->p->reps; rep++)
		fails += !r->ok[c * r->per + r->p->warmup + rep];
	vqb_plan_label(r->p, cfg, label, sizeof(label));
	int pad = r->label_w - (int)strlen(label);
	fputs(label, f);
	if (cfg->unsafe_skip) {
		fprintf(f, " %sUNSAFE%s", r->color_out ? "\033[1;31m" : "", r->color_out ? "\033[0m" : "");
		pad -= 7;
	}
	stat_of(r, c, COL_MPPS, &s);
	fprintf(f, "%*s %3u", pad > 0 ? pad : 0, "", s.n);
	for (int k = 0; k < NCOLS; k++) {
		stat_of(r, c, k, &s);
		fmt_stat(cell, sizeof(cell), &s);
		fprintf(f, "  %-*s", k + 1 < NCOLS || fails ? CELL_W : 0, cell);
		if (k == COL_MPPS && r->multi)
			fprintf(f, "  %-*s", CELL_W, queue_cell(r, c, cell, sizeof(cell)));
	}
	if (fails)
		fprintf(f, "  %sFAILED %u of %u%s", r->color_out ? "\033[1;31m" : "", fails, r->p->reps,
			r->color_out ? "\033[0m" : "");
	/* a DMA resource ran out: the packets until then */
	uint64_t ex_lo = UINT64_MAX, ex_hi = 0;
	unsigned ex = 0;
	for (uint32_t rep = 0; rep < r->p->reps; rep++) {
		const struct vqb_metrics *m = &r->m[c * r->per + r->p->warmup + rep];
		if (strcmp(m->status, "exhausted"))
			continue;
		ex++;
		ex_lo = m->packets < ex_lo ? m->packets : ex_lo;
		ex_hi = m->packets > ex_hi ? m->packets : ex_hi;
	}
	if (ex && ex_lo == ex_hi)
		fprintf(f, "  EXHAUSTED %u of %u after %llu packets", ex, r->p->reps, (unsigned long long)ex_lo);
	else if (ex)
		fprintf(f, "  EXHAUSTED %u of %u after %llu..%llu packets", ex, r->p->reps,
			(unsigned long long)ex_lo, (unsigned long long)ex_hi);
	fputc('\n', f);
	fflush(f);
}

void vqb_report_result(struct vqb_report *r, const struct vqb_step *s,
		       const struct vqb_metrics *m, int rc, const char *msg)
{
	size_t k = s->cfg * r->per + (s->warmup ? s->rep : r->p->warmup + s->rep);
	char label[256];

	r->m[k] = *m;
	r->ok[k] = rc >= 0;
	r->done[k] = true;
	if (rc < 0) {
		r->failed++;
		clear_progress(r);
		vqb_plan_label(r->p, &r->p->cfg[s->cfg], label, sizeof(label));
		fprintf(r->o.err, "vqbench: %s %s %u failed: %s\n", label, s->warmup ? "warmup" : "rep",
			s->rep + 1, msg && *msg ? msg : "(no reason given)");
	}
	if (s->last)
		print_row(r, s->cfg);
}

/* Spread warnings named one by one; more are summed up in one line. */
#define VQB_WARN_LIST 3

static void warn(struct vqb_report *r, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warn(struct vqb_report *r, const char *label, const char *fmt, ...)
{
	va_list ap;

	fprintf(r->o.err, "%swarning%s: %s: ", r->color_err ? "\033[1;33m" : "",
		r->color_err ? "\033[0m" : "", label);
	va_start(ap, fmt);
	vfprintf(r->o.err, fmt, ap);
	va_end(ap);
	fputc('\n', r->o.err);
}

unsigned vqb_report_finish(struct vqb_report *r)
{
	const struct vqb_plan *p = r->p;
	char label[256];
	struct vqb_stat s;
	unsigned spread = 0;
	double worst = 0;

	clear_progress(r);
	for (size_t c = 0; c < p->n; c++) {
		const struct vqb_config *cfg = &p->cfg[c];
		vqb_plan_label(p, cfg, label, sizeof(label));
		stat_of(r, c, COL_MPPS, &s);
		if (cfg->unsafe_skip) {
			uint64_t lost = 0, leaked = 0, stale = 0, ex_pk = 0, lines = 0;
			unsigned ex = 0;
			for (uint32_t rep = 0; rep < p->reps; rep++) {
				const struct vqb_metrics *m = &r->m[c * r->per + p->warmup + rep];
				lost += m->lost_bytes;
				leaked += m->leaked_mappings;
				stale += m->stale_hits;
				lines += m->unmaintained_lines;
				if (!strcmp(m->status, "exhausted") && !ex++)
					ex_pk = m->packets;
			}
			char exh[192] = "";
			int en = 0;
			if (lines)
				en = snprintf(exh, sizeof(exh), "; %llu cache lines left uninvalidated",
					      (unsigned long long)lines);
			if (ex && en >= 0 && (size_t)en < sizeof(exh))
				snprintf(exh + en, sizeof(exh) - (size_t)en, "; a DMA resource exhausted in %u of them "
					 "(the first after %llu packets)", ex, (unsigned long long)ex_pk);
			fprintf(r->o.out, "%sUNSAFE%s %s: %llu bytes lost, %llu mappings leaked, %llu stale IOTLB hits "
				"over %u repetitions%s\n", r->color_out ? "\033[1;31m" : "", r->color_out ? "\033[0m" : "",
				label, (unsigned long long)lost, (unsigned long long)leaked,
				(unsigned long long)stale, p->reps, exh);
		}
		if (s.n < 2 && !(s.n == 1 && p->reps == 1))
			continue;
		if (s.n >= 2 && s.min > 0 && s.max / s.min > VQB_WARN_SPREAD) {
			if (++spread <= VQB_WARN_LIST)
				warn(r, label, "large spread between repetitions (Mpps %.3g..%.3g): try more --reps, "
				     "a quieter machine, or other --cores", s.min, s.max);
			if (s.max / s.min > worst)
				worst = s.max / s.min;
		}
		size_t first = c * r->per + p->warmup;
		if (!p->warmup && r->ok[first] && s.n >= 3 && r->m[first].mpps * VQB_WARN_FIRST_SLOW < s.median)
			warn(r, label, "the first repetition was slower (%.3g Mpps, median %.3g): "
			     "try --warmup 1", r->m[first].mpps, s.median);
		if (p->warmup && r->ok[first - 1] && s.n >= 1 &&
		    r->m[first - 1].mpps * VQB_WARN_WARMUP_SLOW < s.median)
			warn(r, label, "the warmup ran much slower than the measured repetitions "
			     "(%.3g Mpps, median %.3g): if they vary too, try a larger --warmup",
			     r->m[first - 1].mpps, s.median);
	}
	if (spread > VQB_WARN_LIST) {
		snprintf(label, sizeof(label), "%u more configurations", spread - VQB_WARN_LIST);
		warn(r, label, "large spread between repetitions too (max/min up to %.2f): try more --reps, "
		     "a quieter machine, or other --cores", worst);
	}
	if (r->failed)
		fprintf(r->o.err, "vqbench: %u of %zu runs failed\n", r->failed, vqb_plan_runs(p));
	fflush(r->o.out);
	fflush(r->o.err);
	return r->failed;
}
