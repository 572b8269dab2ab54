/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer entry for the cluster config loader (YAML -> gw_config). */
#include <stdint.h>
#include <stdlib.h>

#include "bt_err.h"
#include "bt_yaml.h"
#include "gw_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bt_err e;
    struct gw_config c;
    struct bt_ydoc *d = bt_yaml_load_mem("fuzz.yaml", (const char *)data, size, &e);

    if (d) {
        const struct bt_ynode *n = bt_y_get(d->root, "cluster");
        if (gw_config_load(d, n ? n : d->root, &c, &e) == 0) {
            struct gw_cluster *g = gw_cluster_new(&c, 1);
            gw_cluster_free(g);
        }
    }
    bt_yaml_free(d);
    return 0;
}
