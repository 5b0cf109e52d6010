/* admin: see admin.h. */
#include "admin.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "gateway.h"
#include "log.h"
#include "metrics.h"
#include "snapshot.h"
#include "status.h"

/* One accepted admin connection, for the lifetime bound. */
struct admin_conn {
	bool used;
	bool shut; /* shutdown() already sent */
	int fd;
	ev_tstamp started;
};

struct admin {
	struct ev_loop *loop;
	struct gateway *gateway;
	struct MHD_Daemon *mhd;
	ev_io io;        /* MHD's epoll descriptor */
	ev_timer timer;  /* MHD's next timeout */
	ev_timer reaper; /* once a second while connections are open: the lifetime bound */
	size_t n_conns;
	/* MHD refuses past ADMIN_MAX_CONNS; one spare for the connection
	 * it is refusing. */
	struct admin_conn conns[ADMIN_MAX_CONNS + 1];
};

/* Per request (MHD's con_cls): what a POST body has brought so far. */
struct admin_req {
	size_t body;
};

static void admin_schedule(struct admin *a)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;
	ev_timer_stop(a->loop, &a->timer);
	if (MHD_get_timeout(a->mhd, &ms) == MHD_YES) {
		ev_timer_set(&a->timer, (double)ms / 1000.0, 0.);
		ev_timer_start(a->loop, &a->timer);
	}
}

static void admin_run(struct admin *a)
{
	MHD_run(a->mhd);
	admin_schedule(a);
}

static void admin_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	admin_run(w->data);
}

static void admin_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	admin_run(w->data);
}

/* A connection past its lifetime is shut down; MHD sees the end on its
 * next read or write and closes it (the epoll descriptor wakes us). */
static void admin_reaper_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct admin *a = w->data;
	ev_tstamp now = ev_now(loop);
	for (size_t i = 0; i < sizeof a->conns / sizeof a->conns[0]; i++) {
		struct admin_conn *c = &a->conns[i];
		if (!c->used || c->shut || now - c->started < ADMIN_LIFETIME_S)
			continue;
		log_debug("admin: closing a connection open for more than %d s", ADMIN_LIFETIME_S);
		shutdown(c->fd, SHUT_RDWR);
		c->shut = true;
	}
	admin_run(a);
}

static void admin_notify_cb(void *cls, struct MHD_Connection *connection, void **socket_context,
                            enum MHD_ConnectionNotificationCode toe)
{
	struct admin *a = cls;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct admin_conn *c = *socket_context;
		if (c) {
			c->used = false;
			a->n_conns--;
		}
		if (a->n_conns == 0)
			ev_timer_stop(a->loop, &a->reaper);
		return;
	}
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
	*socket_context = NULL;
	for (size_t i = 0; ci && i < sizeof a->conns / sizeof a->conns[0]; i++) {
		struct admin_conn *c = &a->conns[i];
		if (c->used)
			continue;
		*c = (struct admin_conn){
		    .used = true, .fd = ci->connect_fd, .started = ev_now(a->loop)};
		*socket_context = c;
		a->n_conns++;
		if (!ev_is_active(&a->reaper))
			ev_timer_start(a->loop, &a->reaper);
		return;
	}
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned code, const char *type,
                              char *body, size_t len, bool owned)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST");
	enum MHD_Result ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned code, const char *text)
{
	return answer(conn, code, "text/plain; charset=utf-8", (char *)text, strlen(text), false);
}

/* Render a snapshot of the gateway with RENDER into a fresh buffer. */
static enum MHD_Result answer_rendered(struct admin *a, struct MHD_Connection *conn,
                                       const char *type,
                                       void (*render)(const struct snapshot *, FILE *))
{
	static struct snapshot snap; /* large; the loop is the only thread */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	gateway_snapshot(a->gateway, &snap);
	render(&snap, f);
	if (fclose(f) != 0) {
		free(buf);
		return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	return answer(conn, MHD_HTTP_OK, type, buf, len, true);
}

static enum MHD_Result admin_get(struct admin *a, struct MHD_Connection *conn, const char *url)
{
	if (strcmp(url, "/healthz") == 0)
		return answer_text(conn, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/readyz") == 0) {
		static struct snapshot snap;
		gateway_snapshot(a->gateway, &snap);
		if (snapshot_ready(&snap))
			return answer_text(conn, MHD_HTTP_OK, "ready\n");
		return answer_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		                   snap.draining ? "not ready: draining\n"
		                                 : "not ready: association not established\n");
	}
	if (strcmp(url, "/metrics") == 0)
		return answer_rendered(a, conn, METRICS_CONTENT_TYPE, metrics_render);
	if (strcmp(url, "/status") == 0) {
		const char *fmt =
		    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "format");
		if (fmt && strcmp(fmt, "lines") == 0)
			return answer_rendered(a, conn, "text/plain; charset=utf-8",
			                       status_render_lines);
		return answer_rendered(a, conn, "application/json", status_render_json);
	}
	return answer_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

static enum MHD_Result admin_post(struct admin *a, struct MHD_Connection *conn, const char *url)
{
	if (strcmp(url, "/drain") == 0) {
		log_info("admin: drain requested");
		int rc = gateway_drain(a->gateway);
		return answer_text(conn, MHD_HTTP_ACCEPTED,
		                   rc == -EALREADY ? "already draining\n" : "draining\n");
	}
	if (strcmp(url, "/reload") == 0) {
		log_info("admin: reload requested");
		int rc = gateway_reload(a->gateway);
		if (rc == -EBUSY)
			return answer_text(conn, MHD_HTTP_CONFLICT,
			                   "not reloaded: the gateway is draining\n");
		if (rc < 0)
			return answer_text(
			    conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "reload failed; the old configuration runs (see the log)\n");
		return answer_text(conn, MHD_HTTP_OK, "reloaded\n");
	}
	return answer_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

static bool is_read_url(const char *url)
{
	return strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0 ||
	       strcmp(url, "/metrics") == 0 || strcmp(url, "/status") == 0;
}

static enum MHD_Result admin_request_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                        const char *method, const char *version,
                                        const char *upload_data, size_t *upload_data_size,
                                        void **con_cls)
{
	(void)version;
	(void)upload_data;
	struct admin *a = cls;
	bool get =
	    strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

	if (!post) {
		if (*upload_data_size) /* a body on a GET: ignored */
			*upload_data_size = 0;
		if (!get)
			return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			                   "method not allowed\n");
		return admin_get(a, conn, url);
	}
	if (is_read_url(url))
		return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	/* POST: the first call has no body; the body, if any, follows in
	 * pieces; the last call has none again. Act then. */
	struct admin_req *req = *con_cls;
	if (!req) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > ADMIN_BODY_MAX)
			return answer_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "body too large\n");
		req = calloc(1, sizeof *req);
		if (!req)
			return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		*con_cls = req;
		return MHD_YES;
	}
	if (*upload_data_size) {
		req->body += *upload_data_size;
		*upload_data_size = 0;
		if (req->body > ADMIN_BODY_MAX)
			return answer_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "body too large\n");
		return MHD_YES;
	}
	return admin_post(a, conn, url);
}

static void admin_completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                               enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

/* MHD's own complaints (malformed requests, refused connections): debug,
 * so a client cannot fill the log. */
static void admin_log_cb(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[256];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("admin: %s", line);
}

/* Why MHD could not listen on ADDR (it does not say): try the bind here. */
static const char *bind_error(const struct sockaddr_storage *addr)
{
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int on = 1, err = 0;
	if (fd < 0)
		return strerror(errno);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (bind(fd, (const struct sockaddr *)addr, addr_len(addr)) < 0)
		err = errno;
	close(fd);
	return err ? strerror(err) : "libmicrohttpd failed to start (log_level = debug says more)";
}

struct admin *admin_new(struct ev_loop *loop, const struct sockaddr_storage *addr,
                        struct gateway *g)
{
	char text[ADDR_STRLEN];
	addr_format(addr, text, sizeof text);
	struct admin *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->loop = loop;
	a->gateway = g;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (addr->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The logger first: MHD logs through its own until it sees it. */
	a->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, admin_request_cb, a, MHD_OPTION_EXTERNAL_LOGGER, admin_log_cb, a,
	    MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)ADMIN_MAX_CONNS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ADMIN_IDLE_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)ADMIN_MEMORY_LIMIT,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 64u, MHD_OPTION_NOTIFY_CONNECTION, admin_notify_cb, a,
	    MHD_OPTION_NOTIFY_COMPLETED, admin_completed_cb, a, MHD_OPTION_END);
	if (!a->mhd) {
		log_error("admin: cannot listen on %s: %s", text, bind_error(addr));
		free(a);
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!di) {
		log_error("admin: libmicrohttpd gives no epoll descriptor");
		MHD_stop_daemon(a->mhd);
		free(a);
		return NULL;
	}
	ev_io_init(&a->io, admin_io_cb, di->epoll_fd, EV_READ);
	ev_timer_init(&a->timer, admin_timer_cb, 0., 0.);
	ev_timer_init(&a->reaper, admin_reaper_cb, 1., 1.);
	a->io.data = a->timer.data = a->reaper.data = a;
	ev_io_start(loop, &a->io);
	admin_schedule(a);
	log_info("admin: serving /metrics /healthz /readyz /status on http://%s", text);
	return a;
}

void admin_free(struct admin *a)
{
	if (!a)
		return;
	ev_io_stop(a->loop, &a->io);
	ev_timer_stop(a->loop, &a->timer);
	ev_timer_stop(a->loop, &a->reaper);
	MHD_stop_daemon(a->mhd);
	free(a);
}
