/* SPDX-License-Identifier: MIT */
/*
 * vqb_opts.c - the option table, what each option allows, and storing a
 * value into a configuration. Parsing the command line against the table
 * is vqb_opts_parse.c's.
 */
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <numa.h>

#include "dma.h"
#include "vq_track.h"
#include "vqb_opts.h"

_Static_assert(sizeof(enum vqb_layout) == sizeof(int), "enum fields are stored as int");
_Static_assert(sizeof(enum vqb_dir) == sizeof(int), "enum fields are stored as int");
_Static_assert(sizeof(enum vqb_device) == sizeof(int), "enum fields are stored as int");

static const char *const layout_names[] = { "split", "packed", "rte_ring", NULL };
static const char *const dir_names[] = { "tx", "rx", "both", NULL };
/* vhost-user takes its socket: "vhost-user:PATH" (parse_one) */
/* vfio takes a PCI address: "vfio:DDDD:BB:DD.F" (parse_one) */
static const char *const device_names[] = { "thread", "inline", "vhost-user:PATH", "vfio:BDF", NULL };
static const char *const iommu_names[] = { "strict", "lazy", "passthrough", "untrusted", NULL };
static const char *const pages_names[] = { "2m", "4k", NULL };
static const char *const order_names[] = { "interleave", "sequential", "blocks", NULL };
static const char *const format_names[] = { "text", "markdown", "csv", "json", NULL };
/* The documented names, used only while the library's own table is empty. */
static const char *const policy_fallback[] = { "full", "compact", "readback", "skip", "premapped", NULL };
static const char *const dma_fallback[] = { "identity", "pa", "iommu", "vfio", "bounce", "noncoherent", "debug", "nodma", NULL };

#define CFG(f) .dest = VQB_DEST_CFG, .off = offsetof(struct vqb_config, f), \
	.size = sizeof(((struct vqb_config *)0)->f)
#define OPTS(f) .dest = VQB_DEST_OPTS, .off = offsetof(struct vqb_opts, f), \
	.size = sizeof(((struct vqb_opts *)0)->f)

#define G_AXES "Sweep axes (each takes a comma-separated list; lists run as a cartesian product)"
#define G_LEN "Run length"
#define G_PLACE "Placement"
#define G_OUT "Output"
#define G_CMD "Commands"

const struct vqb_option vqb_options[VQB_OPT_COUNT] = {
	[VQB_OPT_LAYOUT] = { .name = "layout", .arg = VQB_ARG_ENUM, .list = true, .metavar = "LIST",
		.def = "split,packed", .names = layout_names, CFG(layout), .group = G_AXES,
		.help = "virtqueue layout (rte_ring: DPDK's ring, a ceiling without descriptors)" },
	[VQB_OPT_QUEUE_SIZE] = { .name = "queue-size", .arg = VQB_ARG_UINT, .list = true, .metavar = "LIST",
		.def = "256", .min = 1, .max = 32768, CFG(queue_size), .label = "q", .group = G_AXES,
		.help = "descriptors per queue (split: a power of two, checked per configuration)" },
	[VQB_OPT_DESCS] = { .name = "descs", .arg = VQB_ARG_DESCS, .list = true, .metavar = "LIST",
		.def = "1,4", .min = 1, .max = 19, CFG(descs_kind), .label = "descs", .group = G_AXES,
		.help = "descriptors per packet: N fixed, A-B uniform, or mix",
		.note = "mix: the realistic mix of 1..19 documented in the README" },
	[VQB_OPT_PKT_BYTES] = { .name = "pkt-bytes", .arg = VQB_ARG_UINT, .list = true, .metavar = "LIST",
		.def = "64", .min = 1, .max = 1048576, CFG(pkt_bytes), .label = "pkt", .group = G_AXES,
		.help = "bytes per packet, spread over its descriptors (at most 1 MiB)" },
	[VQB_OPT_INDIRECT] = { .name = "indirect", .arg = VQB_ARG_ONOFF, .list = true, .metavar = "on|off",
		.def = "off", CFG(indirect), .label = "indirect", .group = G_AXES,
		.help = "chains through indirect descriptor tables" },
	[VQB_OPT_IN_ORDER] = { .name = "in-order", .arg = VQB_ARG_ONOFF, .list = true, .metavar = "on|off",
		.def = "off", CFG(in_order), .label = "in-order", .group = G_AXES,
		.help = "VIRTIO_F_IN_ORDER: the device completes chains in order" },
	[VQB_OPT_EVENT_IDX] = { .name = "event-idx", .arg = VQB_ARG_ONOFF, .list = true, .metavar = "on|off",
		.def = "on", CFG(event_idx), .label = "event-idx", .group = G_AXES,
		.help = "VIRTIO_RING_F_EVENT_IDX notification suppression" },
	[VQB_OPT_BATCH] = { .name = "batch", .arg = VQB_ARG_UINT, .list = true, .metavar = "LIST",
		.def = "32", .min = 1, .max = 32768, CFG(batch), .label = "batch", .group = G_AXES,
		.help = "chains per publish / completions per poll (at most the queue size)" },
	[VQB_OPT_DIR] = { .name = "dir", .arg = VQB_ARG_ENUM, .list = true, .metavar = "LIST",
		.def = "tx", .names = dir_names, CFG(dir), .what = "direction", .group = G_AXES,
		.help = "traffic direction: device reads (tx), writes (rx), or both queues" },
	[VQB_OPT_POLICY] = { .name = "policy", .arg = VQB_ARG_NAME, .list = true, .metavar = "LIST",
		.def = "full,compact,skip,premapped", .name_fn = vq_policy_name, .fallback = policy_fallback,
		CFG(policy), .what = "tracking policy", .group = G_AXES,
		.help = "DMA-address tracking policy (see README: Policies)",
		.note = "iova: the IOVA two-step API (one range per queue, buffers linked and unlinked\n"
			"per packet, 8 bytes per chain); without an IOMMU it maps per buffer as the\n"
			"kernel's callers do (CSV column iova_api says which)" },
	[VQB_OPT_DMA] = { .name = "dma", .arg = VQB_ARG_NAME, .list = true, .metavar = "LIST",
		.def = "identity", .name_fn = dma_backend_name, .fallback = dma_fallback,
		CFG(dma), .what = "DMA backend", .group = G_AXES,
		.help = "DMA backend the buffers are mapped through" },
	[VQB_OPT_DEVICE] = { .name = "device", .arg = VQB_ARG_ENUM, .list = true, .metavar = "LIST",
		.def = "thread", .names = device_names, CFG(device), .what = "device", .group = G_AXES,
		.help = "software device: its own thread on the second core, or inline;",
		.note = "vhost-user:PATH: a vhost-user backend on socket PATH (see README);\n"
			"vfio:DDDD:BB:DD.F: a virtio-net PCI device bound to vfio-pci (README, Bare metal)" },
	[VQB_OPT_QUEUES] = { .name = "queues", .arg = VQB_ARG_UINT, .list = true, .metavar = "LIST",
		.def = "1", .min = 1, .max = VQB_QUEUES_MAX, CFG(queues), .label = "queues", .group = G_AXES,
		.help = "queue pairs (multi-queue virtio-net), each with its own rings, tracking,",
		.note = "buffers, DMA backend, software device and driver thread (--device thread:\n"
			"also a device thread; inline: each driver runs its own device); they start\n"
			"together. --packets is per queue; mpps is the aggregate, CSV queue_mpps the\n"
			"per-queue rates (README: Multi-queue scaling). thread and inline only" },
	[VQB_OPT_MEM_NODE] = { .name = "mem-node", .arg = VQB_ARG_NODE, .list = true, .metavar = "LIST",
		.def = "local", CFG(mem_node), .label = "node", .group = G_AXES,
		.help = "NUMA node for ring and buffers (local: the driver core's node)" },
	[VQB_OPT_UNSAFE_SKIP] = { .name = "unsafe-skip", .arg = VQB_ARG_FLAG, .metavar = NULL,
		CFG(unsafe_skip), .group = G_AXES,
		.help = "let skip run where the backend needs unmap, and measure the damage",
		.note = "rows are marked UNSAFE (CSV column unsafe = 1)" },
	[VQB_OPT_SKIP_RULE] = { .name = "skip-rule", .arg = VQB_ARG_NAME, .list = true, .metavar = "LIST",
		.def = "upstream", .name_fn = vq_skip_rule_name, CFG(skip_rule), .label = "rule",
		.what = "skip rule", .group = G_AXES,
		.help = "who decides whether skip may run: upstream (dma_need_unmap after every",
		.note = "mapping), rfc (the 2024 RFC: direct mapping and no forced bouncing,\n"
			"asked once), never" },
	[VQB_OPT_INDIRECT_EXTRA] = { .name = "indirect-extra", .arg = VQB_ARG_NAME, .list = true, .metavar = "LIST",
		.def = "upstream", .name_fn = vq_ind_extra_name, CFG(indirect_extra), .label = "iextra",
		.what = "indirect-extra mode", .group = G_AXES,
		.help = "records of indirect entries (full, retrieve, adaptive, compact): upstream",
		.note = "(Linux 6.13+: a record per entry, allocated with each table, counted\n"
			"per chain in flight) or linux-6.1 (none: unmap reads the table back)" },
	[VQB_OPT_DMA_MASK] = { .name = "dma-mask", .arg = VQB_ARG_UINT, .list = true, .metavar = "LIST",
		.def = "64", .min = 1, .max = 64, CFG(dma_mask), .label = "mask", .group = G_AXES,
		.help = "DMA mask in bits of the direct backends (identity, pa): buffers above it bounce",
		.note = "below 64, the buffer arena straddles the mask and buffers are used in\n"
			"FIFO order, so a run starts below the mask and crosses it once" },
	[VQB_OPT_DMA_ALIGN] = { .name = "dma-align", .arg = VQB_ARG_UINT, .list = true, .metavar = "LIST",
		.def = "1", .min = 1, .max = 2048, CFG(dma_align), .label = "align", .group = G_AXES,
		.help = "direct backends: bounce buffers not aligned to this (a power of two);",
		.note = "NOT upstream Linux, whose alignment bounces are dma_kmalloc_needs_bounce\n"
			"(--dma noncoherent) and untrusted devices (--iommu untrusted)" },
	[VQB_OPT_FORCE_BOUNCE] = { .name = "force-bounce", .arg = VQB_ARG_ONOFF, .list = true, .metavar = "on|off",
		.def = "off", CFG(force_bounce), .label = "force-bounce", .group = G_AXES,
		.help = "direct backends: bounce every mapping (swiotlb=force)" },
	[VQB_OPT_IOMMU] = { .name = "iommu", .arg = VQB_ARG_ENUM, .list = true, .metavar = "LIST",
		.def = "strict", .names = iommu_names, CFG(iommu_mode), .what = "IOMMU mode", .group = G_AXES,
		.help = "iommu backend: strict (invalidate at each unmap), lazy (flush queue),",
		.note = "passthrough (identity domain: dma-direct behind the IOMMU driver) or\n"
			"untrusted (strict; buffers not 4 KiB-aligned in start and length bounce\n"
			"through a granule-aligned bounce slot, as iommu_dma_map_page does)" },
	[VQB_OPT_NC_MODEL] = { .name = "nc-model", .arg = VQB_ARG_ONOFF, .list = true, .metavar = "on|off",
		.def = "on", CFG(nc_model), .label = "nc-model", .group = G_AXES,
		.help = "noncoherent backend: keep the device's view of memory apart, so a skipped",
		.note = "invalidate reads stale data (x86 is coherent and would hide it); on by\n"
			"default, off measures the maintenance instructions alone" },
	[VQB_OPT_LATE_WRITES] = { .name = "late-writes", .arg = VQB_ARG_ONOFF, .list = true, .metavar = "on|off",
		.def = "off", CFG(late_writes), .label = "late-writes", .group = G_AXES,
		.help = "inline device: write each received chain's first buffer again one poll",
		.note = "after completion (a device that kept access): CSV late_writes_landed\n"
			"counts those the backend let through, late_writes_blocked those an IOMMU\n"
			"refused" },
	[VQB_OPT_PAGES] = { .name = "pages", .arg = VQB_ARG_ENUM, .list = true, .metavar = "LIST",
		.def = "2m", .names = pages_names, CFG(pages), .what = "page size", .group = G_AXES,
		.help = "pages under ring and buffer memory: 2m (2 MiB hugepages: DPDK's memory, or",
		.note = "hugetlbfs memfds for vhost-user) or 4k (4 KiB pages, transparent hugepages\n"
			"refused); when hugepages are short a 2m run uses 4 KiB pages with a notice\n"
			"(CSV column page_bytes says what the buffers were on)" },
	[VQB_OPT_PACKETS] = { .name = "packets", .arg = VQB_ARG_UINT, .list = true, .metavar = "LIST",
		.def = NULL, .min = 1, .max = 1000000000000ull, CFG(packets), .label = "packets", .group = G_LEN,
		.help = "packets per repetition, per queue with --queues (excludes --seconds)" },
	[VQB_OPT_SECONDS] = { .name = "seconds", .arg = VQB_ARG_SECONDS, .list = true, .metavar = "LIST",
		.def = "0.3", .max = 3600, CFG(seconds), .label = "s", .group = G_LEN,
		.help = "seconds per repetition (excludes --packets)" },
	[VQB_OPT_WARMUP] = { .name = "warmup", .arg = VQB_ARG_UINT, .metavar = "N",
		.def = "1", .min = 0, .max = 1000, CFG(warmup), .group = G_LEN,
		.help = "warmup repetitions per configuration, run first, shown and discarded" },
	[VQB_OPT_REPS] = { .name = "reps", .arg = VQB_ARG_UINT, .metavar = "N",
		.def = "5", .min = 1, .max = 100000, CFG(reps), .group = G_LEN,
		.help = "measured repetitions per configuration" },
	[VQB_OPT_CORES] = { .name = "cores", .arg = VQB_ARG_CORES, .metavar = "A,B,...",
		.def = "auto", CFG(cores), .group = G_PLACE,
		.help = "CPUs in order of use (auto: hwloc, distinct physical cores first):",
		.note = "thread device: driver,device of queue 0, then of queue 1, ... (2 per\n"
			"queue: --queues 2 --cores 0,1,2,3); inline: one driver CPU per queue\n"
			"(--queues 2 --cores 0,1). Fewer CPUs than threads: inline queues share\n"
			"CPUs (CSV cpus_shared = 1, not a scaling measurement); thread is refused" },
	[VQB_OPT_ORDER] = { .name = "order", .arg = VQB_ARG_ENUM, .metavar = "ORDER",
		.def = "interleave", .names = order_names, OPTS(order), .group = G_PLACE,
		.help = "interleave: repetition r of every configuration, then r+1 (ratios",
		.note = "come from neighbouring runs); sequential: all repetitions of one\n"
			"configuration, then the next; blocks: the policies of one configuration\n"
			"set up once, then rounds of one block of --packets packets per policy,\n"
			"back to back, order rotating (a row per block, rep = round, c2c probed\n"
			"around each round; scripts/perf-tracking.sh pairs them)" },
	[VQB_OPT_CSV] = { .name = "csv", .arg = VQB_ARG_PATH, .metavar = "FILE",
		.def = NULL, OPTS(csv_path), .group = G_OUT,
		.help = "CSV file, one row per repetition ('-': stdout; the table goes to stderr)",
		.note = "default: results/vqbench-YYYYmmdd-HHMMSS.csv (UTC), results/ created" },
	[VQB_OPT_JSON] = { .name = "json", .arg = VQB_ARG_PATH, .metavar = "FILE",
		.def = NULL, OPTS(json_path), .group = G_OUT,
		.help = "also write JSON Lines, one object per repetition ('-': stdout)",
		.note = "the CSV's columns, names and values: numbers, true/false, null for\n"
			"an empty cell (--list-columns --format json); not with --csv -" },
	[VQB_OPT_JUNIT] = { .name = "junit", .arg = VQB_ARG_PATH, .metavar = "FILE",
		.def = NULL, OPTS(junit_path), .group = G_OUT,
		.help = "with --check: also write JUnit XML, one testcase per bound ('-': stdout)",
		.note = "a failure names the bound, the value and the CSV rows; a bound marked\n"
			"optional that no row matches is a skipped testcase" },
	[VQB_OPT_QUIET] = { .name = "quiet", .short_name = 'q', .arg = VQB_ARG_FLAG,
		OPTS(quiet), .group = G_OUT,
		.help = "no progress line and no notices (errors, warnings, skipped configurations remain)" },
	[VQB_OPT_FORMAT] = { .name = "format", .arg = VQB_ARG_ENUM, .metavar = "FMT",
		.def = "text", .names = format_names, OPTS(format), .group = G_OUT,
		.help = "format of --list-columns (json: one JSON document)" },
	[VQB_OPT_CHECK] = { .name = "check", .arg = VQB_ARG_PATH, .metavar = "FILE", OPTS(check_path),
		.what = "a thresholds file, then one or more CSV files", .group = G_CMD,
		.help = "check the CSV files given after the options against the bounds in FILE",
		.note = "exit 0 when every bound holds, 1 when one falls short, 2 for a bad\n"
			"thresholds file or CSV; format: README, Regression thresholds" },
	[VQB_OPT_LIST_COLUMNS] = { .name = "list-columns", .arg = VQB_ARG_FLAG, OPTS(list_columns),
		.group = G_CMD, .help = "print the CSV schema (name, type, unit, description) and exit" },
	[VQB_OPT_SYSINFO] = { .name = "sysinfo", .arg = VQB_ARG_FLAG, OPTS(sysinfo), .group = G_CMD,
		.help = "initialise DPDK's EAL, read topology (hwloc) and NUMA (libnuma), print, exit" },
	[VQB_OPT_VERSION] = { .name = "version", .arg = VQB_ARG_FLAG, OPTS(version), .group = G_CMD,
		.help = "print the version and the libraries it was built with" },
	[VQB_OPT_HELP] = { .name = "help", .short_name = 'h', .arg = VQB_ARG_FLAG, OPTS(help), .group = G_CMD,
		.help = "this text" },
};

/* Name i of a NAME option: the library's table, or the documented fallback
 * while the library's table is empty. */
const char *vqb_opt_name_at(const struct vqb_option *op, unsigned i)
{
	if (op->name_fn && op->name_fn(0))
		return op->name_fn(i);
	return op->fallback ? op->fallback[i] : NULL;
}

static size_t append(char *buf, size_t len, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static size_t append(char *buf, size_t len, size_t pos, const char *fmt, ...)
{
	va_list ap;

	if (pos >= len)
		return pos;
	va_start(ap, fmt);
	int n = vsnprintf(buf + pos, len - pos, fmt, ap);
	va_end(ap);
	return n < 0 ? pos : pos + (size_t)n;
}

int vqb_numa_node_max(void)
{
	return numa_available() < 0 ? 0 : numa_max_node();
}

void vqb_cpus_allowed(char *buf, size_t len)
{
	cpu_set_t set;
	size_t pos = 0;

	buf[0] = '\0';
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		int e = c;
		while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &set))
			e++;
		pos = append(buf, len, pos, "%s%d", pos ? "," : "", c);
		if (e > c)
			pos = append(buf, len, pos, "-%d", e);
		c = e;
	}
}

void vqb_opt_allowed(enum vqb_opt_id id, char *buf, size_t len)
{
	const struct vqb_option *op = &vqb_options[id];
	size_t pos = 0;
	char cpus[256];

	buf[0] = '\0';
	switch (op->arg) {
	case VQB_ARG_FLAG:
		append(buf, len, 0, "no value");
		break;
	case VQB_ARG_UINT:
		append(buf, len, 0, "%llu..%llu", (unsigned long long)op->min,
		       (unsigned long long)op->max);
		break;
	case VQB_ARG_SECONDS:
		append(buf, len, 0, "a decimal number of seconds > 0 and <= %llu",
		       (unsigned long long)op->max);
		break;
	case VQB_ARG_ONOFF:
		append(buf, len, 0, "on, off");
		break;
	case VQB_ARG_ENUM:
		for (unsigned i = 0; op->names[i]; i++)
			pos = append(buf, len, pos, "%s%s", i ? ", " : "", op->names[i]);
		break;
	case VQB_ARG_NAME:
		for (unsigned i = 0; vqb_opt_name_at(op, i); i++)
			pos = append(buf, len, pos, "%s%s", i ? ", " : "", vqb_opt_name_at(op, i));
		break;
	case VQB_ARG_DESCS:
		append(buf, len, 0, "N or A-B with %llu <= A <= B <= %llu, or mix",
		       (unsigned long long)op->min, (unsigned long long)op->max);
		break;
	case VQB_ARG_CORES:
		vqb_cpus_allowed(cpus, sizeof(cpus));
		append(buf, len, 0, "auto, or 2..%d distinct CPUs A,B,... of %s", VQB_CPUS_MAX, cpus);
		break;
	case VQB_ARG_NODE:
		append(buf, len, 0, "local, 0..%d", vqb_numa_node_max());
		break;
	case VQB_ARG_PATH:
		append(buf, len, 0, "%s", op->what ? op->what : "a writable file name, or - for stdout");
		break;
	}
}

/* Value v of op into the field at p, for every kind stored as it is. */
static void store_value(const struct vqb_option *op, const struct vqb_val *v, char *p)
{
	switch (op->arg) {
	case VQB_ARG_FLAG:
	case VQB_ARG_ONOFF:
		memcpy(p, &v->b, sizeof(bool));
		break;
	case VQB_ARG_UINT:
		if (op->size == sizeof(uint32_t)) {
			uint32_t x = (uint32_t)v->u;
			memcpy(p, &x, sizeof(x));
		} else {
			memcpy(p, &v->u, sizeof(uint64_t));
		}
		break;
	case VQB_ARG_SECONDS:
		memcpy(p, &v->d, sizeof(double));
		break;
	case VQB_ARG_ENUM:
		memcpy(p, &v->e, sizeof(int));
		break;
	case VQB_ARG_NAME:
		snprintf(p, op->size, "%s", v->name);
		break;
	case VQB_ARG_NODE:
		memcpy(p, &v->node, sizeof(int));
		break;
	case VQB_ARG_PATH:
		memcpy(p, &v->path, sizeof(const char *));
		break;
	case VQB_ARG_DESCS:
	case VQB_ARG_CORES:
		break; /* configuration fields: store_cfg */
	}
}

/* A configuration's option: the kinds that fill several fields of cfg
 * (descriptors, cores, the device's path), else store_value. */
static void store_cfg(enum vqb_opt_id id, const struct vqb_option *op, const struct vqb_val *v,
		      struct vqb_config *cfg)
{
	switch (op->arg) {
	case VQB_ARG_DESCS:
		cfg->descs_kind = v->descs.kind;
		cfg->descs_lo = v->descs.lo;
		cfg->descs_hi = v->descs.hi;
		break;
	case VQB_ARG_CORES:
		memcpy(cfg->cores, v->cores.cpu, sizeof(cfg->cores));
		cfg->ncores = v->cores.n;
		break;
	default:
		store_value(op, v, (char *)cfg + op->off);
		if (id == VQB_OPT_DEVICE)
			memcpy(cfg->dev_path, v->dev_path, sizeof(cfg->dev_path));
		break;
	}
}

/* cfg and o are checked here, where each is written: the option table
 * decides which one an option goes to, and the other may be NULL. */
void vqb_opt_store(enum vqb_opt_id id, const struct vqb_val *v, struct vqb_config *cfg,
		   struct vqb_opts *o)
{
	const struct vqb_option *op = &vqb_options[id];

	if (op->dest == VQB_DEST_CFG && cfg)
		store_cfg(id, op, v, cfg);
	else if (op->dest == VQB_DEST_OPTS && o)
		store_value(op, v, (char *)o + op->off);
}
