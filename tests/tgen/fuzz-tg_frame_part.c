/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for tg_frame_part, the closed loop's steering parser: the
 * first byte picks the number of parts (1..64), the rest is a received
 * frame. The answer is below nparts or nparts itself (keep), 0 with one
 * part, and for every frame lib's parser reads as IPv4 or IPv6 it is the
 * tag (IPv4 identification, IPv6 flow label) mod nparts; it never reads
 * past the frame (the sanitizers of a fuzzing build see that).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_parse.h"
#include "tg_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    unsigned np = 1u + data[0] % 64u;
    uint32_t len = (uint32_t)size - 1;
    /* a copy of exactly len bytes: a read past it is out of bounds */
    uint8_t *f = malloc(len ? len : 1);
    if (!f)
        return 0;
    memcpy(f, data + 1, len);
    unsigned part = tg_frame_part(f, len, np);
    if (part > np || (np == 1 && part != 0))
        abort();
    struct bt_parsed p;
    /* (one 802.1Q tag at most: the engine sends no other) */
    if (np > 1 && bt_parse(f, len, BT_LINK_ETHERNET, &p) == BT_PARSE_OK &&
        (p.ip_version == 4 || p.ip_version == 6) &&
        (p.l3_off == 14 || (p.l3_off == 18 && f[12] == 0x81 && f[13] == 0x00))) {
        const uint8_t *ip = f + p.l3_off;
        uint32_t tag = p.ip_version == 4 ? (uint32_t)ip[4] << 8 | ip[5]
                                         : (uint32_t)(ip[1] & 0x0f) << 16 | (uint32_t)ip[2] << 8 | ip[3];
        if (part != tag % np)
            abort();
    }
    free(f);
    return 0;
}
