#!/usr/bin/env bash
# box.sh: the offline classroom box (make box).
#
#   sudo vagrant/image/box.sh [OUT_DIR]
#
# Takes the cached lab VM image (build.sh), puts a freshly built static
# `lab` into it as /usr/local/bin/lab, and writes to OUT_DIR (default
# .cache/vm/box):
#
#   lab.qcow2   the disk, bootable by GRUB, usable directly by QEMU/libvirt:
#               qemu-system-x86_64 -m 2048 -drive file=lab.qcow2,if=virtio
#   lab.box     a libvirt Vagrant box (tar.gz of box.img, metadata.json and
#               a Vagrantfile): vagrant box add --name lab lab.box
#
# A teacher copies either onto a USB stick; nothing is downloaded at boot.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
OUT="${1:-$REPO/.cache/vm/box}"
PART_OFFSET=$((2048 * 512)) # where build.sh puts the root partition

log() { printf 'box: %s\n' "$*" >&2; }

# put_file copies a host file into the ext4 file system inside the disk
# image with debugfs, which edits the file system as data: no mount, no
# loop device. `?offset=` tells e2fsprogs where the partition starts.
put_file() {
	local disk="$1" src="$2" dst="$3" mode="$4"
	local fs="$disk?offset=$PART_OFFSET" out
	# debugfs reports errors on stderr but exits 0: keep its words for the
	# error message, and judge by reading the file back.
	out="$(debugfs -w -f - "$fs" 2>&1 <<-EOF
		rm $dst
		write $src $dst
		set_inode_field $dst mode 0100$mode
		set_inode_field $dst uid 0
		set_inode_field $dst gid 0
	EOF
	)"
	local size
	size="$(debugfs -R "stat $dst" "$fs" 2>/dev/null | sed -n 's/.*Size: \([0-9]*\).*/\1/p' | head -1)"
	[ "$size" = "$(stat -c %s "$src")" ] || {
		log "writing $dst into the image failed (size ${size:-none}): $out"
		exit 4
	}
}

main() {
	[ "$(id -u)" -eq 0 ] || {
		log "run as root: sudo make box"
		exit 3
	}
	local t0=$SECONDS image
	image="$(bash "$HERE/build.sh")"
	mkdir -p "$OUT"
	local work="$OUT/work"
	rm -rf "$work"
	mkdir -p "$work"

	local version
	version="$(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo dev)"
	(cd "$REPO" && CGO_ENABLED=0 "$GO" build -trimpath \
		-ldflags "-X github.com/lab-edu/lab/cmd/internal/cli.Version=$version" \
		-o "$work/" ./cmd/lab ./cmd/lab-init)

	cp --sparse=always "$image/disk.raw" "$work/disk.raw"
	put_file "$work/disk.raw" "$work/lab" /usr/local/bin/lab 755
	put_file "$work/disk.raw" "$work/lab-init" /usr/local/bin/lab-init 755
	echo "lab $version, box built $(date -u +%Y-%m-%dT%H:%MZ)" >"$work/lab-box"
	put_file "$work/disk.raw" "$work/lab-box" /etc/lab-box 644

	# Compressed qcow2: the box is ~400 MiB instead of ~1 GiB.
	qemu-img convert -c -O qcow2 "$work/disk.raw" "$work/box.img"
	local size_gib
	size_gib=$(($(stat -c %s "$work/disk.raw") / 1024 / 1024 / 1024))
	printf '{"provider": "libvirt", "format": "qcow2", "virtual_size": %d}\n' "$size_gib" >"$work/metadata.json"
	cp "$HERE/box.Vagrantfile" "$work/Vagrantfile"
	tar -C "$work" -cf - metadata.json Vagrantfile box.img | gzip -1 >"$OUT/lab.box.tmp"
	mv "$OUT/lab.box.tmp" "$OUT/lab.box"
	mv "$work/box.img" "$OUT/lab.qcow2"
	rm -rf "$work"
	log "$OUT/lab.box ($(du -h "$OUT/lab.box" | cut -f1)) and $OUT/lab.qcow2 in $((SECONDS - t0)) s"
	log "use: vagrant box add --name lab $OUT/lab.box; LAB_BOX=lab vagrant up --provider=libvirt"
}

main "$@"
