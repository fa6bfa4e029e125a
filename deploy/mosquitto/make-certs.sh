#!/usr/bin/env bash
# Creates the Passant broker's TLS material with openssl: a private CA (kept if it already exists) and a server
# certificate signed by it for the given host names and IP addresses.
#
#   deploy/mosquitto/make-certs.sh OUT_DIR [HOST_OR_IP ...]
#
# Defaults to the hosts `mosquitto` (the docker-compose service), `localhost` and 127.0.0.1. Writes, in OUT_DIR:
#   ca.key      the CA's private key: keep it OFF the broker (it only signs); 0600
#   ca.crt      the CA certificate: copy it to every sensor and aggregator (their PASSANT_MQTT_CA_FILE)
#   server.key  the broker's private key; 0640 (the broker's user must be able to read it)
#   server.crt  the broker's certificate, valid for 825 days
# Re-running it renews the server certificate with the same CA, so sensors keep trusting the broker.
set -euo pipefail

if [[ $# -lt 1 || "$1" == "-h" || "$1" == "--help" ]]; then
  echo "usage: $0 OUT_DIR [HOST_OR_IP ...]" >&2
  exit 2
fi
out="$1"
shift
hosts=("$@")
if [[ ${#hosts[@]} -eq 0 ]]; then hosts=(mosquitto localhost 127.0.0.1); fi
command -v openssl >/dev/null || { echo "openssl is not installed (Debian package: openssl)" >&2; exit 1; }

mkdir -p "$out"
umask 077
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ -s "$out/ca.key" && -s "$out/ca.crt" ]]; then
  echo "keeping the existing CA in $out"
else
  openssl ecparam -name prime256v1 -genkey -noout -out "$out/ca.key"
  openssl req -x509 -new -sha256 -days 3650 -key "$out/ca.key" -out "$out/ca.crt" \
    -subj "/O=Passant/CN=Passant broker CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash"
  echo "created a new CA in $out"
fi

san=""
for h in "${hosts[@]}"; do
  if [[ "$h" =~ ^[0-9.]+$ || "$h" == *:* ]]; then san+="IP:$h,"; else san+="DNS:$h,"; fi
done
san="${san%,}"

cat >"$work/server.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san
authorityKeyIdentifier=keyid
EXT

openssl ecparam -name prime256v1 -genkey -noout -out "$work/server.key"
openssl req -new -sha256 -key "$work/server.key" -out "$work/server.csr" -subj "/O=Passant/CN=${hosts[0]}"
openssl x509 -req -sha256 -days 825 -in "$work/server.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
  -set_serial "0x$(openssl rand -hex 16)" -extfile "$work/server.ext" -out "$work/server.crt" 2>/dev/null

install -m 0640 "$work/server.key" "$out/server.key"
install -m 0644 "$work/server.crt" "$out/server.crt"
chmod 0644 "$out/ca.crt"
chmod 0600 "$out/ca.key"
openssl verify -CAfile "$out/ca.crt" "$out/server.crt" >/dev/null
echo "server certificate for ${hosts[*]} written to $out/server.crt"
