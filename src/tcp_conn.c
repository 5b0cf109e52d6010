/* tcp_conn: see tcp_conn.h for the states and the closing rule. */
#include "tcp_conn.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "assoc.h"
#include "egress.h"
#include "conn_log.h"
#include "log.h"
#include "ratelimit.h"
#include "resolver.h"

static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents);
static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents);
static void conn_connect_cb(struct ev_loop *loop, ev_io *w, int revents);
static void conn_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void conn_progress(struct conn *c);

/* The credit invariants (tcp_conn.h): what we may still send never exceeds
 * the peer's window (as advertised, or grown by its CREDITs), and what the
 * peer may still send, plus what waits for our TCP socket, plus what we
 * wrote to TCP but did not grant yet, plus what we owe back, never exceeds
 * our window (rxw.size, which grows and shrinks: window.h). Checked
 * wherever one of them changes; only the peer's frames move them, and
 * those are validated before they do. */
static void conn_check(const struct conn *c)
{
	assert(c->tx_credit <= c->tx_window);
	assert((uint64_t)c->rx_avail + c->out.len + c->rxw.ungranted + c->rx_grant <= c->rxw.size);
	(void)c;
}

/* The receive window to advertise in OPEN / OPEN_OK: the one reserved out
 * of memory_limit for this connection so far (it grows later through
 * CREDIT, when both HELLOs announced window growth). */
static uint32_t conn_window_to_advertise(const struct conn *c)
{
	return c->rxw.size;
}

/* Whether the bytes written to TCP since the last CREDIT (and any growth
 * of the window) are worth a frame now: a quarter of the window
 * (window_grant_due), so the sender always has most of it to work with and
 * the grants cost one small frame per window/4 bytes. Never below one
 * byte, so even a 1-byte window moves. After the peer's FIN no DATA will
 * come, so nothing needs granting. */
static bool conn_credit_due(const struct conn *c)
{
	return !c->got_fin && !c->got_rst && window_grant_due(&c->rxw);
}

/* Close so the other end sees RST, not FIN. */
static void close_with_reset(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(fd);
}

/* Remember the first cause of C's end for its summary line (conn_log.h). */
static void conn_ended(struct conn *c, const char *why)
{
	if (!c->end_why)
		c->end_why = why;
}

/* A read or write on the TCP socket failed with ERR. */
static void conn_socket_failed(struct conn *c, int err)
{
	if (err == ECONNRESET || err == EPIPE)
		conn_ended(c, c->opener ? "reset by client" : "reset by target");
	else if (err == ETIMEDOUT)
		conn_ended(c, c->opener ? "client timed out (TCP keepalive or retransmissions)"
		                        : "target timed out (TCP keepalive or retransmissions)");
	else if (err == EHOSTUNREACH || err == ENETUNREACH)
		conn_ended(c, c->opener ? "client unreachable" : "target unreachable");
	else
		conn_ended(c, c->opener ? "client socket error" : "target socket error");
}

/* How a connection ended that was reset for WHY, by the peer gateway or,
 * CONNECTING, by our own connect to the target. */
static const char *conn_rst_text(const struct conn *c, enum frame_rst_reason why, bool connecting)
{
	switch (why) {
	case FRAME_RST_RESET:
		return c->opener ? "reset by target" : "reset by client";
	case FRAME_RST_REFUSED:
		return "target refused";
	case FRAME_RST_TIMEOUT:
		return connecting ? "target did not answer (connect_timeout_ms)"
		                  : "idle or timed out at the peer gateway";
	case FRAME_RST_UNREACHABLE:
		return "target unreachable";
	case FRAME_RST_RESOURCES:
		return "no resources at the peer gateway";
	case FRAME_RST_SHUTDOWN:
		return "the peer gateway is stopping (drain)";
	case FRAME_RST_NOT_ALLOWED:
		return "target not in [egress] allow";
	case FRAME_RST_NO_NAME:
		return "target host name did not resolve";
	default:
		return connecting ? "cannot connect to the target" : "reset by the peer gateway";
	}
}

static struct conn *conn_new(struct assoc *a, int fd)
{
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->assoc = a;
	c->fd = fd;
	c->started = ev_now(a->loop);
	window_init(&c->rxw, (uint32_t)a->conn_window, (uint32_t)a->conn_window_max,
	            ev_now(a->loop));
	c->rx_avail = c->rxw.size;
	c->out.max = a->conn_window;
	ev_io_init(&c->rio, conn_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, conn_write_cb, fd, EV_WRITE);
	ev_timer_init(&c->timer, conn_timeout_cb, 0., 0.);
	c->rio.data = c->wio.data = c->timer.data = c;
	assoc_conn_add(a, c);
	return c;
}

static void conn_close_fd(struct conn *c, bool reset)
{
	if (c->fd < 0)
		return;
	ev_io_stop(c->assoc->loop, &c->rio);
	ev_io_stop(c->assoc->loop, &c->wio);
	if (reset)
		close_with_reset(c->fd);
	else
		close(c->fd);
	c->fd = -1;
}

/* The addresses of a host name go once the connect is over. */
static void conn_dial_done(struct conn *c)
{
	if (c->dial != &c->target.target)
		free(c->dial);
	c->dial = NULL;
	c->n_dial = c->dial_next = 0;
}

static void conn_free(struct conn *c)
{
	struct ev_loop *loop = c->assoc->loop;
	ev_timer_stop(loop, &c->timer);
	resolver_cancel(c->query);
	conn_dial_done(c);
	conn_close_fd(c, true);
	log_debug("stream %u %s %s closed: %llu bytes up, %llu bytes down, %.3f s", c->sid,
	          c->opener ? "client" : "target", c->peer_text, (unsigned long long)c->bytes_up,
	          (unsigned long long)c->bytes_down, ev_now(loop) - c->started);
	conn_log_line(c, ev_now(loop));
	assoc_conn_gone(c->assoc, c);
	buf_reset(&c->out);
	free(c);
}

void conn_kill(struct conn *c)
{
	conn_ended(c, c->assoc->state == ASSOC_CLOSING
	                  ? "reset: this gateway is stopping (drain_timeout_ms)"
	                  : "reset: the association was lost");
	c->owed = 0;
	conn_free(c);
}

/* Whether we may read the TCP socket: the stream is open both ways, the
 * peer granted credit, and no terminal frame went or came. */
static bool may_read(const struct conn *c)
{
	return c->fd >= 0 && c->state == CONN_OPEN && c->tx_credit > 0 && !c->tcp_eof &&
	       !c->sent_rst && !c->got_rst;
}

/* Whether C has a frame to give the association now. */
static bool has_work(const struct conn *c)
{
	return c->owed || (c->readable && may_read(c));
}

/* Watch the TCP socket for bytes only while we may read them and do not
 * already know some wait (then the pump reads them when our turn comes). */
static void update_reading(struct conn *c)
{
	if (c->fd >= 0 && may_read(c) && !c->readable)
		ev_io_start(c->assoc->loop, &c->rio);
	else if (c->fd >= 0)
		ev_io_stop(c->assoc->loop, &c->rio);
}

/* N bytes went into the TCP socket: the window may grow, if the peer
 * understands growth and memory_limit has room (window.h). */
static void conn_consumed(struct conn *c, size_t n)
{
	struct assoc *a = c->assoc;
	uint32_t grow = window_consumed(&c->rxw, (uint32_t)n, ev_now(a->loop), assoc_rtt(a));
	if (grow && (a->features & FRAME_FEATURE_WINDOW_GROWTH) && assoc_conn_grow(a, c, grow))
		c->out.max = c->rxw.size;
}

/* Grant back what went into the TCP socket once it is worth a frame
 * (conn_credit_due); first withhold what a shrinking window gives back to
 * memory_limit. */
static void maybe_grant(struct conn *c)
{
	assoc_conn_shrink(c->assoc, c);
	if (conn_credit_due(c)) {
		uint32_t released;
		c->rx_grant += window_grant(&c->rxw, &released);
		assert(released == 0); /* assoc_conn_shrink withheld it */
		(void)released;
		c->owed |= CONN_OWE_CREDIT;
	}
	conn_check(c);
}

/* Finished when a terminal frame went each way, nothing but CLOSED is owed
 * and the TCP side has everything; then the exit side owes CLOSED. */
static bool is_finished(const struct conn *c)
{
	if (!(c->sent_fin || c->sent_rst) || !(c->got_fin || c->got_rst))
		return false;
	if (c->owed & ~CONN_OWE_CLOSED)
		return false;
	return c->fd < 0 || c->out.len == 0;
}

/* After any change: finish (and free) C when it is done, and watch its
 * socket as it now needs. True when C was freed. */
static bool conn_settle(struct conn *c)
{
	if (!c->finished && is_finished(c)) {
		c->finished = true;
		conn_close_fd(c, false); /* graceful: both FINs were carried */
		if (!c->opener)
			c->owed |= CONN_OWE_CLOSED;
	}
	if (c->finished && !c->owed) {
		conn_free(c);
		return true;
	}
	update_reading(c);
	return false;
}

/* The one way forward after any event: settle, then tell the association
 * when there is something to send. C may be gone afterwards: callers
 * return. */
static void conn_progress(struct conn *c)
{
	if (!conn_settle(c) && has_work(c))
		assoc_conn_ready(c->assoc, c);
}

/* Owe the peer an RST (unless a terminal frame already went) and drop
 * everything still queued in either direction. */
static void conn_reset(struct conn *c, enum frame_rst_reason why)
{
	ev_timer_stop(c->assoc->loop, &c->timer);
	resolver_cancel(c->query);
	c->query = NULL;
	conn_close_fd(c, true);
	c->readable = false;
	buf_reset(&c->out);
	c->owed &= ~(CONN_OWE_OPEN_OK | CONN_OWE_CREDIT);
	if (c->owed & CONN_OWE_FIN) {
		c->owed &= ~CONN_OWE_FIN; /* never went: the RST replaces it */
		c->sent_fin = false;
	}
	/* Our terminal frame is owed when none went yet, or, after our FIN,
	 * while the peer is still sending: an RST after FIN cannot land on a
	 * new connection because the id is only reused after CLOSED. */
	bool peer_done = c->got_fin || c->got_rst;
	if (!c->sent_rst && (!c->sent_fin || !peer_done)) {
		c->owed |= CONN_OWE_RST;
		c->rst_reason = why;
		c->sent_rst = true;
	}
}

void conn_abort(struct conn *c, enum frame_rst_reason why)
{
	conn_reset(c, why);
	conn_progress(c);
}

void conn_protocol_error(struct conn *c, const char *why)
{
	log_warn_limited("stream %u: protocol error from peer (%s); resetting this connection",
	                 c->sid, why);
	conn_ended(c, "protocol error from the peer gateway");
	conn_reset(c, FRAME_RST_PROTOCOL);
	conn_progress(c);
}

/* --- TCP -> peer ---------------------------------------------------- */

/* Bytes wait on the TCP socket: stop watching it and wait for our turn. */
static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	struct conn *c = w->data;
	ev_io_stop(loop, w);
	c->readable = true;
	if (has_work(c))
		assoc_conn_ready(c->assoc, c);
}

/* Read what the credit allows (one frame at most) into a DATA frame at
 * FRAME; its length, or 0 when nothing was read (socket drained: watch it
 * again; end of stream: FIN owed; error: RST owed). */
static size_t read_data(struct conn *c, uint8_t *frame)
{
	size_t max = assoc_data_max(c->assoc);
	/* The first ASSOC_URGENT_BYTES go urgent (assoc_send.c): in frames
	 * that stop there, so no connection puts more before the others. */
	if (c->bytes_up < ASSOC_URGENT_BYTES && ASSOC_URGENT_BYTES - c->bytes_up < max)
		max = (size_t)(ASSOC_URGENT_BYTES - c->bytes_up);
	size_t want = c->tx_credit < max ? c->tx_credit : max;
	ssize_t n = read(c->fd, frame + FRAME_HEADER_LEN, want);
	if (n > 0) {
		c->tx_credit -= (uint32_t)n;
		c->bytes_up += (size_t)n;
		/* A short read drained the socket: let the watcher say when
		 * more comes rather than pay a read that finds nothing. */
		if ((size_t)n < want)
			c->readable = false;
		conn_check(c);
		frame_data_header(frame);
		return (size_t)n + FRAME_HEADER_LEN;
	}
	c->readable = false;
	if (n == 0) {
		c->tcp_eof = true;
		if (!c->sent_rst && !c->sent_fin) {
			c->sent_fin = true;
			c->owed |= CONN_OWE_FIN;
		}
		return 0;
	}
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	int err = errno;
	log_debug("stream %u: %s %s: %s", c->sid, c->opener ? "client" : "target", c->peer_text,
	          strerror(err));
	conn_socket_failed(c, err);
	conn_reset(c, FRAME_RST_RESET);
	return 0;
}

/* Take owed frame BIT as F into BUF: its length (BIT not owed: 0). */
static size_t take_control(struct conn *c, unsigned bit, const struct frame *f, uint8_t *buf)
{
	if (!(c->owed & bit))
		return 0;
	c->owed &= ~bit;
	ssize_t n = frame_encode(f, buf, FRAME_MAX);
	return n > 0 ? (size_t)n : 0;
}

/* The next frame in the order of conn_pull (tcp_conn.h). DATA must not
 * overtake OPEN / OPEN_OK; FIN and RST are owed only once no more DATA
 * will be read, so they cannot overtake it either. */
static size_t next_frame(struct conn *c, uint8_t *buf)
{
	struct frame f = {0};
	size_t len;

	f.type = FRAME_OPEN;
	f.u.open = c->target;
	f.u.open.window = conn_window_to_advertise(c);
	if ((len = take_control(c, CONN_OWE_OPEN, &f, buf)) > 0)
		return len;
	f.type = FRAME_OPEN_OK;
	f.u.window = conn_window_to_advertise(c);
	if ((len = take_control(c, CONN_OWE_OPEN_OK, &f, buf)) > 0)
		return len;
	if (c->owed & CONN_OWE_CREDIT) {
		f.type = FRAME_CREDIT;
		f.u.credit = c->rx_grant;
		c->rx_avail += c->rx_grant;
		c->rx_grant = 0;
		conn_check(c);
		if ((len = take_control(c, CONN_OWE_CREDIT, &f, buf)) > 0)
			return len;
	}
	if (c->readable && may_read(c) && (len = read_data(c, buf)) > 0)
		return len;
	f.type = FRAME_RST;
	f.u.rst = c->rst_reason;
	if ((len = take_control(c, CONN_OWE_RST, &f, buf)) > 0)
		return len;
	f.type = FRAME_FIN;
	if ((len = take_control(c, CONN_OWE_FIN, &f, buf)) > 0)
		return len;
	f.type = FRAME_CLOSED;
	return take_control(c, CONN_OWE_CLOSED, &f, buf);
}

size_t conn_pull(struct conn *c, uint8_t *buf, bool *more)
{
	size_t len = next_frame(c, buf);
	*more = !conn_settle(c) && has_work(c);
	return len;
}

/* --- peer -> TCP ---------------------------------------------------- */

static void shut_tcp_write(struct conn *c)
{
	if (c->fd >= 0 && c->got_fin && c->out.len == 0 && !c->shut_wr) {
		c->shut_wr = true;
		shutdown(c->fd, SHUT_WR);
	}
}

/* Write what we can from OUT; false after a reset. */
static bool drain_out(struct conn *c)
{
	while (c->out.len > 0) {
		ssize_t n = write(c->fd, buf_head(&c->out), c->out.len);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			int err = errno;
			log_debug("stream %u: writing to %s: %s", c->sid, c->peer_text,
			          strerror(err));
			conn_socket_failed(c, err);
			conn_reset(c, FRAME_RST_RESET);
			return false;
		}
		c->bytes_down += (size_t)n;
		conn_consumed(c, (size_t)n);
		buf_consume(&c->out, (size_t)n);
	}
	if (c->out.len > 0)
		ev_io_start(c->assoc->loop, &c->wio);
	else
		ev_io_stop(c->assoc->loop, &c->wio);
	maybe_grant(c);
	return true;
}

static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct conn *c = w->data;
	if (drain_out(c))
		shut_tcp_write(c);
	conn_progress(c);
}

static void on_data(struct conn *c, const uint8_t *p, size_t len)
{
	if (len > c->rx_avail) {
		char why[96];
		snprintf(why, sizeof why, "DATA of %zu bytes with only %u bytes of credit left",
		         len, c->rx_avail);
		conn_protocol_error(c, why);
		return;
	}
	c->rx_avail -= (uint32_t)len;
	conn_check(c);
	if (c->fd < 0)
		return; /* already reset locally; the peer will hear of it */
	if (c->out.len == 0) {
		ssize_t n = write(c->fd, p, len);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			int err = errno;
			log_debug("stream %u: writing to %s: %s", c->sid, c->peer_text,
			          strerror(err));
			conn_socket_failed(c, err);
			conn_reset(c, FRAME_RST_RESET);
			conn_progress(c);
			return;
		}
		if (n > 0) {
			c->bytes_down += (size_t)n;
			conn_consumed(c, (size_t)n);
			p += n;
			len -= (size_t)n;
		}
	}
	if (len == 0) {
		maybe_grant(c);
		conn_progress(c);
		return;
	}
	if (buf_append(&c->out, p, len) < 0) {
		log_warn_limited("stream %u: out of memory; resetting", c->sid);
		conn_ended(c, "out of memory");
		conn_reset(c, FRAME_RST_RESOURCES);
		conn_progress(c);
		return;
	}
	ev_io_start(c->assoc->loop, &c->wio);
	maybe_grant(c);
	conn_progress(c);
}

/* The peer wrote INC more of our bytes into its TCP socket. */
static void on_credit(struct conn *c, uint32_t inc)
{
	if (c->opener && c->state != CONN_OPEN) {
		conn_protocol_error(c, "CREDIT before the connection is open");
		return;
	}
	/* The peer grants only what it received, so credit never exceeds
	 * the window it advertised, unless the window grew (a feature both
	 * HELLOs announced); more would be a peer miscounting. */
	if (inc > c->tx_window - c->tx_credit &&
	    (c->assoc->features & FRAME_FEATURE_WINDOW_GROWTH) &&
	    inc <= FRAME_CREDIT_MAX - c->tx_credit)
		c->tx_window = c->tx_credit + inc;
	if (inc > c->tx_window - c->tx_credit) {
		char why[96];
		snprintf(why, sizeof why, "CREDIT of %u with %u of a %u-byte window unused", inc,
		         c->tx_credit, c->tx_window);
		conn_protocol_error(c, why);
		return;
	}
	c->tx_credit += inc;
	conn_check(c);
	conn_progress(c);
}

void conn_on_frame(struct conn *c, const struct frame *f)
{
	if (c->got_fin || c->got_rst) {
		/* Nothing may follow a terminal frame but an RST after FIN, or
		 * CREDIT for our own direction, which may still be sending. */
		if (f->type == FRAME_CREDIT && !c->got_rst) {
			on_credit(c, f->u.credit);
		} else if (f->type == FRAME_RST && c->got_fin && !c->got_rst) {
			c->got_rst = true;
			conn_ended(c, conn_rst_text(c, f->u.rst, c->state == CONN_OPENING));
			conn_reset(c, FRAME_RST_RESET);
			conn_progress(c);
		} else if (!c->got_rst) {
			conn_protocol_error(c, "frame after FIN");
		}
		return;
	}

	switch (f->type) {
	case FRAME_OPEN_OK:
		if (!c->opener || c->state != CONN_OPENING) {
			conn_protocol_error(c, "unexpected OPEN_OK");
			return;
		}
		ev_timer_stop(c->assoc->loop, &c->timer);
		c->state = CONN_OPEN;
		c->tx_window = c->tx_credit = f->u.window;
		log_debug("stream %u: %s connected to %s (peer window %u)", c->sid, c->peer_text,
		          c->target.name, f->u.window);
		conn_progress(c);
		return;
	case FRAME_DATA:
		if (c->state != CONN_OPEN) {
			conn_protocol_error(c, "DATA before the connection is open");
			return;
		}
		on_data(c, f->u.data.bytes, f->u.data.len);
		return;
	case FRAME_FIN:
		if (c->state != CONN_OPEN) {
			conn_protocol_error(c, "FIN before the connection is open");
			return;
		}
		c->got_fin = true;
		c->owed &= ~CONN_OWE_CREDIT; /* no DATA follows FIN: nothing to grant */
		shut_tcp_write(c);
		conn_progress(c);
		return;
	case FRAME_CREDIT:
		on_credit(c, f->u.credit);
		return;
	case FRAME_RST:
		c->got_rst = true;
		conn_ended(c, conn_rst_text(c, f->u.rst, c->state == CONN_OPENING));
		if (c->opener && c->state == CONN_OPENING)
			limits_refused(&c->assoc->limits, c->target.name, LIMITS_REFUSED_PEER);
		if (c->opener && c->state == CONN_OPENING && f->u.rst == FRAME_RST_NOT_ALLOWED) {
			char t[FRAME_HOST_MAX + 8];
			c->assoc->n_egress_peer++;
			log_warn_limited("stream %u: client %s, forward %s: peer %s refused the "
			                 "target %s: not in its [egress] allow (add it there on "
			                 "the peer gateway); client reset",
			                 c->sid, c->peer_text, c->target.name, c->assoc->peer_name,
			                 frame_open_target_text(&c->target, t, sizeof t));
		} else if (c->opener && c->state == CONN_OPENING && f->u.rst == FRAME_RST_NO_NAME) {
			char t[FRAME_HOST_MAX + 8];
			c->assoc->n_unresolved_peer++;
			log_warn_limited(
			    "stream %u: client %s, forward %s: peer %s could not resolve "
			    "the target %s; client reset",
			    c->sid, c->peer_text, c->target.name, c->assoc->peer_name,
			    frame_open_target_text(&c->target, t, sizeof t));
		} else if (c->opener && c->state == CONN_OPENING) {
			log_info("stream %u: %s -> %s: peer could not connect: %s", c->sid,
			         c->peer_text, c->target.name, frame_rst_reason_name(f->u.rst));
		} else
			log_debug("stream %u: reset by peer (%s)", c->sid,
			          frame_rst_reason_name(f->u.rst));
		conn_reset(c, FRAME_RST_RESET);
		conn_progress(c);
		return;
	default:
		conn_protocol_error(c, frame_type_name(f->type));
		return;
	}
}

/* --- opening -------------------------------------------------------- */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static void tune_socket(int fd)
{
	int on = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

int conn_open(struct assoc *a, int fd, const struct frame_open *target)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof peer;

	if (set_nonblock(fd) < 0) {
		close_with_reset(fd);
		return -EIO;
	}
	tune_socket(fd);
	limits_socket_bufs(fd, a->conn_window);
	limits_socket_keepalive(&a->limits, fd);
	bool goaway = a->peer_goaway;
	if (goaway || !assoc_has_room(a)) {
		char who[ADDR_STRLEN + 32];
		if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
			addr_format(&peer, who, sizeof who);
		else
			snprintf(who, sizeof who, "?");
		if (goaway && !assoc_admit_client(a, who, target->name)) {
			close_with_reset(fd); /* the peer drains: no OPEN */
			return -ESHUTDOWN;
		}
		assoc_refused_for_memory(a, "client", who, target->name);
		limits_refused(&a->limits, target->name, LIMITS_REFUSED_MEMORY);
		close_with_reset(fd);
		return -ENOBUFS;
	}
	struct conn *c = conn_new(a, fd);
	if (!c) {
		close_with_reset(fd);
		return -ENOMEM;
	}
	c->opener = true;
	c->state = CONN_OPENING;
	c->target = *target;
	limits_conn_opened(&a->limits, c);
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
		addr_format(&peer, c->peer_text, sizeof c->peer_text);

	int sid = assoc_stream_alloc(a, c);
	if (sid < 0) {
		log_warn_limited("forward %s: refusing client %s: %s", target->name, c->peer_text,
		                 sid == -ENOSPC ? "no free stream" : "association not ready");
		conn_ended(c, sid == -ENOSPC ? "refused: no free stream"
		                             : "refused: the association is not up");
		limits_refused(&a->limits, target->name,
		               sid == -ENOSPC ? LIMITS_REFUSED_STREAMS : LIMITS_REFUSED_NOT_READY);
		conn_kill(c);
		return sid;
	}
	c->sid = (uint16_t)sid;
	limits_conn_carried(&a->limits, c);
	log_debug("stream %u: client %s on forward %s", c->sid, c->peer_text, target->name);
	c->owed |= CONN_OWE_OPEN;
	/* The peer answers with OPEN_OK or RST once its connect ends (within
	 * its connect_timeout_ms); past the deadline the client is reset. */
	c->open_at = ev_now(a->loop);
	c->open_rtx = assoc_rtx_count(a);
	ev_timer_set(&c->timer, a->open_timeout, 0.);
	ev_timer_start(a->loop, &c->timer);
	conn_progress(c);
	return 0;
}

static void conn_connected(struct conn *c)
{
	conn_dial_done(c);
	ev_timer_stop(c->assoc->loop, &c->timer);
	ev_io_stop(c->assoc->loop, &c->wio);
	ev_set_cb(&c->wio, conn_write_cb);
	c->state = CONN_OPEN;
	c->owed |= CONN_OWE_OPEN_OK;
	log_debug("stream %u: connected to target %s", c->sid, c->peer_text);
	conn_progress(c); /* reading starts once OPEN_OK has gone */
}

static enum frame_rst_reason reason_of(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return FRAME_RST_REFUSED;
	case ETIMEDOUT:
		return FRAME_RST_TIMEOUT;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case EADDRNOTAVAIL:
		return FRAME_RST_UNREACHABLE;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		return FRAME_RST_RESOURCES;
	}
	return FRAME_RST_OTHER;
}

static void conn_connect_failed(struct conn *c, int err)
{
	log_info_limited("stream %u: cannot connect to %s for forward %s: %s", c->sid, c->peer_text,
	                 c->target.name, strerror(err));
	conn_ended(c, conn_rst_text(c, reason_of(err), true));
	ev_timer_stop(c->assoc->loop, &c->timer);
	conn_reset(c, reason_of(err));
	conn_progress(c);
}

static void conn_try_next(struct conn *c);

/* An attempt failed with ERR: the next address, or the end. */
static void conn_attempt_failed(struct conn *c, int err)
{
	c->dial_err = err;
	if (c->dial_next < c->n_dial && ev_now(c->assoc->loop) < c->dial_deadline) {
		log_debug("stream %u: %s: %s; trying the next address", c->sid, c->peer_text,
		          strerror(err));
		conn_close_fd(c, true);
		conn_try_next(c);
		return;
	}
	conn_connect_failed(c, err);
}

static void conn_connect_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct conn *c = w->data;
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		conn_attempt_failed(c, err);
	else
		conn_connected(c);
}

static void conn_resolve_failed(struct conn *c, const char *why)
{
	struct assoc *a = c->assoc;
	char t[FRAME_HOST_MAX + 8];
	a->n_unresolved++;
	conn_ended(c, conn_rst_text(c, FRAME_RST_NO_NAME, true));
	log_warn_limited("stream %u: peer %s, forward %s: host name %s did not resolve (%s); "
	                 "refused",
	                 c->sid, a->peer_name, c->target.name,
	                 frame_open_target_text(&c->target, t, sizeof t), why);
	ev_timer_stop(a->loop, &c->timer);
	conn_reset(c, FRAME_RST_NO_NAME);
	conn_progress(c);
}

static void conn_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct conn *c = w->data;
	if (c->state == CONN_CONNECTING && c->query) {
		resolver_cancel(c->query);
		c->query = NULL;
		conn_resolve_failed(c, "no answer within connect_timeout_ms");
	} else if (c->state == CONN_CONNECTING) {
		/* This address had its share of the time: the next one, if
		 * time is left (conn_attempt_failed). */
		conn_attempt_failed(c, ETIMEDOUT);
	} else if (c->opener && c->state == CONN_OPENING && !c->got_rst) {
		double waited = ev_now(loop) - c->open_at;
		double more = assoc_open_grace(c->assoc, &c->open_rtx, waited);
		if (more > 0) {
			log_debug(
			    "stream %u: no answer to OPEN within %.1f s while SCTP retransmits; "
			    "waiting %.1f s more",
			    c->sid, waited, more);
			ev_timer_set(&c->timer, more, 0.);
			ev_timer_start(loop, &c->timer);
			return;
		}
		/* Our RST tells the peer; the id stays ours until its CLOSED
		 * (docs/PROTOCOL.md, "Opening a connection"). */
		assoc_open_timed_out(c->assoc, c->sid, c->peer_text, c->target.name, waited);
		conn_ended(c, "no answer from the peer gateway to OPEN");
		conn_reset(c, FRAME_RST_TIMEOUT);
		conn_progress(c);
	}
}

/* Exit side: [egress] allow does not name DST (text): refuse, say where
 * to allow it, count it. */
static void conn_not_allowed(struct conn *c, const char *dst)
{
	struct assoc *a = c->assoc;
	conn_ended(c, conn_rst_text(c, FRAME_RST_NOT_ALLOWED, true));
	assoc_egress_refused(a, c->sid, c->target.name, "", dst);
	ev_timer_stop(a->loop, &c->timer);
	conn_reset(c, FRAME_RST_NOT_ALLOWED);
	conn_progress(c);
}

/* Connect to the next address of c->dial. Each attempt gets an equal
 * share of the time left before the deadline, so one silent address
 * cannot use up the time of the others; the last one gets all of it. */
static void conn_try_next(struct conn *c)
{
	struct assoc *a = c->assoc;
	while (c->dial_next < c->n_dial) {
		const struct sockaddr_storage *dst = &c->dial[c->dial_next++];
		addr_format(dst, c->peer_text, sizeof c->peer_text);
		int fd = socket(dst->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			c->dial_err = errno;
			continue;
		}
		tune_socket(fd);
		limits_socket_bufs(fd, a->conn_window);
		limits_socket_keepalive(&a->limits, fd);
		c->fd = fd;
		ev_io_set(&c->rio, fd, EV_READ);
		ev_io_set(&c->wio, fd, EV_WRITE);
		if (connect(fd, (const struct sockaddr *)dst, addr_len(dst)) == 0) {
			conn_connected(c);
			return;
		}
		if (errno != EINPROGRESS) {
			c->dial_err = errno;
			conn_close_fd(c, true);
			continue;
		}
		ev_set_cb(&c->wio, conn_connect_cb);
		ev_io_start(a->loop, &c->wio);
		double left = c->dial_deadline - ev_now(a->loop);
		double share = left / (double)(c->n_dial - c->dial_next + 1);
		ev_timer_stop(a->loop, &c->timer);
		ev_timer_set(&c->timer, share > 0.001 ? share : 0.001, 0.);
		ev_timer_start(a->loop, &c->timer);
		return;
	}
	conn_connect_failed(c, c->dial_err ? c->dial_err : EHOSTUNREACH);
}

/* The answer for a host-name target: keep the addresses [egress] allow
 * names, in the resolver's order, and try them. */
static void conn_resolved_cb(void *ctx, int status, const char *why,
                             const struct sockaddr_storage *addrs, size_t n)
{
	struct conn *c = ctx;
	c->query = NULL;
	if (status < 0) {
		conn_resolve_failed(c, why);
		return;
	}
	char refused[160] = "";
	size_t nr = 0;
	c->dial = calloc(n < CONN_DIAL_MAX ? n : CONN_DIAL_MAX, sizeof *c->dial);
	if (!c->dial) {
		log_warn_limited("stream %u: out of memory; resetting", c->sid);
		conn_reset(c, FRAME_RST_RESOURCES);
		conn_progress(c);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_storage d = addrs[i];
		egress_normalize(&d);
		if (egress_allows(&c->assoc->egress, &d)) {
			if (c->n_dial < CONN_DIAL_MAX)
				c->dial[c->n_dial++] = d;
			continue;
		}
		char t[ADDR_STRLEN];
		nr += (size_t)snprintf(refused + nr, nr < sizeof refused ? sizeof refused - nr : 0,
		                       "%s%s", nr ? ", " : "", addr_format(&d, t, sizeof t));
	}
	if (c->n_dial == 0) {
		char text[FRAME_HOST_MAX + 8 + sizeof refused + 16];
		char t[FRAME_HOST_MAX + 8];
		snprintf(text, sizeof text, "%s (%s)",
		         frame_open_target_text(&c->target, t, sizeof t), refused);
		conn_not_allowed(c, text);
		return;
	}
	if (nr)
		log_debug("stream %u: %s: skipping %s, not in [egress] allow", c->sid,
		          c->target.host, refused);
	conn_try_next(c);
}

int conn_accept(struct assoc *a, uint16_t sid, const struct frame_open *target)
{
	struct conn *c = conn_new(a, -1);
	if (!c)
		return -ENOMEM;
	c->sid = sid;
	assoc_stream_accept(a, sid, c);
	c->state = CONN_CONNECTING;
	c->target = *target;
	c->tx_window = c->tx_credit = target->window;
	/* One deadline for all of it: resolving and every address tried. */
	c->dial_deadline = ev_now(a->loop) + a->connect_timeout_ms / 1000.0;
	ev_timer_set(&c->timer, a->connect_timeout_ms / 1000.0, 0.);
	ev_timer_start(a->loop, &c->timer);
	if (target->target.ss_family == AF_UNSPEC) {
		frame_open_target_text(target, c->peer_text, sizeof c->peer_text);
		if (!a->resolver) {
			conn_resolve_failed(c, "no resolver: c-ares did not start, see the log at "
			                       "start");
			return 0;
		}
		c->query = resolver_lookup(a->resolver, target->host, target->host_port,
		                           conn_resolved_cb, c);
		if (!c->query)
			conn_resolve_failed(c, "out of memory");
		return 0;
	}
	c->dial = &c->target.target;
	egress_normalize(c->dial);
	addr_format(c->dial, c->peer_text, sizeof c->peer_text);
	if (!egress_allows(&a->egress, c->dial)) {
		conn_not_allowed(c, c->peer_text);
		return 0;
	}
	c->n_dial = 1;
	conn_try_next(c);
	return 0;
}
