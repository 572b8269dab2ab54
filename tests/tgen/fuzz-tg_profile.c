/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for the YAML traffic profile loader (tg_profile_load over
 * bt_yaml): any document is either loaded into a profile that
 * tg_profile_check passes or refuses naming a line:column of the document
 * (a template the flags gave, refused for a pool the document set, names
 * both),
 * or refused by the load with such a message, the profile left untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_err.h"
#include "bt_yaml.h"
#include "tg_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tg_profile p, before;
    struct bt_err e = {{0}};
    struct bt_ydoc *d;

    d = bt_yaml_load_mem("fuzz.yaml", (const char *)data, size, &e);
    if (!d)
        return 0;
    tg_profile_default(&p);
    /* a template from the flags, as tg_cli_parse would add after the file */
    tg_profile_add_synth(&p, "tcp", &e);
    before = p;
    if (d->root && d->root->kind == BT_Y_MAP) {
        if (tg_profile_load(d, d->root, &p, &e) == 0) {
            /* the load leaves to the check what flags may still change (the
             * templates' families against the pools): a refusal there must
             * still name its place in the document */
            if (tg_profile_check(&p, &e) < 0 && !strstr(e.msg, "fuzz.yaml:"))
                abort();  /* refused without a place in the document */
        } else if (strncmp(e.msg, "fuzz.yaml:", 10) || memcmp(&p, &before, sizeof(p))) {
            abort();  /* an error without its place, or a half-loaded profile */
        }
    }
    bt_yaml_free(d);
    return 0;
}
