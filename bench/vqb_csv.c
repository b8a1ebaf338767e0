/* SPDX-License-Identifier: MIT */
/*
 * vqb_csv.c - the column table, --list-columns and the writer.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vqb_csv.h"
#include "vqb_json.h"
#include "vqb_opts.h"

#define INFO(f, k) .src = VQB_SRC_INFO, .field = k, .off = offsetof(struct vqb_run_info, f), \
	.size = sizeof(((struct vqb_run_info *)0)->f)
#define CFG(f, k) .src = VQB_SRC_CFG, .field = k, .off = offsetof(struct vqb_config, f), \
	.size = sizeof(((struct vqb_config *)0)->f)
#define MET(f, k) .src = VQB_SRC_MET, .field = k, .off = offsetof(struct vqb_metrics, f), \
	.size = sizeof(((struct vqb_metrics *)0)->f)
#define NOOPT .opt = -1
#define PER_PKT "per packet"

const struct vqb_column vqb_columns[] = {
	/* run level */
	{ "schema_version", VQB_CT_INT, "", "version of this CSV schema", .src = VQB_SRC_INFO,
	  .field = VQB_CF_SCHEMA, NOOPT },
	{ "vqbench_version", VQB_CT_STRING, "", "vqbench version", INFO(vqbench_version, VQB_CF_CHARS), NOOPT },
	{ "git_rev", VQB_CT_STRING, "", "git revision vqbench was built from (git describe --dirty)",
	  INFO(git_rev, VQB_CF_CHARS), NOOPT },
	{ "timestamp", VQB_CT_STRING, "ISO 8601 UTC", "when the repetition finished", INFO(timestamp, VQB_CF_CHARS), NOOPT },
	{ "host", VQB_CT_STRING, "", "host name", INFO(host, VQB_CF_CHARS), NOOPT },
	{ "cpu_model", VQB_CT_STRING, "", "CPU model (hwloc)", INFO(cpu_model, VQB_CF_CHARS), NOOPT },
	{ "kernel", VQB_CT_STRING, "", "kernel release (uname -r)", INFO(kernel, VQB_CF_CHARS), NOOPT },
	/* parameters */
	{ "layout", VQB_CT_STRING, "", "--layout: split, packed or rte_ring", CFG(layout, VQB_CF_OPT), .opt = VQB_OPT_LAYOUT },
	{ "queue_size", VQB_CT_INT, "descriptors", "--queue-size", CFG(queue_size, VQB_CF_U32), .opt = VQB_OPT_QUEUE_SIZE },
	{ "descs", VQB_CT_STRING, "", "--descs as given: N, A-B or mix", CFG(descs_kind, VQB_CF_OPT), .opt = VQB_OPT_DESCS },
	{ "descs_min", VQB_CT_INT, "descriptors", "fewest descriptors per packet", CFG(descs_lo, VQB_CF_U32), .opt = VQB_OPT_DESCS },
	{ "descs_max", VQB_CT_INT, "descriptors", "most descriptors per packet", CFG(descs_hi, VQB_CF_U32), .opt = VQB_OPT_DESCS },
	{ "pkt_bytes", VQB_CT_INT, "bytes", "--pkt-bytes: bytes per packet", CFG(pkt_bytes, VQB_CF_U32), .opt = VQB_OPT_PKT_BYTES },
	{ "indirect", VQB_CT_BOOL, "", "--indirect", CFG(indirect, VQB_CF_BOOL), .opt = VQB_OPT_INDIRECT },
	{ "in_order", VQB_CT_BOOL, "", "--in-order", CFG(in_order, VQB_CF_BOOL), .opt = VQB_OPT_IN_ORDER },
	{ "event_idx", VQB_CT_BOOL, "", "--event-idx", CFG(event_idx, VQB_CF_BOOL), .opt = VQB_OPT_EVENT_IDX },
	{ "batch", VQB_CT_INT, "chains", "--batch: chains per publish, completions per poll", CFG(batch, VQB_CF_U32), .opt = VQB_OPT_BATCH },
	{ "dir", VQB_CT_STRING, "", "--dir: tx, rx or both", CFG(dir, VQB_CF_OPT), .opt = VQB_OPT_DIR },
	{ "policy", VQB_CT_STRING, "", "--policy: tracking policy", CFG(policy, VQB_CF_CHARS), .opt = VQB_OPT_POLICY },
	{ "dma", VQB_CT_STRING, "", "--dma: DMA backend", CFG(dma, VQB_CF_CHARS), .opt = VQB_OPT_DMA },
	{ "device", VQB_CT_STRING, "", "--device: thread or inline", CFG(device, VQB_CF_OPT), .opt = VQB_OPT_DEVICE },
	{ "queues", VQB_CT_INT, "queue pairs", "--queues: queue pairs, each with its own rings, device and driver thread",
	  CFG(queues, VQB_CF_U32), .opt = VQB_OPT_QUEUES, .since = 2, .before = "1" },
	{ "mem_node", VQB_CT_INT, "NUMA node", "--mem-node; empty: local to the driver core", CFG(mem_node, VQB_CF_I32),
	  .opt = VQB_OPT_MEM_NODE, .flags = VQB_COL_EMPTY_NEG },
	{ "target_packets", VQB_CT_INT, "packets", "--packets per repetition (per queue); empty: the run was timed",
	  CFG(packets, VQB_CF_U64), .opt = VQB_OPT_PACKETS, .flags = VQB_COL_EMPTY_ZERO },
	{ "target_s", VQB_CT_FLOAT, "s", "--seconds per repetition; empty: the run counted packets",
	  CFG(seconds, VQB_CF_F64), .opt = VQB_OPT_SECONDS, .flags = VQB_COL_EMPTY_ZERO },
	{ "warmup", VQB_CT_INT, "repetitions", "--warmup repetitions before the measured ones", CFG(warmup, VQB_CF_U32), .opt = VQB_OPT_WARMUP },
	{ "reps", VQB_CT_INT, "repetitions", "--reps: measured repetitions of this configuration", CFG(reps, VQB_CF_U32), .opt = VQB_OPT_REPS },
	{ "unsafe", VQB_CT_BOOL, "", "--unsafe-skip: skip may run where unmap is needed (damage measured)",
	  CFG(unsafe_skip, VQB_CF_BOOL), .opt = VQB_OPT_UNSAFE_SKIP },
	{ "skip_rule", VQB_CT_STRING, "", "--skip-rule: upstream, rfc or never", CFG(skip_rule, VQB_CF_CHARS),
	  .opt = VQB_OPT_SKIP_RULE },
	{ "indirect_extra", VQB_CT_STRING, "", "--indirect-extra: upstream or linux-6.1 (records of indirect entries); "
	  "empty: older schema", CFG(indirect_extra, VQB_CF_CHARS), .opt = VQB_OPT_INDIRECT_EXTRA, .since = 5, .before = "" },
	{ "dma_mask_bits", VQB_CT_INT, "bits", "--dma-mask of the direct backends (64: no limit)",
	  CFG(dma_mask, VQB_CF_U32), .opt = VQB_OPT_DMA_MASK },
	{ "dma_align", VQB_CT_INT, "bytes", "--dma-align of the direct backends (1: none; not an upstream Linux rule)", CFG(dma_align, VQB_CF_U32),
	  .opt = VQB_OPT_DMA_ALIGN },
	{ "force_bounce", VQB_CT_BOOL, "", "--force-bounce", CFG(force_bounce, VQB_CF_BOOL), .opt = VQB_OPT_FORCE_BOUNCE },
	{ "iommu_mode", VQB_CT_STRING, "", "--iommu: strict, lazy, passthrough or untrusted", CFG(iommu_mode, VQB_CF_OPT), .opt = VQB_OPT_IOMMU },
	{ "nc_model", VQB_CT_BOOL, "", "--nc-model", CFG(nc_model, VQB_CF_BOOL), .opt = VQB_OPT_NC_MODEL },
	{ "late_writes", VQB_CT_BOOL, "", "--late-writes", CFG(late_writes, VQB_CF_BOOL), .opt = VQB_OPT_LATE_WRITES,
	  .since = 3, .before = "0" },
	{ "pages", VQB_CT_STRING, "", "--pages asked for: 2m or 4k (page_bytes: what was used)", CFG(pages, VQB_CF_OPT),
	  .opt = VQB_OPT_PAGES },
	{ "config", VQB_CT_INT, "", "configuration number in the sweep (0-based)", CFG(index, VQB_CF_U32), NOOPT },
	{ "rep", VQB_CT_INT, "", "repetition number (0-based)", MET(rep, VQB_CF_U32), NOOPT },
	/* metrics */
	{ "status", VQB_CT_STRING, "", "ok; failed (lost or corrupt packets on a safe configuration, broken queue, "
	  "refused mid-run); or exhausted (a DMA resource ran out with nothing in flight to free it: packets are the "
	  "packets until exhaustion); a failed or exhausted row keeps what was measured", MET(status, VQB_CF_CHARS), NOOPT },
	{ "error", VQB_CT_STRING, "", "why the repetition failed, or which resource ran out (its size and use); empty when ok",
	  MET(error, VQB_CF_CHARS), NOOPT },
	{ "packets", VQB_CT_INT, "packets", "packets completed and verified (all queues)", MET(packets, VQB_CF_U64), NOOPT },
	{ "errors", VQB_CT_INT, "packets", "payload mismatches and lost packets", MET(errors, VQB_CF_U64), NOOPT },
	{ "elapsed_s", VQB_CT_FLOAT, "s", "measured time (queues: from the first start to the last end)",
	  MET(seconds, VQB_CF_F64), NOOPT },
	{ "mpps", VQB_CT_FLOAT, "Mpackets/s", "packet rate (queues: aggregate, all packets / elapsed_s)",
	  MET(mpps, VQB_CF_F64), NOOPT },
	{ "queue_mpps_min", VQB_CT_FLOAT, "Mpackets/s", "slowest queue's rate (its packets / elapsed_s)",
	  MET(queue_mpps_min, VQB_CF_F64), NOOPT, .since = 2 },
	{ "queue_mpps_max", VQB_CT_FLOAT, "Mpackets/s", "fastest queue's rate (its packets / elapsed_s)",
	  MET(queue_mpps_max, VQB_CF_F64), NOOPT, .since = 2 },
	{ "queue_mpps", VQB_CT_STRING, "Mpackets/s", "every queue's rate, queue 0 first, joined by ';' (they sum to mpps)",
	  MET(queue_mpps, VQB_CF_CHARS), NOOPT, .since = 2 },
	{ "gbps", VQB_CT_FLOAT, "Gbit/s", "payload throughput", MET(gbps, VQB_CF_F64), NOOPT },
	{ "ns_per_pkt", VQB_CT_FLOAT, "ns", "wall time per packet", MET(ns_per_pkt, VQB_CF_F64), NOOPT },
	{ "cycles_per_pkt", VQB_CT_FLOAT, "TSC cycles", "driver TSC cycles per packet (queues: every driver thread's)", MET(cycles_per_pkt, VQB_CF_F64), NOOPT },
	{ "maps_per_pkt", VQB_CT_FLOAT, PER_PKT, "DMA map calls", MET(maps_per_pkt, VQB_CF_F64), NOOPT },
	{ "unmaps_per_pkt", VQB_CT_FLOAT, PER_PKT, "DMA unmap calls", MET(unmaps_per_pkt, VQB_CF_F64), NOOPT },
	{ "syncs_per_pkt", VQB_CT_FLOAT, PER_PKT, "DMA sync calls", MET(syncs_per_pkt, VQB_CF_F64), NOOPT },
	{ "bytes_copied_per_pkt", VQB_CT_FLOAT, "bytes", "bytes the DMA backend copied (bounce)", MET(bytes_copied_per_pkt, VQB_CF_F64), NOOPT },
	{ "bounced_per_pkt", VQB_CT_FLOAT, PER_PKT, "mappings that went through a bounce slot (swiotlb_tbl_map_single)",
	  MET(bounced_per_pkt, VQB_CF_F64), NOOPT, .since = 4, .before = "" },
	{ "iotlb_flushes_per_pkt", VQB_CT_FLOAT, PER_PKT, "IOTLB flush operations (iommu: strict one per unmap or unlink; lazy "
	  "one per full flush queue and one per timer expiry; 0 without an IOMMU)", MET(iotlb_flushes_per_pkt, VQB_CF_F64), NOOPT,
	  .since = 4, .before = "" },
	{ "iotlb_timer_flushes_per_pkt", VQB_CT_FLOAT, PER_PKT, "of those, the lazy flush queue's timer's "
	  "(fq_flush_timeout, 10 ms after an IOVA was queued: depends on the packet rate)",
	  MET(iotlb_timer_flushes_per_pkt, VQB_CF_F64), NOOPT, .since = 4, .before = "" },
	{ "iova_allocs_per_pkt", VQB_CT_FLOAT, PER_PKT, "IOVA ranges allocated (iommu; alloc_iova_fast)",
	  MET(iova_allocs_per_pkt, VQB_CF_F64), NOOPT, .since = 4, .before = "" },
	{ "iova_frees_per_pkt", VQB_CT_FLOAT, PER_PKT, "IOVA ranges freed (iommu; strict at unmap, lazy when the "
	  "flush queue is flushed)", MET(iova_frees_per_pkt, VQB_CF_F64), NOOPT, .since = 4, .before = "" },
	{ "links_per_pkt", VQB_CT_FLOAT, PER_PKT, "IOVA API: dma_iova_link calls (policy iova; 0 elsewhere)",
	  MET(links_per_pkt, VQB_CF_F64), NOOPT, .since = 4, .before = "" },
	{ "unlinks_per_pkt", VQB_CT_FLOAT, PER_PKT, "IOVA API: dma_iova_unlink calls, one IOTLB flush each (policy iova; 0 elsewhere)",
	  MET(unlinks_per_pkt, VQB_CF_F64), NOOPT, .since = 4, .before = "" },
	{ "iova_api", VQB_CT_STRING, "", "policy iova: 'iova' (the IOVA two-step API in use) or 'fallback: <why>' "
	  "(dma_iova_try_alloc failed: dma_map per buffer, as the kernel's callers do); empty: other policies",
	  MET(iova_api, VQB_CF_CHARS), NOOPT, .since = 4, .before = "" },
	{ "kicks_per_pkt", VQB_CT_FLOAT, PER_PKT, "driver-to-device notifications", MET(kicks_per_pkt, VQB_CF_F64), NOOPT },
	{ "calls_per_pkt", VQB_CT_FLOAT, PER_PKT, "device-to-driver notifications", MET(calls_per_pkt, VQB_CF_F64), NOOPT },
	{ "tracking_bytes", VQB_CT_INT, "bytes", "policy records per descriptor and per chain (counted, every queue)", MET(tracking_bytes, VQB_CF_U64), NOOPT },
	{ "footprint_bytes", VQB_CT_INT, "bytes", "all memory of the run's queues and DMA device, counted by the allocator: ring, driver state, tracking, indirect, DMA, pool",
	  MET(footprint_bytes, VQB_CF_U64), NOOPT },
	{ "bytes_per_inflight", VQB_CT_FLOAT, "bytes", "footprint / (queue size x rings)", MET(bytes_per_inflight, VQB_CF_F64), NOOPT },
	{ "rss_bytes", VQB_CT_INT, "bytes", "resident set after the run; empty: not measured (--order blocks: one process holds every engine)",
	  MET(rss_bytes, VQB_CF_U64), NOOPT, .flags = VQB_COL_EMPTY_ZERO },
	{ "rss_delta_bytes", VQB_CT_INT, "bytes", "resident set growth during setup and run; empty: not measured (--order blocks)",
	  MET(rss_delta_bytes, VQB_CF_I64), NOOPT, .flags = VQB_COL_EMPTY_MIN },
	{ "hw_cycles_per_pkt", VQB_CT_FLOAT, "cycles", "CPU cycles (perf; queues: queue 0's driver thread); empty: not countable here", MET(hw_cycles, VQB_CF_F64), NOOPT },
	{ "hw_instructions_per_pkt", VQB_CT_FLOAT, "instructions", "instructions (perf); empty: not countable", MET(hw_instructions, VQB_CF_F64), NOOPT },
	{ "hw_l1d_misses_per_pkt", VQB_CT_FLOAT, "misses", "L1d misses (perf); empty: not countable", MET(hw_l1d_misses, VQB_CF_F64), NOOPT },
	{ "hw_llc_misses_per_pkt", VQB_CT_FLOAT, "misses", "last-level cache misses (perf); empty: not countable",
	  MET(hw_llc_misses, VQB_CF_F64), NOOPT },
	{ "hw_dtlb_misses_per_pkt", VQB_CT_FLOAT, "misses", "dTLB misses (perf); empty: not countable", MET(hw_dtlb_misses, VQB_CF_F64), NOOPT },
	/* filled only by scripts/callgrind-counts.py (simulated, deterministic); vqbench leaves them empty */
	{ "cg_instructions_per_pkt", VQB_CT_FLOAT, "instructions", "instructions in the packet loop (callgrind, --device inline); empty: not run under it",
	  MET(cg_instructions, VQB_CF_F64), NOOPT },
	{ "cg_d1_misses_per_pkt", VQB_CT_FLOAT, "misses", "simulated L1d misses (callgrind: 32 KiB, 8-way); empty: not run under it",
	  MET(cg_d1_misses, VQB_CF_F64), NOOPT },
	{ "cg_ll_misses_per_pkt", VQB_CT_FLOAT, "misses", "simulated last-level misses (callgrind: 32 MiB, 16-way); empty: not run under it",
	  MET(cg_ll_misses, VQB_CF_F64), NOOPT },
	{ "lost_bytes", VQB_CT_INT, "bytes", "received bytes that never reached the buffer (unsafe skip)", MET(lost_bytes, VQB_CF_U64), NOOPT },
	{ "leaked_mappings", VQB_CT_INT, "mappings", "mappings still live at teardown that hold a resource: a bounce slot, "
	  "an IOVA, a debug entry (unsafe skip)", MET(leaked_mappings, VQB_CF_U64), NOOPT },
	{ "unmaintained_lines", VQB_CT_INT, "cache lines", "noncoherent: lines of device-written buffers never invalidated "
	  "because their unmap was skipped (unsafe skip); empty: older schema", MET(unmaintained_lines, VQB_CF_U64), NOOPT,
	  .since = 3, .before = "" },
	{ "late_writes_landed", VQB_CT_INT, "writes", "device writes after completion (--late-writes) that reached the buffer "
	  "the driver had got back (memory the CPU owns again) (0 without --late-writes)", MET(late_writes_landed, VQB_CF_U64),
	  NOOPT, .since = 3, .before = "" },
	{ "late_writes_blocked", VQB_CT_INT, "writes", "device writes after completion that an IOMMU refused (the buffer "
	  "was unmapped) (0 without --late-writes)", MET(late_writes_blocked, VQB_CF_U64), NOOPT, .since = 3, .before = "" },
	{ "late_writes_remapped", VQB_CT_INT, "writes", "device writes after completion that reached another buffer mapped "
	  "at the same IOVA since (IOVA reuse) (0 without --late-writes)", MET(late_writes_remapped, VQB_CF_U64), NOOPT,
	  .since = 3, .before = "" },
	{ "stale_hits", VQB_CT_INT, "accesses", "device accesses through a stale IOTLB entry (iommu lazy; 0 unless the device accesses a buffer after its unmap: --late-writes)", MET(stale_hits, VQB_CF_U64), NOOPT },
	{ "driver_cpu", VQB_CT_INT, "CPU", "CPU the driver ran on (--cores A; queues: queue 0's)", MET(driver_cpu, VQB_CF_I32),
	  .opt = VQB_OPT_CORES, .flags = VQB_COL_EMPTY_NEG },
	{ "device_cpu", VQB_CT_INT, "CPU", "CPU the device ran on (--cores B; inline: the driver CPU; queues: queue 0's)",
	  MET(device_cpu, VQB_CF_I32), .opt = VQB_OPT_CORES, .flags = VQB_COL_EMPTY_NEG },
	{ "cpus_shared", VQB_CT_BOOL, "", "1: more threads than CPUs (--queues, inline), queues shared CPUs: "
	  "a correctness run, not a scaling measurement", MET(cpus_shared, VQB_CF_BOOL), NOOPT, .since = 2, .before = "0" },
	{ "memory", VQB_CT_STRING, "", "ring and buffer memory: hugepages+mempool (DPDK) or 4k-pages",
	  MET(memory, VQB_CF_CHARS), NOOPT },
	{ "page_bytes", VQB_CT_INT, "bytes", "bytes per page backing the buffer memory (4096, 2097152)",
	  MET(page_bytes, VQB_CF_U64), NOOPT, .since = 2, .before = "" },
	{ "device_thread", VQB_CT_STRING, "", "how the device thread was started: eal-lcore or pthread (every queue's with --queues > 1); empty: inline",
	  MET(device_thread, VQB_CF_CHARS), NOOPT },
	{ "c2c_ns_before", VQB_CT_FLOAT, "ns", "driver-device core-to-core round trip before the run", MET(c2c_ns_before, VQB_CF_F64), NOOPT },
	{ "c2c_ns_after", VQB_CT_FLOAT, "ns", "the same after the run", MET(c2c_ns_after, VQB_CF_F64), NOOPT },
	{ "placement_changed", VQB_CT_BOOL, "", "1: the round trip moved by more than 1.5x during the repetition "
	  "(the vCPUs changed host placement; compare only neighbouring runs)", MET(placement_changed, VQB_CF_BOOL), NOOPT },
};
const size_t vqb_ncolumns = sizeof(vqb_columns) / sizeof(vqb_columns[0]);

static const char *const type_names[] = { "int", "float", "string", "bool" };

int vqb_csv_column(const char *name)
{
	for (size_t i = 0; i < vqb_ncolumns; i++)
		if (!strcmp(vqb_columns[i].name, name))
			return (int)i;
	return -1;
}

void vqb_csv_stamp(struct vqb_run_info *info)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(info->timestamp, sizeof(info->timestamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void vqb_metrics_clear(struct vqb_metrics *m)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < vqb_ncolumns; i++) {
		const struct vqb_column *c = &vqb_columns[i];
		if (c->src == VQB_SRC_MET && c->field == VQB_CF_F64) {
			double nan = NAN;
			memcpy((char *)m + c->off, &nan, sizeof(nan));
		}
	}
	m->driver_cpu = m->device_cpu = -1;
}

void vqb_csv_list_columns(FILE *f, int format)
{
	if (format == VQB_FORMAT_JSON) {
		vqb_json_list_columns(f);
	} else if (format == VQB_FORMAT_MARKDOWN) {
		fprintf(f, "| column | type | unit | description |\n| --- | --- | --- | --- |\n");
		for (size_t i = 0; i < vqb_ncolumns; i++)
			fprintf(f, "| `%s` | %s | %s | %s |\n", vqb_columns[i].name,
				type_names[vqb_columns[i].type], vqb_columns[i].unit, vqb_columns[i].desc);
	} else if (format == VQB_FORMAT_CSV) {
		fprintf(f, "column,type,unit,description\n");
		for (size_t i = 0; i < vqb_ncolumns; i++)
			fprintf(f, "%s,%s,\"%s\",\"%s\"\n", vqb_columns[i].name,
				type_names[vqb_columns[i].type], vqb_columns[i].unit, vqb_columns[i].desc);
	} else {
		fprintf(f, "CSV schema version %d: one row per measured repetition; an empty cell\n"
			"was not measured or does not apply; bool is 0 or 1.\n\n", VQB_CSV_SCHEMA_VERSION);
		fprintf(f, "%-24s %-7s %-13s %s\n", "column", "type", "unit", "description");
		for (size_t i = 0; i < vqb_ncolumns; i++)
			fprintf(f, "%-24s %-7s %-13s %s\n", vqb_columns[i].name,
				type_names[vqb_columns[i].type], vqb_columns[i].unit, vqb_columns[i].desc);
	}
}

/* ---- writer ---- */

struct vqb_csv {
	FILE *f;
	bool own;
	bool json;  /* JSON Lines (vqb_json.h): no header, one object a line */
	off_t good; /* own file: bytes of whole lines written (header + rows) */
	unsigned long rows;
	char path[4096];
};

static int open_default(struct vqb_csv *c, char *msg, size_t msglen)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];

	if (mkdir("results", 0777) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(msg, msglen, "cannot create the directory 'results' for the CSV: %s "
			 "(choose a file with --csv FILE)", strerror(e));
		return -e;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (int k = 1; k < 100; k++) {
		if (k == 1)
			snprintf(c->path, sizeof(c->path), "results/vqbench-%s.csv", stamp);
		else
			snprintf(c->path, sizeof(c->path), "results/vqbench-%s-%d.csv", stamp, k);
		c->f = fopen(c->path, "wx"); /* never overwrite an earlier result */
		if (c->f)
			return 0;
		if (errno != EEXIST)
			break;
	}
	int e = errno;
	snprintf(msg, msglen, "cannot write the CSV file '%s': %s (choose a file with --csv FILE)",
		 c->path, strerror(e));
	return -e;
}

static void put_string(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Write one whole line (the header or a row, built in memory) and flush
 * it. A file of ours is unbuffered, so a failed write (a full disk) leaves
 * nothing in stdio's buffer: the file is cut back to its last whole line,
 * and no reader ever sees half a row. */
static int put_line(struct vqb_csv *c, const char *buf, size_t len, char *msg, size_t msglen)
{
	errno = 0;
	if (fwrite(buf, 1, len, c->f) == len && fflush(c->f) == 0) {
		c->good += (off_t)len;
		return 0;
	}
	int e = errno ? errno : EIO;
	if (c->own && ftruncate(fileno(c->f), c->good) == 0)
		fseeko(c->f, c->good, SEEK_SET);
	clearerr(c->f);
	snprintf(msg, msglen, "cannot write the %s file '%s': %s", c->json ? "JSON" : "CSV", c->path,
		 strerror(e));
	return -e;
}

int vqb_csv_open(const char *path, struct vqb_csv **out, char *msg, size_t msglen)
{
	return vqb_sink_open(path, false, out, msg, msglen);
}

int vqb_sink_open(const char *path, bool json, struct vqb_csv **out, char *msg, size_t msglen)
{
	struct vqb_csv *c = calloc(1, sizeof(*c));
	int rc = 0;

	if (!c)
		return -ENOMEM;
	if (!path && json) {
		free(c);
		snprintf(msg, msglen, "--json: no file name (allowed: a writable file name, or - for stdout)");
		return -EINVAL;
	}
	c->json = json;
	if (!path) {
		rc = open_default(c, msg, msglen);
	} else if (!strcmp(path, "-")) {
		c->f = stdout;
		snprintf(c->path, sizeof(c->path), "-");
	} else {
		snprintf(c->path, sizeof(c->path), "%s", path);
		c->f = fopen(path, "w");
		if (!c->f) {
			rc = -errno;
			snprintf(msg, msglen, "--%s: cannot write '%s': %s (allowed: a writable file name, or - for stdout)",
				 json ? "json" : "csv", path, strerror(-rc));
		}
	}
	if (rc < 0) {
		free(c);
		return rc;
	}
	c->own = c->f != stdout;
	if (c->own)
		setvbuf(c->f, NULL, _IONBF, 0); /* each line goes out whole, see put_line */
	if (json) {
		*out = c; /* JSON Lines has no header */
		return 0;
	}
	char *hdr = NULL;
	size_t len = 0;
	FILE *ms = open_memstream(&hdr, &len);
	if (ms) {
		for (size_t i = 0; i < vqb_ncolumns; i++) {
			if (i)
				fputc(',', ms);
			fputs(vqb_columns[i].name, ms);
		}
		fputc('\n', ms);
	}
	if (!ms || fclose(ms) == EOF) {
		snprintf(msg, msglen, "cannot write the CSV file '%s': out of memory", c->path);
		rc = -ENOMEM;
	} else {
		rc = put_line(c, hdr, len, msg, msglen);
	}
	free(hdr);
	if (rc < 0) {
		/* a full disk, /dev/full: said before any run; a regular file
		 * we created holds nothing useful, so it goes */
		struct stat st;
		bool regular = c->own && fstat(fileno(c->f), &st) == 0 && S_ISREG(st.st_mode);
		if (regular)
			remove(c->path);
		vqb_csv_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

const char *vqb_csv_cell(const struct vqb_column *col, const struct vqb_run_info *info,
			 const struct vqb_config *cfg, const struct vqb_metrics *m, char *buf, size_t len)
{
	const char *base = col->src == VQB_SRC_INFO ? (const char *)info
			 : col->src == VQB_SRC_CFG ? (const char *)cfg : (const char *)m;
	const char *p = base + col->off;
	uint32_t u32;
	uint64_t u64;
	int32_t i32;
	int64_t i64;
	double d;
	bool b;

	buf[0] = '\0';
	switch (col->field) {
	case VQB_CF_SCHEMA:
		snprintf(buf, len, "%d", VQB_CSV_SCHEMA_VERSION);
		break;
	case VQB_CF_U32:
		memcpy(&u32, p, sizeof(u32));
		u64 = u32;
		goto unsigned_out;
	case VQB_CF_U64:
		memcpy(&u64, p, sizeof(u64));
unsigned_out:
		if (!(u64 == 0 && (col->flags & VQB_COL_EMPTY_ZERO)))
			snprintf(buf, len, "%" PRIu64, u64);
		break;
	case VQB_CF_I32:
		memcpy(&i32, p, sizeof(i32));
		i64 = i32;
		goto signed_out;
	case VQB_CF_I64:
		memcpy(&i64, p, sizeof(i64));
signed_out:
		if (!(i64 < 0 && (col->flags & VQB_COL_EMPTY_NEG)) &&
		    !(i64 == INT64_MIN && (col->flags & VQB_COL_EMPTY_MIN)) &&
		    !(i64 == 0 && (col->flags & VQB_COL_EMPTY_ZERO)))
			snprintf(buf, len, "%" PRId64, i64);
		break;
	case VQB_CF_F64:
		memcpy(&d, p, sizeof(d));
		/* NAN: not measured; an infinity (a rate over no packets) is no
		 * measurement either, and JSON has no spelling for it */
		if (isfinite(d) && !(d == 0 && (col->flags & VQB_COL_EMPTY_ZERO)))
			snprintf(buf, len, "%.9g", d);
		break;
	case VQB_CF_BOOL:
		memcpy(&b, p, sizeof(b));
		snprintf(buf, len, "%c", b ? '1' : '0');
		break;
	case VQB_CF_CHARS:
		snprintf(buf, len, "%.*s", (int)col->size, p);
		break;
	case VQB_CF_OPT:
		vqb_opt_format((enum vqb_opt_id)col->opt, cfg, buf, len);
		break;
	}
	return buf;
}

static void put_cell(FILE *f, const struct vqb_column *col, const struct vqb_run_info *info,
		     const struct vqb_config *cfg, const struct vqb_metrics *m)
{
	char buf[1024];

	vqb_csv_cell(col, info, cfg, m, buf, sizeof(buf));
	if (col->type == VQB_CT_STRING)
		put_string(f, buf);
	else
		fputs(buf, f);
}

int vqb_csv_write_row(struct vqb_csv *c, const struct vqb_run_info *info,
		      const struct vqb_config *cfg, const struct vqb_metrics *m,
		      char *msg, size_t msglen)
{
	char *row = NULL;
	size_t len = 0;
	FILE *ms = open_memstream(&row, &len);
	if (ms && c->json) {
		vqb_json_row(ms, info, cfg, m);
	} else if (ms) {
		for (size_t i = 0; i < vqb_ncolumns; i++) {
			if (i)
				fputc(',', ms);
			put_cell(ms, &vqb_columns[i], info, cfg, m);
		}
		fputc('\n', ms);
	}
	if (!ms || fclose(ms) == EOF) {
		free(row);
		snprintf(msg, msglen, "cannot write the %s file '%s': out of memory", c->json ? "JSON" : "CSV",
			 c->path);
		return -ENOMEM;
	}
	int rc = put_line(c, row, len, msg, msglen);
	free(row);
	if (rc < 0)
		return rc;
	c->rows++;
	return 0;
}

const char *vqb_csv_path(const struct vqb_csv *c)
{
	return c->path;
}

unsigned long vqb_csv_rows(const struct vqb_csv *c)
{
	return c->rows;
}

int vqb_csv_close(struct vqb_csv *c)
{
	int rc = 0;

	if (!c)
		return 0;
	if (c->own && fclose(c->f) == EOF)
		rc = -errno;
	else if (!c->own && fflush(c->f) == EOF)
		rc = -errno;
	free(c);
	return rc;
}
