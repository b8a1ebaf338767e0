/* SPDX-License-Identifier: MIT */
/*
 * vqb_opts_parse.c - the command line into struct vqb_opts: each argument,
 * each value of each list checked against the option table (vqb_opts.c),
 * options that exclude each other, and the defaults.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vqb_opts.h"

/* Strict whole number: digits only, no sign, no spaces, no suffix. */
static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	return 0;
}

static int cpu_allowed(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	return CPU_ISSET(cpu, &set);
}

/* The value parsers of parse_one, one per kind of argument: each fills v
 * or writes why (without the "--flag: 'value'" head) and returns -errno. */

static int parse_uint(const struct vqb_option *op, const char *s, struct vqb_val *v, char *why, size_t whylen)
{
	uint64_t u;
	int rc = parse_u64(s, &u);
	if (rc == -EINVAL) {
		snprintf(why, whylen, "is not a whole number");
		return rc;
	}
	if (rc < 0 || u < op->min || u > op->max) {
		snprintf(why, whylen, "is out of range");
		return -ERANGE;
	}
	v->u = u;
	return 0;
}

static int parse_seconds(const struct vqb_option *op, const char *s, struct vqb_val *v, char *why,
			 size_t whylen)
{
	char *end;
	if (!((*s >= '0' && *s <= '9') || *s == '.')) {
		snprintf(why, whylen, "is not a number of seconds");
		return -EINVAL;
	}
	double d = strtod(s, &end);
	if (*end || end == s || !isfinite(d)) {
		snprintf(why, whylen, "is not a number of seconds");
		return -EINVAL;
	}
	if (!(d > 0) || d > (double)op->max) {
		snprintf(why, whylen, "is out of range");
		return -ERANGE;
	}
	v->d = d;
	return 0;
}

static int parse_onoff(const char *s, struct vqb_val *v, char *why, size_t whylen)
{
	if (!strcmp(s, "on") || !strcmp(s, "off")) {
		v->b = !strcmp(s, "on");
		return 0;
	}
	snprintf(why, whylen, "is not on or off");
	return -EINVAL;
}

/* --device vhost-user:PATH and vfio:BDF. @return 1 when s is neither. */
static int parse_device_path(const char *s, struct vqb_val *v, char *why, size_t whylen)
{
	if (!strncmp(s, "vhost-user", 10)) {
		if (s[10] != ':' || !s[11] || strlen(s + 11) >= sizeof(v->dev_path)) {
			snprintf(why, whylen, "needs a socket path of 1..%zu bytes after 'vhost-user:'",
				 sizeof(v->dev_path) - 1);
			return -EINVAL;
		}
		v->e = VQB_DEV_VHOST_USER;
		snprintf(v->dev_path, sizeof(v->dev_path), "%s", s + 11);
		return 0;
	}
	if (!strncmp(s, "vfio", 4)) {
		unsigned dom, bus, dv, fn;
		char tail;
		if (s[4] != ':' || sscanf(s + 5, "%4x:%2x:%2x.%1x%c", &dom, &bus, &dv, &fn, &tail) != 4 ||
		    dv > 0x1f || fn > 7) {
			snprintf(why, whylen, "needs a PCI address DDDD:BB:DD.F after 'vfio:' "
				 "(e.g. vfio:0000:00:03.0; see lspci -D)");
			return -EINVAL;
		}
		v->e = VQB_DEV_VFIO;
		snprintf(v->dev_path, sizeof(v->dev_path), "%04x:%02x:%02x.%x", dom, bus, dv, fn);
		return 0;
	}
	return 1;
}

static int parse_enum(enum vqb_opt_id id, const struct vqb_option *op, const char *s, struct vqb_val *v,
		      char *why, size_t whylen)
{
	if (id == VQB_OPT_DEVICE) {
		int rc = parse_device_path(s, v, why, whylen);
		if (rc <= 0)
			return rc;
	}
	for (unsigned i = 0; op->names[i]; i++)
		if (!strcmp(s, op->names[i])) {
			v->e = (int)i;
			return 0;
		}
	snprintf(why, whylen, "is not a known %s", op->what ? op->what : op->name);
	return -EINVAL;
}

static int parse_name(const struct vqb_option *op, const char *s, struct vqb_val *v, char *why, size_t whylen)
{
	for (unsigned i = 0; vqb_opt_name_at(op, i); i++)
		if (!strcmp(s, vqb_opt_name_at(op, i))) {
			snprintf(v->name, sizeof(v->name), "%s", s);
			return 0;
		}
	snprintf(why, whylen, "is not a known %s", op->what ? op->what : op->name);
	return -EINVAL;
}

static int parse_descs(const struct vqb_option *op, const char *s, struct vqb_val *v, char *why, size_t whylen)
{
	uint64_t u, u2;
	if (!strcmp(s, "mix")) {
		v->descs.kind = VQB_DESCS_MIX;
		v->descs.lo = (uint32_t)op->min;
		v->descs.hi = (uint32_t)op->max;
		return 0;
	}
	const char *dash = strchr(s, '-');
	char a[32];
	if (dash && (size_t)(dash - s) < sizeof(a)) {
		memcpy(a, s, (size_t)(dash - s));
		a[dash - s] = '\0';
		if (parse_u64(a, &u) < 0 || parse_u64(dash + 1, &u2) < 0) {
			snprintf(why, whylen, "is not a range A-B of whole numbers");
			return -EINVAL;
		}
	} else {
		if (parse_u64(s, &u) < 0) {
			snprintf(why, whylen, "is not a whole number, a range A-B or mix");
			return -EINVAL;
		}
		u2 = u;
	}
	if (u < op->min || u2 > op->max || u > op->max || u2 < op->min) {
		snprintf(why, whylen, "is out of range");
		return -ERANGE;
	}
	if (u > u2) {
		snprintf(why, whylen, "is a range with A > B");
		return -EINVAL;
	}
	v->descs.kind = u == u2 ? VQB_DESCS_FIXED : VQB_DESCS_RANGE; /* 4-4 is 4 */
	v->descs.lo = (uint32_t)u;
	v->descs.hi = (uint32_t)u2;
	return 0;
}

static int parse_cores(const char *s, struct vqb_val *v, char *why, size_t whylen)
{
	uint64_t u;
	if (!strcmp(s, "auto"))
		return 0; /* n == 0 */
	unsigned n = 0;
	for (const char *p = s;;) {
		const char *comma = strchr(p, ',');
		size_t k = comma ? (size_t)(comma - p) : strlen(p);
		char a[32];
		if (k == 0 || k >= sizeof(a)) {
			snprintf(why, whylen, "is not a list of CPU numbers A,B,...");
			return -EINVAL;
		}
		memcpy(a, p, k);
		a[k] = '\0';
		if (parse_u64(a, &u) < 0) {
			snprintf(why, whylen, "is not a list of CPU numbers A,B,...");
			return -EINVAL;
		}
		if (n == VQB_CPUS_MAX) {
			snprintf(why, whylen, "names more than %d CPUs", VQB_CPUS_MAX);
			return -EINVAL;
		}
		if (u >= CPU_SETSIZE || !cpu_allowed((int)u)) {
			snprintf(why, whylen, "names CPU %llu, which this process cannot use",
				 (unsigned long long)u);
			return -ERANGE;
		}
		for (unsigned i = 0; i < n; i++)
			if (v->cores.cpu[i] == (int16_t)u) {
				snprintf(why, whylen, "names CPU %llu twice", (unsigned long long)u);
				return -EINVAL;
			}
		v->cores.cpu[n++] = (int16_t)u;
		if (!comma)
			break;
		p = comma + 1;
	}
	if (n < 2) {
		snprintf(why, whylen, "names one CPU; give at least two (driver and device)");
		return -EINVAL;
	}
	v->cores.n = (uint16_t)n;
	return 0;
}

static int parse_node(const char *s, struct vqb_val *v, char *why, size_t whylen)
{
	uint64_t u;
	if (!strcmp(s, "local")) {
		v->node = -1;
		return 0;
	}
	int rc = parse_u64(s, &u);
	if (rc == -EINVAL) {
		snprintf(why, whylen, "is not a NUMA node number");
		return rc;
	}
	if (rc < 0 || u > (uint64_t)vqb_numa_node_max()) {
		snprintf(why, whylen, "is not a NUMA node of this machine");
		return -ERANGE;
	}
	v->node = (int)u;
	return 0;
}

static int parse_path(const char *s, struct vqb_val *v, char *why, size_t whylen)
{
	if (!*s) {
		snprintf(why, whylen, "is an empty file name");
		return -EINVAL;
	}
	v->path = s;
	return 0;
}

/* Parse one value of option id. On error writes the message (without the
 * "--flag: 'value'" head) into why. */
static int parse_one(enum vqb_opt_id id, const char *s, struct vqb_val *v,
		     char *why, size_t whylen)
{
	const struct vqb_option *op = &vqb_options[id];

	memset(v, 0, sizeof(*v));
	switch (op->arg) {
	case VQB_ARG_FLAG:
		v->b = true;
		return 0;
	case VQB_ARG_UINT:
		return parse_uint(op, s, v, why, whylen);
	case VQB_ARG_SECONDS:
		return parse_seconds(op, s, v, why, whylen);
	case VQB_ARG_ONOFF:
		return parse_onoff(s, v, why, whylen);
	case VQB_ARG_ENUM:
		return parse_enum(id, op, s, v, why, whylen);
	case VQB_ARG_NAME:
		return parse_name(op, s, v, why, whylen);
	case VQB_ARG_DESCS:
		return parse_descs(op, s, v, why, whylen);
	case VQB_ARG_CORES:
		return parse_cores(s, v, why, whylen);
	case VQB_ARG_NODE:
		return parse_node(s, v, why, whylen);
	case VQB_ARG_PATH:
		return parse_path(s, v, why, whylen);
	}
	return -EINVAL;
}

/* The head of every value error: "--flag: 'value' <why> (allowed: ...)". */
static int value_error(enum vqb_opt_id id, const char *value, const char *why,
		       char *msg, size_t msglen)
{
	char allowed[512];

	vqb_opt_allowed(id, allowed, sizeof(allowed));
	snprintf(msg, msglen, "--%s: '%.80s' %s (allowed: %s)", vqb_options[id].name,
		 value, why, allowed);
	return -EINVAL;
}

/* Parse the full text of option id (a list if the option takes one). */
static int parse_values(enum vqb_opt_id id, const char *text, struct vqb_values *vs,
			char *msg, size_t msglen)
{
	const struct vqb_option *op = &vqb_options[id];
	char why[160], item[256];

	vs->n = 0;
	vs->text = text;
	if (op->arg == VQB_ARG_FLAG || !text) {
		memset(&vs->v[0], 0, sizeof(vs->v[0]));
		vs->v[0].b = op->arg == VQB_ARG_FLAG && text;
		vs->n = 1;
		return 0;
	}
	if (!op->list && op->arg != VQB_ARG_CORES && op->arg != VQB_ARG_PATH &&
	    strchr(text, ',')) {
		snprintf(why, sizeof(why), "is a list, but --%s takes one value", op->name);
		return value_error(id, text, why, msg, msglen);
	}
	if (!op->list || op->arg == VQB_ARG_CORES || op->arg == VQB_ARG_PATH) {
		if (parse_one(id, text, &vs->v[0], why, sizeof(why)) < 0)
			return value_error(id, text, why, msg, msglen);
		vs->n = 1;
		return 0;
	}
	for (const char *p = text;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0)
			return value_error(id, text, "has an empty value in its list", msg, msglen);
		if (n >= sizeof(item)) {
			snprintf(why, sizeof(why), "has a value longer than %zu characters", sizeof(item) - 1);
			return value_error(id, text, why, msg, msglen);
		}
		if (vs->n == VQB_LIST_MAX) {
			snprintf(why, sizeof(why), "has more than %d values", VQB_LIST_MAX);
			return value_error(id, text, why, msg, msglen);
		}
		memcpy(item, p, n);
		item[n] = '\0';
		struct vqb_val *v = &vs->v[vs->n];
		if (parse_one(id, item, v, why, sizeof(why)) < 0)
			return value_error(id, item, why, msg, msglen);
		for (unsigned k = 0; k < vs->n; k++)
			if (!memcmp(&vs->v[k], v, sizeof(*v)))
				return value_error(id, item, "is listed twice", msg, msglen);
		vs->n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

static int find_option(const char *name, size_t len)
{
	for (int i = 0; i < VQB_OPT_COUNT; i++)
		if (strlen(vqb_options[i].name) == len && !strncmp(vqb_options[i].name, name, len))
			return i;
	return -1;
}

static int opts_parse(struct vqb_opts *o, int argc, char *const argv[], char *msg, size_t msglen);

/* The message quotes what the user typed: a control character in it
 * (a line break, an escape sequence) becomes '?', so the message stays
 * one line and cannot drive the terminal. */
int vqb_opts_parse(struct vqb_opts *o, int argc, char *const argv[], char *msg, size_t msglen)
{
	int rc = opts_parse(o, argc, argv, msg, msglen);
	for (char *s = msg; rc < 0 && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	return rc;
}

/* argv[*i] (and its value, argv[*i + 1] when it is separate: *i moves on
 * past it): an option parsed into o->val, or a positional argument. */
static int parse_arg(struct vqb_opts *o, int argc, char *const argv[], int *i, char *msg, size_t msglen)
{
	const char *a = argv[*i], *value = NULL;
	int id = -1;

	if (a[0] == '-' && a[1] == '-' && a[2]) {
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		id = find_option(a + 2, len);
		if (eq)
			value = eq + 1;
	} else if (a[0] == '-' && a[1] && !a[2]) {
		for (int k = 0; k < VQB_OPT_COUNT; k++)
			if (vqb_options[k].short_name && vqb_options[k].short_name == a[1])
				id = k;
	} else if (a[0] != '-') {
		/* positional: the CSV files of --check (checked below) */
		if (o->nargs == VQB_ARGS_MAX) {
			snprintf(msg, msglen, "more than %d file arguments (at '%.80s')", VQB_ARGS_MAX, a);
			return -EINVAL;
		}
		o->args[o->nargs++] = a;
		return 0;
	}
	if (id < 0) {
		const char *eq = strchr(a, '=');
		int len = eq ? (int)(eq - a) : (int)strlen(a);
		snprintf(msg, msglen, "unknown option '%.*s' (see vqbench --help)", len > 80 ? 80 : len, a);
		return -EINVAL;
	}
	const struct vqb_option *op = &vqb_options[id];
	if (op->arg == VQB_ARG_FLAG) {
		if (value) {
			snprintf(msg, msglen, "--%s: takes no value, got '%.80s' (allowed: no value)",
				 op->name, value);
			return -EINVAL;
		}
		value = "";
	} else if (!value) {
		if (*i + 1 >= argc || (argv[*i + 1][0] == '-' && argv[*i + 1][1] == '-')) {
			char allowed[512];
			vqb_opt_allowed((enum vqb_opt_id)id, allowed, sizeof(allowed));
			snprintf(msg, msglen, "--%s: missing value (allowed: %s)", op->name, allowed);
			return -EINVAL;
		}
		value = argv[++*i];
	}
	struct vqb_values *vs = &o->val[id];
	if (vs->given) {
		if (op->arg == VQB_ARG_FLAG)
			snprintf(msg, msglen, "--%s: given twice", op->name);
		else
			snprintf(msg, msglen, "--%s: given twice ('%.80s', then '%.80s'); give it once%s",
				 op->name, vs->text, value, op->list ? ", with a comma-separated list" : "");
		return -EINVAL;
	}
	int rc = parse_values((enum vqb_opt_id)id, value, vs, msg, msglen);
	if (rc < 0)
		return rc;
	vs->given = true;
	return 0;
}

/* Options and arguments that exclude or need each other. */
static int check_combinations(const struct vqb_opts *o, char *msg, size_t msglen)
{
	if (o->nargs && !o->val[VQB_OPT_CHECK].given) {
		snprintf(msg, msglen, "unexpected argument '%.80s' (vqbench takes only options, and file "
			 "arguments after --check FILE; see vqbench --help)", o->args[0]);
		return -EINVAL;
	}
	if (o->val[VQB_OPT_CHECK].given && !o->nargs) {
		snprintf(msg, msglen, "--check %.80s: no CSV file to check (allowed: vqbench --check "
			 "THRESHOLDS RUN.csv [MORE.csv...])", o->val[VQB_OPT_CHECK].text);
		return -EINVAL;
	}
	if (o->val[VQB_OPT_JUNIT].given && !o->val[VQB_OPT_CHECK].given) {
		snprintf(msg, msglen, "--junit %.80s: only with --check (allowed: vqbench --check THRESHOLDS "
			 "--junit OUT.xml RUN.csv...)", o->val[VQB_OPT_JUNIT].text);
		return -EINVAL;
	}
	if (o->val[VQB_OPT_JSON].given && o->val[VQB_OPT_CHECK].given) {
		snprintf(msg, msglen, "--json %.80s: --check writes no rows (allowed: --json with a run; "
			 "--junit for the check's result)", o->val[VQB_OPT_JSON].text);
		return -EINVAL;
	}
	if (o->val[VQB_OPT_JSON].given && o->val[VQB_OPT_CSV].given && !strcmp(o->val[VQB_OPT_JSON].text, "-") &&
	    !strcmp(o->val[VQB_OPT_CSV].text, "-")) {
		snprintf(msg, msglen, "--json - and --csv -: both on stdout would interleave (allowed: at most "
			 "one of them '-')");
		return -EINVAL;
	}
	if (o->val[VQB_OPT_PACKETS].given && o->val[VQB_OPT_SECONDS].given) {
		snprintf(msg, msglen, "--packets and --seconds exclude each other (got --packets '%.40s' and "
			 "--seconds '%.40s'; allowed: one of them, a repetition runs for a packet count or a time)",
			 o->val[VQB_OPT_PACKETS].text, o->val[VQB_OPT_SECONDS].text);
		return -EINVAL;
	}
	return 0;
}

/* Every option not given takes its default; then the options of vqbench
 * itself (VQB_DEST_OPTS) are stored into o. */
static int fill_defaults(struct vqb_opts *o, char *msg, size_t msglen)
{
	for (int id = 0; id < VQB_OPT_COUNT; id++) {
		struct vqb_values *vs = &o->val[id];
		const char *def = vqb_options[id].def;
		if (vs->given)
			continue;
		/* Counting by packets replaces the default time. */
		if (id == VQB_OPT_SECONDS && o->val[VQB_OPT_PACKETS].given)
			def = NULL;
		int rc = parse_values((enum vqb_opt_id)id, def, vs, msg, msglen);
		if (rc < 0)
			return rc; /* a bad default: test_cli_options catches it */
	}
	for (int id = 0; id < VQB_OPT_COUNT; id++)
		if (vqb_options[id].dest == VQB_DEST_OPTS)
			vqb_opt_store((enum vqb_opt_id)id, &o->val[id].v[0], NULL, o);
	return 0;
}

static int opts_parse(struct vqb_opts *o, int argc, char *const argv[], char *msg, size_t msglen)
{
	int rc;
	memset(o, 0, sizeof(*o));
	msg[0] = '\0';
	for (int i = 1; i < argc; i++)
		if ((rc = parse_arg(o, argc, argv, &i, msg, msglen)) < 0)
			return rc;
	if ((rc = check_combinations(o, msg, msglen)) < 0)
		return rc;
	return fill_defaults(o, msg, msglen);
}
