/* SPDX-License-Identifier: MIT */
/* vq_split_pvt.h - @internal split-ring state. Include vq_pvt.h instead. */
#ifndef VQ_SPLIT_PVT_H
#define VQ_SPLIT_PVT_H

#include <stdint.h>

/* Driver-private split state (inside struct vq). */
struct vq_split_drv {
	uint16_t placeholder;
};

/* Device-private split state (inside struct vq_dev). */
struct vq_split_dev {
	uint16_t placeholder;
};

#endif
