#!/usr/bin/env bash
# Prepares what docker-compose.yml needs and must never be committed:
#   deploy/mosquitto/certs/   CA and server certificate (make-certs.sh; hosts mosquitto, localhost, 127.0.0.1
#                             and any extra host names or IPs given as arguments: the name sensors dial)
#   deploy/mosquitto/passwd   logins aggregator, privacy-officer, s-001, s-002
#   .env                      (repository root) the passwords (MQTT, InfluxDB, Grafana) and the InfluxDB token,
#                             read by docker compose
# Existing files are kept, so running it again changes nothing (except adding to an older .env a variable it
# lacks); delete a file to make it anew.
#
#   deploy/mosquitto/setup-compose.sh [EXTRA_HOST_OR_IP ...]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
env_file="$root/.env"
passwd_file="$here/passwd"
certs="$here/certs"

command -v openssl >/dev/null || { echo "openssl is not installed (Debian package: openssl)" >&2; exit 1; }
command -v mosquitto_passwd >/dev/null || { echo "mosquitto_passwd is not installed (Debian package: mosquitto)" >&2; exit 1; }

secret() { openssl rand -hex 24; }

if [[ -s "$certs/server.crt" ]]; then
  echo "keeping $certs"
else
  "$here/make-certs.sh" "$certs" mosquitto localhost 127.0.0.1 "$@"
fi

if [[ -s "$env_file" ]]; then
  echo "keeping $env_file"
else
  (
    umask 077
    {
      echo "# Secrets for docker-compose.yml, made by deploy/mosquitto/setup-compose.sh. Never commit this file."
      echo "PASSANT_AGGREGATOR_MQTT_PASSWORD=$(secret)"
      echo "PASSANT_AUDIT_MQTT_PASSWORD=$(secret)"
      echo "PASSANT_S001_MQTT_PASSWORD=$(secret)"
      echo "PASSANT_S002_MQTT_PASSWORD=$(secret)"
      echo "PASSANT_INFLUX_TOKEN=$(secret)"
      echo "INFLUXDB_ADMIN_PASSWORD=$(secret)"
      echo "GRAFANA_ADMIN_PASSWORD=$(secret)"
    } >"$env_file"
  )
  echo "wrote $env_file"
fi
# Variables added to docker-compose.yml after an .env was made: appended, the existing ones are kept.
for name in GRAFANA_ADMIN_PASSWORD; do
  if ! grep -qE "^$name=" "$env_file"; then
    echo "$name=$(secret)" >>"$env_file"
    echo "added $name to $env_file"
  fi
done

value() { grep -E "^$1=" "$env_file" | tail -n 1 | cut -d= -f2-; }

if [[ -s "$passwd_file" ]]; then
  echo "keeping $passwd_file"
else
  (umask 027 && : >"$passwd_file")
  # Service logins (they have a `user` section in the ACL, so add-sensor.sh refuses them).
  printf '%s\n%s\n' "$(value PASSANT_AGGREGATOR_MQTT_PASSWORD)" "$(value PASSANT_AGGREGATOR_MQTT_PASSWORD)" \
    | mosquitto_passwd "$passwd_file" aggregator >/dev/null
  printf '%s\n%s\n' "$(value PASSANT_AUDIT_MQTT_PASSWORD)" "$(value PASSANT_AUDIT_MQTT_PASSWORD)" \
    | mosquitto_passwd "$passwd_file" privacy-officer >/dev/null
  PASSANT_SENSOR_PASSWORD="$(value PASSANT_S001_MQTT_PASSWORD)" "$here/add-sensor.sh" s-001 "$passwd_file" "$here/acl"
  PASSANT_SENSOR_PASSWORD="$(value PASSANT_S002_MQTT_PASSWORD)" "$here/add-sensor.sh" s-002 "$passwd_file" "$here/acl"
  echo "wrote $passwd_file"
fi

# The eclipse-mosquitto container runs the broker as uid/gid 1883, which must be able to read these files.
if [[ "$(id -u)" == "0" ]]; then
  chown 1883:1883 "$passwd_file" "$certs/server.key"
  chmod 0640 "$passwd_file" "$certs/server.key"
else
  echo "now let the container's broker (uid 1883) read its secrets:" >&2
  echo "  sudo chown 1883:1883 $passwd_file $certs/server.key" >&2
fi
echo "ready: docker compose up -d --build"
