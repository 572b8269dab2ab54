/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection state of a member (internal to gateway_core): the TCP state
 * machine, UDP / ICMP pseudo-connections and which timeout applies to each
 * state. Pure functions, no time: the member applies the timeouts.
 */
#ifndef GW_CONN_H
#define GW_CONN_H

#include <stdbool.h>
#include <stdint.h>

enum gw_conn_state {
    GW_ST_NONE = 0,
    GW_ST_SYN_SENT,     /* client SYN seen */
    GW_ST_SYN_RCVD,     /* server SYN+ACK seen */
    GW_ST_ESTABLISHED,  /* client ACK after the SYN+ACK */
    GW_ST_FIN_WAIT,     /* one side sent FIN */
    GW_ST_CLOSING,      /* both sides sent FIN */
    GW_ST_TIME_WAIT,    /* the last ACK after both FINs */
    GW_ST_CLOSED,       /* a RST was seen */
    GW_ST_UDP,          /* UDP pseudo-connection */
    GW_ST_ICMP,         /* ICMP echo pseudo-connection */
    GW_ST_OTHER,        /* any other protocol, keyed like UDP */
    GW_ST_MAX,
};

/* Which timeout runs in a state. */
enum gw_tmo {
    GW_TMO_IDLE = 0,    /* established idle timeout (the table's LRU) */
    GW_TMO_SYN,
    GW_TMO_FIN,
    GW_TMO_UDP,
    GW_TMO_ICMP,
    GW_TMO_N,
};

enum gw_tcp_verdict {
    GW_TCP_OK = 0,      /* the packet fits the state (which may have moved) */
    GW_TCP_INVALID,     /* out of state: drop and count */
    GW_TCP_REOPEN,      /* a client SYN on a closed connection: start a new one */
};

/* FIN bits in *fin: which sides have sent a FIN. */
enum { GW_FIN_CLIENT = 1U << 0, GW_FIN_SERVER = 1U << 1 };

/* Moves TCP state *st / *fin by one packet with flags (BT_TCP_*) sent by the
 * client (from_client) or the server. loose: the connection was picked up
 * mid-stream (promoted from a backup that may be one batch behind), so a
 * handshake state accepts data as established. No sequence checks. */
enum gw_tcp_verdict gw_tcp_track(uint8_t *st, uint8_t *fin, uint8_t flags, bool from_client,
                                 bool loose);
/* Whether a first packet may open a connection: TCP SYN without ACK/RST;
 * UDP and other protocols always; ICMP / ICMPv6 echo requests only. */
bool gw_conn_opens(uint8_t proto, uint8_t tcp_flags, uint8_t icmp_type);
/* The state a new connection starts in. */
enum gw_conn_state gw_conn_initial(uint8_t proto);
/* ICMP / ICMPv6 messages that are not echo request/reply carry no
 * connection: they pass the policy statelessly. */
bool gw_icmp_stateless(uint8_t proto, uint8_t icmp_type);
enum gw_tmo gw_conn_tmo(enum gw_conn_state st);
const char *gw_conn_state_name(enum gw_conn_state st);

#endif
