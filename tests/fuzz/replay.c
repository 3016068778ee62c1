/* SPDX-License-Identifier: Apache-2.0 */
/* Runs a fuzz target without libFuzzer: every file named on the command line, then
 * deterministic mutations of them (bit flips, truncations, duplications), so the
 * sanitizer builds exercise the parsers on every CI run. Usage: replay N FILE... */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t state = 0x9E3779B97F4A7C15ULL;

static uint64_t next(void)
{
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
}

int main(int argc, char **argv)
{
    static uint8_t seeds[64][4096], buf[8192];
    size_t lens[64], nseeds = 0;
    long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;

    for (int i = 2; i < argc && nseeds < 64; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL) {
            perror(argv[i]);
            return 1;
        }
        lens[nseeds] = fread(seeds[nseeds], 1, sizeof seeds[0], f);
        fclose(f);
        LLVMFuzzerTestOneInput(seeds[nseeds], lens[nseeds]);
        nseeds++;
    }
    if (nseeds == 0)
        return 1;
    for (long r = 0; r < rounds; r++) {
        size_t s = next() % nseeds, len = lens[s];
        memcpy(buf, seeds[s], len);
        for (int m = 0, n = 1 + (int)(next() % 8); m < n && len > 0; m++) {
            switch (next() % 4) {
            case 0: /* flip a bit */
                buf[next() % len] ^= (uint8_t)(1u << (next() % 8));
                break;
            case 1: /* a byte that parsers care about */
                buf[next() % len] = (uint8_t) ":\r\n [] @/0#?"[next() % 13];
                break;
            case 2: /* cut */
                len = next() % len;
                break;
            default: /* repeat a slice */
                if (len * 2 < sizeof buf) {
                    size_t at = next() % len;
                    memcpy(buf + len, buf + at, len - at);
                    len += len - at;
                }
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("replay: %zu seeds and %ld mutations, no finding\n", nseeds, rounds);
    return 0;
}
