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
 * SET_MEM_TABLE aside); every input is an exact-size allocation.
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
		uint8_t *buf = malloc(len);
		FUZZ_CHECK(buf, "out of memory");
		memcpy(buf, data + off, len);
		struct dev_vu_msg m;
		int rc = dev_vu_decode(buf, len, &m);
		if (rc == -EAGAIN) {
			FUZZ_CHECK(len < DEV_VU_HDR_BYTES || len < DEV_VU_HDR_BYTES + le32(buf + 8),
				   "-EAGAIN with %zu bytes for a payload of %u", len,
				   len >= 12 ? le32(buf + 8) : 0);
			free(buf);
			break;
		}
		if (rc < 0) {
			FUZZ_CHECK(rc == -EPROTO, "decode returned %d", rc);
			free(buf);
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
		free(buf);
		off += (size_t)rc;
	}
	return 0;
}
