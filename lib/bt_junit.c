/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JUnit XML in the common dialect (testsuites > testsuite > testcase with
 * failure/skipped children), as Jenkins, GitLab and GitHub read it.
 */
#include "bt_junit.h"
#include "bt_err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jcase {
    char *classname, *name, *failure, *skip;
    double time_s;
};

struct jsuite {
    char *name, *file;
    struct jcase *cases;
    unsigned n, cap;
    double time_s;             /* < 0: the sum of the cases' */
};

struct bt_junit {
    struct jsuite *suites;
    unsigned n, cap;
};

struct bt_junit *bt_junit_new(void)
{
    return calloc(1, sizeof(struct bt_junit));
}

struct bt_junit *bt_junit_free(struct bt_junit *j)
{
    if (!j)
        return NULL;
    for (unsigned s = 0; s < j->n; s++) {
        struct jsuite *su = &j->suites[s];
        for (unsigned c = 0; c < su->n; c++) {
            free(su->cases[c].classname);
            free(su->cases[c].name);
            free(su->cases[c].failure);
            free(su->cases[c].skip);
        }
        free(su->cases);
        free(su->name);
        free(su->file);
    }
    free(j->suites);
    free(j);
    return NULL;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int bt_junit_suite(struct bt_junit *j, const char *name, const char *file)
{
    if (j->n == j->cap) {
        unsigned cap = j->cap ? j->cap * 2 : 8;
        struct jsuite *s = realloc(j->suites, cap * sizeof(*s));
        if (!s)
            return -ENOMEM;
        j->suites = s;
        j->cap = cap;
    }
    memset(&j->suites[j->n], 0, sizeof(j->suites[0]));
    j->suites[j->n].name = strdup(name ? name : "baton");
    j->suites[j->n].file = dup_or_null(file);
    j->suites[j->n].time_s = -1;
    if (!j->suites[j->n].name)
        return -ENOMEM;
    j->n++;
    return 0;
}

int bt_junit_suite_time(struct bt_junit *j, double time_s)
{
    if (j->n == 0 || !(time_s >= 0))
        return -EINVAL;
    j->suites[j->n - 1].time_s = time_s;
    return 0;
}

static int add(struct bt_junit *j, const char *classname, const char *name, double t,
               const char *failure, const char *skip)
{
    struct jsuite *s;
    struct jcase *c;

    if (j->n == 0 && bt_junit_suite(j, "baton", NULL) < 0)
        return -ENOMEM;
    s = &j->suites[j->n - 1];
    if (s->n == s->cap) {
        unsigned cap = s->cap ? s->cap * 2 : 16;
        struct jcase *nc = realloc(s->cases, cap * sizeof(*nc));
        if (!nc)
            return -ENOMEM;
        s->cases = nc;
        s->cap = cap;
    }
    c = &s->cases[s->n];
    memset(c, 0, sizeof(*c));
    c->classname = strdup(classname ? classname : s->name);
    c->name = strdup(name ? name : "");
    c->failure = dup_or_null(failure);
    c->skip = dup_or_null(skip);
    c->time_s = t;
    if (!c->classname || !c->name || (failure && !c->failure) || (skip && !c->skip))
        return -ENOMEM;
    s->n++;
    return 0;
}

int bt_junit_case(struct bt_junit *j, const char *classname, const char *name, double time_s,
                  const char *failure)
{
    return add(j, classname, name, time_s, failure, NULL);
}

int bt_junit_skip(struct bt_junit *j, const char *classname, const char *name, const char *why)
{
    return add(j, classname, name, 0, NULL, why ? why : "skipped");
}

/* XML 1.0 text: escape markup, drop control characters XML cannot carry. */
static void xml_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
                fputc('?', f);
            else
                fputc(ch, f);
        }
    }
}

unsigned bt_junit_failures(const struct bt_junit *j)
{
    unsigned n = 0;

    for (unsigned s = 0; s < j->n; s++)
        for (unsigned c = 0; c < j->suites[s].n; c++)
            n += j->suites[s].cases[c].failure != NULL;
    return n;
}

int bt_junit_write(const struct bt_junit *j, const char *path, struct bt_err *e)
{
    FILE *f = fopen(path, "w");
    unsigned tests = 0, fails = bt_junit_failures(j), skips = 0;

    if (!f)
        return bt_err_setr(e, -errno, "%s: cannot create: %s", path, strerror(errno));
    for (unsigned s = 0; s < j->n; s++) {
        tests += j->suites[s].n;
        for (unsigned c = 0; c < j->suites[s].n; c++)
            skips += j->suites[s].cases[c].skip != NULL;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites tests=\"%u\" failures=\"%u\" skipped=\"%u\">\n", tests, fails, skips);
    for (unsigned s = 0; s < j->n; s++) {
        const struct jsuite *su = &j->suites[s];
        unsigned sf = 0, ss = 0;
        double t = 0;
        for (unsigned c = 0; c < su->n; c++) {
            sf += su->cases[c].failure != NULL;
            ss += su->cases[c].skip != NULL;
            t += su->cases[c].time_s;
        }
        if (su->time_s >= 0)
            t = su->time_s;
        fputs("  <testsuite name=\"", f);
        xml_escape(f, su->name);
        fprintf(f, "\" tests=\"%u\" failures=\"%u\" errors=\"0\" skipped=\"%u\" time=\"%.3f\"",
                su->n, sf, ss, t);
        if (su->file) {
            fputs(" file=\"", f);
            xml_escape(f, su->file);
            fputc('"', f);
        }
        fputs(">\n", f);
        for (unsigned c = 0; c < su->n; c++) {
            const struct jcase *k = &su->cases[c];
            fputs("    <testcase classname=\"", f);
            xml_escape(f, k->classname);
            fputs("\" name=\"", f);
            xml_escape(f, k->name);
            fprintf(f, "\" time=\"%.3f\"", k->time_s);
            if (!k->failure && !k->skip) {
                fputs("/>\n", f);
                continue;
            }
            fputs(">\n", f);
            if (k->failure) {
                /* the message attribute gets the first line; the body all of it */
                char first[256];
                snprintf(first, sizeof(first), "%.*s", (int)strcspn(k->failure, "\n"),
                         k->failure);
                fputs("      <failure message=\"", f);
                xml_escape(f, first);
                fputs("\">", f);
                xml_escape(f, k->failure);
                fputs("</failure>\n", f);
            }
            if (k->skip) {
                fputs("      <skipped message=\"", f);
                xml_escape(f, k->skip);
                fputs("\"/>\n", f);
            }
            fputs("    </testcase>\n", f);
        }
        fputs("  </testsuite>\n", f);
    }
    fputs("</testsuites>\n", f);
    if (ferror(f)) {
        fclose(f);
        return bt_err_setr(e, -EIO, "%s: write failed", path);
    }
    if (fclose(f) != 0)
        return bt_err_setr(e, -errno, "%s: write failed: %s", path, strerror(errno));
    return 0;
}
