/* SPDX-License-Identifier: MIT */
/*
 * vfio_pci.c - open a PCI device through VFIO: sysfs checks first (so every
 * missing piece gets its own message and fix), then group, container, IOMMU
 * type, device fd, config region and BARs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vfio_pci.h"

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400

__attribute__((format(printf, 4, 5))) static int verr(char *err, size_t len, int rc,
						      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc;
}

int vfio_pci_parse_bdf(const char *s, char *out, size_t outlen)
{
	unsigned dom = 0, bus, dev, fn;
	char tail;
	if (sscanf(s, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) != 4) {
		dom = 0;
		if (sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3)
			return -EINVAL;
	}
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7 || strlen(s) > 12)
		return -EINVAL;
	snprintf(out, outlen, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

/* Last path component of the symlink at path, or "" when there is none. */
static void link_name(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	out[0] = '\0';
	if (n <= 0)
		return;
	buf[n] = '\0';
	const char *s = strrchr(buf, '/');
	s = s ? s + 1 : buf;
	if (strlen(s) < len)
		memcpy(out, s, strlen(s) + 1);
}

/* The sysfs checks: device present, bound to vfio-pci, in an IOMMU group. */
static int check_sysfs(struct vfio_pci *v, const char *sysfs, char *err, size_t errlen)
{
	char path[PATH_MAX], drv[64], grp[32];
	struct stat st;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", sysfs, v->bdf);
	if (stat(path, &st) < 0)
		return verr(err, errlen, -ENOENT, "vfio device %s: no such PCI device (%s missing; "
			    "list devices with lspci -D)", v->bdf, path);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sysfs, v->bdf);
	link_name(path, drv, sizeof(drv));
	if (!drv[0])
		return verr(err, errlen, -ENODEV, "vfio device %s: not bound to any driver; bind it "
			    "to vfio-pci with scripts/vfio-bind.sh %s (modprobe vfio-pci first)",
			    v->bdf, v->bdf);
	if (strcmp(drv, "vfio-pci"))
		return verr(err, errlen, -ENODEV, "vfio device %s: bound to driver '%s', not vfio-pci; "
			    "rebind it with scripts/vfio-bind.sh %s (it refuses a device with a live "
			    "network interface unless --force)", v->bdf, drv, v->bdf);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group", sysfs, v->bdf);
	link_name(path, grp, sizeof(grp));
	if (!grp[0] || sscanf(grp, "%d", &v->group_id) != 1)
		return verr(err, errlen, -ENODEV, "vfio device %s: no IOMMU group: the IOMMU is off "
			    "(boot with intel_iommu=on or amd_iommu=on, enable VT-d/AMD-Vi in the "
			    "firmware), or load vfio with enable_unsafe_noiommu_mode=1 for no-IOMMU "
			    "mode (then --dma pa)", v->bdf);
	return 0;
}

static int open_group(struct vfio_pci *v, char *err, size_t errlen)
{
	char path[64];
	struct stat st;
	if (stat("/dev/vfio/vfio", &st) < 0)
		return verr(err, errlen, -ENODEV, "vfio device %s: no /dev/vfio/vfio: the vfio "
			    "module is not loaded (modprobe vfio-pci)", v->bdf);
	snprintf(path, sizeof(path), "/dev/vfio/%d", v->group_id);
	if (stat(path, &st) < 0) {
		snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", v->group_id);
		if (stat(path, &st) < 0)
			return verr(err, errlen, -ENODEV, "vfio device %s: neither /dev/vfio/%d nor "
				    "%s exists: is the device bound to vfio-pci?", v->bdf,
				    v->group_id, path);
		v->noiommu = true;
	}
	v->group = open(path, O_RDWR | O_CLOEXEC);
	if (v->group < 0) {
		int e = errno;
		if (e == EACCES || e == EPERM)
			return verr(err, errlen, -EACCES, "vfio device %s: no permission to open %s: "
				    "run as root, or chown the group file to this user and raise "
				    "RLIMIT_MEMLOCK (ulimit -l)", v->bdf, path);
		if (e == EBUSY)
			return verr(err, errlen, -EBUSY, "vfio device %s: %s is in use by another "
				    "process (one process may own an IOMMU group)", v->bdf, path);
		return verr(err, errlen, -e, "vfio device %s: open %s: %s", v->bdf, path, strerror(e));
	}
	struct vfio_group_status gs = {.argsz = sizeof(gs)};
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &gs) < 0)
		return verr(err, errlen, -errno, "vfio device %s: VFIO_GROUP_GET_STATUS on %s: %s",
			    v->bdf, path, strerror(errno));
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE))
		return verr(err, errlen, -EBUSY, "vfio device %s: IOMMU group %d is not viable: every "
			    "device in /sys/kernel/iommu_groups/%d/devices must be bound to vfio-pci "
			    "(or to no driver)", v->bdf, v->group_id, v->group_id);
	return 0;
}

static int open_container(struct vfio_pci *v, char *err, size_t errlen)
{
	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (v->container < 0)
		return verr(err, errlen, -errno, "vfio device %s: open /dev/vfio/vfio: %s", v->bdf,
			    strerror(errno));
	if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return verr(err, errlen, -ENODEV, "vfio device %s: /dev/vfio/vfio speaks another "
			    "VFIO API version than %d", v->bdf, VFIO_API_VERSION);
	int type;
	if (v->noiommu) {
		type = VFIO_NOIOMMU_IOMMU;
		if (ioctl(v->container, VFIO_CHECK_EXTENSION, type) <= 0)
			return verr(err, errlen, -ENODEV, "vfio device %s: no-IOMMU group but the "
				    "container lacks VFIO_NOIOMMU_IOMMU (kernel without "
				    "CONFIG_VFIO_NOIOMMU?)", v->bdf);
	} else if (ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0) {
		type = VFIO_TYPE1v2_IOMMU;
	} else if (ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0) {
		type = VFIO_TYPE1_IOMMU;
	} else {
		return verr(err, errlen, -ENODEV, "vfio device %s: the container offers no type1 "
			    "IOMMU (modprobe vfio_iommu_type1)", v->bdf);
	}
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) < 0)
		return verr(err, errlen, -errno, "vfio device %s: VFIO_GROUP_SET_CONTAINER: %s",
			    v->bdf, strerror(errno));
	if (ioctl(v->container, VFIO_SET_IOMMU, type) < 0)
		return verr(err, errlen, -errno, "vfio device %s: VFIO_SET_IOMMU(%d): %s", v->bdf,
			    type, strerror(errno));
	return 0;
}

int vfio_pci_open(struct vfio_pci *v, const char *bdf, const char *sysfs, char *err,
		  size_t errlen)
{
	memset(v, 0, sizeof(*v));
	v->container = v->group = v->device = -1;
	if (vfio_pci_parse_bdf(bdf, v->bdf, sizeof(v->bdf)) < 0)
		return verr(err, errlen, -EINVAL, "vfio device '%.40s': not a PCI address "
			    "(allowed: DDDD:BB:DD.F, e.g. 0000:00:03.0)", bdf);
	int rc = check_sysfs(v, sysfs ? sysfs : "/sys", err, errlen);
	if (rc == 0)
		rc = open_group(v, err, errlen);
	if (rc == 0)
		rc = open_container(v, err, errlen);
	if (rc == 0) {
		v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, v->bdf);
		if (v->device < 0)
			rc = verr(err, errlen, -errno, "vfio device %s: VFIO_GROUP_GET_DEVICE_FD: %s",
				  v->bdf, strerror(errno));
	}
	if (rc == 0) {
		struct vfio_region_info ri = {.argsz = sizeof(ri),
					      .index = VFIO_PCI_CONFIG_REGION_INDEX};
		if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &ri) < 0)
			rc = verr(err, errlen, -errno, "vfio device %s: config region info: %s",
				  v->bdf, strerror(errno));
		v->cfg_off = ri.offset;
	}
	if (rc == 0 && (vfio_pci_cfg_read(v, 0, &v->vendor, 2) < 0 ||
			vfio_pci_cfg_read(v, 2, &v->devid, 2) < 0))
		rc = verr(err, errlen, -EIO, "vfio device %s: cannot read its config space", v->bdf);
	if (rc < 0)
		vfio_pci_close(v);
	return rc;
}

void vfio_pci_close(struct vfio_pci *v)
{
	for (unsigned i = 0; i < VFIO_PCI_NBARS; i++)
		if (v->bar[i])
			munmap(v->bar[i], v->bar_len[i]);
	if (v->device >= 0)
		close(v->device);
	if (v->group >= 0) {
		ioctl(v->group, VFIO_GROUP_UNSET_CONTAINER);
		close(v->group);
	}
	if (v->container >= 0)
		close(v->container);
	memset(v->bar, 0, sizeof(v->bar));
	v->device = v->group = v->container = -1;
}

int vfio_pci_cfg_read(const struct vfio_pci *v, unsigned off, void *buf, size_t len)
{
	ssize_t n = pread(v->device, buf, len, (off_t)(v->cfg_off + off));
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

int vfio_pci_cfg_write(const struct vfio_pci *v, unsigned off, const void *buf, size_t len)
{
	ssize_t n = pwrite(v->device, buf, len, (off_t)(v->cfg_off + off));
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

void *vfio_pci_bar(struct vfio_pci *v, unsigned i, char *err, size_t errlen)
{
	if (i >= VFIO_PCI_NBARS) {
		verr(err, errlen, -EINVAL, "vfio device %s: BAR %u does not exist", v->bdf, i);
		return NULL;
	}
	if (v->bar[i])
		return v->bar[i];
	struct vfio_region_info ri = {.argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX + i};
	if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &ri) < 0) {
		verr(err, errlen, -errno, "vfio device %s: BAR %u region info: %s", v->bdf, i,
		     strerror(errno));
		return NULL;
	}
	if (!ri.size || !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		verr(err, errlen, -ENOTSUP, "vfio device %s: BAR %u (%llu bytes) cannot be mmap'ed",
		     v->bdf, i, (unsigned long long)ri.size);
		return NULL;
	}
	void *p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, v->device, (off_t)ri.offset);
	if (p == MAP_FAILED) {
		verr(err, errlen, -errno, "vfio device %s: mmap of BAR %u (%llu bytes): %s", v->bdf,
		     i, (unsigned long long)ri.size, strerror(errno));
		return NULL;
	}
	v->bar[i] = p;
	v->bar_len[i] = ri.size;
	return p;
}

int vfio_pci_enable(struct vfio_pci *v, bool on)
{
	uint16_t cmd;
	int rc = vfio_pci_cfg_read(v, PCI_COMMAND, &cmd, 2);
	if (rc < 0)
		return rc;
	if (on)
		cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE;
	else
		cmd &= (uint16_t)~PCI_COMMAND_MASTER;
	return vfio_pci_cfg_write(v, PCI_COMMAND, &cmd, 2);
}
