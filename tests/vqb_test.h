/* SPDX-License-Identifier: MIT */
/*
 * vqb_test.h - the few helpers every test program shares.
 *
 * Exit codes follow automake/CTest: 0 pass, 1 fail, 77 skip (the machine
 * truly cannot run the test; CTest's SKIP_RETURN_CODE). A test prints what it
 * checked, so a passing log says something.
 */
#ifndef VQB_TEST_H
#define VQB_TEST_H

#include <stdio.h>
#include <stdlib.h>

enum { T_EXIT_PASS = 0, T_EXIT_FAIL = 1, T_EXIT_SKIP = 77 };

static unsigned long t_checks, t_failures;

/* CHECK(cond, fmt, ...): count a check; on failure print file:line, the
 * condition and a message naming the configuration, and remember it. */
#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		t_checks++;                                                    \
		if (!(cond)) {                                                 \
			t_failures++;                                          \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, \
				#cond);                                        \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
		}                                                              \
	} while (0)

/* REQUIRE: like CHECK but stops the test at once. */
#define REQUIRE(cond, ...)                                                     \
	do {                                                                   \
		unsigned long t_before_ = t_failures;                          \
		CHECK(cond, __VA_ARGS__);                                      \
		if (t_failures != t_before_)                                   \
			exit(T_EXIT_FAIL);                                     \
	} while (0)

/* Print the summary line and return the exit code for main(). */
static inline int t_done(const char *what)
{
	printf("%s: %lu checks, %lu failed\n", what, t_checks, t_failures);
	return t_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}

static inline int t_skip(const char *why)
{
	printf("SKIP: %s\n", why);
	return T_EXIT_SKIP;
}

#endif
