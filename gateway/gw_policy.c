/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy: ordered rules on CIDRs (v4 and v6), protocol, port ranges and an
 * optional payload pattern. Patterns are compiled once per install with
 * PCRE2 and JIT-compiled (pcre2_jit_match on the hot path); one match data
 * block per policy suffices because a cluster runs on one thread.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "gw_policy.h"

#include <errno.h>
#include <jansson.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_err.h"
#include "bt_parse.h"
#include "bt_yaml.h"

struct gw_cpolicy {
    struct gw_policy p;
    pcre2_code *re[GW_MAX_RULES];
    bool jit[GW_MAX_RULES];
    pcre2_match_data *md;
    bool has_content;
};

void gw_policy_default(struct gw_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->default_action = GW_ACCEPT;
}

const char *gw_action_name(enum gw_action a)
{
    switch (a) {
    case GW_ACCEPT: return "accept";
    case GW_DROP: return "drop";
    case GW_REJECT: return "reject";
    }
    return "?";
}

int gw_action_parse(const char *s, enum gw_action *a)
{
    if (!strcmp(s, "accept"))
        *a = GW_ACCEPT;
    else if (!strcmp(s, "drop"))
        *a = GW_DROP;
    else if (!strcmp(s, "reject"))
        *a = GW_REJECT;
    else
        return -EINVAL;
    return 0;
}

int gw_proto_parse(const char *s, int *proto)
{
    static const struct {
        const char *name;
        int num;
    } names[] = {{"any", -1}, {"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmp6", 58},
                 {"icmpv6", 58}, {"sctp", 132}, {"gre", 47}, {"esp", 50}};
    char *end;
    long v;

    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(s, names[i].name)) {
            *proto = names[i].num;
            return 0;
        }
    /* digits only: strtol also takes " 6", "+6", "-0" */
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtol(s, &end, 10);
    if (*end || errno || v < 0 || v > 255)
        return -EINVAL;
    *proto = (int)v;
    return 0;
}

static int port_num(const char *s, const char *end, uint16_t *out)
{
    unsigned long v = 0;

    if (s == end || end - s > 5)
        return -EINVAL;
    for (const char *c = s; c < end; c++) {
        if (*c < '0' || *c > '9')
            return -EINVAL;
        v = v * 10 + (unsigned long)(*c - '0');
    }
    if (v > 65535)
        return -EINVAL;
    *out = (uint16_t)v;
    return 0;
}

int gw_ports_parse(const char *s, uint16_t *lo, uint16_t *hi)
{
    const char *dash = strchr(s, '-');
    uint16_t a, b;

    if (!strcmp(s, "any")) {
        *lo = 0;
        *hi = 65535;
        return 0;
    }
    if (!dash) {
        if (port_num(s, s + strlen(s), &a) < 0)
            return -EINVAL;
        b = a;
    } else if (port_num(s, dash, &a) < 0 || port_num(dash + 1, dash + 1 + strlen(dash + 1), &b) < 0 ||
               a > b) {
        return -EINVAL;
    }
    *lo = a;
    *hi = b;
    return 0;
}

static void rule_init(struct gw_rule *r)
{
    memset(r, 0, sizeof(*r));
    r->proto = -1;
    r->sport_hi = r->dport_hi = 65535;
}

/* A pattern PCRE2 rejects, as a message. 0 or -EINVAL. */
static int pattern_check(const char *pat, char *msg, size_t len)
{
    int errc;
    PCRE2_SIZE erro;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0, &errc, &erro, NULL);
    PCRE2_UCHAR buf[160];

    if (re) {
        pcre2_code_free(re);
        return 0;
    }
    pcre2_get_error_message(errc, buf, sizeof(buf));
    snprintf(msg, len, "%s at offset %zu", (const char *)buf, (size_t)erro);
    return -EINVAL;
}

/* ---- YAML ---- */

static int y_cidrs(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field,
                   struct bt_cidr *out, uint8_t *nout, struct bt_err *e)
{
    const struct bt_ynode *one = n;
    unsigned cnt = 1;
    const char *s;

    if (n->kind == BT_Y_SEQ) {
        cnt = n->n;
        if (cnt == 0 || cnt > GW_MAX_RULE_CIDRS)
            return bt_y_error(d, n, e, "%s: 1..%d prefixes", field, GW_MAX_RULE_CIDRS);
    }
    for (unsigned i = 0; i < cnt; i++) {
        if (n->kind == BT_Y_SEQ)
            one = n->items[i];
        if (bt_y_str(d, one, field, &s, e) < 0)
            return -EINVAL;
        if (!strcmp(s, "any") && cnt == 1) {
            *nout = 0;
            return 0;
        }
        if (bt_cidr_parse(s, &out[i]) < 0)
            return bt_y_error(d, one, e, "%s: '%s' is not an address or prefix (10.0.0.0/8, 2001:db8::/32)",
                              field, s);
    }
    *nout = (uint8_t)cnt;
    return 0;
}

static int y_rule(const struct bt_ydoc *d, const struct bt_ynode *n, unsigned idx,
                  struct gw_rule *r, struct bt_err *e)
{
    static const char *const keys[] = {"name", "action", "src", "dst", "proto", "sport", "dport",
                                       "payload", NULL};
    const struct bt_ynode *k;
    const char *s;
    char what[48], msg[200];

    snprintf(what, sizeof(what), "policy.rules[%u]", idx);
    if (bt_y_check_keys(d, n, what, keys, e) < 0)
        return -EINVAL;
    rule_init(r);
    if ((k = bt_y_get(n, "name"))) {
        if (bt_y_str(d, k, "policy.rules[].name", &s, e) < 0)
            return -EINVAL;
        /* it was cut to fit, silently */
        if (strlen(s) >= sizeof(r->name))
            return bt_y_error(d, k, e, "policy.rules[].name: '%s' is %zu bytes: at most %zu", s, strlen(s),
                              sizeof(r->name) - 1);
        snprintf(r->name, sizeof(r->name), "%s", s);
    }
    if (!(k = bt_y_get(n, "action")))
        return bt_y_error(d, n, e, "%s: a rule needs an action (accept, drop, reject)", what);
    if (bt_y_str(d, k, "policy.rules[].action", &s, e) < 0)
        return -EINVAL;
    if (gw_action_parse(s, &r->action) < 0)
        return bt_y_error(d, k, e, "policy.rules[].action: '%s' is not accept, drop or reject", s);
    if ((k = bt_y_get(n, "src")) && y_cidrs(d, k, "policy.rules[].src", r->src, &r->nsrc, e) < 0)
        return -EINVAL;
    if ((k = bt_y_get(n, "dst")) && y_cidrs(d, k, "policy.rules[].dst", r->dst, &r->ndst, e) < 0)
        return -EINVAL;
    if ((k = bt_y_get(n, "proto"))) {
        if (bt_y_str(d, k, "policy.rules[].proto", &s, e) < 0)
            return -EINVAL;
        if (gw_proto_parse(s, &r->proto) < 0)
            return bt_y_error(d, k, e, "policy.rules[].proto: '%s' is not tcp, udp, icmp, icmp6, sctp, any or 0..255", s);
    }
    if ((k = bt_y_get(n, "sport"))) {
        if (bt_y_str(d, k, "policy.rules[].sport", &s, e) < 0)
            return -EINVAL;
        if (gw_ports_parse(s, &r->sport_lo, &r->sport_hi) < 0)
            return bt_y_error(d, k, e, "policy.rules[].sport: '%s' is not a port or range (80, 1000-2000)", s);
    }
    if ((k = bt_y_get(n, "dport"))) {
        if (bt_y_str(d, k, "policy.rules[].dport", &s, e) < 0)
            return -EINVAL;
        if (gw_ports_parse(s, &r->dport_lo, &r->dport_hi) < 0)
            return bt_y_error(d, k, e, "policy.rules[].dport: '%s' is not a port or range (80, 1000-2000)", s);
    }
    if ((k = bt_y_get(n, "payload"))) {
        if (bt_y_str(d, k, "policy.rules[].payload", &s, e) < 0)
            return -EINVAL;
        if (!*s || strlen(s) >= GW_PATTERN_MAX)
            return bt_y_error(d, k, e, "policy.rules[].payload: a pattern of 1..%d bytes", GW_PATTERN_MAX - 1);
        if (pattern_check(s, msg, sizeof(msg)) < 0)
            return bt_y_error(d, k, e, "policy.rules[].payload: PCRE2: %s", msg);
        snprintf(r->pattern, sizeof(r->pattern), "%s", s);
    }
    return 0;
}

int gw_policy_load(const struct bt_ydoc *d, const struct bt_ynode *n, struct gw_policy *out,
                   struct bt_err *e)
{
    static const char *const keys[] = {"default", "rules", NULL};
    struct gw_policy *p = malloc(sizeof(*p));
    const struct bt_ynode *k;
    const char *s;
    int r = -EINVAL;

    if (!p)
        return bt_err_setr(e, -ENOMEM, "out of memory");
    gw_policy_default(p);
    if (bt_y_check_keys(d, n, "policy", keys, e) < 0)
        goto out;
    if ((k = bt_y_get(n, "default"))) {
        if (bt_y_str(d, k, "policy.default", &s, e) < 0)
            goto out;
        if (gw_action_parse(s, &p->default_action) < 0) {
            bt_y_error(d, k, e, "policy.default: '%s' is not accept, drop or reject", s);
            goto out;
        }
    }
    if ((k = bt_y_get(n, "rules"))) {
        if (k->kind != BT_Y_SEQ || k->n > GW_MAX_RULES) {
            bt_y_error(d, k, e, "policy.rules: expected a list of at most %d rules", GW_MAX_RULES);
            goto out;
        }
        for (unsigned i = 0; i < k->n; i++)
            if (y_rule(d, k->items[i], i, &p->rule[i], e) < 0)
                goto out;
        p->nrules = k->n;
    }
    *out = *p;
    r = 0;
out:
    free(p);
    return r;
}

/* ---- JSON (control channel) ---- */

/* A string field, or a number rendered into num (ports and protocols may
 * come as numbers). */
static int j_str(json_t *o, const char *key, const char **out, char num[24])
{
    json_t *v = json_object_get(o, key);

    if (!v) {
        *out = NULL;
        return 0;
    }
    if (json_is_integer(v)) {
        snprintf(num, 24, "%lld", (long long)json_integer_value(v));
        *out = num;
        return 0;
    }
    if (!json_is_string(v))
        return -EINVAL;
    *out = json_string_value(v);
    return 0;
}

static int j_cidrs(json_t *v, struct bt_cidr *out, uint8_t *n)
{
    if (json_is_string(v)) {
        if (!strcmp(json_string_value(v), "any")) {
            *n = 0;
            return 0;
        }
        *n = 1;
        return bt_cidr_parse(json_string_value(v), out);
    }
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > GW_MAX_RULE_CIDRS)
        return -EINVAL;
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *x = json_array_get(v, i);
        if (!json_is_string(x) || bt_cidr_parse(json_string_value(x), &out[i]) < 0)
            return -EINVAL;
    }
    *n = (uint8_t)json_array_size(v);
    return 0;
}

int gw_policy_from_json(const void *json, struct gw_policy *out, struct bt_err *e)
{
    static const char *const keys[] = {"name", "action", "src", "dst", "proto", "sport", "dport",
                                       "payload", NULL};
    json_t *o = (json_t *)json, *rules, *v;
    struct gw_policy *p;
    const char *s, *key;
    char msg[200], num[24];
    int r = -EINVAL;

    if (!json_is_object(o))
        return bt_err_set(e, "policy: expected an object {\"default\", \"rules\"}");
    json_object_foreach(o, key, v)
        if (strcmp(key, "default") && strcmp(key, "rules"))
            return bt_err_set(e, "policy: unknown field '%s' (expected default, rules)", key);
    if (!(p = malloc(sizeof(*p))))
        return bt_err_setr(e, -ENOMEM, "out of memory");
    gw_policy_default(p);
    if (j_str(o, "default", &s, num) < 0 || (s && gw_action_parse(s, &p->default_action) < 0)) {
        bt_err_set(e, "policy.default: expected accept, drop or reject");
        goto out;
    }
    rules = json_object_get(o, "rules");
    if (rules && (!json_is_array(rules) || json_array_size(rules) > GW_MAX_RULES)) {
        bt_err_set(e, "policy.rules: expected a list of at most %d rules", GW_MAX_RULES);
        goto out;
    }
    for (size_t i = 0; rules && i < json_array_size(rules); i++) {
        json_t *ro = json_array_get(rules, i);
        struct gw_rule *ru = &p->rule[i];
        rule_init(ru);
        if (!json_is_object(ro)) {
            bt_err_set(e, "policy.rules[%zu]: expected an object", i);
            goto out;
        }
        json_object_foreach(ro, key, v) {
            bool known = false;
            for (const char *const *k = keys; *k; k++)
                known |= !strcmp(*k, key);
            if (!known) {
                bt_err_set(e, "policy.rules[%zu]: unknown field '%s'", i, key);
                goto out;
            }
        }
        if (j_str(ro, "name", &s, num) < 0) {
            bt_err_set(e, "policy.rules[%zu].name: expected a string", i);
            goto out;
        }
        if (s && strlen(s) >= sizeof(ru->name)) {
            bt_err_set(e, "policy.rules[%zu].name: '%s' is %zu bytes: at most %zu", i, s, strlen(s),
                       sizeof(ru->name) - 1);
            goto out;
        }
        if (s)
            snprintf(ru->name, sizeof(ru->name), "%s", s);
        if (j_str(ro, "action", &s, num) < 0 || !s || gw_action_parse(s, &ru->action) < 0) {
            bt_err_set(e, "policy.rules[%zu].action: expected accept, drop or reject", i);
            goto out;
        }
        if ((v = json_object_get(ro, "src")) && j_cidrs(v, ru->src, &ru->nsrc) < 0) {
            bt_err_set(e, "policy.rules[%zu].src: expected a prefix or a list of 1..%d", i, GW_MAX_RULE_CIDRS);
            goto out;
        }
        if ((v = json_object_get(ro, "dst")) && j_cidrs(v, ru->dst, &ru->ndst) < 0) {
            bt_err_set(e, "policy.rules[%zu].dst: expected a prefix or a list of 1..%d", i, GW_MAX_RULE_CIDRS);
            goto out;
        }
        if (j_str(ro, "proto", &s, num) < 0 || (s && gw_proto_parse(s, &ru->proto) < 0)) {
            bt_err_set(e, "policy.rules[%zu].proto: expected tcp, udp, icmp, icmp6, sctp, any or 0..255", i);
            goto out;
        }
        if (j_str(ro, "sport", &s, num) < 0 || (s && gw_ports_parse(s, &ru->sport_lo, &ru->sport_hi) < 0)) {
            bt_err_set(e, "policy.rules[%zu].sport: expected a port or a range", i);
            goto out;
        }
        if (j_str(ro, "dport", &s, num) < 0 || (s && gw_ports_parse(s, &ru->dport_lo, &ru->dport_hi) < 0)) {
            bt_err_set(e, "policy.rules[%zu].dport: expected a port or a range", i);
            goto out;
        }
        if (j_str(ro, "payload", &s, num) < 0 || (s && (!*s || strlen(s) >= GW_PATTERN_MAX))) {
            bt_err_set(e, "policy.rules[%zu].payload: expected a pattern of 1..%d bytes", i, GW_PATTERN_MAX - 1);
            goto out;
        }
        if (s) {
            if (pattern_check(s, msg, sizeof(msg)) < 0) {
                bt_err_set(e, "policy.rules[%zu].payload: PCRE2: %s", i, msg);
                goto out;
            }
            snprintf(ru->pattern, sizeof(ru->pattern), "%s", s);
        }
        p->nrules = (unsigned)i + 1;
    }
    *out = *p;
    r = 0;
out:
    free(p);
    return r;
}

/* ---- compiled ---- */

struct gw_cpolicy *gw_cpolicy_new(const struct gw_policy *p, struct bt_err *e)
{
    struct gw_cpolicy *c;

    if (p->nrules > GW_MAX_RULES) {
        bt_err_set(e, "policy: at most %d rules", GW_MAX_RULES);
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        bt_err_setr(e, -ENOMEM, "out of memory");
        return NULL;
    }
    c->p = *p;
    for (unsigned i = 0; i < p->nrules; i++) {
        int errc;
        PCRE2_SIZE erro;
        PCRE2_UCHAR buf[160];
        if (!p->rule[i].pattern[0])
            continue;
        c->re[i] = pcre2_compile((PCRE2_SPTR)p->rule[i].pattern, PCRE2_ZERO_TERMINATED, 0, &errc,
                                 &erro, NULL);
        if (!c->re[i]) {
            pcre2_get_error_message(errc, buf, sizeof(buf));
            bt_err_set(e, "policy rule %u (%s): payload: PCRE2: %s at offset %zu", i + 1,
                       p->rule[i].name, (const char *)buf, (size_t)erro);
            return gw_cpolicy_free(c);
        }
        /* JIT when the platform has it; the interpreter otherwise */
        c->jit[i] = pcre2_jit_compile(c->re[i], PCRE2_JIT_COMPLETE) == 0;
        c->has_content = true;
    }
    if (c->has_content && !(c->md = pcre2_match_data_create(4, NULL))) {
        bt_err_setr(e, -ENOMEM, "out of memory");
        return gw_cpolicy_free(c);
    }
    return c;
}

struct gw_cpolicy *gw_cpolicy_free(struct gw_cpolicy *c)
{
    if (!c)
        return NULL;
    for (unsigned i = 0; i < GW_MAX_RULES; i++)
        pcre2_code_free(c->re[i]);
    pcre2_match_data_free(c->md);
    free(c);
    return NULL;
}

bool gw_cpolicy_has_content(const struct gw_cpolicy *c)
{
    return c && c->has_content;
}

/* A prefix matches only packets of its own family: IPv4 lives in the
 * 128-bit space as ::ffff:0:0/96, so without the family `::/0` would match
 * every IPv4 packet and an IPv6 packet with a v4-mapped address the IPv4
 * rules (found in review). */
static bool cidrs_match(const struct bt_cidr *c, unsigned n, const uint8_t a[16], unsigned family)
{
    if (n == 0)
        return true;
    for (unsigned i = 0; i < n; i++)
        if (c[i].family == family && bt_cidr_match(&c[i], a))
            return true;
    return false;
}

static bool tuple_match(const struct gw_rule *r, const struct bt_parsed *p)
{
    bool ports_any = r->sport_lo == 0 && r->sport_hi == 65535 && r->dport_lo == 0 &&
                     r->dport_hi == 65535;

    if (r->proto >= 0 && r->proto != p->proto)
        return false;
    if (!cidrs_match(r->src, r->nsrc, p->src, p->ip_version) ||
        !cidrs_match(r->dst, r->ndst, p->dst, p->ip_version))
        return false;
    if (ports_any)
        return true;
    if (!(p->flags & BT_PF_PORTS))
        return false;   /* a port rule never matches a packet without ports */
    return p->sport >= r->sport_lo && p->sport <= r->sport_hi && p->dport >= r->dport_lo &&
           p->dport <= r->dport_hi;
}

/* 1 match, 0 no match, -1 the match failed (PCRE2's match or depth limit,
 * the JIT stack): not knowing whether a packet matches, the policy drops it
 * (fails closed) whatever the rule's action, so a pattern that backtracks
 * too much never lets traffic through a drop rule. */
static int payload_match(const struct gw_cpolicy *c, unsigned i, const struct bt_parsed *p,
                         const uint8_t *frame, uint32_t caplen)
{
    uint32_t n;
    int rc;

    if (p->payload_off >= caplen || p->payload_len == 0)
        return 0;
    n = caplen - p->payload_off;
    if (n > p->payload_len)
        n = p->payload_len;
    if (c->jit[i])
        rc = pcre2_jit_match(c->re[i], frame + p->payload_off, n, 0, 0, c->md, NULL);
    else
        rc = pcre2_match(c->re[i], frame + p->payload_off, n, 0, 0, c->md, NULL);
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

enum gw_action gw_cpolicy_first(const struct gw_cpolicy *c, const struct bt_parsed *p,
                                const uint8_t *frame, uint32_t caplen, int *rule)
{
    for (unsigned i = 0; i < c->p.nrules; i++) {
        const struct gw_rule *r = &c->p.rule[i];
        if (!tuple_match(r, p))
            continue;
        if (c->re[i]) {
            int m = payload_match(c, i, p, frame, caplen);
            if (m == 0)
                continue;
            if (m < 0) {
                *rule = (int)i;
                return GW_DROP;
            }
        }
        *rule = (int)i;
        return r->action;
    }
    *rule = -1;
    return c->p.default_action;
}

bool gw_cpolicy_content(const struct gw_cpolicy *c, const struct bt_parsed *p,
                        const uint8_t *frame, uint32_t caplen, enum gw_action *act, int *rule)
{
    if (!c->has_content)
        return false;
    for (unsigned i = 0; i < c->p.nrules; i++) {
        int m;
        if (!c->re[i] || !tuple_match(&c->p.rule[i], p) || !(m = payload_match(c, i, p, frame, caplen)))
            continue;
        *act = m < 0 ? GW_DROP : c->p.rule[i].action;
        *rule = (int)i;
        return true;
    }
    return false;
}
