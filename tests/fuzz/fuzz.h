/*
 * fuzz.h - the libFuzzer entry point every target defines.  The same
 * sources are linked with libFuzzer (-Dfuzzing=true) and with replay.c,
 * which runs the seed corpus and saved crashes as ordinary tests.
 */
#ifndef SPF_FUZZ_H
#define SPF_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
