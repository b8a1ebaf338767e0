/* SPDX-License-Identifier: MIT */
/*
 * vqb_junit.c - JUnit XML from the bounds' results (vqb_check_result).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vqb_junit.h"

/* s as XML character data or attribute value: the five entities escaped,
 * control characters XML 1.0 cannot hold (all but tab, LF, CR) as '?'. */
static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		switch (ch) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			fputc(ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' ? '?' : ch, f);
		}
	}
}

static void property(FILE *f, const char *name, const char *value)
{
	fprintf(f, "      <property name=\"%s\" value=\"", name);
	xml_text(f, value);
	fputs("\"/>\n", f);
}

static void testcase(FILE *f, const struct vqb_check_result *r)
{
	char name[1200], value[64];

	snprintf(name, sizeof(name), "%s %s", r->desc, r->expected);
	fputs("    <testcase name=\"", f);
	xml_text(f, name);
	fprintf(f, "\" classname=\"vqbench.check.%s\" time=\"0\" file=\"", r->kind);
	xml_text(f, r->thresholds);
	fprintf(f, "\" line=\"%u\">\n", r->line);
	if (isnan(r->value))
		snprintf(value, sizeof(value), "none");
	else
		snprintf(value, sizeof(value), "%.9g", r->value);
	if (r->verdict == VQB_CHECK_FAIL) {
		fprintf(f, "      <failure type=\"%s\" message=\"", r->kind);
		if (isnan(r->value)) {
			xml_text(f, r->text);
		} else {
			fprintf(f, "measured %s, expected ", value);
			xml_text(f, r->expected);
		}
		fputs("\">", f);
		fputs("bound: ", f);
		xml_text(f, name);
		fprintf(f, "\nvalue: %s %s\nrows: ", r->metric, value);
		xml_text(f, r->rows[0] ? r->rows : "none");
		fputs("\nwhy: ", f);
		xml_text(f, r->text);
		fprintf(f, "\nthresholds: ");
		xml_text(f, r->thresholds);
		fprintf(f, ":%u</failure>\n", r->line);
	} else if (r->verdict == VQB_CHECK_SKIP) {
		fputs("      <skipped message=\"", f);
		xml_text(f, r->text);
		fputs("\"/>\n", f);
	} else {
		fputs("      <system-out>", f);
		xml_text(f, r->text);
		fputs("\nrows: ", f);
		xml_text(f, r->rows);
		fputs("</system-out>\n", f);
	}
	fputs("    </testcase>\n", f);
}

static void write_xml(FILE *f, const struct vqb_check *c, const char *tool)
{
	struct vqb_check_result r;
	size_t n = vqb_check_bounds(c), failed = 0, skipped = 0;
	unsigned long rows;
	const char *csv;
	char stamp[32], host[256] = "";
	time_t now = time(NULL);
	struct tm tm;

	for (size_t i = 0; i < n; i++) {
		vqb_check_result(c, i, &r);
		failed += r.verdict == VQB_CHECK_FAIL;
		skipped += r.verdict == VQB_CHECK_SKIP;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	gethostname(host, sizeof(host) - 1);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites name=\"vqbench --check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
		"skipped=\"%zu\" time=\"0\">\n", n, failed, skipped);
	vqb_check_result(c, 0, &r); /* a thresholds file has at least one bound */
	fputs("  <testsuite name=\"", f);
	xml_text(f, r.thresholds);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"0\" "
		"timestamp=\"%s\" hostname=\"", n, failed, skipped, stamp);
	xml_text(f, host);
	fputs("\">\n    <properties>\n", f);
	property(f, "tool", tool);
	property(f, "thresholds", r.thresholds);
	for (unsigned i = 0; (csv = vqb_check_csv(c, i, &rows)); i++)
		property(f, "csv", csv);
	char nrows[32];
	vqb_check_csv(c, 0, &rows);
	snprintf(nrows, sizeof(nrows), "%lu", rows);
	property(f, "rows", nrows);
	fputs("    </properties>\n", f);
	for (size_t i = 0; i < n; i++) {
		vqb_check_result(c, i, &r);
		testcase(f, &r);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
}

int vqb_junit_write(const struct vqb_check *c, const char *path, const char *tool,
		    char *msg, size_t msglen)
{
	bool out = !strcmp(path, "-");
	FILE *f = out ? stdout : fopen(path, "w");

	if (!f) {
		int e = errno;
		snprintf(msg, msglen, "--junit: cannot write '%s': %s (allowed: a writable file name, or - for stdout)",
			 path, strerror(e));
		return -e;
	}
	errno = 0;
	write_xml(f, c, tool);
	int bad = out ? fflush(f) : fclose(f);
	if (bad || (out && ferror(f))) {
		int e = errno ? errno : EIO;
		if (!out)
			remove(path); /* no half document */
		snprintf(msg, msglen, "--junit: cannot write '%s': %s", path, strerror(e));
		return -e;
	}
	return 0;
}
