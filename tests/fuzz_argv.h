/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The command-line fuzzers' input: NUL-separated arguments after argv0,
 * split in place in buf (NUL-terminated, size bytes before the NUL).
 * Returns argc with argv[argc] = NULL (argv holds max + 2 pointers), or -1
 * when the input has more than max arguments (not a command line to try).
 */
#ifndef FUZZ_ARGV_H
#define FUZZ_ARGV_H

#include <stddef.h>
#include <string.h>

static inline int fuzz_argv(char *buf, size_t size, char *argv0, char **argv, int max)
{
    int argc = 1;

    argv[0] = argv0;
    for (size_t i = 0; i < size && argc <= max; i += strlen(buf + i) + 1)
        argv[argc++] = buf + i;
    if (argc > max)
        return -1;
    argv[argc] = NULL;
    return argc;
}

#endif
