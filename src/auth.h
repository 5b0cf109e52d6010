/*
 * auth: the association's handshake and the sealing of every message.
 *
 * Start here to see how two gateways trust each other (docs/SECURITY.md is
 * the design, docs/PROTOCOL.md the wire). Pure logic over byte spans on
 * top of crypto.h: assoc.c drives it, the unit tests drive it alone.
 *
 *   both: HELLO(nonce, key ids, features)  ->  auth_peer_hello()
 *           picks the key: the first of the connect side's keys that the
 *           accept side also holds; derives the keys with HKDF(psk,
 *           salt = nonce_connect || nonce_accept, info = "sctpgw v3" ||
 *           both names); returns our proof, an HMAC over both HELLOs
 *   both: AUTH(proof)                      ->  auth_peer_proof()
 *           checks the peer's proof; from here on every message is sealed
 *
 * Sealed message: u64 counter, then AES-256-GCM of the frame and its tag;
 * the counter is per direction and per stream, starts at 0 in each new
 * association and must arrive exactly in order (SCTP orders each stream),
 * so a replayed, reordered, moved or deleted message is seen.
 *
 * Datagrams (DGRAM frames) travel unordered and may be abandoned, so they
 * have a counter space of their own, told apart by its top bit:
 *
 *   63   62     61 ........ 40   39 ............ 0
 *   [1] [phase] [ flow generation ] [ datagram seq  ]
 *
 * The generation is the number of OPENs seen on the stream id in this
 * association (both sides count the same OPENs: auth_flow_begin), so a
 * late datagram of a flow that used the id before is refused; within a
 * generation a sliding window (replay.h) accepts each seq once, in any
 * order. Ordered frames keep the exact-order counter (top bit 0).
 *
 * Key rotation on a live association (REKEY, stream 0; docs/SECURITY.md):
 *
 *   connect: auth_rekey_request()  -> REKEY(key id, nonce_c)
 *   accept:  auth_rekey_on_request() -> REKEY-ACK(nonce_a, proof_a); it
 *            opens the new phase's messages from now on
 *   connect: auth_rekey_on_ack()   checks proof_a, seals in the new phase
 *            from now on -> REKEY-CONFIRM(proof_c)
 *   accept:  auth_rekey_on_confirm() checks proof_c, seals in the new phase
 *
 * New keys: HKDF(salt = nonce_c || nonce_a, ikm = session secret || new
 * psk, info = "sctpgw v4 rekey" || key id). Bit 62 of every counter is
 * the key phase the message was sealed in; the receiver keeps the other
 * phase's key until auth_rekey_erase_old() (a grace time after the switch,
 * for messages still in flight on other streams). Counters go on across
 * the switch, so the order and replay checks do not change.
 *
 *   OFF  --auth_begin()--> HELLO --auth_peer_hello()--> PROOF
 *   PROOF --auth_peer_proof() ok--> SEALED   (any failure: the assoc aborts)
 *   HELLO --both sides insecure--> OPEN (nothing sealed)
 */
#ifndef SCTPGW_AUTH_H
#define SCTPGW_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "frame.h"
#include "replay.h"

#define AUTH_COUNTER_LEN        8
#define AUTH_OVERHEAD           (AUTH_COUNTER_LEN + CRYPTO_TAG_LEN)
#define AUTH_HELLO_MAX          256 /* an encoded HELLO, with its extension */
#define AUTH_CHUNK_HANDSHAKE_ID 1   /* the handshake's SCTP-AUTH key number */

_Static_assert(AUTH_OVERHEAD == FRAME_SEAL_OVERHEAD, "frame.h knows the sealing overhead");

enum auth_state {
	AUTH_OFF,    /* no association */
	AUTH_HELLO,  /* our HELLO is out; waiting for the peer's */
	AUTH_PROOF,  /* keys derived, our proof sent; waiting for the peer's */
	AUTH_SEALED, /* the peer proved the key: every message is sealed */
	AUTH_OPEN,   /* both sides run insecure = yes: nothing is sealed */
};

struct auth_rekey;

struct auth {
	enum auth_state state;
	bool connect; /* our role */
	bool encrypt; /* encrypt = yes here */
	char name[FRAME_NAME_MAX + 1];
	struct crypto_psk keys[CRYPTO_PSK_KEYS];
	size_t n_keys; /* 0: insecure = yes */
	/* A reload's keys (psk_file read again), taken at the next
	 * auth_begin: a handshake under way keeps the keys it began with. */
	struct crypto_psk next_keys[CRYPTO_PSK_KEYS];
	size_t n_next_keys;
	bool have_next_keys;

	/* this association */
	uint8_t nonce[FRAME_NONCE_LEN];
	uint8_t hello[AUTH_HELLO_MAX]; /* our HELLO as sent */
	size_t hello_len;
	uint8_t peer_proof[CRYPTO_MAC_LEN]; /* what the peer must send */
	int key;                            /* index into keys, -1 before the choice */
	bool integrity_only;                /* both sides have encrypt = no */
	bool tx_sealed;                     /* our AUTH is out: seal what we send */
	struct crypto_aead *tx, *rx[2];     /* rx by key phase */
	uint64_t rx_opened[2];              /* messages opened under each phase's key */
	unsigned tx_phase;                  /* bit AUTH_PHASE_BIT of what we seal */
	uint64_t
	    tx_gen; /* moves on at every change of tx (a new object may reuse an old address) */
	uint8_t session[CRYPTO_KEY_LEN];  /* this association's secret: a rekey is bound to it */
	uint8_t key_id[CRYPTO_KEYID_LEN]; /* the pre-shared key in use */
	struct auth_rekey *rk;            /* a rotation under way, or NULL */
	uint64_t *tx_ctr, *rx_ctr;        /* per stream */
	size_t n_streams;
	/* Datagram counters, per stream (see above). */
	uint32_t *flow_gen;   /* OPENs on the id so far */
	uint64_t *dg_tx;      /* next datagram seq we send */
	struct replay *dg_rx; /* datagram seqs received */

	/* SCTP-AUTH (RFC 4895, docs/SECURITY.md): a shared key per key phase,
	 * HKDF output K_CHUNK of the handshake or of the rotation; the stack
	 * knows it as key number chunk_key_id[phase] (0: none): 1 for the
	 * handshake's, for a rotation's a number both sides compute from its
	 * nonces (never the one in use). chunk_fresh[phase]: a new key there,
	 * not yet in the engine. rekey.c (assoc_chunk_sync) installs it and
	 * makes tx_phase's active once sealed. */
	bool chunk_auth_here; /* our engine authenticates the chunks (HELLO bit) */
	bool chunk_auth;      /* both HELLOs said so */
	uint16_t chunk_key_id[2];
	uint8_t chunk_key[2][CRYPTO_KEY_LEN];
	bool chunk_fresh[2];
};

/* KEYS (N of them, 0 for insecure = yes) are copied. */
void auth_init(struct auth *x, bool connect, bool encrypt, const char *name,
               const struct crypto_psk *keys, size_t n);
/* Reload: KEYS (N, at least 1) are copied and used from the next
 * association on (at once when there is none), or by a rotation
 * (auth_rekey_request, which uses their first key); until then the
 * association keeps the session keys it derived. */
void auth_set_keys(struct auth *x, const struct crypto_psk *keys, size_t n);
/* Forget the association (keys wiped). */
void auth_reset(struct auth *x);
void auth_fini(struct auth *x);

/* A new association with STREAMS streams: a fresh nonce. 0 or -errno. */
int auth_begin(struct auth *x, uint16_t streams);
/* Put our nonce, key ids and features into H. */
void auth_fill_hello(const struct auth *x, struct frame_hello *h);
/* Our HELLO as it went out (the transcript needs the exact bytes). */
void auth_hello_sent(struct auth *x, const uint8_t *msg, size_t len);

/* The peer's HELLO (RAW as received, H decoded). 0: send PROOF in an AUTH
 * frame, then call auth_tx_start(); 1: both sides are insecure, nothing to
 * prove; -EACCES: no key in common, WHY says what (for the log). */
int auth_peer_hello(struct auth *x, const uint8_t *raw, size_t len, const struct frame_hello *h,
                    uint8_t proof[CRYPTO_MAC_LEN], char *why, size_t whylen);
/* Our AUTH was sent: seal everything from now on. */
void auth_tx_start(struct auth *x);
/* The peer's AUTH proof. 0, or -EACCES (wrong key or a replayed handshake). */
int auth_peer_proof(struct auth *x, const uint8_t proof[CRYPTO_MAC_LEN]);

/* Whether messages we send / receive on SID now are sealed. */
static inline bool auth_tx_sealed(const struct auth *x)
{
	return x->tx_sealed;
}
static inline bool auth_rx_sealed(const struct auth *x)
{
	return x->state == AUTH_SEALED;
}

/* Seal MSG (LEN bytes) for SID into OUT (LEN + AUTH_OVERHEAD bytes) with
 * the stream's next counter; *OUT_LEN gets the length. The counter moves
 * on only with auth_sent(), once the engine took the message: a message
 * the engine refused is sealed again under the same counter, and the one
 * it refused never left this process. 0 or -errno. */
int auth_seal(struct auth *x, uint16_t sid, const uint8_t *msg, size_t len, uint8_t *out,
              size_t *out_len);
void auth_sent(struct auth *x, uint16_t sid);

/* Open a sealed message from SID into OUT (LEN - AUTH_OVERHEAD bytes).
 * 0: an ordered message; 1: a datagram (its counter in the datagram
 * space, seen for the first time in the stream's current generation);
 * -EBADMSG: not authentic (forged, altered, or too short); -EALREADY:
 * authentic but an old counter (a replay); -ERANGE: authentic but past
 * the counter expected (messages are missing: the stream lost data; the
 * stream resynchronises after it); -ESTALE: an authentic datagram of an
 * earlier flow on this id, or below the replay window. Nothing is
 * delivered unless 0 or 1. */
int auth_open(struct auth *x, uint16_t sid, const uint8_t *in, size_t len, uint8_t *out,
              size_t *out_len);

/* Datagram counter space (see above); bit 62 is the key phase in both. */
#define AUTH_DGRAM_BIT      ((uint64_t)1 << 63)
#define AUTH_PHASE_BIT      ((uint64_t)1 << 62)
#define AUTH_DGRAM_GEN_BITS 22
#define AUTH_DGRAM_SEQ_BITS 40
#define AUTH_DGRAM_GEN_MAX  ((1u << AUTH_DGRAM_GEN_BITS) - 1)
#define AUTH_DGRAM_SEQ_MAX  (((uint64_t)1 << AUTH_DGRAM_SEQ_BITS) - 1)

/* An OPEN went out (after the engine took it) or came in on SID: a new
 * flow generation, datagram counters from 0 both ways. Works in every
 * state (insecure: nothing to do). -EOVERFLOW when the id has had
 * AUTH_DGRAM_GEN_MAX OPENs (the association must end before it reuses a
 * counter); 0 otherwise. */
int auth_flow_begin(struct auth *x, uint16_t sid);

/* Seal datagram frame MSG for SID under the next datagram counter, which
 * is used up whether or not the engine takes the message (datagrams are
 * dropped, never sent again). 0, -EINVAL when not sealing, -EOVERFLOW when
 * the flow has used every seq (the flow must end). */
int auth_seal_dgram(struct auth *x, uint16_t sid, const uint8_t *msg, size_t len, uint8_t *out,
                    size_t *out_len);

/* ---- key rotation (see above) ---- */

/* Connect side: start a rotation to the first key of the reloaded key
 * file (or of the keys in use): REQ gets the REKEY to send. 0; -EALREADY
 * when that key is the one in use (nothing to do); -EBUSY when a rotation
 * is under way; -EINVAL when not sealed or not the connect side. */
int auth_rekey_request(struct auth *x, struct frame_rekey *req);
/* Accept side: the peer's REKEY. 0: send ACK (status OK); -ENOKEY: we do
 * not hold the key (ACK says so; nothing changes); -EINVAL: not for this
 * side or state. */
int auth_rekey_on_request(struct auth *x, const struct frame_rekey *req, struct frame_rekey *ack);
/* Connect side: the peer's ACK. 0: we seal in the new phase from now on;
 * send CONFIRM. -ENOKEY (the peer lacks the key), -EACCES (bad proof),
 * -EINVAL (none asked): the rotation is over, the old keys stay. */
int auth_rekey_on_ack(struct auth *x, const struct frame_rekey *ack, struct frame_rekey *confirm);
/* Accept side: the peer's CONFIRM. 0: we seal in the new phase from now
 * on; -EACCES / -EINVAL: the old keys stay. */
int auth_rekey_on_confirm(struct auth *x, const struct frame_rekey *confirm);
/* Give up a rotation under way (no answer): the old keys stay. */
void auth_rekey_cancel(struct auth *x);
/* Erase the key of the phase we no longer receive in (after a grace time
 * for messages in flight). True when there was one. */
bool auth_rekey_erase_old(struct auth *x);

/* "AES-256-GCM", "integrity only (AES-256-GCM tag)" or "none". */
const char *auth_mode_name(const struct auth *x);

/* KEY's id as 16 hex digits into BUF (17 bytes). */
void auth_key_id_hex(const uint8_t id[CRYPTO_KEYID_LEN], char buf[17]);

#endif
