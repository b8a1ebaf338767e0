/* SPDX-License-Identifier: MIT */
/*
 * vqb_json.h - the CSV schema (vqb_csv.h) as JSON Lines: --json FILE|-.
 *
 * One object a line, one line per measured repetition, written and flushed
 * whole as the run goes (the sink of vqb_csv.c: a SIGINT or a full disk
 * leaves only whole lines). Every column of vqb_columns[] is a member, in
 * the schema's order, under its CSV name; the value is the CSV cell's:
 * int and float columns are JSON numbers, bool columns true or false,
 * string columns JSON strings, and an empty CSV cell (not measured, does
 * not apply) is null. A JSON Lines file and the CSV of the same run hold
 * the same values field by field (tests/bench/test_cli_json.sh).
 *
 * --list-columns --format json describes the schema as one JSON document:
 * {"schema_version": N, "format": ..., "columns": [{"name", "type",
 * "json_type", "unit", "description", "since"}...]}.
 */
#ifndef VQB_JSON_H
#define VQB_JSON_H

#include <stdio.h>

#include "vqb_csv.h"

/** Write one row as one JSON object and "\n" to f. */
void vqb_json_row(FILE *f, const struct vqb_run_info *info, const struct vqb_config *cfg,
		  const struct vqb_metrics *m);

/** Write s as a JSON string (quotes, escapes for '"', '\\' and control
 * characters). */
void vqb_json_string(FILE *f, const char *s);

/** --list-columns --format json: the schema as one JSON document. */
void vqb_json_list_columns(FILE *f);

#endif
