/* SPDX-License-Identifier: MIT */
/*
 * fuzz_util.h - what the libFuzzer harnesses in fuzz/ share: a reader that
 * takes bytes from the input (zeros once it runs out, so every input is a
 * complete run), and FUZZ_CHECK, which aborts with a message so libFuzzer
 * records the input as a crash and the CTest replay (fuzz_replay.c) fails.
 *
 * Each harness defines LLVMFuzzerTestOneInput; it is linked with
 * -fsanitize=fuzzer in the fuzz preset (fuzz/CMakeLists.txt) and with
 * fuzz_replay.c everywhere else (tests/fuzz/CMakeLists.txt), so a crash
 * found by fuzzing replays as an ordinary test.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "FUZZ_CHECK failed %s:%d: %s: ",       \
				__FILE__, __LINE__, #cond);                    \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

/* A message fit for a terminal: one line, no control characters (what a
 * message quotes from the input must not break the line or drive the
 * terminal with escape sequences). */
static inline int fz_one_line(const char *msg)
{
	for (; *msg; msg++)
		if ((unsigned char)*msg < 0x20 || *msg == 0x7f)
			return 0;
	return 1;
}

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline size_t fz_left(const struct fz *f) { return f->n; }

static inline uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint16_t fz_u16(struct fz *f)
{
	return (uint16_t)(fz_u8(f) | fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	return (uint32_t)fz_u16(f) | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t fz_u64(struct fz *f)
{
	return (uint64_t)fz_u32(f) | (uint64_t)fz_u32(f) << 32;
}

/* Copy up to n bytes into dst, zero-fill the rest. @return bytes copied. */
static inline size_t fz_bytes(struct fz *f, void *dst, size_t n)
{
	size_t k = n < f->n ? n : f->n;
	memcpy(dst, f->p, k);
	memset((char *)dst + k, 0, n - k);
	f->p += k;
	f->n -= k;
	return k;
}

#endif
