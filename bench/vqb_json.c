/* SPDX-License-Identifier: MIT */
/*
 * vqb_json.c - JSON Lines rows and the JSON schema listing, from the CSV
 * column table and its cell formatter (vqb_csv_cell), so the two formats
 * cannot disagree.
 */
#include "vqb_json.h"

void vqb_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void vqb_json_row(FILE *f, const struct vqb_run_info *info, const struct vqb_config *cfg,
		  const struct vqb_metrics *m)
{
	char buf[1024];

	fputc('{', f);
	for (size_t i = 0; i < vqb_ncolumns; i++) {
		const struct vqb_column *col = &vqb_columns[i];
		const char *v = vqb_csv_cell(col, info, cfg, m, buf, sizeof(buf));
		if (i)
			fputs(", ", f);
		vqb_json_string(f, col->name);
		fputs(": ", f);
		if (!*v)
			fputs("null", f);
		else if (col->type == VQB_CT_BOOL)
			fputs(*v == '1' ? "true" : "false", f);
		else if (col->type == VQB_CT_STRING)
			vqb_json_string(f, v);
		else
			fputs(v, f); /* %.9g or a whole number: a JSON number */
	}
	fputs("}\n", f);
}

static const char *const type_names[] = { "int", "float", "string", "bool" };
static const char *const json_types[] = { "number", "number", "string", "boolean" };

void vqb_json_list_columns(FILE *f)
{
	fprintf(f, "{\"schema_version\": %d,\n \"format\": ", VQB_CSV_SCHEMA_VERSION);
	vqb_json_string(f, "JSON Lines (vqbench --json): one object per measured repetition, "
			"members named and ordered as the CSV columns; null: not measured or does not apply");
	fputs(",\n \"columns\": [\n", f);
	for (size_t i = 0; i < vqb_ncolumns; i++) {
		const struct vqb_column *col = &vqb_columns[i];
		fputs("  {\"name\": ", f);
		vqb_json_string(f, col->name);
		fprintf(f, ", \"type\": \"%s\", \"json_type\": \"%s\", \"unit\": ", type_names[col->type],
			json_types[col->type]);
		vqb_json_string(f, col->unit);
		fputs(", \"description\": ", f);
		vqb_json_string(f, col->desc);
		fprintf(f, ", \"since\": %u}%s\n", col->since ? col->since : 1, i + 1 < vqb_ncolumns ? "," : "");
	}
	fputs(" ]}\n", f);
}
