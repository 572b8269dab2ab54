/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control commands (DESIGN.md contract 3) on a string: the driver reads a
 * line from its socket and writes the answer back; the core applies it at
 * the driver's time. Unknown keys are ignored (a newer client may send
 * more); an unknown command, a missing or mistyped field is an error
 * answer, never a crash.
 */
#include "gw_priv.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "bt_err.h"
#include "bt_json.h"
#include "gw_policy.h"

static int answer(char *reply, size_t len, json_t *id, int r, const char *err, int version)
{
    json_t *o = json_object();
    char *txt;

    json_object_set(o, "id", id ? id : json_null());
    json_object_set_new(o, "ok", json_boolean(r >= 0));
    if (r < 0)
        json_object_set_new(o, "error", bt_json_string(err));   /* err may quote the bad bytes */
    else if (version > 0)
        json_object_set_new(o, "version", json_integer(version));
    txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    snprintf(reply, len, "%s", txt ? txt : "{\"id\":null,\"ok\":false,\"error\":\"out of memory\"}");
    free(txt);
    json_decref(o);
    return r < 0 ? r : 0;
}

const char *gw_refusal(const struct gw_cluster *g, const char *cmd, int sgm, int r, char *buf,
                       size_t len)
{
    switch (r) {
    case -ENOENT:
        snprintf(buf, len, "%s: sgm %d is not a member (1..%u)", cmd, sgm, g->nmembers);
        break;
    case -EEXIST:
        snprintf(buf, len, "add: sgm %d is already a member", sgm);
        break;
    case -EALREADY:
        snprintf(buf, len, "%s: sgm %d is already %s", cmd, sgm, !strcmp(cmd, "fail") ? "down" : "up");
        break;
    default:
        if (!strcmp(cmd, "add"))
            snprintf(buf, len, "add: the next member is %u (ids join in order, up to %d; weight 0..512)",
                     g->nmembers + 1, GW_MAX_MEMBERS);
        else
            snprintf(buf, len, "%s: bad value (sgm 1..%d, weight 0..512): %s", cmd, GW_MAX_MEMBERS,
                     strerror(-r));
        break;
    }
    return buf;
}

int gw_control(struct gw_cluster *g, uint64_t now_ns, const char *line, char *reply,
               size_t reply_len)
{
    json_error_t jerr;
    json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr), *id, *v;
    const char *cmd;
    char msg[BT_ERR_MAX];
    int sgm = -1, weight = -1, r;

    if (!o) {
        snprintf(msg, sizeof(msg), "bad JSON at column %d: %s", jerr.column, jerr.text);
        return answer(reply, reply_len, NULL, -EINVAL, msg, 0);
    }
    if (!json_is_object(o)) {
        r = answer(reply, reply_len, NULL, -EINVAL, "expected an object {\"id\", \"cmd\", ...}", 0);
        goto out;
    }
    id = json_object_get(o, "id");
    if (!id || !json_is_integer(id)) {
        r = answer(reply, reply_len, id, -EINVAL, "\"id\" must be an integer", 0);
        goto out;
    }
    v = json_object_get(o, "cmd");
    if (!v || !json_is_string(v)) {
        r = answer(reply, reply_len, id, -EINVAL,
                   "\"cmd\" must be one of fail, restore, add, weight, policy", 0);
        goto out;
    }
    cmd = json_string_value(v);
    if ((v = json_object_get(o, "sgm"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > GW_MAX_MEMBERS) {
            r = answer(reply, reply_len, id, -EINVAL, "\"sgm\" must be an integer 1..64", 0);
            goto out;
        }
        sgm = (int)json_integer_value(v);
    }
    if ((v = json_object_get(o, "weight"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 512) {
            r = answer(reply, reply_len, id, -EINVAL, "\"weight\" must be an integer 0..512", 0);
            goto out;
        }
        weight = (int)json_integer_value(v);
    }
    if (!strcmp(cmd, "policy")) {
        struct gw_policy *p = malloc(sizeof(*p));
        struct bt_err e = {""};
        if (!p) {
            r = answer(reply, reply_len, id, -ENOMEM, "out of memory", 0);
            goto out;
        }
        if (!(v = json_object_get(o, "policy")))
            r = bt_err_set(&e, "policy: needs \"policy\": {\"default\": ..., \"rules\": [...]}");
        else if ((r = gw_policy_from_json(v, p, &e)) == 0)
            r = gw_policy_install(g, now_ns, p, &e);
        free(p);
        r = answer(reply, reply_len, id, r, e.msg, r);
        goto out;
    }
    if (strcmp(cmd, "fail") && strcmp(cmd, "restore") && strcmp(cmd, "add") && strcmp(cmd, "weight")) {
        snprintf(msg, sizeof(msg), "unknown cmd '%s' (fail, restore, add, weight, policy)", cmd);
        r = answer(reply, reply_len, id, -EINVAL, msg, 0);
        goto out;
    }
    if (!strcmp(cmd, "add") && sgm < 0)
        sgm = (int)g->nmembers + 1;
    if (sgm < 0) {
        snprintf(msg, sizeof(msg), "%s: needs \"sgm\"", cmd);
        r = answer(reply, reply_len, id, -EINVAL, msg, 0);
        goto out;
    }
    if (!strcmp(cmd, "fail"))
        r = gw_fail(g, now_ns, sgm);
    else if (!strcmp(cmd, "restore"))
        r = gw_restore(g, now_ns, sgm);
    else if (!strcmp(cmd, "add"))
        r = gw_add(g, now_ns, sgm, weight < 0 ? 100 : (unsigned)weight);
    else if (weight < 0)
        r = -EINVAL, snprintf(msg, sizeof(msg), "weight: needs \"weight\" (0..512)");
    else
        r = gw_weight(g, now_ns, sgm, (unsigned)weight);
    if (r < 0 && !(weight < 0 && !strcmp(cmd, "weight")))
        gw_refusal(g, cmd, sgm, r, msg, sizeof(msg));
    r = answer(reply, reply_len, id, r, msg, 0);
out:
    json_decref(o);
    return r;
}
