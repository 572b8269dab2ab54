/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer entry for the packet parser: byte 0 picks the link type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_csum.h"
#include "bt_flow.h"
#include "bt_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int links[] = {BT_LINK_ETHERNET, BT_LINK_RAW, BT_LINK_NULL, BT_LINK_LOOP,
                                BT_LINK_SLL, BT_LINK_SLL2, BT_LINK_IPV4, BT_LINK_IPV6};
    struct bt_parsed p;
    struct bt_flow_key k;
    char id[64];
    uint8_t *copy;

    if (size < 1 || size > 65536)
        return 0;
    /* an exact-size copy, so sanitizers see any read past the end */
    copy = malloc(size - 1 ? size - 1 : 1);
    if (!copy)
        return 0;
    memcpy(copy, data + 1, size - 1);
    bt_parse(copy, (uint32_t)(size - 1), links[data[0] % 8], &p);
    if (bt_flow_key_from_parsed(&p, &k) == 0) {
        bt_community_id_parsed(&p, 0, id, sizeof(id));
        bt_csum_check(copy, (uint32_t)(size - 1), &p);
        bt_csum_fix(copy, (uint32_t)(size - 1), &p);
    }
    free(copy);
    return 0;
}
