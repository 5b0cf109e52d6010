/* engine: probing the kernel and creating the backend; see engine.h. */
#include "engine.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostcheck.h"
#include "log.h"

/* 0 when this kernel can make an SCTP socket, else why not (errno). On
 * Linux this also loads the sctp module when module autoloading works. */
static int kernel_sctp_probe(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
	if (fd < 0)
		return errno ? errno : EPROTONOSUPPORT;
	close(fd);
	return 0;
}

struct engine *engine_new(enum config_engine choice, struct ev_loop *loop,
                          const struct engine_params *p, const struct engine_callbacks *cb,
                          void *ctx)
{
	char why[512];
	struct engine_probe probe = {.kernel_err = kernel_sctp_probe()};
	if (!probe.kernel_err && p->transport == CONFIG_TRANSPORT_UDP)
		probe.udp_err = -engine_kernel_probe_udp(p->udp_encap_port, probe.udp_why,
		                                         sizeof probe.udp_why);
	switch (engine_choose(choice, &probe, p, why, sizeof why)) {
	case ENGINE_KIND_KERNEL:
		log_info("%s", why);
		if (hostcheck_sctp_port(p) < 0)
			return NULL;
		return engine_kernel_new(loop, p, cb, ctx);
	case ENGINE_KIND_USERSPACE:
		log_info("%s", why);
		if (hostcheck_udp_port(p) < 0)
			return NULL;
		return engine_usrsctp_new(loop, p, cb, ctx);
	case ENGINE_KIND_NONE:
		break;
	}
	log_error("%s", why);
	return NULL;
}
