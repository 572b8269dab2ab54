/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for the control channel (contract 3, gateway/gw_control.c):
 * each input line is applied to a 4-member cluster; the answer is always one
 * JSON object with "id" and a boolean "ok" (and "error" when not ok).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gw_cluster *g;
static uint64_t now;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1), reply[1024];
    json_t *o, *ok;
    int r;

    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = 0;
    if (!g) {
        struct gw_config c;
        gw_config_default(&c);
        g = gw_cluster_new(&c, 1);   /* one cluster for the whole run: commands accumulate */
        if (!g)
            abort();
    }
    now += 1000000;
    r = gw_control(g, now, line, reply, sizeof(reply));
    o = json_loads(reply, 0, NULL);
    ok = o ? json_object_get(o, "ok") : NULL;
    if (!o || !json_is_boolean(ok) || !json_object_get(o, "id") || (r == 0) != json_is_true(ok) ||
        (!json_is_true(ok) && !json_is_string(json_object_get(o, "error"))))
        abort();
    json_decref(o);
    free(line);
    return 0;
}
