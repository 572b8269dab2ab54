/* SPDX-License-Identifier: BSD-3-Clause */
/* The TCP state machine and the pseudo-connection rules (gateway/gw_conn.c). */
#include "bt_test.h"
#include "bt_parse.h"
#include "gw_conn.h"

#define SYN BT_TCP_SYN
#define ACK BT_TCP_ACK
#define FIN BT_TCP_FIN
#define RST BT_TCP_RST

TEST(handshake_data_and_close)
{
    uint8_t st = GW_ST_SYN_SENT, fin = 0;
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, SYN, true, false), GW_TCP_OK);          /* retransmitted SYN */
    CHECK_EQ_INT(st, GW_ST_SYN_SENT);
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, SYN | ACK, false, false), GW_TCP_OK);
    CHECK_EQ_INT(st, GW_ST_SYN_RCVD);
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, SYN | ACK, false, false), GW_TCP_OK);    /* again */
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, ACK, true, false), GW_TCP_OK);
    CHECK_EQ_INT(st, GW_ST_ESTABLISHED);
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, ACK | BT_TCP_PSH, false, false), GW_TCP_OK);
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, FIN | ACK, true, false), GW_TCP_OK);
    CHECK_EQ_INT(st, GW_ST_FIN_WAIT);
    CHECK_EQ_INT(fin, GW_FIN_CLIENT);
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, ACK, false, false), GW_TCP_OK);          /* half-closed data */
    CHECK_EQ_INT(st, GW_ST_FIN_WAIT);
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, FIN | ACK, false, false), GW_TCP_OK);
    CHECK_EQ_INT(st, GW_ST_CLOSING);
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, ACK, true, false), GW_TCP_OK);
    CHECK_EQ_INT(st, GW_ST_TIME_WAIT);
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, SYN, true, false), GW_TCP_REOPEN);
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, SYN, false, false), GW_TCP_INVALID);
}

TEST(out_of_state_packets)
{
    uint8_t st = GW_ST_SYN_SENT, fin = 0;
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, ACK, true, false), GW_TCP_INVALID);      /* data before the handshake */
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, SYN | ACK, true, false), GW_TCP_INVALID); /* the client cannot SYN+ACK */
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, SYN, false, false), GW_TCP_INVALID);     /* simultaneous open */
    CHECK_EQ_INT(st, GW_ST_SYN_SENT);
    st = GW_ST_SYN_RCVD;
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, ACK, false, false), GW_TCP_INVALID);     /* the server before the client's ACK */
    st = GW_ST_ESTABLISHED;
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, SYN, true, false), GW_TCP_INVALID);
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, SYN | ACK, false, false), GW_TCP_OK);    /* a late SYN+ACK */
    CHECK_EQ_INT(st, GW_ST_ESTABLISHED);
}

TEST(rst_in_any_state_then_only_a_new_syn)
{
    for (uint8_t s0 = GW_ST_SYN_SENT; s0 <= GW_ST_TIME_WAIT; s0++) {
        uint8_t st = s0, fin = 0;
        CHECK_EQ_INT(gw_tcp_track(&st, &fin, RST, s0 & 1, false), GW_TCP_OK);
        CHECK(st == GW_ST_CLOSED || (s0 == GW_ST_TIME_WAIT && st == GW_ST_TIME_WAIT));
    }
    uint8_t st = GW_ST_CLOSED, fin = 0;
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, ACK, true, false), GW_TCP_INVALID);
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, RST, true, false), GW_TCP_OK);
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, SYN, true, false), GW_TCP_REOPEN);
}

TEST(loose_pickup_after_promotion)
{
    /* a backup one batch behind: SYN_SENT while the connection is established */
    uint8_t st = GW_ST_SYN_SENT, fin = 0;
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, ACK | BT_TCP_PSH, false, true), GW_TCP_OK);
    CHECK_EQ_INT(st, GW_ST_ESTABLISHED);
    st = GW_ST_SYN_RCVD;
    CHECK_EQ_INT(gw_tcp_track(&st, &fin, FIN | ACK, false, true), GW_TCP_OK);
    CHECK_EQ_INT(st, GW_ST_FIN_WAIT);
    CHECK_EQ_INT(fin, GW_FIN_SERVER);
}

TEST(openers_and_timeouts)
{
    CHECK(gw_conn_opens(6, SYN, 0));
    CHECK(!gw_conn_opens(6, SYN | ACK, 0));
    CHECK(!gw_conn_opens(6, SYN | RST, 0));
    CHECK(!gw_conn_opens(6, ACK, 0));
    CHECK(gw_conn_opens(17, 0, 0));
    CHECK(gw_conn_opens(1, 0, 8));     /* echo request */
    CHECK(!gw_conn_opens(1, 0, 0));    /* echo reply */
    CHECK(gw_conn_opens(58, 0, 128));
    CHECK(!gw_conn_opens(58, 0, 129));
    CHECK(gw_conn_opens(132, 0, 0));
    CHECK(gw_icmp_stateless(1, 3));
    CHECK(!gw_icmp_stateless(1, 8));
    CHECK(gw_icmp_stateless(58, 1));
    CHECK(!gw_icmp_stateless(6, 3));
    CHECK_EQ_INT(gw_conn_initial(6), GW_ST_SYN_SENT);
    CHECK_EQ_INT(gw_conn_initial(17), GW_ST_UDP);
    CHECK_EQ_INT(gw_conn_initial(58), GW_ST_ICMP);
    CHECK_EQ_INT(gw_conn_initial(47), GW_ST_OTHER);
    CHECK_EQ_INT(gw_conn_tmo(GW_ST_SYN_RCVD), GW_TMO_SYN);
    CHECK_EQ_INT(gw_conn_tmo(GW_ST_ESTABLISHED), GW_TMO_IDLE);
    CHECK_EQ_INT(gw_conn_tmo(GW_ST_FIN_WAIT), GW_TMO_IDLE);
    CHECK_EQ_INT(gw_conn_tmo(GW_ST_TIME_WAIT), GW_TMO_FIN);
    CHECK_EQ_INT(gw_conn_tmo(GW_ST_CLOSED), GW_TMO_FIN);
    CHECK_EQ_INT(gw_conn_tmo(GW_ST_OTHER), GW_TMO_UDP);
    CHECK_EQ_INT(gw_conn_tmo(GW_ST_ICMP), GW_TMO_ICMP);
    CHECK_EQ_STR(gw_conn_state_name(GW_ST_ESTABLISHED), "established");
    CHECK_EQ_STR(gw_conn_state_name(GW_ST_MAX), "?");
}
