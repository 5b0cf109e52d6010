/* engine_choice: which engine the [gateway] engine key means on this machine,
 * and the one log line that says why (engine.h). Pure: the probe of the
 * kernel is engine.c's, so this can be tested on any kernel. */
#include <stdio.h>
#include <string.h>

#include "engine.h"

static void userspace_line(char *why, size_t len, const char *prefix, const char *reason,
                           const struct engine_params *p)
{
	snprintf(why, len,
	         "%s%s; using the user-space engine (usrsctp over UDP port %u, peer's %u)", prefix,
	         reason, p->udp_encap_port, p->remote_udp_encap_port);
}

static void kernel_line(char *why, size_t len, const char *prefix, const struct engine_params *p)
{
	if (p->udp_encap)
		snprintf(
		    why, len,
		    "%susing the kernel engine, SCTP over UDP (udp_encap = on: local UDP port %u, "
		    "peer's %u)",
		    prefix, p->udp_encap_port, p->remote_udp_encap_port);
	else
		snprintf(why, len,
		         "%susing the kernel engine, plain SCTP (udp_encap = off: a user-space "
		         "peer needs udp_encap = on here)",
		         prefix);
}

enum engine_kind engine_choose(enum config_engine choice, int kernel_err,
                               const struct engine_params *p, char *why, size_t len)
{
	switch (choice) {
	case CONFIG_ENGINE_KERNEL:
		if (kernel_err) {
			snprintf(why, len,
			         "engine = kernel, but this kernel cannot make SCTP sockets (%s): "
			         "load the module with 'modprobe sctp' (in a container, load it on "
			         "the host: containers share the host's kernel), or set engine = "
			         "userspace or auto",
			         strerror(kernel_err));
			return ENGINE_KIND_NONE;
		}
		kernel_line(why, len, "engine kernel: as configured; ", p);
		return ENGINE_KIND_KERNEL;
	case CONFIG_ENGINE_AUTO:
		if (!kernel_err) {
			kernel_line(why, len, "engine auto: the kernel has SCTP; ", p);
			return ENGINE_KIND_KERNEL;
		}
		char reason[128];
		snprintf(reason, sizeof reason, "the kernel has no SCTP (%s)",
		         strerror(kernel_err));
		userspace_line(why, len, "engine auto: ", reason, p);
		return ENGINE_KIND_USERSPACE;
	case CONFIG_ENGINE_USERSPACE:
		userspace_line(why, len, "engine userspace: ", "as configured", p);
		return ENGINE_KIND_USERSPACE;
	}
	snprintf(why, len, "engine: unknown choice %d", (int)choice);
	return ENGINE_KIND_NONE;
}
