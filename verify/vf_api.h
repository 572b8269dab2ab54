/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-verify's core: judges a cluster from the captures taken on each
 * member's downlink (a capture set, DESIGN.md contract 1). One streaming pass
 * over all member captures merged by time; memory grows with concurrent
 * flows, not with file size. Definitions: docs/verify.md.
 *
 * The plan runner includes this header (and only this one of verify/).
 */
#ifndef VF_API_H
#define VF_API_H

#include <stdbool.h>
#include <stdint.h>

struct bt_err;
struct bt_ydoc;
struct bt_ynode;
struct vf_report;

/* The closed list of check names (plans' expect_fail uses these). */
#define VF_CHECK_AFFINITY "affinity"
#define VF_CHECK_SYMMETRY "symmetry"
#define VF_CHECK_FAILOVER "failover"
#define VF_CHECK_BALANCE  "balance"
#define VF_CHECK_LOSS     "loss"
#define VF_NCHECKS 5
extern const char *const vf_check_names[VF_NCHECKS];

struct vf_thresholds {
    uint64_t max_affinity;      /* violations allowed (default 0) */
    uint64_t max_symmetry;      /* violations allowed (default 0) */
    uint64_t max_lost;          /* failover: affected - survived allowed (default 0) */
    double max_gap_ms;          /* failover: largest gap of a survivor (default 300) */
    double max_balance_pct;     /* balance: largest deviation from weight share (default 10) */
    uint64_t min_flows_per_sgm; /* balance judged only when every member expects this many (1000) */
    uint64_t idle_ns;           /* flow idle timeout (default 2 s) */
    unsigned max_offenders;     /* offending flows listed per check (default 20) */
    double max_loss_pct;        /* loss judged per direction when >= 0 (default -1: reported only) */
};

void vf_thresholds_default(struct vf_thresholds *t);
/* Reads an `expect:` mapping (keys: affinity, symmetry, lost, max_gap, balance_pct,
 * min_flows_per_sgm, idle, loss_pct) over *t. Unknown keys are errors with file:line:col.
 * Keys it does not own (other parts' expectations) may be passed in `ignore`
 * (NULL-terminated, may be NULL). */
int vf_thresholds_load(const struct bt_ydoc *d, const struct bt_ynode *expect,
                       const char *const *ignore, struct vf_thresholds *t, struct bt_err *e);

#define VF_MAX_MEMBERS 64

struct vf_input {
    const char *capset;                     /* a capture set directory, or NULL */
    unsigned nsgm;                          /* members given by hand (--sgm) */
    int sgm_id[VF_MAX_MEMBERS];
    const char *sgm_path[VF_MAX_MEMBERS];
    const char *events;                     /* events.jsonl (overrides the capset's) */
    const char *corrections;                /* corrections.jsonl (overrides) */
    unsigned nweights;                      /* weights by hand (--weights) */
    int weight_id[VF_MAX_MEMBERS];
    unsigned weight[VF_MAX_MEMBERS];
    const char *client, *server;            /* link captures (override the capset's) */
    const char *nat;                        /* nat.jsonl (overrides the capset's) */
    unsigned threads;                       /* 1: one thread; 2: a reader thread beside
                                             * the checks; 0: 2 on a machine with 2+ CPUs */
};

/* Runs every check. 0 with *out set (caller frees with vf_report_free), or
 * -errno with e = "file: position: problem" for bad input (exit 2). */
int vf_check(const struct vf_input *in, const struct vf_thresholds *t, struct vf_report **out,
             struct bt_err *e);
struct vf_report *vf_report_free(struct vf_report *r);

bool vf_report_pass(const struct vf_report *r);
/* Per check: whether it was judged and passed, and a one-line message saying
 * what was expected and what was seen. name: one of vf_check_names. */
int vf_report_check(const struct vf_report *r, const char *name, bool *pass, const char **message);
/* The --json object (docs/formats.md, section verify). A new reference:
 * the caller owns it (json_decref). Returned as void * so that this header
 * does not need jansson's. */
void *vf_report_json(const struct vf_report *r);
/* The human summary, several lines, into f (a FILE *). */
void vf_report_print(const struct vf_report *r, void *f);

/* "1=100,2=50" into in->weight_*. -EINVAL with e describing the bad item. */
int vf_parse_weights(const char *s, struct vf_input *in, struct bt_err *e);
/* "ID=FILE" appended to in->sgm_*. */
int vf_parse_sgm(const char *s, struct vf_input *in, struct bt_err *e);

/* ---- split ---- */

enum vf_split_by { VF_SPLIT_VLAN = 0, VF_SPLIT_MAC, VF_SPLIT_INTERFACE };

struct vf_split_entry {
    uint16_t vlan;
    uint8_t mac[6];
    int sgm;
    uint32_t ifindex;   /* --by interface: pcapng interface id or SLL2 interface index */
    char ifname[32];    /* --by interface by pcapng if_name ("" when by number) */
};

struct vf_split_map {
    unsigned n;
    struct vf_split_entry e[VF_MAX_MEMBERS * 4];
};

struct vf_split_result {
    uint64_t packets, unmapped;
    uint64_t per_sgm[VF_MAX_MEMBERS + 1];
};

/* "101=1,102=2" (VLAN), "02:00:00:00:00:01=1,..." (MAC) or "0=1,1=2" /
 * "eth1=1,eth2=2" (interface: a number, or a pcapng interface name). */
int vf_split_map_parse(const char *s, enum vf_split_by by, struct vf_split_map *m,
                       struct bt_err *e);
/* Writes a capture set to out: sgm-<id>.pcap per mapped member, unmapped
 * packets to unmapped.pcap, capset.json (weights 1), events.jsonl (empty).
 * By interface: a pcapng tap by the interface id of each packet block (or
 * the if_name of that interface); a classic pcap of Linux cooked v2 (SLL2)
 * by the interface index in each frame's header, whose frames are written
 * as Ethernet (source MAC from the SLL2 address, destination zero). */
int vf_split(const char *tap, enum vf_split_by by, const struct vf_split_map *m, const char *out,
             struct vf_split_result *res, struct bt_err *e);

/* ---- diff ---- */

struct vf_diff_opts {
    uint64_t idle_ns;        /* flow idle timeout (default 2 s) */
    uint64_t tol_packets;    /* per direction (and retransmissions, holes) */
    uint64_t tol_bytes;      /* per direction */
    uint64_t tol_time_ns;    /* duration and longest gap of a flow (UINT64_MAX: not compared) */
    bool ignore_members;     /* a flow that changed member is not a difference */
    unsigned max_list;       /* flows listed per kind (default 20) */
};

void vf_diff_opts_default(struct vf_diff_opts *o);
/* Compares a and b (each a capture file or a capture set directory) flow by
 * flow. 0: the same within tolerances, 1: different; *json_out is then the
 * report (json_t *, the caller decrefs). -errno with e filled on bad input. */
int vf_diff(const char *a, const char *b, const struct vf_diff_opts *o, void **json_out,
            struct bt_err *e);

#endif
