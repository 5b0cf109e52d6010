/* auth: see auth.h; docs/SECURITY.md explains every choice. */
#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char kdf_label[] = "sctpgw v3";
static const char proof_label[2][24] = {"sctpgw v3 proof connect", "sctpgw v3 proof accept"};

/* The keys HKDF gives one association, in this order. */
enum { K_CONNECT_TX, K_ACCEPT_TX, K_CONNECT_PROOF, K_ACCEPT_PROOF, K_SESSION, K_CHUNK, K_N };
/* HKDF's output does not depend on its length past what is read, so
 * K_CHUNK (the SCTP-AUTH key, added in 0.x) left every other key as it was. */

/* A rotation under way (auth.h). */
struct auth_rekey {
	bool acked; /* accept side: ACK sent, CONFIRM awaited */
	uint8_t key_id[CRYPTO_KEYID_LEN];
	struct crypto_psk psk;
	uint8_t nonce_c[FRAME_NONCE_LEN], nonce_a[FRAME_NONCE_LEN];
	uint8_t peer_proof[CRYPTO_MAC_LEN];
	uint8_t session[CRYPTO_KEY_LEN];
	struct crypto_aead *tx; /* accept side: in use from CONFIRM */
};

void auth_init(struct auth *x, bool connect, bool encrypt, const char *name,
               const struct crypto_psk *keys, size_t n)
{
	memset(x, 0, sizeof *x);
	x->connect = connect;
	x->encrypt = encrypt;
	x->key = -1;
	snprintf(x->name, sizeof x->name, "%s", name);
	x->n_keys = n > CRYPTO_PSK_KEYS ? CRYPTO_PSK_KEYS : n;
	memcpy(x->keys, keys, x->n_keys * sizeof *keys);
}

static void take_next_keys(struct auth *x)
{
	if (!x->have_next_keys)
		return;
	crypto_wipe(x->keys, sizeof x->keys);
	memcpy(x->keys, x->next_keys, sizeof x->keys);
	x->n_keys = x->n_next_keys;
	crypto_wipe(x->next_keys, sizeof x->next_keys);
	x->have_next_keys = false;
}

void auth_set_keys(struct auth *x, const struct crypto_psk *keys, size_t n)
{
	crypto_wipe(x->next_keys, sizeof x->next_keys);
	x->n_next_keys = n > CRYPTO_PSK_KEYS ? CRYPTO_PSK_KEYS : n;
	memcpy(x->next_keys, keys, x->n_next_keys * sizeof *keys);
	x->have_next_keys = true;
	if (x->state == AUTH_OFF)
		take_next_keys(x);
}

void auth_reset(struct auth *x)
{
	auth_rekey_cancel(x);
	crypto_aead_free(x->tx);
	crypto_aead_free(x->rx[0]);
	crypto_aead_free(x->rx[1]);
	free(x->tx_ctr);
	free(x->rx_ctr);
	free(x->flow_gen);
	free(x->dg_tx);
	free(x->dg_rx);
	x->tx = x->rx[0] = x->rx[1] = NULL;
	x->tx_gen++;
	x->tx_phase = 0;
	crypto_wipe(x->session, sizeof x->session);
	crypto_wipe(x->chunk_key, sizeof x->chunk_key);
	memset(x->chunk_key_id, 0, sizeof x->chunk_key_id);
	memset(x->chunk_fresh, 0, sizeof x->chunk_fresh);
	x->chunk_auth = false;
	x->chunk_auth_here = false;
	memset(x->key_id, 0, sizeof x->key_id);
	x->tx_ctr = x->rx_ctr = NULL;
	x->flow_gen = NULL;
	x->dg_tx = NULL;
	x->dg_rx = NULL;
	x->n_streams = 0;
	crypto_wipe(x->peer_proof, sizeof x->peer_proof);
	x->hello_len = 0;
	x->key = -1;
	x->integrity_only = false;
	x->tx_sealed = false;
	x->state = AUTH_OFF;
}

void auth_fini(struct auth *x)
{
	auth_reset(x);
	crypto_wipe(x->keys, sizeof x->keys);
	crypto_wipe(x->next_keys, sizeof x->next_keys);
}

int auth_begin(struct auth *x, uint16_t streams)
{
	auth_reset(x);
	take_next_keys(x);
	x->tx_ctr = calloc(streams, sizeof *x->tx_ctr);
	x->rx_ctr = calloc(streams, sizeof *x->rx_ctr);
	x->flow_gen = calloc(streams, sizeof *x->flow_gen);
	x->dg_tx = calloc(streams, sizeof *x->dg_tx);
	x->dg_rx = calloc(streams, sizeof *x->dg_rx);
	if (!x->tx_ctr || !x->rx_ctr || !x->flow_gen || !x->dg_tx || !x->dg_rx) {
		auth_reset(x);
		return -ENOMEM;
	}
	x->n_streams = streams;
	/* Without a key (insecure = yes) the nonce is never used: zeros. */
	int rc = x->n_keys ? crypto_random(x->nonce, sizeof x->nonce) : 0;
	if (rc < 0) {
		auth_reset(x);
		return rc;
	}
	x->state = AUTH_HELLO;
	return 0;
}

void auth_fill_hello(const struct auth *x, struct frame_hello *h)
{
	h->has_auth = true;
	memcpy(h->nonce, x->nonce, sizeof h->nonce);
	h->n_key_ids = (uint8_t)x->n_keys;
	for (size_t i = 0; i < x->n_keys; i++)
		memcpy(h->key_ids[i], x->keys[i].id, FRAME_KEYID_LEN);
	if (!x->encrypt)
		h->features |= FRAME_FEATURE_NO_ENCRYPT;
	if (x->chunk_auth_here)
		h->features |= FRAME_FEATURE_SCTP_AUTH;
}

static const char chunk_id_label[] = "sctpgw v4 sctp-auth key number";

/* The SCTP-AUTH key number of a rotation (1..65535; 0 is the null key),
 * the same on both sides whatever either saw of earlier rotations that
 * failed: from the rotation's nonces alone, skipping CUR, the number of
 * the key both send with now (docs/PROTOCOL.md, REKEY). */
static int chunk_id_of(const uint8_t nonce_c[FRAME_NONCE_LEN],
                       const uint8_t nonce_a[FRAME_NONCE_LEN], uint16_t cur, uint16_t *id)
{
	uint8_t n[2 * FRAME_NONCE_LEN], mac[CRYPTO_MAC_LEN];
	memcpy(n, nonce_c, FRAME_NONCE_LEN);
	memcpy(n + FRAME_NONCE_LEN, nonce_a, FRAME_NONCE_LEN);
	int rc = crypto_hmac((const uint8_t *)chunk_id_label, sizeof chunk_id_label - 1, n,
	                     sizeof n, mac);
	if (rc < 0)
		return rc;
	uint16_t v = (uint16_t)(1 + ((unsigned)mac[0] << 8 | mac[1]) % 65535u);
	*id = v == cur ? (uint16_t)(v % 65535u + 1) : v;
	return 0;
}

/* K's SCTP-AUTH key for key phase PHASE under number ID, when both sides
 * use SCTP-AUTH; chunk_fresh tells assoc to (re)install it. */
static void chunk_take(struct auth *x, unsigned phase, const uint8_t key[CRYPTO_KEY_LEN],
                       uint16_t id)
{
	if (!x->chunk_auth)
		return;
	memcpy(x->chunk_key[phase], key, CRYPTO_KEY_LEN);
	x->chunk_key_id[phase] = id;
	x->chunk_fresh[phase] = true;
}

void auth_hello_sent(struct auth *x, const uint8_t *msg, size_t len)
{
	x->hello_len = len <= sizeof x->hello ? len : 0;
	memcpy(x->hello, msg, x->hello_len);
}

void auth_key_id_hex(const uint8_t id[CRYPTO_KEYID_LEN], char buf[17])
{
	for (size_t i = 0; i < CRYPTO_KEYID_LEN; i++)
		snprintf(buf + 2 * i, 3, "%02x", id[i]);
}

static void ids_text(const uint8_t (*ids)[FRAME_KEYID_LEN], size_t n, char *buf, size_t len)
{
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && k < len; i++) {
		char hex[17];
		auth_key_id_hex(ids[i], hex);
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "", hex);
	}
	if (n == 0)
		snprintf(buf, len, "none");
}

/* MAC over both HELLOs, each with its length before it, connect side's
 * first: the transcript holds both nonces, roles, names, key ids and
 * features, so a proof fits one association and one direction only. */
static int proof_of(const uint8_t key[CRYPTO_KEY_LEN], bool connect_side, const uint8_t *hc,
                    size_t hc_len, const uint8_t *ha, size_t ha_len, uint8_t out[CRYPTO_MAC_LEN])
{
	uint8_t t[sizeof proof_label[0] + 4 + 2 * AUTH_HELLO_MAX];
	size_t n = 0;
	memcpy(t, proof_label[connect_side ? 0 : 1], sizeof proof_label[0]);
	n += sizeof proof_label[0];
	t[n++] = (uint8_t)(hc_len >> 8);
	t[n++] = (uint8_t)hc_len;
	memcpy(t + n, hc, hc_len);
	n += hc_len;
	t[n++] = (uint8_t)(ha_len >> 8);
	t[n++] = (uint8_t)ha_len;
	memcpy(t + n, ha, ha_len);
	n += ha_len;
	return crypto_hmac(key, CRYPTO_KEY_LEN, t, n, out);
}

int auth_peer_hello(struct auth *x, const uint8_t *raw, size_t len, const struct frame_hello *h,
                    uint8_t proof[CRYPTO_MAC_LEN], char *why, size_t whylen)
{
	char ours[64], theirs[64];
	if (x->state != AUTH_HELLO || len > AUTH_HELLO_MAX || x->hello_len == 0) {
		snprintf(why, whylen, "HELLO out of order");
		return -EACCES;
	}
	if (x->n_keys == 0 && h->n_key_ids == 0) {
		x->state = AUTH_OPEN;
		return 1;
	}
	if (h->n_key_ids == 0) {
		snprintf(why, whylen,
		         "the peer has no key (insecure = yes there) and we require one; give both "
		         "gateways the same psk_file");
		return -EACCES;
	}
	if (x->n_keys == 0) {
		snprintf(
		    why, whylen,
		    "the peer requires a key and we have none (insecure = yes here); give both "
		    "gateways the same psk_file");
		return -EACCES;
	}
	/* The connect side's order decides: it lists its current key first. */
	uint8_t own_ids[CRYPTO_PSK_KEYS][FRAME_KEYID_LEN];
	for (size_t i = 0; i < x->n_keys; i++)
		memcpy(own_ids[i], x->keys[i].id, FRAME_KEYID_LEN);
	x->key = -1;
	if (x->connect) {
		for (size_t i = 0; i < x->n_keys && x->key < 0; i++)
			for (size_t j = 0; j < h->n_key_ids; j++)
				if (memcmp(x->keys[i].id, h->key_ids[j], FRAME_KEYID_LEN) == 0)
					x->key = (int)i;
	} else {
		for (size_t j = 0; j < h->n_key_ids && x->key < 0; j++)
			for (size_t i = 0; i < x->n_keys; i++)
				if (memcmp(x->keys[i].id, h->key_ids[j], FRAME_KEYID_LEN) == 0)
					x->key = (int)i;
	}
	if (x->key < 0) {
		ids_text((const uint8_t(*)[FRAME_KEYID_LEN])own_ids, x->n_keys, ours, sizeof ours);
		ids_text((const uint8_t(*)[FRAME_KEYID_LEN])h->key_ids, h->n_key_ids, theirs,
		         sizeof theirs);
		snprintf(why, whylen,
		         "no key in common: the peer holds key id %s, we hold %s (psk_file differs "
		         "between the gateways)",
		         theirs, ours);
		return -EACCES;
	}

	const uint8_t *hc = x->connect ? x->hello : raw, *ha = x->connect ? raw : x->hello;
	size_t hc_len = x->connect ? x->hello_len : len, ha_len = x->connect ? len : x->hello_len;
	const uint8_t *nc = x->connect ? x->nonce : h->nonce,
	              *na = x->connect ? h->nonce : x->nonce;
	const char *name_c = x->connect ? x->name : h->name,
	           *name_a = x->connect ? h->name : x->name;

	uint8_t salt[2 * FRAME_NONCE_LEN];
	memcpy(salt, nc, FRAME_NONCE_LEN);
	memcpy(salt + FRAME_NONCE_LEN, na, FRAME_NONCE_LEN);
	uint8_t info[sizeof kdf_label + 2 * (FRAME_NAME_MAX + 1)];
	size_t n = sizeof kdf_label - 1, lc = strlen(name_c), la = strlen(name_a);
	memcpy(info, kdf_label, n);
	info[n++] = (uint8_t)lc;
	memcpy(info + n, name_c, lc);
	n += lc;
	info[n++] = (uint8_t)la;
	memcpy(info + n, name_a, la);
	n += la;

	uint8_t k[K_N][CRYPTO_KEY_LEN];
	const struct crypto_psk *psk = &x->keys[x->key];
	int rc = crypto_hkdf(salt, sizeof salt, psk->key, psk->len, info, n, &k[0][0], sizeof k);
	if (rc == 0)
		rc = proof_of(k[x->connect ? K_CONNECT_PROOF : K_ACCEPT_PROOF], x->connect, hc,
		              hc_len, ha, ha_len, proof);
	if (rc == 0)
		rc = proof_of(k[x->connect ? K_ACCEPT_PROOF : K_CONNECT_PROOF], !x->connect, hc,
		              hc_len, ha, ha_len, x->peer_proof);
	if (rc == 0) {
		x->tx = crypto_aead_new(k[x->connect ? K_CONNECT_TX : K_ACCEPT_TX], true);
		x->tx_gen++;
		x->rx[0] = crypto_aead_new(k[x->connect ? K_ACCEPT_TX : K_CONNECT_TX], false);
		if (!x->tx || !x->rx[0])
			rc = -ENOMEM;
		memcpy(x->session, k[K_SESSION], sizeof x->session);
		memcpy(x->key_id, psk->id, sizeof x->key_id);
		x->chunk_auth = x->chunk_auth_here && (h->features & FRAME_FEATURE_SCTP_AUTH);
		chunk_take(x, 0, k[K_CHUNK], AUTH_CHUNK_HANDSHAKE_ID);
	}
	crypto_wipe(k, sizeof k);
	if (rc < 0) {
		snprintf(why, whylen, "cannot derive the keys: %s", strerror(-rc));
		return -EACCES;
	}
	/* Integrity only when both sides say encrypt = no. */
	x->integrity_only = !x->encrypt && (h->features & FRAME_FEATURE_NO_ENCRYPT);
	x->state = AUTH_PROOF;
	return 0;
}

void auth_tx_start(struct auth *x)
{
	if (x->state == AUTH_PROOF)
		x->tx_sealed = true;
}

int auth_peer_proof(struct auth *x, const uint8_t proof[CRYPTO_MAC_LEN])
{
	if (x->state != AUTH_PROOF || !crypto_equal(proof, x->peer_proof, CRYPTO_MAC_LEN))
		return -EACCES;
	x->state = AUTH_SEALED;
	return 0;
}

/* IV = 2 zero bytes, the stream id, the counter: unique per key because
 * each (stream, counter) pair is used once per direction and association. */
static void make_iv(uint8_t iv[CRYPTO_IV_LEN], uint16_t sid, const uint8_t ctr[8])
{
	iv[0] = iv[1] = 0;
	iv[2] = (uint8_t)(sid >> 8);
	iv[3] = (uint8_t)sid;
	memcpy(iv + 4, ctr, 8);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int auth_seal(struct auth *x, uint16_t sid, const uint8_t *msg, size_t len, uint8_t *out,
              size_t *out_len)
{
	if (!x->tx_sealed || sid >= x->n_streams)
		return -EINVAL;
	uint8_t iv[CRYPTO_IV_LEN];
	put_u64(out, x->tx_ctr[sid] | (x->tx_phase ? AUTH_PHASE_BIT : 0));
	make_iv(iv, sid, out);
	int rc;
	if (x->integrity_only) {
		/* The frame travels in clear; the tag covers counter, stream and it. */
		memcpy(out + AUTH_COUNTER_LEN, msg, len);
		rc = crypto_aead_seal(x->tx, iv, out, AUTH_COUNTER_LEN + len, NULL, 0,
		                      out + AUTH_COUNTER_LEN + len);
	} else {
		rc = crypto_aead_seal(x->tx, iv, out, AUTH_COUNTER_LEN, msg, len,
		                      out + AUTH_COUNTER_LEN);
	}
	if (rc < 0)
		return rc;
	*out_len = len + AUTH_OVERHEAD;
	return 0;
}

int auth_flow_begin(struct auth *x, uint16_t sid)
{
	if (sid >= x->n_streams)
		return 0;
	if (x->flow_gen[sid] >= AUTH_DGRAM_GEN_MAX)
		return -EOVERFLOW;
	x->flow_gen[sid]++;
	x->dg_tx[sid] = 0;
	replay_reset(&x->dg_rx[sid]);
	return 0;
}

static uint64_t dgram_ctr(uint32_t gen, uint64_t seq)
{
	return AUTH_DGRAM_BIT | (uint64_t)gen << AUTH_DGRAM_SEQ_BITS | seq;
}

int auth_seal_dgram(struct auth *x, uint16_t sid, const uint8_t *msg, size_t len, uint8_t *out,
                    size_t *out_len)
{
	if (!x->tx_sealed || sid >= x->n_streams)
		return -EINVAL;
	if (x->dg_tx[sid] > AUTH_DGRAM_SEQ_MAX)
		return -EOVERFLOW;
	/* auth_seal with the datagram counter: the same IV layout, and the
	 * top bit keeps it apart from every ordered counter. */
	uint64_t saved = x->tx_ctr[sid];
	x->tx_ctr[sid] = dgram_ctr(x->flow_gen[sid], x->dg_tx[sid]++);
	int rc = auth_seal(x, sid, msg, len, out, out_len);
	x->tx_ctr[sid] = saved;
	return rc;
}

void auth_sent(struct auth *x, uint16_t sid)
{
	if (sid < x->n_streams)
		x->tx_ctr[sid]++;
}

int auth_open(struct auth *x, uint16_t sid, const uint8_t *in, size_t len, uint8_t *out,
              size_t *out_len)
{
	if (x->state != AUTH_SEALED || sid >= x->n_streams || len < AUTH_OVERHEAD)
		return -EBADMSG;
	uint8_t iv[CRYPTO_IV_LEN];
	make_iv(iv, sid, in);
	size_t n = len - AUTH_OVERHEAD;
	uint64_t ctr = get_u64(in);
	/* The key phase it was sealed in; that phase's key may be gone. */
	unsigned phase = (ctr & AUTH_PHASE_BIT) ? 1 : 0;
	struct crypto_aead *rx = x->rx[phase];
	ctr &= ~AUTH_PHASE_BIT;
	if (!rx)
		return -EBADMSG;
	int rc;
	if (x->integrity_only) {
		rc = crypto_aead_open(rx, iv, in, AUTH_COUNTER_LEN + n, in + AUTH_COUNTER_LEN + n,
		                      CRYPTO_TAG_LEN, NULL);
		if (rc == 0)
			memcpy(out, in + AUTH_COUNTER_LEN, n);
	} else {
		rc = crypto_aead_open(rx, iv, in, AUTH_COUNTER_LEN, in + AUTH_COUNTER_LEN,
		                      n + CRYPTO_TAG_LEN, out);
	}
	if (rc < 0)
		return -EBADMSG;
	x->rx_opened[phase]++;
	if (ctr & AUTH_DGRAM_BIT) {
		uint32_t gen = (uint32_t)((ctr & ~AUTH_DGRAM_BIT) >> AUTH_DGRAM_SEQ_BITS);
		uint64_t seq = ctr & AUTH_DGRAM_SEQ_MAX;
		if (gen != x->flow_gen[sid])
			return -ESTALE;
		rc = replay_check(&x->dg_rx[sid], seq);
		if (rc < 0)
			return rc;
		replay_mark(&x->dg_rx[sid], seq);
		*out_len = n;
		return 1;
	}
	if (ctr < x->rx_ctr[sid])
		return -EALREADY;
	if (ctr > x->rx_ctr[sid]) {
		x->rx_ctr[sid] = ctr + 1;
		return -ERANGE;
	}
	x->rx_ctr[sid]++;
	*out_len = n;
	return 0;
}

const char *auth_mode_name(const struct auth *x)
{
	if (x->state == AUTH_OPEN)
		return "none (insecure = yes on both gateways)";
	return x->integrity_only ? "integrity only (AES-256-GCM tag; encrypt = no on both gateways)"
	                         : "AES-256-GCM";
}

/* ---- key rotation (auth.h) ---------------------------------------------- */

static const char rekey_label[] = "sctpgw v4 rekey";
static const char rekey_proof_label[2][32] = {"sctpgw v4 rekey proof connect",
                                              "sctpgw v4 rekey proof accept"};

void auth_rekey_cancel(struct auth *x)
{
	if (!x->rk)
		return;
	crypto_aead_free(x->rk->tx);
	crypto_wipe(x->rk, sizeof *x->rk);
	free(x->rk);
	x->rk = NULL;
}

/* The keys the next rotation may use: a reload's, else those in use. */
static const struct crypto_psk *rekey_keys(const struct auth *x, size_t *n)
{
	*n = x->have_next_keys ? x->n_next_keys : x->n_keys;
	return x->have_next_keys ? x->next_keys : x->keys;
}

/* The rotation's keys K from its PSK, both nonces and the session secret,
 * and both proofs over (key id, nonce_c, nonce_a): ours into MINE, the
 * peer's into rk->peer_proof. */
static int rekey_derive(struct auth *x, uint8_t k[K_N][CRYPTO_KEY_LEN],
                        uint8_t mine[CRYPTO_MAC_LEN])
{
	struct auth_rekey *r = x->rk;
	uint8_t salt[2 * FRAME_NONCE_LEN], ikm[CRYPTO_KEY_LEN + CRYPTO_PSK_MAX_LEN];
	uint8_t info[sizeof rekey_label + CRYPTO_KEYID_LEN];
	memcpy(salt, r->nonce_c, FRAME_NONCE_LEN);
	memcpy(salt + FRAME_NONCE_LEN, r->nonce_a, FRAME_NONCE_LEN);
	memcpy(ikm, x->session, CRYPTO_KEY_LEN);
	memcpy(ikm + CRYPTO_KEY_LEN, r->psk.key, r->psk.len);
	memcpy(info, rekey_label, sizeof rekey_label - 1);
	memcpy(info + sizeof rekey_label - 1, r->key_id, CRYPTO_KEYID_LEN);
	int rc =
	    crypto_hkdf(salt, sizeof salt, ikm, CRYPTO_KEY_LEN + r->psk.len, info,
	                sizeof rekey_label - 1 + CRYPTO_KEYID_LEN, &k[0][0], K_N * CRYPTO_KEY_LEN);
	crypto_wipe(ikm, sizeof ikm);
	uint8_t t[sizeof rekey_proof_label[0] + CRYPTO_KEYID_LEN + 2 * FRAME_NONCE_LEN];
	memcpy(t + sizeof rekey_proof_label[0], r->key_id, CRYPTO_KEYID_LEN);
	memcpy(t + sizeof rekey_proof_label[0] + CRYPTO_KEYID_LEN, salt, sizeof salt);
	for (int side = 0; side < 2 && rc == 0; side++) {
		bool connect_side = side == 0;
		memcpy(t, rekey_proof_label[side], sizeof rekey_proof_label[0]);
		rc = crypto_hmac(k[connect_side ? K_CONNECT_PROOF : K_ACCEPT_PROOF], CRYPTO_KEY_LEN,
		                 t, sizeof t, connect_side == x->connect ? mine : r->peer_proof);
	}
	memcpy(r->session, k[K_SESSION], CRYPTO_KEY_LEN);
	return rc;
}

/* The rotation succeeded: its PSK and session secret are in use; a
 * reload's keys are taken (the rotation used them). */
static void rekey_done(struct auth *x)
{
	memcpy(x->session, x->rk->session, sizeof x->session);
	memcpy(x->key_id, x->rk->key_id, sizeof x->key_id);
	take_next_keys(x);
	x->key = -1;
	for (size_t i = 0; i < x->n_keys; i++)
		if (crypto_equal(x->keys[i].id, x->key_id, CRYPTO_KEYID_LEN))
			x->key = (int)i;
	auth_rekey_cancel(x);
}

/* Install K's receive key in the phase we do not send in yet. */
static int rekey_install_rx(struct auth *x, uint8_t k[K_N][CRYPTO_KEY_LEN])
{
	struct crypto_aead *rx = crypto_aead_new(k[x->connect ? K_ACCEPT_TX : K_CONNECT_TX], false);
	if (!rx)
		return -ENOMEM;
	unsigned next = x->tx_phase ^ 1;
	uint16_t id = 0;
	int rc = x->chunk_auth ? chunk_id_of(x->rk->nonce_c, x->rk->nonce_a,
	                                     x->chunk_key_id[x->tx_phase], &id)
	                       : 0;
	if (rc < 0) {
		crypto_aead_free(rx);
		return rc;
	}
	crypto_aead_free(x->rx[next]); /* a previous rotation's old key */
	x->rx[next] = rx;
	chunk_take(x, next, k[K_CHUNK], id);
	return 0;
}

/* After rekey_derive gave K (RC its result): our new sending key into *TX
 * and the peer's into the next phase; K is wiped. On failure nothing new
 * stays and the rotation is over. */
static int rekey_take(struct auth *x, uint8_t k[K_N][CRYPTO_KEY_LEN], int rc,
                      struct crypto_aead **tx)
{
	if (rc == 0 && !(*tx = crypto_aead_new(k[x->connect ? K_CONNECT_TX : K_ACCEPT_TX], true)))
		rc = -ENOMEM;
	if (rc == 0)
		rc = rekey_install_rx(x, k);
	crypto_wipe(k, K_N * CRYPTO_KEY_LEN);
	if (rc < 0) {
		crypto_aead_free(*tx);
		*tx = NULL;
		auth_rekey_cancel(x);
	}
	return rc;
}

int auth_rekey_request(struct auth *x, struct frame_rekey *req)
{
	size_t n;
	const struct crypto_psk *keys = rekey_keys(x, &n);
	if (!x->connect || x->state != AUTH_SEALED || n == 0)
		return -EINVAL;
	if (x->rk)
		return -EBUSY;
	if (crypto_equal(keys[0].id, x->key_id, CRYPTO_KEYID_LEN))
		return -EALREADY;
	struct auth_rekey *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	r->psk = keys[0];
	memcpy(r->key_id, keys[0].id, CRYPTO_KEYID_LEN);
	if (crypto_random(r->nonce_c, sizeof r->nonce_c) < 0) {
		crypto_wipe(r, sizeof *r);
		free(r);
		return -EIO;
	}
	x->rk = r;
	memset(req, 0, sizeof *req);
	req->kind = FRAME_REKEY_REQUEST;
	memcpy(req->key_id, r->key_id, FRAME_KEYID_LEN);
	memcpy(req->nonce, r->nonce_c, FRAME_NONCE_LEN);
	return 0;
}

int auth_rekey_on_request(struct auth *x, const struct frame_rekey *req, struct frame_rekey *ack)
{
	memset(ack, 0, sizeof *ack);
	ack->kind = FRAME_REKEY_ACK;
	if (x->connect || x->state != AUTH_SEALED || req->kind != FRAME_REKEY_REQUEST)
		return -EINVAL;
	/* A new REQUEST replaces one whose CONFIRM never came. */
	auth_rekey_cancel(x);
	size_t n;
	const struct crypto_psk *keys = rekey_keys(x, &n);
	const struct crypto_psk *psk = NULL;
	for (size_t i = 0; i < n && !psk; i++)
		if (crypto_equal(keys[i].id, req->key_id, CRYPTO_KEYID_LEN))
			psk = &keys[i];
	memcpy(ack->key_id, req->key_id, FRAME_KEYID_LEN);
	if (!psk) {
		ack->status = FRAME_REKEY_NO_KEY;
		return -ENOKEY;
	}
	struct auth_rekey *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	x->rk = r;
	r->psk = *psk;
	memcpy(r->key_id, req->key_id, CRYPTO_KEYID_LEN);
	memcpy(r->nonce_c, req->nonce, FRAME_NONCE_LEN);
	uint8_t k[K_N][CRYPTO_KEY_LEN];
	int rc = crypto_random(r->nonce_a, sizeof r->nonce_a);
	if (rc == 0)
		rc = rekey_derive(x, k, ack->proof);
	rc = rekey_take(x, k, rc, &r->tx);
	if (rc < 0) {
		memset(ack->proof, 0, sizeof ack->proof);
		ack->status = FRAME_REKEY_NO_KEY;
		return rc;
	}
	r->acked = true;
	memcpy(ack->nonce, r->nonce_a, FRAME_NONCE_LEN);
	return 0;
}

int auth_rekey_on_ack(struct auth *x, const struct frame_rekey *ack, struct frame_rekey *confirm)
{
	struct auth_rekey *r = x->rk;
	if (!x->connect || !r || ack->kind != FRAME_REKEY_ACK ||
	    !crypto_equal(ack->key_id, r->key_id, CRYPTO_KEYID_LEN))
		return -EINVAL;
	if (ack->status != FRAME_REKEY_OK) {
		auth_rekey_cancel(x);
		return -ENOKEY;
	}
	memcpy(r->nonce_a, ack->nonce, FRAME_NONCE_LEN);
	uint8_t k[K_N][CRYPTO_KEY_LEN];
	memset(confirm, 0, sizeof *confirm);
	confirm->kind = FRAME_REKEY_CONFIRM;
	memcpy(confirm->key_id, r->key_id, FRAME_KEYID_LEN);
	int rc = rekey_derive(x, k, confirm->proof);
	if (rc == 0 && !crypto_equal(ack->proof, r->peer_proof, CRYPTO_MAC_LEN))
		rc = -EACCES;
	struct crypto_aead *tx = NULL;
	rc = rekey_take(x, k, rc, &tx);
	if (rc < 0)
		return rc;
	crypto_aead_free(x->tx); /* the old sending key is gone at once */
	x->tx = tx;
	x->tx_gen++;
	x->tx_phase ^= 1;
	rekey_done(x);
	return 0;
}

int auth_rekey_on_confirm(struct auth *x, const struct frame_rekey *confirm)
{
	struct auth_rekey *r = x->rk;
	if (x->connect || !r || !r->acked || confirm->kind != FRAME_REKEY_CONFIRM ||
	    !crypto_equal(confirm->key_id, r->key_id, CRYPTO_KEYID_LEN))
		return -EINVAL;
	if (!crypto_equal(confirm->proof, r->peer_proof, CRYPTO_MAC_LEN)) {
		/* The new receive key goes too: only the old keys stay. */
		crypto_aead_free(x->rx[x->tx_phase ^ 1]);
		x->rx[x->tx_phase ^ 1] = NULL;
		auth_rekey_cancel(x);
		return -EACCES;
	}
	crypto_aead_free(x->tx);
	x->tx = r->tx;
	x->tx_gen++;
	r->tx = NULL;
	x->tx_phase ^= 1;
	rekey_done(x);
	return 0;
}

bool auth_rekey_erase_old(struct auth *x)
{
	/* Not while the accept side waits for CONFIRM: the other phase's
	 * key is then the new one. */
	if (x->rk && x->rk->acked)
		return false;
	unsigned old = x->tx_phase ^ 1;
	if (!x->rx[old])
		return false;
	crypto_aead_free(x->rx[old]);
	x->rx[old] = NULL;
	return true;
}
