#!/usr/bin/env bash
# build.sh: build the lab VM image from Debian packages only.
#
#   sudo vagrant/image/build.sh          build (or reuse) the image, print its directory
#   vagrant/image/build.sh --key         print the cache key and exit
#
# The image is Debian 12 (bookworm) made with `debootstrap --variant=minbase`
# from the mirror apt already uses (LAB_VM_MIRROR overrides it), with the
# packages of vagrant/image/packages plus the PACKAGES of vagrant/provision.sh.
# Nothing is mounted: `mke2fs -d` copies the root directory into an ext4
# file system written straight into the partition of a disk image file, and
# GRUB's two boot sectors are written with dd, as grub-install would.
#
# Output, in $LAB_VM_CACHE/image-KEY (default /var/cache/lab-vm, outside the
# clone, so that CI's fresh clones on one machine share it):
#   disk.raw     partitioned disk (MBR, one ext4 partition at 1 MiB, GRUB)
#   disk.qcow2   the same disk as qcow2, for QEMU or libvirt
#   vmlinuz, initrd.img, cmdline   for QEMU's direct kernel boot (-kernel)
# KEY hashes this script, the package lists and files/, so the image is
# rebuilt only when one of them changes; older images are removed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${LAB_VM_CACHE:-/var/cache/lab-vm}"
SUITE=bookworm
DISK_SIZE_MIB="${LAB_VM_DISK_MIB:-8192}" # sparse: the files take ~1 GiB
PART_START=2048                          # sectors: the partition starts at 1 MiB
ROOT_UUID=6c616200-0000-4000-8000-00000000cafe

log() { printf 'image: %s\n' "$*" >&2; }
die() {
	printf 'image: %s\n' "$*" >&2
	exit 3
}

# packages prints every package of the image, one per line, sorted: the
# comment-free lines of vagrant/image/packages and the PACKAGES=( ... )
# array of provision.sh (read as text: provision.sh is not sourced).
packages() {
	{
		sed -e 's/#.*//' "$HERE/packages"
		sed -n '/^PACKAGES=(/,/)/p' "$REPO/vagrant/provision.sh" |
			sed -e 's/#.*//' -e 's/PACKAGES=(//' -e 's/)//'
	} | tr -s '[:space:]' '\n' | sed '/^$/d' | sort -u
}

# key: what the image is made of. Change any of it and the image is rebuilt.
key() {
	{
		cat "$HERE/build.sh"
		packages
		# Paths relative to this directory: clones in other places (CI's
		# fresh ones) share the cached image.
		(cd "$HERE" && find files -type f -print0 | sort -z | xargs -0 sha256sum)
	} | sha256sum | cut -c1-16
}

# mirror: the Debian mirror of apt's own configuration (deb822 or one-line
# format), so the image comes from where this machine's packages come from.
mirror() {
	if [ -n "${LAB_VM_MIRROR:-}" ]; then
		echo "$LAB_VM_MIRROR"
		return
	fi
	local m
	m="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?//p' |
		tr ' ' '\n' | grep -E '^https?://.*/debian/?$' | head -1)"
	echo "${m:-http://deb.debian.org/debian}"
}

need_tools() {
	local missing=()
	for t in debootstrap mke2fs sfdisk qemu-img; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		die "missing ${missing[*]}: run \`make vm-deps\` (apt-get install debootstrap e2fsprogs fdisk qemu-utils)"
	fi
}

# bootstrap: a minimal Debian root with our packages. minbase is the
# Essential set plus apt; --include adds ours and their dependencies.
bootstrap() {
	local root="$1"
	local include
	include="$(packages | paste -sd, -)"
	log "debootstrap $SUITE from $(mirror): $(packages | wc -l) packages"
	DEBIAN_FRONTEND=noninteractive debootstrap --variant=minbase \
		--include="$include" "$SUITE" "$root" "$(mirror)" >"$root.debootstrap.log" 2>&1 ||
		die "debootstrap failed: see $root.debootstrap.log"
}

# configure: make the root a bootable, loginable machine. Runs commands
# in the root with chroot(2); the root's own /proc is not needed for these.
configure() {
	local root="$1"
	local mirror_url
	mirror_url="$(mirror)"

	cp -a "$HERE/files/." "$root/"
	echo lab >"$root/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tlab\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
	printf 'UUID=%s\t/\text4\terrors=remount-ro\t0\t1\n' "$ROOT_UUID" >"$root/etc/fstab"
	cat >"$root/etc/apt/sources.list" <<-EOF
		deb $mirror_url $SUITE main
		deb $mirror_url $SUITE-updates main
		deb ${mirror_url%/debian*}/debian-security $SUITE-security main
	EOF
	# DNS comes from systemd-resolved (DHCP's servers), never from the
	# machine that built the image (debootstrap copied its resolv.conf).
	ln -sfn ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
	chroot "$root" systemctl enable systemd-resolved.service >/dev/null 2>&1
	# An empty machine-id: systemd makes a new one at each machine's first boot.
	: >"$root/etc/machine-id"
	rm -f "$root/var/lib/dbus/machine-id"

	# The vagrant user, as every Vagrant box has it: password "vagrant",
	# passwordless sudo, Vagrant's well-known insecure key (vagrant up
	# replaces it with a fresh key at the first boot).
	chroot "$root" useradd --create-home --shell /bin/bash --groups sudo vagrant
	echo 'vagrant:vagrant' | chroot "$root" chpasswd
	echo 'vagrant ALL=(ALL) NOPASSWD: ALL' >"$root/etc/sudoers.d/vagrant"
	chmod 0440 "$root/etc/sudoers.d/vagrant"
	install -d -m 0700 "$root/home/vagrant/.ssh"
	install -m 0600 "$HERE/vagrant-insecure.pub" "$root/home/vagrant/.ssh/authorized_keys"
	chroot "$root" chown -R vagrant:vagrant /home/vagrant/.ssh
	chroot "$root" passwd --lock root >/dev/null

	# Every machine made from the image gets its own ssh host keys at its
	# first boot (files/etc/systemd/system/ssh.service.d/).
	rm -f "$root"/etc/ssh/ssh_host_*

	chroot "$root" systemctl enable systemd-networkd.service lab-vmtest.service >/dev/null 2>&1
	# Kernel updates inside the box reinstall GRUB on the box's disk.
	echo 'grub-pc grub-pc/install_devices multiselect /dev/vda' | chroot "$root" debconf-set-selections

	grub_files "$root"
	# The .debs are installed; the package lists stay, so that a box with
	# internet can `apt-get install` without an update first.
	rm -rf "$root"/var/cache/apt/archives/*.deb
}

# grub_files: what grub-install would copy into /boot/grub: the modules
# that core.img loads at boot, and a grub.cfg (update-grub regenerates it
# at the next kernel update inside the box, where the disk is visible).
grub_files() {
	local root="$1"
	install -d "$root/boot/grub/i386-pc"
	cp "$root"/usr/lib/grub/i386-pc/*.mod "$root"/usr/lib/grub/i386-pc/*.lst "$root/boot/grub/i386-pc/"
	cat >"$root/boot/grub/grub.cfg" <<-EOF
		# Written by vagrant/image/build.sh; update-grub replaces it.
		serial --unit=0 --speed=115200
		terminal_input console serial
		terminal_output console serial
		set timeout=1
		menuentry 'Debian GNU/Linux 12 (lab)' {
		    search --no-floppy --fs-uuid --set=root $ROOT_UUID
		    linux /vmlinuz root=UUID=$ROOT_UUID ro $(kernel_args)
		    initrd /initrd.img
		}
	EOF
}

# kernel_args: serial console (QEMU's -serial, libvirt's console), classic
# interface names (eth0), and the default cgroup v2 (systemd 252 mounts
# only cgroup2 at /sys/fs/cgroup unless told otherwise).
kernel_args() {
	echo "console=tty0 console=ttyS0,115200 net.ifnames=0 systemd.show_status=error"
}

# make_disk: an MBR disk with one Linux partition from sector 2048 to the
# end, its ext4 file system filled from the root directory by mke2fs -d
# (-E offset= writes it inside the partition, no loop device), then GRUB.
make_disk() {
	local root="$1" disk="$2"
	rm -f "$disk"
	truncate -s "${DISK_SIZE_MIB}M" "$disk"
	echo "start=$PART_START, type=83, bootable" | sfdisk --quiet --label dos "$disk"
	local part_bytes=$(((DISK_SIZE_MIB * 1024 * 1024) - PART_START * 512))
	mke2fs -q -F -t ext4 -L lab-root -U "$ROOT_UUID" \
		-E "offset=$((PART_START * 512))" -d "$root" "$disk" "$((part_bytes / 1024))k"
	install_grub "$root" "$disk"
}

# install_grub does by hand what grub-install does on a BIOS disk:
#   core.img  = diskboot.img + GRUB's kernel + the modules needed to find
#               /boot/grub (biosdisk, part_msdos, ext2), written in the gap
#               between the MBR and the partition (sectors 1..2047);
#   boot.img  = the 440 bytes of MBR code that load core.img's first sector
#               (sector 1 is its built-in default), written before the
#               partition table, which it must not overwrite.
# grub-mkimage fills in core.img's own block list (sector 2 onwards).
install_grub() {
	local root="$1" disk="$2"
	local dir="$root/usr/lib/grub/i386-pc" core
	core="$(mktemp)"
	grub_mkimage "$root" -O i386-pc -o /tmp/core.img \
		-p "(hd0,msdos1)/boot/grub" biosdisk part_msdos ext2 search_fs_uuid
	mv "$root/tmp/core.img" "$core"
	local sectors=$((($(stat -c %s "$core") + 511) / 512))
	[ "$sectors" -lt "$PART_START" ] || die "core.img ($sectors sectors) does not fit before the partition"
	dd if="$core" of="$disk" bs=512 seek=1 conv=notrunc status=none
	dd if="$dir/boot.img" of="$disk" bs=440 count=1 conv=notrunc status=none
	rm -f "$core"
}

# grub_mkimage runs the image's own grub-mkimage, so the GRUB
# that boots is the one the image's packages install.
grub_mkimage() {
	local root="$1"
	shift
	chroot "$root" grub-mkimage "$@"
}

# unmount_under: an interrupted debootstrap can leave /proc or /sys
# mounted inside the root; never rm -rf through a mount.
unmount_under() {
	local dir="$1" mnt
	awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r mnt; do umount -l "$mnt"; done
}

build() {
	local out="$1"
	local root="$out.root"
	unmount_under "$root"
	rm -rf "$root" "$out" "$out.tmp"
	mkdir -p "$root"
	local t0=$SECONDS
	bootstrap "$root"
	log "debootstrap: $((SECONDS - t0)) s"
	configure "$root"
	local t1=$SECONDS
	mkdir -p "$out.tmp"
	make_disk "$root" "$out.tmp/disk.raw"
	# The kernel and initramfs beside the disk, for QEMU's -kernel/-initrd.
	cp "$(readlink -f "$root/vmlinuz")" "$out.tmp/vmlinuz"
	cp "$(readlink -f "$root/initrd.img")" "$out.tmp/initrd.img"
	echo "root=UUID=$ROOT_UUID rw $(kernel_args)" >"$out.tmp/cmdline"
	packages >"$out.tmp/packages"
	qemu-img convert -O qcow2 "$out.tmp/disk.raw" "$out.tmp/disk.qcow2"
	log "disk: $((SECONDS - t1)) s"
	mv "$root.debootstrap.log" "$out.tmp/debootstrap.log"
	rm -rf "$root"
	mv "$out.tmp" "$out"
	log "built $out in $((SECONDS - t0)) s"
}

main() {
	if [ "${1:-}" = "--key" ]; then
		key
		return
	fi
	[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and chroot need it): sudo $0"
	need_tools
	mkdir -p "$CACHE"
	local out
	out="$CACHE/image-$(key)"
	# One build at a time per cache (CI and a developer may share one).
	exec 9>"$CACHE/.lock"
	flock 9
	if [ -f "$out/disk.raw" ]; then
		log "cached: $out"
	else
		build "$out"
		local old
		for old in "$CACHE"/image-*; do
			[ "${old#"$out"}" = "$old" ] || continue # ours
			unmount_under "$old"
			rm -rf "$old"
		done
	fi
	ln -sfn "$(basename "$out")" "$CACHE/image"
	echo "$out"
}

main "$@"
