/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --live against an external device (docs/plans.md, "--live"): the plan's
 * traffic through two DPDK ports by baton-tgen (a separate process), the
 * plan's run: hooks at their times on the wall clock, then the same checks
 * as --sim on what the device left: the link captures tgen took, member
 * captures when a lab tap gave them, tgen's summary.
 */
#ifndef PL_LIVE_H
#define PL_LIVE_H

#include <stddef.h>

#include "pl_api.h"

struct bt_err;

/* What the command line gives; each overrides the plan's live: field. */
struct pl_live_opts {
    const char *client, *server;   /* --client-port, --server-port: port SPECs */
    const char *eal;               /* --eal: EAL arguments, separated by spaces */
    const char *tgen;              /* the baton-tgen binary to run */
};

/* Whether p can run live with o: tgen traffic, no event that needs
 * a cluster (fail, restore, add, set_weight, policy), both ports known and
 * well formed. 0, or -EINVAL with e = "file:line:col: problem". */
int pl_live_check(const struct pl_plan *p, const struct pl_live_opts *o, struct bt_err *e);

/* The EAL arguments for one port SPEC (port 0: the client side, 1: the
 * server side): an interface name gives "--vdev net_af_packet<port>,iface=
 * NAME", a string starting with "net_" "--vdev SPEC", a PCI address
 * "-a SPEC". Writes the two arguments into a[0], a[1] (pointing into buf,
 * n bytes). 1 when the SPEC is a PCI address, 0 otherwise, -EINVAL. */
int pl_live_port_args(const char *spec, unsigned port, char *buf, size_t n, const char *a[2]);

/* Writes the plan's traffic as a baton-tgen profile (JSON, which YAML
 * reads) to path, relative pcap paths made absolute. 0 or -errno with e. */
int pl_live_write_profile(const struct pl_plan *p, const char *path, struct bt_err *e);

/* Writes the traffic of one step of p's ramp at load (find: cps: load new
 * connections a second for ramp.trial; find: concurrent: load connections
 * at the profile's own rate; the templates' own cps taken out, so they
 * share the rate by weight) as a baton-tgen profile to path. 0 or -errno
 * with e. */
int pl_live_write_step_profile(const struct pl_plan *p, double load, const char *path,
                               struct bt_err *e);

/* Merges tgen's port<port>-tx.pcap and port<port>-rx.pcap of dir into out
 * (both directions of one link, by time), leaving out the frames that are
 * no TCP or UDP over IP (the device's own ARP, ICMPv6, LLDP...): *foreign
 * counts them. 0 or -errno with e. */
int pl_live_merge_link(const char *dir, unsigned port, const char *out, uint64_t *foreign,
                       struct bt_err *e);

/* Runs p live: out is its directory (created). A ramp: runs its search,
 * one baton-tgen run a step under out/step-<k>/, res->ramp_json its steps.
 * 0 with *res filled (the verdicts), or -errno with e (bad plan, baton-tgen refused the run or did
 * not end, I/O: exit 2). */
int pl_run_live(const struct pl_plan *p, const struct pl_live_opts *o, const char *out,
                struct pl_result *res, struct bt_err *e);

#endif
