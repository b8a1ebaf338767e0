/* SPDX-License-Identifier: MIT */
/*
 * test_dev_payload.c - the packet stream of dev_payload.h: the word-wise
 * fill and check (fast path for whole words, byte walk for the ends) agree
 * with the byte-by-byte definition for every piece [off, off+len) of a
 * stream, and check finds every corrupted, stale or shifted byte.
 */
#include <stdint.h>
#include <string.h>

#include "dev_payload.h"
#include "vqb_test.h"

#define STREAM 160 /* 12-byte header + 148 payload bytes: whole and partial words */

int main(void)
{
	uint8_t buf[STREAM + 16], ref[STREAM];
	const uint64_t seqs[] = {0, 1, 77, 0x123456789abcdefull, UINT64_MAX};

	for (size_t si = 0; si < sizeof(seqs) / sizeof(seqs[0]); si++) {
		uint64_t seq = seqs[si];
		for (size_t i = 0; i < STREAM; i++)
			ref[i] = dev_stream_byte(seq, i);
		/* the definition: header zero, word 0 is seq, word w = seq ^ w*K */
		CHECK(!memcmp(ref, (uint8_t[DEV_NET_HDR_BYTES]){0}, DEV_NET_HDR_BYTES), "header of seq %llu",
		      (unsigned long long)seq);
		uint64_t w0, w3;
		memcpy(&w0, ref + DEV_NET_HDR_BYTES, 8);
		memcpy(&w3, ref + DEV_NET_HDR_BYTES + 24, 8);
		CHECK(w0 == seq && w3 == (seq ^ 3 * DEV_PAYLOAD_K), "words 0 and 3 of seq %llu",
		      (unsigned long long)seq);
		unsigned long pieces = 0;
		for (size_t off = 0; off < STREAM; off++) {
			for (size_t len = 0; off + len <= STREAM; len++) {
				/* fill at an odd destination alignment too */
				uint8_t *dst = buf + (off & 7);
				memset(buf, 0xee, sizeof(buf));
				dev_stream_fill(dst, len, seq, off);
				if (memcmp(dst, ref + off, len) || (len < STREAM && dst[len] != 0xee)) {
					CHECK(0, "fill seq %llu off %zu len %zu differs from dev_stream_byte",
					      (unsigned long long)seq, off, len);
					continue;
				}
				CHECK(dev_stream_check(dst, len, seq, off) == 0, "check of a good piece off %zu len %zu",
				      off, len);
				pieces++;
				if (!len)
					continue;
				/* one flipped byte anywhere is one bad byte */
				size_t at = (off * 31 + len * 7) % len;
				dst[at] ^= 0x40;
				CHECK(dev_stream_check(dst, len, seq, off) == 1, "flip at %zu of off %zu len %zu: %zu bad",
				      at, off, len, dev_stream_check(dst, len, seq, off));
				dst[at] ^= 0x40;
			}
		}
		CHECK(pieces == (STREAM + 1) * STREAM / 2 + STREAM, "pieces checked %lu", pieces);
		/* a stale buffer (the previous packet) differs in every payload byte
		 * whose word changes; a shifted one is caught as well */
		dev_stream_fill(buf, STREAM, seq + 1, 0);
		size_t stale = dev_stream_check(buf, STREAM, seq, 0);
		CHECK(stale >= (STREAM - DEV_NET_HDR_BYTES) / 8, "stale buffer of seq %llu: %zu bad bytes",
		      (unsigned long long)seq, stale);
		dev_stream_fill(buf, STREAM, seq, 0);
		memmove(buf + DEV_NET_HDR_BYTES, buf + DEV_NET_HDR_BYTES + 8, STREAM - DEV_NET_HDR_BYTES - 8);
		CHECK(dev_stream_check(buf, STREAM - 8, seq, 0) >= STREAM - DEV_NET_HDR_BYTES - 8 - 8,
		      "buffer shifted by one word: %zu bad bytes", dev_stream_check(buf, STREAM - 8, seq, 0));
	}
	return t_done("test_dev_payload");
}
