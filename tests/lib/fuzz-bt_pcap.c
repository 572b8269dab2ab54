/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer entry for capture reading (bt_pcap: its own walker over plain
 * pcap, libpcap for the rest and for the records it hands over): the input
 * is a whole capture file, written to a scratch file and read to its end.
 * Every record's bytes are touched (sanitizers see a read past a buffer);
 * a record is never longer than the snap length limit, its wire length never
 * shorter than what was captured, and a failure always says why. The file
 * is read again through bt_pcap_next_batch and through a one-input merge's
 * batches (the batch size from the input): the same records, the same end
 * and the same message, or it aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_err.h"
#include "bt_pcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a pass saw: a digest of every record, the count and the end. */
struct pass {
    uint64_t digest, n;
    int rc;
    char msg[sizeof(((struct bt_err *)0)->msg)];
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

static void take(struct pass *p, const struct bt_pcap_rec *rec)
{
    uint64_t h = mix(mix(mix(p->digest, rec->ts_ns), rec->caplen), rec->wire_len);
    h = mix(h, rec->index);
    for (uint32_t i = 0; i < rec->caplen; i++)
        h = mix(h, rec->data[i]);
    p->digest = h;
    p->n++;
}

/* mode 0: bt_pcap_next; 1: bt_pcap_next_batch; 2: a merge of one reader */
static void read_all(const char *path, int mode, unsigned max, struct pass *p)
{
    struct bt_err e;
    struct bt_pcap_rec recs[64];
    struct bt_pcap_reader *r;
    struct bt_pcap_merge *m = NULL;
    int rc;

    memset(p, 0, sizeof(*p));
    memset(&e, 0, sizeof(e));
    if (!(r = bt_pcap_open(path, &e))) {
        p->rc = -1;
        return;
    }
    if (mode == 2 && !(m = bt_pcap_merge_new(&r, 1)))
        abort();
    for (;;) {
        unsigned which = 0;
        if (p->n >= 100000) {
            rc = 0;
            break;
        }
        if (mode == 0)
            rc = bt_pcap_next(r, &recs[0], &e);
        else if (mode == 1)
            rc = bt_pcap_next_batch(r, recs, max, &e);
        else
            rc = bt_pcap_merge_next_batch(m, recs, max, &which, &e);
        if (rc <= 0)
            break;
        if ((unsigned)rc > max || which != 0)
            abort();
        /* every record of a batch still valid after the others were read */
        for (int i = 0; i < rc; i++)
            take(p, &recs[i]);
    }
    p->rc = rc;
    snprintf(p->msg, sizeof(p->msg), "%s", rc < 0 ? e.msg : "");
    bt_pcap_merge_free(m);
    bt_pcap_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/bt-fuzz-pcap-XXXXXX";
    struct bt_pcap_reader *r;
    struct bt_pcap_rec rec;
    struct bt_err e;
    volatile uint8_t sink = 0;
    int fd, rc;

    if (size > (4u << 20) || (fd = mkstemp(path)) < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    memset(&e, 0, sizeof(e));
    r = bt_pcap_open(path, &e);
    if (!r) {
        if (!e.msg[0])
            abort();
    } else {
        uint64_t n = 0;
        while ((rc = bt_pcap_next(r, &rec, &e)) == 1 && n++ < 100000) {
            if (rec.caplen > (1u << 28) || rec.wire_len < rec.caplen || rec.index != n - 1)
                abort();
            for (uint32_t i = 0; i < rec.caplen; i++)
                sink ^= rec.data[i];
        }
        if (rc < 0 && !e.msg[0])
            abort();
        bt_pcap_close(r);
    }
    (void)sink;
    {
        struct pass one, batch, merged;
        unsigned max = 1 + (size ? data[size - 1] % 64 : 0);
        read_all(path, 0, 1, &one);
        read_all(path, 1, max, &batch);
        read_all(path, 2, max, &merged);
        /* the one-record reader stops at 100000 records, the batches may
         * pass it within their last call: compare only files below that */
        if (one.n < 100000 &&
            (one.rc != batch.rc || one.n != batch.n || one.digest != batch.digest ||
             strcmp(one.msg, batch.msg) || one.rc != merged.rc || one.n != merged.n ||
             one.digest != merged.digest || strcmp(one.msg, merged.msg)))
            abort();
    }
    unlink(path);
    return 0;
}
