/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-monitor (batch and replay modes; the live ncurses view and
 * --connect come with issue 7's next steps):
 *   baton-monitor --replay FILE --batch [--count N]
 * Prints one text frame per stats line (like top -b). Malformed lines are
 * skipped, counted and shown in the header. Exit 0, or 2 on bad usage/input.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mon_api.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: baton-monitor --replay FILE --batch [--count N]\n"
               "Prints the stats stream (docs/formats.md section 2) as text frames.\n"
               "The live view (--connect PATH) is not available yet.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"replay", required_argument, NULL, 'r'},
        {"batch", no_argument, NULL, 'b'},
        {"count", required_argument, NULL, 'n'},
        {"connect", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *replay = NULL;
    bool batch = false;
    long count = -1;
    int c;
    char *line = NULL, *end;
    size_t cap = 0;
    ssize_t len;
    uint64_t bad = 0, lineno = 0, shown = 0;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': replay = optarg; break;
        case 'b': batch = true; break;
        case 'n':
            count = strtol(optarg, &end, 10);
            if (*end || count < 0) {
                fprintf(stderr, "baton-monitor: --count '%s': expected a number >= 0\n", optarg);
                return 2;
            }
            break;
        case 'c':
            fprintf(stderr, "baton-monitor: --connect is not available yet; use --replay FILE --batch\n");
            return 2;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!replay || !batch || optind < argc) {
        usage(stderr);
        return 2;
    }
    FILE *f = fopen(replay, "r");
    if (!f) {
        fprintf(stderr, "baton-monitor: %s: %s\n", replay, strerror(errno));
        return 2;
    }
    while ((count < 0 || (long)shown < count) && (len = getline(&line, &cap, f)) >= 0) {
        struct mon_frame fr;
        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)len)
            continue;
        if (mon_frame_parse(line, (size_t)len, &fr) < 0) {
            bad++;  /* skipped, counted, shown: a monitor never stops on one bad line */
            continue;
        }
        if (shown++)
            putchar('\n');
        mon_frame_print(&fr, bad, stdout);
    }
    free(line);
    fclose(f);
    if (bad)
        fprintf(stderr, "baton-monitor: %s: %llu malformed line%s skipped\n", replay,
                (unsigned long long)bad, bad == 1 ? "" : "s");
    return 0;
}
