#!/usr/bin/env bash
# deps.sh: install the host tools of the VM targets (make vm-deps), from
# Debian packages, when missing. Idempotent.
#
#   debootstrap, e2fsprogs, fdisk    build the image (build.sh)
#   qemu-system-x86, qemu-utils      boot it, convert disks (vmtest/run.sh, box.sh)
#   ruby, shellcheck                 lint the shell scripts and the Vagrantfile
#                                    (only these with --lint, for make test)
#   vagrant, vagrant-libvirt, libvirt-daemon-system (only with --vagrant)
set -euo pipefail

PACKAGES=(debootstrap e2fsprogs fdisk qemu-system-x86 qemu-utils shellcheck ruby)
if [ "${1:-}" = "--lint" ]; then # what `make test` needs: the VM files' lint test
	PACKAGES=(shellcheck ruby)
fi
if [ "${1:-}" = "--vagrant" ]; then
	PACKAGES+=(vagrant vagrant-libvirt libvirt-daemon-system libvirt-clients dnsmasq-base)
fi

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "vm-deps: missing ${missing[*]}: run as root (sudo make vm-deps)" >&2
	exit 3
fi
echo "vm-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
