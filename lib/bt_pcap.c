/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture I/O. Reading: libpcap in nanosecond precision (it converts micro-
 * second files and reads pcapng). Plain pcap files of version 2.4 with a
 * link type libpcap does not post-process are then read by our own record
 * walker, which hands out records in place (libpcap does two stdio freads
 * and a copy per record, most of the cost of reading): a regular file is
 * read(2) into a 1 MiB buffer (posix_fadvise SEQUENTIAL), records handed
 * out in place, a record straddling the buffer's end moved to its front
 * before the next read. Not mmap(2): a mapped file truncated while it is
 * read (a capture being rotated or cut) raises SIGBUS, and library code
 * installs no signal handlers; a read(2) of a shrunk file is merely short.
 * The first record that walker does not take as it stands (longer than the
 * snap length, cut short, the end of the file, an I/O error) hands the
 * stream back to libpcap positioned at that record, so its verdict and
 * message are libpcap's. A file that has shrunk below what the walker had
 * already read is an error of its own (libpcap, seeking past the new end,
 * would see a clean end of file).
 * Writing: a plain buffered writer of classic pcap with the nanosecond
 * magic, because libpcap's dumper would need a pcap_t of the right precision
 * and does its own stdio buffering anyway.
 */
#include "bt_pcap.h"
#include "bt_err.h"
#include "bt_pkt.h"

#include <stdint.h>

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RBUF (1024 * 1024)   /* >= 16 + the largest record the walker takes */
#define FAST_MAX_CAPLEN 262144

struct bt_pcap_reader {
    pcap_t *p;
    FILE *f;            /* libpcap's stream (for byte offsets); may be NULL */
    char *path;
    uint64_t index;
    long rec_off;       /* where reading stopped at an error, -1 unknown */
    int link;
    /* our own walker over plain pcap (fd >= 0 while it reads) */
    int fd;
    int swapped, nsec;
    uint32_t fast_max;  /* records up to this caplen are taken as they stand */
    uint8_t *buf;
    size_t blen, bpos;  /* bytes in buf, next record */
    uint64_t buf_off;   /* file offset of buf[0] */
};

static uint32_t rd32(const uint8_t *p, int swapped)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

/* Plain pcap 2.4 whose records libpcap hands out unchanged: our walker may
 * read it (Linux SLL/SLL2 are post-processed by libpcap when swapped). */
static void fast_open(struct bt_pcap_reader *r)
{
    uint8_t h[24];
    uint32_t magic, link;
    ssize_t n;

    r->fd = -1;
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    return; /* the signedness rules below are those of a little-endian host */
#endif
    if (!r->f)
        return;
    /* a pipe or a FIFO has one stream, libpcap's: a second open would
     * take records from it */
    struct stat pst;
    if (fstat(fileno(r->f), &pst) != 0 || !S_ISREG(pst.st_mode))
        return;
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    n = read(fd, h, sizeof(h));
    memcpy(&magic, h, 4);
    if (n != (ssize_t)sizeof(h))
        goto no;
    if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
        r->swapped = 0;
    else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
        r->swapped = 1;
    else
        goto no;
    r->nsec = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
    uint16_t major, minor;
    memcpy(&major, h + 4, 2);
    memcpy(&minor, h + 6, 2);
    if (r->swapped) {
        major = __builtin_bswap16(major);
        minor = __builtin_bswap16(minor);
    }
    link = rd32(h + 20, r->swapped);
    if (major != 2 || minor != 4)
        goto no;
    switch (link) {
    case 0: case 1: case 12: case 14: case 101: case 108: case 228: case 229:
        break;
    case 113: case 276:
        if (!r->swapped)
            break;
        goto no;
    default:
        goto no;
    }
    r->fast_max = (uint32_t)pcap_snapshot(r->p);
    if (r->fast_max > FAST_MAX_CAPLEN)
        r->fast_max = FAST_MAX_CAPLEN;
    if (!(r->buf = malloc(RBUF)))
        goto no;
    r->fd = fd;
    r->buf_off = 24;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return;
no:
    close(fd);
}

static void fast_release(struct bt_pcap_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* The walker stops; libpcap goes on from the record at buf[bpos]. 0, or
 * -EBADMSG with e set when the file has shrunk below what was read. */
static int fast_stop(struct bt_pcap_reader *r, struct bt_err *e)
{
    uint64_t off = r->buf_off + r->bpos, held = r->buf_off + r->blen;
    struct stat st;
    int rc = 0;

    if (fstat(r->fd, &st) == 0 && (uint64_t)st.st_size < held) {
        bt_err_set(e, "%s: packet %llu (byte offset %llu): the file shrank to %lld bytes "
                   "while it was read (truncated or rotated under the reader)", r->path,
                   (unsigned long long)r->index + 1, (unsigned long long)off,
                   (long long)st.st_size);
        r->rec_off = (long)off;
        rc = -EBADMSG;
    }
    close(r->fd);
    r->fd = -1;
    fast_release(r);
    if (fseeko(r->f, (off_t)off, SEEK_SET) != 0)
        r->f = NULL; /* cannot happen on a regular file; libpcap reads on regardless */
    return rc;
}

/* Makes at least want bytes available at buf[bpos]; fewer only at the end
 * of the file (or on a read error). */
static void fast_fill(struct bt_pcap_reader *r, size_t want)
{
    if (r->blen - r->bpos >= want)
        return;
    memmove(r->buf, r->buf + r->bpos, r->blen - r->bpos);
    r->buf_off += r->bpos;
    r->blen -= r->bpos;
    r->bpos = 0;
    while (r->blen < RBUF) {
        ssize_t k = read(r->fd, r->buf + r->blen, RBUF - r->blen);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        r->blen += (size_t)k;
    }
}

/* The record whose header is at h (caplen read from it, whole in the
 * buffer, left bytes from h to the buffer's end), packet number index, into
 * rec. */
static inline void fast_take(const struct bt_pcap_reader *r, const uint8_t *h, uint32_t caplen,
                             size_t left, uint64_t index, struct bt_pcap_rec *rec)
{
    uint32_t frac = rd32(h + 4, r->swapped), len = rd32(h + 12, r->swapped);

    /* as libpcap 1.10 has it: the seconds and fraction fields of a file in
     * host order are signed 32-bit, of a swapped file unsigned; the fraction
     * is scaled to ns in 64 bits (time stamps past 2038 or a fraction over
     * 2^31 come out as libpcap gives them, not "fixed") */
    int64_t sec = r->swapped ? (int64_t)rd32(h, 1) : (int64_t)(int32_t)rd32(h, 0);
    int64_t sub = r->swapped ? (int64_t)frac : (int64_t)(int32_t)frac;
    if (!r->nsec)
        sub *= 1000;
    rec->ts_ns = (uint64_t)sec * 1000000000ULL + (uint64_t)sub;
    if (left > 2048)
        __builtin_prefetch(h + 2048);  /* a few records ahead */
    rec->data = h + 16;
    rec->caplen = caplen;
    rec->wire_len = len < caplen ? caplen : len;
    rec->index = index;
}

/* 1 with rec filled, 0 at the clean end, -1: let libpcap read this record. */
static int fast_next(struct bt_pcap_reader *r, struct bt_pcap_rec *rec)
{
    const uint8_t *h;
    uint32_t caplen;

    fast_fill(r, 16);
    /* the end of what read(2) gives: libpcap says whether that is the
     * end (or reads on, should the file have grown) */
    if (r->blen - r->bpos < 16)
        return -1;
    h = r->buf + r->bpos;
    caplen = rd32(h + 8, r->swapped);
    if (caplen > r->fast_max)
        return -1;
    if (r->blen - r->bpos < 16 + (size_t)caplen) {
        fast_fill(r, 16 + (size_t)caplen);
        h = r->buf + r->bpos;
        if (r->blen - r->bpos < 16 + (size_t)caplen)
            return -1;
    }
    fast_take(r, h, caplen, r->blen - r->bpos, r->index++, rec);
    r->bpos += 16 + (size_t)caplen;
    return 1;
}

/* libpcap hands out DLT_* values, which differ from the LINKTYPE_* values
 * in files for a few old types (its own mapping is not exported). */
static int dlt_to_linktype(int dlt)
{
    static const struct {
        int dlt, linktype;
    } map[] = {
        {11, 100},  /* DLT_ATM_RFC1483 */
        {12, 101},  /* DLT_RAW (Linux, most systems) */
        {15, 102},  /* DLT_SLIP_BSDOS */
        {16, 103},  /* DLT_PPP_BSDOS */
        {18, 246},  /* DLT_PFSYNC */
        {19, 106},  /* DLT_ATM_CLIP */
    };

    for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (map[i].dlt == dlt)
            return map[i].linktype;
    return dlt;
}

struct bt_pcap_reader *bt_pcap_open(const char *path, struct bt_err *e)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    struct bt_pcap_reader *r;
    struct stat st;

    if (stat(path, &st) != 0) {
        bt_err_setr(e, -errno, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        bt_err_setr(e, -EISDIR, "%s: is a directory, not a capture file", path);
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        bt_err_setr(e, -ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    r->fd = -1;
    r->path = strdup(path);
    r->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!r->p || !r->path) {
        bt_err_set(e, "%s: not a readable pcap or pcapng capture: %s", path,
                   errbuf[0] ? errbuf : "out of memory");
        return bt_pcap_close(r);
    }
    r->link = dlt_to_linktype(pcap_datalink(r->p));
    r->f = pcap_file(r->p);
    r->rec_off = -1;
    fast_open(r);
    return r;
}

struct bt_pcap_reader *bt_pcap_close(struct bt_pcap_reader *r)
{
    if (r) {
        if (r->fd >= 0)
            close(r->fd);
        fast_release(r);
        if (r->p)
            pcap_close(r->p);
        free(r->path);
        free(r);
    }
    return NULL;
}

int bt_pcap_next(struct bt_pcap_reader *r, struct bt_pcap_rec *rec, struct bt_err *e)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;

    if (r->fd >= 0) {
        rc = fast_next(r, rec);
        if (rc >= 0)
            return rc;
        if ((rc = fast_stop(r, e)) < 0)
            return rc;
    }
    rc = pcap_next_ex(r->p, &h, &data);
    if (rc == 1) {
        rec->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;
        rec->data = data;
        rec->caplen = h->caplen;
        rec->wire_len = h->len < h->caplen ? h->caplen : h->len;
        rec->index = r->index++;
        return 1;
    }
    if (rc == PCAP_ERROR_BREAK)
        return 0;
    /* -1 (damaged or truncated record); 0 (timeout) cannot happen offline
     * but must not loop: report it the same way. The offset is where libpcap
     * stopped reading (for a cut file: its end). Asked only now: ftell costs
     * an lseek per call here, too much per packet. */
    r->rec_off = r->f ? ftell(r->f) : -1;
    if (r->rec_off >= 0)
        bt_err_set(e, "%s: packet %llu (byte offset %ld): %s", r->path,
                   (unsigned long long)r->index + 1, r->rec_off,
                   rc == -1 ? pcap_geterr(r->p) : "unexpected libpcap status");
    else
        bt_err_set(e, "%s: packet %llu: %s", r->path, (unsigned long long)r->index + 1,
                   rc == -1 ? pcap_geterr(r->p) : "unexpected libpcap status");
    return -EBADMSG;
}

/* The walker's records that follow whole in the buffer, without reading
 * (no fill, so what was handed out stays where it is): up to max into
 * recs. Any record it would not take as it stands is left for the next
 * call, which reads it the way bt_pcap_next does. */
static unsigned fast_more(struct bt_pcap_reader *r, struct bt_pcap_rec *recs, unsigned max)
{
    const uint8_t *buf = r->buf;
    size_t pos = r->bpos, end = r->blen;   /* locals: a store into recs[] might alias r */
    uint64_t index = r->index;
    unsigned n = 0;

    while (n < max && end - pos >= 16) {
        const uint8_t *h = buf + pos;
        uint32_t caplen = rd32(h + 8, r->swapped);
        if (caplen > r->fast_max || end - pos - 16 < caplen)
            break;
        fast_take(r, h, caplen, end - pos, index++, &recs[n++]);
        pos += 16 + (size_t)caplen;
    }
    r->bpos = pos;
    r->index = index;
    return n;
}

int bt_pcap_next_batch(struct bt_pcap_reader *r, struct bt_pcap_rec *recs, unsigned max,
                       struct bt_err *e)
{
    int rc;

    if (max == 0)
        return 0;
    if ((rc = bt_pcap_next(r, &recs[0], e)) <= 0 || r->fd < 0)
        return rc;
    return 1 + (int)fast_more(r, recs + 1, max - 1);
}

int bt_pcap_linktype(const struct bt_pcap_reader *r)
{
    return r->link;
}

uint32_t bt_pcap_snaplen(const struct bt_pcap_reader *r)
{
    return (uint32_t)pcap_snapshot(r->p);
}

const char *bt_pcap_path(const struct bt_pcap_reader *r)
{
    return r->path;
}

/* ---- writer ---- */

#define WBUF (256 * 1024)

struct bt_pcap_writer {
    int fd;
    uint8_t *buf;
    size_t used;
    uint64_t count;
    uint32_t snaplen;
    int err;            /* first I/O error, sticky: later writes fail fast */
    /* the second of the last record (sec_ns = sec * 10^9; 0 before any):
     * records come in time order, so most stay in it and their header
     * needs no division */
    uint64_t sec_ns;
    uint32_t sec;
};

int bt_write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            return -EIO;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int wflush(struct bt_pcap_writer *w)
{
    if (w->used && !w->err)
        w->err = bt_write_all(w->fd, w->buf, w->used);
    w->used = 0;
    return w->err;
}

static int wput(struct bt_pcap_writer *w, const void *p, size_t n)
{
    if (w->err)
        return w->err;
    if (w->used + n > WBUF && wflush(w) < 0)
        return w->err;
    if (n > WBUF)               /* bigger than the buffer: straight through */
        return w->err = bt_write_all(w->fd, p, n);
    memcpy(w->buf + w->used, p, n);
    w->used += n;
    return 0;
}

struct bt_pcap_writer *bt_pcap_writer_open(const char *path, int linktype, uint32_t snaplen,
                                           struct bt_err *e)
{
    struct bt_pcap_writer *w = calloc(1, sizeof(*w));
    struct {
        uint32_t magic;
        uint16_t major, minor;
        int32_t zone;
        uint32_t sigfigs, snaplen, link;
    } hdr = {0xa1b23c4d, 2, 4, 0, 0, snaplen ? snaplen : 262144, (uint32_t)linktype};

    if (!w || !(w->buf = malloc(WBUF))) {
        bt_err_setr(e, -ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        bt_err_setr(e, -errno, "%s: cannot create: %s", path, strerror(errno));
        goto fail;
    }
    w->snaplen = hdr.snaplen;
    wput(w, &hdr, sizeof(hdr));   /* buffered: cannot fail here */
    return w;
fail:
    if (w && w->buf)
        free(w->buf);
    free(w);
    return NULL;
}

/* A record that does not fit in what is left of the buffer: the buffer is
 * flushed; one bigger than the whole buffer goes straight through (1: the
 * record is written; 0: the caller appends it to the now empty buffer). */
static __attribute__((noinline)) int write_full(struct bt_pcap_writer *w, const uint32_t rec[4],
                                                const uint8_t *data, uint32_t caplen)
{
    if (wflush(w) < 0)
        return w->err;
    if (4 * sizeof(*rec) + caplen <= WBUF)
        return 0;
    memcpy(w->buf, rec, 4 * sizeof(*rec));
    w->used = 4 * sizeof(*rec);
    if (wflush(w) < 0 || (w->err = bt_write_all(w->fd, data, caplen)) < 0)
        return w->err;
    w->count++;
    return 1;
}

typedef uint8_t bt_v16 __attribute__((vector_size(16), aligned(1), may_alias));

/* 32 bytes as two 16-byte moves (a 32-byte vector type goes through the
 * stack without AVX). */
static inline __attribute__((always_inline)) void mv32(uint8_t *o, const uint8_t *d)
{
    bt_v16 a = *(const bt_v16 *)d, b = *(const bt_v16 *)(d + 16);
    *(bt_v16 *)o = a;
    *(bt_v16 *)(o + 16) = b;
}

/* n bytes (32..128: a frame cut at the usual 128, most frames whole) as
 * overlapping 32-byte moves inline, others by memcpy: a call for every
 * record was a fifth of the record's cost, and it made the writer save
 * and restore its registers. */
static inline __attribute__((always_inline)) void rec_copy(uint8_t *o, const uint8_t *d, uint32_t n)
{
    if (n >= 32 && n <= 128) {
        mv32(o, d);
        mv32(o + n - 32, d + n - 32);
        if (n > 64) {
            mv32(o + 32, d + 32);
            mv32(o + n - 64, d + n - 64);
        }
    } else if (n) {
        memcpy(o, d, n);
    }
}

/* The header's two time words of ts_ns (its second kept for the next). */
static inline uint64_t rec_time(struct bt_pcap_writer *w, uint64_t ts_ns)
{
    uint64_t d = ts_ns - w->sec_ns;

    if (__builtin_expect(d >= 1000000000ULL, 0)) {
        w->sec = (uint32_t)(ts_ns / 1000000000ULL);
        w->sec_ns = (uint64_t)w->sec * 1000000000ULL;
        d = ts_ns - w->sec_ns;
    }
    return w->sec | d << 32;
}

/* One record into the buffer (the caller checked its time and data):
 * header and bytes in one place, one bounds check, the full buffer out of
 * line. 0 or -errno. */
static inline __attribute__((always_inline)) int rec_put(struct bt_pcap_writer *w, uint64_t tw,
                                                         const uint8_t *data, uint32_t caplen,
                                                         uint32_t wire_len)
{
    if (caplen > w->snaplen)
        caplen = w->snaplen;
    uint64_t lw = caplen | (uint64_t)(wire_len < caplen ? caplen : wire_len) << 32;
    size_t need = 16 + caplen;
    if (__builtin_expect(w->used + need > WBUF, 0)) {
        uint32_t rec[4] = {(uint32_t)tw, (uint32_t)(tw >> 32), (uint32_t)lw, (uint32_t)(lw >> 32)};
        int r = write_full(w, rec, data, caplen);
        if (r)
            return r < 0 ? r : 0;
    }
    uint8_t *o = w->buf + w->used;
    w->used += need;
    w->count++;
    /* (little-endian: the header words in file order, as the magic says) */
    memcpy(o, &tw, 8);
    memcpy(o + 8, &lw, 8);
    rec_copy(o + 16, data, caplen);
    return 0;
}

int bt_pcap_write(struct bt_pcap_writer *w, uint64_t ts_ns, const uint8_t *data,
                  uint32_t caplen, uint32_t wire_len)
{
    if (__builtin_expect(w->err, 0))
        return w->err;
    if (ts_ns / 1000000000ULL > UINT32_MAX || (!data && caplen))
        return -EINVAL;     /* not representable / no bytes: refused, not sticky */
    return rec_put(w, rec_time(w, ts_ns), data, caplen, wire_len);
}

int bt_pcap_write_pkts(struct bt_pcap_writer *w, uint64_t ts_ns, struct bt_pkt *const *pkts,
                       unsigned n, uint32_t snaplen)
{
    if (__builtin_expect(w->err, 0))
        return w->err;
    if (ts_ns / 1000000000ULL > UINT32_MAX)
        return -EINVAL;
    uint64_t tw = rec_time(w, ts_ns);
    for (unsigned i = 0; i < n; i++) {
        const struct bt_pkt *p = pkts[i];
        uint32_t caplen = snaplen && p->len > snaplen ? snaplen : p->len;
        if (!p->data && caplen)
            return -EINVAL;
        int r = rec_put(w, tw, p->data, caplen, p->wire_len);
        if (__builtin_expect(r < 0, 0))
            return r;
    }
    return 0;
}

int bt_pcap_writer_close(struct bt_pcap_writer *w)
{
    int r;

    if (!w)
        return 0;
    r = wflush(w);
    if (close(w->fd) != 0 && r == 0)
        r = -errno;
    free(w->buf);
    free(w);
    return r;
}

uint64_t bt_pcap_writer_count(const struct bt_pcap_writer *w)
{
    return w->count;
}

/* ---- k-way merge ---- */

struct mslot {
    struct bt_pcap_rec rec;
    unsigned which;
};

struct bt_pcap_merge {
    struct bt_pcap_reader **r;
    unsigned n;
    struct mslot *heap;
    unsigned hn;
    int primed;
    int pending;        /* input whose record was handed out last: refill first */
    uint8_t **copy;     /* libpcap reuses its buffer: keep each head's bytes */
    uint32_t *copy_cap;
    int distinct;       /* every input a different reader: each holds only its
                         * own records, which stay valid in its buffer until
                         * that reader is called again, so no copy */
    struct minput *in;  /* distinct: each input's batch not yet handed out */
};

/* Distinct inputs are read a batch at a time (bt_pcap_next_batch): the
 * heap holds each input's next record, the rest wait here. */
enum { MRUN = 64 };

struct minput {
    struct bt_pcap_rec rec[MRUN];
    unsigned pos, cnt;
};

static int mless(const struct mslot *a, const struct mslot *b)
{
    if (a->rec.ts_ns != b->rec.ts_ns)
        return a->rec.ts_ns < b->rec.ts_ns;
    return a->which < b->which;
}

static void msift_down(struct bt_pcap_merge *m, unsigned i)
{
    for (;;) {
        unsigned l = 2 * i + 1, r = l + 1, s = i;
        if (l < m->hn && mless(&m->heap[l], &m->heap[s]))
            s = l;
        if (r < m->hn && mless(&m->heap[r], &m->heap[s]))
            s = r;
        if (s == i)
            return;
        struct mslot t = m->heap[i];
        m->heap[i] = m->heap[s];
        m->heap[s] = t;
        i = s;
    }
}

static void msift_up(struct bt_pcap_merge *m, unsigned i)
{
    while (i) {
        unsigned p = (i - 1) / 2;
        if (!mless(&m->heap[i], &m->heap[p]))
            return;
        struct mslot t = m->heap[i];
        m->heap[i] = m->heap[p];
        m->heap[p] = t;
        i = p;
    }
}

struct bt_pcap_merge *bt_pcap_merge_new(struct bt_pcap_reader **readers, unsigned n)
{
    struct bt_pcap_merge *m = calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    m->r = calloc(n ? n : 1, sizeof(*m->r));
    m->heap = calloc(n ? n : 1, sizeof(*m->heap));
    m->copy = calloc(n ? n : 1, sizeof(*m->copy));
    m->copy_cap = calloc(n ? n : 1, sizeof(*m->copy_cap));
    m->in = calloc(n ? n : 1, sizeof(*m->in));
    if (!m->r || !m->heap || !m->copy || !m->copy_cap || !m->in)
        return bt_pcap_merge_free(m);
    if (n) /* readers may be NULL then */
        memcpy(m->r, readers, n * sizeof(*readers));
    m->n = n;
    m->distinct = 1;
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < i; k++)
            if (readers[i] == readers[k])
                m->distinct = 0;
    m->pending = -1;
    return m;
}

struct bt_pcap_merge *bt_pcap_merge_free(struct bt_pcap_merge *m)
{
    if (m) {
        for (unsigned i = 0; m->copy && i < m->n; i++)
            free(m->copy[i]);
        free(m->copy);
        free(m->copy_cap);
        free(m->in);
        free(m->r);
        free(m->heap);
        free(m);
    }
    return NULL;
}

/* Reads the next record of input i into the heap (copying its bytes). */
static int mfill(struct bt_pcap_merge *m, unsigned i, struct bt_err *e)
{
    struct mslot s;
    int rc = bt_pcap_next(m->r[i], &s.rec, e);

    if (rc <= 0)
        return rc;
    if (m->distinct)
        goto put;
    if (s.rec.caplen > m->copy_cap[i]) {
        uint8_t *c = realloc(m->copy[i], s.rec.caplen);
        if (!c)
            return bt_err_setr(e, -ENOMEM, "%s: out of memory", bt_pcap_path(m->r[i]));
        m->copy[i] = c;
        m->copy_cap[i] = s.rec.caplen;
    }
    if (s.rec.caplen)
        memcpy(m->copy[i], s.rec.data, s.rec.caplen);
    s.rec.data = m->copy[i];
put:
    s.which = i;
    m->heap[m->hn] = s;
    msift_up(m, m->hn++);
    return 1;
}

/* Distinct inputs: reads input i's next batch, its first record into the heap. */
static int mload(struct bt_pcap_merge *m, unsigned i, struct bt_err *e)
{
    struct minput *b = &m->in[i];
    int rc = bt_pcap_next_batch(m->r[i], b->rec, MRUN, e);

    if (rc <= 0)
        return rc;
    b->pos = 0;
    b->cnt = (unsigned)rc;
    m->heap[m->hn] = (struct mslot){.rec = b->rec[0], .which = i};
    msift_up(m, m->hn++);
    return 1;
}

/* Every input's next record in the heap: all of them the first time,
 * then the input handed out last (no longer referenced) read on (mload a
 * batch of distinct inputs, mfill one record). 1 while records are left,
 * 0 at the end, -EBADMSG. */
static inline __attribute__((always_inline)) int mready(struct bt_pcap_merge *m,
                                                      struct bt_err *e)
{
    int rc;

    if (!m->primed) {
        for (unsigned i = 0; i < m->n; i++)
            if ((rc = m->distinct ? mload(m, i, e) : mfill(m, i, e)) < 0)
                return rc;
        m->primed = 1;
    } else if (m->pending >= 0) {
        unsigned i = (unsigned)m->pending;
        m->pending = -1;
        if ((rc = m->distinct ? mload(m, i, e) : mfill(m, i, e)) < 0)
            return rc;
    }
    return m->hn > 0;
}

/* Distinct inputs: the top input's records while they come before every
 * other input's next one (the records bt_pcap_merge_next would hand out
 * one after the other: each input's next record is the one after the last
 * handed out, in file order), up to max and to the end of its batch. The
 * input is read again only once its batch is all handed out, at the next
 * call, as bt_pcap_merge_next refills its one record: the same records,
 * order and errors. */
static int mrun(struct bt_pcap_merge *m, struct bt_pcap_rec *recs, unsigned max,
                unsigned *which, struct bt_err *e)
{
    int rc = mready(m, e);

    if (rc <= 0)
        return rc;
    unsigned i = m->heap[0].which, n = 0;
    struct minput *b = &m->in[i];
    const struct mslot *bound = NULL; /* the smallest of the other inputs' */
    if (m->hn > 1)
        bound = m->hn > 2 && mless(&m->heap[2], &m->heap[1]) ? &m->heap[2] : &m->heap[1];
    recs[n++] = b->rec[b->pos++];
    while (n < max && b->pos < b->cnt) {
        struct mslot s = {.rec = b->rec[b->pos], .which = i};
        if (bound && !mless(&s, bound))
            break;
        recs[n++] = b->rec[b->pos++];
    }
    *which = i;
    if (b->pos < b->cnt) {
        m->heap[0].rec = b->rec[b->pos];
    } else {
        /* the caller holds this batch's records: read on at the next call */
        m->pending = (int)i;
        m->heap[0] = m->heap[--m->hn];
    }
    if (m->hn)
        msift_down(m, 0);
    return (int)n;
}

int bt_pcap_merge_next(struct bt_pcap_merge *m, struct bt_pcap_rec *rec, unsigned *which,
                       struct bt_err *e)
{
    int rc;

    if (m->n == 1) {
        /* one input: the merge is that input (no heap, no copy) */
        *which = 0;
        return bt_pcap_next(m->r[0], rec, e);
    }
    if (m->distinct)
        return mrun(m, rec, 1, which, e);
    if ((rc = mready(m, e)) <= 0)
        return rc;
    /* hand out the top; its buffer stays valid until the next call */
    *rec = m->heap[0].rec;
    *which = m->heap[0].which;
    m->pending = (int)m->heap[0].which;
    m->heap[0] = m->heap[--m->hn];
    if (m->hn)
        msift_down(m, 0);
    return 1;
}

int bt_pcap_merge_next_batch(struct bt_pcap_merge *m, struct bt_pcap_rec *recs, unsigned max,
                             unsigned *which, struct bt_err *e)
{
    if (max == 0)
        return 0;
    if (m->n == 1) {
        *which = 0;
        return bt_pcap_next_batch(m->r[0], recs, max, e);
    }
    if (m->distinct)
        return mrun(m, recs, max, which, e);
    /* one reader twice: one record at a time (a second would refill the
     * first one's input, whose bytes the caller still holds) */
    return bt_pcap_merge_next(m, recs, which, e);
}

/* Inputs up to which bt_pcap_merge_next_mixed takes the smallest head by a
 * linear scan (a few compares a record, no heap); past it runs through the
 * heap. */
enum { MIX_LINEAR = 8 };

int bt_pcap_merge_next_mixed(struct bt_pcap_merge *m, struct bt_pcap_rec *recs, unsigned *which,
                             unsigned max, struct bt_err *e)
{
    unsigned w, n = 0;
    int rc;

    if (max == 0)
        return 0;
    if (m->n == 1 || !m->distinct || m->n > MIX_LINEAR) {
        /* runs of one input each, until an input's batch has ended */
        do {
            if ((rc = bt_pcap_merge_next_batch(m, recs + n, max - n, &w, e)) <= 0)
                return n ? (int)n : rc;
            for (int k = 0; k < rc; k++)
                which[n + (unsigned)k] = w;
            n += (unsigned)rc;
        } while (n < max && m->n > 1 && m->distinct && m->pending < 0 && m->hn);
        return (int)n;
    }
    if ((rc = mready(m, e)) <= 0)
        return rc;
    /* the live inputs in index order: the first of equal time stamps is
     * then the lower input, as the heap's order has it */
    unsigned live[MIX_LINEAR], nl = 0;
    for (unsigned i = 0; i < m->n; i++)
        for (unsigned h = 0; h < m->hn; h++)
            if (m->heap[h].which == i)
                live[nl++] = i;
    for (;;) {
        unsigned best = live[0];
        uint64_t bts = m->in[best].rec[m->in[best].pos].ts_ns;
        for (unsigned k = 1; k < nl; k++) {
            const struct minput *b = &m->in[live[k]];
            if (b->rec[b->pos].ts_ns < bts) {
                best = live[k];
                bts = b->rec[b->pos].ts_ns;
            }
        }
        struct minput *b = &m->in[best];
        recs[n] = b->rec[b->pos++];
        which[n++] = best;
        if (b->pos == b->cnt) {
            /* the caller holds this batch's records: read on at the next call */
            m->pending = (int)best;
            break;
        }
        if (n == max)
            break;
    }
    /* the heap again: each live input's next record (not the pending one's) */
    m->hn = 0;
    for (unsigned k = 0; k < nl; k++) {
        const struct minput *b = &m->in[live[k]];
        if (b->pos == b->cnt)
            continue;
        m->heap[m->hn] = (struct mslot){.rec = b->rec[b->pos], .which = live[k]};
        msift_up(m, m->hn++);
    }
    return (int)n;
}
