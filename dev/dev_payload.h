/* SPDX-License-Identifier: MIT */
/*
 * dev_payload.h - the packet format the software device and the benchmark
 * agree on, so every packet can be verified end to end.
 *
 * A packet is a byte stream: 12 bytes of virtio_net_hdr_v1 (zero), then
 * the payload as little-endian 64-bit words: word 0 is seq, word w a hash
 * of (seq, w) (dev_payload_word), so a stale, shifted or foreign buffer
 * never passes. The stream may be scattered over any number of
 * buffers: fill and check take the offset of the piece in the stream.
 */
#ifndef DEV_PAYLOAD_H
#define DEV_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DEV_NET_HDR_BYTES 12u

#define DEV_PAYLOAD_K 0x9e3779b97f4a7c15ull /* odd: w * K differs for every w */

/* Payload word w of packet seq (payload bytes 8w..8w+7, little-endian):
 * seq ^ w * K, so word 0 is seq itself, a buffer of another packet
 * differs in every word and a shifted one in every word it shifts. Cheap
 * on purpose: the fill loop below is one xor, one add and one store per
 * two words, so the workload does not hide the ring (a DPDK generator writes
 * its headers at about that cost). */
static inline uint64_t dev_payload_word(uint64_t seq, size_t w)
{
	return seq ^ ((uint64_t)w * DEV_PAYLOAD_K);
}

/* Two payload words at a time (GCC/Clang vector extension: SSE2 on
 * x86-64): the fill is one xor, one store and one add per 16 bytes, the
 * check ors the differences of a whole piece and counts bytes only when
 * something differs (dev_stream_count_bad). */
typedef uint64_t dev_u64x2 __attribute__((vector_size(16)));
static const dev_u64x2 dev_k2 = {2 * DEV_PAYLOAD_K, 2 * DEV_PAYLOAD_K};

/* Byte at stream offset off of packet seq (header bytes are zero). */
static inline uint8_t dev_stream_byte(uint64_t seq, size_t off)
{
	if (off < DEV_NET_HDR_BYTES)
		return 0;
	size_t i = off - DEV_NET_HDR_BYTES;
	return (uint8_t)(dev_payload_word(seq, i >> 3) >> (8 * (i & 7)));
}

/* Produce the piece [off, off+len) of packet seq's stream into out, word
 * by word, calling emit(out, src, n) for each run of bytes. */
#define DEV_STREAM_WALK(len, seq, off, emit)                                       \
	do {                                                                       \
		size_t k_ = 0;                                                     \
		static const uint8_t zero_[DEV_NET_HDR_BYTES];                     \
		if ((off) < DEV_NET_HDR_BYTES) {                                   \
			size_t z_ = DEV_NET_HDR_BYTES - (off);                     \
			if (z_ > (len))                                            \
				z_ = (len);                                        \
			emit(0, zero_, z_);                                        \
			k_ = z_;                                                   \
		}                                                                  \
		while (k_ < (len)) {                                               \
			size_t i_ = (off) + k_ - DEV_NET_HDR_BYTES, b_ = i_ & 7;   \
			size_t n_ = 8 - b_ < (len) - k_ ? 8 - b_ : (len) - k_;     \
			uint64_t w_ = dev_payload_word((seq), i_ >> 3);            \
			uint8_t t_[8];                                             \
			memcpy(t_, &w_, 8);                                        \
			emit(k_, t_ + b_, n_);                                     \
			k_ += n_;                                                  \
		}                                                                  \
	} while (0)

/* Where the whole-word fast path of a piece [off, off+len) starts: the
 * stream offset of the first payload word boundary at or after off when
 * off is 0 (the header is handled as one block) or already on a word
 * boundary; otherwise the byte walk handles the whole piece. */
static inline int dev_stream_word_aligned(size_t off)
{
	return off == 0 || (off >= DEV_NET_HDR_BYTES && ((off - DEV_NET_HDR_BYTES) & 7) == 0);
}

/* The byte walk behind dev_stream_fill, for a piece that starts inside a
 * payload word (out of line: the benchmark's pieces start on a word). */
static __attribute__((noinline, unused)) void
dev_stream_fill_bytes(uint8_t *dst, size_t len, uint64_t seq, size_t off)
{
#define DEV_FILL_(at, src, n) memcpy(dst + (at), (src), (n))
	DEV_STREAM_WALK(len, seq, off, DEV_FILL_);
#undef DEV_FILL_
}

/** Fill len bytes of packet seq's stream starting at stream offset off.
 * Whole payload words are stored 16 bytes at a time, a partial last word
 * as bytes; a piece that starts inside a word goes through the byte walk. */
static inline void dev_stream_fill(uint8_t *dst, size_t len, uint64_t seq, size_t off)
{
	if (!dev_stream_word_aligned(off) || (off == 0 && len < DEV_NET_HDR_BYTES)) {
		dev_stream_fill_bytes(dst, len, seq, off);
		return;
	}
	if (off == 0) {
		memset(dst, 0, DEV_NET_HDR_BYTES);
		dst += DEV_NET_HDR_BYTES;
		len -= DEV_NET_HDR_BYTES;
		off = DEV_NET_HDR_BYTES;
	}
	uint64_t wk = (uint64_t)((off - DEV_NET_HDR_BYTES) >> 3) * DEV_PAYLOAD_K;
	const uint8_t *end2 = dst + (len & ~(size_t)15);
	dev_u64x2 s2 = {seq, seq}, w2 = {wk, wk + DEV_PAYLOAD_K};
	for (; dst != end2; dst += 16, w2 += dev_k2) {
		dev_u64x2 v = s2 ^ w2;
		memcpy(dst, &v, 16);
	}
	uint64_t v = seq ^ w2[0];
	len &= 15;
	if (len >= 8) {
		memcpy(dst, &v, 8);
		dst += 8;
		len -= 8;
		v = seq ^ w2[1];
	}
	if (len)
		memcpy(dst, &v, len);
}

/* The exact count behind dev_stream_check: every byte of the piece that
 * differs from the stream. Out of line: it runs only when the fast path
 * found a difference (or could not take the piece). */
static __attribute__((noinline, cold, unused)) size_t
dev_stream_count_bad(const uint8_t *src, size_t len, uint64_t seq, size_t off)
{
	size_t bad = 0;
#define DEV_CHECK_(at, exp, n)                                                     \
	do {                                                                       \
		for (size_t j_ = 0; j_ < (n); j_++)                                \
			bad += src[(at) + j_] != ((const uint8_t *)(exp))[j_];     \
	} while (0)
	DEV_STREAM_WALK(len, seq, off, DEV_CHECK_);
#undef DEV_CHECK_
	return bad;
}

/** Number of bytes in [0, len) that differ from packet seq's stream at off.
 * Fast path for a piece that starts on the stream or on a payload word: the
 * header as one 12-byte compare, whole words two at a time with the
 * differences or-ed together, a partial last word compared as bytes; only
 * a difference (or an unaligned piece) takes the exact byte count. */
static inline size_t dev_stream_check(const uint8_t *src, size_t len, uint64_t seq,
				      size_t off)
{
	static const uint8_t zero_hdr[DEV_NET_HDR_BYTES];
	const uint8_t *p = src;
	size_t n = len, o = off;

	if (!dev_stream_word_aligned(o))
		return dev_stream_count_bad(src, len, seq, off);
	if (o == 0) {
		if (n < DEV_NET_HDR_BYTES)
			return dev_stream_count_bad(src, len, seq, off);
		if (memcmp(p, zero_hdr, DEV_NET_HDR_BYTES))
			return dev_stream_count_bad(src, len, seq, off);
		p += DEV_NET_HDR_BYTES;
		n -= DEV_NET_HDR_BYTES;
		o = DEV_NET_HDR_BYTES;
	}
	uint64_t wk = (uint64_t)((o - DEV_NET_HDR_BYTES) >> 3) * DEV_PAYLOAD_K;
	const uint8_t *end2 = p + (n & ~(size_t)15);
	dev_u64x2 s2 = {seq, seq}, w2 = {wk, wk + DEV_PAYLOAD_K}, diff = {0, 0};
	for (; p != end2; p += 16, w2 += dev_k2) {
		dev_u64x2 g;
		memcpy(&g, p, 16);
		diff |= g ^ s2 ^ w2;
	}
	uint64_t d = diff[0] | diff[1], e = seq ^ w2[0];
	n &= 15;
	if (n >= 8) {
		uint64_t g;
		memcpy(&g, p, 8);
		d |= g ^ e;
		p += 8;
		n -= 8;
		e = seq ^ w2[1];
	}
	if (n && memcmp(p, &e, n))
		d = 1;
	return d ? dev_stream_count_bad(src, len, seq, off) : 0;
}

#endif
