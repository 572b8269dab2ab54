/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the plans unit tests: load a plan from text (written to a
 * temporary file, removed again). NULL with e filled on a bad plan. */
#ifndef PL_TEST_H
#define PL_TEST_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bt_err.h"
#include "pl_api.h"

static inline struct pl_plan *pl_test_load(const char *text, struct bt_err *e)
{
    char path[128];
    size_t n = strlen(text);
    snprintf(path, sizeof(path), "/tmp/test-plans-%d-XXXXXX", (int)getpid());
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    if (write(fd, text, n) != (ssize_t)n) {
        close(fd);
        unlink(path);
        return NULL;
    }
    close(fd);
    struct pl_plan *p = pl_plan_load(path, e);
    unlink(path);
    return p;
}

#endif
