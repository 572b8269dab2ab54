/* SPDX-License-Identifier: BSD-3-Clause */
#include <jansson.h>
#include <stdlib.h>

#include "bt_test.h"
#include "bt_err.h"
#include "bt_parse.h"
#include "bt_pcap.h"
#include "vf_api.h"
#include "../lib/pktbuild.h"

/* n UDP flows of k packets each; flow `skip` left out. */
static void write_pcap(const char *path, int n, int k, int skip, int extra_on)
{
    struct bt_err e;
    struct bt_pcap_writer *w = bt_pcap_writer_open(path, 1, 0, &e);
    uint8_t f[64];
    for (int i = 0; i < n; i++) {
        if (i == skip)
            continue;
        for (int j = 0; j < k + (i == extra_on); j++) {
            unsigned o = pb_eth(f, 0, 0, 0, 0, 0x0800);
            o += pb_ip4(f + o, 5, 28, 0, 17, 0x0a000001 + (uint32_t)i, 0xc0000201);
            o += pb_udp(f + o, (uint16_t)(2000 + i), 53, 8);
            bt_pcap_write(w, (uint64_t)i * 1000000 + (uint64_t)j * 1000, f, o, o);
        }
    }
    bt_pcap_writer_close(w);
}

TEST(counts_only_in_and_changed)
{
    char dir[] = "/tmp/bt-vfd-XXXXXX", a[300], b[300];
    REQUIRE(bt_mkdtemp(dir));
    snprintf(a, sizeof(a), "%s/a.pcap", dir);
    snprintf(b, sizeof(b), "%s/b.pcap", dir);
    write_pcap(a, 20, 3, -1, -1);
    write_pcap(b, 20, 3, 4, 9);
    struct vf_diff_opts o;
    struct bt_err e;
    void *out;
    vf_diff_opts_default(&o);
    CHECK_EQ_INT(vf_diff(a, a, &o, &out, &e), 0);
    json_decref(out);
    REQUIRE(vf_diff(a, b, &o, &out, &e) == 1);
    json_t *r = out;
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "only_in_a")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "only_in_b")), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "changed")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "identical")), 18);
    json_decref(r);
    o.tol_packets = 1;
    o.tol_bytes = 100;
    REQUIRE(vf_diff(a, b, &o, &out, &e) == 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(out, "changed")), 0);
    json_decref(out);
    CHECK(vf_diff(a, "/nonexistent.pcap", &o, &out, &e) < 0);
    CHECK(strstr(e.msg, "/nonexistent.pcap") != NULL);
}
