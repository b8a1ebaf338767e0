/* SPDX-License-Identifier: MIT */
/*
 * dev_vhost_user.c - the vhost-user front end: the driver's rings and
 * buffers, in memfd regions (dev_shm.h), handed to a vhost-user backend
 * (DPDK's vhost library in dpdk-testpmd, or any other) over a UNIX socket.
 * The driver side of the rings is the traffic engine's, unchanged: this
 * device only sets the backend up, forwards kicks as eventfd writes, counts
 * the backend's calls, and watches the connection. See dev_vhost_user.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dev_pvt.h"
#include "dev_shm.h"
#include "dev_vhost_user.h"
#include "dev_vu_settle.h"

/* ---- wire format ---- */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int dev_vu_payload_bytes(uint32_t request, uint32_t nregions)
{
	switch (request) {
	case DEV_VU_GET_FEATURES:
	case DEV_VU_SET_OWNER:
	case DEV_VU_RESET_OWNER:
	case DEV_VU_GET_PROTOCOL_FEATURES:
	case DEV_VU_GET_QUEUE_NUM:
		return 0;
	case DEV_VU_SET_FEATURES:
	case DEV_VU_SET_PROTOCOL_FEATURES:
	case DEV_VU_SET_VRING_KICK:
	case DEV_VU_SET_VRING_CALL:
		return 8;
	case DEV_VU_SET_VRING_NUM:
	case DEV_VU_SET_VRING_BASE:
	case DEV_VU_GET_VRING_BASE:
	case DEV_VU_SET_VRING_ENABLE:
		return 8;
	case DEV_VU_SET_VRING_ADDR:
		return 40;
	case DEV_VU_SET_MEM_TABLE:
		return nregions <= DEV_VU_MAX_REGIONS ? (int)(8 + 32 * nregions) : -EINVAL;
	}
	return -EINVAL;
}

/* Which payload member a request (or its reply) carries. */
enum shape { SH_NONE, SH_U64, SH_STATE, SH_ADDR, SH_MEM };

static enum shape shape_of(uint32_t request, bool reply)
{
	switch (request) {
	case DEV_VU_GET_FEATURES:
	case DEV_VU_GET_PROTOCOL_FEATURES:
	case DEV_VU_GET_QUEUE_NUM:
		return reply ? SH_U64 : SH_NONE;
	case DEV_VU_SET_FEATURES:
	case DEV_VU_SET_PROTOCOL_FEATURES:
	case DEV_VU_SET_VRING_KICK:
	case DEV_VU_SET_VRING_CALL:
		return SH_U64;
	case DEV_VU_SET_VRING_NUM:
	case DEV_VU_SET_VRING_BASE:
	case DEV_VU_SET_VRING_ENABLE:
		return reply ? SH_U64 : SH_STATE;
	case DEV_VU_GET_VRING_BASE:
		return SH_STATE;
	case DEV_VU_SET_VRING_ADDR:
		return reply ? SH_U64 : SH_ADDR;
	case DEV_VU_SET_MEM_TABLE:
		return reply ? SH_U64 : SH_MEM;
	default:
		return reply ? SH_U64 : SH_NONE; /* REPLY_ACK to any set-message */
	}
}

int dev_vu_encode(const struct dev_vu_msg *m, uint8_t *buf, size_t len)
{
	bool reply = m->flags & DEV_VU_F_REPLY;
	int size = reply ? 8 : dev_vu_payload_bytes(m->request, m->mem.nregions); /* a reply: u64 or state */
	if (size < 0)
		return -EINVAL;
	if (len < DEV_VU_HDR_BYTES + (size_t)size)
		return -ENOSPC;
	put32(buf, m->request);
	put32(buf + 4, m->flags);
	put32(buf + 8, (uint32_t)size);
	uint8_t *p = buf + DEV_VU_HDR_BYTES;
	switch (shape_of(m->request, reply)) {
	case SH_NONE:
		break;
	case SH_U64:
		put64(p, m->u64);
		break;
	case SH_STATE:
		put32(p, m->state.index);
		put32(p + 4, m->state.num);
		break;
	case SH_ADDR:
		put32(p, m->addr.index);
		put32(p + 4, m->addr.flags);
		put64(p + 8, m->addr.desc);
		put64(p + 16, m->addr.used);
		put64(p + 24, m->addr.avail);
		put64(p + 32, m->addr.log);
		break;
	case SH_MEM:
		put32(p, m->mem.nregions);
		put32(p + 4, 0); /* padding */
		for (uint32_t i = 0; i < m->mem.nregions; i++) {
			uint8_t *r = p + 8 + 32 * i;
			put64(r, m->mem.r[i].gpa);
			put64(r + 8, m->mem.r[i].size);
			put64(r + 16, m->mem.r[i].uaddr);
			put64(r + 24, m->mem.r[i].mmap_offset);
		}
		break;
	}
	return (int)DEV_VU_HDR_BYTES + size;
}

int dev_vu_decode(const uint8_t *buf, size_t len, struct dev_vu_msg *m)
{
	if (len < DEV_VU_HDR_BYTES)
		return -EAGAIN;
	memset(m, 0, sizeof(*m));
	m->request = get32(buf);
	m->flags = get32(buf + 4);
	m->size = get32(buf + 8);
	if ((m->flags & 0x3u) != DEV_VU_VERSION || m->size > DEV_VU_MAX_MSG - DEV_VU_HDR_BYTES)
		return -EPROTO;
	if (len < DEV_VU_HDR_BYTES + m->size)
		return -EAGAIN;
	const uint8_t *p = buf + DEV_VU_HDR_BYTES;
	switch (shape_of(m->request, m->flags & DEV_VU_F_REPLY)) {
	case SH_NONE:
		if (m->size != 0)
			return -EPROTO;
		break;
	case SH_U64:
		if (m->size != 8)
			return -EPROTO;
		m->u64 = get64(p);
		break;
	case SH_STATE:
		if (m->size != 8)
			return -EPROTO;
		m->state.index = get32(p);
		m->state.num = get32(p + 4);
		break;
	case SH_ADDR:
		if (m->size != 40)
			return -EPROTO;
		m->addr.index = get32(p);
		m->addr.flags = get32(p + 4);
		m->addr.desc = get64(p + 8);
		m->addr.used = get64(p + 16);
		m->addr.avail = get64(p + 24);
		m->addr.log = get64(p + 32);
		break;
	case SH_MEM:
		if (m->size < 8)
			return -EPROTO;
		m->mem.nregions = get32(p);
		if (m->mem.nregions > DEV_VU_MAX_REGIONS || m->size != 8 + 32 * m->mem.nregions)
			return -EPROTO;
		for (uint32_t i = 0; i < m->mem.nregions; i++) {
			const uint8_t *r = p + 8 + 32 * i;
			m->mem.r[i] = (struct dev_vu_region){get64(r), get64(r + 8), get64(r + 16), get64(r + 24)};
		}
		break;
	}
	return (int)(DEV_VU_HDR_BYTES + m->size);
}

const char *dev_vu_request_name(uint32_t request, char *buf, size_t len)
{
	static const char *const names[] = {
		[DEV_VU_GET_FEATURES] = "GET_FEATURES", [DEV_VU_SET_FEATURES] = "SET_FEATURES",
		[DEV_VU_SET_OWNER] = "SET_OWNER", [DEV_VU_RESET_OWNER] = "RESET_OWNER",
		[DEV_VU_SET_MEM_TABLE] = "SET_MEM_TABLE", [DEV_VU_SET_VRING_NUM] = "SET_VRING_NUM",
		[DEV_VU_SET_VRING_ADDR] = "SET_VRING_ADDR", [DEV_VU_SET_VRING_BASE] = "SET_VRING_BASE",
		[DEV_VU_GET_VRING_BASE] = "GET_VRING_BASE", [DEV_VU_SET_VRING_KICK] = "SET_VRING_KICK",
		[DEV_VU_SET_VRING_CALL] = "SET_VRING_CALL",
		[DEV_VU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
		[DEV_VU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
		[DEV_VU_GET_QUEUE_NUM] = "GET_QUEUE_NUM", [DEV_VU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	};
	if (request < sizeof(names) / sizeof(names[0]) && names[request])
		return names[request];
	snprintf(buf, len, "request %u", request);
	return buf;
}

const char *dev_vu_feature_name(unsigned bit)
{
	switch (bit) {
	case DEV_VU_F_MRG_RXBUF: return "MRG_RXBUF";
	case VQ_F_INDIRECT_DESC: return "INDIRECT_DESC";
	case VQ_F_EVENT_IDX: return "EVENT_IDX";
	case DEV_VU_F_PROTOCOL_FEATURES: return "PROTOCOL_FEATURES";
	case VQ_F_VERSION_1: return "VERSION_1";
	case VQ_F_ACCESS_PLATFORM: return "ACCESS_PLATFORM";
	case VQ_F_RING_PACKED: return "RING_PACKED";
	case VQ_F_IN_ORDER: return "IN_ORDER";
	}
	return NULL;
}

/* ---- the device ---- */

struct vu {
	struct dev_params p;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int sock;
	int kickfd[2], callfd[2]; /* by vring: DEV_VU_RXQ, DEV_VU_TXQ */
	void *dummy[2];           /* empty ring for a queue the run does not use */
	uint64_t features;        /* acked */
	bool reply_ack;
	bool dead;
	uint32_t polls;
	uint64_t kicks, calls;
	bool settle;                      /* VQB_VU_SETTLE=1 (dev_vu_settle.h) */
	struct dev_vu_watch w[DEV_NQ];
	struct dev_vu_settle_stats sst;
	const char *error;
	char errbuf[360];
};

static int vring_of(enum dev_queue q) { return q == DEV_Q_TX ? DEV_VU_TXQ : DEV_VU_RXQ; }

__attribute__((format(printf, 3, 4))) static int vu_fail(struct vu *v, int rc, const char *fmt, ...)
{
	char what[220];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!v->error) {
		snprintf(v->errbuf, sizeof(v->errbuf), "vhost-user '%s': %s", v->path, what);
		v->error = v->errbuf;
	}
	return rc;
}

static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

static int closed(struct vu *v, const char *during)
{
	v->dead = true;
	return vu_fail(v, -EPIPE, "the backend closed the connection during %s (it exited or was killed)",
		       during);
}

/* Wait for ev on the socket until the deadline. @return 0, or -errno. */
static int wait_sock(struct vu *v, short ev, const struct timespec *deadline, const char *during)
{
	for (;;) {
		struct pollfd pf = {.fd = v->sock, .events = ev};
		int n = poll(&pf, 1, ms_left(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vu_fail(v, -errno, "poll during %s: %s", during, strerror(errno));
		if (n == 0) {
			v->dead = true;
			return vu_fail(v, -ETIMEDOUT, "no answer from the backend for %d ms during %s",
				       DEV_VU_TIMEOUT_MS, during);
		}
		if (pf.revents & ev)
			return 0;
		if (pf.revents & (POLLHUP | POLLERR | POLLNVAL))
			return closed(v, during);
	}
}

static void deadline_in(struct timespec *d, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, d);
	d->tv_sec += ms / 1000;
	d->tv_nsec += (long)(ms % 1000) * 1000000;
	if (d->tv_nsec >= 1000000000) {
		d->tv_sec++;
		d->tv_nsec -= 1000000000;
	}
}

static int send_msg(struct vu *v, const struct dev_vu_msg *m, const int *fds, unsigned nfds)
{
	uint8_t buf[DEV_VU_MAX_MSG];
	char nb[32];
	const char *name = dev_vu_request_name(m->request, nb, sizeof(nb));
	int len = dev_vu_encode(m, buf, sizeof(buf));
	if (len < 0)
		return vu_fail(v, len, "cannot encode %s", name);
	union {
		char b[CMSG_SPACE(sizeof(int) * DEV_VU_MAX_REGIONS)];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = {.iov_base = buf, .iov_len = (size_t)len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfds) {
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	struct timespec dl;
	deadline_in(&dl, DEV_VU_TIMEOUT_MS);
	int rc = wait_sock(v, POLLOUT, &dl, name);
	if (rc < 0)
		return rc;
	ssize_t n;
	do
		n = sendmsg(v->sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
		return closed(v, name);
	if (n < 0)
		return vu_fail(v, -errno, "sending %s: %s", name, strerror(errno));
	if (n != len)
		return vu_fail(v, -EIO, "sending %s: short write (%zd of %d bytes)", name, n, len);
	return 0;
}

static int recv_all(struct vu *v, uint8_t *buf, size_t len, const struct timespec *dl, const char *during)
{
	size_t got = 0;
	while (got < len) {
		int rc = wait_sock(v, POLLIN, dl, during);
		if (rc < 0)
			return rc;
		ssize_t n = recv(v->sock, buf + got, len - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0 && errno == ECONNRESET)
			return closed(v, during);
		if (n < 0)
			return vu_fail(v, -errno, "receiving the reply to %s: %s", during, strerror(errno));
		if (n == 0)
			return closed(v, during);
		got += (size_t)n;
	}
	return 0;
}

/* Receive the reply to `request`. */
static int recv_reply(struct vu *v, uint32_t request, struct dev_vu_msg *r)
{
	uint8_t buf[DEV_VU_MAX_MSG];
	char nb[32];
	const char *name = dev_vu_request_name(request, nb, sizeof(nb));
	struct timespec dl;
	deadline_in(&dl, DEV_VU_TIMEOUT_MS);
	int rc = recv_all(v, buf, DEV_VU_HDR_BYTES, &dl, name);
	if (rc < 0)
		return rc;
	uint32_t size = get32(buf + 8);
	if (size > DEV_VU_MAX_MSG - DEV_VU_HDR_BYTES)
		return vu_fail(v, -EPROTO, "reply to %s has a payload of %u bytes", name, size);
	if ((rc = recv_all(v, buf + DEV_VU_HDR_BYTES, size, &dl, name)) < 0)
		return rc;
	rc = dev_vu_decode(buf, DEV_VU_HDR_BYTES + size, r);
	if (rc < 0 || !(r->flags & DEV_VU_F_REPLY) || r->request != request)
		return vu_fail(v, -EPROTO, "malformed reply to %s (request %u, flags 0x%x, %u bytes)", name,
			       r->request, r->flags, size);
	return 0;
}

/* Send a set-message; with REPLY_ACK wait for the backend's verdict. */
static int set_msg(struct vu *v, struct dev_vu_msg *m, const int *fds, unsigned nfds)
{
	m->flags = DEV_VU_VERSION | (v->reply_ack ? DEV_VU_F_NEED_REPLY : 0);
	int rc = send_msg(v, m, fds, nfds);
	if (rc < 0 || !v->reply_ack)
		return rc;
	struct dev_vu_msg r;
	if ((rc = recv_reply(v, m->request, &r)) < 0)
		return rc;
	if (r.u64 != 0) {
		char nb[32];
		return vu_fail(v, -EREMOTEIO, "the backend refused %s (status %llu)",
			       dev_vu_request_name(m->request, nb, sizeof(nb)), (unsigned long long)r.u64);
	}
	return 0;
}

/* *out is written on every path (0 on failure), so callers never read an
 * uninitialised value whatever the error paths return. */
static int get_u64(struct vu *v, uint32_t request, uint64_t *out)
{
	struct dev_vu_msg m = {.request = request, .flags = DEV_VU_VERSION}, r;
	*out = 0;
	int rc = send_msg(v, &m, NULL, 0);
	if (rc == 0 && (rc = recv_reply(v, request, &r)) == 0)
		*out = r.u64;
	return rc;
}

static int connect_sock(struct vu *v)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, v->path, strlen(v->path) + 1);
	v->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (v->sock < 0)
		return vu_fail(v, -errno, "socket: %s", strerror(errno));
	if (connect(v->sock, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	int e = errno;
	if (e == ENOENT)
		return vu_fail(v, -ENOENT, "no such socket (is a backend running? scripts/vhost-backend.sh start %s)",
			       v->path);
	if (e == ECONNREFUSED)
		return vu_fail(v, -ECONNREFUSED, "connection refused: nothing listens on it (a stale socket?)");
	if (e == ENOTSOCK || e == EACCES)
		return vu_fail(v, -e, "cannot connect: %s", strerror(e));
	return vu_fail(v, -e, "connect: %s", strerror(e));
}

/* Features: VERSION_1 and every ring feature the queue configuration uses
 * are required; MRG_RXBUF, INDIRECT_DESC and PROTOCOL_FEATURES are taken
 * when offered, as DPDK's virtio PMD takes them (INDIRECT_DESC unused
 * unless the configuration uses tables: the same features as DPDK's driver
 * against the same backend, whatever the chain shape). */
static int negotiate(struct vu *v)
{
	uint64_t offered, need = v->p.cfg.features | VQ_FEATURE(VQ_F_VERSION_1);
	int rc = get_u64(v, DEV_VU_GET_FEATURES, &offered);
	if (rc < 0)
		return rc;
	for (unsigned b = 0; b < 64; b++) {
		if (!(need & VQ_FEATURE(b)) || (offered & VQ_FEATURE(b)))
			continue;
		const char *n = dev_vu_feature_name(b);
		return vu_fail(v, -ENOTSUP,
			       "the backend does not offer %s (feature bit %u), which this queue configuration needs "
			       "(offered 0x%llx)", n ? n : "a feature", b, (unsigned long long)offered);
	}
	v->features = need | (offered & (VQ_FEATURE(DEV_VU_F_MRG_RXBUF) | VQ_FEATURE(VQ_F_INDIRECT_DESC) |
					 VQ_FEATURE(DEV_VU_F_PROTOCOL_FEATURES)));
	if (v->features & VQ_FEATURE(DEV_VU_F_PROTOCOL_FEATURES)) {
		uint64_t pf;
		if ((rc = get_u64(v, DEV_VU_GET_PROTOCOL_FEATURES, &pf)) < 0)
			return rc;
		struct dev_vu_msg m = {.request = DEV_VU_SET_PROTOCOL_FEATURES,
				       .u64 = pf & (UINT64_C(1) << DEV_VU_PF_REPLY_ACK)};
		if ((rc = set_msg(v, &m, NULL, 0)) < 0)
			return rc;
		v->reply_ack = m.u64 != 0; /* from the next message on */
	}
	struct dev_vu_msg m = {.request = DEV_VU_SET_FEATURES, .u64 = v->features};
	return set_msg(v, &m, NULL, 0);
}

static int set_mem_table(struct vu *v)
{
	struct dev_shm_region reg[DEV_SHM_MAX_REGIONS];
	unsigned n = dev_shm_regions(v->p.shm, reg, DEV_SHM_MAX_REGIONS);
	struct dev_vu_msg m = {.request = DEV_VU_SET_MEM_TABLE};
	int fds[DEV_SHM_MAX_REGIONS];
	m.mem.nregions = n;
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = (uint64_t)(uintptr_t)reg[i].addr;
		m.mem.r[i] = (struct dev_vu_region){.gpa = a, .size = reg[i].len, .uaddr = a, .mmap_offset = 0};
		fds[i] = reg[i].fd;
	}
	return set_msg(v, &m, fds, n);
}

static int setup_vring(struct vu *v, int idx, void *ring)
{
	struct vq_areas a;
	vq_ring_layout(&v->p.cfg, &a);
	uint64_t base = (uint64_t)(uintptr_t)ring;
	bool packed = v->p.cfg.layout == VQ_LAYOUT_PACKED;
	struct dev_vu_msg m = {.request = DEV_VU_SET_VRING_NUM, .state = {(uint32_t)idx, v->p.cfg.size}};
	int rc = set_msg(v, &m, NULL, 0);
	if (rc < 0)
		return rc;
	m = (struct dev_vu_msg){.request = DEV_VU_SET_VRING_BASE,
				.state = {(uint32_t)idx, packed ? DEV_VU_PACKED_WRAP : 0}};
	if ((rc = set_msg(v, &m, NULL, 0)) < 0)
		return rc;
	m = (struct dev_vu_msg){.request = DEV_VU_SET_VRING_ADDR};
	m.addr.index = (uint32_t)idx;
	m.addr.desc = base + a.desc_off;
	m.addr.avail = base + a.driver_off; /* packed: driver event suppression */
	m.addr.used = base + a.device_off;  /* packed: device event suppression */
	if ((rc = set_msg(v, &m, NULL, 0)) < 0)
		return rc;
	m = (struct dev_vu_msg){.request = DEV_VU_SET_VRING_KICK, .u64 = (uint32_t)idx};
	if ((rc = set_msg(v, &m, &v->kickfd[idx], 1)) < 0)
		return rc;
	m = (struct dev_vu_msg){.request = DEV_VU_SET_VRING_CALL, .u64 = (uint32_t)idx};
	return set_msg(v, &m, &v->callfd[idx], 1);
}

static void vu_close(void *impl);

/* VQB_VU_SETTLE=1: the measurement mode of dev_vu_settle.h. */
static int settle_setup(struct vu *v)
{
	const char *e = getenv("VQB_VU_SETTLE");
	if (!e || !*e || !strcmp(e, "0"))
		return 0;
	if (strcmp(e, "1") != 0)
		return vu_fail(v, -EINVAL, "VQB_VU_SETTLE='%.40s' (allowed: 0 or 1)", e);
	for (int q = 0; q < DEV_NQ; q++) {
		int rc = dev_vu_watch_init(&v->w[q], &v->p.cfg, v->p.ring[q]);
		if (rc < 0)
			return vu_fail(v, rc, "VQB_VU_SETTLE=1: invalid queue configuration");
	}
	v->settle = true;
	return 0;
}

/* VQB_VU_START_MS: the pause after the set-up (default DEV_VU_SETTLE_MS). */
static int start_pause(struct vu *v, unsigned *ms)
{
	const char *e = getenv("VQB_VU_START_MS");
	*ms = DEV_VU_SETTLE_MS;
	if (!e || !*e)
		return 0;
	char *end;
	errno = 0;
	unsigned long n = strtoul(e, &end, 10);
	if (*e < '0' || *e > '9' || *end || errno || n > DEV_VU_START_MS_MAX)
		return vu_fail(v, -EINVAL, "VQB_VU_START_MS='%.40s' (allowed: 0..%u milliseconds)", e,
			       DEV_VU_START_MS_MAX);
	*ms = (unsigned)n;
	return 0;
}

static int vu_open(const struct dev_params *p, const char *arg, void **impl)
{
	struct vu *v = calloc(1, sizeof(*v));
	if (!v)
		return dev_set_last_error(-ENOMEM, "vhost-user '%s': out of memory", arg);
	v->p = *p;
	v->sock = -1;
	for (int i = 0; i < 2; i++)
		v->kickfd[i] = v->callfd[i] = -1;
	snprintf(v->path, sizeof(v->path), "%s", arg);
	int rc;
	if (!*arg || strlen(arg) >= sizeof(v->path)) {
		rc = vu_fail(v, -EINVAL, "needs a socket path of 1..%zu bytes (--device vhost-user:PATH)",
			     sizeof(v->path) - 1);
		goto bad;
	}
	if (!p->shm) {
		rc = vu_fail(v, -EINVAL, "the rings and buffers must be in shared memory (dev_params.shm)");
		goto bad;
	}
	struct vq_areas a;
	if ((rc = vq_ring_layout(&p->cfg, &a)) < 0) {
		rc = vu_fail(v, rc, "invalid queue configuration");
		goto bad;
	}
	unsigned start_ms;
	if ((rc = settle_setup(v)) < 0 || (rc = start_pause(v, &start_ms)) < 0)
		goto bad;
	/* virtio-net's first queue pair must be complete for the backend to
	 * start: a queue this run does not use gets an empty ring */
	for (int q = 0; q < DEV_NQ; q++)
		if (!p->ring[q] && !(v->dummy[vring_of((enum dev_queue)q)] = dev_shm_alloc(p->shm, a.total))) {
			rc = vu_fail(v, -ENOMEM, "%s", dev_shm_error(p->shm));
			goto bad;
		}
	for (int i = 0; i < 2; i++) {
		v->kickfd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		v->callfd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (v->kickfd[i] < 0 || v->callfd[i] < 0) {
			rc = vu_fail(v, -errno, "eventfd: %s", strerror(errno));
			goto bad;
		}
	}
	struct dev_vu_msg m = {.request = DEV_VU_SET_OWNER};
	if ((rc = connect_sock(v)) < 0 || (rc = set_msg(v, &m, NULL, 0)) < 0 || (rc = negotiate(v)) < 0 ||
	    (rc = set_mem_table(v)) < 0)
		goto bad;
	for (int q = 0; q < DEV_NQ; q++) {
		int idx = vring_of((enum dev_queue)q);
		if ((rc = setup_vring(v, idx, p->ring[q] ? p->ring[q] : v->dummy[idx])) < 0)
			goto bad;
	}
	if (v->features & VQ_FEATURE(DEV_VU_F_PROTOCOL_FEATURES))
		for (int idx = 0; idx < 2; idx++) {
			m = (struct dev_vu_msg){.request = DEV_VU_SET_VRING_ENABLE, .state = {(uint32_t)idx, 1}};
			if ((rc = set_msg(v, &m, NULL, 0)) < 0)
				goto bad;
		}
	/* A backend may attach its queues after it acked the last message
	 * (DPDK's vhost PMD allows dequeue a moment before enqueue on a
	 * backend that already forwards): pause before the first packet. */
	if (start_ms)
		nanosleep(&(struct timespec){start_ms / 1000, (long)(start_ms % 1000) * 1000000L}, NULL);
	*impl = v;
	return 0;
bad:
	dev_set_last_error(rc, "%s", v->error ? v->error : "vhost-user: setup failed");
	v->dead = true; /* no GET_VRING_BASE on a half-set-up device */
	vu_close(v);
	return rc;
}

static int vu_start(void *impl)
{
	struct vu *v = impl;
	return v->dead ? -EIO : 0;
}

static void drain_calls(struct vu *v)
{
	for (int i = 0; i < 2; i++) {
		uint64_t n;
		if (v->callfd[i] >= 0 && read(v->callfd[i], &n, sizeof(n)) == (ssize_t)sizeof(n))
			v->calls += n;
	}
}

static void vu_stop(void *impl) { drain_calls(impl); }

/* The backend polls the rings by itself; here the connection is watched:
 * every 1024th call looks at the socket without blocking. */
static int vu_poll(void *impl)
{
	struct vu *v = impl;
	if (v->dead)
		return -EIO;
	if (v->settle)
		dev_vu_settle(v->w, DEV_NQ, &v->sst);
	if ((++v->polls & 1023) != 0)
		return 0;
	struct pollfd pf = {.fd = v->sock, .events = POLLIN | POLLRDHUP};
	if (poll(&pf, 1, 0) <= 0)
		return 0;
	if (pf.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL))
		return closed(v, "the run"), -EIO;
	uint8_t b;
	ssize_t n = recv(v->sock, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0)
		return closed(v, "the run"), -EIO;
	if (n > 0) {
		v->dead = true;
		return vu_fail(v, -EPROTO, "the backend sent an unexpected message during the run"), -EIO;
	}
	return 0;
}

static void vu_kick(void *impl, enum dev_queue q)
{
	struct vu *v = impl;
	uint64_t one = 1;
	/* EAGAIN: the counter is saturated, the backend has a kick pending */
	if (write(v->kickfd[vring_of(q)], &one, sizeof(one)) == (ssize_t)sizeof(one))
		v->kicks++;
}

static void vu_close(void *impl)
{
	struct vu *v = impl;
	if (!v)
		return;
	if (v->sock >= 0 && !v->dead) {
		/* stop the rings before the memory goes: GET_VRING_BASE makes the
		 * backend stop using a vring and answer with its last index */
		for (int idx = 0; idx < 2 && !v->dead; idx++) {
			struct dev_vu_msg m = {.request = DEV_VU_GET_VRING_BASE, .flags = DEV_VU_VERSION,
					       .state = {(uint32_t)idx, 0}}, r;
			if (send_msg(v, &m, NULL, 0) == 0)
				recv_reply(v, DEV_VU_GET_VRING_BASE, &r);
		}
	}
	if (v->sock >= 0)
		close(v->sock);
	if (v->settle)
		fprintf(stderr, "vhost-user '%s': VQB_VU_SETTLE=1: %u polls, %llu waited for the backend, "
			"%llu of them ended by a still ring (%u us)\n", v->path, v->polls,
			(unsigned long long)v->sst.waits, (unsigned long long)v->sst.quiet, DEV_VU_SETTLE_QUIET_US);
	for (int i = 0; i < 2; i++) {
		if (v->kickfd[i] >= 0)
			close(v->kickfd[i]);
		if (v->callfd[i] >= 0)
			close(v->callfd[i]);
		dev_shm_free(v->p.shm, v->dummy[i]);
	}
	free(v);
}

static void vu_counters(const void *impl, struct dev_counters *c)
{
	const struct vu *v = impl;
	memset(c, 0, sizeof(*c));
	c->kicks = v->kicks;
	c->calls = v->calls;
}

static const char *vu_error(const void *impl) { return ((const struct vu *)impl)->error; }

static uint16_t vu_rx_num_buffers(const void *impl)
{
	const struct vu *v = impl;
	return v->features & VQ_FEATURE(DEV_VU_F_MRG_RXBUF) ? 1 : 0;
}

const struct dev_ext_ops dev_vhost_user_ops = {
	.prefix = "vhost-user:",
	.open = vu_open,
	.start = vu_start,
	.stop = vu_stop,
	.poll = vu_poll,
	.kick = vu_kick,
	.close = vu_close,
	.counters = vu_counters,
	.error = vu_error,
	.rx_num_buffers = vu_rx_num_buffers,
};
