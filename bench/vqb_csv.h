/* SPDX-License-Identifier: MIT */
/*
 * vqb_csv.h - the CSV schema as ONE column table, and what it drives: the
 * header, the row writer, --list-columns and the reader (for thresholds).
 *
 * A row is one measured repetition (warmups are not written). Columns, in
 * order: schema_version, vqbench_version, git_rev, timestamp, host,
 * cpu_model, kernel; every parameter of the configuration; unsafe; config,
 * rep; the metrics. Units are in the names (mpps, ns_per_pkt,
 * footprint_bytes). A value that was not measured (a NAN or infinite metric) or does not
 * apply (target_packets of a timed run) is an empty cell, never 0. Booleans
 * are 0 or 1. Strings are quoted per RFC 4180 when they hold a comma, quote
 * or line break. Lines end in "\n". Python's csv module and pandas read it
 * as is.
 *
 * Changing a column's name, type or meaning, or removing one, bumps
 * VQB_CSV_SCHEMA_VERSION. The reader reads this version and version 1
 * (before --queues: the columns marked since = 2 absent, read as their
 * v1 value) and refuses others.
 *
 * Version 2 (--queues): queues, queue_mpps_min, queue_mpps_max,
 * queue_mpps, cpus_shared added; packets, mpps and the other rates are
 * aggregates over the queues.
 * Version 3 (issue 19): unmaintained_lines, late_writes, late_writes_landed,
 * late_writes_blocked
 * added; status may read "exhausted"; leaked_mappings counts only
 * mappings that hold a resource.
 * Version 4 (issue 18 and issue 19's policy iova): bounced_per_pkt,
 * iotlb_flushes_per_pkt, iotlb_timer_flushes_per_pkt, iova_allocs_per_pkt,
 * iova_frees_per_pkt, iova_api, links_per_pkt, unlinks_per_pkt added
 * (older rows read them as empty: not measured); a bounce pool copies in
 * at every map (bytes_copied_per_pkt of RX through swiotlb).
 * Version 5 (--indirect-extra): indirect_extra added; tracking_bytes of
 * the policies with a record per descriptor no longer holds 19 records per
 * slot for indirect entries: upstream counts the entries' records of the
 * indirect chains in flight (the most at once), linux-6.1 none.
 */
#ifndef VQB_CSV_H
#define VQB_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vqb.h"

#define VQB_CSV_SCHEMA_VERSION 5
/* The oldest version the reader accepts. */
#define VQB_CSV_SCHEMA_OLDEST 1

enum vqb_ctype { VQB_CT_INT, VQB_CT_FLOAT, VQB_CT_STRING, VQB_CT_BOOL };

/* Where a column's value comes from. */
enum vqb_csrc {
	VQB_SRC_INFO, /* struct vqb_run_info: the machine and the build */
	VQB_SRC_CFG,  /* struct vqb_config: a parameter */
	VQB_SRC_MET,  /* struct vqb_metrics: a measurement */
};

/* How the field is stored. */
enum vqb_cfield {
	VQB_CF_U32, VQB_CF_U64, VQB_CF_I32, VQB_CF_I64, VQB_CF_F64, VQB_CF_BOOL,
	VQB_CF_CHARS,  /* char[] */
	VQB_CF_OPT,    /* formatted by the option table (enums, descs) */
	VQB_CF_SCHEMA, /* the constant VQB_CSV_SCHEMA_VERSION */
};

/* Column flags. */
#define VQB_COL_EMPTY_NEG 1u  /* a negative value means "not set": empty */
#define VQB_COL_EMPTY_ZERO 2u /* 0 means "does not apply": empty */
#define VQB_COL_EMPTY_MIN 4u  /* INT64_MIN means "not measured": empty */

struct vqb_column {
	const char *name;   /* units in the name */
	enum vqb_ctype type;
	const char *unit;   /* "" when a count or a name */
	const char *desc;
	enum vqb_csrc src;
	enum vqb_cfield field;
	size_t off, size;   /* the field in its struct */
	int opt;            /* enum vqb_opt_id it records, -1 none */
	unsigned flags;
	unsigned since;     /* schema version that added it; 0: version 1 */
	const char *before; /* since > 1: the value of a row of an older version
			     * (what that vqbench did: "1" queue); NULL: empty */
};

extern const struct vqb_column vqb_columns[];
extern const size_t vqb_ncolumns;

/* The run-level columns. */
struct vqb_run_info {
	char vqbench_version[32];
	char git_rev[64];
	char timestamp[32]; /* ISO 8601 UTC, see vqb_csv_stamp() */
	char host[80];
	char cpu_model[128];
	char kernel[128];
};

/** Set info->timestamp to the current time, "2024-05-01T12:34:56Z". */
void vqb_csv_stamp(struct vqb_run_info *info);

/** Reset m before a run: every double metric NAN (so what the run does not
 * measure stays an empty cell), counts 0, CPUs -1. */
void vqb_metrics_clear(struct vqb_metrics *m);

/** Index of column `name` in vqb_columns, or -1. */
int vqb_csv_column(const char *name);

/** --list-columns: name, type, unit, description of every column, as an
 * aligned text table (0), a markdown table (1), CSV (2) or one JSON
 * document (3, vqb_json_list_columns) (enum vqb_format). */
void vqb_csv_list_columns(FILE *f, int format);

/** The text of column col's cell in the row (info, cfg, m), unquoted, in
 * buf: "" when the cell is empty (not measured, does not apply, or not
 * finite); bools "0" or "1"; numbers as C's %.9g or a whole number. The one
 * formatter of the CSV and the JSON writers. @return buf */
const char *vqb_csv_cell(const struct vqb_column *col, const struct vqb_run_info *info,
			 const struct vqb_config *cfg, const struct vqb_metrics *m, char *buf, size_t len);

/* ---- writer ---- */
/* A row sink: CSV (vqb_csv_open) or JSON Lines (vqb_sink_open with json,
 * vqb_json.h); the same rows, flushed a whole line at a time. */
struct vqb_csv;

/** Open the CSV sink and write the header. path: a file (truncated), "-"
 * for stdout, or NULL for results/vqbench-YYYYmmdd-HHMMSS.csv (UTC; the
 * directory results/ is created; an existing file is never overwritten: a
 * -2, -3... suffix is added). @return 0, or -errno with one line naming
 * the path in msg. */
int vqb_csv_open(const char *path, struct vqb_csv **out, char *msg, size_t msglen);

/** Open a sink as vqb_csv_open does; json: JSON Lines, no header, and a
 * NULL path is not allowed (there is no default file). */
int vqb_sink_open(const char *path, bool json, struct vqb_csv **out, char *msg, size_t msglen);

/** Write one row and flush it (a crash keeps the finished rows).
 * @return 0 or -errno (write error; msg names the path). */
int vqb_csv_write_row(struct vqb_csv *csv, const struct vqb_run_info *info,
		      const struct vqb_config *cfg, const struct vqb_metrics *m,
		      char *msg, size_t msglen);

/** The path written to ("-" for stdout). */
const char *vqb_csv_path(const struct vqb_csv *csv);
unsigned long vqb_csv_rows(const struct vqb_csv *csv);

/** Close (not stdout). @return 0 or -errno (the final flush failed). */
int vqb_csv_close(struct vqb_csv *csv);

/* ---- reader ---- */

/* One cell, typed by its column. */
struct vqb_cell {
	bool empty;       /* empty cell: not measured / does not apply */
	const char *text; /* as in the file (unquoted) */
	int64_t i;        /* VQB_CT_INT, VQB_CT_BOOL */
	double f;         /* VQB_CT_FLOAT and VQB_CT_INT (NAN when empty) */
};

/* One row, cells indexed like vqb_columns (not like the file). */
struct vqb_csv_rec {
	unsigned long line; /* 1-based line the row starts on */
	const struct vqb_cell *cell;
};

/** Called for each row; a non-zero return stops the read and is returned. */
typedef int (*vqb_csv_row_fn)(const struct vqb_csv_rec *r, void *arg);

/** Cell of column `name` in r, or NULL for an unknown name. */
const struct vqb_cell *vqb_csv_get(const struct vqb_csv_rec *r, const char *name);

/** Read a vqbench CSV: the header must name every column of this schema
 * once (any order) and nothing else; every row must have as many fields,
 * schema_version must be VQB_CSV_SCHEMA_VERSION, or an older version
 * (>= VQB_CSV_SCHEMA_OLDEST) whose header lacks exactly the columns added
 * since (their cells then read as the column's `before`), and every non-empty cell
 * must parse as its column's type. fn (may be NULL) gets each row.
 * @return number of rows (>= 0), fn's non-zero return, or -errno with one
 * line in msg naming the path, the line, the column and the value. */
int vqb_csv_read(const char *path, vqb_csv_row_fn fn, void *arg, char *msg, size_t msglen);

#endif
