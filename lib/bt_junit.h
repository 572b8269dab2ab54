/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JUnit XML reports (the dialect Jenkins, GitLab and GitHub read): suites of
 * test cases, each passed, failed (with a message) or skipped.
 */
#ifndef BT_JUNIT_H
#define BT_JUNIT_H

struct bt_err;
struct bt_junit;

struct bt_junit *bt_junit_new(void);
struct bt_junit *bt_junit_free(struct bt_junit *j);
/* Starts a new suite; later cases go into it. 0 or -ENOMEM. */
int bt_junit_suite(struct bt_junit *j, const char *name, const char *file);
/* The current suite's time (what it took in all: a plan's run, whose checks
 * have no time of their own); without it the suite's is the sum of its
 * cases'. 0, or -EINVAL (no suite, a negative time). */
int bt_junit_suite_time(struct bt_junit *j, double time_s);
/* Adds a case to the current suite (one is created, named "baton", if none).
 * failure: NULL when it passed; otherwise the message (what was expected and seen). */
int bt_junit_case(struct bt_junit *j, const char *classname, const char *name,
                  double time_s, const char *failure);
int bt_junit_skip(struct bt_junit *j, const char *classname, const char *name,
                  const char *why);
/* Writes the XML (escaped) to path. 0 or -errno with e filled. */
int bt_junit_write(const struct bt_junit *j, const char *path, struct bt_err *e);
unsigned bt_junit_failures(const struct bt_junit *j);

#endif
