/* frame: see frame.h and docs/PROTOCOL.md. */
#include "frame.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* A cursor over a byte span; every read checks the remaining length. */
struct rd {
	const uint8_t *p;
	size_t left;
};

static int rd_u8(struct rd *r, uint8_t *v)
{
	if (r->left < 1)
		return -EBADMSG;
	*v = r->p[0];
	r->p++;
	r->left--;
	return 0;
}

static int rd_u16(struct rd *r, uint16_t *v)
{
	if (r->left < 2)
		return -EBADMSG;
	*v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	r->left -= 2;
	return 0;
}

static int rd_u32(struct rd *r, uint32_t *v)
{
	if (r->left < 4)
		return -EBADMSG;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return 0;
}

static int rd_bytes(struct rd *r, void *dst, size_t n)
{
	if (r->left < n)
		return -EBADMSG;
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return 0;
}

/* A length-prefixed name: printable ASCII only, so it is safe in logs. */
static int rd_name(struct rd *r, char *dst)
{
	uint8_t n;
	if (rd_u8(r, &n) < 0 || n > FRAME_NAME_MAX || rd_bytes(r, dst, n) < 0)
		return -EBADMSG;
	dst[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (dst[i] < 0x21 || dst[i] > 0x7e)
			return -EBADMSG;
	return 0;
}

static int decode_hello(struct rd *r, struct frame_hello *h)
{
	uint32_t magic;
	if (rd_u32(r, &magic) < 0 || magic != FRAME_MAGIC)
		return -EBADMSG;
	if (rd_u8(r, &h->version_min) < 0 || rd_u8(r, &h->version_max) < 0 ||
	    rd_u8(r, &h->role) < 0 || rd_u32(r, &h->features) < 0 || rd_u16(r, &h->streams) < 0 ||
	    rd_name(r, h->name) < 0)
		return -EBADMSG;
	if (h->streams < 3)
		return -EBADMSG; /* stream 0 and one id for each side at least */
	if (h->version_min == 0 || h->version_min > h->version_max)
		return -EBADMSG;
	if (h->role != FRAME_ROLE_CONNECT && h->role != FRAME_ROLE_ACCEPT)
		return -EBADMSG;
	if (r->left == 0)
		return 0; /* an older HELLO: the version check refuses it by name */
	h->has_auth = true;
	if (rd_bytes(r, h->nonce, FRAME_NONCE_LEN) < 0 || rd_u8(r, &h->n_key_ids) < 0 ||
	    h->n_key_ids > FRAME_KEYIDS_MAX)
		return -EBADMSG;
	for (size_t i = 0; i < h->n_key_ids; i++)
		if (rd_bytes(r, h->key_ids[i], FRAME_KEYID_LEN) < 0)
			return -EBADMSG;
	return 0;
}

static int decode_open(struct rd *r, struct frame_open *o)
{
	uint8_t family;
	uint16_t port;
	memset(&o->target, 0, sizeof o->target);
	if (rd_u32(r, &o->window) < 0 || o->window == 0)
		return -EBADMSG; /* a zero window could never be opened */
	if (rd_u8(r, &family) < 0 || rd_u16(r, &port) < 0 || port == 0)
		return -EBADMSG;
	if (family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&o->target;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (rd_bytes(r, &sin->sin_addr, 4) < 0)
			return -EBADMSG;
	} else if (family == 6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&o->target;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (rd_bytes(r, &sin6->sin6_addr, 16) < 0)
			return -EBADMSG;
	} else if (family == 0) {
		/* A host name, checked here so nothing else ever sees one that
		 * is not a valid name (they go into logs and the resolver). */
		uint8_t n;
		if (rd_u8(r, &n) < 0 || n == 0 || n > FRAME_HOST_MAX || rd_bytes(r, o->host, n) < 0)
			return -EBADMSG;
		o->host[n] = '\0';
		/* A NUL inside would cut the name short of its length. */
		if (strlen(o->host) != n || !frame_host_valid(o->host))
			return -EBADMSG;
		o->host_port = port;
	} else {
		return -EBADMSG;
	}
	return rd_name(r, o->name);
}

int frame_decode(const uint8_t *buf, size_t len, struct frame *out)
{
	struct rd r = {buf, len};
	uint8_t type;
	int rc;

	memset(out, 0, sizeof *out);
	if (rd_u8(&r, &type) < 0 || rd_u8(&r, &out->flags) < 0)
		return -EBADMSG;
	out->type = (enum frame_type)type;

	switch (type) {
	case FRAME_HELLO:
		rc = decode_hello(&r, &out->u.hello);
		break;
	case FRAME_AUTH:
		rc = rd_bytes(&r, out->u.proof, FRAME_PROOF_LEN);
		break;
	case FRAME_REKEY: {
		struct frame_rekey *k = &out->u.rekey;
		rc = rd_u8(&r, &k->kind) < 0 || rd_u8(&r, &k->status) < 0 ||
		             rd_bytes(&r, k->key_id, FRAME_KEYID_LEN) < 0 ||
		             rd_bytes(&r, k->nonce, FRAME_NONCE_LEN) < 0 ||
		             rd_bytes(&r, k->proof, FRAME_PROOF_LEN) < 0
		         ? -EBADMSG
		         : 0;
		if (rc == 0 && (k->kind < FRAME_REKEY_REQUEST || k->kind > FRAME_REKEY_CONFIRM))
			return -EBADMSG;
		break;
	}
	case FRAME_OPEN:
		rc = decode_open(&r, &out->u.open);
		break;
	case FRAME_DATA:
		/* An empty DATA frame would mean nothing; refuse it so a peer
		 * cannot make us spin on zero-byte messages. */
		if (r.left == 0 || r.left > FRAME_DATA_MAX)
			return -EBADMSG;
		out->u.data.bytes = r.p;
		out->u.data.len = r.left;
		return 0;
	case FRAME_DGRAM:
		/* An empty UDP datagram is a datagram too. */
		if (r.left > FRAME_DATA_MAX)
			return -EBADMSG;
		out->u.data.bytes = r.p;
		out->u.data.len = r.left;
		return 0;
	case FRAME_RST: {
		uint8_t reason = 0;
		rc = rd_u8(&r, &reason);
		out->u.rst =
		    reason < FRAME_RST_MAX_ ? (enum frame_rst_reason)reason : FRAME_RST_OTHER;
		break;
	}
	case FRAME_OPEN_OK:
		/* A zero window would leave the opener unable to send until
		 * a CREDIT came; it is malformed, like a zero increment. */
		rc = rd_u32(&r, &out->u.window);
		if (rc == 0 && out->u.window == 0)
			return -EBADMSG;
		break;
	case FRAME_CREDIT:
		rc = rd_u32(&r, &out->u.credit);
		if (rc == 0 && out->u.credit == 0)
			return -EBADMSG;
		break;
	case FRAME_FIN:
	case FRAME_CLOSED:
	case FRAME_GOAWAY:
		rc = 0;
		break;
	default:
		return -ENOTSUP;
	}
	if (rc < 0)
		return rc;
	return r.left == 0 ? 0 : -EBADMSG;
}

/* A cursor for writing; overflow is remembered and reported once. */
struct wr {
	uint8_t *p;
	size_t left;
	int err;
};

static void wr_bytes(struct wr *w, const void *src, size_t n)
{
	if (w->left < n) {
		w->err = -ENOSPC;
		return;
	}
	memcpy(w->p, src, n);
	w->p += n;
	w->left -= n;
}

static void wr_u8(struct wr *w, uint8_t v)
{
	wr_bytes(w, &v, 1);
}

static void wr_u16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	wr_bytes(w, b, 2);
}

static void wr_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	wr_bytes(w, b, 4);
}

static int wr_name(struct wr *w, const char *name)
{
	size_t n = strnlen(name, FRAME_NAME_MAX + 1);
	if (n > FRAME_NAME_MAX)
		return -EINVAL;
	wr_u8(w, (uint8_t)n);
	wr_bytes(w, name, n);
	return 0;
}

static int encode_open(struct wr *w, const struct frame_open *o)
{
	if (o->window == 0)
		return -EINVAL;
	wr_u32(w, o->window);
	if (o->target.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&o->target;
		wr_u8(w, 4);
		wr_u16(w, ntohs(sin->sin_port));
		wr_bytes(w, &sin->sin_addr, 4);
	} else if (o->target.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&o->target;
		wr_u8(w, 6);
		wr_u16(w, ntohs(sin6->sin6_port));
		wr_bytes(w, &sin6->sin6_addr, 16);
	} else if (o->target.ss_family == AF_UNSPEC) {
		size_t n = strnlen(o->host, FRAME_HOST_MAX + 1);
		if (!frame_host_valid(o->host) || o->host_port == 0)
			return -EINVAL;
		wr_u8(w, 0);
		wr_u16(w, o->host_port);
		wr_u8(w, (uint8_t)n);
		wr_bytes(w, o->host, n);
	} else {
		return -EINVAL;
	}
	return wr_name(w, o->name);
}

ssize_t frame_encode(const struct frame *f, uint8_t *out, size_t cap)
{
	struct wr w = {out, cap, 0};
	int rc = 0;

	wr_u8(&w, (uint8_t)f->type);
	wr_u8(&w, f->type == FRAME_OPEN ? (uint8_t)(f->flags & FRAME_OPEN_DATAGRAM) : 0);
	switch (f->type) {
	case FRAME_HELLO:
		wr_u32(&w, FRAME_MAGIC);
		wr_u8(&w, f->u.hello.version_min);
		wr_u8(&w, f->u.hello.version_max);
		wr_u8(&w, f->u.hello.role);
		wr_u32(&w, f->u.hello.features);
		wr_u16(&w, f->u.hello.streams);
		rc = wr_name(&w, f->u.hello.name);
		if (f->u.hello.n_key_ids > FRAME_KEYIDS_MAX)
			return -EINVAL;
		wr_bytes(&w, f->u.hello.nonce, FRAME_NONCE_LEN);
		wr_u8(&w, f->u.hello.n_key_ids);
		for (size_t i = 0; i < f->u.hello.n_key_ids; i++)
			wr_bytes(&w, f->u.hello.key_ids[i], FRAME_KEYID_LEN);
		break;
	case FRAME_AUTH:
		wr_bytes(&w, f->u.proof, FRAME_PROOF_LEN);
		break;
	case FRAME_REKEY:
		wr_u8(&w, f->u.rekey.kind);
		wr_u8(&w, f->u.rekey.status);
		wr_bytes(&w, f->u.rekey.key_id, FRAME_KEYID_LEN);
		wr_bytes(&w, f->u.rekey.nonce, FRAME_NONCE_LEN);
		wr_bytes(&w, f->u.rekey.proof, FRAME_PROOF_LEN);
		break;
	case FRAME_OPEN:
		rc = encode_open(&w, &f->u.open);
		break;
	case FRAME_DATA:
		if (f->u.data.len == 0 || f->u.data.len > FRAME_DATA_MAX)
			return -EINVAL;
		wr_bytes(&w, f->u.data.bytes, f->u.data.len);
		break;
	case FRAME_DGRAM:
		if (f->u.data.len > FRAME_DATA_MAX)
			return -EINVAL;
		if (f->u.data.len > 0)
			wr_bytes(&w, f->u.data.bytes, f->u.data.len);
		break;
	case FRAME_RST:
		wr_u8(&w, (uint8_t)f->u.rst);
		break;
	case FRAME_OPEN_OK:
		if (f->u.window == 0)
			return -EINVAL;
		wr_u32(&w, f->u.window);
		break;
	case FRAME_CREDIT:
		if (f->u.credit == 0)
			return -EINVAL;
		wr_u32(&w, f->u.credit);
		break;
	case FRAME_FIN:
	case FRAME_CLOSED:
	case FRAME_GOAWAY:
		break;
	default:
		return -EINVAL;
	}
	if (rc < 0)
		return rc;
	if (w.err < 0)
		return w.err;
	return (ssize_t)(cap - w.left);
}

void frame_data_header(uint8_t *out)
{
	out[0] = FRAME_DATA;
	out[1] = 0;
}

void frame_dgram_header(uint8_t *out)
{
	out[0] = FRAME_DGRAM;
	out[1] = 0;
}

const char *frame_type_name(uint8_t type)
{
	switch (type) {
	case FRAME_HELLO:
		return "HELLO";
	case FRAME_AUTH:
		return "AUTH";
	case FRAME_GOAWAY:
		return "GOAWAY";
	case FRAME_REKEY:
		return "REKEY";
	case FRAME_OPEN:
		return "OPEN";
	case FRAME_OPEN_OK:
		return "OPEN_OK";
	case FRAME_DATA:
		return "DATA";
	case FRAME_FIN:
		return "FIN";
	case FRAME_RST:
		return "RST";
	case FRAME_CLOSED:
		return "CLOSED";
	case FRAME_CREDIT:
		return "CREDIT";
	case FRAME_DGRAM:
		return "DGRAM";
	}
	return "unknown";
}

const char *frame_rst_reason_name(enum frame_rst_reason r)
{
	static const char *const names[] = {
	    [FRAME_RST_OTHER] = "other",
	    [FRAME_RST_RESET] = "reset by peer",
	    [FRAME_RST_REFUSED] = "refused",
	    [FRAME_RST_TIMEOUT] = "timed out",
	    [FRAME_RST_UNREACHABLE] = "unreachable",
	    [FRAME_RST_RESOURCES] = "no resources",
	    [FRAME_RST_PROTOCOL] = "protocol error",
	    [FRAME_RST_SHUTDOWN] = "shutting down",
	    [FRAME_RST_NOT_ALLOWED] = "not allowed by [egress] allow",
	    [FRAME_RST_NO_NAME] = "host name did not resolve",
	    [FRAME_RST_DRAINING] = "draining",
	};
	return (unsigned)r < FRAME_RST_MAX_ && names[r] ? names[r] : "other";
}

bool frame_host_valid(const char *s)
{
	size_t n = strnlen(s, FRAME_HOST_MAX + 1), label = 0;
	if (n == 0 || n > FRAME_HOST_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char ch = s[i];
		if (ch == '.' || ch == '\0') {
			/* Empty labels (a leading, doubled or final dot) are not names. */
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		          (ch >= '0' && ch <= '9') || (ch == '-' && label > 0);
		if (!ok || ++label > 63)
			return false;
	}
	return true;
}

const char *frame_open_target_text(const struct frame_open *o, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (o->target.ss_family == AF_UNSPEC) {
		snprintf(buf, len, "%s:%u", o->host, o->host_port);
	} else if (o->target.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&o->target;
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof a);
		snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&o->target;
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof a);
		snprintf(buf, len, "[%s]:%u", a, ntohs(sin6->sin6_port));
	}
	return buf;
}
