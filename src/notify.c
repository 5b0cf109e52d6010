/* notify: see notify.h. */
#include "notify.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assoc.h"
#include "log.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#else
static int sd_notify(int unset, const char *state)
{
	(void)unset;
	(void)state;
	return 0;
}
static int sd_watchdog_enabled(int unset, uint64_t *usec)
{
	(void)unset;
	(void)usec;
	return 0;
}
#endif

struct notify {
	struct ev_loop *loop;
	const struct assoc *assoc;
	char status[256]; /* the last STATUS= sent */
	bool stopping;
	/* What the last STATUS= was made of: formatted again only on change. */
	enum assoc_state state;
	bool up;
	size_t primary;
	ev_check check;
	ev_timer watchdog;
};

static void notify_status(struct notify *n)
{
	const struct assoc *a = n->assoc;
	char line[sizeof n->status];
	if (n->stopping)
		snprintf(line, sizeof line, "stopping: association %s", assoc_state_name(a->state));
	else if (a->state == ASSOC_READY && a->paths.up && a->paths.n > 0)
		snprintf(line, sizeof line, "association ready with %s, primary path %s",
		         a->peer_name[0] ? a->peer_name : "peer",
		         a->paths.paths[a->paths.primary].name);
	else
		snprintf(line, sizeof line, "association %s", assoc_state_name(a->state));
	if (strcmp(line, n->status) == 0)
		return;
	snprintf(n->status, sizeof n->status, "%s", line);
	char msg[sizeof line + 8];
	snprintf(msg, sizeof msg, "STATUS=%s", line);
	sd_notify(0, msg);
}

/* After every turn of the loop: cheap comparisons, a STATUS= on change. */
static void notify_check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	(void)loop;
	(void)revents;
	struct notify *n = w->data;
	const struct assoc *a = n->assoc;
	if (a->state == n->state && a->paths.up == n->up && a->paths.primary == n->primary)
		return;
	n->state = a->state;
	n->up = a->paths.up;
	n->primary = a->paths.primary;
	notify_status(n);
}

static void notify_watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	sd_notify(0, "WATCHDOG=1");
}

struct notify *notify_new(struct ev_loop *loop, const struct assoc *a)
{
	struct notify *n = calloc(1, sizeof *n);
	if (!n) {
		log_error("notify: out of memory; no service manager notifications");
		return NULL;
	}
	n->loop = loop;
	n->assoc = a;
	n->state = a->state;
	n->up = a->paths.up;
	n->primary = a->paths.primary;
	ev_check_init(&n->check, notify_check_cb);
	n->check.data = n;
	/* Not started by a service manager: nothing to watch for. */
	if (getenv("NOTIFY_SOCKET")) {
		ev_check_start(loop, &n->check);
		/* The check watcher must not keep the loop alive on its own. */
		ev_unref(loop);
	}

	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		ev_timer_init(&n->watchdog, notify_watchdog_cb, 0., usec / 2e6);
		n->watchdog.data = n;
		ev_timer_again(loop, &n->watchdog);
		ev_unref(loop);
		log_info("watchdog: pinging the service manager every %.1f s", usec / 2e6);
	} else {
		ev_timer_init(&n->watchdog, notify_watchdog_cb, 0., 0.);
	}
	sd_notify(0, "READY=1");
	notify_status(n);
	return n;
}

void notify_stopping(struct notify *n)
{
	if (!n)
		return;
	n->stopping = true;
	sd_notify(0, "STOPPING=1");
	notify_status(n);
}

void notify_free(struct notify *n)
{
	if (!n)
		return;
	if (ev_is_active(&n->watchdog)) {
		ev_ref(n->loop);
		ev_timer_stop(n->loop, &n->watchdog);
	}
	if (ev_is_active(&n->check)) {
		ev_ref(n->loop);
		ev_check_stop(n->loop, &n->check);
	}
	free(n);
}
