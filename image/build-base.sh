#!/bin/bash
# Builds the base disk image Packer starts from: Debian 12 (debootstrap, Debian's packages only), a UEFI
# systemd-boot ESP, a root and a /var partition, assembled with mtools, mkfs.ext4 -d, sgdisk and dd, so nothing is
# mounted and no loop device is needed. The base still has sshd and a temporary root key for Packer; the Packer
# step (packer/plugsrv.pkr.hcl + image/provision.sh) installs the agent and removes both.
#
# Idempotent and cached: the output is named by a hash of its inputs (this script, the package list, the suite);
# a second run with the same inputs reuses it. Usage: image/build-base.sh [--force]
# Env: PLUGSRV_IMAGE_CACHE (default image/.cache), DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR.
# Prints the path of the base qcow2 on its last line of stdout.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${PLUGSRV_IMAGE_CACHE:-$HERE/.cache}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SUITE=bookworm
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

# Fixed GPT identifiers: the loader entry and fstab name partitions by these, and the build stays reproducible.
DISK_GUID=5c0ffee0-7a1e-4c6d-9b1a-000000000001
ESP_UUID=5c0ffee0-7a1e-4c6d-9b1a-0000000000e5
ROOT_UUID=5c0ffee0-7a1e-4c6d-9b1a-000000000002
VAR_UUID=5c0ffee0-7a1e-4c6d-9b1a-000000000003
PERSO_UUID=5c0ffee0-7a1e-4c6d-9b1a-000000000004
ESP_MIB=256
ROOT_MIB=1536
VAR_MIB=512
# The production line writes the unit's personalisation here (an ext4 made with mkfs.ext4 -d, no boot needed);
# the first boot imports and erases it.
PERSO_MIB=16

log() { printf '[build-base %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[build-base] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot need it): sudo $0"
for tool in debootstrap mformat mcopy mmd sgdisk mkfs.ext4 qemu-img sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install debootstrap mtools gdisk e2fsprogs qemu-utils"
done
[ -f /usr/lib/systemd/boot/efi/systemd-bootx64.efi ] || die "systemd-boot's EFI binary is missing: apt-get install systemd-boot-efi"

PACKAGES=$(grep -v '^#' "$HERE/base-packages.txt" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
HASH=$( { cat "$0" "$HERE/base-packages.txt"; echo "$SUITE $MIRROR $SECURITY_MIRROR"; } | sha256sum | cut -c1-16)
OUT=$CACHE/base-$HASH
if [ "$FORCE" = 0 ] && [ -f "$OUT/base.qcow2" ] && [ -f "$OUT/build-key" ]; then
  log "cached: $OUT/base.qcow2 (inputs unchanged)"
  echo "$OUT/base.qcow2"
  exit 0
fi

# The debootstrap step depends only on the package list and the suite: kept across edits of the rest of this script.
STRAP_HASH=$( { cat "$HERE/base-packages.txt"; echo "$SUITE $MIRROR"; } | sha256sum | cut -c1-16)
WORK=$CACHE/work-$STRAP_HASH
ROOT=$WORK/rootfs
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
started=$(date +%s)
mkdir -p "$OUT"
# A finished debootstrap of the same inputs is kept (it is most of the time); anything after it is redone.
if [ "$FORCE" = 1 ] || [ ! -f "$WORK/debootstrap.done" ]; then
  rm -rf "$WORK" && mkdir -p "$WORK"
  log "debootstrap $SUITE (minbase + $(echo "$PACKAGES" | tr ',' ' ' | wc -w) packages) from $MIRROR"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    die "debootstrap failed, last lines:$(printf '\n')$(tail -n 20 "$WORK/debootstrap.log")"
  touch "$WORK/debootstrap.done"
else
  log "reusing the finished debootstrap in $ROOT"
  # An earlier run may have stopped after moving /var out for its own partition.
  if [ -d "$WORK/var" ]; then rm -rf "${ROOT:?}/var" && mv "$WORK/var" "$ROOT/var"; fi
fi

# Security and point-release updates at build time (the box then gets security updates unattended, over HTTPS).
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
for fs in proc sys dev; do
  mount --bind "/$fs" "$ROOT/$fs" && mounted+=("$ROOT/$fs")
done
# The image's resolv.conf points at systemd-resolved, which does not run in the chroot: the host's, for apt only.
mv "$ROOT/etc/resolv.conf" "$WORK/resolv.conf.image"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
log "apt upgrade from $SUITE-updates and $SUITE-security"
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update -q --error-on=any && apt-get -y -q -o Dpkg::Options::=--force-confold dist-upgrade' \
  >"$WORK/upgrade.log" 2>&1 || die "apt upgrade in the chroot failed, last lines:$(printf '\n')$(tail -n 20 "$WORK/upgrade.log")"
# Only the newest kernel stays (the upgrade may have brought one beside debootstrap's).
# shellcheck disable=SC2016 # dpkg-query's own ${field} syntax
kernels=$(chroot "$ROOT" dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' 'linux-image-[0-9]*' | awk '$1 == "ii" { print $2 }' | sort -V)
newest=$(echo "$kernels" | tail -n 1)
old=$(echo "$kernels" | grep -vx "$newest" || true)
if [ -n "$old" ]; then
  # shellcheck disable=SC2086 # one word per package
  chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get -y -q purge $old >>"$WORK/upgrade.log" 2>&1
fi
chroot "$ROOT" apt-get clean
rm -f "$ROOT/etc/resolv.conf" && mv "$WORK/resolv.conf.image" "$ROOT/etc/resolv.conf"
cleanup
mounted=()

KVER=$(basename "$(find "$ROOT/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)" | sed 's/^vmlinuz-//')
[ -n "$KVER" ] || die "no kernel in $ROOT/boot"
[ -f "$ROOT/boot/initrd.img-$KVER" ] || die "no initrd for $KVER in $ROOT/boot"
log "kernel $KVER"

# Minimal configuration for the first (Packer) boot; provision.sh turns it into the appliance.
echo plugsrv >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tplugsrv\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
cat >"$ROOT/etc/fstab" <<EOF
# <device>                                 <mount>  <type> <options>                       <dump> <pass>
PARTUUID=$ROOT_UUID  /        ext4   defaults,errors=remount-ro      0 1
PARTUUID=$VAR_UUID  /var     ext4   defaults,nodev,nosuid           0 2
PARTUUID=$ESP_UUID  /efi     vfat   umask=0077,noauto,x-systemd.automount 0 2
EOF
mkdir -p "$ROOT/efi"
mkdir -p "$ROOT/etc/systemd/network"
cat >"$ROOT/etc/systemd/network/80-build.network" <<'EOF'
[Match]
Type=ether
[Network]
DHCP=yes
EOF
chroot "$ROOT" systemctl enable systemd-networkd.service >/dev/null 2>&1
: >"$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id"
# Root login only with the build key, only for Packer; the password stays locked.
chroot "$ROOT" passwd -l root >/dev/null
rm -f "$ROOT"/etc/ssh/ssh_host_*
mkdir -p "$ROOT/etc/systemd/system/ssh.service.d"
cat >"$ROOT/etc/systemd/system/ssh.service.d/host-keys.conf" <<'EOF'
# Host keys are made at boot (the build deletes them); Debian's own ExecStartPre would test sshd before they exist.
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
EOF
rm -f "$OUT/build-key" "$OUT/build-key.pub"
ssh-keygen -q -t ed25519 -N '' -C plugsrv-build -f "$OUT/build-key"
install -d -m 0700 "$ROOT/root/.ssh"
install -m 0600 "$OUT/build-key.pub" "$ROOT/root/.ssh/authorized_keys"

# ESP: systemd-boot on the removable path (no NVRAM entry needed), the kernel, the initrd and one loader entry.
CMDLINE="root=PARTUUID=$ROOT_UUID ro console=tty0 console=ttyS0,115200 quiet"
ESP=$WORK/esp.img
rm -f "$ESP"
truncate -s "${ESP_MIB}M" "$ESP"
mformat -i "$ESP" -F -v ESP -N "${ESP_UUID:0:8}" ::
mmd -i "$ESP" ::/EFI ::/EFI/BOOT ::/EFI/systemd ::/loader ::/loader/entries ::/base
mcopy -i "$ESP" /usr/lib/systemd/boot/efi/systemd-bootx64.efi ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$ESP" /usr/lib/systemd/boot/efi/systemd-bootx64.efi ::/EFI/systemd/systemd-bootx64.efi
mcopy -i "$ESP" "$ROOT/boot/vmlinuz-$KVER" ::/base/linux
mcopy -i "$ESP" "$ROOT/boot/initrd.img-$KVER" ::/base/initrd
printf 'timeout 0\neditor no\ndefault base.conf\n' >"$WORK/loader.conf"
printf 'title Debian base (build)\nlinux /base/linux\ninitrd /base/initrd\noptions %s\n' "$CMDLINE" >"$WORK/base.conf"
mcopy -i "$ESP" "$WORK/loader.conf" ::/loader/loader.conf
mcopy -i "$ESP" "$WORK/base.conf" ::/loader/entries/base.conf

# /var gets its own partition (the root is read-only on the appliance); mkfs.ext4 -d fills each one without a mount.
log "file systems"
mv "$ROOT/var" "$WORK/var" && mkdir -m 0755 "$ROOT/var"
mkfs.ext4 -q -L root -U "$ROOT_UUID" -d "$ROOT" "$WORK/root.img" "${ROOT_MIB}M"
mkfs.ext4 -q -L var -U "$VAR_UUID" -d "$WORK/var" "$WORK/var.img" "${VAR_MIB}M"

# GPT: 1 MiB alignment, ESP, root (x86-64 root type), /var (var type), personalisation (empty); the data partition
# is made at first boot on the rest of the unit's disk.
DISK=$WORK/base.raw
rm -f "$DISK"
truncate -s $((1 + ESP_MIB + ROOT_MIB + VAR_MIB + PERSO_MIB + 1))M "$DISK"
sgdisk -o -U "$DISK_GUID" \
  -n "1:1M:+${ESP_MIB}M" -t 1:ef00 -c 1:esp -u "1:$ESP_UUID" \
  -n "2:0:+${ROOT_MIB}M" -t 2:4f68bce3-e8cd-4db1-96e7-fbcaf984b709 -c 2:root -u "2:$ROOT_UUID" \
  -n "3:0:+${VAR_MIB}M" -t 3:4d21b016-b534-45c2-a9fb-5c16e091fd2d -c 3:var -u "3:$VAR_UUID" \
  -n "4:0:+${PERSO_MIB}M" -t 4:8300 -c 4:plugsrv-perso -u "4:$PERSO_UUID" \
  "$DISK" >/dev/null
# (sgdisk has no quiet flag: -q would quit without writing.) Check the table really is there.
[ "$(sgdisk -p "$DISK" | grep -c '^ *[0-9]')" = 4 ] || die "sgdisk did not write the partition table of $DISK"
dd if="$ESP" of="$DISK" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$WORK/root.img" of="$DISK" bs=1M seek=$((1 + ESP_MIB)) conv=notrunc,sparse status=none
dd if="$WORK/var.img" of="$DISK" bs=1M seek=$((1 + ESP_MIB + ROOT_MIB)) conv=notrunc,sparse status=none
qemu-img convert -O qcow2 "$DISK" "$OUT/base.qcow2.tmp"
mv "$OUT/base.qcow2.tmp" "$OUT/base.qcow2"
echo "$KVER" >"$OUT/kernel-version"
# Keep the debootstrap tree (with its /var back in place) for the next build; drop the assembled pieces and older bases.
rm -rf "${ROOT:?}/var" && mv "$WORK/var" "$ROOT/var"
rm -f "$WORK"/*.img "$WORK/base.raw"
find "$CACHE" -maxdepth 1 -name 'base-*' ! -name "base-$HASH" -exec rm -rf {} +
log "base image ready in $(($(date +%s) - started)) s: $OUT/base.qcow2 ($(du -h "$OUT/base.qcow2" | cut -f1))"
echo "$OUT/base.qcow2"
