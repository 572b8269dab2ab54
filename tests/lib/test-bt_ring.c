/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>

#include "bt_ring.h"
#include "bt_test.h"

struct ring {
    uint64_t *e;
    uint32_t head, n, cap;
};

static void push(struct ring *r, uint64_t v)
{
    if (r->n == r->cap)
        REQUIRE(bt_ring_grow((void **)&r->e, sizeof(*r->e), &r->head, r->n, &r->cap, 4) == 0);
    r->e[(r->head + r->n++) & (r->cap - 1)] = v;
}

static uint64_t pop(struct ring *r)
{
    uint64_t v = r->e[r->head];
    r->head = (r->head + 1) & (r->cap - 1);
    r->n--;
    return v;
}

/* Pushes and pops in every phase of the wrap: growth keeps the order. */
TEST(growth_keeps_fifo_order_across_the_wrap)
{
    for (unsigned skew = 0; skew < 9; skew++) {
        struct ring r = {0};
        uint64_t in = 0, out = 0;
        for (unsigned i = 0; i < skew; i++)
            push(&r, in++);
        for (unsigned i = 0; i < skew; i++)
            CHECK_EQ_INT(pop(&r), out++);
        for (unsigned round = 0; round < 200; round++) {
            push(&r, in++);
            push(&r, in++);
            if (round % 3 == 0)
                CHECK_EQ_INT(pop(&r), out++);
        }
        CHECK((r.cap & (r.cap - 1)) == 0 && r.cap >= r.n);
        while (r.n)
            CHECK_EQ_INT(pop(&r), out++);
        CHECK_EQ_INT(out, in);
        free(r.e);
    }
}

TEST(first_growth_takes_the_first_size)
{
    struct ring r = {0};
    CHECK_EQ_INT(bt_ring_grow((void **)&r.e, sizeof(*r.e), &r.head, 0, &r.cap, 64), 0);
    CHECK_EQ_INT(r.cap, 64);
    CHECK_EQ_INT(bt_ring_grow((void **)&r.e, sizeof(*r.e), &r.head, 0, &r.cap, 64), 0);
    CHECK_EQ_INT(r.cap, 128);
    free(r.e);
}

