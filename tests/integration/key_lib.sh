# key_lib.sh: key files for the key rotation scenarios (key_rotation.sh,
# key_rotation_live.sh); sourced after lib.sh.

# keyid FILE: the key id of FILE's first key, computed independently of
# sctpgw: HMAC-SHA256(key, "sctpgw key id"), 16 hex digits
keyid() {
    python3 -c 'import base64, hashlib, hmac, sys
k = [l for l in open(sys.argv[1]).read().split("\n") if l.strip() and not l.startswith("#")][0]
print(hmac.new(base64.b64decode(k), b"sctpgw key id", hashlib.sha256).hexdigest()[:16])' "$1"
}

# keyfile SIDE KEYS...: the side's key file ($WORK/psk-SIDE) holds these
# keys, in order; written aside and moved in place, as an operator would
keyfile() {
    local side=$1; shift
    (umask 077 && cat "$@" >"$WORK/psk-$side.new" && mv "$WORK/psk-$side.new" "$WORK/psk-$side")
}
