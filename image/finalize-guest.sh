#!/bin/bash
# Packer's shutdown command, inside the guest, as root: removes every build-time access and every trace that would
# make two flashed units alike (sshd, the build key, machine-id, random seed, logs, apt lists), trims the free
# space so the image compresses, and powers off. The next boot is a unit's first boot.
set -euo pipefail
echo "[finalize] removing sshd and the build key"
systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive apt-get -y -q purge openssh-server openssh-sftp-server openssh-client >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get -y -q --purge autoremove >/dev/null
rm -rf /root/.ssh /etc/ssh /etc/systemd/system/ssh.service.d
passwd -l root >/dev/null
apt-get clean
rm -f /root/.bash_history
# AIDE's database of the system as it ships (what the reset below touches is excluded in aide.conf.d/90_plugsrv).
# Made before journald is stopped: its minutes of work must not bring the journal back after the logs are cleared.
echo "[finalize] AIDE database"
aideinit --yes --force >/dev/null 2>&1 || { echo "[finalize] aideinit failed" >&2; exit 1; }
test -s /var/lib/aide/aide.db || { echo "[finalize] no AIDE database" >&2; exit 1; }
echo "[finalize] resetting the machine identity and logs"
# journald would write the build's last seconds after the logs are deleted.
systemctl stop systemd-journald.socket systemd-journald-dev-log.socket systemd-journald-audit.socket systemd-journald.service || true
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/journal/* /var/lib/systemd/random-seed \
  /var/lib/dbus/machine-id /var/lib/systemd/credential.secret /tmp/plugsrv-agent.tar /tmp/rootfs.tar /tmp/*.sh
find /var/log -type f -exec truncate -s 0 {} +
# Socket activation can start journald again before the power-off: whatever it writes then goes to a tmpfs.
mount -t tmpfs -o size=32m,mode=2755 tmpfs /var/log/journal
# "uninitialized": systemd treats the next boot as a first boot (ConditionFirstBoot=yes); an empty file would only
# give a transient id on every boot of the read-only root.
echo uninitialized >/etc/machine-id
sync
fstrim -av || true
echo "[finalize] power off"
systemctl poweroff
