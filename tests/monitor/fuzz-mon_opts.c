/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for baton-monitor's command line (monitor/mon_opts.c).
 * The input is the arguments after the program name, each ended by a NUL
 * byte. A refusal says why, and a plain "--replay f" is still taken after
 * it; a command line taken has one source, figures in their documented
 * ranges, and parses again to the same options.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_argv.h"

#include "mon_opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *argv[MAX_ARGS + 2];
    char *ok[] = {"baton-monitor", "--replay", "f", NULL};
    struct mon_opts o, o2;
    struct bt_err e;
    int argc, rc;

    if (!buf || size > 2048)
        goto out;
    memcpy(buf, data, size);
    buf[size] = '\0';
    if ((argc = fuzz_argv(buf, size, "baton-monitor", argv, MAX_ARGS)) < 0)
        goto out;
    memset(&e, 0, sizeof(e));
    rc = mon_opts_parse(argc, argv, &o, &e);
    if (rc < 0) {
        if (!e.msg[0])
            abort();
        memset(&e, 0, sizeof(e));
        if (mon_opts_parse(3, ok, &o2, &e) != 0)
            abort();
    } else if (rc == 0) {
        if (!o.connect == !o.replay || (o.record && !o.connect) ||
            !(o.speed >= 0.001 && o.speed <= 1e6) || !(o.interval >= 0.001 && o.interval <= 86400) ||
            (o.count != -1 && o.count < 1) || (unsigned)o.sort >= MON_SORT_N)
            abort();
        if (mon_opts_parse(argc, argv, &o2, &e) != 0 || memcmp(&o, &o2, sizeof(o)) != 0)
            abort();
    }
out:
    free(buf);
    return 0;
}
