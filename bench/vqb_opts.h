/* SPDX-License-Identifier: MIT */
/*
 * vqb_opts.h - vqbench's command-line options, from ONE const table.
 *
 * vqb_options[] (vqb_opts.c) holds, for every option: its name, the kind of
 * argument, the default (as text, parsed by the same code as a user's
 * value), the allowed values or range, the help text, its group in --help,
 * and where the value goes (a struct vqb_config field for sweep axes, a
 * struct vqb_opts field for run-level options). Parsing, validation, --help,
 * the option echo, the plan's cartesian product and the report's labels all
 * read that table, in the manner of fio's options.c.
 *
 * Every option that sets a struct vqb_config field, except --cores, --reps
 * and --warmup, takes a comma-separated list; the plan (vqb_plan.h) runs the
 * cartesian product. The defaults are the default study: running vqbench
 * with no arguments sweeps exactly the lists shown as defaults in --help.
 *
 * Errors: one line, without the "vqbench: " prefix, naming the flag, the
 * value and what is allowed, e.g.
 *   --queue-size: '3x' is not a whole number (allowed: 1..32768)
 * Return convention: 0 or -errno; nothing sets errno.
 */
#ifndef VQB_OPTS_H
#define VQB_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vqb.h"

/* Exit codes (documented in --help and the README). */
enum {
	VQB_EXIT_OK = 0,
	VQB_EXIT_FAIL = 1,  /* a run failed, or a check fell short */
	VQB_EXIT_USAGE = 2, /* bad option or value, or every configuration refused */
	VQB_EXIT_ENV = 3,   /* the machine cannot run it (EAL, topology) */
};

/* Option ids: the index of each option in vqb_options[] (and the order of
 * --help, the option echo and the plan's nesting: earlier = slower). */
enum vqb_opt_id {
	/* sweep axes (struct vqb_config) */
	VQB_OPT_LAYOUT,
	VQB_OPT_QUEUE_SIZE,
	VQB_OPT_DESCS,
	VQB_OPT_PKT_BYTES,
	VQB_OPT_INDIRECT,
	VQB_OPT_IN_ORDER,
	VQB_OPT_EVENT_IDX,
	VQB_OPT_BATCH,
	VQB_OPT_DIR,
	VQB_OPT_POLICY,
	VQB_OPT_DMA,
	VQB_OPT_DEVICE,
	VQB_OPT_QUEUES,
	VQB_OPT_MEM_NODE,
	VQB_OPT_UNSAFE_SKIP,
	VQB_OPT_SKIP_RULE,
	VQB_OPT_INDIRECT_EXTRA,
	VQB_OPT_DMA_MASK,
	VQB_OPT_DMA_ALIGN,
	VQB_OPT_FORCE_BOUNCE,
	VQB_OPT_IOMMU,
	VQB_OPT_NC_MODEL,
	VQB_OPT_LATE_WRITES,
	VQB_OPT_PAGES,
	/* run length (struct vqb_config, same for every configuration unless listed) */
	VQB_OPT_PACKETS,
	VQB_OPT_SECONDS,
	VQB_OPT_WARMUP,
	VQB_OPT_REPS,
	/* placement */
	VQB_OPT_CORES,
	/* output and run-level (struct vqb_opts) */
	VQB_OPT_ORDER,
	VQB_OPT_CSV,
	VQB_OPT_JSON,
	VQB_OPT_JUNIT,
	VQB_OPT_QUIET,
	VQB_OPT_FORMAT,
	/* commands */
	VQB_OPT_CHECK,
	VQB_OPT_LIST_COLUMNS,
	VQB_OPT_SYSINFO,
	VQB_OPT_VERSION,
	VQB_OPT_HELP,
	VQB_OPT_COUNT
};

/* The kind of argument an option takes. */
enum vqb_arg {
	VQB_ARG_FLAG,    /* no value; stores true */
	VQB_ARG_UINT,    /* whole number in [min, max]; uint32_t or uint64_t field */
	VQB_ARG_SECONDS, /* decimal number > 0 and <= max; double field */
	VQB_ARG_ONOFF,   /* on | off; bool field */
	VQB_ARG_ENUM,    /* one of names[]; stored as the index (an enum field) */
	VQB_ARG_NAME,    /* one of name_fn(0..); stored as the name (char[]) */
	VQB_ARG_DESCS,   /* N | A-B | mix; descs_kind, descs_lo, descs_hi */
	VQB_ARG_CORES,   /* C0,C1,...: 2..VQB_CPUS_MAX distinct CPUs this process may use, or auto */
	VQB_ARG_NODE,    /* local | a NUMA node 0..numa_max_node(); int (-1 = local) */
	VQB_ARG_PATH,    /* a file name or '-'; const char * (what: the allowed text) */
};

/* Where an option's value is stored. */
enum vqb_dest {
	VQB_DEST_CFG,  /* a field of struct vqb_config (a sweep parameter) */
	VQB_DEST_OPTS, /* a field of struct vqb_opts (run-level) */
};

struct vqb_option {
	const char *name;     /* long name without "--" */
	char short_name;      /* '\0' or e.g. 'h' */
	enum vqb_arg arg;
	bool list;            /* takes a comma-separated list (a sweep axis) */
	const char *metavar;  /* shown in --help: N, LIST, FILE... */
	const char *def;      /* default as text (parsed like a value); NULL: none */
	uint64_t min, max;    /* VQB_ARG_UINT: range; VQB_ARG_SECONDS: max */
	const char *const *names;          /* VQB_ARG_ENUM: NULL-terminated */
	const char *(*name_fn)(unsigned);  /* VQB_ARG_NAME: name i, NULL past end */
	const char *const *fallback;       /* VQB_ARG_NAME: when name_fn(0) is NULL */
	enum vqb_dest dest;
	size_t off, size;     /* the field (offsetof, sizeof) in dest */
	const char *label;    /* report label prefix ("q" -> "q=256"); NULL: bare value */
	const char *what;     /* noun in "'x' is not a known <what>"; NULL: the name */
	const char *group;    /* --help section */
	const char *help;     /* one line */
	const char *note;     /* more help (may be NULL), shown indented */
};

/** The option table, VQB_OPT_COUNT entries indexed by enum vqb_opt_id. */
extern const struct vqb_option vqb_options[VQB_OPT_COUNT];

/* One parsed value of an option. Zeroed before it is filled, so two
 * values compare with memcmp. */
struct vqb_val {
	union {
		uint64_t u;            /* UINT */
		double d;              /* SECONDS */
		bool b;                /* FLAG, ONOFF */
		int e;                 /* ENUM index */
		int node;              /* NODE: -1 = local */
		char name[VQB_NAME_MAX]; /* NAME */
		const char *path;      /* PATH */
		struct {
			enum vqb_descs_kind kind;
			uint32_t lo, hi;
		} descs;               /* DESCS */
		struct {
			uint16_t n;    /* 0 = auto */
			int16_t cpu[VQB_CPUS_MAX];
		} cores;               /* CORES */
	};
	char dev_path[VQB_DEV_PATH_MAX]; /* --device vhost-user:PATH */
};

/* Largest number of values one option takes. */
#define VQB_LIST_MAX 64

struct vqb_values {
	unsigned n;           /* >= 1 after vqb_opts_parse() */
	bool given;           /* on the command line (else: the default) */
	const char *text;     /* the value as given (or the default text) */
	struct vqb_val v[VQB_LIST_MAX];
};

/* Most positional arguments (CSV files after --check FILE). */
#define VQB_ARGS_MAX 32

enum vqb_order { VQB_ORDER_INTERLEAVE, VQB_ORDER_SEQUENTIAL, VQB_ORDER_BLOCKS };
enum vqb_format { VQB_FORMAT_TEXT, VQB_FORMAT_MARKDOWN, VQB_FORMAT_CSV, VQB_FORMAT_JSON };

/* Everything the command line said. */
struct vqb_opts {
	struct vqb_values val[VQB_OPT_COUNT];
	/* run-level, filled from the table (VQB_DEST_OPTS) */
	int order;            /* enum vqb_order */
	const char *csv_path; /* NULL: results/vqbench-<UTC time>.csv; "-": stdout */
	const char *json_path;  /* --json: JSON Lines rows (vqb_json.h); NULL: none */
	const char *junit_path; /* --junit: JUnit XML of --check (vqb_junit.h); NULL: none */
	bool quiet;
	int format;           /* enum vqb_format (for --list-columns) */
	bool list_columns, sysinfo, version, help;
	const char *check_path; /* --check FILE: the thresholds file; NULL: no check */
	/* positional arguments: only with --check (the CSV files to check) */
	unsigned nargs;
	const char *args[VQB_ARGS_MAX];
};

/** Parse argv (argv[0] is the program). Fills every option: given values,
 * else the default. Checks each value of each list, --packets against
 * --seconds, options given twice, and positional arguments.
 * @return 0, or -EINVAL with one line in msg (flag, value, allowed). */
int vqb_opts_parse(struct vqb_opts *o, int argc, char *const argv[],
		   char *msg, size_t msglen);

/** Write the text of what option id allows ("1..32768", "split, packed,
 * rte_ring", ...) into buf. */
void vqb_opt_allowed(enum vqb_opt_id id, char *buf, size_t len);

/** Name i of a VQB_ARG_NAME option: the library's table, or the documented
 * fallback while the library's table is empty. NULL after the last. */
const char *vqb_opt_name_at(const struct vqb_option *op, unsigned i);

/** The highest NUMA node of this machine (0 without NUMA). */
int vqb_numa_node_max(void);

/** Store value v of option id into its field of cfg (VQB_DEST_CFG) or o. */
void vqb_opt_store(enum vqb_opt_id id, const struct vqb_val *v,
		   struct vqb_config *cfg, struct vqb_opts *o);

/** Format option id's value in cfg as the command line would spell it
 * ("256", "split", "1-8", "on", "local", "2,3"). @return buf. */
const char *vqb_opt_format(enum vqb_opt_id id, const struct vqb_config *cfg,
			   char *buf, size_t len);

/** --help: usage, the options grouped with defaults and allowed values,
 * the default study, examples, exit codes. */
void vqb_opts_help(FILE *f);

/** The option's head as --help shows it: "-q, --quiet", "--layout LIST". */
void vqb_opt_head(enum vqb_opt_id id, char *buf, size_t len);

/** "allowed: ALLOWED; default: D" (or without the default), as --help and
 * the man page show it, into buf (allowed may be buf). @return buf */
const char *vqb_opt_allowed_line(enum vqb_opt_id id, const char *allowed, char *buf, size_t len);

/* The prose of --help, shared with the man page (vqb_man.h), so the two
 * cannot drift: what vqbench does, refused configurations, examples (cmd,
 * and what: NULL when the command says it; {NULL} ends), exit codes. */
struct vqb_help_example {
	const char *cmd, *what;
};
extern const char vqb_help_about[];
extern const char vqb_help_refusals[];
extern const struct vqb_help_example vqb_help_examples[];
extern const char vqb_help_exit[];

/** The paragraph on the default study (its lists, size and duration),
 * computed from the table's defaults. */
void vqb_help_default_study(FILE *f);

/** One line "options: --layout split,packed --queue-size 256 ..." with the
 * effective value of every sweep and run-length option. */
void vqb_opts_echo(const struct vqb_opts *o, FILE *f);

/** The CPUs this process may run on as a compact list ("0-3,6"). */
void vqb_cpus_allowed(char *buf, size_t len);

#endif
