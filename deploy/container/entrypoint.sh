#!/bin/sh
# The image's entrypoint: sets what the default config (/etc/switchyard/switchyard.yaml) reads
# about the admin API, then runs the command. A config of your own ignores these variables.
# - SWITCHYARD_ADMIN_TOKEN set: the admin API listens on 0.0.0.0:9901, behind that token.
# - not set: it stays on 127.0.0.1:9901 (the HEALTHCHECK and /metrics still answer there) and
#   write calls need a random token that never leaves the process, so nobody can change splits.
# An explicit SWITCHYARD_ADMIN_LISTEN wins; off loopback it needs a token, or the config is
# refused as naming a variable that is not set.
set -eu
if [ -n "${SWITCHYARD_ADMIN_TOKEN:-}" ]; then
  : "${SWITCHYARD_ADMIN_LISTEN:=0.0.0.0:9901}"
else
  : "${SWITCHYARD_ADMIN_LISTEN:=127.0.0.1:9901}"
  case "$SWITCHYARD_ADMIN_LISTEN" in
    127.* | localhost:* | "[::1]:"*)
      SWITCHYARD_ADMIN_TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
      export SWITCHYARD_ADMIN_TOKEN
      ;;
  esac
fi
export SWITCHYARD_ADMIN_LISTEN
exec "$@"
