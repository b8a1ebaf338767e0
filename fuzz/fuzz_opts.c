/* SPDX-License-Identifier: MIT */
/*
 * fuzz_opts - vqbench's option parser (vqb_opts_parse, from the one option
 * table) and what consumes its result: the sweep plan, its labels and
 * description, and the option echo.
 *
 * Input: arguments separated by NUL bytes (argv[0] is "vqbench").
 * Checked: a refusal is -EINVAL (or -ERANGE) with a one-line message that
 * names something ("--flag" or the argument); an accepted command line
 * builds a plan (or -E2BIG for a sweep that is too large) whose every
 * configuration labels and formats without overrunning; every argument is
 * an exact-size allocation, so ASan sees a read past its end.
 */
#include <errno.h>

#include "fuzz_util.h"
#include "vqb_opts.h"
#include "vqb_plan.h"

#define MAX_ARGS 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vqb_opts o; /* large: every option's value list */
	static FILE *null;
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	char msg[1024];

	if (!null)
		null = fopen("/dev/null", "w");
	argv[argc++] = strdup("vqbench");
	for (size_t i = 0; i <= size && argc <= MAX_ARGS;) {
		size_t n = 0;
		while (i + n < size && data[i + n])
			n++;
		if (i == size)
			break;
		char *a = malloc(n + 1);
		FUZZ_CHECK(a, "out of memory");
		memcpy(a, data + i, n);
		a[n] = '\0';
		argv[argc++] = a;
		i += n + 1;
	}
	argv[argc] = NULL;
	msg[0] = '\0';
	int rc = vqb_opts_parse(&o, argc, argv, msg, sizeof(msg));
	if (rc < 0) {
		FUZZ_CHECK(rc == -EINVAL || rc == -ERANGE, "vqb_opts_parse returned %d", rc);
		FUZZ_CHECK(msg[0] && fz_one_line(msg), "refusal without a one-line message: '%s'", msg);
	} else if (!o.help && !o.version && !o.list_columns && !o.sysinfo && !o.check_path) {
		struct vqb_plan p;
		rc = vqb_plan_build(&o, &p);
		FUZZ_CHECK(rc == 0 || rc == -E2BIG, "vqb_plan_build returned %d", rc);
		if (rc == 0) {
			char buf[512];
			FUZZ_CHECK(p.n >= 1, "an empty plan");
			for (size_t i = 0; i < p.n && i < 64; i++) {
				vqb_plan_label(&p, &p.cfg[i], buf, sizeof(buf));
				for (int id = 0; id < VQB_OPT_COUNT; id++)
					vqb_opt_format((enum vqb_opt_id)id, &p.cfg[i], buf, sizeof(buf));
			}
			vqb_plan_fixed(&p, buf, sizeof(buf));
			vqb_plan_describe(&p, buf, sizeof(buf));
			size_t runs = vqb_plan_runs(&p);
			struct vqb_step s;
			if (runs) {
				vqb_plan_step(&p, 0, &s);
				vqb_plan_step(&p, runs - 1, &s);
				FUZZ_CHECK(s.cfg < p.n, "step of config %zu of %zu", s.cfg, p.n);
			}
			if (null)
				vqb_opts_echo(&o, null);
			vqb_plan_free(&p);
		}
	}
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return 0;
}
