#!/usr/bin/env bash
# Prepares this machine for the project. On Debian as root it installs what is missing with apt;
# anywhere else it checks and says exactly what is missing. Idempotent: a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'setup: %s\n' "$*"; }

# Debian package -> the command that proves it is there.
# binutils' strip keeps the sandbox image small (Node's debug symbols are about 18 MB).
# slirp4netns gives each sandbox container its own network (no shared bridge between sandboxes).
# catatonit is the --init podman puts in front of each sandbox, so a stop right after a start is prompt.
# debootstrap builds, and systemd-container's systemd-nspawn boots, the local systemd host of Phases 3-5
# (host/); openssh-client's ssh-keygen and ssh make its pinned host key and reach its key-only sshd.
# busybox-static is the builder of the offline Nix package set (nix/README.md): nixpkgs is out of reach here.
# openssh-server: Phase 4 deploys over real SSH (a key-only sshd of the suite's own on a loopback port).
# curl runs the operations playbook's commands (docs/operations-playbook.md) as an operator would.
# caddy: Phase 4's TLS routing in front of the hypervisor (its internal CA locally, ACME in production).
declare -A provides=([podman]=podman [runc]=runc [catatonit]=/usr/libexec/podman/catatonit [slirp4netns]=slirp4netns [chromium]=/usr/bin/chromium [nix-bin]=nix [binutils]=strip [debootstrap]=debootstrap [systemd-container]=systemd-nspawn [openssh-client]=ssh-keygen [busybox-static]=/bin/busybox [openssh-server]=/usr/sbin/sshd [caddy]=caddy [curl]=curl)
missing=()
for pkg in podman runc catatonit slirp4netns chromium nix-bin binutils debootstrap systemd-container openssh-client busybox-static openssh-server caddy curl; do
  probe=${provides[$pkg]}
  if [[ $probe == /* ]]; then [[ -x $probe ]] || missing+=("$pkg"); else command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg"); fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1 && grep -qiE '^(ID|ID_LIKE)=.*debian' /etc/os-release; then
    say "installing with apt: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
  else
    say "missing: ${missing[*]}"
    say "install them (Debian/Ubuntu: sudo apt-get install -y ${missing[*]}), then run this again."
    say "chromium must be at /usr/bin/chromium; podman needs runc as its OCI runtime on hosts like ours."
    exit 1
  fi
fi

# moto (the AWS API emulator Phases 4 and 5 provision and publish against locally) is a Python
# program Debian does not package. Where it is missing, a venv of our own gets it from PyPI; where
# PyPI is out of reach too, say so and go on: Phases 1-3 do not need it, and the lines that do fail
# with the same instruction.
moto_venv=/var/cache/choiros-gates/moto-venv
moto_fix="install it with: pip install 'moto[server]>=5,<6' (in a venv), so that moto_server is on PATH"
install_moto() {
  if ! getent hosts pypi.org >/dev/null 2>&1; then
    say "moto_server is missing and pypi.org does not resolve here: Phases 4 and 5 need it; $moto_fix."
    return
  fi
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1 && ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 python3-venv >/dev/null || true
  fi
  say "installing moto (AWS API emulator) into $moto_venv"
  if mkdir -p "$(dirname "$moto_venv")" && python3 -m venv "$moto_venv" >/dev/null 2>&1 \
    && "$moto_venv/bin/pip" install --quiet --disable-pip-version-check --retries 1 --timeout 10 'moto[server]>=5,<6' >/dev/null 2>&1; then
    say "moto ready in $moto_venv"
  else
    rm -rf "$moto_venv"
    say "moto could not be installed from PyPI: Phases 4 and 5 need it; $moto_fix."
  fi
}
if ! command -v moto_server >/dev/null 2>&1 && [[ ! -x $moto_venv/bin/moto_server ]]; then install_moto; fi

# Node 24 comes from the npm registry as the `node` package, so nobody installs it by hand.
# A linked node_modules belongs to another checkout (npm run integrity's scratch copies link it): npm ci
# here would empty and refill it under everything running from there, so it is used as it is.
if [[ -L node_modules ]]; then
  say "node_modules links to $(readlink -f node_modules): using it as it is (run this script there to install)"
elif [[ ! -x node_modules/.bin/node || ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm dependencies (Node 24 included)"
  npm ci --no-audit --no-fund --loglevel=error
fi
node=node_modules/.bin/node
say "node $($node --version), podman $(podman --version | awk '{print $3}'), $(/usr/bin/chromium --version 2>/dev/null | head -1), $(nix --version)"

# Everything the project starts reads podman settings through CONTAINERS_CONF (scripts/containers.conf).
export CONTAINERS_CONF="$PWD/scripts/containers.conf"
if ! podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null 2>&1; then
  say "podman does not work on this host even with $CONTAINERS_CONF:"
  podman info 2>&1 | tail -5
  exit 1
fi
$node hypervisor/podman/podman-api.ts
say "ready"
