/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer entry for baton-verify's option parsers (--weights, --sgm, split --map):
 * byte 0 picks the parser (bit 7 set: --map by interface, else its value mod 4),
 * the rest is the option text (NUL-terminated copy). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_err.h"
#include "vf_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vf_input in;
    struct vf_split_map m;
    struct bt_err e;
    char *s;
    int rc;

    if (size < 1 || size > 65536)
        return 0;
    s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    memset(&in, 0, sizeof(in));
    memset(&m, 0, sizeof(m));
    memset(&e, 0, sizeof(e));
    if (data[0] & 0x80) {
        rc = vf_split_map_parse(s, VF_SPLIT_INTERFACE, &m, &e);
        if (rc == 0 && (m.n > VF_MAX_MEMBERS * 4 || m.n == 0))
            abort();
        for (unsigned i = 0; rc == 0 && i < m.n; i++)
            if (strlen(m.e[i].ifname) >= sizeof(m.e[i].ifname) || m.e[i].sgm < 1 || m.e[i].sgm > 64)
                abort();
        goto done;
    }
    switch (data[0] % 4) {
    case 0:
        rc = vf_parse_weights(s, &in, &e);
        if (rc == 0 && in.nweights > VF_MAX_MEMBERS)
            abort();
        break;
    case 1:
        rc = vf_parse_sgm(s, &in, &e);
        if (rc == 0 && in.nsgm > VF_MAX_MEMBERS)
            abort();
        break;
    case 2:
        rc = vf_split_map_parse(s, VF_SPLIT_VLAN, &m, &e);
        if (rc == 0 && m.n > VF_MAX_MEMBERS * 4)
            abort();
        break;
    default:
        rc = vf_split_map_parse(s, VF_SPLIT_MAC, &m, &e);
        if (rc == 0 && m.n > VF_MAX_MEMBERS * 4)
            abort();
        break;
    }
done:
    /* a rejected option must say why */
    if (rc < 0 && e.msg[0] == '\0')
        abort();
    free(s);
    return 0;
}
