/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer entry for the --synth spec parser (and the templates it builds). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_err.h"
#include "tg_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tg_template t;
    struct bt_err e;
    char spec[300];

    if (size >= sizeof(spec))
        size = sizeof(spec) - 1;
    memcpy(spec, data, size);
    spec[size] = 0;
    if (tg_synth_parse(spec, &t, &e) == 0)
        tg_template_clear(&t);
    return 0;
}
