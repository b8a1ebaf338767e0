/* SPDX-License-Identifier: MIT */
/*
 * dma_spsc.h - the single-producer single-consumer job ring the DMA
 * threading tests pass mappings through (driver thread -> device thread
 * and back). The includer defines QN (slots) and struct job first.
 */
#ifndef VQB_TEST_DMA_SPSC_H
#define VQB_TEST_DMA_SPSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct spsc {
	_Alignas(64) _Atomic uint32_t head; /* consumer */
	_Alignas(64) _Atomic uint32_t tail; /* producer */
	_Alignas(64) struct job slot[QN];
};

static bool q_push(struct spsc *q, const struct job *j)
{
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
	/* A2: pairs with R2 in q_pop (the slot is free to overwrite). */
	if (t - atomic_load_explicit(&q->head, memory_order_acquire) == QN)
		return false;
	q->slot[t % QN] = *j;
	/* R1: publishes the slot and the payload written before; pairs
	 * with A1 in q_pop. */
	atomic_store_explicit(&q->tail, t + 1, memory_order_release);
	return true;
}

static bool q_pop(struct spsc *q, struct job *j)
{
	uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
	/* A1: pairs with R1 in q_push. */
	if (atomic_load_explicit(&q->tail, memory_order_acquire) == h)
		return false;
	*j = q->slot[h % QN];
	/* R2: the slot is consumed; pairs with A2 in q_push. */
	atomic_store_explicit(&q->head, h + 1, memory_order_release);
	return true;
}

#endif
