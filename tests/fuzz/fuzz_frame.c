/*
 * fuzz_frame: libFuzzer target for the wire codec (src/frame.c).
 *
 * Start here to fuzz the decoder. Every input is one SCTP message as a peer
 * could send it. frame_decode must never read past the input (ASan), and a
 * frame it accepts must survive a round trip: frame_encode gives back the
 * same bytes (except reserved flag bits and an unknown RST reason,
 * which decode normalises), and decoding those gives the same frame.
 * docs/FUZZING.md says how to run it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy, exactly SIZE long, so any over-read is caught. */
	uint8_t *in = malloc(size ? size : 1);
	if (!in)
		return 0;
	memcpy(in, data, size);

	struct frame f;
	int rc = frame_decode(in, size, &f);
	if (rc != 0 && rc != -EBADMSG && rc != -ENOTSUP)
		abort(); /* only the documented results */
	if (rc == -ENOTSUP &&
	    (size < FRAME_HEADER_LEN || strcmp(frame_type_name(in[0]), "unknown")))
		abort(); /* only a whole header with a type nobody knows */
	if (rc == 0) {
		bool bytes = f.type == FRAME_DATA || f.type == FRAME_DGRAM; /* point into IN */
		if (bytes &&
		    ((f.type == FRAME_DATA && f.u.data.len == 0) || f.u.data.len > FRAME_DATA_MAX ||
		     f.u.data.bytes != in + FRAME_HEADER_LEN ||
		     f.u.data.len != size - FRAME_HEADER_LEN))
			abort();
		static uint8_t out[FRAME_MAX];
		ssize_t n = frame_encode(&f, out, sizeof out);
		/* An older HELLO (no version 3 extension) decodes with has_auth
		 * false; the encoder always writes the extension (an empty one
		 * here: a zero nonce, no key ids), after the same bytes. */
		size_t ext = f.type == FRAME_HELLO && !f.u.hello.has_auth ? FRAME_NONCE_LEN + 1 : 0;
		if (n != (ssize_t)(size + ext))
			abort(); /* a decoded frame always encodes, to the same length */
		for (size_t i = size; i < (size_t)n; i++)
			if (out[i] != 0)
				abort();
		for (size_t i = 0; i < size; i++) {
			if (i == 1 &&
			    out[i] == (f.type == FRAME_OPEN ? in[i] & FRAME_OPEN_DATAGRAM : 0))
				continue; /* flags: reserved ones sent as 0 */
			if (f.type == FRAME_RST && i == 2 && in[2] >= FRAME_RST_MAX_)
				continue; /* unknown reasons decode as "other" */
			if (out[i] != in[i])
				abort();
		}
		struct frame g;
		if (frame_decode(out, (size_t)n, &g) != 0 || g.type != f.type)
			abort();
		if (bytes) {
			if (g.u.data.len != f.u.data.len ||
			    memcmp(g.u.data.bytes, f.u.data.bytes, f.u.data.len) != 0)
				abort();
		} else {
			f.flags = f.type == FRAME_OPEN ? f.flags & FRAME_OPEN_DATAGRAM : 0;
			if (ext)
				f.u.hello.has_auth = true; /* it has one now, empty */
			if (memcmp(&f, &g, sizeof f) != 0)
				abort();
		}
		(void)frame_type_name(f.type);
		if (f.type == FRAME_RST)
			(void)frame_rst_reason_name(f.u.rst);
	}
	free(in);
	return 0;
}
