/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer entry for the stats line parser and the frame printer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mon_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mon_frame f;
    static FILE *null;

    if (!null)
        null = fopen("/dev/null", "w");
    if (mon_frame_parse((const char *)data, size, &f) == 0 && null)
        mon_frame_print(&f, 1, null);
    return 0;
}
