/* SPDX-License-Identifier: BSD-3-Clause */
/* hide-NAT joining: translated tuples back to the original, either way,
 * ports reused over time, and what is not translated left alone. */
#include <stdlib.h>

#include "bt_test.h"
#include "bt_capset.h"
#include "bt_err.h"
#include "bt_flow.h"
#include "../../verify/vf_nat.h"

static void v4(uint8_t a[16], uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
    memset(a, 0, 16);
    a[10] = a[11] = 0xff;
    a[12] = x;
    a[13] = y;
    a[14] = z;
    a[15] = w;
}

static void key(struct bt_flow_key *k, const uint8_t *s, uint16_t sp, const uint8_t *d, uint16_t dp)
{
    memset(k, 0, sizeof(*k));
    memcpy(k->src, s, 16);
    memcpy(k->dst, d, 16);
    k->sport = sp;
    k->dport = dp;
    k->proto = 6;
    k->family = 4;
}

TEST(translated_tuples_become_the_original_in_both_directions)
{
    uint8_t c[16], srv[16], pool[16], c2[16];
    struct bt_nat_map m[2];
    struct bt_flow_key k, want;

    v4(c, 10, 1, 0, 7);
    v4(c2, 10, 1, 0, 8);
    v4(srv, 198, 51, 100, 1);
    v4(pool, 100, 64, 0, 1);
    memset(m, 0, sizeof(m));
    /* the same pool port used twice: by c until 5 s, then by c2 */
    for (int i = 0; i < 2; i++) {
        m[i].t_ns = i ? 5000000000ULL : 1000000000ULL;
        m[i].proto = 6;
        memcpy(m[i].osrc, i ? c2 : c, 16);
        memcpy(m[i].odst, srv, 16);
        m[i].osport = (uint16_t)(51000 + i);
        m[i].odport = 80;
        memcpy(m[i].tsrc, pool, 16);
        memcpy(m[i].tdst, srv, 16);
        m[i].tsport = 40001;
        m[i].tdport = 80;
    }
    struct vf_nat *n = vf_nat_new(m, 2);
    REQUIRE(n);
    CHECK_EQ_INT(vf_nat_count(n), 2);
    /* c2s after the translation */
    key(&k, pool, 40001, srv, 80);
    CHECK_EQ_INT(vf_nat_untranslate(n, &k, 2000000000ULL), 1);
    key(&want, c, 51000, srv, 80);
    CHECK(bt_flow_key_eq(&k, &want));
    /* the reply, before it is translated back */
    key(&k, srv, 80, pool, 40001);
    CHECK_EQ_INT(vf_nat_untranslate(n, &k, 2000000000ULL), 1);
    key(&want, srv, 80, c, 51000);
    CHECK(bt_flow_key_eq(&k, &want));
    /* after 5 s the port belongs to c2's connection */
    key(&k, srv, 80, pool, 40001);
    CHECK_EQ_INT(vf_nat_untranslate(n, &k, 6000000000ULL), 1);
    key(&want, srv, 80, c2, 51001);
    CHECK(bt_flow_key_eq(&k, &want));
    /* before both: the first */
    key(&k, pool, 40001, srv, 80);
    CHECK_EQ_INT(vf_nat_untranslate(n, &k, 0), 1);
    key(&want, c, 51000, srv, 80);
    CHECK(bt_flow_key_eq(&k, &want));
    /* the original tuple and other flows are not translated */
    key(&k, c, 51000, srv, 80);
    want = k;
    CHECK_EQ_INT(vf_nat_untranslate(n, &k, 2000000000ULL), 0);
    CHECK(bt_flow_key_eq(&k, &want));
    key(&k, pool, 40002, srv, 80);
    want = k;
    CHECK_EQ_INT(vf_nat_untranslate(n, &k, 2000000000ULL), 0);
    CHECK(bt_flow_key_eq(&k, &want));
    key(&k, pool, 40001, srv, 80);
    k.proto = 17;
    CHECK_EQ_INT(vf_nat_untranslate(n, &k, 2000000000ULL), 0);
    /* no table: nothing to do */
    CHECK_EQ_INT(vf_nat_untranslate(NULL, &k, 0), 0);
    vf_nat_free(n);
}

TEST(load_reads_nat_jsonl_and_names_bad_lines)
{
    char dir[] = "/tmp/bt-vfn-XXXXXX", p[300];
    struct bt_err e;
    REQUIRE(bt_mkdtemp(dir));
    snprintf(p, sizeof(p), "%s/nat.jsonl", dir);
    FILE *f = fopen(p, "w");
    REQUIRE(f);
    fprintf(f, "{\"t\": 1.0, \"proto\": \"tcp\", \"orig\": {\"src\": \"10.1.0.7\", \"sport\": 51000, "
               "\"dst\": \"198.51.100.1\", \"dport\": 80}, \"xlat\": {\"src\": \"100.64.0.1\", "
               "\"sport\": 40001, \"dst\": \"198.51.100.1\", \"dport\": 80}}\n");
    fclose(f);
    struct vf_nat *n = vf_nat_load(p, &e);
    REQUIRE(n);
    CHECK_EQ_INT(vf_nat_count(n), 1);
    vf_nat_free(n);
    f = fopen(p, "a");
    REQUIRE(f);
    fprintf(f, "{\"t\": 2.0, \"proto\": \"tcp\"}\n");
    fclose(f);
    CHECK(vf_nat_load(p, &e) == NULL);
    CHECK(strstr(e.msg, "nat.jsonl:2") != NULL);
    CHECK(vf_nat_free(NULL) == NULL);
}
