/* SPDX-License-Identifier: MIT */
/*
 * dev_pvt.h - internal to dev/: a device kind that lives in its own file
 * (vhost-user) plugs into dev.h's functions through this ops table. The
 * software device (dev_sw.c) owns struct dev and dispatches to these when
 * the kind given to dev_open() starts with `prefix`. Do not include from
 * outside dev/.
 */
#ifndef DEV_PVT_H
#define DEV_PVT_H

#include "dev.h"

struct dev_ext_ops {
	const char *prefix; /* "vhost-user:": the rest of the kind is the argument */
	/* open with the argument after the prefix; on failure the message is
	 * in dev_last_error() (set through dev_set_last_error) */
	int (*open)(const struct dev_params *p, const char *arg, void **impl);
	int (*start)(void *impl);
	void (*stop)(void *impl);
	int (*poll)(void *impl);
	void (*kick)(void *impl, enum dev_queue q);
	void (*close)(void *impl);
	void (*counters)(const void *impl, struct dev_counters *c);
	const char *(*error)(const void *impl);
	uint16_t (*rx_num_buffers)(const void *impl);
	/* optional (NULL: stop / the numbered stream) */
	void (*reset)(void *impl);
	const struct dev_format *(*format)(const void *impl);
};

/* The vhost-user front end (dev_vhost_user.c). */
extern const struct dev_ext_ops dev_vhost_user_ops;
/* A virtio-net PCI device through vfio-pci (dev_vfio.c). */
extern const struct dev_ext_ops dev_vfio_ops;

/** Set dev_last_error() (this thread's). @return rc. */
int dev_set_last_error(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
