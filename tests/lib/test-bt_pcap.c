/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "bt_test.h"
#include "bt_err.h"
#include "bt_pcap.h"

static char tmpdir[256];

static const char *tmp(const char *name)
{
    static char p[512];
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/bt-test-pcap-XXXXXX");
        if (!mkdtemp(tmpdir))
            abort();
    }
    snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
    return p;
}

TEST(write_then_read_back_nanoseconds)
{
    struct bt_err e;
    const char *path = tmp("a.pcap");
    struct bt_pcap_writer *w = bt_pcap_writer_open(path, 1, 0, &e);
    uint8_t pkt[100];
    REQUIRE(w);
    for (int i = 0; i < 1000; i++) {
        memset(pkt, i & 0xff, sizeof(pkt));
        CHECK(bt_pcap_write(w, 1700000000123456789ULL + (uint64_t)i * 7, pkt, 60 + i % 40,
                            1500) == 0);
    }
    CHECK_EQ_INT(bt_pcap_writer_count(w), 1000);
    CHECK(bt_pcap_writer_close(w) == 0);

    struct bt_pcap_reader *r = bt_pcap_open(path, &e);
    REQUIRE(r);
    CHECK_EQ_INT(bt_pcap_linktype(r), 1);
    struct bt_pcap_rec rec;
    int i = 0, rc;
    while ((rc = bt_pcap_next(r, &rec, &e)) == 1) {
        CHECK_EQ_INT(rec.ts_ns, 1700000000123456789ULL + (uint64_t)i * 7);
        CHECK_EQ_INT(rec.caplen, 60 + i % 40);
        CHECK_EQ_INT(rec.wire_len, 1500);
        CHECK_EQ_INT(rec.index, i);
        CHECK_EQ_INT(rec.data[0], i & 0xff);
        i++;
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(i, 1000);
    bt_pcap_close(r);
}

/* tshark, an independent reader, agrees on count and nanosecond time. */
TEST(tshark_reads_our_pcap)
{
    struct bt_err e;
    const char *path = tmp("t.pcap");
    uint8_t pkt[60] = {0};
    char cmd[1024], out[256] = "";
    if (access("/usr/bin/tshark", X_OK) != 0)
        SKIP("tshark not installed");
    struct bt_pcap_writer *w = bt_pcap_writer_open(path, 1, 0, &e);
    REQUIRE(w);
    for (int i = 0; i < 3; i++)
        bt_pcap_write(w, 1000000000ULL * 5 + 123456789 + (uint64_t)i, pkt, 60, 60);
    bt_pcap_writer_close(w);
    snprintf(cmd, sizeof(cmd),
             "tshark -r %s -T fields -e frame.time_epoch 2>/dev/null | tail -1", path);
    FILE *p = popen(cmd, "r");
    REQUIRE(p);
    if (!fgets(out, sizeof(out), p))
        out[0] = 0;
    pclose(p);
    CHECK(strncmp(out, "5.123456791", 11) == 0);
}

/* A classic microsecond pcap (magic a1b2c3d4) comes back in nanoseconds. */
TEST(microsecond_file_gives_ns)
{
    struct bt_err e;
    const char *path = tmp("us.pcap");
    FILE *f = fopen(path, "wb");
    uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    uint32_t rh[4] = {7, 250000, 20, 20};
    uint8_t d[20] = {0};
    fwrite(gh, 4, 6, f);
    fwrite(rh, 4, 4, f);
    fwrite(d, 1, 20, f);
    fclose(f);
    struct bt_pcap_reader *r = bt_pcap_open(path, &e);
    struct bt_pcap_rec rec;
    REQUIRE(r);
    REQUIRE(bt_pcap_next(r, &rec, &e) == 1);
    CHECK_EQ_INT(rec.ts_ns, 7250000000ULL);
    bt_pcap_close(r);
}

TEST(errors_name_the_file_and_position)
{
    struct bt_err e;
    CHECK(bt_pcap_open(tmp("missing.pcap"), &e) == NULL);
    CHECK(strstr(e.msg, "missing.pcap") != NULL);
    CHECK(bt_pcap_open(tmpdir, &e) == NULL);
    CHECK(strstr(e.msg, "directory") != NULL);
    /* garbage */
    const char *g = tmp("garbage.pcap");
    FILE *f = fopen(g, "wb");
    fputs("this is not a capture file at all, just text\n", f);
    fclose(f);
    CHECK(bt_pcap_open(g, &e) == NULL);
    CHECK(strstr(e.msg, "garbage.pcap") != NULL);
    /* a record cut in the middle */
    struct bt_pcap_writer *w = bt_pcap_writer_open(tmp("cut.pcap"), 1, 0, &e);
    uint8_t pkt[100] = {0};
    bt_pcap_write(w, 1, pkt, 100, 100);
    bt_pcap_write(w, 2, pkt, 100, 100);
    bt_pcap_writer_close(w);
    REQUIRE(truncate(tmp("cut.pcap"), 24 + 116 + 50) == 0);
    struct bt_pcap_reader *r = bt_pcap_open(tmp("cut.pcap"), &e);
    struct bt_pcap_rec rec;
    REQUIRE(r);
    CHECK_EQ_INT(bt_pcap_next(r, &rec, &e), 1);
    CHECK_EQ_INT(bt_pcap_next(r, &rec, &e), -EBADMSG);
    CHECK(strstr(e.msg, "cut.pcap: packet 2") != NULL);
    bt_pcap_close(r);
    CHECK(bt_pcap_writer_open("/nonexistent-dir/x.pcap", 1, 0, &e) == NULL);
    CHECK(strstr(e.msg, "/nonexistent-dir/x.pcap") != NULL);
}

TEST(merge_orders_by_time_across_inputs)
{
    struct bt_err e;
    const char *names[3] = {"m0.pcap", "m1.pcap", "m2.pcap"};
    struct bt_pcap_reader *r[3];
    for (int k = 0; k < 3; k++) {
        struct bt_pcap_writer *w = bt_pcap_writer_open(tmp(names[k]), 1, 0, &e);
        uint8_t pkt[16];
        for (int i = 0; i < 500; i++) {
            memset(pkt, k, sizeof(pkt));
            pkt[1] = (uint8_t)i;
            /* interleaved times, with ties between inputs */
            bt_pcap_write(w, (uint64_t)i * 3 + (uint64_t)(k == 2 ? 0 : k), pkt, 16, 16);
        }
        bt_pcap_writer_close(w);
    }
    for (int k = 0; k < 3; k++)
        REQUIRE((r[k] = bt_pcap_open(tmp(names[k]), &e)));
    struct bt_pcap_merge *m = bt_pcap_merge_new(r, 3);
    struct bt_pcap_rec rec;
    unsigned which, n = 0, last_which = 0;
    uint64_t last = 0;
    int rc;
    while ((rc = bt_pcap_merge_next(m, &rec, &which, &e)) == 1) {
        CHECK(rec.ts_ns >= last);
        if (n && rec.ts_ns == last)
            CHECK(which > last_which);
        CHECK_EQ_INT(rec.data[0], which);
        last = rec.ts_ns;
        last_which = which;
        n++;
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(n, 1500);
    bt_pcap_merge_free(m);
    for (int k = 0; k < 3; k++)
        bt_pcap_close(r[k]);
}

/* Every capture of tcpdump's suite reads to its end or stops with a clean
 * error that names the file. */
TEST(tcpdump_corpus)
{
    DIR *d = opendir(BT_CORPUS_DIR);
    struct dirent *de;
    unsigned files = 0, opened = 0, damaged = 0;
    if (!d)
        SKIP("%s absent", BT_CORPUS_DIR);
    while ((de = readdir(d))) {
        char path[4096];
        struct bt_err e;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", BT_CORPUS_DIR, de->d_name);
        files++;
        struct bt_pcap_reader *r = bt_pcap_open(path, &e);
        if (!r) {
            CHECK(strstr(e.msg, de->d_name) != NULL);
            continue;
        }
        opened++;
        struct bt_pcap_rec rec;
        int rc;
        while ((rc = bt_pcap_next(r, &rec, &e)) == 1)
            ;
        if (rc < 0) {
            damaged++;
            CHECK(strstr(e.msg, de->d_name) != NULL);
        }
        bt_pcap_close(r);
    }
    closedir(d);
    fprintf(stderr, "corpus: %u files, %u opened, %u damaged\n", files, opened, damaged);
    CHECK(opened > 300);
}
