/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer entry for vf_pkt_decode: byte 0 picks the link type (0:
 * Ethernet, 1: raw IP, 2: Linux SLL, 3: BSD loopback, else the byte as a
 * link type), the rest is the frame. The fast decoder must agree with the
 * bt_parse route (vf_pkt_decode_slow) on every input, and never read past
 * the frame (ASan/valgrind see it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_parse.h"
#include "vf_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int links[] = {BT_LINK_ETHERNET, BT_LINK_RAW, BT_LINK_SLL, BT_LINK_NULL};
    struct vf_pkt a, b;
    uint8_t *f;

    if (size < 1 || size > 65536)
        return 0;
    int link = data[0] < 4 ? links[data[0]] : data[0];
    /* an exact-size copy: a read past the end is a heap overflow */
    f = malloc(size - 1 ? size - 1 : 1);
    if (!f)
        return 0;
    memcpy(f, data + 1, size - 1);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    vf_pkt_decode(f, (uint32_t)(size - 1), link, &a);
    vf_pkt_decode_slow(f, (uint32_t)(size - 1), link, &b);
    if (a.kind != b.kind)
        abort();
    if (a.kind == VF_PKT_IP &&
        (memcmp(&a.ck, &b.ck, sizeof(a.ck)) != 0 || a.flags != b.flags || a.proto != b.proto ||
         a.tcp_flags != b.tcp_flags || a.hash != b.hash))
        abort();
    free(f);
    return 0;
}
