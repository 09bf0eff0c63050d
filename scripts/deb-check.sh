#!/usr/bin/env bash
# The Debian package from end to end, by hand (about 10 minutes; too slow for CI): builds the
# package twice (this tree as version V, and as V+debcheck1, the "new" one), runs lintian,
# then in a fresh Debian 12 booted with systemd (debootstrap, systemd-nspawn -b): installs V
# with `apt install ./mlagw_*.deb`, checks the user mlagw, makes a State's keys and a minimal
# configuration with the installed `mlagw pki init`, creates the store as mlagw, starts
# mlagwd.service, asks /healthz, queues a message; then upgrades to V+debcheck1 with the
# service running (restarted, store, messages and a modified conffile kept), and once more
# from a store of schema 13 (store_fault make-v13, as an mlagw before schema 14 left it):
# upgraded in place after a backup. Prints each step's outcome; exits non-zero at the first
# failure. Run as root on Debian 12.
#   scripts/deb-check.sh [WORK_DIR]      default /var/tmp/mlagw-deb-check (kept: the packages,
#                                        the logs, the root file system's tarball for reruns)
# DEB_CHECK_KEEP=1 leaves the container running at the end (nsenter -t PID -a to look in);
# DEB_CHECK_SKIP_BUILD=1 reuses the packages of an earlier run.
set -euo pipefail
cd "$(dirname "$0")/.."
TREE=$(pwd)
W=${1:-/var/tmp/mlagw-deb-check}
mkdir -p "$W"
W=$(cd "$W" && pwd)
LOG=$W/log
mkdir -p "$LOG"
step=0
say() { step=$((step + 1)); printf '\n[%d] %s\n' "$step" "$*"; }
ok() { printf '  ok: %s\n' "$*"; }
die() { printf '  FAILED: %s\n' "$*" >&2; exit 1; }

say "Build tools (apt-get: devscripts debhelper lintian dpkg-dev build-essential fakeroot debootstrap systemd-container) and the build dependencies (scripts/setup.sh)"
TOOLS=(devscripts debhelper lintian dpkg-dev build-essential fakeroot debootstrap
       systemd-container scdoc libdistro-info-perl)
missing=()
for p in "${TOOLS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${missing[@]}" > "$LOG/apt-tools.log"
fi
scripts/setup.sh
ok "$(dpkg-query -W -f='debhelper ${Version}, lintian ' debhelper)$(dpkg-query -W -f='${Version}' lintian)"

VERSION=$(dpkg-parsechangelog -l debian/changelog -S Version)
NEW=$VERSION+debcheck1

# build VERSION DIR: the tree's files (tracked and new, not ignored) built into DIR/*.deb
build() {
  local v=$1 out=$2 src=$2/mlagw-$1
  rm -rf "$out" && mkdir -p "$src"
  git ls-files -co --exclude-standard -z | tar -cf - --null -T - | tar -xf - -C "$src"
  if [ "$v" != "$VERSION" ]; then
    (cd "$src" && DEBFULLNAME="mlagw deb-check" DEBEMAIL="deb-check@localhost" \
      dch -v "$v" -D unstable "deb-check: the same tree as $VERSION, a newer version" 2>/dev/null)
  fi
  # nocheck: the test suite (20 minutes) is not run; the nocheck profile drops its build
  # dependencies and configures -Dtests=false (debian/rules)
  (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
    nice dpkg-buildpackage -us -uc -b -Pnocheck) > "$LOG/build-$v.log" 2>&1 ||
    { tail -30 "$LOG/build-$v.log"; die "dpkg-buildpackage of $v (log: $LOG/build-$v.log)"; }
  rm -rf "$src"
}

say "dpkg-buildpackage -us -uc -b of $VERSION and $NEW (DEB_BUILD_OPTIONS=nocheck: the test suite is not run)"
if [ "${DEB_CHECK_SKIP_BUILD:-0}" = 1 ] && [ -f "$W/old/mlagw_${VERSION}_amd64.changes" ] &&
   [ -f "$W/new/mlagw_${NEW}_amd64.changes" ]; then
  ok "DEB_CHECK_SKIP_BUILD=1: the packages of an earlier run"
else
  t0=$(date +%s)
  build "$VERSION" "$W/old"
  t1=$(date +%s)
  build "$NEW" "$W/new"
  t2=$(date +%s)
  ok "$VERSION built in $((t1 - t0)) s, $NEW in $((t2 - t1)) s"
fi
(cd "$W/old" && ls -l ./*.deb | sed 's/^/  /')
dpkg-deb -c "$W/old/mlagw_${VERSION}_amd64.deb" | awk '{print "    " $1, $2, $6}'

say "lintian (errors fail this step; warnings are listed)"
lintian --info "$W/old/mlagw_${VERSION}_amd64.changes" > "$LOG/lintian.txt" 2>&1 || true
grep -v '^N:' "$LOG/lintian.txt" | sed 's/^/  /' || true
if grep -q '^E:' "$LOG/lintian.txt"; then die "lintian errors"; fi
ok "no lintian error ($(grep -c '^W:' "$LOG/lintian.txt" || true) warnings)"

say "A fresh Debian 12 (debootstrap bookworm, minbase + systemd), booted by systemd-nspawn -b"
if [ ! -f "$W/rootfs.tar" ]; then
  rm -rf "$W/rootfs"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,ca-certificates,curl \
    bookworm "$W/rootfs" http://deb.debian.org/debian > "$LOG/debootstrap.log" 2>&1 ||
    die "debootstrap (log: $LOG/debootstrap.log)"
  tar -C "$W/rootfs" -cf "$W/rootfs.tar" .
  rm -rf "$W/rootfs"
fi
M=$W/machine
NSPID=
stop_machine() {
  if [ -n "$NSPID" ] && kill -0 "$NSPID" 2>/dev/null; then
    kill -TERM "$NSPID" 2>/dev/null || true  # systemd-nspawn powers the container off
    for _ in $(seq 1 100); do kill -0 "$NSPID" 2>/dev/null || break; sleep 0.2; done
  fi
}
[ "${DEB_CHECK_KEEP:-0}" = 1 ] || trap stop_machine EXIT
rm -rf "$M" && mkdir -p "$M"
tar -C "$M" -xf "$W/rootfs.tar"
echo mlagw-deb-check > "$M/etc/hostname"
mkdir -p "$M/root/pkg"
cp "$W/old/"*.deb "$W/new/"*.deb "$M/root/pkg/"
mkdir -p "$M/usr/local/bin"  # the test tool, for the user mlagw (not in the package)
if [ ! -x "$TREE/build/tests/tools/store_fault" ]; then  # a fresh clone: build just the tool
  { [ -f "$TREE/build/build.ninja" ] || meson setup "$TREE/build" "$TREE"; } > "$LOG/tool-build.log" 2>&1 &&
    ninja -C "$TREE/build" tests/tools/store_fault >> "$LOG/tool-build.log" 2>&1 ||
    die "cannot build the test tool store_fault (see $LOG/tool-build.log)"
fi
cp "$TREE/build/tests/tools/store_fault" "$M/usr/local/bin/store_fault" ||
  die "cannot copy build/tests/tools/store_fault into the container"
# the host's network (the container's apt reaches the mirrors), no registration with machined
# and no scope unit of its own (PID 1 here need not be systemd), the console on a log file
# nspawn's own system-call filter lacks Landlock's calls: allowed, as a host's kernel would
systemd-nspawn -q -D "$M" --register=no --keep-unit -M mlagw-deb-check --console=passive -b \
  --system-call-filter='landlock_create_ruleset landlock_add_rule landlock_restrict_self' \
  > "$LOG/nspawn.log" 2>&1 &
NSPID=$!
CPID=
for _ in $(seq 1 100); do
  CPID=$(pgrep -P "$NSPID" -x systemd || true)
  [ -n "$CPID" ] && break
  sleep 0.2
done
[ -n "$CPID" ] || { tail -20 "$LOG/nspawn.log"; die "systemd-nspawn -b did not start systemd"; }
c_run() { nsenter -t "$CPID" -a "$@"; }
c_sh() { nsenter -t "$CPID" -a bash -c "$1"; }
state=
for _ in $(seq 1 120); do  # its bus answers only some time after PID 1 is there
  state=$(c_run systemctl is-system-running --wait 2>/dev/null || true)
  [ "$state" = running ] || [ "$state" = degraded ] && break
  sleep 0.5
done
[ "$state" = running ] || [ "$state" = degraded ] ||
  { tail -20 "$LOG/nspawn.log"; die "the container's systemd: ${state:-no answer}"; }
ok "container PID 1: $(c_run cat /proc/1/comm) $(c_run systemctl --version | head -1 | cut -d' ' -f2), system $state"

say "apt install ./mlagw_${VERSION}_amd64.deb in the container"
c_sh "apt-get update -qq && cd /root/pkg && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./mlagw_${VERSION}_amd64.deb" \
  > "$LOG/install.log" 2>&1 || { tail -20 "$LOG/install.log"; die "apt install"; }
ok "installed: $(c_run dpkg-query -W -f='${Package} ${Version} ${Status}' mlagw)"
user=$(c_run getent passwd mlagw) || die "no user mlagw"
ok "user: $user"
ok "state directory: $(c_run stat -c '%U:%G %a %n' /var/lib/mlagw)"
ok "unit: $(c_run systemctl is-enabled mlagwd.service), $(c_run systemctl is-active mlagwd.service || true) before any configuration (ConditionPathExists)"
ok "$(c_run mlagwd --version) / $(c_run mlagw --version)"

say "A State's keys (mlagw pki init), a minimal configuration with a local API, the store (as mlagw)"
c_sh '
set -e
cd /etc/mlagw
# the documented layout: the private keys in a folder of their own, out of the daemon reach
mlagw pki init --state ES --out pki --keys-out /var/lib/mlagw-keys >/dev/null
mlagw pki init --state CO --out /root/co-pki >/dev/null     # the peer: unreachable on purpose
mkdir -p peers && cp /root/co-pki/CO/root.crt peers/CO-root.crt && cp /root/co-pki/CO/encrypt.crt peers/CO-encrypt.crt
head -c 32 /dev/urandom | base64 | tr -d "=+/\n" > /root/admin.tok
head -c 32 /dev/urandom | base64 | tr -d "=+/\n" > /root/authority.tok
cat > mlagwd.conf <<EOF
[gateway]
state = ES
name = deb-check gateway
listen = 127.0.0.1:18441
store = /var/lib/mlagw/store.db
submit_socket = /run/mlagw/submit.sock

[keys]
tls_cert = pki/ES/tls.crt
tls_key = /var/lib/mlagw-keys/ES/tls.key
sign_cert = pki/ES/sign.crt
sign_key = /var/lib/mlagw-keys/ES/sign.key
encrypt_cert = pki/ES/encrypt.crt
encrypt_key = /var/lib/mlagw-keys/ES/encrypt.key
audit_cert = pki/ES/audit.crt
audit_key = /var/lib/mlagw-keys/ES/audit.key

[trust]
root = pki/ES/root.crt
root = peers/CO-root.crt

[peer CO]
url = https://127.0.0.1:1/mla/v1/envelopes
encrypt_cert = peers/CO-encrypt.crt

[audit]
peer_head_wait = 1s

[api]
listen = 127.0.0.1:19441
token = admin es-admin sha256:$(tr -d "\n" < /root/admin.tok | sha256sum | cut -d" " -f1)
token = authority es-authority sha256:$(tr -d "\n" < /root/authority.tok | sha256sum | cut -d" " -f1)
EOF
rm -f pki/ES/root.key                                        # the root key stays offline
chown -R mlagw:mlagw pki /var/lib/mlagw-keys
chmod 0640 mlagwd.conf && chgrp mlagw mlagwd.conf
runuser -u mlagw -- mlagwd -c /etc/mlagw/mlagwd.conf --check
runuser -u mlagw -- mlagwd -c /etc/mlagw/mlagwd.conf --init
' > "$LOG/configure.log" 2>&1 || { cat "$LOG/configure.log"; die "keys, configuration or store"; }
sed 's/^/  /' "$LOG/configure.log"

api() { # COMMAND TOKEN ARGS...: the installed mlagw against the local API
  local c=$1 t=$2; shift 2
  c_run mlagw "$c" --gateway https://127.0.0.1:19441 --ca /etc/mlagw/pki/ES/root.crt \
    --token-file "/root/$t.tok" "$@"
}
health() {
  local h
  for _ in $(seq 1 100); do
    h=$(api health admin --json 2>/dev/null) && { echo "$h"; return 0; }
    sleep 0.1
  done
  return 1
}
field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }

say "systemctl start mlagwd: started by systemd in its sandbox as mlagw; /healthz answers"
c_run systemctl start mlagwd.service || { c_run journalctl -u mlagwd --no-pager | tail -20; die "systemctl start"; }
ok "is-active: $(c_run systemctl is-active mlagwd.service)"
PID1=$(c_run systemctl show -P MainPID mlagwd.service)
KH=$(c_sh "cat /proc/$PID1/task/*/children")
ok "MainPID $PID1 as $(c_run stat -c %U "/proc/$PID1"), its keyholder $KH as $(c_run stat -c %U "/proc/${KH%% *}")"
ok "unit: $(c_run systemctl show -p User -p Type -p ProtectSystem -p NoNewPrivileges mlagwd.service | tr '\n' ' ')"
H=$(health) || { c_run journalctl -u mlagwd --no-pager | tail -20; die "no answer from /healthz"; }
ok "/healthz: status $(echo "$H" | field "['status']"), state $(echo "$H" | field "['state']"), store $(echo "$H" | field "['store']['status']")"
c_run journalctl -u mlagwd --no-pager -o cat | grep -E 'started|listening' | sed 's/^/  journal: /' | head -4
# the confinement under the unit's own filter: the daemon's allowlist on, the daemon and the
# keyholder under Landlock (the unit allows Landlock's calls; the daemon says when it could not)
J=$(c_run journalctl -u mlagwd --no-pager -o cat || true)
grep -q 'seccomp msg=- mode=on' <<< "$J" || die "no 'seccomp mode=on' line in the journal"
for P in keyholder daemon; do
  LL=$(grep "landlock msg=- process=$P" <<< "$J" | tail -1 || true)
  case "$LL" in
    *abi=[0-9]*) ok "journal: seccomp mode=on; ${LL#*ES }" ;;
    # systemd-nspawn's own filter may refuse Landlock's calls inside the container: reported
    *) echo "  NOTE: seccomp mode=on; the $P without Landlock here: ${LL:-no landlock line}" ;;
  esac
done
# the keys apart (mlagw pki init --keys-out): the daemon's rules reach none of them
if grep 'keys-reachable' <<< "$J"; then die "a private key within the daemon's reach"; fi
ok "journal: no keys-reachable line (keys in /var/lib/mlagw-keys)"

say "A message queued for the (unreachable) peer CO, so the store has something to keep"
echo '<Request xmlns="urn:example:deb-check">kept across upgrades</Request>' > "$M/root/doc.xml"
MSG=
for _ in $(seq 1 50); do  # 503 while it waits for the peer's head ([audit] peer_head_wait)
  MSG=$(api submit authority --to CO --kind mla --in /root/doc.xml --json 2>/dev/null |
        field "['message_id']") && break
  sleep 0.2
done
[ -n "$MSG" ] || die "submit: $(api submit authority --to CO --kind mla --in /root/doc.xml 2>&1)"
ok "message $MSG: $(api status authority "$MSG" --json | field "['state']")"
echo "# deb-check: a local change that an upgrade must keep" >> "$M/etc/mlagw/mlagwd.conf.example"
CONF_SUM=$(sha256sum < "$M/etc/mlagw/mlagwd.conf" | cut -c1-16)
EX_SUM=$(sha256sum < "$M/etc/mlagw/mlagwd.conf.example" | cut -c1-16)
ok "conffile /etc/mlagw/mlagwd.conf.example modified (sha256 $EX_SUM...), mlagwd.conf $CONF_SUM..."

# kept_after WHAT: the message, the configuration, the modified conffile and the user are there
kept_after() {
  local st
  H=$(health) || { c_run journalctl -u mlagwd --no-pager | tail -20; die "no /healthz after $1"; }
  st=$(api status authority "$MSG" --json | field "['state']") || die "message $MSG gone after $1"
  # degraded: the peer CO is unreachable on purpose
  ok "after $1: message $MSG still there ($st), /healthz $(echo "$H" | field "['status']")"
  [ "$(sha256sum < "$M/etc/mlagw/mlagwd.conf.example" | cut -c1-16)" = "$EX_SUM" ] ||
    die "the modified conffile was replaced by $1"
  [ "$(sha256sum < "$M/etc/mlagw/mlagwd.conf" | cut -c1-16)" = "$CONF_SUM" ] ||
    die "mlagwd.conf changed by $1"
  ok "after $1: modified conffile and mlagwd.conf kept; $(c_run getent passwd mlagw | cut -d: -f1,3,4) the same user"
}

say "Upgrade $VERSION -> $NEW with the service running: apt install ./mlagw_${NEW}_amd64.deb"
c_sh "cd /root/pkg && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./mlagw_${NEW}_amd64.deb" \
  > "$LOG/upgrade.log" 2>&1 || { tail -20 "$LOG/upgrade.log"; die "upgrade"; }
ok "installed: $(c_run dpkg-query -W -f='${Version}' mlagw)"
PID2=$(c_run systemctl show -P MainPID mlagwd.service)
[ "$(c_run systemctl is-active mlagwd.service)" = active ] || die "not active after the upgrade"
[ "$PID2" != "$PID1" ] && [ "$PID2" != 0 ] || die "not restarted by the upgrade (MainPID $PID1 -> $PID2)"
ok "restarted by the upgrade: MainPID $PID1 -> $PID2, active"
kept_after "the upgrade"

say "Upgrade from a store of schema 13: back to $VERSION, the store as an mlagw of schema 13 left it, then apt install ./mlagw_${NEW}_amd64.deb"
c_sh "cd /root/pkg && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --allow-downgrades ./mlagw_${VERSION}_amd64.deb" \
  > "$LOG/downgrade.log" 2>&1 || { tail -20 "$LOG/downgrade.log"; die "downgrade"; }
c_run systemctl stop mlagwd.service
c_sh "runuser -u mlagw -- store_fault make-v13 /var/lib/mlagw/store.db" ||
  die "store_fault make-v13"
schema() { c_sh "runuser -u mlagw -- mlagw store show --store /var/lib/mlagw/store.db --meta" |
           awk '$1 == "schema_version" {print $2}'; }
v=$(schema)
[ "$v" = 13 ] || die "the store is at schema $v, not 13"
ok "service stopped, the store at schema $v"
c_sh "cd /root/pkg && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./mlagw_${NEW}_amd64.deb" \
  > "$LOG/upgrade13.log" 2>&1 || { tail -20 "$LOG/upgrade13.log"; die "upgrade from schema 13"; }
[ "$(c_run systemctl is-active mlagwd.service)" = active ] || die "not active after the upgrade"
ok "installed $(c_run dpkg-query -W -f='${Version}' mlagw), started by the upgrade: $(c_run systemctl is-active mlagwd.service)"
UP=$(c_run journalctl -u mlagwd --no-pager -o cat | grep 'store-upgraded' | tail -1)
[ -n "$UP" ] || die "no store-upgraded line in the journal"
ok "journal: $UP"
c_run ls -l /var/lib/mlagw | sed 's/^/  /'
c_sh 'ls /var/lib/mlagw/store.db.schema-13-*.bak >/dev/null' || die "no backup of the schema 13 store"
v=$(schema)
[ "$v" = 14 ] || die "the store is at schema $v after the upgrade"
ok "the store upgraded in place to schema $v"
kept_after "the upgrade from schema 13"

say "Summary"
ok "built, lintian without errors, installed on Debian 12, user created, started by systemd, /healthz answered, two upgrades kept the store, the messages and the configuration"
