#!/bin/sh
# Minimal Debian bookworm root filesystem for the component image, from Debian packages only
# (no container registry). Output: a tarball that `podman import` turns into a base image.
#   deploy/image/rootfs.sh OUT.tar
# Variant "essential": Essential:yes packages plus the list below, no apt, no recommends.
# python3 (Debian's 3.11), git/openssh-client/gnupg (source-integrity gate: git's own signature
# verification), ca-certificates, libstdc++6 (manylinux wheels link it). No compilers.
# SOURCE_DATE_EPOCH (default: the time of the last commit that changed this script) fixes every
# timestamp in the tarball: the same script and the same Debian package versions give the same bytes.
set -eu
out=${1:?usage: rootfs.sh OUT.tar}
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct -- "$0" 2>/dev/null || true)}"
: "${SOURCE_DATE_EPOCH:=$(date +%s)}"
export SOURCE_DATE_EPOCH
mkdir -p "$(dirname "$out")"
mmdebstrap --quiet --mode=root --format=tar --variant=essential \
  --include=python3,git,openssh-client,gnupg,ca-certificates,libstdc++6 \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/* "$1"/etc/machine-id' \
  "$suite" "$out.partial" \
  "deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $security $suite-security main"
mv "$out.partial" "$out"
