/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture I/O. Reading goes through libpcap (pcap with micro- or nanosecond
 * time stamps, and pcapng), always delivering nanosecond time stamps. Writing
 * is our own buffered writer of classic pcap with the nanosecond magic
 * (0xa1b23c4d), which tshark, tcpdump and libpcap all read.
 */
#ifndef BT_PCAP_H
#define BT_PCAP_H

#include <stddef.h>
#include <stdint.h>

struct bt_err;
struct bt_pkt;
struct bt_pcap_reader;
struct bt_pcap_writer;

/* A packet as read: data points into the reader's buffer, valid until the
 * next call on that reader. */
struct bt_pcap_rec {
    uint64_t ts_ns;
    const uint8_t *data;
    uint32_t caplen;
    uint32_t wire_len;
    uint64_t index;      /* 0-based packet number in the file */
};

/* Opens path ("-" is not accepted). NULL with e filled ("path: problem") when
 * it is not a readable capture. */
struct bt_pcap_reader *bt_pcap_open(const char *path, struct bt_err *e);
struct bt_pcap_reader *bt_pcap_close(struct bt_pcap_reader *r);
/* 1 with *rec filled, 0 at a clean end, -EBADMSG (e filled with
 * "path: packet N (byte offset X): problem") on a damaged record. */
int bt_pcap_next(struct bt_pcap_reader *r, struct bt_pcap_rec *rec, struct bt_err *e);
/* Up to max records at once: the same records, in the same order and with
 * the same errors, as as many bt_pcap_next calls, but every one of them
 * valid until the next call on r (those that are whole in the reader's
 * buffer after the first, which is read as bt_pcap_next reads it). The
 * count (1 to max), 0 at a clean end (or max 0), -EBADMSG as bt_pcap_next
 * (after a batch: the records before the damaged one came in that batch). */
int bt_pcap_next_batch(struct bt_pcap_reader *r, struct bt_pcap_rec *recs, unsigned max,
                       struct bt_err *e);
int bt_pcap_linktype(const struct bt_pcap_reader *r);   /* LINKTYPE_* value */
uint32_t bt_pcap_snaplen(const struct bt_pcap_reader *r);
const char *bt_pcap_path(const struct bt_pcap_reader *r);

/* Creates path (truncating). linktype: LINKTYPE_* (1 for Ethernet). */
struct bt_pcap_writer *bt_pcap_writer_open(const char *path, int linktype, uint32_t snaplen,
                                           struct bt_err *e);
/* Appends one record (buffered). 0 or -errno. */
int bt_pcap_write(struct bt_pcap_writer *w, uint64_t ts_ns, const uint8_t *data,
                  uint32_t caplen, uint32_t wire_len);
/* Appends n packets stamped ts_ns, each its first snaplen bytes (0: all)
 * and its wire length: the records of as many bt_pcap_write calls (which
 * stop at the first error, returned). 0 or -errno. */
int bt_pcap_write_pkts(struct bt_pcap_writer *w, uint64_t ts_ns, struct bt_pkt *const *pkts,
                       unsigned n, uint32_t snaplen);
/* Flushes and closes; returns 0 or the first -errno seen by any write. Accepts NULL. */
int bt_pcap_writer_close(struct bt_pcap_writer *w);
/* write(2) until all n bytes are written: regular files may take short
 * writes (ENOSPC half way, signals). 0 or -errno (-EIO for a write of 0). */
int bt_write_all(int fd, const uint8_t *p, size_t n);
uint64_t bt_pcap_writer_count(const struct bt_pcap_writer *w);

/* k-way merge of several readers by time stamp (ties: lower input index
 * first, then file order). Streams: memory is one batch of records (64)
 * per input. */
struct bt_pcap_merge;
/* Takes ownership of nothing: the readers stay the caller's (close them after
 * bt_pcap_merge_free). */
struct bt_pcap_merge *bt_pcap_merge_new(struct bt_pcap_reader **readers, unsigned n);
struct bt_pcap_merge *bt_pcap_merge_free(struct bt_pcap_merge *m);
/* 1 with *rec and *which (input index) set, 0 when all are done, -EBADMSG on
 * a damaged record (e filled). */
int bt_pcap_merge_next(struct bt_pcap_merge *m, struct bt_pcap_rec *rec, unsigned *which,
                       struct bt_err *e);
/* Up to max records of the merged stream at once, all of input *which and
 * all valid until the next call: with one input its bt_pcap_next_batch,
 * with several (different readers) that input's records while they come
 * before every other input's next one (ties: the lower input first), as
 * many bt_pcap_merge_next calls would hand them out; with one reader given
 * twice one record. The count, 0 when all are done, -EBADMSG (e filled). */
int bt_pcap_merge_next_batch(struct bt_pcap_merge *m, struct bt_pcap_rec *recs, unsigned max,
                             unsigned *which, struct bt_err *e);
/* Up to max records of the merged stream at once, of any inputs (which[k]:
 * recs[k]'s), all valid until the next call: the records, order and
 * errors of as many bt_pcap_merge_next calls, handed out until an input's
 * batch ends (to be read at the next call); with one reader given twice
 * one record. The count, 0 when all are done, -EBADMSG (e filled). */
int bt_pcap_merge_next_mixed(struct bt_pcap_merge *m, struct bt_pcap_rec *recs, unsigned *which,
                             unsigned max, struct bt_err *e);

#endif
