/* SPDX-License-Identifier: MIT */
/* vq_packed_pvt.h - @internal packed-ring state. Include vq_pvt.h instead. */
#ifndef VQ_PACKED_PVT_H
#define VQ_PACKED_PVT_H

#include <stdint.h>

/* Driver-private packed state (inside struct vq). */
struct vq_packed_drv {
	uint16_t placeholder;
};

/* Device-private packed state (inside struct vq_dev). */
struct vq_packed_dev {
	uint16_t placeholder;
};

#endif
