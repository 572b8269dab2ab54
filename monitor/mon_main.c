/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-monitor: the driver around monitor_core. It owns the clock, the
 * socket, the files and the terminal, in one poll loop without threads:
 *   --connect PATH   the gateway's stats socket (reconnects with backoff;
 *                    f/r/a/w send control commands on it)
 *   --replay FILE    a recorded stream, paced by its "t" (--speed X)
 *   --record FILE    also writes every stats line received to FILE
 *   --batch          plain text frames on stdout instead of the screen
 * Exit: 0 (q, or --batch done), 2 bad usage or unreadable file,
 * 128+signal after SIGINT/SIGTERM/SIGHUP (the terminal is restored first).
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mon_api.h"
#include "mon_opts.h"
#include "mon_tui.h"

#define NS 1000000000ULL
#define MS 1000000ULL
#define BACKOFF_MIN (100 * MS)
#define BACKOFF_MAX (5 * NS)
#define REPLY_TIMEOUT (5 * NS)
#define MAX_LINE (1u << 20)


struct app {
    struct mon_opts o;
    struct mon_model model, frozen;   /* frozen: what a paused live screen shows */
    struct mon_view view;
    struct mon_ctl ctl;
    struct mon_lines lines;
    char source[300];

    /* live */
    int fd;
    uint64_t backoff_ns, next_connect_ns;
    bool ever_connected, got_line;
    FILE *record;

    /* replay */
    FILE *replay;
    char *rline;
    size_t rcap;
    ssize_t rlen;            /* the line read ahead, waiting for its time; -1 none */
    uint64_t rline_no;
    bool replay_eof, replay_started;
    int replay_errno;         /* a read error ended the replay (not its end) */
    double t0_stream;
    uint64_t t0_wall, pause_start;
    uint64_t due_ns;

    /* output */
    struct mon_tui *tui;
    struct mon_grid *grid;
    bool dirty;
    struct mon_buf out;
    long frames;
    uint64_t next_frame_ns, ev_seen;
    struct mon_val last_frame_t;
};

static volatile sig_atomic_t got_signal, got_winch;
static struct mon_tui *tui_for_exit;

static void on_signal(int sig)
{
    got_signal = sig;
}

static void on_winch(int sig)
{
    (void)sig;
    got_winch = 1;
}

static void restore_terminal(void)
{
    tui_for_exit = mon_tui_close(tui_for_exit);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* ---- output ---- */

static void emit_frame(struct app *a)
{
    mon_buf_reset(&a->out);
    if (a->frames)
        mon_buf_printf(&a->out, "\n");
    mon_batch_frame(&a->model, a->o.sort, &a->ev_seen, &a->out);
    fwrite(a->out.p, 1, a->out.len, stdout);
    fflush(stdout);
    a->frames++;
    a->last_frame_t = a->model.cur.t;
}

static void draw(struct app *a, uint64_t now)
{
    struct mon_screen_opts so = {
        .unicode = mon_tui_unicode(a->tui),
        .source = a->source,
        .retry_at_ns = a->fd < 0 && a->o.connect ? a->next_connect_ns : 0,
    };
    int rows, cols;

    mon_tui_size(a->tui, &rows, &cols);
    if (!a->grid || a->grid->rows != rows || a->grid->cols != cols) {
        a->grid = mon_grid_free(a->grid);
        a->grid = mon_grid_new(rows, cols);
        if (!a->grid)
            return;
    }
    if (a->view.paused && a->o.connect) {
        /* frozen figures, live link state */
        a->frozen.link = a->model.link;
        a->frozen.link_since_ns = a->model.link_since_ns;
        a->frozen.lines_bad = a->model.lines_bad;
        memcpy(a->frozen.last_bad, a->model.last_bad, sizeof(a->frozen.last_bad));
        mon_screen_render(a->grid, &a->frozen, &a->view, now, &so);
    } else {
        mon_screen_render(a->grid, &a->model, &a->view, now, &so);
    }
    mon_tui_draw(a->tui, a->grid);
    a->dirty = false;
}

/* ---- live: the socket ---- */

static void disconnect(struct app *a, uint64_t now, const char *why)
{
    unsigned lost;

    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
    if (mon_lines_reset(&a->lines))
        mon_model_bad(&a->model, "partial line (connection closed)");
    lost = mon_ctl_drop_all(&a->ctl);
    if (lost)
        snprintf(a->view.msg, sizeof(a->view.msg), "%u command%s lost with the connection", lost,
                 lost == 1 ? "" : "s");
    if (a->got_line)
        a->backoff_ns = BACKOFF_MIN;
    a->got_line = false;
    mon_model_set_link(&a->model, a->ever_connected ? MON_LINK_DOWN : MON_LINK_CONNECTING, now);
    a->next_connect_ns = now + a->backoff_ns;
    a->backoff_ns = a->backoff_ns * 2 > BACKOFF_MAX ? BACKOFF_MAX : a->backoff_ns * 2;
    (void)why;
    a->dirty = true;
}

static void try_connect(struct app *a, uint64_t now)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int types[] = {SOCK_STREAM, SOCK_SEQPACKET};

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->o.connect);
    for (unsigned k = 0; k < 2; k++) {
        int fd = socket(AF_UNIX, types[k] | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            break;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            a->fd = fd;
            a->ever_connected = true;
            /* figures from before a reconnect are not live until a line
             * comes on this connection: dimmed as stale till then (found in
             * review: shown as LIVE for 3 intervals) */
            mon_model_set_link(&a->model, a->model.have ? MON_LINK_STALE : MON_LINK_LIVE, now);
            a->dirty = true;
            return;
        }
        int e = errno;
        close(fd);
        if (e != EPROTOTYPE)   /* a SEQPACKET server refuses a STREAM client so */
            break;
    }
    disconnect(a, now, "connect failed");
}

static void handle_line(struct app *a, uint64_t now, const char *line, size_t len)
{
    struct mon_reply r;
    int k = mon_model_feed(&a->model, now, line, len, &r);

    if (k == MON_LINE_REPLY) {
        mon_ctl_reply(&a->ctl, &r, a->view.msg, sizeof(a->view.msg));
    } else if (k != 0 && a->record) {
        fwrite(line, 1, len, a->record);
        fputc('\n', a->record);
        fflush(a->record);
    }
    if (k == MON_LINE_STATS)
        a->got_line = true;
    a->dirty = true;
}

static void read_socket(struct app *a, uint64_t now)
{
    char buf[65536];

    for (;;) {
        ssize_t n = read(a->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            disconnect(a, now, n == 0 ? "closed" : strerror(errno));
            return;
        }
        if (mon_lines_push(&a->lines, buf, (size_t)n) < 0) {
            mon_lines_reset(&a->lines);
            mon_model_bad(&a->model, "out of memory for a line");
        }
        const char *line;
        size_t len;
        int k;
        while ((k = mon_lines_next(&a->lines, &line, &len)) != 0) {
            if (k < 0)
                mon_model_bad(&a->model, "line longer than 1 MiB");
            else
                handle_line(a, now, line, len);
        }
    }
}

static void send_cmd(struct app *a, uint64_t now, const struct mon_cmd *cmd)
{
    char line[256], what[64];
    uint64_t id;
    int n;

    mon_cmd_text(cmd, what, sizeof(what));
    if (a->fd < 0) {
        snprintf(a->view.msg, sizeof(a->view.msg), "%s: not sent, not connected", what);
        return;
    }
    n = mon_ctl_encode(&a->ctl, cmd, now, line, sizeof(line), &id);
    if (n < 0) {
        snprintf(a->view.msg, sizeof(a->view.msg), "%s: not sent: %s", what,
                 n == -EBUSY ? "too many commands waiting for replies" : strerror(-n));
        return;
    }
    if (send(a->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
        mon_ctl_forget(&a->ctl, id);
        snprintf(a->view.msg, sizeof(a->view.msg), "%s: not sent: %s", what, strerror(errno));
        return;
    }
    snprintf(a->view.msg, sizeof(a->view.msg), "%s: sent, waiting for the reply", what);
}

/* ---- replay: the file ---- */

/* Reads the next non-blank line ahead and works out when it is due. */
static void replay_next(struct app *a, uint64_t now)
{
    static struct mon_frame f;
    struct mon_reply r;
    char why[120];

    a->rlen = -1;
    while (!a->replay_eof) {
        errno = 0;
        ssize_t n = getline(&a->rline, &a->rcap, a->replay);
        if (n < 0) {
            /* a line too long for memory (/dev/zero) sets only errno */
            if (ferror(a->replay) || errno == ENOMEM || errno == EOVERFLOW)
                a->replay_errno = errno ? errno : EIO;
            a->replay_eof = true;
            break;
        }
        a->rline_no++;
        if (strspn(a->rline, " \t\r\n") == (size_t)n) {
            /* counted, so that a bad line's "line N" is the file's (found
             * in review: off by the blank lines before it) */
            mon_model_feed(&a->model, 0, a->rline, 0, NULL);
            continue;
        }
        /* the same limit as a live stream's, so a replay of what a server
         * sent counts what the live screen counted */
        if ((size_t)n - (a->rline[n - 1] == '\n') > MAX_LINE) {
            mon_model_bad(&a->model, "line longer than 1 MiB");
            a->dirty = true;
            continue;
        }
        a->rlen = n;
        break;
    }
    if (a->rlen < 0)
        return;
    a->due_ns = now;   /* lines without a time follow the previous one at once */
    bool paced = a->o.speed_set || !a->o.batch;
    if (paced && mon_line_parse(a->rline, (size_t)a->rlen, &f, &r, why, sizeof(why)) ==
                     MON_LINE_STATS && f.t.present) {
        if (!a->replay_started) {
            a->replay_started = true;
            a->t0_stream = f.t.v;
            a->t0_wall = now;
        }
        double off = (f.t.v - a->t0_stream) / a->o.speed;
        /* (a slow --speed can still take it past the clock: never due then) */
        if (off > 0)
            a->due_ns = off * NS < (double)(UINT64_MAX - a->t0_wall)
                            ? a->t0_wall + (uint64_t)(off * NS) : UINT64_MAX;
    }
}

static void replay_feed(struct app *a, uint64_t now)
{
    while (a->rlen >= 0 && a->due_ns <= now && !(a->view.paused && !a->o.batch)) {
        int k = mon_model_feed(&a->model, now, a->rline, (size_t)a->rlen, NULL);
        a->dirty = true;
        if (a->o.batch && k == MON_LINE_STATS) {
            struct mon_val t = a->model.cur.t;
            if (!a->o.interval_set || !a->frames || !t.present || !a->last_frame_t.present ||
                t.v >= a->last_frame_t.v + a->o.interval - 1e-9)
                emit_frame(a);
            if (a->o.count > 0 && a->frames >= a->o.count)
                return;
        }
        replay_next(a, now);
    }
    if (a->rlen < 0 && a->replay_eof && a->model.link != MON_LINK_ENDED) {
        mon_model_set_link(&a->model, MON_LINK_ENDED, now);
        a->dirty = true;
    }
}

/* ---- the loop ---- */

static void on_key(struct app *a, uint64_t now, int key)
{
    struct mon_cmd cmd;
    bool was_paused = a->view.paused;
    enum mon_action act = mon_view_key(&a->view, a->view.paused && a->o.connect ? &a->frozen
                                                                               : &a->model,
                                       key, &cmd);

    if (act == MON_ACT_QUIT)
        got_signal = -1;
    if (act == MON_ACT_SEND)
        send_cmd(a, now, &cmd);
    if (!was_paused && a->view.paused) {
        a->frozen = a->model;
        a->pause_start = now;
    }
    if (was_paused && !a->view.paused && a->o.replay && a->replay_started) {
        /* the replay clock stood still while paused */
        uint64_t d = now - a->pause_start;
        a->t0_wall += d;
        if (a->rlen >= 0)
            a->due_ns += d;
    }
    if (act != MON_ACT_NONE)
        a->dirty = true;
}

static int run(struct app *a, const sigset_t *unblocked)
{
    uint64_t now = now_ns(), last_draw = 0;

    if (a->o.connect)
        try_connect(a, now);
    else
        replay_next(a, now);
    if (a->o.batch && a->o.connect)
        a->next_frame_ns = now + (uint64_t)(a->o.interval * NS);
    for (;;) {
        struct pollfd p[2];
        int np = 0, sock_i = -1, tty_i = -1;
        uint64_t wake = now + NS;   /* at least once a second: clocks on screen, staleness */

        if (got_signal)
            break;
        if (a->o.batch && a->o.count > 0 && a->frames >= a->o.count)
            break;
        if (a->o.batch && a->o.replay && a->rlen < 0 && a->replay_eof)
            break;
        if (a->o.connect && a->fd < 0 && a->next_connect_ns < wake)
            wake = a->next_connect_ns;
        if (a->o.replay && a->rlen >= 0 && !(a->view.paused && !a->o.batch) && a->due_ns < wake)
            wake = a->due_ns;
        if (a->o.batch && a->o.connect && a->next_frame_ns < wake)
            wake = a->next_frame_ns;
        if (a->fd >= 0) {
            p[np] = (struct pollfd){.fd = a->fd, .events = POLLIN};
            sock_i = np++;
        }
        if (a->tui) {
            p[np] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
            tty_i = np++;
        }
        uint64_t wait = wake > now ? wake - now : 0;
        struct timespec ts = {(time_t)(wait / NS), (long)(wait % NS)};
        int r = ppoll(p, (nfds_t)np, &ts, unblocked);
        now = now_ns();
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, "baton-monitor: poll: %s\n", strerror(errno));
            return 1;
        }
        if (got_signal)
            break;
        if (got_winch && a->tui) {
            got_winch = 0;
            mon_tui_resize(a->tui);
            a->dirty = true;
        }
        if (r > 0 && sock_i >= 0 && p[sock_i].revents)
            read_socket(a, now);
        if (r > 0 && tty_i >= 0 && (p[tty_i].revents & (POLLHUP | POLLERR | POLLNVAL))) {
            got_signal = SIGHUP;   /* the terminal is gone: nothing to show, nobody to ask */
            break;
        }
        if (r > 0 && tty_i >= 0 && p[tty_i].revents) {
            int key;
            while ((key = mon_tui_key(a->tui)) >= 0 && !got_signal)
                on_key(a, now, key);
        }
        if (a->o.connect && a->fd < 0 && now >= a->next_connect_ns)
            try_connect(a, now);
        if (a->o.replay)
            replay_feed(a, now);
        mon_model_tick(&a->model, now);
        if (mon_ctl_expire(&a->ctl, now, REPLY_TIMEOUT, a->view.msg, sizeof(a->view.msg)))
            a->dirty = true;
        if (a->o.batch && a->o.connect && now >= a->next_frame_ns) {
            emit_frame(a);
            a->next_frame_ns += (uint64_t)(a->o.interval * NS);
            if (a->next_frame_ns < now)
                a->next_frame_ns = now + (uint64_t)(a->o.interval * NS);
        }
        if (a->tui && (a->dirty || now - last_draw >= NS)) {
            draw(a, now);
            last_draw = now;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct app a;
    struct sigaction sa = {0};
    sigset_t block, unblocked;
    int ret = 0;

    setlocale(LC_ALL, "");
    memset(&a, 0, sizeof(a));
    a.fd = -1;
    a.rlen = -1;
    a.backoff_ns = BACKOFF_MIN;
    {
        struct bt_err e = {""};
        if ((ret = mon_opts_parse(argc, argv, &a.o, &e)) == 1) {
            mon_opts_usage(stdout);
            return 0;
        }
        if (ret < 0) {
            fprintf(stderr, "baton-monitor: %s\n", e.msg);
            if (a.o.usage)
                mon_opts_usage(stderr);
            return 2;
        }
    }
    if (mon_lines_init(&a.lines, MAX_LINE) < 0) {
        fprintf(stderr, "baton-monitor: out of memory\n");
        return 1;
    }
    mon_ctl_init(&a.ctl);
    mon_view_init(&a.view, a.o.connect != NULL);
    a.view.sort = a.o.sort;
    if (a.o.replay) {
        struct stat st;
        a.replay = fopen(a.o.replay, "r");
        if (!a.replay || (fstat(fileno(a.replay), &st) == 0 && S_ISDIR(st.st_mode))) {
            fprintf(stderr, "baton-monitor: %s: %s\n", a.o.replay, strerror(a.replay ? EISDIR : errno));
            ret = 2;
            goto out;
        }
        snprintf(a.source, sizeof(a.source), "replay %s x%g", a.o.replay, a.o.speed);
    } else {
        snprintf(a.source, sizeof(a.source), "live %s", a.o.connect);
    }
    if (a.o.record) {
        a.record = fopen(a.o.record, "w");
        if (!a.record) {
            fprintf(stderr, "baton-monitor: --record %s: %s\n", a.o.record, strerror(errno));
            ret = 2;
            goto out;
        }
    }
    mon_model_init(&a.model, a.o.replay ? MON_LINK_REPLAY : MON_LINK_CONNECTING, now_ns());

    /* Signals are blocked except inside ppoll, so none is lost between the
     * check of the flag and the wait. */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGWINCH);
    sigprocmask(SIG_BLOCK, &block, &unblocked);
    sigdelset(&unblocked, SIGINT);
    sigdelset(&unblocked, SIGTERM);
    sigdelset(&unblocked, SIGHUP);
    sigdelset(&unblocked, SIGWINCH);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_winch;   /* installed before ncurses, which then leaves SIGWINCH to us */
    sigaction(SIGWINCH, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!a.o.batch) {
        a.tui = mon_tui_open(a.o.ascii);
        if (!a.tui) {
            const char *term = getenv("TERM");
            if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
                fprintf(stderr, "baton-monitor: cannot use the terminal (TERM=%s); use --batch\n",
                        term ? term : "unset");
            else
                fprintf(stderr, "baton-monitor: the live screen needs a terminal (stdin and stdout); use --batch\n");
            ret = 2;
            goto out;
        }
        tui_for_exit = a.tui;
        atexit(restore_terminal);
    }
    ret = run(&a, &unblocked);
    if (a.tui) {
        tui_for_exit = NULL;
        a.tui = mon_tui_close(a.tui);
    }
    if (!ret && got_signal > 0)
        ret = 128 + got_signal;
    if (a.model.lines_bad)
        fprintf(stderr, "baton-monitor: %s: %llu malformed line%s skipped (last: %s)\n",
                a.o.replay ? a.o.replay : a.o.connect, (unsigned long long)a.model.lines_bad,
                a.model.lines_bad == 1 ? "" : "s", a.model.last_bad);
    /* a replay cut short by a read error, or of a file that holds no stats
     * line at all, showed nothing true: bad input, not a finished run */
    if (a.o.replay && a.replay_errno) {
        fprintf(stderr, "baton-monitor: %s: cannot read after line %llu: %s\n", a.o.replay,
                (unsigned long long)a.rline_no, strerror(a.replay_errno));
        ret = 2;
    } else if (a.o.replay && a.replay_eof && a.model.lines_stats == 0) {
        /* an empty or blank file too: it showed nothing, it is not a replay */
        if (a.rline_no == 0)
            fprintf(stderr, "baton-monitor: %s: not a stats stream (the file is empty)\n",
                    a.o.replay);
        else
            fprintf(stderr, "baton-monitor: %s: not a stats stream (no stats line in %llu line%s)\n",
                    a.o.replay, (unsigned long long)a.rline_no, a.rline_no == 1 ? "" : "s");
        ret = 2;
    }
out:
    if (a.tui) {
        tui_for_exit = NULL;
        a.tui = mon_tui_close(a.tui);
    }
    if (a.fd >= 0)
        close(a.fd);
    if (a.replay)
        fclose(a.replay);
    if (a.record)
        fclose(a.record);
    free(a.rline);
    mon_lines_fini(&a.lines);
    mon_buf_fini(&a.out);
    mon_grid_free(a.grid);
    return ret;
}
