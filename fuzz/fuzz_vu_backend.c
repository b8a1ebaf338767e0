/* SPDX-License-Identifier: MIT */
/*
 * fuzz_vu_backend - the vhost-user front end (dev_open "vhost-user:PATH",
 * the whole set-up: SET_OWNER, feature and protocol-feature negotiation,
 * SET_MEM_TABLE, the vrings) against a hostile backend: a thread on a UNIX
 * socket that answers with the input's bytes, whatever is asked, then
 * hangs up.
 *
 * Input: one byte of ring configuration (layout, IN_ORDER, EVENT_IDX), then
 * the byte stream the backend sends.
 * Checked: dev_open either succeeds or fails with a documented error whose
 * message names the socket path; it returns well within the libFuzzer
 * timeout (the hang-up is noticed, no 5 s wait); no file descriptor is
 * leaked either way (eventfds, the socket); the front end's messages read
 * back by the backend are well-formed (dev_vu_decode accepts each).
 *
 * A set-up that succeeds ends with DEV_VU_SETTLE_MS of sleep, for a real
 * backend's queues to attach before the first packet. This backend has no
 * queues, and 200 ms per accepted input held the harness to ~50 inputs/s:
 * the harness defines nanosleep, which the front end's static library binds
 * to, and a sleep of exactly that length returns at once (counted: an
 * accepted set-up must have reached it). Nothing else on the
 * path under test sleeps (the reply wait is a poll on the socket).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dev.h"
#include "dev_shm.h"
#include "dev_vhost_user.h"
#include "fuzz_util.h"

static int lsock = -1;
static unsigned long settles; /* set-ups that reached the settle sleep */

/* Any other sleep (libFuzzer's RSS watch thread sleeps 1 s at a time)
 * goes to clock_nanosleep, as nanosleep would. */
int nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (req && req->tv_sec == 0 && req->tv_nsec == DEV_VU_SETTLE_MS * 1000000L) {
		if (rem)
			*rem = (struct timespec){ 0, 0 };
		settles++;
		return 0;
	}
	int rc = clock_nanosleep(CLOCK_REALTIME, 0, req, rem);
	if (rc) {
		errno = rc;
		return -1;
	}
	return 0;
}

static char dir[80]; /* $TMPDIR/vqb-fuzz-vu-XXXXXX */
static char path[108];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

struct backend {
	const uint8_t *data;
	size_t len;
	unsigned bad_msgs; /* front-end messages the decoder refused */
};

static void *backend(void *arg)
{
	struct backend *b = arg;
	int s = accept(lsock, NULL, NULL);
	if (s < 0)
		return NULL;
	size_t off = 0;
	while (off < b->len) {
		ssize_t n = send(s, b->data + off, b->len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(s, SHUT_WR);
	/* read what the front end sends until it closes; close the fds it
	 * passes (memfds, eventfds) */
	uint8_t buf[8192];
	size_t have = 0;
	for (;;) {
		union {
			char b[CMSG_SPACE(sizeof(int) * 16)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { buf + have, sizeof(buf) - have };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
				     .msg_controllen = sizeof(ctl.b) };
		ssize_t n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			break;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				for (size_t k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
					int fd;
					memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
					close(fd);
				}
		have += (size_t)n;
		for (;;) {
			struct dev_vu_msg m;
			int rc = dev_vu_decode(buf, have, &m);
			if (rc == -EAGAIN)
				break;
			if (rc < 0) {
				b->bad_msgs++;
				have = 0;
				break;
			}
			memmove(buf, buf + rc, have - (size_t)rc);
			have -= (size_t)rc;
		}
		if (have == sizeof(buf))
			have = 0;
	}
	close(s);
	return NULL;
}

static unsigned count_fds(void)
{
	unsigned n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (lsock < 0) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/vqb-fuzz-vu-XXXXXX", tmp && *tmp && strlen(tmp) < 40 ? tmp : P_tmpdir);
		FUZZ_CHECK(mkdtemp(dir), "mkdtemp in %s", dir);
		snprintf(path, sizeof(path), "%s/sock", dir);
		atexit(cleanup);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		memcpy(sa.sun_path, path, strlen(path) + 1);
		lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		FUZZ_CHECK(lsock >= 0 && bind(lsock, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lsock, 4) == 0,
			   "cannot listen on %s", path);
	}
	struct fz f = { data, size };
	uint8_t fl = fz_u8(&f);
	bool packed = fl & 1;
	struct vq_config cfg = {
		.layout = packed ? VQ_LAYOUT_PACKED : VQ_LAYOUT_SPLIT,
		.size = 64,
		.features = VQ_FEATURE(VQ_F_VERSION_1) | (packed ? VQ_FEATURE(VQ_F_RING_PACKED) : 0) |
			    (fl & 2 ? VQ_FEATURE(VQ_F_IN_ORDER) : 0) | (fl & 4 ? VQ_FEATURE(VQ_F_EVENT_IDX) : 0),
	};
	unsigned fds0 = count_fds();
	struct dev_shm *shm;
	FUZZ_CHECK(dev_shm_create(&shm) == 0, "dev_shm_create");
	struct vq_areas a;
	vq_ring_layout(&cfg, &a);
	void *ring = dev_shm_alloc(shm, a.total);
	FUZZ_CHECK(ring, "dev_shm_alloc: %s", dev_shm_error(shm));
	struct dma *d;
	FUZZ_CHECK(dma_open("identity", NULL, &d) == 0, "dma_open");
	char kind[160];
	snprintf(kind, sizeof(kind), "vhost-user:%s", path);
	struct dev_params p = { .kind = kind, .cfg = cfg, .dma = d, .cpu = -1, .rx_payload_bytes = 64, .shm = shm };
	p.ring[DEV_Q_TX] = ring;
	struct backend b = { f.p, f.n, 0 };
	pthread_t th;
	FUZZ_CHECK(pthread_create(&th, NULL, backend, &b) == 0, "pthread_create");
	struct dev *dev = NULL;
	unsigned long settles0 = settles;
	int rc = dev_open(&p, &dev);
	if (rc == 0) {
		FUZZ_CHECK(settles == settles0 + 1, "an accepted set-up that did not settle");
		dev_close(dev);
	} else {
		FUZZ_CHECK(rc == -EPIPE || rc == -EPROTO || rc == -ENOTSUP || rc == -EREMOTEIO || rc == -ECONNRESET ||
				   rc == -EIO,
			   "dev_open returned %d: %s", rc, dev_last_error());
		FUZZ_CHECK(strstr(dev_last_error(), path), "the error does not name the socket: %s", dev_last_error());
	}
	pthread_join(th, NULL);
	FUZZ_CHECK(b.bad_msgs == 0, "the front end sent %u malformed messages", b.bad_msgs);
	dma_close(d);
	dev_shm_free(shm, ring);
	dev_shm_destroy(shm);
	unsigned fds1 = count_fds();
	FUZZ_CHECK(fds1 == fds0, "%u file descriptors before, %u after (rc %d)", fds0, fds1, rc);
	return 0;
}
