/* SPDX-License-Identifier: MIT */
/*
 * vqb_opts.c - the option table and everything it drives: parsing,
 * validation, --help, the option echo, storing into a configuration.
 */
#include <errno.h>
#include <math.h>
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
static const char *const order_names[] = { "interleave", "sequential", NULL };
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
		.help = "DMA-address tracking policy (see README)" },
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
			"configuration, then the next" },
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
static const char *name_at(const struct vqb_option *op, unsigned i)
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

static int node_max(void)
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
		for (unsigned i = 0; name_at(op, i); i++)
			pos = append(buf, len, pos, "%s%s", i ? ", " : "", name_at(op, i));
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
		append(buf, len, 0, "local, 0..%d", node_max());
		break;
	case VQB_ARG_PATH:
		append(buf, len, 0, "%s", op->what ? op->what : "a writable file name, or - for stdout");
		break;
	}
}

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

/* Parse one value of option id. On error writes the message (without the
 * "--flag: 'value'" head) into why. */
static int parse_one(enum vqb_opt_id id, const char *s, struct vqb_val *v,
		     char *why, size_t whylen)
{
	const struct vqb_option *op = &vqb_options[id];
	uint64_t u, u2;
	int rc;

	memset(v, 0, sizeof(*v));
	switch (op->arg) {
	case VQB_ARG_FLAG:
		v->b = true;
		return 0;
	case VQB_ARG_UINT:
		rc = parse_u64(s, &u);
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
	case VQB_ARG_SECONDS: {
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
	case VQB_ARG_ONOFF:
		if (!strcmp(s, "on") || !strcmp(s, "off")) {
			v->b = !strcmp(s, "on");
			return 0;
		}
		snprintf(why, whylen, "is not on or off");
		return -EINVAL;
	case VQB_ARG_ENUM:
		if (id == VQB_OPT_DEVICE && !strncmp(s, "vhost-user", 10)) {
			if (s[10] != ':' || !s[11] || strlen(s + 11) >= sizeof(v->dev_path)) {
				snprintf(why, whylen, "needs a socket path of 1..%zu bytes after 'vhost-user:'",
					 sizeof(v->dev_path) - 1);
				return -EINVAL;
			}
			v->e = VQB_DEV_VHOST_USER;
			snprintf(v->dev_path, sizeof(v->dev_path), "%s", s + 11);
			return 0;
		}
		if (id == VQB_OPT_DEVICE && !strncmp(s, "vfio", 4)) {
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
		for (unsigned i = 0; op->names[i]; i++)
			if (!strcmp(s, op->names[i])) {
				v->e = (int)i;
				return 0;
			}
		snprintf(why, whylen, "is not a known %s", op->what ? op->what : op->name);
		return -EINVAL;
	case VQB_ARG_NAME:
		for (unsigned i = 0; name_at(op, i); i++)
			if (!strcmp(s, name_at(op, i))) {
				snprintf(v->name, sizeof(v->name), "%s", s);
				return 0;
			}
		snprintf(why, whylen, "is not a known %s", op->what ? op->what : op->name);
		return -EINVAL;
	case VQB_ARG_DESCS: {
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
	case VQB_ARG_CORES: {
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
	case VQB_ARG_NODE:
		if (!strcmp(s, "local")) {
			v->node = -1;
			return 0;
		}
		rc = parse_u64(s, &u);
		if (rc == -EINVAL) {
			snprintf(why, whylen, "is not a NUMA node number");
			return rc;
		}
		if (rc < 0 || u > (uint64_t)node_max()) {
			snprintf(why, whylen, "is not a NUMA node of this machine");
			return -ERANGE;
		}
		v->node = (int)u;
		return 0;
	case VQB_ARG_PATH:
		if (!*s) {
			snprintf(why, whylen, "is an empty file name");
			return -EINVAL;
		}
		v->path = s;
		return 0;
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

static int opts_parse(struct vqb_opts *o, int argc, char *const argv[], char *msg, size_t msglen)
{
	memset(o, 0, sizeof(*o));
	msg[0] = '\0';
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *value = NULL;
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
			continue;
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
			if (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1] == '-')) {
				char allowed[512];
				vqb_opt_allowed((enum vqb_opt_id)id, allowed, sizeof(allowed));
				snprintf(msg, msglen, "--%s: missing value (allowed: %s)", op->name, allowed);
				return -EINVAL;
			}
			value = argv[++i];
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
	}

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

void vqb_opt_store(enum vqb_opt_id id, const struct vqb_val *v, struct vqb_config *cfg,
		   struct vqb_opts *o)
{
	const struct vqb_option *op = &vqb_options[id];
	char *base = op->dest == VQB_DEST_CFG ? (char *)cfg : (char *)o;

	if (!base)
		return;
	char *p = base + op->off;
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
		if (id == VQB_OPT_DEVICE)
			memcpy(cfg->dev_path, v->dev_path, sizeof(cfg->dev_path));
		break;
	case VQB_ARG_NAME:
		snprintf(p, op->size, "%s", v->name);
		break;
	case VQB_ARG_DESCS:
		cfg->descs_kind = v->descs.kind;
		cfg->descs_lo = v->descs.lo;
		cfg->descs_hi = v->descs.hi;
		break;
	case VQB_ARG_CORES:
		memcpy(cfg->cores, v->cores.cpu, sizeof(cfg->cores));
		cfg->ncores = v->cores.n;
		break;
	case VQB_ARG_NODE:
		memcpy(p, &v->node, sizeof(int));
		break;
	case VQB_ARG_PATH:
		memcpy(p, &v->path, sizeof(const char *));
		break;
	}
}
