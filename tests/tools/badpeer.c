/*
 * badpeer: a misbehaving peer gateway, for tests only (tests/integration/
 * bad_peer.sh).
 *
 * Start here to add a misbehaviour. badpeer loads gateway A's config, runs
 * the project's own user-space engine (src/engine_usrsctp.c) and so sets up
 * a real association over SCTP-over-UDP with a real gateway B; then it
 * speaks the protocol of docs/PROTOCOL.md, except for one misbehaviour
 * chosen on the command line. It authenticates with A's psk_file through
 * the project's own src/auth.c (HELLO nonce, AUTH proof) and seals every
 * message after its AUTH like a gateway does, so the misbehaviours reach
 * B's frame handling as authentic messages (with insecure = yes in A.conf
 * it runs unauthenticated, and B must run so too):
 *
 *   badpeer -c A.conf --target ADDR:PORT [--bytes N] [--timeout S] CASE
 *
 * While the case runs, stream 1 carries a well-behaved connection to
 * TARGET (an echo server behind B): N bytes of a known pattern go out
 * within the credit B grants, and every echoed byte is compared with what
 * was sent. The bad case starts once a quarter of the echo is back, so the
 * misbehaviour and the good transfer overlap. Each case checks B's
 * reaction as PROTOCOL.md ("What a receiver does with bad input") states it;
 * badpeer exits 0 and prints "badpeer: CASE: ok ..." only when the reaction
 * was right and (for cases where the protocol leaves the association up)
 * the good transfer came back intact. Anything else prints "badpeer: CASE:
 * FAIL ..." and exits 1.
 *
 * Cases that leave the association up (B resets only the stream concerned,
 * or ignores the frame):
 *   unknown_type     unknown type on stream 0 (ignored) and on an open stream (RST 6)
 *   truncated        truncated OPEN on an idle stream (ignored), truncated CREDIT (RST 6)
 *   oversized_field  OPEN with a 64-byte name (ignored), CREDIT with trailing bytes (RST 6)
 *   open_in_use      OPEN on a stream in use (RST 6)
 *   data_unopened    DATA on streams never opened, both parities (ignored)
 *   fin_twice        FIN, then FIN again (RST 6)
 *   credit_overflow  CREDIT 0xffffffff (RST 6)
 *   over_credit      one DATA larger than the window B advertised (RST 6)
 *   open_flood       OPEN on 200 streams at once (OPEN_OK within memory_limit,
 *                    RST 5 + CLOSED for the rest)
 * Cases where the protocol leaves no choice but ABORT (the association goes
 * down, the good transfer with it; B must go on accepting associations):
 *   bad_hello        a HELLO with a malformed field
 *   oversized_msg    a message over FRAME_WIRE_MAX bytes (a sealed FRAME_MAX + 1)
 *   early_flood      300 KiB of connection messages before our HELLO
 *   stream_range     a message on a stream outside the negotiated range
 *   no_hello         the association comes up, our HELLO never comes
 *                    (B must abort once its HELLO deadline passes)
 *   no_auth          our HELLO comes, our AUTH never does (the same
 *                    deadline covers the AUTH step)
 *   silent           after HELLO badpeer stops itself (SIGSTOP): no more
 *                    SCTP at all; B must find the association dead
 *   replay           --replay FILE: instead of its own handshake, badpeer
 *                    sends the stream-0 messages of FILE (one message a
 *                    line, in hex: a HELLO and an AUTH recorded on the wire
 *                    from a real gateway A's earlier association) byte for
 *                    byte, holding no key itself; B answers with a fresh
 *                    nonce, so the recorded proof must not match: B must
 *                    abort (tests/integration/replay_handshake.sh)
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "auth.h"
#include "config.h"
#include "engine.h"
#include "frame.h"
#include "log.h"

#define MAX_SID    1024
#define GOOD_SID   1
#define GOOD_CHUNK 16384
#define OUR_WINDOW (1u << 20) /* we read everything at once */
#define FLOOD_N    200

struct sid_state {
	bool opened;  /* we sent OPEN */
	bool open_ok; /* B answered OPEN_OK */
	bool rst;     /* B sent RST */
	uint8_t reason;
	bool fin, closed;
	uint32_t window; /* B's window from OPEN_OK */
	unsigned frames; /* anything B sent on this stream */
};

static struct {
	const char *name; /* the case */
	struct ev_loop *loop;
	struct engine *e;
	struct sockaddr_storage target;
	bool up, hello_sent, ready;
	uint16_t streams;
	struct sid_state st[MAX_SID];
	bool fatal_case; /* the case ends with B aborting the association */

	/* the good transfer on GOOD_SID */
	uint8_t *pattern;
	size_t total, sent, echoed;
	uint32_t credit;
	bool want_write, fin_sent, good_done;

	int phase;
	ev_tstamp phase_at;
	bool finished;
	int rc;
	unsigned n_ok, n_refused; /* open_flood */
	ev_timer deadline, tick;

	struct auth auth;   /* the handshake and the sealing, as a gateway's */
	uint8_t *seal_buf;  /* FRAME_WIRE_MAX + 1: a sealed oversized message too */
	uint8_t *open_buf;  /* FRAME_WIRE_MAX */
	const char *replay; /* --replay FILE */
} bp;

static void finish(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void finish(int rc, const char *fmt, ...)
{
	if (bp.finished)
		return;
	bp.finished = true;
	bp.rc = rc;
	va_list ap;
	va_start(ap, fmt);
	printf("badpeer: %s: %s ", bp.name, rc == 0 ? "ok" : "FAIL");
	vprintf(fmt, ap);
	printf(" (good transfer: %zu of %zu bytes echoed intact)\n", bp.echoed, bp.total);
	fflush(stdout);
	va_end(ap);
	if (bp.up)
		bp.e->ops->shutdown(bp.e); /* down follows, then the loop ends */
	else
		ev_break(bp.loop, EVBREAK_ALL);
}

/* --- sending ---------------------------------------------------------- */

/* Hand MSG to the engine, sealed once our AUTH is out: the counter
 * moves on only when the engine took it (as assoc_send does). */
static int engine_send(uint16_t sid, const void *msg, size_t len)
{
	bool sealed = auth_tx_sealed(&bp.auth);
	if (sealed) {
		if (len > FRAME_MAX + 1)
			return -EMSGSIZE;
		size_t n;
		int rc = auth_seal(&bp.auth, sid, msg, len, bp.seal_buf, &n);
		if (rc < 0)
			return rc;
		msg = bp.seal_buf;
		len = n;
	}
	int rc = bp.e->ops->send(bp.e, sid, msg, len, false);
	if (rc == 0 && sealed)
		auth_sent(&bp.auth, sid);
	return rc;
}

static void send_raw(uint16_t sid, const void *msg, size_t len)
{
	int rc = engine_send(sid, msg, len);
	/* Once a fatal case ran, the association may die under us: the
	 * down callback judges. */
	if (rc < 0 && !bp.finished && !(bp.fatal_case && bp.phase > 0))
		finish(1, "cannot send %zu bytes on stream %u: %s", len, sid, strerror(-rc));
}

static void send_frame(uint16_t sid, const struct frame *f)
{
	uint8_t buf[256];
	ssize_t n = frame_encode(f, buf, sizeof buf);
	if (n < 0) {
		finish(1, "cannot encode a %s", frame_type_name(f->type));
		return;
	}
	send_raw(sid, buf, (size_t)n);
}

static void send_hello(void)
{
	struct frame f = {.type = FRAME_HELLO};
	f.u.hello.version_min = f.u.hello.version_max = FRAME_VERSION;
	f.u.hello.role = FRAME_ROLE_CONNECT;
	f.u.hello.streams = bp.streams;
	snprintf(f.u.hello.name, sizeof f.u.hello.name, "badpeer");
	auth_fill_hello(&bp.auth, &f.u.hello);
	uint8_t buf[AUTH_HELLO_MAX];
	ssize_t n = frame_encode(&f, buf, sizeof buf);
	if (n < 0) {
		finish(1, "cannot encode our HELLO");
		return;
	}
	send_raw(0, buf, (size_t)n);
	auth_hello_sent(&bp.auth, buf, (size_t)n);
	bp.hello_sent = true;
}

static void send_open(uint16_t sid);

/* B is READY for us: open the good stream. */
static void go_ready(void)
{
	bp.ready = true;
	send_open(GOOD_SID);
}

/* B's HELLO: answer with our AUTH (unless both run insecure = yes). */
static void on_hello(const uint8_t *raw, size_t len, const struct frame_hello *h)
{
	if (h->streams < bp.streams)
		bp.streams = h->streams;
	char why[256];
	struct frame proof = {.type = FRAME_AUTH};
	int rc = auth_peer_hello(&bp.auth, raw, len, h, proof.u.proof, why, sizeof why);
	if (rc < 0) {
		finish(1, "handshake with B failed: %s", why);
		return;
	}
	if (rc == 1) {
		go_ready();
		return;
	}
	if (!strcmp(bp.name, "no_auth"))
		return; /* B's deadline must end it */
	send_frame(0, &proof);
	auth_tx_start(&bp.auth);
}

static void send_open(uint16_t sid)
{
	struct frame f = {.type = FRAME_OPEN};
	f.u.open.window = OUR_WINDOW;
	f.u.open.target = bp.target;
	snprintf(f.u.open.name, sizeof f.u.open.name, "bad");
	send_frame(sid, &f);
	bp.st[sid].opened = true;
}

static void send_simple(uint16_t sid, enum frame_type type, uint32_t arg)
{
	struct frame f = {.type = type};
	if (type == FRAME_CREDIT)
		f.u.credit = arg;
	else if (type == FRAME_RST)
		f.u.rst = (enum frame_rst_reason)arg;
	send_frame(sid, &f);
}

static uint8_t pattern_at(size_t i)
{
	return (uint8_t)(i * 131 + (i >> 13) + 7);
}

/* Send good DATA while B's credit and the engine allow. */
static void pump_good(void)
{
	static uint8_t msg[FRAME_HEADER_LEN + GOOD_CHUNK];
	while (!bp.finished && bp.st[GOOD_SID].open_ok && bp.sent < bp.total && bp.credit > 0 &&
	       !bp.want_write) {
		size_t n = bp.total - bp.sent;
		if (n > GOOD_CHUNK)
			n = GOOD_CHUNK;
		if (n > bp.credit)
			n = bp.credit;
		frame_data_header(msg);
		memcpy(msg + FRAME_HEADER_LEN, bp.pattern + bp.sent, n);
		int rc = engine_send(GOOD_SID, msg, n + FRAME_HEADER_LEN);
		if (rc == -EAGAIN) {
			bp.want_write = true;
			return;
		}
		if (rc < 0) {
			if (!(bp.fatal_case && bp.phase > 0))
				finish(1, "good stream: send failed: %s", strerror(-rc));
			return;
		}
		bp.sent += n;
		bp.credit -= (uint32_t)n;
	}
	if (bp.sent == bp.total && !bp.fin_sent && bp.st[GOOD_SID].open_ok) {
		send_simple(GOOD_SID, FRAME_FIN, 0);
		bp.fin_sent = true;
	}
}

/* --- the cases -------------------------------------------------------- */

static void next_phase(void)
{
	bp.phase++;
	bp.phase_at = ev_now(bp.loop);
}

static double in_phase(void)
{
	return ev_now(bp.loop) - bp.phase_at;
}

/* B must answer SID with RST reason 6 (protocol error); we answer RST, as
 * an opener does, and B frees the id with CLOSED. Returns true once all of
 * that happened; fails the case on a wrong reason. */
static bool reset_by_b(uint16_t sid)
{
	struct sid_state *s = &bp.st[sid];
	if (!s->rst)
		return false;
	if (s->reason != FRAME_RST_PROTOCOL) {
		finish(1, "stream %u: RST reason %u (%s), want 6 (protocol error)", sid, s->reason,
		       frame_rst_reason_name((enum frame_rst_reason)s->reason));
		return false;
	}
	return s->closed;
}

static const uint8_t unknown_msg[] = {0x7f, 0, 1, 2, 3};

/* One step of the case; called after every event. */
static void run_case(void)
{
	const char *c = bp.name;
	if (bp.finished)
		return;

	if (!strcmp(c, "unknown_type") || !strcmp(c, "truncated") ||
	    !strcmp(c, "oversized_field") || !strcmp(c, "open_in_use") || !strcmp(c, "fin_twice") ||
	    !strcmp(c, "credit_overflow") || !strcmp(c, "over_credit")) {
		switch (bp.phase) {
		case 0:
			if (!strcmp(c, "unknown_type"))
				send_raw(0, unknown_msg, 2); /* stream 0: ignored */
			if (!strcmp(c, "truncated")) {
				static const uint8_t open_cut[] = {FRAME_OPEN, 0, 0, 0, 1};
				send_raw(5, open_cut, sizeof open_cut);
			}
			if (!strcmp(c, "oversized_field")) {
				uint8_t m[128];
				struct frame f = {.type = FRAME_OPEN};
				f.u.open.window = OUR_WINDOW;
				f.u.open.target = bp.target;
				ssize_t n = frame_encode(&f, m, sizeof m);
				/* name_len 64: one over FRAME_NAME_MAX */
				m[n - 1] = 64;
				memset(m + n, 'x', 64);
				send_raw(5, m, (size_t)n + 64);
			}
			send_open(3);
			next_phase();
			break;
		case 1:
			if (!bp.st[3].open_ok)
				break;
			if (!strcmp(c, "unknown_type")) {
				send_raw(3, unknown_msg, sizeof unknown_msg);
			} else if (!strcmp(c, "truncated")) {
				static const uint8_t credit_cut[] = {FRAME_CREDIT, 0, 0, 1};
				send_raw(3, credit_cut, sizeof credit_cut);
			} else if (!strcmp(c, "oversized_field")) {
				static const uint8_t credit_long[] = {
				    FRAME_CREDIT, 0, 0, 0, 0, 1, 0, 0};
				send_raw(3, credit_long, sizeof credit_long);
			} else if (!strcmp(c, "open_in_use")) {
				send_open(3);
			} else if (!strcmp(c, "fin_twice")) {
				send_simple(3, FRAME_FIN, 0);
				send_simple(3, FRAME_FIN, 0);
			} else if (!strcmp(c, "credit_overflow")) {
				send_simple(3, FRAME_CREDIT, 0xffffffffu);
			} else if (!strcmp(c, "over_credit")) {
				/* One message more than the whole window B gave. */
				size_t n = (size_t)bp.st[3].window + 1;
				if (n > FRAME_DATA_MAX) {
					finish(1,
					       "B's window %u leaves no room for an overrun in "
					       "one DATA frame (use conn_window < 64k)",
					       bp.st[3].window);
					return;
				}
				uint8_t *m = calloc(1, n + FRAME_HEADER_LEN);
				frame_data_header(m);
				send_raw(3, m, n + FRAME_HEADER_LEN);
				free(m);
			}
			next_phase();
			break;
		case 2:
			if (!bp.st[3].rst)
				break;
			send_simple(3, FRAME_RST, FRAME_RST_OTHER);
			next_phase();
			break;
		case 3:
			if (!reset_by_b(3))
				break;
			if (bp.st[5].frames) {
				finish(
				    1,
				    "B answered the malformed OPEN on idle stream 5 (%u frames); "
				    "PROTOCOL.md: ignored",
				    bp.st[5].frames);
				return;
			}
			next_phase();
			break;
		}
		if (bp.phase == 4 && bp.good_done)
			finish(0, "stream 3 reset with reason 6 and closed, others unaffected");
		return;
	}

	if (!strcmp(c, "data_unopened")) {
		static const uint8_t data[] = {FRAME_DATA, 0, 'x', 'y'};
		if (bp.phase == 0) {
			send_raw(7, data, sizeof data); /* our parity, never opened */
			send_raw(8, data, sizeof data); /* B's parity, never opened */
			static const uint8_t fin[] = {FRAME_FIN, 0};
			send_raw(9, fin, sizeof fin);
			next_phase();
		} else if (bp.phase == 1 && in_phase() > 1.0) {
			if (bp.st[7].frames || bp.st[8].frames || bp.st[9].frames) {
				finish(1, "B answered frames on never-opened streams; PROTOCOL.md: "
				          "ignored");
				return;
			}
			/* The ids are still usable. */
			send_open(7);
			next_phase();
		} else if (bp.phase == 2 && bp.st[7].open_ok) {
			send_simple(7, FRAME_RST, FRAME_RST_OTHER);
			next_phase();
		} else if (bp.phase == 3 && bp.st[7].closed && bp.good_done) {
			finish(0,
			       "frames on never-opened streams ignored; the ids open afterwards");
		}
		return;
	}

	if (!strcmp(c, "open_flood")) {
		if (bp.phase == 0) {
			for (unsigned i = 0; i < FLOOD_N && !bp.finished; i++)
				send_open((uint16_t)(3 + 2 * i));
			next_phase();
		} else if (bp.phase == 1) {
			unsigned ok = 0, refused = 0;
			for (unsigned i = 0; i < FLOOD_N; i++) {
				struct sid_state *s = &bp.st[3 + 2 * i];
				if (s->open_ok)
					ok++;
				else if (s->rst && s->reason == FRAME_RST_RESOURCES && s->closed)
					refused++;
				else if (s->rst && s->reason != FRAME_RST_RESOURCES) {
					finish(1, "stream %u refused with reason %u, want 5",
					       3 + 2 * i, s->reason);
					return;
				}
			}
			if (ok + refused < FLOOD_N)
				return;
			bp.n_ok = ok;
			bp.n_refused = refused;
			if (refused == 0) {
				finish(1, "all %u OPENs accepted: memory_limit did not bound them",
				       ok);
				return;
			}
			for (unsigned i = 0; i < FLOOD_N; i++)
				if (bp.st[3 + 2 * i].open_ok)
					send_simple((uint16_t)(3 + 2 * i), FRAME_RST,
					            FRAME_RST_OTHER);
			next_phase();
		} else if (bp.phase == 2) {
			for (unsigned i = 0; i < FLOOD_N; i++)
				if (bp.st[3 + 2 * i].open_ok && !bp.st[3 + 2 * i].closed)
					return;
			if (bp.good_done)
				finish(0,
				       "%u OPENs: %u accepted, %u refused with RST 5 + CLOSED, all "
				       "closed again",
				       FLOOD_N, bp.n_ok, bp.n_refused);
		}
		return;
	}

	/* Association-fatal cases: B must abort; the engine reports down. */
	if (bp.phase == 0) {
		if (!strcmp(c, "bad_hello")) {
			static const uint8_t hello_bad[] = {
			    FRAME_HELLO, 0, 0x53, 0x47, 0x57, 0x31, 2,    2,
			    1,           0, 0,    0,    0,    0x10, 0x00, 200};
			send_raw(0, hello_bad, sizeof hello_bad);
		} else if (!strcmp(c, "oversized_msg")) {
			size_t n = FRAME_MAX + 1;
			uint8_t *m = calloc(1, n);
			frame_data_header(m);
			send_raw(GOOD_SID, m, n);
			free(m);
		} else if (!strcmp(c, "stream_range")) {
			/* We told B 16 streams in our HELLO. */
			send_simple(20, FRAME_FIN, 0);
		} else if (!strcmp(c, "early_flood")) {
			/* Before our HELLO: B keeps these until it comes, up
			 * to 256 KiB. Six DATA frames of 60000 bytes. */
			size_t n = 60000;
			uint8_t *m = calloc(1, n);
			frame_data_header(m);
			for (unsigned i = 0; i < 6 && !bp.finished; i++)
				send_raw((uint16_t)(3 + 2 * i), m, n);
			free(m);
		} else if (!strcmp(c, "silent")) {
			printf("badpeer: %s: stopping myself (SIGSTOP) with the association up\n",
			       c);
			fflush(stdout);
			raise(SIGSTOP);
		}
		next_phase();
	}
}

/* replay: send FILE's recorded messages on stream 0, verbatim. */
static void send_replay(void)
{
	FILE *f = fopen(bp.replay, "r");
	if (!f) {
		finish(1, "cannot read %s: %s", bp.replay, strerror(errno));
		return;
	}
	char line[2 * AUTH_HELLO_MAX + 8];
	unsigned n = 0;
	while (fgets(line, sizeof line, f) && !bp.finished) {
		uint8_t msg[AUTH_HELLO_MAX];
		size_t len = 0;
		for (const char *c = line; c[0] && c[1] && c[0] != '\n' && len < sizeof msg;
		     c += 2) {
			unsigned b;
			if (sscanf(c, "%2x", &b) != 1)
				break;
			msg[len++] = (uint8_t)b;
		}
		if (len == 0)
			continue;
		send_raw(0, msg, len);
		n++;
	}
	fclose(f);
	if (!bp.finished && n == 0)
		finish(1, "%s holds no message", bp.replay);
	printf("badpeer: %s: sent %u recorded messages on stream 0\n", bp.name, n);
	fflush(stdout);
	next_phase();
}

/* --- engine callbacks ------------------------------------------------- */

static void on_up(void *ctx, uint16_t streams)
{
	(void)ctx;
	bp.up = true;
	bp.streams = streams;
	int rc = auth_begin(&bp.auth, streams);
	if (rc < 0) {
		finish(1, "cannot start the handshake: %s", strerror(-rc));
		return;
	}
	if (!strcmp(bp.name, "stream_range"))
		bp.streams = 16;
	/* These misbehave before (or instead of) our HELLO. */
	if (!strcmp(bp.name, "bad_hello") || !strcmp(bp.name, "early_flood")) {
		run_case();
		return;
	}
	if (!strcmp(bp.name, "no_hello"))
		return;
	if (!strcmp(bp.name, "replay")) {
		send_replay();
		return;
	}
	send_hello();
}

static void on_down(void *ctx, bool graceful, const char *why)
{
	(void)ctx;
	(void)graceful;
	bool was_up = bp.up;
	bp.up = false;
	if (!bp.finished) {
		if (bp.fatal_case && was_up)
			finish(0, "B ended the association: %s", why);
		else
			finish(1, "association down before the case was done: %s", why);
	}
	ev_break(bp.loop, EVBREAK_ALL);
}

static void on_frame(uint16_t sid, const struct frame *f)
{
	struct sid_state *s = &bp.st[sid];
	s->frames++;
	switch (f->type) {
	case FRAME_OPEN_OK:
		s->open_ok = true;
		s->window = f->u.window;
		if (sid == GOOD_SID)
			bp.credit = f->u.window;
		break;
	case FRAME_CREDIT:
		if (sid == GOOD_SID)
			bp.credit += f->u.credit;
		break;
	case FRAME_DATA:
		if (sid != GOOD_SID)
			break;
		if (bp.echoed + f->u.data.len > bp.total ||
		    memcmp(f->u.data.bytes, bp.pattern + bp.echoed, f->u.data.len) != 0) {
			finish(1, "good stream: echoed bytes differ at offset %zu", bp.echoed);
			return;
		}
		bp.echoed += f->u.data.len;
		send_simple(GOOD_SID, FRAME_CREDIT, (uint32_t)f->u.data.len);
		break;
	case FRAME_FIN:
		s->fin = true;
		break;
	case FRAME_RST:
		s->rst = true;
		s->reason = (uint8_t)f->u.rst;
		if (sid == GOOD_SID)
			finish(1, "good stream reset by B (%s)", frame_rst_reason_name(f->u.rst));
		break;
	case FRAME_CLOSED:
		s->closed = true;
		if (sid == GOOD_SID && bp.echoed == bp.total && s->fin)
			bp.good_done = true;
		break;
	default:
		break;
	}
}

static void on_message(void *ctx, uint16_t sid, const uint8_t *msg, size_t len)
{
	(void)ctx;
	struct frame f;
	if (auth_rx_sealed(&bp.auth)) {
		int rc = auth_open(&bp.auth, sid, msg, len, bp.open_buf, &len);
		if (rc < 0) {
			finish(1, "a message from B on stream %u failed to open: %s", sid,
			       strerror(-rc));
			return;
		}
		msg = bp.open_buf;
	}
	int rc = frame_decode(msg, len, &f);
	if (rc < 0) {
		finish(1, "B sent a malformed message on stream %u (%zu bytes)", sid, len);
		return;
	}
	if (sid == 0) {
		if (f.type == FRAME_HELLO && !bp.hello_sent) {
			/* no_hello, bad_hello, early_flood: B must abort; no
			 * handshake without our own HELLO. */
		} else if (f.type == FRAME_HELLO && bp.auth.state == AUTH_HELLO) {
			on_hello(msg, len, &f.u.hello);
		} else if (f.type == FRAME_AUTH && bp.auth.state == AUTH_PROOF) {
			if (auth_peer_proof(&bp.auth, f.u.proof) < 0) {
				finish(1, "B's AUTH proof does not match our key");
				return;
			}
			go_ready();
		}
	} else if (sid < MAX_SID) {
		on_frame(sid, &f);
	}
	pump_good();
	if (bp.ready && (bp.echoed >= bp.total / 4 || bp.phase > 0))
		run_case();
}

static void on_writable(void *ctx)
{
	(void)ctx;
	bp.want_write = false;
	pump_good();
}

static void on_path_event(void *ctx)
{
	(void)ctx;
}

static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	finish(1, "timed out in phase %d (association %s, B's HELLO %s)", bp.phase,
	       bp.up ? "up" : "not up", bp.ready ? "received" : "not received");
	if (!bp.up)
		ev_break(bp.loop, EVBREAK_ALL);
}

/* Phases that wait for time rather than a frame. */
static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (bp.ready && bp.phase > 0)
		run_case();
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: badpeer -c A.conf --target ADDR:PORT [--bytes N] [--timeout S] "
	        "[--replay FILE] CASE\n(see the top of tests/tools/badpeer.c for the cases)\n");
	exit(2);
}

/* N, NK or NM (powers of 1024). */
static size_t parse_size(const char *text)
{
	char *end;
	size_t n = strtoul(text, &end, 0);
	if (*end == 'K' || *end == 'k')
		n <<= 10;
	else if (*end == 'M' || *end == 'm')
		n <<= 20;
	else if (*end)
		usage();
	return n;
}

int main(int argc, char **argv)
{
	const char *conf = NULL, *target = NULL;
	double timeout = 60;
	bp.total = 4 << 20;
	static const struct option opts[] = {{"target", required_argument, NULL, 't'},
	                                     {"bytes", required_argument, NULL, 'b'},
	                                     {"timeout", required_argument, NULL, 'T'},
	                                     {"replay", required_argument, NULL, 'r'},
	                                     {NULL, 0, NULL, 0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'b':
			bp.total = parse_size(optarg);
			break;
		case 'T':
			timeout = strtod(optarg, NULL);
			break;
		case 'r':
			bp.replay = optarg;
			break;
		default:
			usage();
		}
	}
	if (!conf || !target || optind != argc - 1)
		usage();
	bp.name = argv[optind];
	if ((strcmp(bp.name, "replay") == 0) != (bp.replay != NULL))
		usage(); /* the case and --replay go together */
	static const char *const fatal[] = {"bad_hello",    "oversized_msg", "early_flood",
	                                    "stream_range", "no_hello",      "no_auth",
	                                    "silent",       "replay"};
	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		if (!strcmp(bp.name, fatal[i]))
			bp.fatal_case = true;

	signal(SIGPIPE, SIG_IGN);
	struct config *cfg = config_load(conf, stderr);
	if (!cfg)
		return 2;
	if (addr_parse_endpoint(target, &bp.target) < 0) {
		fprintf(stderr, "badpeer: bad --target %s\n", target);
		return 2;
	}
	log_init("badpeer", cfg->log_level < LOG_INFO ? cfg->log_level : LOG_INFO);
	auth_init(&bp.auth, true, cfg->encrypt, "badpeer", cfg->psk, cfg->n_psk);
	bp.seal_buf = malloc(FRAME_WIRE_MAX + 1);
	bp.open_buf = malloc(FRAME_WIRE_MAX);
	if (!bp.seal_buf || !bp.open_buf)
		return 2;
	bp.pattern = malloc(bp.total ? bp.total : 1);
	for (size_t i = 0; i < bp.total; i++)
		bp.pattern[i] = pattern_at(i);

	bp.loop = EV_DEFAULT;
	struct engine_params p;
	engine_params_from_config(&p, cfg);
	config_free(cfg);
	struct engine_callbacks cb = {.up = on_up,
	                              .down = on_down,
	                              .message = on_message,
	                              .writable = on_writable,
	                              .path_event = on_path_event};
	bp.e = engine_usrsctp_new(bp.loop, &p, &cb, NULL);
	if (!bp.e)
		return 2;
	ev_timer_init(&bp.deadline, deadline_cb, timeout, 0.);
	ev_timer_start(bp.loop, &bp.deadline);
	ev_timer_init(&bp.tick, tick_cb, 0.1, 0.1);
	ev_timer_start(bp.loop, &bp.tick);
	int rc = bp.e->ops->open(bp.e);
	if (rc < 0) {
		fprintf(stderr, "badpeer: cannot open the association: %s\n", strerror(-rc));
		return 2;
	}
	ev_run(bp.loop, 0);
	if (!bp.finished)
		finish(1, "the loop ended early");
	engine_free(bp.e);
	auth_fini(&bp.auth);
	free(bp.seal_buf);
	free(bp.open_buf);
	free(bp.pattern);
	return bp.rc;
}
