/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer entry for the capture set's JSON readers: the input becomes
 * capset.json and every JSON-lines file of a scratch directory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_capset.h"
#include "bt_err.h"

static char dir[64];   /* the scratch directory, made on the first input */

static void rm_dir(void)
{
    if (dir[0])
        rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[128];
    struct bt_err e;
    struct bt_capset_meta m;
    struct bt_event *ev;
    struct bt_correction *c;
    struct bt_nat_map *n;
    size_t cnt;
    FILE *f;

    if (!dir[0]) {
        if (!mkdtemp(strcpy(path, "/tmp/bt-fuzz-capset-XXXXXX")))
            return 0;
        snprintf(dir, sizeof(dir), "%s", path);
        atexit(rm_dir);   /* each input's file is unlinked: the directory is empty */
    }
    snprintf(path, sizeof(path), "%s/capset.json", dir);
    if (!(f = fopen(path, "wb")))
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    bt_capset_read_meta(dir, &m, &e);
    if (bt_events_read(path, &ev, &cnt, &e) == 0)
        free(ev);
    if (bt_corrections_read(path, &c, &cnt, &e) == 0)
        free(c);
    if (bt_nat_read(path, &n, &cnt, &e) == 0)
        free(n);
    unlink(path);
    return 0;
}
