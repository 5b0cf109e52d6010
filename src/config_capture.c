/* config_capture: see config_capture.h. */
#include "config_capture.h"

#include <stddef.h>
#include <strings.h>

const char *const config_capture_names[] = {"none", "redirect", "tproxy", NULL};

bool config_capture_is_original(const char *v)
{
	return strcasecmp(v, CONFIG_TARGET_ORIGINAL) == 0;
}

const char *config_capture_check(enum config_capture capture, bool target_original)
{
	/* A client that connected to the listener itself has no other
	 * destination: "original" would be the listener, a loop. */
	if (target_original && capture == CONFIG_CAPTURE_NONE)
		return "original needs a captured connection; expected capture = redirect or "
		       "tproxy in this section, or a host:port target";
	return NULL;
}

const char *config_capture_name(enum config_capture c)
{
	return (unsigned)c <= CONFIG_CAPTURE_TPROXY ? config_capture_names[c] : "?";
}
