/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct json_t *bt_json_string(const char *s)
{
    json_t *j;
    char *c;

    if (!s)
        return NULL;
    if ((j = json_string(s)))
        return j;
    if (!(c = strdup(s)))
        return NULL;
    for (char *p = c; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(c);
    free(c);
    return j;
}
