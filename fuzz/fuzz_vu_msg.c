/* SPDX-License-Identifier: MIT */
/*
 * fuzz_vu_msg - the vhost-user wire decoder (dev_vu_decode), which parses
 * every reply a backend sends, on an arbitrary byte stream; what it
 * accepts is encoded again (dev_vu_encode) and must give back the same
 * bytes.
 *
 * Checked: a decode consumes 12..DEV_VU_MAX_MSG bytes of what it was given,
 * or says -EAGAIN (only when the buffer is shorter than the header or the
 * payload it announces) or -EPROTO; regions never exceed
 * DEV_VU_MAX_REGIONS; the round trip is byte-exact (the 4 padding bytes of
 * SET_MEM_TABLE aside). The decoder reads the input where it lies: libFuzzer
 * (and fuzz_replay.c) hand over an exact-size allocation, so every message
 * decoded ends where the input ends or before it and ASan sees a read past
 * the end (a copy per decode made a garbage input of N bytes cost N^2/2
 * bytes of copying while the decoder resynchronises one byte at a time).
 */
#include <errno.h>
#include <stdbool.h>

#include "dev_vhost_user.h"
#include "fuzz_util.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	while (off < size) {
		size_t len = size - off;
		const uint8_t *buf = data + off;
		struct dev_vu_msg m;
		int rc = dev_vu_decode(buf, len, &m);
		if (rc == -EAGAIN) {
			FUZZ_CHECK(len < DEV_VU_HDR_BYTES || len < DEV_VU_HDR_BYTES + le32(buf + 8),
				   "-EAGAIN with %zu bytes for a payload of %u", len,
				   len >= 12 ? le32(buf + 8) : 0);
			break;
		}
		if (rc < 0) {
			FUZZ_CHECK(rc == -EPROTO, "decode returned %d", rc);
			off += 1; /* resynchronise one byte on */
			continue;
		}
		FUZZ_CHECK(rc >= (int)DEV_VU_HDR_BYTES && (size_t)rc <= len && rc <= (int)DEV_VU_MAX_MSG &&
				   (uint32_t)rc == DEV_VU_HDR_BYTES + m.size,
			   "decode consumed %d of %zu bytes (size %u)", rc, len, m.size);
		if (m.request == DEV_VU_SET_MEM_TABLE && !(m.flags & DEV_VU_F_REPLY))
			FUZZ_CHECK(m.mem.nregions <= DEV_VU_MAX_REGIONS, "%u regions", m.mem.nregions);
		bool reply = m.flags & DEV_VU_F_REPLY;
		if (reply || dev_vu_payload_bytes(m.request, m.mem.nregions) >= 0) {
			uint8_t out[DEV_VU_MAX_MSG];
			int n = dev_vu_encode(&m, out, sizeof(out));
			FUZZ_CHECK(n == rc, "re-encoded %d bytes, decoded %d", n, rc);
			if (m.request == DEV_VU_SET_MEM_TABLE && !reply)
				memcpy(out + DEV_VU_HDR_BYTES + 4, buf + DEV_VU_HDR_BYTES + 4, 4); /* padding */
			FUZZ_CHECK(!memcmp(out, buf, (size_t)n), "request %u flags 0x%x: round trip differs",
				   m.request, m.flags);
		}
		char nb[32];
		FUZZ_CHECK(dev_vu_request_name(m.request, nb, sizeof(nb)) != NULL, "no request name");
		off += (size_t)rc;
	}
	return 0;
}
