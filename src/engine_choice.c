/* engine_choice: which engine the [gateway] engine key means on this machine
 * for the configured [association] transport, and the one log line that
 * says why (engine.h). Pure: the probes of the kernel are engine.c's and
 * engine_kernel.c's, so this can be tested on any kernel.
 *
 *   transport  engine = auto                 kernel            userspace
 *   udp        kernel if it speaks UDP,      kernel, or fail   user space
 *              else user space
 *   sctp       kernel, or fail               kernel, or fail   fail (config.c too)
 */
#include <stdio.h>
#include <string.h>

#include "engine.h"

static void userspace_line(char *why, size_t len, const char *prefix, const char *reason,
                           const struct engine_params *p)
{
	snprintf(why, len,
	         "%s%s; using the user-space engine, transport udp (usrsctp over UDP port %u, "
	         "peer's %u)",
	         prefix, reason, p->udp_encap_port, p->remote_udp_encap_port);
}

static void kernel_line(char *why, size_t len, const char *prefix, const struct engine_params *p)
{
	if (p->transport == CONFIG_TRANSPORT_UDP)
		snprintf(why, len,
		         "%susing the kernel engine, transport udp (SCTP over UDP: local UDP port "
		         "%u, peer's %u)",
		         prefix, p->udp_encap_port, p->remote_udp_encap_port);
	else
		snprintf(why, len,
		         "%susing the kernel engine, transport sctp (plain SCTP, IP protocol 132: "
		         "the peer needs the kernel engine and transport = sctp too)",
		         prefix);
}

static void no_kernel_line(char *why, size_t len, const char *what, int kernel_err,
                           const char *remedy)
{
	snprintf(why, len,
	         "%s, but this kernel cannot make SCTP sockets (%s): load the module with "
	         "'modprobe sctp' (in a container, load it on the host: containers share the "
	         "host's kernel), or set %s",
	         what, strerror(kernel_err), remedy);
}

enum engine_kind engine_choose(enum config_engine choice, const struct engine_probe *probe,
                               const struct engine_params *p, char *why, size_t len)
{
	bool udp = p->transport == CONFIG_TRANSPORT_UDP;
	switch (choice) {
	case CONFIG_ENGINE_KERNEL:
		if (probe->kernel_err) {
			no_kernel_line(why, len, "engine = kernel", probe->kernel_err,
			               "engine = userspace or auto");
			return ENGINE_KIND_NONE;
		}
		if (udp && probe->udp_err) {
			snprintf(
			    why, len,
			    "engine = kernel with transport = udp, but the kernel cannot carry "
			    "SCTP over UDP here (%s); set engine = auto or userspace (the "
			    "user-space engine speaks SCTP over UDP on any host), or "
			    "transport = sctp on both gateways",
			    probe->udp_why);
			return ENGINE_KIND_NONE;
		}
		kernel_line(why, len, "engine kernel: as configured; ", p);
		return ENGINE_KIND_KERNEL;
	case CONFIG_ENGINE_AUTO:
		if (!udp) {
			if (probe->kernel_err) {
				no_kernel_line(
				    why, len,
				    "engine auto: transport = sctp (plain SCTP) needs the "
				    "kernel engine",
				    probe->kernel_err,
				    "transport = udp on both gateways (either engine speaks it)");
				return ENGINE_KIND_NONE;
			}
			kernel_line(why, len, "engine auto: the kernel has SCTP; ", p);
			return ENGINE_KIND_KERNEL;
		}
		char reason[256];
		if (probe->kernel_err) {
			snprintf(reason, sizeof reason, "the kernel has no SCTP (%s)",
			         strerror(probe->kernel_err));
		} else if (probe->udp_err) {
			snprintf(reason, sizeof reason,
			         "the kernel has SCTP but cannot carry it over UDP here (%s)",
			         probe->udp_why);
		} else {
			kernel_line(why, len, "engine auto: the kernel has SCTP over UDP; ", p);
			return ENGINE_KIND_KERNEL;
		}
		userspace_line(why, len, "engine auto: ", reason, p);
		return ENGINE_KIND_USERSPACE;
	case CONFIG_ENGINE_USERSPACE:
		if (!udp) {
			snprintf(
			    why, len,
			    "engine = userspace speaks SCTP over UDP only, but transport = sctp; "
			    "expected transport = udp, or engine = kernel or auto");
			return ENGINE_KIND_NONE;
		}
		userspace_line(why, len, "engine userspace: ", "as configured", p);
		return ENGINE_KIND_USERSPACE;
	}
	snprintf(why, len, "engine: unknown choice %d", (int)choice);
	return ENGINE_KIND_NONE;
}
