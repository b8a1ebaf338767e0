/* SPDX-License-Identifier: MIT */
/*
 * vqb_junit.h - the result of vqbench --check as JUnit XML (--junit FILE),
 * the report format every CI system shows.
 *
 * One <testsuites> holding one <testsuite> named after the thresholds file,
 * with properties (the thresholds file, each CSV file, the rows read, the
 * vqbench version) and one <testcase> per bound, in file order:
 *   name      the bound as written, comparison included
 *             ("exact footprint_bytes where layout=split == 48614")
 *   classname vqbench.check.KIND (exact, count, ratio)
 *   file, line  where the bound is in the thresholds file
 * A bound that falls short holds <failure message="measured V, expected B"
 * type="KIND">, whose text gives the bound, the value, the CSV rows it came
 * from (file:line) and the explanation; an optional bound that no row
 * matches holds <skipped message="..."/>; a bound that holds has the ok
 * line as <system-out>. Attributes tests, failures, skipped and errors
 * (always 0) count the testcases. The grammar is tests/bench/junit.xsd.
 */
#ifndef VQB_JUNIT_H
#define VQB_JUNIT_H

#include <stddef.h>

#include "vqb_check.h"

/** Evaluate every bound of c and write the JUnit XML to path ("-":
 * stdout). tool names the program in a property ("vqbench 0.1.0 (git
 * abc)"). @return 0, or -errno with one line in msg naming the path. */
int vqb_junit_write(const struct vqb_check *c, const char *path, const char *tool,
		    char *msg, size_t msglen);

#endif
