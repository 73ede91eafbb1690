#!/bin/bash
# `npm run image:build`: the whole appliance image from the repository.
#   1. image/build-base.sh  Debian 12 base (cached by input hash)
#   2. image/bundle-agent.sh  the agent, its production dependencies and the pinned Node.js runtime
#   3. packer/plugsrv.pkr.hcl  base + agent + hardening, build access removed
#   4. outputs in image/out/: raw + .bmap (production line), .raw.zst, qcow2 (tests), manifest.json, SHA256SUMS
# Env: PLUGSRV_IMAGE_OUT (default image/out), PLUGSRV_IMAGE_ACCEL (kvm|tcg, default: kvm only where it works).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
OUT=${PLUGSRV_IMAGE_OUT:-$REPO/image/out}
CACHE=${PLUGSRV_IMAGE_CACHE:-$HERE/.cache}
export PLUGSRV_IMAGE_CACHE=$CACHE
log() { printf '[image %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[image] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap needs it)"
for tool in packer qemu-system-x86_64 qemu-img bmaptool zstd debugfs sgdisk jq; do
  command -v "$tool" >/dev/null ||
    die "$tool is missing: apt-get install packer qemu-system-x86 qemu-utils ovmf bmap-tools zstd e2fsprogs gdisk jq"
done
[ -f /usr/share/ovmf/OVMF.fd ] || die "OVMF is missing: apt-get install ovmf"

accel=${PLUGSRV_IMAGE_ACCEL:-}
if [ -z "$accel" ]; then
  # kvm-pvm (a software nested layer) runs qemu but no stock kernel under OVMF; plain KVM works.
  if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]; then accel=kvm; else accel=tcg; fi
fi
started=$(date +%s)
cd "$REPO"

base=$("$HERE/build-base.sh" | tail -n 1)
base_dir=$(dirname "$base")
t_base=$(date +%s)
bundle=$("$HERE/bundle-agent.sh" | tail -n 1)
t_bundle=$(date +%s)

mkdir -p "$OUT"
rootfs_tar=$CACHE/rootfs.tar
tar --owner=0 --group=0 --numeric-owner --sort=name -C "$HERE/rootfs" -cf "$rootfs_tar" .

log "packer build ($accel)"
rm -rf "$OUT/packer"
# No call home to HashiCorp's version check: the build reaches the Debian mirror and the npm registry only.
CHECKPOINT_DISABLE=1 PACKER_CACHE_DIR="$CACHE/packer" PACKER_LOG=0 packer build -color=false \
  -var "base_image=$base" \
  -var "base_image_checksum=sha256:$(sha256sum "$base" | cut -d' ' -f1)" \
  -var "build_key=$base_dir/build-key" \
  -var "agent_bundle=$bundle" \
  -var "rootfs_tar=$rootfs_tar" \
  -var "output_dir=$OUT/packer" \
  -var "accelerator=$accel" \
  packer/plugsrv.pkr.hcl 2>&1 | tee "$OUT/packer.log" >&2
[ "${PIPESTATUS[0]}" = 0 ] || die "packer build failed; the log is $OUT/packer.log"
t_packer=$(date +%s)

version=$(node -p "require('$REPO/package.json').version")
name=plugsrv-$version
log "outputs"
rm -f "$OUT/$name".*
qemu-img convert -O raw "$OUT/packer/plugsrv.qcow2" "$OUT/$name.raw"
bmaptool -q create -o "$OUT/$name.raw.bmap" "$OUT/$name.raw"
zstd -q -T0 -10 "$OUT/$name.raw" -o "$OUT/$name.raw.zst"
qemu-img convert -c -O qcow2 "$OUT/packer/plugsrv.qcow2" "$OUT/$name.qcow2"
rm -rf "$OUT/packer"

# The package list comes from the image itself: /var/lib/dpkg/status on its /var partition (read without a mount).
var_start=$(sgdisk -i 3 "$OUT/$name.raw" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
var_end=$(sgdisk -i 3 "$OUT/$name.raw" | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
dd if="$OUT/$name.raw" of="$CACHE/var.img" bs=512 skip="$var_start" count=$((var_end - var_start + 1)) status=none
debugfs -R 'cat /lib/dpkg/status' "$CACHE/var.img" 2>/dev/null |
  awk '/^Package: /{p=$2} /^Status: /{s=$4} /^Version: /{if (s=="installed") printf "%s\t%s\n", p, $2}' |
  sort >"$CACHE/packages.tsv"
rm -f "$CACHE/var.img"
[ -s "$CACHE/packages.tsv" ] || die "could not read the package list from the image's /var partition"

(cd "$OUT" && sha256sum "$name.raw" "$name.raw.bmap" "$name.raw.zst" "$name.qcow2" >SHA256SUMS)
jq -n \
  --arg version "$version" \
  --arg kernel "$(cat "$base_dir/kernel-version")" \
  --arg node "$(sed -n 's/^NODE_RUNTIME_VERSION=//p' "$HERE/node-runtime.txt")" \
  --arg commit "$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)" \
  --arg accel "$accel" \
  --argjson seconds "{\"base\": $((t_base - started)), \"bundle\": $((t_bundle - t_base)), \"packer\": $((t_packer - t_bundle)), \"total\": $(($(date +%s) - started))}" \
  --rawfile sums "$OUT/SHA256SUMS" \
  --rawfile packages "$CACHE/packages.tsv" \
  '{name: "plugsrv", version: $version, commit: $commit, kernel: $kernel, nodeRuntime: $node, accelerator: $accel,
    buildSeconds: $seconds,
    outputs: ($sums | split("\n") | map(select(length > 0) | split("  ") | {file: .[1], sha256: .[0]})),
    packages: ($packages | split("\n") | map(select(length > 0) | split("\t") | {name: .[0], version: .[1]}))}' \
  >"$OUT/manifest.json"
for f in "$name.raw" "$name.raw.zst" "$name.qcow2"; do
  jq --arg f "$f" --argjson size "$(stat -c %s "$OUT/$f")" --argjson alloc "$(($(stat -c %b "$OUT/$f") * 512))" \
    '.outputs |= map(if .file == $f then . + {bytes: $size, allocatedBytes: $alloc} else . end)' \
    "$OUT/manifest.json" >"$OUT/manifest.json.tmp" && mv "$OUT/manifest.json.tmp" "$OUT/manifest.json"
done
log "image ready in $(($(date +%s) - started)) s (base $((t_base - started)) s, agent $((t_bundle - t_base)) s, packer $((t_packer - t_bundle)) s):"
(cd "$OUT" && ls -lsh "$name".* manifest.json SHA256SUMS) >&2
