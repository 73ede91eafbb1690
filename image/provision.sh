#!/bin/bash
# Runs inside the base image booted by Packer, as root: installs the agent and the rootfs overlay, creates the
# service user, wires the data partition, the read-only root and the boot loader, and checks the result.
# finalize-guest.sh then removes every build-time access. Uploaded files: /tmp/plugsrv-agent.tar, /tmp/rootfs.tar.
set -euo pipefail
log() { printf '[provision %s] %s\n' "$(date +%T)" "$*"; }
die() { printf '[provision] error: %s\n' "$*" >&2; exit 1; }

ROOT_UUID=5c0ffee0-7a1e-4c6d-9b1a-000000000002
VAR_UUID=5c0ffee0-7a1e-4c6d-9b1a-000000000003
ESP_UUID=5c0ffee0-7a1e-4c6d-9b1a-0000000000e5
CMDLINE="root=PARTUUID=$ROOT_UUID ro console=tty0 console=ttyS0,115200 quiet lockdown=integrity"

log "agent and overlay"
tar -xf /tmp/plugsrv-agent.tar -C / --no-same-owner
tar -xf /tmp/rootfs.tar -C / --no-same-owner --no-overwrite-dir
chmod 0755 /usr/lib/plugsrv/* /opt/plugsrv/bin/plugsrv
/opt/plugsrv/bin/plugsrv --version

log "service user and folders"
getent passwd plugsrv >/dev/null ||
  useradd --system --user-group --home-dir /var/lib/plugsrv --no-create-home --shell /usr/sbin/nologin plugsrv
install -d -m 0750 -o plugsrv -g plugsrv /var/lib/plugsrv
# The per-unit, writable part of /etc (the root is read-only): the agent's config, the console password, the
# bootstrap token folder (the agent deletes the token), and the console's network files.
install -d -m 0755 -o root -g root /var/lib/plugsrv-local /var/lib/plugsrv-local/etc /var/lib/plugsrv-local/network
install -d -m 0700 -o plugsrv -g plugsrv /var/lib/plugsrv-local/etc/fleet
install -m 0644 /usr/share/plugsrv/plugsrv.yaml /var/lib/plugsrv-local/etc/plugsrv.yaml
install -d -m 0755 /etc/plugsrv
rm -f /etc/systemd/network/80-build.network

log "file systems: read-only root, /var, the ESP, tmpfs /tmp, the writable config binds"
cat >/etc/fstab <<EOF
# <device>                                 <mount>               <type> <options>                                   <dump> <pass>
PARTUUID=$ROOT_UUID  /                     ext4   ro,errors=remount-ro                        0 1
PARTUUID=$VAR_UUID  /var                  ext4   defaults,nodev,nosuid                       0 2
PARTUUID=$ESP_UUID  /efi                  vfat   umask=0077,nodev,nosuid,noexec,noauto,x-systemd.automount 0 2
tmpfs                                      /tmp                  tmpfs  nodev,nosuid,noexec,size=256M,mode=1777     0 0
/var/lib/plugsrv-local/etc                 /etc/plugsrv          none   bind,nodev,nosuid,noexec,x-systemd.requires-mounts-for=/var 0 0
/var/lib/plugsrv-local/network             /etc/systemd/network  none   bind,nodev,nosuid,noexec,x-systemd.requires-mounts-for=/var 0 0
EOF

log "boot loader: systemd-boot entries through kernel-install, so kernel security updates land on the ESP"
mkdir -p /efi /etc/kernel
mountpoint -q /efi || mount -t vfat -o umask=0077 "/dev/disk/by-partuuid/$ESP_UUID" /efi
echo plugsrv >/etc/kernel/entry-token
echo "$CMDLINE" >/etc/kernel/cmdline
printf 'layout=bls\n' >/etc/kernel/install.conf
bootctl --esp-path=/efi --no-variables --graceful install >/dev/null
KVER=$(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
kernel-install add "$KVER" "/boot/vmlinuz-$KVER" "/boot/initrd.img-$KVER"
ls /efi/loader/entries/plugsrv-*.conf >/dev/null 2>&1 || die "kernel-install wrote no loader entry for $KVER"
rm -rf /efi/base /efi/loader/entries/base.conf
printf 'timeout 0\neditor no\nauto-entries no\nauto-firmware no\ndefault plugsrv-*\n' >/efi/loader/loader.conf
cp /usr/lib/systemd/boot/efi/systemd-bootx64.efi /efi/EFI/BOOT/BOOTX64.EFI
sync
umount /efi

log "units"
systemctl enable systemd-networkd.service systemd-resolved.service nftables.service chrony.service \
  plugsrv.service plugsrv-console.service plugsrv-data.service var-lib-plugsrv.mount plugsrv-firstboot.service \
  plugsrv-reboot.path auditd.service acct.service sysstat.service
# No login anywhere: the console owns tty1, no getty on the other VTs or the serial port, no ctrl-alt-del, and no
# interactive first-boot wizard (our plugsrv-firstboot does the first boot).
systemctl mask getty@.service serial-getty@.service console-getty.service ctrl-alt-del.target \
  debug-shell.service systemd-firstboot.service
# Account defaults (nobody logs in, but a shell a technician might get under a service contract starts strict).
sed -i -E 's/^UMASK\s.*/UMASK\t\t027/; s/^PASS_MAX_DAYS\s.*/PASS_MAX_DAYS\t365/; s/^PASS_MIN_DAYS\s.*/PASS_MIN_DAYS\t1/' /etc/login.defs
grep -q '^SHA_CRYPT_MIN_ROUNDS' /etc/login.defs || printf 'SHA_CRYPT_MIN_ROUNDS\t65536\nSHA_CRYPT_MAX_ROUNDS\t65536\n' >>/etc/login.defs
mkdir -p /etc/systemd/logind.conf.d
printf '[Login]\nNAutoVTs=0\nReserveVT=0\n' >/etc/systemd/logind.conf.d/plugsrv.conf
ln -sf /run/systemd/resolve/stub-resolv.conf /etc/resolv.conf
# The assembler binutils brings (needrestart needs binutils) runs for root only, and stays so across upgrades.
for b in /usr/bin/x86_64-linux-gnu-as /usr/bin/x86_64-linux-gnu-ld.bfd /usr/bin/x86_64-linux-gnu-ld.gold; do
  [ -e "$b" ] || continue
  dpkg-statoverride --list "$b" >/dev/null || dpkg-statoverride --update --add root root 0750 "$b"
done
# auditd's augenrules cannot write /etc/audit/audit.rules on the read-only root at boot: build it now from
# rules.d, so the boot finds it current ("No change") and loads it.
augenrules >/dev/null
grep -q -- '-k plugsrv-config' /etc/audit/audit.rules || { log "error: audit rules not built"; exit 1; }
# AIDE checks the system against its database once a day (the database is made by finalize-guest.sh, last).
systemctl enable dailyaidecheck.timer 2>/dev/null || log "warning: no dailyaidecheck.timer"
# Accounting data lives on /var; sysstat collects only when enabled in its defaults file.
sed -i 's/^ENABLED=.*/ENABLED="true"/' /etc/default/sysstat 2>/dev/null || true

log "checks inside the image"
nft -c -f /etc/nftables.conf || die "the nftables ruleset does not load in the image"
# With the image's real units around ours (ordering cycles only show up here): any message fails the build.
systemd-analyze verify --man=no plugsrv.service plugsrv-console.service plugsrv-data.service \
  var-lib-plugsrv.mount plugsrv-firstboot.service plugsrv-wipe.service plugsrv-reboot.path >/tmp/verify.log 2>&1 || true
if [ -s /tmp/verify.log ]; then
  cat /tmp/verify.log >&2
  die "systemd-analyze verify reported the problems above"
fi
for unit in plugsrv.service plugsrv-console.service plugsrv-data.service plugsrv-firstboot.service plugsrv-wipe.service plugsrv-reboot.service; do
  systemd-analyze security --no-pager "$unit" | tail -n 1
done
log "done"
