#!/usr/bin/env bash
# Adds (or changes) the broker login of one sensor.
#
#   deploy/mosquitto/add-sensor.sh SENSOR_ID [PASSWORD_FILE] [ACL_FILE]
#
# PASSWORD_FILE defaults to passwd next to this script, ACL_FILE to acl next to this script.
# The login name is the sensor id itself; the ACL's pattern lines (passant/sensors/%u/counts and .../status)
# then let this login write its own topics and nothing else, so the ACL needs no per-sensor line: this script
# only checks that the ACL grants it and that the id is not one of the service logins (a `user` section).
# The password comes from the environment variable PASSANT_SENSOR_PASSWORD, or is generated (24 random bytes,
# base64) and printed once on stdout: put it in that sensor's PASSANT_MQTT_PASSWORD. It is handed to
# mosquitto_passwd on stdin, never on a command line (where `ps` would show it).
# Afterwards, make the running broker reload its password file: `docker compose kill -s HUP mosquitto`
# or `systemctl reload mosquitto`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $# -lt 1 || "$1" == "-h" || "$1" == "--help" ]]; then
  echo "usage: $0 SENSOR_ID [PASSWORD_FILE] [ACL_FILE]" >&2
  exit 2
fi
id="$1"
passwd_file="${2:-$here/passwd}"
acl_file="${3:-$here/acl}"

# The same rule as ID_PATTERN in shared/src/ids.ts.
if ! [[ "$id" =~ ^[a-z0-9][a-z0-9-]{0,63}$ ]]; then
  echo "sensor id '$id' is not valid: use 1 to 64 characters a-z, 0-9 and '-', starting with a letter or digit" >&2
  exit 1
fi
command -v mosquitto_passwd >/dev/null || { echo "mosquitto_passwd is not installed (Debian package: mosquitto)" >&2; exit 1; }
if [[ ! -r "$acl_file" ]]; then
  echo "ACL file $acl_file not found" >&2
  exit 1
fi
for channel in counts status; do
  if ! grep -Eq "^pattern[[:space:]]+(write|readwrite)[[:space:]]+passant/sensors/%u/$channel[[:space:]]*$" "$acl_file"; then
    echo "$acl_file has no line 'pattern write passant/sensors/%u/$channel': a sensor login would have no access" >&2
    exit 1
  fi
done
if grep -Eq "^user[[:space:]]+$id[[:space:]]*$" "$acl_file"; then
  echo "'$id' is a service login in $acl_file (a 'user' section), not a sensor: choose another sensor id" >&2
  exit 1
fi

generated=0
password="${PASSANT_SENSOR_PASSWORD:-}"
if [[ -z "$password" ]]; then
  command -v openssl >/dev/null || { echo "openssl is needed to generate a password (Debian package: openssl); or set PASSANT_SENSOR_PASSWORD" >&2; exit 1; }
  password="$(openssl rand -base64 24)"
  generated=1
fi
if [[ "$password" == *$'\n'* ]]; then
  echo "the password must be one line" >&2
  exit 1
fi

if [[ ! -e "$passwd_file" ]]; then
  (umask 027 && : >"$passwd_file")
fi
printf '%s\n%s\n' "$password" "$password" | mosquitto_passwd "$passwd_file" "$id" >/dev/null 2>&1 || {
  echo "mosquitto_passwd could not write the login of '$id' to $passwd_file" >&2
  exit 1
}

echo "login '$id' written to $passwd_file; reload the broker (SIGHUP) to use it" >&2
if [[ $generated -eq 1 ]]; then
  printf '%s\n' "$password"
fi
