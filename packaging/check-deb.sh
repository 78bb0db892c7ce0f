#!/usr/bin/env bash
# Installs a built package and starts what its systemd unit starts, as its user, the way
# systemd would (with its environment file): /healthz must answer. Then removes it.
#   packaging/check-deb.sh target/debian/preau_*.deb
set -euo pipefail
deb=$1
dpkg -i "$deb" >/dev/null
unit=/lib/systemd/system/preau.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
test -n "$exec_start"
id preau >/dev/null
test -d /var/lib/preau
test "$(stat -c %U /var/lib/preau)" = preau
port=18080
env_file=$(mktemp)
grep -v '^PREAU_LISTEN=' /etc/preau/preau.env > "$env_file"
echo "PREAU_LISTEN=127.0.0.1:$port" >> "$env_file"
chmod 644 "$env_file"
runuser -u preau -- env $(grep -v '^#' "$env_file" | xargs) $exec_start > /tmp/preau-deb.log 2>&1 &
pid=$!
ok=""
for _ in $(seq 1 60); do
  if /usr/bin/python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=2).status == 200 else 1)" 2>/dev/null; then
    ok=1; break
  fi
  sleep 1
done
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
rm -f "$env_file"
man -w preau >/dev/null 2>&1 || test -f /usr/share/man/man1/preau.1.gz
dpkg --purge preau >/dev/null
if [ -z "$ok" ]; then
  echo "the packaged service did not answer /healthz:" >&2
  cat /tmp/preau-deb.log >&2
  exit 1
fi
echo "package installed, its service answered /healthz, package removed"
