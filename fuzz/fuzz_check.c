/* SPDX-License-Identifier: MIT */
/*
 * fuzz_check - the regression thresholds reader (vqb_check_parse) and what
 * evaluates its bounds (vqb_check_add_csv, vqb_check_eval) on arbitrary
 * input: the bytes before the first NUL are the thresholds file, the bytes
 * after it a CSV file.
 *
 * Checked: a refused thresholds file is -EINVAL with one line (no control
 * characters)
 * "fuzz:LINE: ..." naming its line; an accepted one evaluates against any
 * CSV without crashing, and a CSV refused by the reader is -EINVAL naming
 * the file; the JUnit XML of any accepted file is written (to /dev/null).
 * The text is an exact-size allocation (ASan sees overruns).
 */
#include <errno.h>

#include "fuzz_memfile.h"
#include "vqb_check.h"
#include "vqb_junit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	if (!null)
		null = fopen("/dev/null", "w");
	const uint8_t *nul = memchr(data, 0, size);
	size_t tlen = nul ? (size_t)(nul - data) : size;
	char *text = malloc(tlen + 1);
	FUZZ_CHECK(text, "out of memory");
	memcpy(text, data, tlen);
	text[tlen] = '\0';
	char msg[1024] = "";
	struct vqb_check *c = NULL;
	int rc = vqb_check_parse("fuzz", text, &c, msg, sizeof(msg));
	if (rc < 0) {
		FUZZ_CHECK(rc == -EINVAL && !strncmp(msg, "fuzz:", 5) && fz_one_line(msg),
			   "vqb_check_parse returned %d: '%s'", rc, msg);
	} else {
		(void)vqb_check_bounds(c);
		if (nul) {
			const char *path = fuzz_memfile(nul + 1, size - tlen - 1);
			msg[0] = '\0';
			rc = vqb_check_add_csv(c, path, msg, sizeof(msg));
			if (rc < 0)
				FUZZ_CHECK((rc == -EINVAL || rc == -ENOMEM) && strstr(msg, path) && fz_one_line(msg),
					   "vqb_check_add_csv returned %d: '%s'", rc, msg);
		}
		if (null)
			vqb_check_eval(c, null);
		/* the JUnit writer escapes whatever the bounds and rows hold */
		FUZZ_CHECK(vqb_junit_write(c, "/dev/null", "fuzz", msg, sizeof(msg)) == 0,
			   "vqb_junit_write to /dev/null failed: '%s'", msg);
		vqb_check_free(c);
	}
	free(text);
	return 0;
}
