/* SPDX-License-Identifier: BSD-3-Clause */
/* The --serve socket (gateway/gw_serve.c): commands in, answers and stats
 * lines out on one connection, bounded lines, pacing, stop. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bt_test.h"
#include "bt_err.h"
#include "gw_api.h"
#include "gw_serve.h"

static char path[108];

static int connect_to(void)
{
    struct sockaddr_un a;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        return -1;
    return fd;
}

/* Reads what is there within ms into buf (NUL-terminated). */
static size_t slurp(int fd, char *buf, size_t cap, int ms)
{
    size_t n = 0;
    struct pollfd p = {fd, POLLIN, 0};
    while (n < cap - 1 && poll(&p, 1, ms) > 0) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        ms = 20;
    }
    buf[n] = 0;
    return n;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A cluster and its served socket at path, paced at speed. */
static bool open_both(double speed, struct gw_cluster **g, struct gw_serve **s)
{
    struct bt_err e = {""};
    struct gw_config c;
    gw_config_default(&c);
    *g = gw_cluster_new(&c, 1);
    *s = gw_serve_open(path, speed, &e);
    return *g && *s;
}

TEST(commands_answers_and_stats_on_one_connection)
{
    char buf[8192];
    struct gw_cluster *g;
    struct gw_serve *s;
    REQUIRE(open_both(1.0, &g, &s));
    int a = connect_to(), b = connect_to();
    REQUIRE(a >= 0 && b >= 0);
    const char *cmd = "{\"id\": 7, \"cmd\": \"fail\", \"sgm\": 2}\n";
    REQUIRE(write(a, cmd, strlen(cmd)) == (ssize_t)strlen(cmd));
    /* the command is applied while pacing, and the call says so */
    int r = 0;
    for (int i = 0; i < 50 && r != 1; i++)
        r = gw_serve_pace(s, g, (uint64_t)(i + 1) * 10000000ULL);
    CHECK_EQ_INT(r, 1);
    CHECK_EQ_INT(gw_serve_clients(s), 2);
    CHECK_EQ_INT(gw_serve_commands(s), 1);
    struct gw_member_stats ms;
    gw_member_stats(g, 2, &ms);
    CHECK(!ms.alive);
    gw_serve_stats(s, "{\"schema\":1,\"seq\":0}");
    gw_serve_pace(s, g, 600000000ULL);
    slurp(a, buf, sizeof(buf), 200);
    CHECK_EQ_STR(buf, "{\"id\":7,\"ok\":true}\n{\"schema\":1,\"seq\":0}\n");
    slurp(b, buf, sizeof(buf), 200);
    CHECK_EQ_STR(buf, "{\"schema\":1,\"seq\":0}\n");   /* a reader sees only stats */
    close(a);
    close(b);
    gw_serve_pace(s, g, 700000000ULL);
    CHECK_EQ_INT(gw_serve_clients(s), 0);
    gw_serve_close(s);
    CHECK(access(path, F_OK) < 0);   /* the socket file is gone */
    gw_cluster_free(g);
}

/* `echo CMD | socat - UNIX-CONNECT:...`: the command and the end of input
 * arrive together; the answer (here a refusal) still reaches the client */
TEST(a_client_that_half_closes_gets_its_answer)
{
    char buf[4096];
    struct gw_cluster *g;
    struct gw_serve *s;
    REQUIRE(open_both(1.0, &g, &s));
    int a = connect_to();
    REQUIRE(a >= 0);
    const char *cmd = "{\"id\": 3, \"cmd\": \"fail\", \"sgm\": 9}\n";
    REQUIRE(write(a, cmd, strlen(cmd)) == (ssize_t)strlen(cmd));
    REQUIRE(shutdown(a, SHUT_WR) == 0);
    for (int i = 0; i < 20; i++)
        gw_serve_pace(s, g, (uint64_t)(i + 1) * 10000000ULL);
    CHECK_EQ_INT(gw_serve_clients(s), 0);   /* dropped at its end of input */
    slurp(a, buf, sizeof(buf), 200);
    CHECK(strstr(buf, "{\"id\":3,\"ok\":false,\"error\":") == buf);
    close(a);
    gw_serve_close(s);
    gw_cluster_free(g);
}

TEST(long_lines_and_errors_answered)
{
    static char big[9000], buf[4096];
    struct gw_cluster *g;
    struct gw_serve *s;
    REQUIRE(open_both(1.0, &g, &s));
    int a = connect_to();
    REQUIRE(a >= 0);
    memset(big, 'x', sizeof(big) - 2);
    big[sizeof(big) - 2] = '\n';
    REQUIRE(write(a, big, sizeof(big) - 1) == (ssize_t)sizeof(big) - 1);
    const char *bad = "{\"id\": 1, \"cmd\": \"fail\", \"sgm\": 99}\n";
    REQUIRE(write(a, bad, strlen(bad)) == (ssize_t)strlen(bad));
    for (int i = 1; i <= 30; i++)
        gw_serve_pace(s, g, (uint64_t)i * 10000000ULL);
    slurp(a, buf, sizeof(buf), 200);
    CHECK(strstr(buf, "line longer than 4095 bytes") != NULL);
    CHECK(strstr(buf, "{\"id\":1,\"ok\":false,\"error\":\"\\\"sgm\\\" must be an integer 1..64\"}") != NULL);
    close(a);
    gw_serve_close(s);
    gw_cluster_free(g);
}

/* A client that never reads is dropped once its queue passes 1 MiB (the
 * simulation never waits for it), while one that reads keeps its stream. */
TEST(a_client_that_never_reads_is_dropped)
{
    static char line[1000], buf[65536];
    struct gw_cluster *g;
    struct gw_serve *s;
    REQUIRE(open_both(1000.0, &g, &s));
    int mute = connect_to(), rd = connect_to();
    REQUIRE(mute >= 0 && rd >= 0);
    for (int i = 0; i < 100 && gw_serve_clients(s) < 2; i++) {
        gw_serve_pace(s, g, 1000000ULL);   /* both accepted */
        usleep(1000);
    }
    REQUIRE(gw_serve_clients(s) == 2);
    memset(line, 'x', sizeof(line) - 1);
    size_t got = 0;
    double t0 = wall();
    /* 4000 lines of 1000 bytes: 4 MB, more than the queue and both
     * sockets' buffers hold */
    for (int i = 0; i < 4000; i++) {
        gw_serve_stats(s, line);
        gw_serve_pace(s, g, (uint64_t)(i + 2) * 1000000ULL);
        struct pollfd p = {rd, POLLIN, 0};
        while (poll(&p, 1, 0) > 0) {
            ssize_t r = read(rd, buf, sizeof(buf));
            if (r <= 0)
                break;
            got += (size_t)r;
        }
    }
    CHECK(wall() - t0 < 20.0);   /* never blocked on the mute one */
    CHECK_EQ_INT(gw_serve_clients(s), 1);
    for (int i = 0; i < 20; i++)
        gw_serve_pace(s, g, (uint64_t)(4100 + i) * 1000000ULL);
    got += slurp(rd, buf, sizeof(buf), 200);
    CHECK_EQ_INT(got, 4000 * 1000);   /* every line, none cut */
    close(mute);
    close(rd);
    gw_serve_close(s);
    gw_cluster_free(g);
}

TEST(pacing_follows_speed_and_stop)
{
    struct bt_err e = {""};
    struct gw_cluster *g;
    struct gw_serve *s;
    REQUIRE(open_both(10.0, &g, &s));
    double t0 = wall();
    gw_serve_pace(s, g, 0);
    CHECK_EQ_INT(gw_serve_pace(s, g, 2000000000ULL), 0);   /* 2 virtual s at 10x */
    double dt = wall() - t0;
    /* never early; late only by what a loaded 2-core CI machine's scheduler
     * adds (not 1x, which would mean no pacing at all) */
    CHECK(dt > 0.18 && dt < 1.5);
    gw_serve_stop = 1;
    CHECK_EQ_INT(gw_serve_pace(s, g, 3000000000ULL), -EINTR);
    gw_serve_stop = 0;
    gw_serve_close(s);
    CHECK(gw_serve_open("/nonexistent-dir/x.sock", 1, &e) == NULL);
    CHECK(strstr(e.msg, "/nonexistent-dir/x.sock") != NULL);
    CHECK(gw_serve_open(path, 0, &e) == NULL);
    gw_cluster_free(g);
}

/* The live driver's wait: a readable descriptor of its own ends the wait
 * early (2), a quiet one does not; time stays on the given origin. */
TEST(pacing_returns_on_a_readable_fd_and_keeps_an_epoch_origin)
{
    struct bt_err e = {""};
    struct gw_config c;
    int p[2];
    gw_config_default(&c);
    struct gw_cluster *g = gw_cluster_new(&c, 1);
    struct gw_serve *s = gw_serve_open(path, 1.0, &e);
    REQUIRE(g && s && pipe(p) == 0);
    /* epoch nanoseconds: past a double's 53 bits */
    const uint64_t v0 = 1796356702006753661ULL;
    gw_serve_start(s, v0);
    double t0 = wall();
    CHECK_EQ_INT(gw_serve_pace_fds(s, g, v0 + 50000000ULL, p, 1), 0);   /* quiet: 50 ms */
    CHECK(wall() - t0 >= 0.045);
    REQUIRE(write(p[1], "x", 1) == 1);
    t0 = wall();
    CHECK_EQ_INT(gw_serve_pace_fds(s, g, v0 + 5000000000ULL, p, 1), 2);
    CHECK(wall() - t0 < 1.0);   /* at once, not after the 5 s */
    CHECK_EQ_INT(gw_serve_pace_fds(s, g, v0, p, GW_SERVE_MAX_FDS + 1), -EINVAL);
    /* a command lands at its arrival on that clock: not before the origin */
    int a = connect_to();
    REQUIRE(a >= 0);
    const char *cmd = "{\"id\": 1, \"cmd\": \"fail\", \"sgm\": 1}\n";
    REQUIRE(write(a, cmd, strlen(cmd)) == (ssize_t)strlen(cmd));
    int r = 0;
    for (int i = 0; i < 50 && r != 1; i++)
        r = gw_serve_pace_fds(s, g, v0 + 100000000ULL + (uint64_t)i * 10000000ULL, NULL, 0);
    CHECK_EQ_INT(r, 1);
    struct gw_stats_line *l = malloc(sizeof(*l));
    REQUIRE(l);
    gw_stats_sample(g, v0 + 700000000ULL, l);
    CHECK(l->nevents >= 1 && l->events[0].t_ns >= v0 && l->events[0].t_ns <= v0 + 700000000ULL);
    free(l);
    close(a);
    close(p[0]);
    close(p[1]);
    gw_serve_close(s);
    gw_cluster_free(g);
}

__attribute__((constructor)) static void init_path(void)
{
    snprintf(path, sizeof(path), "/tmp/bt-gwserve-%d.sock", (int)getpid());
}
