/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The monitor's work per stats line, without the terminal: parse a 52-member
 * line into the model, lay out the 80x24 screen, write a batch frame.
 * Prints microseconds per line and what that costs at 1 line per second.
 *   bench-mon_render [LINES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mon_api.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static char line[65536];
    static struct mon_model m;
    long lines = argc > 1 ? atol(argv[1]) : 20000;
    struct mon_grid *g = mon_grid_new(24, 80);
    struct mon_view v;
    struct mon_buf out = {0};
    struct mon_screen_opts o = {.unicode = true, .source = "bench"};
    uint64_t seen = 0;
    int k;

    if (!g || lines < 1)
        return 2;
    k = snprintf(line, sizeof(line), "{\"schema\":1,\"t\":1.0,\"seq\":1,\"cluster\":{\"pps\":1040000,"
                 "\"bps\":8.3e9,\"conns\":208000,\"cps\":12480,\"sync_bps\":5.1e7,\"members_up\":52,"
                 "\"members_total\":52,\"policy_version\":1},\"sgms\":[");
    for (int i = 1; i <= 52; i++)
        k += snprintf(line + k, sizeof(line) - (size_t)k,
                      "%s{\"id\":%d,\"state\":\"up\",\"weight\":100,\"pps\":%d,\"bps\":%d,\"conns\":%d,"
                      "\"backup_conns\":3900,\"cps\":240,\"sync_tx_pps\":240,\"sync_tx_bps\":983040,"
                      "\"sync_rx_pps\":238,\"sync_rx_bps\":974848,\"corrections_pps\":%d,\"drops\":0,"
                      "\"cpu\":%d}", i > 1 ? "," : "", i, 20000 + 10 * i, 160000000 + i, 4000 + i,
                      i % 3, 40 + i % 7);
    snprintf(line + k, sizeof(line) - (size_t)k,
             "],\"events\":[{\"t\":0.5,\"event\":\"weight\",\"sgm\":3,\"weight\":100}]}");
    mon_model_init(&m, MON_LINK_LIVE, 0);
    mon_view_init(&v, true);
    double t0 = now_s();
    for (long i = 0; i < lines; i++) {
        mon_model_feed(&m, (uint64_t)i, line, strlen(line), NULL);
        mon_screen_render(g, &m, &v, (uint64_t)i, &o);
        mon_buf_reset(&out);
        mon_batch_frame(&m, MON_SORT_ID, &seen, &out);
    }
    double us = (now_s() - t0) / (double)lines * 1e6;
    printf("line %zu bytes, 52 members: %.1f us per line (parse + model + 80x24 layout + batch frame)"
           " = %.4f %% of a core at 1 line/s\n", strlen(line), us, us / 1e6 * 100);
    mon_buf_fini(&out);
    mon_grid_free(g);
    return 0;
}
