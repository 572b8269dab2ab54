/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for tgen's pcap template loader (tg_tset_add_pcap, what
 * --template FILE and a profile's pcap: run): any file is either refused
 * with a message, or loaded into templates whose every packet is a frame
 * the parser takes whole, and which can be retimed. The loader reads a
 * path, so each input goes through a temporary file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_err.h"
#include "bt_parse.h"
#include "tg_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_templates(const struct tg_tset *set)
{
    for (unsigned k = 0; k < set->n; k++) {
        struct tg_tmpl *t = &set->t[k];
        tg_tmpl_retime(t, 1000, 2000);
        for (uint32_t i = 0; i < t->n; i++) {
            struct bt_parsed p;
            if (bt_parse(t->blob + t->p[i].off, t->p[i].len, BT_LINK_ETHERNET, &p) !=
                BT_PARSE_OK)
                abort();  /* a template packet the engine could not rewrite */
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tg_tmpl_cfg c;
    char path[] = "/tmp/bt-fuzz-tgpcap-XXXXXX";
    struct tg_tset set;
    struct bt_err e = {{0}};
    int fd, r;

    if (size > (1u << 20) || (fd = mkstemp(path)) < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        goto out;
    }
    close(fd);
    memset(&c, 0, sizeof(c));
    snprintf(c.pcap, sizeof(c.pcap), "%s", path);
    c.flow = -1;
    c.weight = 1;
    memset(&set, 0, sizeof(set));
    r = tg_tset_add_pcap(&set, &c, 0, &e);
    if (r < 0 && !e.msg[0])
        abort();  /* refused without saying why */
    if (r == 0)
        check_templates(&set);
    tg_tset_clear(&set);
out:
    unlink(path);
    return 0;
}
