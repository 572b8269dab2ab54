/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for the --synth spec parser and the libnet templates it
 * builds: any spec either is refused with a message or builds a template
 * whose frames parse, sit in time order and fit MTU 1500.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_err.h"
#include "bt_parse.h"
#include "tg_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tg_tmpl_cfg c;
    struct tg_synth s;
    struct tg_tset set;
    struct bt_err e = {{0}};

    memset(&c, 0, sizeof(c));
    if (size >= sizeof(c.synth))
        size = sizeof(c.synth) - 1;
    memcpy(c.synth, data, size);
    if (tg_synth_parse(c.synth, &s, &e) < 0) {
        if (!e.msg[0])
            abort();  /* refused without saying why */
        return 0;
    }
    /* keep big conversations out of the fuzzing loop (they are valid) */
    if ((uint64_t)s.rounds * (s.nresp + s.req / 1400 + 2) > 2000)
        return 0;
    memset(&set, 0, sizeof(set));
    if (tg_tset_add_synth(&set, &c, 0, &e) < 0)
        abort();  /* a spec the parser accepted must build */
    const struct tg_tmpl *t = &set.t[0];
    for (uint32_t i = 0; i < t->n; i++) {
        struct bt_parsed p;
        if (bt_parse(t->blob + t->p[i].off, t->p[i].len, BT_LINK_ETHERNET, &p) != BT_PARSE_OK ||
            t->p[i].len > 1514 || (i && t->p[i].rel_ns < t->p[i - 1].rel_ns))
            abort();
    }
    tg_tset_clear(&set);
    return 0;
}
