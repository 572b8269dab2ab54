/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer entry for split --by interface: the input is a tap capture
 * (pcapng, whose blocks split walks beside libpcap, or an SLL2 pcap); it is
 * written to a scratch file and split into a scratch capture set. Whatever
 * the bytes, split returns 0 or an error with a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_err.h"
#include "vf_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void rm_set(const char *dir)
{
    static const char *const files[] = {"sgm-1.pcap", "sgm-2.pcap", "unmapped.pcap",
                                        "capset.json", "events.jsonl", NULL};
    char p[512];

    for (unsigned i = 0; files[i]; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[] = "/tmp/bt-fuzz-split-XXXXXX", tap[512], out[512];
    struct vf_split_map m;
    struct vf_split_result res;
    struct bt_err e;
    FILE *f;

    if (size > (1u << 20) || !mkdtemp(dir))
        return 0;
    snprintf(tap, sizeof(tap), "%s/tap", dir);
    snprintf(out, sizeof(out), "%s/set", dir);
    if ((f = fopen(tap, "wb"))) {
        fwrite(data, 1, size, f);
        fclose(f);
        memset(&e, 0, sizeof(e));
        if (vf_split_map_parse("0=1,eth2=2,5=2", VF_SPLIT_INTERFACE, &m, &e) < 0)
            abort();
        int rc = vf_split(tap, VF_SPLIT_INTERFACE, &m, out, &res, &e);
        if (rc < 0 && e.msg[0] == '\0')
            abort();
        if (rc == 0 && res.per_sgm[1] + res.per_sgm[2] + res.unmapped != res.packets)
            abort();
    }
    rm_set(out);
    unlink(tap);
    rmdir(dir);
    return 0;
}
