/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include "bt_test.h"
#include "mon_api.h"

#define NS 1000000000ULL

static struct mon_model m;
static char line[4096];

/* 52 members, weight 100 each; SGM 7 down (with an sgm_down event), SGM 9 at
 * half its share, SGM 12 without a cpu figure */
static void cluster52(void)
{
    static char l[65536];
    int k = snprintf(l, sizeof(l), "{\"schema\":1,\"t\":12.5,\"seq\":12,\"cluster\":{\"pps\":1234567,"
                     "\"bps\":9.87e9,\"conns\":2345678,\"cps\":12345,\"sync_bps\":34.5e6,\"members_up\":51,"
                     "\"members_total\":52,\"policy_version\":3},\"sgms\":[");
    for (int i = 1; i <= 52; i++)
        k += snprintf(l + k, sizeof(l) - (size_t)k,
                      "%s{\"id\":%d,\"state\":\"%s\",\"weight\":100,\"pps\":%d,\"bps\":%d,\"conns\":%d,"
                      "\"backup_conns\":%d,\"cps\":%d,\"sync_tx_pps\":%d,\"sync_tx_bps\":%d,"
                      "\"sync_rx_pps\":%d,\"sync_rx_bps\":%d,\"corrections_pps\":%d,\"drops\":%d%s}",
                      i > 1 ? "," : "", i, i == 7 ? "down" : "up", i == 7 ? 0 : i == 9 ? 12000 : 24000,
                      i == 7 ? 0 : 190000000, 45000 + i, 44000, 240, 240, 983040, 238, 974848, i,
                      i == 7 ? 1500 : 0, i == 12 ? "" : ",\"cpu\":42");
    snprintf(l + k, sizeof(l) - (size_t)k, "],\"events\":[{\"t\":11.25,\"event\":\"sgm_down\",\"sgm\":7}]}");
    mon_model_init(&m, MON_LINK_CONNECTING, 0);
    mon_model_set_link(&m, MON_LINK_LIVE, 0);
    REQUIRE(mon_model_feed(&m, NS, l, strlen(l), NULL) == MON_LINE_STATS);
}

static void dump(const struct mon_grid *g)
{
    if (!getenv("MON_DUMP"))
        return;
    for (int r = 0; r < g->rows; r++)
        fprintf(stderr, "|%s\n", mon_grid_line(g, r, line, sizeof(line)));
}

static int find_row(const struct mon_grid *g, const char *needle)
{
    for (int r = 0; r < g->rows; r++)
        if (strstr(mon_grid_line(g, r, line, sizeof(line)), needle))
            return r;
    return -1;
}

static struct mon_screen_opts opts = {.unicode = false, .source = "live /tmp/t.sock"};

TEST(screen_80x24)
{
    struct mon_grid *g = mon_grid_new(24, 80);
    struct mon_view v;
    REQUIRE(g);
    cluster52();
    REQUIRE(!m.d[6].off && m.d[6].down);
    mon_view_init(&v, true);
    mon_screen_render(g, &m, &v, NS, &opts);
    dump(g);
    CHECK_EQ_INT(v.page, 14);
    mon_grid_line(g, 0, line, sizeof(line));
    CHECK(strncmp(line, "baton-monitor  live /tmp/t.sock", 31) == 0);
    CHECK(strstr(line, "t 12.500s  seq 12  LIVE") != NULL);
    CHECK_EQ_INT(strlen(line), 80);   /* right-aligned to the edge */
    CHECK_EQ_STR(mon_grid_line(g, 1, line, sizeof(line)),
                 "pps 1.23M Gbps 9.87 conns 2.35M cps 12.3K sync 34.5 Mbps up 51/52 policy v3");
    /* at 80 columns the totals are one space apart; wider, two */
    CHECK(strncmp(mon_grid_line(g, 2, line, sizeof(line)), "pps ", 4) == 0);
    CHECK_EQ_STR(mon_grid_line(g, 3, line, sizeof(line)),
                 " ID S   W EXP ACT SHR  PPS Mbps CONN/BKUP  CPS TX pps/Mb RX pps/Mb CORR DROP CPU");
    /* every column fits: the widest row is exactly 80 */
    CHECK_EQ_STR(mon_grid_line(g, 4, line, sizeof(line)),
                 "  1 U 100 2.0 2.0 ###  24K  190  45K/44K   240  240/0.98  238/0.97    1    0  42");
    int r7 = find_row(g, "! 7 D");
    CHECK_EQ_INT(r7, 10);
    CHECK_EQ_STR(mon_grid_line(g, 10, line, sizeof(line)),
                 "! 7 D 100   0   0        0    0  45K/44K   240  240/0.98  238/0.97    7 1.5K  42");
    CHECK(g->attr[10 * 80 + 24] == MON_A_DOWN);
    CHECK(strncmp(mon_grid_line(g, 12, line, sizeof(line)), "* 9 U 100 2.0 1.0 ##|", 21) == 0);
    CHECK(g->attr[12 * 80 + 30] == MON_A_OFF);
    CHECK(g->attr[5 * 80 + 30] == MON_A_NORMAL);
    CHECK(g->attr[4 * 80 + 0] & MON_A_CURSOR);   /* the cursor starts on the first row */
    /* member 12 has no cpu figure: "-", not 0 */
    CHECK(strstr(mon_grid_line(g, 15, line, sizeof(line)), " 12 U") != NULL);
    CHECK(line[strlen(line) - 1] == '-');
    /* 14 rows shown, then the event pane with the scroll position */
    CHECK(strstr(mon_grid_line(g, 17, line, sizeof(line)), " 14 U") != NULL);
    CHECK(strncmp(mon_grid_line(g, 18, line, sizeof(line)), "- events (1) ---", 16) == 0);
    CHECK(strstr(line, " rows 1-14 of 52 ") != NULL);
    CHECK_EQ_STR(mon_grid_line(g, 19, line, sizeof(line)), "       11.250s  sgm_down SGM 7");
    CHECK(g->attr[19 * 80 + 20] == MON_A_DOWN);
    CHECK_EQ_STR(mon_grid_line(g, 23, line, sizeof(line)), "sort id | h help  q quit");
    mon_grid_free(g);
}

TEST(scrolled_to_the_end)
{
    struct mon_grid *g = mon_grid_new(24, 80);
    struct mon_view v;
    struct mon_cmd c;
    cluster52();
    mon_view_init(&v, true);
    mon_screen_render(g, &m, &v, NS, &opts);
    mon_view_key(&v, &m, MON_KEY_END, &c);
    mon_screen_render(g, &m, &v, NS, &opts);
    dump(g);
    CHECK(strstr(mon_grid_line(g, 4, line, sizeof(line)), " 39 U") != NULL);
    CHECK(strstr(mon_grid_line(g, 17, line, sizeof(line)), " 52 U") != NULL);
    CHECK(g->attr[17 * 80 + 1] & MON_A_CURSOR);
    CHECK(strstr(mon_grid_line(g, 18, line, sizeof(line)), " rows 39-52 of 52 ") != NULL);
    mon_grid_free(g);
}

TEST(sorted_by_state_and_bad_lines)
{
    struct mon_grid *g = mon_grid_new(24, 80);
    struct mon_view v;
    cluster52();
    mon_model_feed(&m, 2 * NS, "{oops", 5, NULL);
    mon_view_init(&v, true);
    v.sort = MON_SORT_STATE;
    mon_screen_render(g, &m, &v, 2 * NS, &opts);
    dump(g);
    CHECK(strncmp(mon_grid_line(g, 4, line, sizeof(line)), "! 7 D", 5) == 0);
    CHECK(strncmp(mon_grid_line(g, 5, line, sizeof(line)), "  1 U", 5) == 0);
    CHECK(strncmp(mon_grid_line(g, 23, line, sizeof(line)), "sort state | 1 bad line (line 2: not JSON", 41) == 0);
    CHECK(g->attr[23 * 80 + 15] == MON_A_OFF);
    mon_grid_free(g);
}

TEST(stale_and_disconnected)
{
    struct mon_grid *g = mon_grid_new(24, 80);
    struct mon_view v;
    struct mon_screen_opts o = opts;
    cluster52();
    mon_view_init(&v, true);
    mon_model_tick(&m, 10 * NS);
    REQUIRE(m.link == MON_LINK_STALE);
    mon_screen_render(g, &m, &v, 10 * NS, &o);
    CHECK(strstr(mon_grid_line(g, 0, line, sizeof(line)), "STALE 9s") != NULL);
    CHECK(g->attr[1 * 80 + 2] == MON_A_DIM);    /* old figures are dimmed */
    CHECK(g->attr[5 * 80 + 24] == MON_A_DIM);
    CHECK(g->attr[10 * 80 + 24] == MON_A_DOWN); /* a down member still stands out */
    mon_model_set_link(&m, MON_LINK_DOWN, 11 * NS);
    o.retry_at_ns = 12 * NS + NS / 2;
    mon_screen_render(g, &m, &v, 11 * NS, &o);
    dump(g);
    CHECK(strstr(mon_grid_line(g, 0, line, sizeof(line)), "DISCONNECTED (retry in 1.5s)") != NULL);
    int c = (int)(strstr(line, "DISCONNECTED") - line);
    CHECK(g->attr[c] == MON_A_DOWN);
    /* a long source is cut to leave the link state whole */
    o.source = "live /tmp/a-rather-long-directory-name-for-a-socket/stats.sock";
    mon_screen_render(g, &m, &v, 11 * NS, &o);
    mon_grid_line(g, 0, line, sizeof(line));
    CHECK_EQ_STR(line, "baton-monitor  live /tmp/a-ra... t 12.500s  seq 12  DISCONNECTED (retry in 1.5s)");
    CHECK_EQ_INT(strlen(line), 80);
    mon_grid_free(g);
}

TEST(prompt_and_help)
{
    struct mon_grid *g = mon_grid_new(24, 80);
    struct mon_view v;
    struct mon_cmd c;
    cluster52();
    mon_view_init(&v, true);
    mon_screen_render(g, &m, &v, NS, &opts);
    mon_view_key(&v, &m, 'f', &c);
    mon_screen_render(g, &m, &v, NS, &opts);
    CHECK_EQ_STR(mon_grid_line(g, 23, line, sizeof(line)), "Fail SGM 1? (y/n)");
    mon_view_key(&v, &m, 'n', &c);
    mon_view_key(&v, &m, 'h', &c);
    mon_screen_render(g, &m, &v, NS, &opts);
    dump(g);
    CHECK_EQ_STR(mon_grid_line(g, 3, line, sizeof(line)), "Keys (any key closes this help)");
    CHECK(find_row(g, " CONN/BKUP  connections it owns") > 3);
    CHECK_EQ_INT(find_row(g, "events ("), -1);
    mon_grid_free(g);
}

TEST(too_small)
{
    struct mon_grid *g = mon_grid_new(20, 70);
    struct mon_view v;
    cluster52();
    mon_view_init(&v, true);
    mon_screen_render(g, &m, &v, NS, &opts);
    CHECK_EQ_STR(mon_grid_line(g, 0, line, sizeof(line)), "terminal 70x20: baton-monitor needs 80x24");
    mon_grid_free(g);
}

TEST(wide_and_tall)
{
    struct mon_grid *g = mon_grid_new(40, 120);
    struct mon_view v;
    struct mon_screen_opts o = opts;
    cluster52();
    mon_view_init(&v, true);
    o.unicode = true;
    mon_screen_render(g, &m, &v, NS, &o);
    dump(g);
    CHECK_EQ_INT(v.page, 30);
    mon_grid_line(g, 3, line, sizeof(line));
    CHECK(strncmp(line, " ID STATE     W EXP ACT SHARE", 29) == 0);
    CHECK_EQ_STR(mon_grid_line(g, 1, line, sizeof(line)),
                 "pps 1.23M  Gbps 9.87  conns 2.35M  cps 12.3K  sync 34.5 Mbps  up 51/52  policy v3");
    CHECK(strstr(mon_grid_line(g, 10, line, sizeof(line)), "! 7 DOWN    100") != NULL);
    /* Unicode bar: full blocks for the actual share */
    CHECK(strstr(mon_grid_line(g, 4, line, sizeof(line)), "\u2588\u2588") != NULL);
    CHECK(strstr(mon_grid_line(g, 2, line, sizeof(line)), "\u2588") != NULL);   /* sparkline */
    CHECK(strstr(mon_grid_line(g, 34, line, sizeof(line)), "\u2500 events (1) \u2500") != NULL);
    mon_grid_free(g);
}

TEST(no_data_yet)
{
    struct mon_grid *g = mon_grid_new(24, 80);
    struct mon_view v;
    mon_model_init(&m, MON_LINK_CONNECTING, 0);
    mon_view_init(&v, true);
    mon_screen_render(g, &m, &v, NS, &opts);
    dump(g);
    CHECK(strstr(mon_grid_line(g, 0, line, sizeof(line)), "t -  seq -  CONNECTING") != NULL);
    CHECK_EQ_STR(mon_grid_line(g, 1, line, sizeof(line)),
                 "pps -  Gbps -  conns -  cps -  sync - Mbps  up -/-  policy v-");
    CHECK_EQ_STR(mon_grid_line(g, 4, line, sizeof(line)), "  no stats line yet");
    mon_grid_free(g);
}

TEST(grid_put_sanitises)
{
    struct mon_grid *g = mon_grid_new(2, 10);
    CHECK_EQ_INT(mon_grid_put(g, 0, 0, 0, "a\tb\xe4\xb8\xad\xff" "c\u2588"), 7);
    CHECK_EQ_STR(mon_grid_line(g, 0, line, sizeof(line)), "a?b??c\u2588");
    CHECK_EQ_INT(mon_grid_put(g, 1, 7, 0, "abcdef"), 3);    /* clipped at the edge */
    CHECK_EQ_STR(mon_grid_line(g, 1, line, sizeof(line)), "       abc");
    CHECK_EQ_INT(mon_grid_put(g, 2, 0, 0, "x"), 0);
    CHECK(mon_grid_new(0, 10) == NULL);
    CHECK(mon_grid_free(g) == NULL);
    CHECK(mon_grid_free(NULL) == NULL);
}
