/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer entry for the live view's keys and the control commands
 * (monitor/mon_keys.c, monitor/mon_ctl.c). The input is lines: one starting
 * with '{' is a line from the stats socket (stats, or a reply matched with
 * the commands sent); any other line is keys, one a byte (bytes 1..9 are
 * the arrows, page and home/end keys and backspace; '~' lets 6 s pass, so
 * that waiting commands expire; '#' drops the connection). After every key
 * the cursor and the first row lie inside the rows, the prompt fits, and a
 * command the view confirms is one mon_ctl_encode takes (or -EBUSY, eight
 * waiting) as one JSON line that names the member and weight confirmed.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mon_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int special[] = {MON_KEY_UP, MON_KEY_DOWN, MON_KEY_LEFT, MON_KEY_RIGHT,
                              MON_KEY_PGUP, MON_KEY_PGDN, MON_KEY_HOME, MON_KEY_END,
                              MON_KEY_BACKSPACE};

static void check_sent(const struct mon_cmd *cmd, const char *buf, int n)
{
    json_t *o = json_loadb(buf, (size_t)n, 0, NULL);
    json_t *w;

    if (!o || buf[n - 1] != '\n' || memchr(buf, '\n', (size_t)n - 1) ||
        json_integer_value(json_object_get(o, "sgm")) != cmd->sgm)
        abort();
    w = json_object_get(o, "weight");
    if (cmd->kind == MON_CMD_WEIGHT && json_integer_value(w) != cmd->weight)
        abort();
    json_decref(o);
}

static void check_view(const struct mon_view *v, const struct mon_model *m)
{
    char prompt[200];
    int n = (int)m->cur.nmembers;

    if (v->mode == MON_MODE_NORMAL && n > 0 &&
        (v->cursor < 0 || v->cursor >= n || v->top < 0 || v->top > v->cursor))
        abort();
    if (v->ninput >= sizeof(v->input) || strlen(v->input) != v->ninput ||
        !memchr(v->msg, 0, sizeof(v->msg)))
        abort();
    mon_view_prompt(v, prompt, sizeof(prompt));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mon_model m;
    struct mon_view v;
    struct mon_ctl ctl;
    struct mon_cmd cmd;
    struct mon_reply rep;
    char buf[256], msg[200];
    uint64_t t = 1000000000ull;
    size_t i = 0;

    mon_model_init(&m, MON_LINK_LIVE, 0);
    mon_view_init(&v, data[0] & 1);
    mon_ctl_init(&ctl);
    v.page = 1 + (size ? data[0] % 16 : 0);
    while (i < size) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t len = nl ? (size_t)(nl - (data + i)) : size - i;
        const char *line = (const char *)data + i;
        i += len + 1;
        t += 1000000;
        if (len && line[0] == '{') {
            if (mon_model_feed(&m, t, line, len, &rep) == MON_LINE_REPLY)
                mon_ctl_reply(&ctl, &rep, msg, sizeof(msg));
            continue;
        }
        for (size_t k = 0; k < len; k++) {
            uint8_t b = (uint8_t)line[k];
            int key = b >= 1 && b <= 9 ? special[b - 1] : b;
            enum mon_action a;
            if (b == '~') {
                t += 6000000000ull;
                while (mon_ctl_expire(&ctl, t, 5000000000ull, msg, sizeof(msg)))
                    ;
                continue;
            }
            if (b == '#') {
                mon_ctl_drop_all(&ctl);
                continue;
            }
            a = mon_view_key(&v, &m, key, &cmd);
            check_view(&v, &m);
            if (a == MON_ACT_SEND) {
                uint64_t id;
                int n = mon_ctl_encode(&ctl, &cmd, t, buf, sizeof(buf), &id);
                if (n == -EBUSY)
                    continue;
                if (n <= 0)
                    abort();   /* the view confirmed a command the encoder refuses */
                check_sent(&cmd, buf, n);
            }
        }
    }
    return 0;
}
