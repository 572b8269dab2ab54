/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP state machine of a member. Deliberately without sequence-window
 * checks (the model judges reachability and state, not TCP conformance);
 * RST is accepted in every state, as a gateway that has no window cannot
 * tell a forged one.
 */
#include "gw_conn.h"

#include "bt_parse.h"

enum gw_tcp_verdict gw_tcp_track(uint8_t *st, uint8_t *fin, uint8_t flags, bool from_client,
                                 bool loose)
{
    bool syn = flags & BT_TCP_SYN, ack = flags & BT_TCP_ACK, f = flags & BT_TCP_FIN;

    if (flags & BT_TCP_RST) {
        if (*st == GW_ST_CLOSED || *st == GW_ST_TIME_WAIT)
            return GW_TCP_OK;
        *st = GW_ST_CLOSED;
        return GW_TCP_OK;
    }
    switch (*st) {
    case GW_ST_SYN_SENT:
        if (syn && !ack)
            return from_client ? GW_TCP_OK : GW_TCP_INVALID;   /* a retransmitted SYN */
        if (syn && ack) {
            if (from_client)
                return GW_TCP_INVALID;
            *st = GW_ST_SYN_RCVD;
            return GW_TCP_OK;
        }
        if (!loose)
            return GW_TCP_INVALID;
        *st = GW_ST_ESTABLISHED;
        break;
    case GW_ST_SYN_RCVD:
        if (syn) /* the client's SYN or the server's SYN+ACK again */
            return (from_client ? !ack : ack) ? GW_TCP_OK : GW_TCP_INVALID;
        if (!from_client && !loose)
            return GW_TCP_INVALID;
        *st = GW_ST_ESTABLISHED;
        break;
    case GW_ST_ESTABLISHED:
    case GW_ST_FIN_WAIT:
    case GW_ST_CLOSING:
        if (syn) /* a SYN+ACK retransmitted by the server after our ACK is harmless */
            return (!from_client && ack) ? GW_TCP_OK : GW_TCP_INVALID;
        break;
    case GW_ST_TIME_WAIT:
        if (syn)
            return (from_client && !ack) ? GW_TCP_REOPEN : GW_TCP_INVALID;
        break;
    case GW_ST_CLOSED:
        if (syn && from_client && !ack)
            return GW_TCP_REOPEN;
        return GW_TCP_INVALID;
    default:
        return GW_TCP_INVALID;
    }
    if (f)
        *fin |= from_client ? GW_FIN_CLIENT : GW_FIN_SERVER;
    if (*st == GW_ST_ESTABLISHED && *fin)
        *st = GW_ST_FIN_WAIT;
    if (*st == GW_ST_FIN_WAIT && *fin == (GW_FIN_CLIENT | GW_FIN_SERVER)) {
        *st = GW_ST_CLOSING;
        return GW_TCP_OK;
    }
    /* the ACK of the second FIN (a packet without FIN once both were seen) */
    if (*st == GW_ST_CLOSING && !f && ack)
        *st = GW_ST_TIME_WAIT;
    return GW_TCP_OK;
}

bool gw_conn_opens(uint8_t proto, uint8_t tcp_flags, uint8_t icmp_type)
{
    switch (proto) {
    case 6:
        return (tcp_flags & (BT_TCP_SYN | BT_TCP_ACK | BT_TCP_RST)) == BT_TCP_SYN;
    case 1:
        return icmp_type == 8;
    case 58:
        return icmp_type == 128;
    default:
        return true;
    }
}

bool gw_icmp_stateless(uint8_t proto, uint8_t icmp_type)
{
    if (proto == 1)
        return icmp_type != 8 && icmp_type != 0;
    if (proto == 58)
        return icmp_type != 128 && icmp_type != 129;
    return false;
}

enum gw_conn_state gw_conn_initial(uint8_t proto)
{
    switch (proto) {
    case 6: return GW_ST_SYN_SENT;
    case 17: return GW_ST_UDP;
    case 1:
    case 58: return GW_ST_ICMP;
    default: return GW_ST_OTHER;
    }
}

enum gw_tmo gw_conn_tmo(enum gw_conn_state st)
{
    switch (st) {
    case GW_ST_SYN_SENT:
    case GW_ST_SYN_RCVD:
        return GW_TMO_SYN;
    case GW_ST_CLOSING:
    case GW_ST_TIME_WAIT:
    case GW_ST_CLOSED:
        return GW_TMO_FIN;
    case GW_ST_UDP:
    case GW_ST_OTHER:
        return GW_TMO_UDP;
    case GW_ST_ICMP:
        return GW_TMO_ICMP;
    default:
        return GW_TMO_IDLE;
    }
}

const char *gw_conn_state_name(enum gw_conn_state st)
{
    static const char *const names[GW_ST_MAX] = {
        "none", "syn_sent", "syn_rcvd", "established", "fin_wait", "closing",
        "time_wait", "closed", "udp", "icmp", "other",
    };
    return (unsigned)st < GW_ST_MAX ? names[st] : "?";
}
