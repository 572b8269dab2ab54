/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer entry for the YAML loader: load, then walk every node with the
 * typed readers, as the plan and profile loaders do. */
#include <stdint.h>
#include <stdlib.h>

#include "bt_err.h"
#include "bt_yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct bt_ydoc *d, const struct bt_ynode *n, struct bt_err *e)
{
    int64_t i;
    double x;
    uint64_t ns;
    bool b;
    static const char *const allowed[] = {"a", "b", NULL};

    if (!n)
        return;
    if (n->kind == BT_Y_SCALAR) {
        bt_y_int(d, n, "f", -100, 100, &i, e);
        bt_y_double(d, n, "f", 0, 1, &x, e);
        bt_y_duration_ns(d, n, "f", &ns, e);
        bt_y_quantity(d, n, "f", 0, 1e12, &x, e);
        bt_y_bool(d, n, "f", &b, e);
        return;
    }
    if (n->kind == BT_Y_MAP) {
        bt_y_check_keys(d, n, "m", allowed, e);
        bt_y_get(n, "a");
    }
    for (unsigned k = 0; k < n->n; k++)
        walk(d, n->items[k], e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bt_err e;
    struct bt_ydoc *d = bt_yaml_load_mem("fuzz.yaml", (const char *)data, size, &e);

    if (d)
        walk(d, d->root, &e);
    bt_yaml_free(d);
    return 0;
}
