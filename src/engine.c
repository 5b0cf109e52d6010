/* engine: choosing a backend; see engine.h. */
#include "engine.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Whether this kernel can make an SCTP socket at all. */
static bool kernel_has_sctp(int *err)
{
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
	if (fd < 0) {
		*err = errno;
		return false;
	}
	close(fd);
	return true;
}

struct engine *engine_new(enum config_engine choice, struct ev_loop *loop,
                          const struct engine_params *p, const struct engine_callbacks *cb,
                          void *ctx)
{
	int err = 0;
	bool kernel = kernel_has_sctp(&err);

	switch (choice) {
	case CONFIG_ENGINE_KERNEL:
		if (!kernel)
			log_error(
			    "engine = kernel, but this kernel cannot make SCTP sockets (%s): "
			    "load the module with 'modprobe sctp' (in a container, load it on "
			    "the host), or set engine = userspace",
			    strerror(err));
		else
			log_error("engine = kernel: the kernel SCTP engine is not part of this "
			          "build yet; set engine = userspace or auto");
		return NULL;
	case CONFIG_ENGINE_AUTO:
		if (kernel)
			log_info("engine auto: the kernel has SCTP, but the kernel engine is not "
			         "part of this build yet; using the user-space engine");
		else
			log_info("engine auto: the kernel has no SCTP (%s); using the user-space "
			         "engine (usrsctp over UDP port %u)",
			         strerror(err), p->udp_encap_port);
		break;
	case CONFIG_ENGINE_USERSPACE:
		log_info("engine userspace: usrsctp over UDP port %u, as configured",
		         p->udp_encap_port);
		break;
	}
	return engine_usrsctp_new(loop, p, cb, ctx);
}
