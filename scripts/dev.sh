#!/usr/bin/env bash
# make dev: a dev Vault (in memory) and tmplrun on examples/quickstart, in
# one terminal. Ctrl-C stops both. Needs bin/tmplrun and bin/vault-dev
# (make dev builds them).
#
#   VAULT_DEV_ADDR         host:port of the dev Vault (127.0.0.1:8200)
#   TMPLRUN_DEV_HTTP_ADDR  host:port of tmplrun's /v1/status and /metrics (127.0.0.1:9090)
#   VAULT_DEV_ROOT_TOKEN   the dev Vault's root token (root)
set -euo pipefail
cd "$(dirname "$0")/.."

addr=${VAULT_DEV_ADDR:-127.0.0.1:8200}
http_addr=${TMPLRUN_DEV_HTTP_ADDR:-127.0.0.1:9090}
root=${VAULT_DEV_ROOT_TOKEN:-root}
example=examples/quickstart
creds=$example/.creds

rm -rf "$creds"
# vault-dev runs in its own session, so that Ctrl-C reaches tmplrun alone:
# tmplrun stops its task and revokes the tokens while Vault is still up,
# then this script stops Vault.
setsid bin/vault-dev -addr "$addr" -root-token "$root" -creds-dir "$creds" &
vault_pid=$!
tmplrun_pid=
stop() {
  trap - INT TERM EXIT
  [ -n "$tmplrun_pid" ] && kill -TERM "$tmplrun_pid" 2>/dev/null && wait "$tmplrun_pid" 2>/dev/null || true
  kill -INT "$vault_pid" 2>/dev/null && wait "$vault_pid" 2>/dev/null || true
}
trap stop INT TERM EXIT

# Wait for vault-dev to have written the AppRole credentials.
for _ in $(seq 1 300); do
  [ -s "$creds/secret_id" ] && break
  kill -0 "$vault_pid" 2>/dev/null || { echo "make dev: vault-dev did not start (is $addr free? set VAULT_DEV_ADDR)"; exit 1; }
  sleep 0.1
done

cat <<MSG

================================================================================
 tmplrun is starting task "web" from $example/tmplrun.hcl.
 Its process prints local/app.conf every 4 seconds: greeting=hello.

 Change the secret, in another terminal:

   curl -s -H "X-Vault-Token: $root" -X POST -d '{"data":{"greeting":"bonjour"}}' http://$addr/v1/secret/data/web/config

 Within about 5 seconds tmplrun re-reads it, re-renders local/app.conf and
 restarts the task (change_mode = "restart"); the process then prints
 greeting=bonjour. Status: curl -s http://$http_addr/v1/status
 Ctrl-C stops tmplrun (the task gets SIGTERM, its token is revoked) and Vault.
================================================================================

MSG

bin/tmplrun run -http-addr "$http_addr" -var "vault_addr=http://$addr" "$example/tmplrun.hcl" &
tmplrun_pid=$!
wait "$tmplrun_pid" || true
tmplrun_pid=
