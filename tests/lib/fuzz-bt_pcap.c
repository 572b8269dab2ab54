/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer entry for capture reading (bt_pcap: its own walker over plain
 * pcap, libpcap for the rest and for the records it hands over): the input
 * is a whole capture file, written to a scratch file and read to its end.
 * Every record's bytes are touched (sanitizers see a read past a buffer);
 * a record is never longer than the snap length limit, its wire length never
 * shorter than what was captured, and a failure always says why. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_err.h"
#include "bt_pcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    unlink(path);
    return 0;
}
