/* SPDX-License-Identifier: BSD-3-Clause */
#include <jansson.h>
#include <stdlib.h>

#include "bt_test.h"
#include "bt_err.h"
#include "bt_parse.h"
#include "bt_pcap.h"
#include "../../verify/vf_loss.h"
#include "../lib/pktbuild.h"

static unsigned seg(uint8_t *f, int reply, uint8_t flags, uint32_t seq)
{
    unsigned o = pb_eth(f, 0, 0, 0, 0, 0x0800);
    o += pb_ip4(f + o, 5, 40, 0, 6, reply ? 0xc0000201 : 0x0a000001, reply ? 0x0a000001 : 0xc0000201);
    o += pb_tcp(f + o, reply ? 80 : 1234, reply ? 1234 : 80, seq, 0, flags, 20);
    return o;
}

TEST(loss_latency_and_injected_rst)
{
    char dir[] = "/tmp/bt-vfl-XXXXXX", cp[300], sp[300];
    struct bt_err e;
    uint8_t f[80];
    REQUIRE(bt_mkdtemp(dir));
    snprintf(cp, sizeof(cp), "%s/client.pcap", dir);
    snprintf(sp, sizeof(sp), "%s/server.pcap", dir);
    struct bt_pcap_writer *c = bt_pcap_writer_open(cp, 1, 0, &e), *s = bt_pcap_writer_open(sp, 1, 0, &e);
    unsigned n = seg(f, 0, BT_TCP_SYN, 1);
    bt_pcap_write(c, 1000, f, n, n);          /* SYN enters */
    bt_pcap_write(s, 1500, f, n, n);          /* and leaves 0.5 us later */
    n = seg(f, 1, BT_TCP_SYN | BT_TCP_ACK, 7);
    bt_pcap_write(s, 2000, f, n, n);          /* SYN-ACK enters on the server side */
    bt_pcap_write(c, 2000, f, n, n);          /* leaves at the same time stamp */
    for (uint32_t i = 0; i < 10; i++) {
        n = seg(f, 0, BT_TCP_ACK | BT_TCP_PSH, 100 + i);
        bt_pcap_write(c, 3000 + i * 10, f, n, n);
        if (i != 4)                           /* one lost */
            bt_pcap_write(s, 3002 + i * 10, f, n, n);
    }
    n = seg(f, 1, BT_TCP_RST, 9);
    bt_pcap_write(c, 5000, f, n, n);          /* an RST the cluster made */
    bt_pcap_writer_close(c);
    bt_pcap_writer_close(s);
    void *out;
    REQUIRE(vf_loss(cp, sp, NULL, &out, &e) == 0);
    json_t *r = out, *c2s = json_object_get(r, "c2s"), *s2c = json_object_get(r, "s2c");
    CHECK_EQ_INT(json_integer_value(json_object_get(c2s, "in")), 11);
    CHECK_EQ_INT(json_integer_value(json_object_get(c2s, "lost")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(s2c, "in")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(s2c, "lost")), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "injected_rsts")), 1);
    CHECK_NEAR(json_real_value(json_object_get(json_object_get(r, "latency_us"), "max")), 0.5, 1e-9);
    json_decref(r);
    CHECK(vf_loss(cp, "/nonexistent.pcap", NULL, &out, &e) < 0);
    CHECK(strstr(e.msg, "/nonexistent.pcap") != NULL);
}
