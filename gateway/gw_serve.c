/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stats and control socket of the sim driver: one poll loop, clients
 * that may only read (the stats stream) or also write commands; answers and
 * stats lines share each connection in the order they were made. Every
 * received line is bounded (4 KiB) and every slow client is bounded (1 MiB
 * queued) so that no client can stall the simulation.
 */
#include "gw_serve.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bt_err.h"
#include "gw_api.h"

#define MAX_CLIENTS 16
#define LINE_MAX_BYTES 4096
#define OUT_MAX (1u << 20)

volatile sig_atomic_t gw_serve_stop;

struct client {
    int fd;
    char in[LINE_MAX_BYTES];
    size_t nin;
    bool discarding;      /* the current line was too long: skip to its end */
    char *out;
    size_t nout, cap;
};

struct gw_serve {
    int lfd;
    char path[108];
    dev_t dev;            /* the socket file we bound, to remove only that */
    ino_t ino;
    double speed;
    bool started;
    uint64_t v0;          /* virtual origin */
    double w0;            /* wall origin, seconds */
    struct client c[MAX_CLIENTS];
    unsigned nc;
    uint64_t commands;
};

static double wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct gw_serve *gw_serve_open(const char *path, double speed, struct bt_err *e)
{
    struct gw_serve *s;
    struct sockaddr_un a;
    struct stat st;

    if (strlen(path) >= sizeof(a.sun_path)) {
        bt_err_set(e, "%s: socket path too long (at most %zu bytes)", path, sizeof(a.sun_path) - 1);
        return NULL;
    }
    if (!(speed > 0)) {
        bt_err_set(e, "--speed: must be more than 0");
        return NULL;
    }
    if (!(s = calloc(1, sizeof(*s)))) {
        bt_err_setr(e, -ENOMEM, "out of memory");
        return NULL;
    }
    s->speed = speed;
    snprintf(s->path, sizeof(s->path), "%s", path);
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path, path, strlen(path));
    if (stat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            bt_err_set(e, "%s: exists and is not a socket", path);
            free(s);
            return NULL;
        }
        /* a socket someone still accepts on belongs to a running server:
         * taking it over would leave that one unreachable; only a stale one
         * (connection refused) is replaced */
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&a, sizeof(a)) == 0) {
            close(probe);
            bt_err_setr(e, -EADDRINUSE, "%s: another server is listening on this socket", path);
            free(s);
            return NULL;
        }
        if (probe >= 0)
            close(probe);
        unlink(path);
    }
    s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->lfd, 8) < 0 ||
        stat(path, &st) < 0) {
        bt_err_setr(e, -errno, "%s: cannot listen: %s", path, strerror(errno));
        if (s->lfd >= 0)
            close(s->lfd);
        free(s);
        return NULL;
    }
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    return s;
}

static void drop_client(struct gw_serve *s, unsigned i)
{
    close(s->c[i].fd);
    free(s->c[i].out);
    s->c[i] = s->c[--s->nc];
    memset(&s->c[s->nc], 0, sizeof(s->c[s->nc]));
}

struct gw_serve *gw_serve_close(struct gw_serve *s)
{
    if (!s)
        return NULL;
    while (s->nc) {
        /* a last attempt to hand over what is queued */
        if (s->c[0].nout && send(s->c[0].fd, s->c[0].out, s->c[0].nout, MSG_NOSIGNAL) < 0)
            (void)0;
        drop_client(s, 0);
    }
    close(s->lfd);
    /* only our own socket: not one a later server bound at the same path */
    struct stat st;
    if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
        unlink(s->path);
    free(s);
    return NULL;
}

static int queue_out(struct client *c, const char *line, size_t len)
{
    if (c->nout + len + 1 > OUT_MAX)
        return -ENOBUFS;
    if (c->nout + len + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->nout + len + 1)
            cap *= 2;
        char *o = realloc(c->out, cap);
        if (!o)
            return -ENOMEM;
        c->out = o;
        c->cap = cap;
    }
    memcpy(c->out + c->nout, line, len);
    c->out[c->nout + len] = '\n';
    c->nout += len + 1;
    return 0;
}

void gw_serve_stats(struct gw_serve *s, const char *line)
{
    size_t len = strlen(line);

    for (unsigned i = 0; i < s->nc;) {
        if (queue_out(&s->c[i], line, len) < 0)
            drop_client(s, i);   /* too slow a reader */
        else
            i++;
    }
}

unsigned gw_serve_clients(const struct gw_serve *s)
{
    return s->nc;
}

uint64_t gw_serve_commands(const struct gw_serve *s)
{
    return s->commands;
}

/* Virtual now, at most t. The origin is added as an integer: the live
 * driver's clock is epoch nanoseconds (~1.8e18), past a double's 53 bits,
 * and a rounded now could fall before what the core already ran. */
static uint64_t vnow(const struct gw_serve *s, uint64_t t)
{
    double el = (wall() - s->w0) * s->speed * 1e9;
    uint64_t vt = s->v0 + (el < 0 ? 0 : (uint64_t)el);

    return vt > t ? t : vt;
}

void gw_serve_start(struct gw_serve *s, uint64_t v0)
{
    s->started = true;
    s->v0 = v0;
    s->w0 = wall();
}

/* Reads what client i sent; applies complete lines. Returns commands applied, -1 to drop it. */
static int client_read(struct gw_serve *s, unsigned i, struct gw_cluster *g, uint64_t t)
{
    struct client *c = &s->c[i];
    char buf[4096];
    ssize_t n = read(c->fd, buf, sizeof(buf));
    int applied = 0;

    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        return -1;
    for (ssize_t k = 0; k < n; k++) {
        if (buf[k] != '\n') {
            if (c->discarding)
                continue;
            if (c->nin == sizeof(c->in) - 1) {
                char reply[256];
                snprintf(reply, sizeof(reply), "{\"id\":null,\"ok\":false,\"error\":\"line longer than %d bytes\"}",
                         LINE_MAX_BYTES - 1);
                if (queue_out(c, reply, strlen(reply)) < 0)
                    return -1;
                c->discarding = true;
                c->nin = 0;
                continue;
            }
            c->in[c->nin++] = buf[k];
            continue;
        }
        if (c->discarding) {
            c->discarding = false;
            continue;
        }
        c->in[c->nin] = 0;
        if (c->nin && c->in[c->nin - 1] == '\r')
            c->in[--c->nin] = 0;
        if (c->nin) {
            char reply[BT_ERR_MAX + 128];
            /* applied when it arrived, in virtual time (the core never
             * goes back before what it already ran) */
            gw_control(g, vnow(s, t), c->in, reply, sizeof(reply));
            s->commands++;
            applied++;
            if (queue_out(c, reply, strlen(reply)) < 0)
                return -1;
        }
        c->nin = 0;
    }
    return applied;
}

int gw_serve_pace(struct gw_serve *s, struct gw_cluster *g, uint64_t t)
{
    return gw_serve_pace_fds(s, g, t, NULL, 0);
}

int gw_serve_pace_fds(struct gw_serve *s, struct gw_cluster *g, uint64_t t, const int *fds, unsigned nfds)
{
    if (nfds > GW_SERVE_MAX_FDS)
        return -EINVAL;
    if (!s->started)
        gw_serve_start(s, t);
    for (;;) {
        struct pollfd pfd[1 + GW_SERVE_MAX_FDS + MAX_CLIENTS];
        const unsigned base = 1 + nfds;   /* the clients' entries start here */
        double target = s->w0 + (double)(t > s->v0 ? t - s->v0 : 0) / 1e9 / s->speed, left = target - wall();
        /* to the microsecond (ppoll): a live run's next packet is often
         * due in tens of them */
        struct timespec ts = {0, 0};
        int applied = 0;

        if (left > 0) {
            ts.tv_sec = (time_t)left;
            ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
        }
        if (gw_serve_stop)
            return -EINTR;
        pfd[0].fd = s->lfd;
        pfd[0].events = POLLIN;
        for (unsigned i = 0; i < nfds; i++) {
            pfd[1 + i].fd = fds[i];
            pfd[1 + i].events = POLLIN;
            pfd[1 + i].revents = 0;
        }
        for (unsigned i = 0; i < s->nc; i++) {
            pfd[base + i].fd = s->c[i].fd;
            pfd[base + i].events = POLLIN | (s->c[i].nout ? POLLOUT : 0);
        }
        if (ppoll(pfd, base + s->nc, &ts, NULL) < 0 && errno != EINTR)
            return -errno;
        if (gw_serve_stop)
            return -EINTR;
        if (pfd[0].revents & POLLIN) {
            int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0 && s->nc < MAX_CLIENTS) {
                memset(&s->c[s->nc], 0, sizeof(s->c[s->nc]));
                s->c[s->nc++].fd = fd;
            } else if (fd >= 0) {
                const char *full = "{\"id\":null,\"ok\":false,\"error\":\"too many clients\"}\n";
                if (send(fd, full, strlen(full), MSG_NOSIGNAL) < 0)
                    (void)0;
                close(fd);
            }
        }
        /* clients from the poll set (new ones are polled next round) */
        for (unsigned i = 0, np = 0; np < (unsigned)(sizeof(pfd) / sizeof(pfd[0])) - base && i < s->nc; np++) {
            struct client *c = &s->c[i];
            short ev = pfd[base + np].revents;
            int r = 0;
            if (pfd[base + np].fd != c->fd)
                break;
            if (ev & (POLLERR | POLLNVAL))
                r = -1;
            if (r == 0 && (ev & (POLLIN | POLLHUP)))
                r = client_read(s, i, g, t);
            if (r >= 0 && (ev & POLLOUT) && c->nout) {
                ssize_t w = send(c->fd, c->out, c->nout, MSG_NOSIGNAL);
                if (w > 0) {
                    memmove(c->out, c->out + w, c->nout - (size_t)w);
                    c->nout -= (size_t)w;
                } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                    r = -1;
                }
            }
            if (r < 0) {
                /* a client that half-closed (`echo CMD | socat - UNIX:...`)
                 * still reads: the answers to its last lines go out before
                 * it is dropped (a refused command's error among them) */
                if (c->nout && send(c->fd, c->out, c->nout, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                    (void)0;
                drop_client(s, i);
                continue;
            }
            applied += r;
            i++;
        }
        if (applied)
            return 1;
        for (unsigned i = 0; i < nfds; i++)
            if (pfd[1 + i].revents)
                return 2;
        if (wall() >= target)
            return 0;
    }
}
