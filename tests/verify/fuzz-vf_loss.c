/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for the loss pass (vf_loss.c), whose own frame decoder and
 * packet id read records straight from the readers' buffers: arbitrary
 * frames on both links, written as two pcap files, must give the report of
 * the reference (vf_loss_ref.h: bt_parse, bt_flow_table, each record copied)
 * byte for byte, and never read past a record (ASan sees it).
 *
 * Input: byte 0 the links (bits 0-1 the client link, 2-3 the server link:
 * Ethernet, raw IP, Linux SLL, BSD loopback; bit 4: hide-NAT maps follow);
 * with bit 4, a count byte (at most 8) and 20 bytes a map (proto, original
 * IPv4 source and destination, ports, translated IPv4 source and port, its
 * start in microseconds); then records: a 16-bit big-endian length, a byte
 * (bit 0 the link, bits 1-7 microseconds after the previous record) and
 * that many bytes of frame (fewer at the input's end).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_capset.h"
#include "../../verify/vf_loss.h"
#include "vf_loss_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void rm_dir(void)
{
    char p[128];

    snprintf(p, sizeof(p), "%s/client.pcap", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/server.pcap", dir);
    unlink(p);
    rmdir(dir);
}

static void v4(uint8_t a[16], const uint8_t *p)
{
    memset(a, 0, 16);
    a[10] = a[11] = 0xff;
    memcpy(a + 12, p, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int links[4] = {BT_LINK_ETHERNET, BT_LINK_RAW, BT_LINK_SLL, BT_LINK_NULL};
    struct bt_nat_map maps[8];
    struct bt_pcap_writer *w[2] = {NULL, NULL};
    struct vf_nat *nat = NULL;
    char cp[128], sp[128];
    void *a = NULL, *b = NULL;
    struct bt_err e;
    size_t o = 1, nmaps = 0;
    uint64_t ts = 1000000;
    int ra, rb;

    if (size < 1)
        return 0;
    if (!dir[0]) {
        char t[64];
        if (!mkdtemp(strcpy(t, "/tmp/bt-fuzz-loss-XXXXXX")))
            return 0;
        snprintf(dir, sizeof(dir), "%s", t);
        atexit(rm_dir);
    }
    snprintf(cp, sizeof(cp), "%s/client.pcap", dir);
    snprintf(sp, sizeof(sp), "%s/server.pcap", dir);
    if (data[0] & 0x10) {
        size_t n = o < size ? data[o++] : 0;
        for (; nmaps < n && nmaps < 8 && o + 20 <= size; o += 20) {
            const uint8_t *m = data + o;
            struct bt_nat_map *x = &maps[nmaps++];
            memset(x, 0, sizeof(*x));
            x->proto = m[0];
            v4(x->osrc, m + 1);
            v4(x->odst, m + 5);
            x->osport = (uint16_t)(m[9] << 8 | m[10]);
            x->odport = (uint16_t)(m[11] << 8 | m[12]);
            v4(x->tsrc, m + 13);
            memcpy(x->tdst, x->odst, 16);
            x->tsport = (uint16_t)(m[17] << 8 | m[18]);
            x->tdport = x->odport;
            x->t_ns = (uint64_t)m[19] * 1000 + ts;
        }
        if (nmaps && !(nat = vf_nat_new(maps, nmaps)))
            return 0;
    }
    w[0] = bt_pcap_writer_open(cp, links[data[0] & 3], 65535, &e);
    w[1] = bt_pcap_writer_open(sp, links[(data[0] >> 2) & 3], 65535, &e);
    if (!w[0] || !w[1])
        goto out;
    while (o + 3 <= size) {
        uint32_t len = (uint32_t)(data[o] << 8 | data[o + 1]);
        unsigned link = data[o + 2] & 1;
        ts += (uint64_t)(data[o + 2] >> 1) * 1000;
        o += 3;
        if (len > size - o)
            len = (uint32_t)(size - o);
        if (bt_pcap_write(w[link], ts, data + o, len, len) < 0)
            goto out;
        o += len;
    }
    ra = bt_pcap_writer_close(w[0]);
    rb = bt_pcap_writer_close(w[1]);
    w[0] = w[1] = NULL;
    if (ra < 0 || rb < 0)
        goto out;
    ra = vf_loss(cp, sp, nat, &a, &e);
    rb = ref_loss(cp, sp, nat, &b, &e);
    if (ra != rb) {
        fprintf(stderr, "fuzz-vf_loss: vf_loss returned %d, the reference %d\n", ra, rb);
        abort();
    }
    if (ra == 0) {
        char *ja = json_dumps(a, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
        char *jb = json_dumps(b, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
        if (!ja || !jb || strcmp(ja, jb) != 0) {
            fprintf(stderr, "fuzz-vf_loss: reports differ:\n  new %s\n  ref %s\n", ja ? ja : "?",
                    jb ? jb : "?");
            abort();
        }
        free(ja);
        free(jb);
    }
out:
    bt_pcap_writer_close(w[0]);
    bt_pcap_writer_close(w[1]);
    json_decref(a);
    json_decref(b);
    vf_nat_free(nat);
    return 0;
}
