/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for the replay driver's event timelines (gateway/gw_replay.c):
 * the input is written as EVENTS.jsonl (when it starts with '{') or
 * EVENTS.yaml and replayed over two tiny captures; a bad timeline is an
 * error with a message naming the file, never a crash.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt_err.h"
#include "gw_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(path);
}

static void cleanup(void)
{
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* A pcap with one Ethernet/IPv4/TCP SYN (or SYN+ACK from the server side). */
static void write_pcap(const char *path, int server)
{
    static const uint8_t hdr[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
                                    0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0};
    uint8_t rec[16 + 54] = {0};
    uint8_t *f = rec + 16, *ip = f + 14, *tcp = ip + 20;
    FILE *o = fopen(path, "wb");

    if (!o)
        abort();
    rec[0] = server ? 2 : 1;          /* 1 s, 2 s */
    rec[8] = rec[12] = 54;
    f[12] = 0x08;
    ip[0] = 0x45; ip[3] = 40; ip[8] = 64; ip[9] = 6;
    ip[12] = server ? 192 : 10; ip[15] = 1; ip[16] = server ? 10 : 192; ip[19] = 1;
    if (!server) { ip[14] = 0; } else { ip[13] = 0; ip[14] = 2; }
    tcp[0] = server ? 0 : 0x04; tcp[1] = server ? 80 : 0; tcp[2] = server ? 0x04 : 0; tcp[3] = server ? 0 : 80;
    tcp[12] = 0x50; tcp[13] = server ? 0x12 : 0x02;
    if (fwrite(hdr, 1, sizeof(hdr), o) != sizeof(hdr) || fwrite(rec, 1, sizeof(rec), o) != sizeof(rec))
        abort();
    fclose(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_replay_opts o;
    struct gw_replay_result res;
    struct bt_err e = {""};
    char c[96], s[96], ev[96], out[96];
    FILE *f;

    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/bt-fuzz-gwev-%d", (int)getpid());
        if (mkdir(dir, 0700) < 0)
            abort();
        atexit(cleanup);
    }
    snprintf(c, sizeof(c), "%s/client.pcap", dir);
    snprintf(s, sizeof(s), "%s/server.pcap", dir);
    snprintf(ev, sizeof(ev), "%s/ev.%s", dir, size && data[0] == '{' ? "jsonl" : "yaml");
    snprintf(out, sizeof(out), "%s/out", dir);
    write_pcap(c, 0);
    write_pcap(s, 1);
    if (!(f = fopen(ev, "wb")))
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    gw_replay_opts_default(&o);
    o.client_pcap = c;
    o.server_pcap = s;
    o.events = ev;
    o.out = out;
    o.stats_interval_ns = 0;
    if (gw_replay_run(&o, &res, &e) < 0 && (!e.msg[0] || !strstr(e.msg, dir)))
        abort();   /* an error names the file it is about */
    unlink(ev);
    return 0;
}
