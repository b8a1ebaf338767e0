/* SPDX-License-Identifier: MIT */
/*
 * vqb_plan.c - the cartesian product of the option lists and the run order
 * (see vqb_plan.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vqb_plan.h"

int vqb_plan_build(const struct vqb_opts *o, struct vqb_plan *p)
{
	size_t n = 1;

	memset(p, 0, sizeof(*p));
	for (int id = 0; id < VQB_OPT_COUNT; id++) {
		if (vqb_options[id].dest != VQB_DEST_CFG)
			continue;
		n *= o->val[id].n;
		if (n > VQB_PLAN_MAX)
			return -E2BIG;
		p->varies[id] = o->val[id].n > 1;
	}
	p->cfg = calloc(n, sizeof(*p->cfg));
	if (!p->cfg)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct vqb_config *c = &p->cfg[i];
		size_t rem = i;
		/* Mixed radix, the last option in the table the fastest digit. */
		for (int id = VQB_OPT_COUNT - 1; id >= 0; id--) {
			if (vqb_options[id].dest != VQB_DEST_CFG)
				continue;
			unsigned k = o->val[id].n;
			vqb_opt_store((enum vqb_opt_id)id, &o->val[id].v[rem % k], c, NULL);
			rem /= k;
		}
		c->index = (uint32_t)i;
	}
	p->n = p->product = n;
	p->reps = (uint32_t)o->val[VQB_OPT_REPS].v[0].u;
	p->warmup = (uint32_t)o->val[VQB_OPT_WARMUP].v[0].u;
	p->order = (enum vqb_order)o->order;
	return 0;
}

void vqb_plan_free(struct vqb_plan *p)
{
	free(p->cfg);
	p->cfg = NULL;
	p->n = 0;
}

void vqb_plan_remove(struct vqb_plan *p, size_t i)
{
	if (i >= p->n)
		return;
	memmove(&p->cfg[i], &p->cfg[i + 1], (p->n - i - 1) * sizeof(*p->cfg));
	p->n--;
	for (size_t k = i; k < p->n; k++)
		p->cfg[k].index = (uint32_t)k;
}

size_t vqb_plan_runs(const struct vqb_plan *p)
{
	return p->n * ((size_t)p->reps + p->warmup);
}

void vqb_plan_step(const struct vqb_plan *p, size_t k, struct vqb_step *s)
{
	size_t per = (size_t)p->reps + p->warmup;
	size_t j;

	memset(s, 0, sizeof(*s));
	if (p->order == VQB_ORDER_SEQUENTIAL) {
		s->cfg = k / per;
		j = k % per;
	} else {
		size_t first = p->n * ((size_t)p->warmup + 1); /* round 0 */
		if (k < first) {
			s->cfg = k / (p->warmup + 1);
			j = k % (p->warmup + 1);
		} else {
			s->cfg = (k - first) % p->n;
			j = p->warmup + 1 + (k - first) / p->n;
		}
	}
	s->warmup = j < p->warmup;
	s->rep = (uint32_t)(s->warmup ? j : j - p->warmup);
	s->last = !s->warmup && s->rep + 1 == p->reps;
}

static size_t append_value(const struct vqb_config *c, int id, char *buf, size_t len, size_t pos)
{
	char v[64];

	if (pos >= len)
		return pos;
	vqb_opt_format((enum vqb_opt_id)id, c, v, sizeof(v));
	int n = snprintf(buf + pos, len - pos, "%s%s%s%s", pos ? " " : "",
			 vqb_options[id].label ? vqb_options[id].label : "",
			 vqb_options[id].label ? "=" : "", v);
	return n < 0 ? pos : pos + (size_t)n;
}

const char *vqb_plan_label(const struct vqb_plan *p, const struct vqb_config *c, char *buf, size_t len)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (int id = 0; id < VQB_OPT_COUNT; id++)
		if (p->varies[id])
			pos = append_value(c, id, buf, len, pos);
	if (!pos) {
		pos = append_value(c, VQB_OPT_LAYOUT, buf, len, pos);
		pos = append_value(c, VQB_OPT_POLICY, buf, len, pos);
		append_value(c, VQB_OPT_DMA, buf, len, pos);
	}
	return buf;
}

void vqb_plan_fixed(const struct vqb_plan *p, char *buf, size_t len)
{
	size_t pos = 0;

	buf[0] = '\0';
	if (!p->n)
		return;
	for (int id = 0; id < VQB_OPT_COUNT; id++) {
		const struct vqb_option *op = &vqb_options[id];
		if (op->dest != VQB_DEST_CFG || p->varies[id] || !op->list)
			continue;
		if (id == VQB_OPT_PACKETS && !p->cfg[0].packets)
			continue;
		if (id == VQB_OPT_SECONDS && p->cfg[0].packets)
			continue;
		pos = append_value(&p->cfg[0], id, buf, len, pos);
	}
}

void vqb_plan_describe(const struct vqb_plan *p, char *buf, size_t len)
{
	size_t runs = vqb_plan_runs(p);
	int n = snprintf(buf, len, "sweep: %zu configuration%s x %u repetition%s (+%u warmup) = %zu runs",
			 p->n, p->n == 1 ? "" : "s", p->reps, p->reps == 1 ? "" : "s", p->warmup, runs);
	if (n < 0 || (size_t)n >= len || !p->n)
		return;
	double s = 0;
	bool timed = true;
	for (size_t i = 0; i < p->n && timed; i++) {
		timed = p->cfg[i].packets == 0;
		s += p->cfg[i].seconds * ((double)p->reps + p->warmup);
	}
	if (timed)
		snprintf(buf + n, len - (size_t)n, ", about %.0f s of measurement", s);
}
