/* config_bytes: see config_bytes.h. */
#include "config_bytes.h"

#include <stdbool.h>
#include <stdint.h>

/* Length of the UTF-8 sequence at P (at most N bytes), or 0 if invalid
 * (bad lead byte, missing continuation, overlong form, surrogate, or past
 * U+10FFFF). */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	size_t len;
	uint32_t cp, min;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2, cp = p[0] & 0x1f, min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3, cp = p[0] & 0x0f, min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4, cp = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

size_t config_bytes_check(const char *line, size_t len, const char **why)
{
	const uint8_t *p = (const uint8_t *)line;
	for (size_t i = 0; i < len;) {
		uint8_t c = p[i];
		bool eol = (c == '\n' && i == len - 1) ||
		           (c == '\r' && ((i == len - 2 && p[len - 1] == '\n') || i == len - 1));
		if (c == 0) {
			*why = "a NUL byte";
			return i + 1;
		}
		if ((c < 0x20 && c != '\t' && !eol) || c == 0x7f) {
			*why = "a control character (only tab is allowed)";
			return i + 1;
		}
		size_t l = utf8_len(p + i, len - i);
		if (l == 0) {
			*why = "a byte that is not UTF-8";
			return i + 1;
		}
		i += l;
	}
	return 0;
}
