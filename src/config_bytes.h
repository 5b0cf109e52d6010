/*
 * config_bytes: which bytes a configuration line may hold.
 *
 * iniparser reads lines with fgets and C strings, so a NUL byte silently
 * ends a line early (and "; comment\0" then "role = accept" loaded as if
 * the second line were not there); other control characters and broken
 * UTF-8 end up in names, values and log lines. The loader therefore
 * refuses, with file:line, any line that is not UTF-8 text: no NUL, no
 * control character except tab (and a CR right before the newline, for
 * files written on Windows), no invalid or overlong UTF-8 sequence.
 */
#ifndef SCTPGW_CONFIG_BYTES_H
#define SCTPGW_CONFIG_BYTES_H

#include <stddef.h>

/* Checks LINE[0..LEN) (one physical line, its newline included if any).
 * Returns 0 when every byte is allowed; otherwise the 1-based column of
 * the first bad byte, with *WHY saying what it is. */
size_t config_bytes_check(const char *line, size_t len, const char **why);

#endif
