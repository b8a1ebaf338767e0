/* SPDX-License-Identifier: MIT */
/*
 * vqb_opts_text.c - the option table's text side: --help, the option echo,
 * and formatting a configuration's value the way the command line spells it.
 */
#include <stdint.h>
#include <string.h>

#include "vqb_opts.h"

const char *vqb_opt_format(enum vqb_opt_id id, const struct vqb_config *cfg, char *buf, size_t len)
{
	const struct vqb_option *op = &vqb_options[id];
	const char *p = (const char *)cfg + op->off;
	uint32_t u32;
	uint64_t u64;
	double d;
	bool b;
	int i;

	buf[0] = '\0';
	if (op->dest != VQB_DEST_CFG)
		return buf;
	switch (op->arg) {
	case VQB_ARG_FLAG:
	case VQB_ARG_ONOFF:
		memcpy(&b, p, sizeof(b));
		snprintf(buf, len, "%s", b ? "on" : "off");
		break;
	case VQB_ARG_UINT:
		if (op->size == sizeof(uint32_t)) {
			memcpy(&u32, p, sizeof(u32));
			u64 = u32;
		} else {
			memcpy(&u64, p, sizeof(u64));
		}
		snprintf(buf, len, "%llu", (unsigned long long)u64);
		break;
	case VQB_ARG_SECONDS:
		memcpy(&d, p, sizeof(d));
		snprintf(buf, len, "%g", d);
		break;
	case VQB_ARG_ENUM:
		memcpy(&i, p, sizeof(i));
		if (id == VQB_OPT_DEVICE && i == VQB_DEV_VHOST_USER)
			snprintf(buf, len, "vhost-user:%s", cfg->dev_path);
		else if (id == VQB_OPT_DEVICE && i == VQB_DEV_VFIO)
			snprintf(buf, len, "vfio:%s", cfg->dev_path);
		else
			snprintf(buf, len, "%s", i >= 0 && op->names[i] ? op->names[i] : "?");
		break;
	case VQB_ARG_NAME:
		snprintf(buf, len, "%.*s", (int)op->size, p);
		break;
	case VQB_ARG_DESCS:
		if (cfg->descs_kind == VQB_DESCS_MIX)
			snprintf(buf, len, "mix");
		else if (cfg->descs_kind == VQB_DESCS_RANGE)
			snprintf(buf, len, "%u-%u", cfg->descs_lo, cfg->descs_hi);
		else
			snprintf(buf, len, "%u", cfg->descs_lo);
		break;
	case VQB_ARG_CORES:
		if (!cfg->ncores)
			snprintf(buf, len, "auto");
		for (size_t k = 0, pos = 0; k < cfg->ncores && pos < len; k++) {
			int n = snprintf(buf + pos, len - pos, "%s%d", k ? "," : "", cfg->cores[k]);
			pos = n < 0 ? len : pos + (size_t)n;
		}
		break;
	case VQB_ARG_NODE:
		memcpy(&i, p, sizeof(i));
		if (i < 0)
			snprintf(buf, len, "local");
		else
			snprintf(buf, len, "%d", i);
		break;
	case VQB_ARG_PATH:
		break;
	}
	return buf;
}

void vqb_opts_echo(const struct vqb_opts *o, FILE *f)
{
	fprintf(f, "options:");
	for (int id = 0; id < VQB_OPT_COUNT; id++) {
		const struct vqb_option *op = &vqb_options[id];
		const struct vqb_values *vs = &o->val[id];
		if (op->dest == VQB_DEST_OPTS && id != VQB_OPT_ORDER && id != VQB_OPT_CSV &&
		    !(id == VQB_OPT_JSON && vs->given))
			continue; /* commands, --quiet, --format, --junit */
		if (op->arg == VQB_ARG_FLAG) {
			if (vs->v[0].b)
				fprintf(f, " --%s", op->name);
		} else if (id == VQB_OPT_CSV) {
			fprintf(f, " --csv %s", o->csv_path ? o->csv_path : "(default)");
		} else if (vs->text) {
			fprintf(f, " --%s %s", op->name, vs->text);
		}
	}
	fputc('\n', f);
}

/* The default study, computed from the table's defaults. */
void vqb_help_default_study(FILE *f)
{
	static struct vqb_opts o;
	char msg[256];
	char *argv[] = { "vqbench", NULL };
	unsigned long configs = 1;

	if (vqb_opts_parse(&o, 1, argv, msg, sizeof(msg)) < 0)
		return;
	fprintf(f, "With no options vqbench runs the default study, the defaults below:\n ");
	for (int id = 0, k = 0; id < VQB_OPT_COUNT; id++) {
		if (vqb_options[id].dest != VQB_DEST_CFG || !vqb_options[id].list)
			continue;
		configs *= o.val[id].n;
		if (o.val[id].n > 1)
			fprintf(f, "%s --%s %s", k++ ? " x" : "", vqb_options[id].name, o.val[id].text);
	}
	uint64_t runs = configs * (o.val[VQB_OPT_REPS].v[0].u + o.val[VQB_OPT_WARMUP].v[0].u);
	fprintf(f, "\n = %lu configurations, each %llu repetitions of %g s after %llu warmup\n"
		"(%llu runs, about %.0f s on 2 cores); it prints a table and writes\n"
		"results/vqbench-<UTC time>.csv.\n\n",
		configs, (unsigned long long)o.val[VQB_OPT_REPS].v[0].u, o.val[VQB_OPT_SECONDS].v[0].d,
		(unsigned long long)o.val[VQB_OPT_WARMUP].v[0].u, (unsigned long long)runs,
		(double)runs * o.val[VQB_OPT_SECONDS].v[0].d);
}

/* The prose of --help, shared with the man page (vqb_man.c). */
const char vqb_help_about[] =
	"Measures what DMA-address tracking costs a virtio driver (memory and\n"
	"packets per second) on split and packed virtqueues, and which DMA\n"
	"setups make skipping unmap wrong rather than merely faster.\n";
const char vqb_help_refusals[] =
	"A configuration a sweep cannot run (readback on packed, a split queue\n"
	"size that is not a power of two, a batch above the queue size, ...) is\n"
	"skipped with one notice naming it; if every configuration is refused,\n"
	"vqbench exits 2. A single configuration that is refused exits 2.\n";
const struct vqb_help_example vqb_help_examples[] = {
	{ "vqbench", "the default study" },
	{ "vqbench --layout split --policy full,skip --dma identity,iommu --unsafe-skip", NULL },
	{ "vqbench --descs mix --queue-size 256,1024 --reps 10 --cores 2,3", NULL },
	{ "vqbench --policy full,iova --dma iommu,identity --iommu strict,lazy,untrusted",
	  "the IOVA two-step API beside per-descriptor records (README: Policies)" },
	{ "vqbench --packets 1000000 --policy full --csv out.csv --quiet", NULL },
	{ "vqbench --policy full,skip --json run.jsonl", "JSON Lines beside the CSV" },
	{ "vqbench --queues 1,2,4,8 --device thread --cores 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
	  "multi-queue scaling (README)" },
	{ "vqbench --list-columns --format markdown", NULL },
	{ "vqbench --check thresholds.txt run.csv", "regression bounds for CI" },
	{ "vqbench --check thresholds.txt --junit report.xml run.csv", "the same, and JUnit XML" },
	{ NULL, NULL },
};
const char vqb_help_exit[] =
	"Exit codes: 0 ok, 1 a run failed or a check fell short, 2 bad option\n"
	"or value (or every configuration refused), 3 the machine cannot run it\n"
	"(EAL or topology failure), 130/143 interrupted by SIGINT/SIGTERM (the\n"
	"rows finished before are written whole).\n";

void vqb_opts_help(FILE *f)
{
	const char *group = NULL;
	char allowed[512], head[64];

	fprintf(f, "Usage: vqbench [OPTIONS]\n"
		"       vqbench --check THRESHOLDS [--junit FILE] RUN.csv...\n\n%s\n", vqb_help_about);
	vqb_help_default_study(f);
	fprintf(f, "Options take a value as --opt VALUE or --opt=VALUE.\n");
	for (int id = 0; id < VQB_OPT_COUNT; id++) {
		const struct vqb_option *op = &vqb_options[id];
		if (!group || strcmp(op->group, group)) {
			group = op->group;
			fprintf(f, "\n%s:\n", group);
		}
		vqb_opt_head((enum vqb_opt_id)id, head, sizeof(head));
		fprintf(f, "  %-22s %s\n", head, op->help);
		if (op->note) {
			for (const char *p = op->note; *p;) {
				const char *nl = strchr(p, '\n');
				int n = nl ? (int)(nl - p) : (int)strlen(p);
				fprintf(f, "  %-22s %.*s\n", "", n, p);
				p += n + (nl ? 1 : 0);
			}
		}
		if (op->arg != VQB_ARG_FLAG) {
			vqb_opt_allowed((enum vqb_opt_id)id, allowed, sizeof(allowed));
			fprintf(f, "  %-22s %s\n", "", vqb_opt_allowed_line((enum vqb_opt_id)id, allowed, allowed,
									   sizeof(allowed)));
		}
	}
	fprintf(f, "\n%s\nExamples:\n", vqb_help_refusals);
	for (const struct vqb_help_example *e = vqb_help_examples; e->cmd; e++) {
		if (!e->what)
			fprintf(f, "  %s\n", e->cmd);
		else if (strlen(e->cmd) <= 45)
			fprintf(f, "  %-45s %s\n", e->cmd, e->what);
		else
			fprintf(f, "  %s\n  %-45s %s\n", e->cmd, "", e->what);
	}
	fprintf(f, "\n%s", vqb_help_exit);
}

void vqb_opt_head(enum vqb_opt_id id, char *buf, size_t len)
{
	const struct vqb_option *op = &vqb_options[id];

	if (op->short_name)
		snprintf(buf, len, "-%c, --%s%s%s", op->short_name, op->name, op->metavar ? " " : "",
			 op->metavar ? op->metavar : "");
	else
		snprintf(buf, len, "--%s%s%s", op->name, op->metavar ? " " : "", op->metavar ? op->metavar : "");
}

const char *vqb_opt_allowed_line(enum vqb_opt_id id, const char *allowed, char *buf, size_t len)
{
	const struct vqb_option *op = &vqb_options[id];
	char a[512];

	int n;

	snprintf(a, sizeof(a), "%s", allowed); /* allowed may be buf */
	if (op->def || id == VQB_OPT_PACKETS)
		n = snprintf(buf, len, "allowed: %s; default: %s", a, op->def ? op->def : "none (runs by --seconds)");
	else
		n = snprintf(buf, len, "allowed: %s", a);
	/* a line longer than buf says so rather than ending mid-word */
	if (n > 0 && (size_t)n >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}
