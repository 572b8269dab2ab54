/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer entry for the stats socket's reader: the bytes are cut into
 * lines, each fed to the model (stats, replies, bad lines), and the result
 * drawn on the screen grid and as a batch frame. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mon_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mon_model m;
    static struct mon_grid *g;
    struct mon_lines lb;
    struct mon_view v;
    struct mon_buf out = {0};
    struct mon_screen_opts o = {.unicode = true, .source = "fuzz"};
    const char *line;
    size_t len;
    uint64_t seen = 0, t = 1;
    int k;

    if (!g)
        g = mon_grid_new(24, 80);
    if (!g || mon_lines_init(&lb, 1 << 16) < 0)
        return 0;
    mon_model_init(&m, MON_LINK_LIVE, 0);
    mon_view_init(&v, true);
    mon_lines_push(&lb, (const char *)data, size);
    mon_lines_push(&lb, "\n", 1);
    while ((k = mon_lines_next(&lb, &line, &len)) != 0) {
        if (k < 0)
            mon_model_bad(&m, "too long");
        else
            mon_model_feed(&m, t++, line, len, NULL);
    }
    mon_lines_fini(&lb);
    for (int s = 0; s < MON_SORT_N; s++) {
        v.sort = (enum mon_sort)s;
        mon_screen_render(g, &m, &v, t, &o);
        mon_batch_frame(&m, v.sort, &seen, &out);
    }
    mon_buf_fini(&out);
    return 0;
}
