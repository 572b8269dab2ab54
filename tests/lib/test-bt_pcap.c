/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bt_test.h"
#include "bt_err.h"
#include "bt_pcap.h"
#include "bt_pkt.h"

static char tmpdir[256];

static const char *tmp(const char *name)
{
    static char p[512];
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/bt-test-pcap-XXXXXX");
        if (!bt_mkdtemp(tmpdir))
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

/* tshark, an independent reader, agrees on the packet count and on every
 * time stamp to the nanosecond (wall-clock times, where a double would lose
 * the last digits: tshark prints its own integer nanoseconds). */
TEST(tshark_reads_our_pcap)
{
    struct bt_err e;
    const char *path = tmp("t.pcap");
    uint8_t pkt[60] = {0};
    char cmd[1024], out[256], want[64];
    uint64_t ts[5] = {1700000000000000001ULL, 1700000000123456789ULL, 1700000001999999999ULL,
                      1700000002000000000ULL, 1700000002000000007ULL};
    if (access("/usr/bin/tshark", X_OK) != 0)
        SKIP("tshark not installed");
    struct bt_pcap_writer *w = bt_pcap_writer_open(path, 1, 0, &e);
    REQUIRE(w);
    for (int i = 0; i < 5; i++)
        CHECK(bt_pcap_write(w, ts[i], pkt, 60, 60) == 0);
    REQUIRE(bt_pcap_writer_close(w) == 0);
    snprintf(cmd, sizeof(cmd), "tshark -r %s -T fields -e frame.time_epoch -e frame.len 2>/dev/null",
             path);
    FILE *p = popen(cmd, "r");
    REQUIRE(p);
    int n = 0;
    while (fgets(out, sizeof(out), p)) {
        if (n < 5) {
            snprintf(want, sizeof(want), "%llu.%09llu\t60\n",
                     (unsigned long long)(ts[n] / 1000000000ULL),
                     (unsigned long long)(ts[n] % 1000000000ULL));
            if (strcmp(out, want) != 0)
                BT_FAIL_AT("tshark line %d: '%s', expected '%s'", n + 1, out, want);
        }
        n++;
    }
    CHECK_EQ_INT(pclose(p), 0);
    CHECK_EQ_INT(n, 5);
}

static void put_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        abort();
}

/* Reads every record of path into ts[] (up to max); returns the count, or
 * the negative error of the last bt_pcap_next. */
static int read_all(const char *path, uint64_t *ts, uint32_t *caplen, int max, struct bt_err *e)
{
    struct bt_pcap_reader *r = bt_pcap_open(path, e);
    struct bt_pcap_rec rec;
    int n = 0, rc;
    if (!r)
        return -1000;
    while ((rc = bt_pcap_next(r, &rec, e)) == 1) {
        if (n < max) {
            ts[n] = rec.ts_ns;
            if (caplen)
                caplen[n] = rec.caplen;
        }
        n++;
    }
    bt_pcap_close(r);
    return rc < 0 ? rc : n;
}

/* A classic microsecond pcap (magic a1b2c3d4), written by hand in either
 * byte order, comes back in nanoseconds (ts * 1000). */
TEST(microsecond_file_gives_ns)
{
    struct bt_err e;
    uint64_t ts[4];
    uint8_t f[24 + 2 * (16 + 20)] = {0};
    uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    uint32_t rh[2][4] = {{7, 250000, 20, 20}, {1700000000, 999999, 20, 20}};
    memcpy(f, gh, 24);
    memcpy(f + 24, rh[0], 16);
    memcpy(f + 24 + 36, rh[1], 16);
    put_file(tmp("us.pcap"), f, sizeof(f));
    CHECK_EQ_INT(read_all(tmp("us.pcap"), ts, NULL, 4, &e), 2);
    CHECK_EQ_INT(ts[0], 7250000000ULL);
    CHECK_EQ_INT(ts[1], 1700000000999999000ULL);
    /* the same file written on a machine of the other byte order */
    for (size_t i = 0; i < sizeof(f); i += 4) {
        if (i == 4) { /* two 16-bit version fields */
            uint8_t t = f[4]; f[4] = f[5]; f[5] = t;
            t = f[6]; f[6] = f[7]; f[7] = t;
            continue;
        }
        if ((i >= 24 && i < 40) || (i >= 60 && i < 76) || i < 24) {
            uint8_t a = f[i], b = f[i + 1];
            f[i] = f[i + 3]; f[i + 1] = f[i + 2]; f[i + 2] = b; f[i + 3] = a;
        }
    }
    put_file(tmp("us-be.pcap"), f, sizeof(f));
    CHECK_EQ_INT(read_all(tmp("us-be.pcap"), ts, NULL, 4, &e), 2);
    CHECK_EQ_INT(ts[1], 1700000000999999000ULL);
}

/* pcapng, written by hand (SHB, IDB with or without if_tsresol, EPBs):
 * time stamps in the interface's resolution come back in nanoseconds. */
static size_t ng_block(uint8_t *out, uint32_t type, const void *body, uint32_t blen)
{
    uint32_t pad = (4 - blen % 4) % 4, tot = 12 + blen + pad;
    memcpy(out, &type, 4);
    memcpy(out + 4, &tot, 4);
    memcpy(out + 8, body, blen);
    memset(out + 8 + blen, 0, pad);
    memcpy(out + 8 + blen + pad, &tot, 4);
    return tot;
}

static size_t ng_file(uint8_t *f, int tsresol, const uint64_t *units, int n)
{
    size_t off = 0;
    uint8_t b[128];
    uint32_t bom = 0x1A2B3C4D;
    uint16_t ver[2] = {1, 0};
    int64_t seclen = -1;
    memcpy(b, &bom, 4);
    memcpy(b + 4, ver, 4);
    memcpy(b + 8, &seclen, 8);
    off += ng_block(f + off, 0x0A0D0D0A, b, 16);
    uint16_t lt[2] = {1, 0};
    uint32_t snap = 0;
    memcpy(b, lt, 4);
    memcpy(b + 4, &snap, 4);
    uint32_t blen = 8;
    if (tsresol >= 0) {
        uint16_t opt[2] = {9, 1};   /* if_tsresol, 1 byte */
        memcpy(b + blen, opt, 4);
        b[blen + 4] = (uint8_t)tsresol;
        memset(b + blen + 5, 0, 3);
        memset(b + blen + 8, 0, 4); /* opt_endofopt */
        blen += 12;
    }
    off += ng_block(f + off, 1, b, blen);
    for (int i = 0; i < n; i++) {
        uint32_t epb[5] = {0, (uint32_t)(units[i] >> 32), (uint32_t)units[i], 14, 60};
        memcpy(b, epb, 20);
        memset(b + 20, 0xab, 14);
        off += ng_block(f + off, 6, b, 34);
    }
    return off;
}

TEST(pcapng_gives_ns)
{
    struct bt_err e;
    uint8_t f[1024];
    uint64_t ts[4];
    uint32_t cl[4];
    uint64_t ns_units[2] = {1700000000123456789ULL, 1700000000123456790ULL};
    put_file(tmp("ns.pcapng"), f, ng_file(f, 9, ns_units, 2));
    CHECK_EQ_INT(read_all(tmp("ns.pcapng"), ts, cl, 4, &e), 2);
    CHECK_EQ_INT(ts[0], 1700000000123456789ULL);
    CHECK_EQ_INT(ts[1], 1700000000123456790ULL);
    CHECK_EQ_INT(cl[0], 14);
    /* no if_tsresol: microseconds */
    uint64_t us_units[1] = {1700000000123456ULL};
    put_file(tmp("us.pcapng"), f, ng_file(f, -1, us_units, 1));
    CHECK_EQ_INT(read_all(tmp("us.pcapng"), ts, NULL, 4, &e), 1);
    CHECK_EQ_INT(ts[0], 1700000000123456000ULL);
    /* a cut pcapng: a clean error that names the packet */
    size_t len = ng_file(f, 9, ns_units, 2);
    put_file(tmp("cut.pcapng"), f, len - 10);
    CHECK_EQ_INT(read_all(tmp("cut.pcapng"), ts, NULL, 4, &e), -EBADMSG);
    CHECK(strstr(e.msg, "cut.pcapng: packet 2") != NULL);
}

/* Records whose caplen exceeds the file's snap length, or is absurdly
 * large: libpcap reports or truncates them; we must not crash, and an error
 * names the packet. */
TEST(oversized_records)
{
    struct bt_err e;
    uint8_t f[24 + 16 + 200 + 16];
    uint32_t gh[6] = {0xa1b23c4d, 0x00040002, 0, 0, 100, 1};
    uint32_t rh[4] = {1, 5, 200, 200};
    uint64_t ts[4];
    uint32_t cl[4];
    memset(f, 0x11, sizeof(f));
    memcpy(f, gh, 24);
    memcpy(f + 24, rh, 16);
    uint32_t huge[4] = {2, 0, 0xfffffff0u, 0xfffffff0u};
    memcpy(f + 24 + 16 + 200, huge, 16);
    put_file(tmp("big.pcap"), f, sizeof(f));
    int n = read_all(tmp("big.pcap"), ts, cl, 4, &e);
    /* libpcap 1.10 delivers the first record cut to the snap length, then
     * refuses the second */
    CHECK_EQ_INT(n, -EBADMSG);
    CHECK(strstr(e.msg, "big.pcap: packet 2 (byte offset ") != NULL);
    CHECK(cl[0] <= 200);
    CHECK_EQ_INT(ts[0], 1000000005ULL);
}

/* Plain pcap is read by bt_pcap's own walker, libpcap taking over at a
 * record it treats specially: the records must come out exactly as
 * libpcap 1.10 gives them (on a little-endian host: the time fields of a
 * file in host order are signed 32-bit, of a swapped file unsigned; a
 * record longer than the snap length cut to it, and reading goes on). */
static uint32_t sw(uint32_t v, int big)
{
    return big ? __builtin_bswap32(v) : v;
}

TEST(own_reader_matches_libpcap_on_odd_records)
{
    struct bt_err e;
    for (int big = 0; big < 2; big++) {
        for (int nsec = 0; nsec < 2; nsec++) {
            uint8_t f[24 + 4 * 16 + 300] = {0};
            size_t o = 24;
            uint32_t gh[6] = {sw(nsec ? 0xa1b23c4d : 0xa1b2c3d4, big),
                              big ? 0x04000200u : 0x00040002u, 0, 0, sw(100, big), sw(1, big)};
            memcpy(f, gh, 24);
            /* 1: both time fields with the top bit set; 2: longer than the
             * snap length (100): cut; 3: a plain one after it */
            uint32_t r1[4] = {sw(0xfffffff0u, big), sw(0x80000001u, big), sw(14, big), sw(14, big)};
            uint32_t r2[4] = {sw(7, big), sw(5, big), sw(150, big), sw(150, big)};
            uint32_t r3[4] = {sw(8, big), sw(6, big), sw(20, big), sw(10, big)};
            memcpy(f + o, r1, 16);
            o += 16 + 14;
            memcpy(f + o, r2, 16);
            o += 16 + 150;
            memcpy(f + o, r3, 16);
            o += 16 + 20;
            put_file(tmp("odd.pcap"), f, o);
            uint64_t ts[4];
            uint32_t cl[4];
            int n = read_all(tmp("odd.pcap"), ts, cl, 4, &e);
            REQUIRE(n == 3);
            uint64_t scale = nsec ? 1 : 1000;
            int64_t sec = big ? (int64_t)0xfffffff0u : (int64_t)(int32_t)0xfffffff0u;
            int64_t sub = big ? (int64_t)0x80000001u : (int64_t)(int32_t)0x80000001u;
            CHECK(ts[0] == (uint64_t)sec * 1000000000ULL + (uint64_t)(sub * (int64_t)scale));
            CHECK_EQ_INT(cl[0], 14);
            CHECK(ts[1] == 7000000000ULL + 5 * scale);
            CHECK_EQ_INT(cl[1], 100);
            CHECK(ts[2] == 8000000000ULL + 6 * scale);
            CHECK_EQ_INT(cl[2], 20);
            /* cut inside the last record: the two before it, then libpcap's error */
            put_file(tmp("odd-cut.pcap"), f, o - 5);
            CHECK_EQ_INT(read_all(tmp("odd-cut.pcap"), ts, cl, 4, &e), -EBADMSG);
            CHECK(strstr(e.msg, "odd-cut.pcap: packet 3 (byte offset ") != NULL);
        }
    }
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
    /* where libpcap stopped reading: the end of the cut file */
    CHECK(strstr(e.msg, "cut.pcap: packet 2 (byte offset 190): ") != NULL);
    CHECK(strstr(e.msg, "truncated") != NULL);
    /* the error is not a clean end: asking again does not pretend so */
    CHECK(bt_pcap_next(r, &rec, &e) != 1);
    bt_pcap_close(r);
    CHECK(bt_pcap_writer_open("/nonexistent-dir/x.pcap", 1, 0, &e) == NULL);
    CHECK(strstr(e.msg, "/nonexistent-dir/x.pcap") != NULL);
}

/* Every write error is seen: a full disk fails the flush at close (or a
 * write once the buffer spills), and the error sticks. */
/* bt_write_all writes everything a pipe takes in pieces (a pipe's buffer
 * is 64 KiB: a 1 MiB write comes back short until the reader drains it),
 * and says why it could not. */
TEST(write_all_whole_or_errno)
{
    int fds[2];
    enum { N = 1 << 20 };
    uint8_t *buf = malloc(N), *got = malloc(N);

    REQUIRE(buf && got && pipe(fds) == 0);
    for (unsigned i = 0; i < N; i++)
        buf[i] = (uint8_t)(i * 7 + (i >> 11));
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        _exit(bt_write_all(fds[1], buf, N) == 0 ? 0 : 1);
    }
    close(fds[1]);
    size_t have = 0;
    for (;;) {
        ssize_t k = read(fds[0], got + have, N - have);
        if (k <= 0)
            break;
        have += (size_t)k;
    }
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_EQ_INT(have, N);
    CHECK(memcmp(buf, got, N) == 0);
    int full = open("/dev/full", O_WRONLY);
    if (full >= 0) {
        CHECK_EQ_INT(bt_write_all(full, buf, 100), -ENOSPC);
        close(full);
    }
    CHECK_EQ_INT(bt_write_all(-1, buf, 1), -EBADF);
    CHECK_EQ_INT(bt_write_all(-1, buf, 0), 0);   /* nothing to write: nothing fails */
    free(buf);
    free(got);
}

TEST(writer_errors_are_reported)
{
    struct bt_err e;
    uint8_t pkt[1500] = {0};
    if (access("/dev/full", W_OK) != 0)
        SKIP("no /dev/full");
    struct bt_pcap_writer *w = bt_pcap_writer_open("/dev/full", 1, 0, &e);
    REQUIRE(w);
    CHECK(bt_pcap_write(w, 1, pkt, 100, 100) == 0);   /* buffered */
    CHECK_EQ_INT(bt_pcap_writer_close(w), -ENOSPC);
    w = bt_pcap_writer_open("/dev/full", 1, 0, &e);
    REQUIRE(w);
    int rc = 0, i;
    for (i = 0; i < 1000 && rc == 0; i++)
        rc = bt_pcap_write(w, 1, pkt, sizeof(pkt), sizeof(pkt));
    CHECK_EQ_INT(rc, -ENOSPC);
    CHECK(i < 200);                                      /* when the 256 KiB buffer spilled */
    CHECK_EQ_INT(bt_pcap_write(w, 2, pkt, 10, 10), -ENOSPC); /* sticky */
    CHECK_EQ_INT(bt_pcap_writer_close(w), -ENOSPC);
    CHECK_EQ_INT(bt_pcap_writer_close(NULL), 0);
    /* not representable in pcap: refused, nothing written */
    w = bt_pcap_writer_open(tmp("range.pcap"), 1, 0, &e);
    REQUIRE(w);
    CHECK_EQ_INT(bt_pcap_write(w, 5000000000ULL * 1000000000ULL, pkt, 10, 10), -EINVAL);
    CHECK_EQ_INT(bt_pcap_write(w, 1, NULL, 10, 10), -EINVAL);
    CHECK_EQ_INT(bt_pcap_write(w, 1, NULL, 0, 0), 0);
    CHECK_EQ_INT(bt_pcap_writer_count(w), 1);
    CHECK_EQ_INT(bt_pcap_writer_close(w), 0);
}

/* Record fields survive exactly, including the edge cases the writer
 * normalises: caplen above the snap length is cut, wire_len below caplen
 * is raised; empty records; a packet bigger than the write buffer. */
TEST(writer_edge_cases)
{
    struct bt_err e;
    static uint8_t big[300000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7);
    struct bt_pcap_writer *w = bt_pcap_writer_open(tmp("edge.pcap"), 101, 128, &e);
    REQUIRE(w);
    CHECK(bt_pcap_write(w, 10, big, 200, 200) == 0);
    CHECK(bt_pcap_write(w, 20, big, 50, 10) == 0);
    CHECK(bt_pcap_write(w, 30, big, 0, 0) == 0);
    CHECK(bt_pcap_writer_close(w) == 0);
    struct bt_pcap_reader *r = bt_pcap_open(tmp("edge.pcap"), &e);
    struct bt_pcap_rec rec;
    REQUIRE(r);
    CHECK_EQ_INT(bt_pcap_linktype(r), 101);
    CHECK_EQ_INT(bt_pcap_snaplen(r), 128);
    CHECK_EQ_STR(bt_pcap_path(r), tmp("edge.pcap"));
    REQUIRE(bt_pcap_next(r, &rec, &e) == 1);
    CHECK_EQ_INT(rec.caplen, 128);
    CHECK_EQ_INT(rec.wire_len, 200);
    CHECK(memcmp(rec.data, big, 128) == 0);
    REQUIRE(bt_pcap_next(r, &rec, &e) == 1);
    CHECK_EQ_INT(rec.caplen, 50);
    CHECK_EQ_INT(rec.wire_len, 50);
    REQUIRE(bt_pcap_next(r, &rec, &e) == 1);
    CHECK_EQ_INT(rec.caplen, 0);
    CHECK_EQ_INT(rec.ts_ns, 30);
    CHECK_EQ_INT(bt_pcap_next(r, &rec, &e), 0);
    bt_pcap_close(r);
    /* bigger than the 256 KiB buffer, between small ones; D-Bus (231), the
     * link type libpcap allows records that big for */
    w = bt_pcap_writer_open(tmp("huge.pcap"), 231, sizeof(big), &e);
    REQUIRE(w);
    CHECK(bt_pcap_write(w, 1, big, 100, 100) == 0);
    CHECK(bt_pcap_write(w, 2, big, sizeof(big), sizeof(big)) == 0);
    CHECK(bt_pcap_write(w, 3, big + 5, 100, 100) == 0);
    CHECK(bt_pcap_writer_close(w) == 0);
    struct stat st;
    REQUIRE(stat(tmp("huge.pcap"), &st) == 0);
    CHECK_EQ_INT(st.st_size, 24 + 3 * 16 + 200 + sizeof(big));
    r = bt_pcap_open(tmp("huge.pcap"), &e);
    REQUIRE(r);
    REQUIRE(bt_pcap_next(r, &rec, &e) == 1);
    REQUIRE(bt_pcap_next(r, &rec, &e) == 1);
    CHECK_EQ_INT(rec.caplen, sizeof(big));
    CHECK(memcmp(rec.data, big, sizeof(big)) == 0);
    REQUIRE(bt_pcap_next(r, &rec, &e) == 1);
    CHECK(memcmp(rec.data, big + 5, 100) == 0);
    bt_pcap_close(r);
}

/* Writes n records at the given times, each 16 bytes: k, then i. */
static void write_times(const char *name, int k, const uint64_t *ts, int n)
{
    struct bt_err e;
    struct bt_pcap_writer *w = bt_pcap_writer_open(tmp(name), 1, 0, &e);
    uint8_t pkt[16];
    if (!w)
        abort();
    for (int i = 0; i < n; i++) {
        memset(pkt, k, sizeof(pkt));
        pkt[1] = (uint8_t)(i >> 8);
        pkt[2] = (uint8_t)i;
        bt_pcap_write(w, ts[i], pkt, 16, 16);
    }
    if (bt_pcap_writer_close(w) != 0)
        abort();
}

static void write_merge_input(const char *name, int k, int n, uint64_t step, uint64_t off)
{
    uint64_t *ts = calloc(n ? (size_t)n : 1, sizeof(*ts));
    if (!ts)
        abort();
    for (int i = 0; i < n; i++)
        ts[i] = (uint64_t)i * step + off;
    write_times(name, k, ts, n);
    free(ts);
}

/* Three interleaved inputs with ties: output sorted by time, ties in input
 * order, every packet exactly once, each input's packets in file order. */
TEST(merge_orders_by_time_across_inputs)
{
    struct bt_err e;
    const char *names[3] = {"m0.pcap", "m1.pcap", "m2.pcap"};
    struct bt_pcap_reader *r[3];
    /* input 0: 0,3,6..; input 1: 1,4,7..; input 2: 0,5,10.. (ties with 0 and 1) */
    write_merge_input(names[0], 0, 500, 3, 0);
    write_merge_input(names[1], 1, 400, 3, 1);
    write_merge_input(names[2], 2, 300, 5, 0);
    for (int k = 0; k < 3; k++)
        REQUIRE((r[k] = bt_pcap_open(tmp(names[k]), &e)));
    struct bt_pcap_merge *m = bt_pcap_merge_new(r, 3);
    REQUIRE(m);
    struct bt_pcap_rec rec;
    unsigned which, n = 0, last_which = 0, ties = 0;
    int next[3] = {0, 0, 0};
    uint64_t last = 0;
    int rc;
    while ((rc = bt_pcap_merge_next(m, &rec, &which, &e)) == 1) {
        REQUIRE(which < 3);
        CHECK(rec.ts_ns >= last);
        if (n && rec.ts_ns == last) {
            CHECK(which > last_which);
            ties++;
        }
        CHECK_EQ_INT(rec.data[0], which);
        CHECK_EQ_INT((rec.data[1] << 8) | rec.data[2], next[which]);
        CHECK_EQ_INT(rec.index, next[which]);
        next[which]++;
        last = rec.ts_ns;
        last_which = which;
        n++;
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(n, 1200);
    CHECK_EQ_INT(next[0], 500);
    CHECK_EQ_INT(next[1], 400);
    CHECK_EQ_INT(next[2], 300);
    CHECK(ties >= 100);
    CHECK_EQ_INT(bt_pcap_merge_next(m, &rec, &which, &e), 0); /* stays done */
    bt_pcap_merge_free(m);
    for (int k = 0; k < 3; k++)
        bt_pcap_close(r[k]);
}

/* Empty inputs, no inputs, and a damaged input (error names its file). */
TEST(merge_edge_cases)
{
    struct bt_err e;
    struct bt_pcap_rec rec;
    unsigned which;
    struct bt_pcap_merge *m = bt_pcap_merge_new(NULL, 0);
    REQUIRE(m);
    CHECK_EQ_INT(bt_pcap_merge_next(m, &rec, &which, &e), 0);
    CHECK(bt_pcap_merge_free(m) == NULL);
    CHECK(bt_pcap_merge_free(NULL) == NULL);

    write_merge_input("e0.pcap", 0, 0, 1, 0);
    write_merge_input("e1.pcap", 1, 10, 2, 0);
    write_merge_input("e2.pcap", 2, 10, 2, 1);
    REQUIRE(truncate(tmp("e2.pcap"), 24 + 5 * 32 + 20) == 0); /* packet 6 cut */
    struct bt_pcap_reader *r[3];
    for (int k = 0; k < 3; k++) {
        char name[16];
        snprintf(name, sizeof(name), "e%d.pcap", k);
        REQUIRE((r[k] = bt_pcap_open(tmp(name), &e)));
    }
    m = bt_pcap_merge_new(r, 3);
    REQUIRE(m);
    int rc, n = 0;
    uint64_t last = 0;
    while ((rc = bt_pcap_merge_next(m, &rec, &which, &e)) == 1) {
        CHECK(which != 0);
        CHECK(rec.ts_ns >= last);
        last = rec.ts_ns;
        n++;
    }
    CHECK_EQ_INT(rc, -EBADMSG);
    CHECK(strstr(e.msg, "e2.pcap: packet 6") != NULL);
    /* 0,1,..: input 2's five good packets and input 1's up to time 10 */
    CHECK(n >= 10 && n <= 11);
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
    uint64_t packets = 0;
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
        uint64_t n = 0;
        int rc;
        while ((rc = bt_pcap_next(r, &rec, &e)) == 1) {
            CHECK(rec.index == n);
            CHECK(rec.caplen <= rec.wire_len);
            /* touch every byte: valgrind/ASan see any bad length */
            volatile uint8_t x = 0;
            for (uint32_t i = 0; i < rec.caplen; i++)
                x ^= rec.data[i];
            (void)x;
            n++;
            packets++;
        }
        if (rc < 0) {
            char want[4200];
            damaged++;
            CHECK_EQ_INT(rc, -EBADMSG);
            snprintf(want, sizeof(want), "%s: packet %llu", path, (unsigned long long)n + 1);
            if (strncmp(e.msg, want, strlen(want)) != 0)
                BT_FAIL_AT("'%s' does not start with '%s'", e.msg, want);
        }
        bt_pcap_close(r);
    }
    closedir(d);
    fprintf(stderr, "corpus: %u files, %u opened, %u damaged, %llu packets\n", files, opened,
            damaged, (unsigned long long)packets);
    CHECK(opened > 300);
    CHECK(packets > 1000);
}

/* Every record as libpcap itself gives it (time stamp, lengths, bytes,
 * index) against bt_pcap's: 1 when they agree to the end (or to the same
 * damaged record, with the same packet number in the message), 0 with a
 * message otherwise. batch 0 reads with bt_pcap_next; else with
 * bt_pcap_next_batch of up to batch records, each batch compared once it
 * is complete (every record of it must still be valid). */
static int same_as_libpcap_in(const char *path, uint64_t *count, unsigned batch)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
    struct bt_err e;
    struct bt_pcap_reader *r = bt_pcap_open(path, &e);
    struct bt_pcap_rec recs[64];
    int ok = 1;

    *count = 0;
    if (!p || !r) {
        ok = !p && !r;
        goto out;
    }
    if (batch > 64)
        abort();
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *d;
        int b = batch ? bt_pcap_next_batch(r, recs, batch, &e) : bt_pcap_next(r, recs, &e);
        if (b > (int)(batch ? batch : 1)) {
            fprintf(stderr, "%s: a batch of %d, more than %u\n", path, b, batch);
            ok = 0;
            break;
        }
        for (int i = 0; i < (b > 0 ? b : 1); i++) {
            int a = pcap_next_ex(p, &h, &d);
            if (a != 1 || b <= 0) {
                ok = (a == 1) == (b == 1) && (a == PCAP_ERROR_BREAK) == (b == 0);
                if (b < 0) {
                    char want[600];
                    snprintf(want, sizeof(want), "%s: packet %llu", path,
                             (unsigned long long)*count + 1);
                    ok = ok && b == -EBADMSG && strncmp(e.msg, want, strlen(want)) == 0;
                }
                if (!ok)
                    fprintf(stderr, "%s: record %llu: libpcap %d, bt_pcap %d (batch %u)\n",
                            path, (unsigned long long)*count + 1, a, b, batch);
                goto out;
            }
            const struct bt_pcap_rec *rec = &recs[i];
            uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;
            if (ts != rec->ts_ns || h->caplen != rec->caplen ||
                (h->len < h->caplen ? h->caplen : h->len) != rec->wire_len ||
                rec->index != *count || memcmp(d, rec->data, h->caplen) != 0) {
                fprintf(stderr, "%s: record %llu differs from libpcap's (batch %u)\n", path,
                        (unsigned long long)*count + 1, batch);
                ok = 0;
                goto out;
            }
            (*count)++;
        }
    }
out:
    if (p)
        pcap_close(p);
    bt_pcap_close(r);
    return ok;
}

static int same_as_libpcap(const char *path, uint64_t *count)
{
    return same_as_libpcap_in(path, count, 0);
}

/* The batches bt_pcap_next_batch is tried with: one, odd, the largest. */
static const unsigned batches[] = {1, 7, 64};

/* A file several read buffers long: every record comes out as libpcap
 * reads it, also those straddling a buffer's end. */
TEST(walker_matches_libpcap_over_a_large_file)
{
    struct bt_err e;
    struct bt_pcap_writer *w = bt_pcap_writer_open(tmp("large.pcap"), 1, 0, &e);
    uint8_t d[1500];
    uint64_t n = 0;
    REQUIRE(w);
    for (uint32_t i = 0; i < 12000; i++) {
        uint32_t len = 60 + (i * 7919) % 1400;
        for (uint32_t k = 0; k < len; k++)
            d[k] = (uint8_t)(i * 31 + k);
        REQUIRE(bt_pcap_write(w, 1000000000ULL + i * 1000ULL, d, len, len + (i % 3)) == 0);
    }
    REQUIRE(bt_pcap_writer_close(w) == 0);
    struct stat st;
    REQUIRE(stat(tmp("large.pcap"), &st) == 0);
    CHECK(st.st_size > 8 * 1024 * 1024);
    CHECK(same_as_libpcap(tmp("large.pcap"), &n));
    CHECK_EQ_INT(n, 12000);
    for (unsigned b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
        CHECK(same_as_libpcap_in(tmp("large.pcap"), &n, batches[b]));
        CHECK_EQ_INT(n, 12000);
    }
    /* cut inside a record: the same records, then the same error */
    REQUIRE(truncate(tmp("large.pcap"), st.st_size / 2 + 3) == 0);
    uint64_t whole;
    CHECK(same_as_libpcap(tmp("large.pcap"), &whole));
    CHECK(whole > 1000 && whole < 12000);
    for (unsigned b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
        CHECK(same_as_libpcap_in(tmp("large.pcap"), &n, batches[b]));
        CHECK_EQ_INT(n, whole);
    }
}

/* Batches: more than one record per call where the buffer holds them
 * (else it would be bt_pcap_next under another name), never more than
 * asked, and 0 asked is 0 read. */
TEST(batches_hand_out_what_the_buffer_holds)
{
    struct bt_err e;
    struct bt_pcap_writer *w = bt_pcap_writer_open(tmp("batch.pcap"), 1, 0, &e);
    uint8_t d[100] = {0};
    REQUIRE(w);
    for (uint32_t i = 0; i < 1000; i++)
        REQUIRE(bt_pcap_write(w, 1000000000ULL + i, d, sizeof(d), sizeof(d)) == 0);
    REQUIRE(bt_pcap_writer_close(w) == 0);
    struct bt_pcap_reader *r = bt_pcap_open(tmp("batch.pcap"), &e);
    REQUIRE(r);
    struct bt_pcap_rec recs[64];
    CHECK_EQ_INT(bt_pcap_next_batch(r, recs, 0, &e), 0);
    int got, calls = 0, total = 0;
    while ((got = bt_pcap_next_batch(r, recs, 64, &e)) > 0) {
        CHECK(got <= 64);
        CHECK_EQ_INT(recs[0].index, total);
        CHECK_EQ_INT(recs[got - 1].ts_ns, 1000000000ULL + (uint64_t)(total + got - 1));
        total += got;
        calls++;
    }
    CHECK_EQ_INT(got, 0);
    CHECK_EQ_INT(total, 1000);
    CHECK(calls <= 1000 / 64 + 2);
    bt_pcap_close(r);

    /* the merge: batches of its one input; of several, runs of one input,
     * in the order of bt_pcap_merge_next */
    struct bt_pcap_reader *rd[2];
    REQUIRE((rd[0] = bt_pcap_open(tmp("batch.pcap"), &e)));
    struct bt_pcap_merge *m = bt_pcap_merge_new(rd, 1);
    REQUIRE(m);
    unsigned which = 9;
    got = bt_pcap_merge_next_batch(m, recs, 64, &which, &e);
    CHECK(got > 1);
    CHECK_EQ_INT(which, 0);
    CHECK_EQ_INT(bt_pcap_merge_next_batch(m, recs, 0, &which, &e), 0);
    bt_pcap_merge_free(m);
    bt_pcap_close(rd[0]);
    write_merge_input("bm0.pcap", 0, 50, 3, 0);
    write_merge_input("bm1.pcap", 1, 40, 3, 1);
    struct bt_pcap_reader *ra[2], *rb[2];
    REQUIRE((ra[0] = bt_pcap_open(tmp("bm0.pcap"), &e)));
    REQUIRE((ra[1] = bt_pcap_open(tmp("bm1.pcap"), &e)));
    REQUIRE((rb[0] = bt_pcap_open(tmp("bm0.pcap"), &e)));
    REQUIRE((rb[1] = bt_pcap_open(tmp("bm1.pcap"), &e)));
    struct bt_pcap_merge *ma = bt_pcap_merge_new(ra, 2), *mb = bt_pcap_merge_new(rb, 2);
    REQUIRE(ma && mb);
    struct bt_pcap_rec one;
    unsigned wa, wb;
    int n = 0, ga, gb;
    while ((gb = bt_pcap_merge_next_batch(mb, recs, 64, &wb, &e)) > 0) {
        /* interleaved: runs of one until bm1 ends, then bm0's rest at once */
        CHECK_EQ_INT(gb, n < 80 ? 1 : 10);
        for (int j = 0; j < gb; j++) {
            REQUIRE((ga = bt_pcap_merge_next(ma, &one, &wa, &e)) == 1);
            CHECK_EQ_INT(wb, wa);
            CHECK_EQ_INT(recs[j].ts_ns, one.ts_ns);
            CHECK_EQ_INT(recs[j].index, one.index);
            n++;
        }
    }
    CHECK_EQ_INT(bt_pcap_merge_next(ma, &one, &wa, &e), 0);
    CHECK_EQ_INT(bt_pcap_merge_next_batch(mb, recs, 64, &wb, &e), 0);
    CHECK_EQ_INT(n, 90);
    bt_pcap_merge_free(ma);
    bt_pcap_merge_free(mb);
    for (int k = 0; k < 2; k++) {
        bt_pcap_close(ra[k]);
        bt_pcap_close(rb[k]);
    }
}

/* Several inputs in runs (blocks of one input before the others', ties
 * across inputs, a time stamp going backwards inside a file, an input
 * longer than a batch): bt_pcap_merge_next_batch hands out runs of one
 * input, and flattened they are, record for record and bytes included,
 * for any max, what bt_pcap_merge_next hands out and what a merge of the
 * arrays by hand gives (each input's next record, the smallest time first,
 * ties the lower input). */
TEST(merge_batch_runs_match_merge_next)
{
    enum { N0 = 300, N1 = 150, N2 = 40 };
    uint64_t t0[N0], t1[N1], t2[N2];
    for (int i = 0; i < N0; i++)
        t0[i] = 1000 + (uint64_t)(i / 100) * 10000 + (uint64_t)i; /* 3 blocks of 100 */
    for (int i = 0; i < N1; i++)
        t1[i] = 5000 + (uint64_t)i * 7;
    t1[20] = 10;                                             /* backwards */
    for (int i = 0; i < N2; i++)
        t2[i] = t0[i * 5]; /* ties with input 0: input 0 first */
    write_times("br0.pcap", 0, t0, N0);
    write_times("br1.pcap", 1, t1, N1);
    write_times("br2.pcap", 2, t2, N2);
    const char *names[3] = {"br0.pcap", "br1.pcap", "br2.pcap"};
    const uint64_t *tv[3] = {t0, t1, t2};
    const int nv[3] = {N0, N1, N2};
    int want_k[N0 + N1 + N2], want_i[N0 + N1 + N2], at[3] = {0, 0, 0};
    for (int o = 0; o < N0 + N1 + N2; o++) {
        int best = -1;
        for (int k = 0; k < 3; k++)
            if (at[k] < nv[k] && (best < 0 || tv[k][at[k]] < tv[best][at[best]]))
                best = k;
        want_k[o] = best;
        want_i[o] = at[best]++;
    }
    const unsigned maxes[4] = {1, 3, 17, 64};
    for (unsigned mi = 0; mi < 4; mi++) {
        struct bt_err e;
        struct bt_pcap_reader *ra[3], *rb[3];
        for (int k = 0; k < 3; k++) {
            REQUIRE((ra[k] = bt_pcap_open(tmp(names[k]), &e)));
            REQUIRE((rb[k] = bt_pcap_open(tmp(names[k]), &e)));
        }
        struct bt_pcap_merge *ma = bt_pcap_merge_new(ra, 3), *mb = bt_pcap_merge_new(rb, 3);
        REQUIRE(ma && mb);
        struct bt_pcap_rec recs[64], one;
        unsigned wa, wb;
        int total = 0, longest = 0, gb;
        while ((gb = bt_pcap_merge_next_batch(mb, recs, maxes[mi], &wb, &e)) > 0) {
            CHECK(gb <= (int)maxes[mi]);
            if (gb > longest)
                longest = gb;
            for (int j = 0; j < gb; j++) {
                REQUIRE(bt_pcap_merge_next(ma, &one, &wa, &e) == 1);
                CHECK_EQ_INT(wb, wa);
                CHECK_EQ_INT(recs[j].ts_ns, one.ts_ns);
                CHECK_EQ_INT(recs[j].index, one.index);
                CHECK_EQ_INT(recs[j].caplen, 16);
                CHECK(memcmp(recs[j].data, one.data, 16) == 0);
                CHECK_EQ_INT(wb, want_k[total]);
                CHECK_EQ_INT(recs[j].index, want_i[total]);
                CHECK_EQ_INT(recs[j].ts_ns, tv[wb][want_i[total]]);
                CHECK_EQ_INT(recs[j].data[0], wb);
                CHECK_EQ_INT(recs[j].data[1] << 8 | recs[j].data[2], recs[j].index);
                total++;
            }
        }
        CHECK_EQ_INT(gb, 0);
        CHECK_EQ_INT(bt_pcap_merge_next(ma, &one, &wa, &e), 0);
        CHECK_EQ_INT(total, N0 + N1 + N2);
        CHECK_EQ_INT(longest, (int)maxes[mi]); /* runs, not one record a call */
        bt_pcap_merge_free(ma);
        bt_pcap_merge_free(mb);
        for (int k = 0; k < 3; k++) {
            bt_pcap_close(ra[k]);
            bt_pcap_close(rb[k]);
        }
    }
}

/* bt_pcap_merge_next_mixed hands out, record for record and bytes
 * included (every record of a call still valid at its end), what
 * bt_pcap_merge_next does: three interleaved inputs with ties, a time
 * going backwards and one longer than a batch (the linear scan), ten
 * inputs (past it: runs through the heap), one reader given twice. A
 * call's records come of several inputs, more than one run of one. */
TEST(merge_mixed_matches_merge_next)
{
    enum { NI = 10, NR = 150 };
    static uint64_t tv[NI][NR];
    char names[NI][16];
    for (int k = 0; k < NI; k++) {
        for (int i = 0; i < NR; i++)
            tv[k][i] = 1000 + (uint64_t)i * 7 + (uint64_t)(k % 3) * 3 + (k == 1 && i / 50 == 1) * 500;
        tv[2][30] = 5;      /* backwards */
        snprintf(names[k], sizeof(names[k]), "mx%d.pcap", k);
        write_times(names[k], k, tv[k], k == 0 ? NR : NR - k * 10);
    }
    const unsigned maxes[4] = {1, 3, 17, 64};
    const unsigned nins[3] = {3, NI, 2};
    for (unsigned ci = 0; ci < 3; ci++) {
        for (unsigned mi = 0; mi < 4; mi++) {
            struct bt_err e;
            struct bt_pcap_reader *ra[NI], *rb[NI];
            unsigned n = nins[ci];
            for (unsigned k = 0; k < n; k++) {
                REQUIRE((ra[k] = bt_pcap_open(tmp(names[k]), &e)));
                REQUIRE((rb[k] = bt_pcap_open(tmp(names[k]), &e)));
            }
            if (ci == 2) {  /* one reader twice */
                bt_pcap_close(ra[1]);
                bt_pcap_close(rb[1]);
                ra[1] = ra[0];
                rb[1] = rb[0];
            }
            struct bt_pcap_merge *ma = bt_pcap_merge_new(ra, n), *mb = bt_pcap_merge_new(rb, n);
            REQUIRE(ma && mb);
            struct bt_pcap_rec recs[64], one;
            unsigned wa, wb[64];
            int total = 0, calls = 0, mixed = 0, gb;
            while ((gb = bt_pcap_merge_next_mixed(mb, recs, wb, maxes[mi], &e)) > 0) {
                CHECK(gb <= (int)maxes[mi]);
                calls++;
                for (int j = 0; j < gb; j++) {
                    REQUIRE(bt_pcap_merge_next(ma, &one, &wa, &e) == 1);
                    CHECK_EQ_INT(wb[j], wa);
                    CHECK_EQ_INT(recs[j].ts_ns, one.ts_ns);
                    CHECK_EQ_INT(recs[j].index, one.index);
                    CHECK_EQ_INT(recs[j].caplen, 16);
                    CHECK(memcmp(recs[j].data, one.data, 16) == 0);
                    mixed += j && wb[j] != wb[j - 1];
                    total++;
                }
                for (int j = 0; j < gb; j++) {  /* still valid */
                    CHECK_EQ_INT(recs[j].data[0], ci == 2 ? 0 : wb[j]);
                    CHECK_EQ_INT(recs[j].data[1] << 8 | recs[j].data[2], recs[j].index);
                }
            }
            CHECK_EQ_INT(gb, 0);
            CHECK_EQ_INT(bt_pcap_merge_next(ma, &one, &wa, &e), 0);
            CHECK(total > 0);
            if (ci < 2 && maxes[mi] > 1)
                CHECK(mixed > 0 && calls < total / 2);
            bt_pcap_merge_free(ma);
            bt_pcap_merge_free(mb);
            for (unsigned k = 0; k < n; k++) {
                if (ci == 2 && k == 1)
                    continue;
                bt_pcap_close(ra[k]);
                bt_pcap_close(rb[k]);
            }
        }
    }
}

/* In a child: reads a 4 MB file, cuts it to cut_to bytes after 10 records
 * and reads on. Exit 0 when the reader ends in -EBADMSG naming the file,
 * the packet and (when the cut is below what it had read) the shrinking. */
static int read_while_cut(const char *path, off_t cut_to, const char *want, unsigned batch)
{
    struct bt_err e;
    struct bt_pcap_writer *w = bt_pcap_writer_open(path, 1, 0, &e);
    uint8_t d[1000] = {0};
    if (!w)
        return 10;
    for (uint32_t i = 0; i < 4000; i++)
        if (bt_pcap_write(w, 1000000000ULL + i, d, sizeof(d), sizeof(d)) != 0)
            return 11;
    if (bt_pcap_writer_close(w) != 0)
        return 12;
    struct bt_pcap_reader *r = bt_pcap_open(path, &e);
    struct bt_pcap_rec rec;
    uint64_t n = 0;
    int rc = 0;
    if (!r)
        return 13;
    while (n < 10 && (rc = bt_pcap_next(r, &rec, &e)) == 1)
        n++;
    if (n != 10)
        return 14;
    int fd = open(path, O_WRONLY);
    if (fd < 0 || ftruncate(fd, cut_to) != 0)
        return 15;
    close(fd);
    if (batch) {
        struct bt_pcap_rec recs[64];
        while ((rc = bt_pcap_next_batch(r, recs, batch, &e)) > 0)
            n += (uint64_t)rc;
    } else {
        while ((rc = bt_pcap_next(r, &rec, &e)) == 1)
            n++;
    }
    fprintf(stderr, "cut to %lld after 10: %llu records, then %d: %s\n", (long long)cut_to,
            (unsigned long long)n, rc, rc < 0 ? e.msg : "");
    bt_pcap_close(r);
    if (rc != -EBADMSG || n >= 4000)
        return 16;
    char at[64];
    snprintf(at, sizeof(at), ": packet %llu ", (unsigned long long)n + 1);
    if (!strstr(e.msg, path) || !strstr(e.msg, at) || !strstr(e.msg, want))
        return 17;
    return 0;
}

/* A capture truncated while it is read (being rotated, a user's truncate):
 * an error naming the file and packet, never a signal (an mmap reader
 * dies of SIGBUS touching the pages past the new end). */
TEST(a_file_truncated_while_read_is_an_error_not_a_signal)
{
    static const struct {
        const char *name;
        off_t cut_to;
        const char *want;
    } cases[] = {
        /* past what the reader holds, inside a record: libpcap's verdict */
        {"cut-ahead.pcap", 2000003, "truncated"},
        /* below what it already read */
        {"cut-behind.pcap", 500003, "shrank to 500003 bytes"},
        /* to the header alone */
        {"cut-header.pcap", 24, "shrank to 24 bytes"},
    };
    const unsigned nc = sizeof(cases) / sizeof(cases[0]);
    /* each case read on with bt_pcap_next, then with batches of 7 and 64 */
    for (unsigned i = 0; i < 3 * nc; i++) {
        char path[512];
        unsigned c = i % nc, batch = i / nc == 0 ? 0 : i / nc == 1 ? 7 : 64;
        snprintf(path, sizeof(path), "%s", tmp(cases[c].name));
        fflush(NULL);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0)
            _exit(read_while_cut(path, cases[c].cut_to, cases[c].want, batch));
        int st = 0;
        REQUIRE(waitpid(pid, &st, 0) == pid);
        if (WIFSIGNALED(st))
            fprintf(stderr, "%s (batch %u): the reader was killed by signal %d\n",
                    cases[c].name, batch, WTERMSIG(st));
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        unlink(path);
    }
}

TEST(corpus_records_match_libpcap)
{
    DIR *dir = opendir(BT_CORPUS_DIR);
    struct dirent *de;
    uint64_t total = 0;
    unsigned files = 0;
    if (!dir)
        SKIP("%s absent", BT_CORPUS_DIR);
    while ((de = readdir(dir))) {
        char path[4096];
        uint64_t n;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", BT_CORPUS_DIR, de->d_name);
        CHECK(same_as_libpcap(path, &n));
        for (unsigned b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
            uint64_t nb;
            CHECK(same_as_libpcap_in(path, &nb, batches[b]));
            CHECK_EQ_INT(nb, n);
        }
        total += n;
        files++;
    }
    closedir(dir);
    CHECK(files > 300);
    CHECK(total > 1000);
}

/* A FIFO has one stream, libpcap's: every record comes through. */
TEST(reads_a_fifo)
{
    struct bt_err e;
    struct bt_pcap_writer *w = bt_pcap_writer_open(tmp("fifo-src.pcap"), 1, 0, &e);
    uint8_t d[200] = {0};
    REQUIRE(w);
    for (uint32_t i = 0; i < 3000; i++) {
        d[0] = (uint8_t)i;
        REQUIRE(bt_pcap_write(w, 5000000000ULL + i, d, 200, 200) == 0);
    }
    REQUIRE(bt_pcap_writer_close(w) == 0);
    REQUIRE(mkfifo(tmp("fifo"), 0600) == 0);
    char src[512], fifo[512];
    snprintf(src, sizeof(src), "%s", tmp("fifo-src.pcap"));
    snprintf(fifo, sizeof(fifo), "%s", tmp("fifo"));
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        alarm(20);
        execlp("cp", "cp", src, fifo, (char *)NULL);
        _exit(127);
    }
    uint64_t ts[1] = {0};
    int n = read_all(fifo, ts, NULL, 1, &e);
    int status;
    waitpid(pid, &status, 0);
    CHECK_EQ_INT(n, 3000);
    CHECK(ts[0] == 5000000000ULL);
    unlink(fifo);
}

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap, f) : 0;
    if (f)
        fclose(f);
    return n;
}

/* bt_pcap_write_pkts writes the bytes of as many bt_pcap_write calls: every
 * length around the inline copy's edges (0..129, frames), cut by snaplen or
 * not, times that cross seconds, go back and start at 0, the buffer filling
 * up (a record across its end). */
TEST(write_pkts_matches_write)
{
    static uint8_t data[2000], fa[4 << 20], fb[4 << 20];
    static const uint32_t lens[] = {0, 1, 31, 32, 33, 63, 64, 65, 96, 127, 128, 129, 200, 1514};
    static const uint64_t times[] = {0, 999999999, 1000000000, 1700000000999999999ULL, 5, 1700000001000000000ULL,
                                     1700000001000000001ULL};
    struct bt_pkt pk[14], *v[14];
    struct bt_err e;
    static uint64_t want[2000], got[2000];
    unsigned nw = 0;

    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);
    for (uint32_t snap = 0; snap <= 128; snap += 128) {
        struct bt_pcap_writer *a = bt_pcap_writer_open(tmp("wa.pcap"), 1, 0, &e);
        struct bt_pcap_writer *b = bt_pcap_writer_open(tmp("wb.pcap"), 1, 0, &e);
        REQUIRE(a && b);
        for (unsigned round = 0; round < 200; round++) {
            uint64_t t = times[round % 7] + round / 7;
            unsigned n = 1 + round % 14;
            for (unsigned i = 0; i < n; i++) {
                uint32_t len = lens[(round + i) % 14];
                pk[i] = (struct bt_pkt){.data = data + (round + i) % 300, .len = len,
                                        .wire_len = len + (i & 1) * 10};
                v[i] = &pk[i];
                uint32_t cap = snap && len > snap ? snap : len;
                CHECK(bt_pcap_write(a, t, pk[i].data, cap, pk[i].wire_len) == 0);
                if (!snap)
                    want[nw++] = t;
            }
            CHECK(bt_pcap_write_pkts(b, t, v, n, snap) == 0);
        }
        CHECK(bt_pcap_writer_count(a) == bt_pcap_writer_count(b));
        CHECK(bt_pcap_write_pkts(b, 5000000000ULL * 1000000000ULL, v, 1, 0) == -EINVAL);
        pk[0].data = NULL;
        pk[0].len = 1;
        CHECK(bt_pcap_write_pkts(b, 1, v, 1, 0) == -EINVAL);
        REQUIRE(bt_pcap_writer_close(a) == 0);
        REQUIRE(bt_pcap_writer_close(b) == 0);
        size_t na = slurp(tmp("wa.pcap"), fa, sizeof(fa)), nb = slurp(tmp("wb.pcap"), fb, sizeof(fb));
        CHECK(na > 24 && na == nb && memcmp(fa, fb, na) == 0);
        if (!snap) {
            /* the kept second gives the time libpcap reads back */
            CHECK_EQ_INT(read_all(tmp("wa.pcap"), got, NULL, 2000, &e), (int)nw);
            CHECK(memcmp(want, got, nw * sizeof(*got)) == 0);
        }
    }
}
