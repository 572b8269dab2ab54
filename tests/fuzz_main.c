/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stand-alone driver for libFuzzer entry points, so every fuzzer also runs as
 * a plain regression test (meson test) over its corpus without clang:
 *   fuzz-foo FILE|DIR...
 * Each file (each regular file of each directory) is passed once to
 * LLVMFuzzerTestOneInput. Built with -Dfuzz=true, the real libFuzzer main is
 * used instead and this file is left out.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;
    int r = -1;

    if (!f) {
        perror(path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    buf = malloc(n ? (size_t)n : 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        goto out;
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    r = 0;
out:
    free(buf);
    fclose(f);
    return r;
}

int main(int argc, char **argv)
{
    unsigned files = 0;
    int bad = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "skip: %s absent\n", argv[i]);
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad |= run_file(argv[i]) != 0;
            files++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            char p[4096];
            if (de->d_name[0] == '.')
                continue;
            snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
            if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
                bad |= run_file(p) != 0;
                files++;
            }
        }
        if (d)
            closedir(d);
    }
    fprintf(stderr, "%u inputs run\n", files);
    if (bad)
        return 1;
    return files ? 0 : 77;
}
