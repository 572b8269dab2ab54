/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for the plan loader (pl_plan_load_mem over bt_yaml, with
 * the gateway's cluster and policy loaders, tgen's profile loader and
 * verify's thresholds inside): any document is either a plan whose fields
 * hold together, or refused with a message that says where (file:line:col,
 * or a profile file's name). Loading never runs anything (run: hooks run
 * only in pl_run_sim).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_err.h"
#include "pl_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "...:L:C: ..." somewhere in the message */
static int has_position(const char *m)
{
    for (const char *c = strchr(m, ':'); c; c = strchr(c + 1, ':')) {
        const char *d = c + 1;
        if (*d < '0' || *d > '9')
            continue;
        while (*d >= '0' && *d <= '9')
            d++;
        if (*d != ':' || d[1] < '0' || d[1] > '9')
            continue;
        return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bt_err e = {{0}};
    struct pl_plan *p = pl_plan_load_mem("fuzz.yaml", (const char *)data, size, &e);

    if (!p) {
        if (!e.msg[0] || (!has_position(e.msg) && !strstr(e.msg, "fuzz.yaml")))
            abort();  /* refused without saying where */
        return 0;
    }
    if (!p->name || p->nevents > PL_MAX_EVENTS || p->nexpect_fail > PL_MAX_EXPECT_FAIL)
        abort();
    for (unsigned k = 1; k < p->nevents; k++)
        if (p->ev[k].at_ns < p->ev[k - 1].at_ns)
            abort();  /* events out of order */
    for (unsigned k = 0; k < p->nevents; k++) {
        const struct pl_event *x = &p->ev[k];
        if ((x->kind == PL_EV_POLICY) != (x->policy != NULL) || (x->kind == PL_EV_RUN) != (x->cmd != NULL))
            abort();
        if ((x->kind == PL_EV_POLICY || x->kind == PL_EV_RUN) && !p->tgen)
            abort();  /* the gateway's endpoints take neither */
    }
    if (p->tgen != (p->prof != NULL))
        abort();
    if (p->tgen && tg_profile_check(p->prof, &e) < 0)
        abort();  /* loaded a profile tgen refuses */
    if (p->ramp.kind != PL_RAMP_NONE && (!p->tgen || !(p->ramp.to > p->ramp.from) || p->nevents))
        abort();
    if (!p->tgen && (p->min_cps >= 0 || p->max_latency_p99_ns || p->max_rst_pct >= 0))
        abort();  /* tgen figures without tgen */
    pl_plan_free(p);
    return 0;
}
