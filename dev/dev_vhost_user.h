/* SPDX-License-Identifier: MIT */
/*
 * dev_vhost_user.h - the vhost-user protocol as vqbench's front end (the
 * driver side) speaks it: message numbers, feature bits, and the encoder and
 * decoder of the wire format, exposed so tests (and a fake backend in them)
 * can check them byte by byte.
 *
 * The device itself is opened with dev_open() and kind "vhost-user:PATH"
 * (dev.h), with dev_params.shm holding the memfd regions the rings and
 * buffers live in (dev_shm.h). What it does, in order: connect to PATH;
 * SET_OWNER; GET_FEATURES and check that the backend offers VERSION_1 and
 * every ring feature the queue configuration uses (RING_PACKED, IN_ORDER,
 * EVENT_IDX, INDIRECT_DESC), acking MRG_RXBUF, INDIRECT_DESC and
 * PROTOCOL_FEATURES when offered; GET/SET_PROTOCOL_FEATURES (REPLY_ACK, so every set-message is
 * acknowledged); SET_FEATURES; SET_MEM_TABLE (one region per memfd, guest
 * physical address = user address = this process's address); per vring (0 =
 * RX, 1 = TX, as virtio-net numbers them; a queue the run does not use gets
 * an empty ring): SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ADDR,
 * SET_VRING_KICK, SET_VRING_CALL (eventfds); SET_VRING_ENABLE.
 * Every wait for the backend is bounded (DEV_VU_TIMEOUT_MS); sends use
 * MSG_NOSIGNAL; a closed or reset connection is seen within a few thousand
 * polls and turns into an error naming the socket path.
 *
 * Wire format (little-endian, as the spec says): a 12-byte header (request,
 * flags, payload size: u32 each), then the payload; file descriptors travel
 * as SCM_RIGHTS ancillary data of the same sendmsg.
 * Return convention: 0/size or -errno; nothing sets errno.
 */
#ifndef DEV_VHOST_USER_H
#define DEV_VHOST_USER_H

#include <stddef.h>
#include <stdint.h>

enum dev_vu_request {
	DEV_VU_GET_FEATURES = 1,
	DEV_VU_SET_FEATURES = 2,
	DEV_VU_SET_OWNER = 3,
	DEV_VU_RESET_OWNER = 4,
	DEV_VU_SET_MEM_TABLE = 5,
	DEV_VU_SET_VRING_NUM = 8,
	DEV_VU_SET_VRING_ADDR = 9,
	DEV_VU_SET_VRING_BASE = 10,
	DEV_VU_GET_VRING_BASE = 11,
	DEV_VU_SET_VRING_KICK = 12,
	DEV_VU_SET_VRING_CALL = 13,
	DEV_VU_GET_PROTOCOL_FEATURES = 15,
	DEV_VU_SET_PROTOCOL_FEATURES = 16,
	DEV_VU_GET_QUEUE_NUM = 17,
	DEV_VU_SET_VRING_ENABLE = 18,
};

/* Header flags. */
#define DEV_VU_VERSION 0x1u
#define DEV_VU_F_REPLY 0x4u
#define DEV_VU_F_NEED_REPLY 0x8u

/* Virtio feature bits beyond those in vq.h. */
#define DEV_VU_F_MRG_RXBUF 15
#define DEV_VU_F_PROTOCOL_FEATURES 30
/* Protocol feature bits. */
#define DEV_VU_PF_MQ 0
#define DEV_VU_PF_REPLY_ACK 3

/* SET_VRING_KICK/CALL payload: bits 0-7 the vring, bit 8 "no fd". */
#define DEV_VU_VRING_NOFD (1u << 8)
/* Packed rings: SET_VRING_BASE carries the wrap counter in bit 15. */
#define DEV_VU_PACKED_WRAP (1u << 15)

#define DEV_VU_HDR_BYTES 12u
#define DEV_VU_MAX_REGIONS 8
#define DEV_VU_MAX_MSG (DEV_VU_HDR_BYTES + 8u + 32u * DEV_VU_MAX_REGIONS)
/* Longest wait for one reply or one send. */
#define DEV_VU_TIMEOUT_MS 5000
/* Pause after the set-up, before the first packet (see vu_open); the
 * environment variable VQB_VU_START_MS (0..DEV_VU_START_MS_MAX) replaces it. */
#define DEV_VU_SETTLE_MS 200
#define DEV_VU_START_MS_MAX 60000

/* virtio-net vring numbers. */
#define DEV_VU_RXQ 0
#define DEV_VU_TXQ 1

struct dev_vu_region {
	uint64_t gpa, size, uaddr, mmap_offset;
};

/* A decoded message. Which payload member is valid follows the request
 * (dev_vu_payload_bytes). */
struct dev_vu_msg {
	uint32_t request, flags, size;
	union {
		uint64_t u64;
		struct {
			uint32_t index, num;
		} state;
		struct {
			uint32_t index, flags;
			uint64_t desc, used, avail, log;
		} addr;
		struct {
			uint32_t nregions;
			struct dev_vu_region r[DEV_VU_MAX_REGIONS];
		} mem;
	};
};

/** Payload size of a front-end message for request (mem: of nregions
 * regions), or -EINVAL for a request this front end does not use. */
int dev_vu_payload_bytes(uint32_t request, uint32_t nregions);

/** Encode m (its request, flags and payload; size is computed) into buf.
 * @return bytes written, -EINVAL (unknown request, more than 8 regions),
 *         -ENOSPC (buf too small). */
int dev_vu_encode(const struct dev_vu_msg *m, uint8_t *buf, size_t len);

/** Decode one message from buf[0..len).
 * @return bytes consumed, -EAGAIN (incomplete: more bytes needed),
 *         -EPROTO (bad version, payload size that does not fit the
 *         request, more than 8 regions). A reply (DEV_VU_F_REPLY) carries
 *         a u64 or a vring state. */
int dev_vu_decode(const uint8_t *buf, size_t len, struct dev_vu_msg *m);

/** "SET_MEM_TABLE", ...; "request N" for others (static or in buf). */
const char *dev_vu_request_name(uint32_t request, char *buf, size_t len);
/** "RING_PACKED", ... for a virtio feature bit; NULL if unnamed. */
const char *dev_vu_feature_name(unsigned bit);

#endif
