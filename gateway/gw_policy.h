/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The compiled policy (internal to gateway_core): struct gw_policy (gw_api.h)
 * with its payload patterns compiled once by PCRE2 and JIT-compiled when the
 * platform can. One compiled policy serves every member (the SMO installs it
 * everywhere at once).
 */
#ifndef GW_POLICY_H
#define GW_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "gw_api.h"

struct bt_parsed;
struct gw_cpolicy;

/* NULL with e = "rule N (name): pattern: PCRE2 message at offset K" or ENOMEM. */
struct gw_cpolicy *gw_cpolicy_new(const struct gw_policy *p, struct bt_err *e);
struct gw_cpolicy *gw_cpolicy_free(struct gw_cpolicy *c);
bool gw_cpolicy_has_content(const struct gw_cpolicy *c);

/* The verdict on a connection's first packet (parsed p of frame[0..caplen)):
 * the first matching rule's action (patterns tested on this packet's
 * payload), else the default. *rule = its index or -1 for the default. */
enum gw_action gw_cpolicy_first(const struct gw_cpolicy *c, const struct bt_parsed *p,
                                const uint8_t *frame, uint32_t caplen, int *rule);
/* Content inspection of a later packet with payload: true when a rule with
 * a pattern matches (its action in *act, index in *rule). */
bool gw_cpolicy_content(const struct gw_cpolicy *c, const struct bt_parsed *p,
                        const uint8_t *frame, uint32_t caplen, enum gw_action *act, int *rule);

/* Field parsers shared by the YAML and JSON loaders: 0 or -EINVAL. */
int gw_action_parse(const char *s, enum gw_action *a);
/* "tcp", "udp", "icmp", "icmp6", "sctp", "any" or a number 0..255 (-1 = any). */
int gw_proto_parse(const char *s, int *proto);
/* "80", "1000-2000", "any". */
int gw_ports_parse(const char *s, uint16_t *lo, uint16_t *hi);

/* A policy from a JSON object (the control channel's "policy" command):
 * {"default": "accept", "rules": [{"name", "action", "src", "dst", "proto",
 * "sport", "dport", "payload"}]}; src/dst a CIDR string or a list of them.
 * json is a json_t *. -EINVAL with e = "policy.rules[N].field: problem". */
int gw_policy_from_json(const void *json, struct gw_policy *p, struct bt_err *e);

#endif
