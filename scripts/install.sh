#!/usr/bin/env bash
# Idempotent set-up: system tools by apt-get when missing, then .venv with vethctl (editable) and its dev extras.
set -euo pipefail
cd "$(dirname "$0")/.."

# the tools vethctl drives, then what its tests use (sshd: a real one, started by the tests in a namespace;
# sudo: the --sudo transcripts are replayed through it)
apt_packages=(iproute2 tcpdump iputils-ping containernetworking-plugins util-linux procps bash iptables
              openssh-client openssh-server sudo
              netcat-openbsd bind9-dnsutils   # probes: nc (TCP, UDP), dig (DNS)
              dnsmasq-base socat python3      # the lab's servers for probes
              conntrack nftables              # Services: conntrack -L/-E, nft list ruleset's counters
              tshark)                         # the tests' second reader of a live pcap stream
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
python=${PYTHON:-python3}
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  missing+=(python3-venv)
fi
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "install: missing packages ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
    exit 4
  fi
  echo "install: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # installing a daemon must not start it (openssh-server would listen on port 22): a policy-rc.d that
  # says no, unless the machine already has one; removed again if it is ours
  own_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$own_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.vethctl-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]' --config-settings editable_mode=compat
  touch "$stamp"
fi
# Byte-compile the package as a wheel install would (pip does it for site-packages): with
# PYTHONDONTWRITEBYTECODE set, as on some machines, every vethctl start would otherwise recompile ~30 ms of source.
.venv/bin/python -m compileall -q vethctl
echo "install: ok ($(.venv/bin/vethctl --version))"
