/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for baton-tgen's option parser (tgen/tg_cli.c,
 * tg_cli_parse). The input is the arguments after the program name, each
 * ended by a NUL byte (the last one need not be). --profile and --template
 * read files and are left out (their loaders have their own fuzzers). A
 * refusal must say why; a command line taken must leave every figure in the
 * range --help gives, and parsing it once more must give the same options
 * (the parser keeps no state between calls), and after a refusal a plain
 * "--synth tcp" is still taken.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_err.h"
#include "tg_cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

static void check(const struct tg_opts *o)
{
    const struct tg_profile *p = &o->prof;

    if (p->flows > 1000000000000ull || !(p->cps >= 0.001 && p->cps <= 1e9) ||
        !(p->speed >= 1e-6 && p->speed <= 1e6) || p->vlan > 4094 || p->retries > 30 ||
        (p->pps != 0 && !(p->pps >= 1 && p->pps <= 1e10)) ||
        (p->bps != 0 && !(p->bps >= 12800 && p->bps <= 1e13)) || p->cport_lo > p->cport_hi ||
        p->cport_lo == 0 || o->workers < 1 || o->workers > 64 || p->rto_ns < 1000 ||
        p->rto_max_ns < p->rto_ns || o->line_bps < 1000000 || o->line_bps > 10000000000000ull ||
        (o->mbufs && (o->mbufs < 1024 || o->mbufs > (1u << 26))) ||
        (o->neigh_refresh_ns && o->neigh_refresh_ns < 1000000) || p->nclients > TG_MAX_POOLS ||
        p->nservers > TG_MAX_POOLS)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *argv[MAX_ARGS + 2];
    struct tg_opts *o = malloc(sizeof(*o)), *o2 = malloc(sizeof(*o2));
    struct bt_err e;
    int argc = 1, rc;

    if (!buf || !o || !o2 || size > 4096)
        goto out;
    memcpy(buf, data, size);
    buf[size] = '\0';
    argv[0] = "baton-tgen";
    for (size_t i = 0; i < size && argc <= MAX_ARGS; i += strlen(buf + i) + 1) {
        const char *a = buf + i;
        if (!strncmp(a, "--pr", 4) || !strncmp(a, "--t", 3) || !strncmp(a, "--h", 3))
            goto out;   /* files and --help's text */
        argv[argc++] = buf + i;
    }
    if (argc > MAX_ARGS)
        goto out;
    argv[argc] = NULL;
    memset(&e, 0, sizeof(e));
    rc = tg_cli_parse(argc, argv, o, &e);
    if (rc < 0 && !e.msg[0])
        abort();
    if (rc < 0) {
        /* a refusal leaves nothing behind for the next parse (getopt's
         * place in a cluster of short options did: a libc read, unseen) */
        char *ok[] = {"baton-tgen", "--synth", "tcp", NULL};
        memset(&e, 0, sizeof(e));
        if (tg_cli_parse(3, ok, o2, &e) != 0)
            abort();
    }
    if (rc == 0) {
        check(o);
        memset(&e, 0, sizeof(e));
        if (tg_cli_parse(argc, argv, o2, &e) != 0 || memcmp(o, o2, sizeof(*o)) != 0)
            abort();
    }
out:
    free(o2);
    free(o);
    free(buf);
    return 0;
}
