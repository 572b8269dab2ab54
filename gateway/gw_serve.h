/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --serve (library gateway_sim, a driver, not the core): paces a simulation
 * to `speed` times wall time and serves the stats stream (contract 2) and
 * control commands (contract 3) as JSON lines on a UNIX stream socket, in
 * one poll loop. Protocol: docs/formats.md sections 2 and 3.
 */
#ifndef GW_SERVE_H
#define GW_SERVE_H

#include <signal.h>
#include <stdint.h>

struct bt_err;
struct gw_cluster;
struct gw_serve;

/* Set by the program's SIGINT/SIGTERM handler: gw_serve_pace then returns -EINTR. */
extern volatile sig_atomic_t gw_serve_stop;

/* Listens on path (an existing socket file there is replaced). NULL with e filled. */
struct gw_serve *gw_serve_open(const char *path, double speed, struct bt_err *e);
/* Closes every connection and removes the socket file. Accepts NULL; returns NULL. */
struct gw_serve *gw_serve_close(struct gw_serve *s);
/* Waits until wall time reaches virtual time t (the first call fixes the
 * origin), serving the socket meanwhile. A command that arrives is applied
 * to g at the virtual time it arrived (between g's time and t) and the call
 * returns 1 so the driver recomputes its next step; 0 when t is reached;
 * -EINTR when gw_serve_stop was set. */
int gw_serve_pace(struct gw_serve *s, struct gw_cluster *g, uint64_t t);
/* The same, also returning 2 as soon as one of fds (at most
 * GW_SERVE_MAX_FDS: the live driver's interfaces) is readable or in error,
 * the socket served first. */
#define GW_SERVE_MAX_FDS 4
int gw_serve_pace_fds(struct gw_serve *s, struct gw_cluster *g, uint64_t t, const int *fds, unsigned nfds);
/* Fixes the origin: virtual time v0 is now (otherwise the first pace
 * call's t is). The live driver's virtual time is its wall clock. */
void gw_serve_start(struct gw_serve *s, uint64_t v0);
/* Queues one stats line (no newline) to every client. A client that does
 * not keep up (1 MiB behind) is disconnected. */
void gw_serve_stats(struct gw_serve *s, const char *line);
/* Clients connected now, commands applied so far. */
unsigned gw_serve_clients(const struct gw_serve *s);
uint64_t gw_serve_commands(const struct gw_serve *s);

#endif
