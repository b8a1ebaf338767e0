/* SPDX-License-Identifier: MIT */
/*
 * vqb.h - the bench/ pipeline's shared types:
 *
 *   options (vqb_opts.c) -> plan: a list of vqb_config, the cartesian product
 *   of every list-valued option (vqb_plan.c) -> run: one configuration x one
 *   repetition (vqb_run.c) -> a vqb_row -> sinks: terminal table
 *   (vqb_report.c) and CSV (vqb_csv.c, schema in one column table).
 */
#ifndef VQB_H
#define VQB_H

#include <stdbool.h>
#include <stdint.h>

/* --layout: the two virtqueue layouts, plus DPDK's rte_ring as a ceiling. */
enum vqb_layout { VQB_LAYOUT_SPLIT, VQB_LAYOUT_PACKED, VQB_LAYOUT_RTE_RING };
/* --descs: fixed N, uniform range A-B, or the documented realistic mix. */
enum vqb_descs_kind { VQB_DESCS_FIXED, VQB_DESCS_RANGE, VQB_DESCS_MIX };
enum vqb_dir { VQB_DIR_TX, VQB_DIR_RX, VQB_DIR_BOTH };
enum vqb_device { VQB_DEV_THREAD, VQB_DEV_INLINE, VQB_DEV_VHOST_USER, VQB_DEV_VFIO };
/* --device vhost-user:PATH: the socket path (a UNIX socket's sun_path). */
#define VQB_DEV_PATH_MAX 108

#define VQB_NAME_MAX 24

/* --queues: queue pairs per configuration, each with its own rings,
 * tracking, buffers, DMA backend and device; --cores lists at most one
 * driver and one device CPU per queue. */
#define VQB_QUEUES_MAX 64
#define VQB_CPUS_MAX (2 * VQB_QUEUES_MAX)

/* One point of a sweep: every option with exactly one value. */
struct vqb_config {
	enum vqb_layout layout;
	uint32_t queue_size;
	enum vqb_descs_kind descs_kind;
	uint32_t descs_lo, descs_hi; /* FIXED: lo == hi */
	uint32_t pkt_bytes;          /* bytes per packet, spread over the descriptors */
	bool indirect, in_order, event_idx;
	uint32_t batch;              /* chains added per publish / completions per poll */
	enum vqb_dir dir;
	char policy[VQB_NAME_MAX];   /* vq_track policy name */
	char dma[VQB_NAME_MAX];      /* dma backend name */
	enum vqb_device device;
	char dev_path[VQB_DEV_PATH_MAX]; /* vhost-user: the backend's socket */
	uint32_t queues;             /* queue pairs, each on its own driver thread */
	uint64_t packets;            /* per repetition; 0 = use seconds */
	double seconds;              /* per repetition when packets == 0 */
	uint32_t warmup;             /* warmup repetitions, shown and discarded */
	uint32_t reps;               /* measured repetitions */
	/* --cores: the CPUs in order of use (thread device: queue i's driver
	 * on cores[2i], its device on cores[2i+1]; inline: queue i on
	 * cores[i]); ncores == 0: let hwloc choose */
	int16_t cores[VQB_CPUS_MAX];
	uint16_t ncores;
	int mem_node;                /* NUMA node for ring + buffers; -1 = local */
	bool unsafe_skip;
	char skip_rule[VQB_NAME_MAX]; /* upstream, rfc, never */
	char indirect_extra[VQB_NAME_MAX]; /* upstream, linux-6.1 (vq_track.h: enum vq_ind_extra) */
	uint32_t dma_mask;           /* direct backends: DMA mask bits; 64 = no limit */
	uint32_t dma_align;          /* direct backends: bounce buffers less aligned; 1 = none */
	bool force_bounce;           /* direct backends: bounce every mapping */
	int iommu_mode;              /* iommu: 0 strict, 1 lazy, 2 passthrough, 3 untrusted */
	bool nc_model;               /* noncoherent: device view kept apart (stale data visible) */
	bool late_writes;            /* software device: a write to each RX buffer after completion */
	int pages;                   /* ring and buffer pages: 0 2 MiB hugepages, 1 4 KiB */
	uint32_t index;              /* position in the plan (0-based) */
};

/* Metrics of one repetition. A double that was not measured is NAN and is
 * written as an empty CSV cell (never 0); see vqb_isset(). */
struct vqb_metrics {
	uint32_t rep;          /* 0-based repetition number */
	bool warmup;           /* a warmup repetition (not in CSV, not in stats) */
	uint64_t packets;      /* completed and verified */
	uint64_t errors;       /* payload mismatches, lost packets */
	double seconds;
	double mpps;           /* aggregate: all queues' packets / common elapsed */
	double queue_mpps_min, queue_mpps_max; /* over the queues */
	char queue_mpps[VQB_QUEUES_MAX * 12]; /* per queue, joined by ';' */
	double gbps;           /* payload Gbit/s */
	double ns_per_pkt;
	double cycles_per_pkt; /* TSC cycles */
	double maps_per_pkt, unmaps_per_pkt, syncs_per_pkt;
	double bytes_copied_per_pkt;
	double links_per_pkt, unlinks_per_pkt; /* IOVA API: dma_iova_link / dma_iova_unlink calls */
	char iova_api[200];    /* policy iova: "iova", or "fallback: <why>"; "" other policies */
	double bounced_per_pkt;             /* mappings through a bounce slot */
	double iotlb_flushes_per_pkt;       /* iommu: IOTLB flush operations */
	double iotlb_timer_flushes_per_pkt; /* iommu lazy: of those, the queue timer's */
	double iova_allocs_per_pkt, iova_frees_per_pkt; /* iommu: IOVA ranges */
	double kicks_per_pkt;  /* driver -> device notifications */
	double calls_per_pkt;  /* device -> driver notifications */
	uint64_t tracking_bytes;  /* policy records + per-chain policy state */
	uint64_t footprint_bytes; /* everything: ring, driver state, tracking, indirect, dma, pool */
	double bytes_per_inflight; /* footprint / queue size */
	uint64_t rss_bytes;        /* resident set after the run; 0: not measured */
	int64_t rss_delta_bytes;   /* resident set growth during setup + run; INT64_MIN: not measured */
	/* hardware counters per packet: NAN where perf_event_open cannot count */
	double hw_cycles, hw_instructions, hw_l1d_misses, hw_llc_misses, hw_dtlb_misses;
	/* callgrind-simulated counts per packet: always NAN in vqbench itself;
	 * scripts/callgrind-counts.py fills the CSV cells */
	double cg_instructions, cg_d1_misses, cg_ll_misses;
	/* unsafe-skip consequences (0 unless the policy skipped unmaps) */
	uint64_t lost_bytes;       /* received bytes that never reached the buffer */
	uint64_t leaked_mappings;  /* live mappings at teardown */
	uint64_t stale_hits;       /* device used a stale IOTLB entry */
	uint64_t unmaintained_lines; /* noncoherent: lines whose invalidate a skipped unmap left undone */
	uint64_t late_writes_landed;  /* device writes after completion that reached memory the CPU owned again */
	uint64_t late_writes_blocked; /* device writes after completion an IOMMU refused */
	uint64_t late_writes_remapped; /* device writes after completion that reached another buffer (IOVA reused) */
	/* outcome: "ok", "failed" or "exhausted" (a DMA resource ran out:
	 * packets are the packets until then); the row keeps what was measured */
	char status[12];
	char error[480]; /* why it failed or what ran out; "" when ok */
	/* placement and memory */
	int driver_cpu, device_cpu; /* queue 0's */
	bool cpus_shared;       /* two of the run's threads shared a CPU (inline, more queues than CPUs) */
	char memory[24];        /* "hugepages+mempool" or "4k-pages" */
	uint64_t page_bytes;    /* bytes per page backing the buffers */
	char device_thread[16]; /* "eal-lcore", "pthread"; "" inline */
	double c2c_ns_before, c2c_ns_after; /* core-to-core round trip */
	bool placement_changed; /* the round trip moved by more than 1.5x during the repetition */
};

/* One CSV row = the configuration + its metrics. */
struct vqb_row {
	const struct vqb_config *cfg;
	const struct vqb_metrics *m;
};

static inline bool vqb_isset(double v) { return v == v; }

const char *vqb_layout_name(enum vqb_layout l);
const char *vqb_dir_name(enum vqb_dir d);
const char *vqb_device_name(enum vqb_device d);

#endif
