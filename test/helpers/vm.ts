// Test helper: boots the appliance image in qemu (UEFI via OVMF, a software TPM 2.0 from swtpm) on a tap device inside
// a network namespace of its own, with dnsmasq giving the guest its address; nothing the guest sends leaves that
// namespace. Also reads the image's partitions offline (sgdisk + dd + debugfs), without mounting anything.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const OVMF = '/usr/share/ovmf/OVMF.fd';
export const GUEST_MAC = '52:54:00:5c:0f:fe';

/** The image `npm run image:build` made (image/out/plugsrv-<version>.<kind>), or the one PLUGSRV_IMAGE_RAW / _QCOW2 names. */
export async function builtImage(root: string, kind: 'raw' | 'qcow2'): Promise<string> {
  const override = process.env[kind === 'raw' ? 'PLUGSRV_IMAGE_RAW' : 'PLUGSRV_IMAGE_QCOW2'];
  if (override) return override;
  const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
  return join(root, 'image', 'out', `plugsrv-${version}.${kind}`);
}

/** The image a VM test needs, or a failure that says how to make it; false when there is none. */
export function imageExists(t: { fail(message: string): void }, image: string, variable: string): boolean {
  if (existsSync(image)) return true;
  t.fail(`no image at ${image}: run npm run image:build first (or set ${variable})`);
  return false;
}

/** A fresh folder for one VM test's files under test-artifacts/ (kept after a run, for diagnosis). */
export async function freshArtifactsDir(root: string, name: string): Promise<string> {
  const dir = join(root, 'test-artifacts', name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Spawns with stdout and stderr into a file (a WriteStream has no descriptor until it opens); the fd is closed once the child has it. */
function spawnLogged(cmd: string, args: string[], logPath: string, flags = 'w'): ChildProcess {
  const fd = openSync(logPath, flags);
  try {
    return spawn(cmd, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

/** The tools the VM tests need, or why they cannot run here. */
export async function vmSkipReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'the image tests need Linux';
  if (process.getuid?.() !== 0) return 'the image tests need root (network namespace, tap device)';
  const tools: Array<[string, string]> = [
    ['qemu-system-x86_64', 'qemu-system-x86'],
    ['qemu-img', 'qemu-utils'],
    ['swtpm', 'swtpm swtpm-tools'],
    ['dnsmasq', 'dnsmasq-base'],
    ['nmap', 'nmap'],
    ['debugfs', 'e2fsprogs'],
    ['sgdisk', 'gdisk'],
    ['cryptsetup', 'cryptsetup-bin'],
    ['journalctl', 'systemd'],
    ['mcopy', 'mtools'],
    ['ip', 'iproute2'],
  ];
  for (const [bin, pkg] of tools) {
    try {
      await run('sh', ['-c', `command -v ${bin}`]);
    } catch {
      return `${bin} is missing: apt-get install ${pkg}`;
    }
  }
  if (!existsSync(OVMF)) return `${OVMF} is missing: apt-get install ovmf`;
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing: no tap device for the guest';
  return undefined;
}

/** kvm only where a stock kernel runs under it (not on kvm-pvm, a software nested layer); tcg otherwise. */
export function accelerator(): 'kvm' | 'tcg' {
  const wanted = process.env.PLUGSRV_IMAGE_ACCEL;
  if (wanted === 'kvm' || wanted === 'tcg') return wanted;
  return existsSync('/dev/kvm') && !existsSync('/sys/module/kvm_pvm') ? 'kvm' : 'tcg';
}

export interface GuestNet {
  ns: string;
  hostAddress: string;
  guestAddress: string;
  /** Runs a command inside the namespace (curl, nmap). */
  exec(cmd: string, args: string[], timeoutMs?: number): Promise<{ stdout: string; stderr: string }>;
}

/** A namespace with tap0 (10.213.0.1/24) and dnsmasq leasing 10.213.0.50 to the guest's MAC; no DNS, no route out. */
export async function guestNetwork(t: { teardown(fn: () => unknown): void }, dir: string): Promise<GuestNet> {
  const ns = `psvm${process.pid}`;
  const hostAddress = '10.213.0.1';
  const guestAddress = '10.213.0.50';
  const ip = (...args: string[]): Promise<unknown> => run('ip', args, { timeout: 10_000 });
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    for (const c of children) c.kill('SIGTERM');
    await ip('netns', 'del', ns).catch(() => {});
  });
  await ip('netns', 'add', ns);
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  await ip('-n', ns, 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap');
  await ip('-n', ns, 'addr', 'add', `${hostAddress}/24`, 'dev', 'tap0');
  await ip('-n', ns, 'link', 'set', 'tap0', 'up', 'multicast', 'on');
  await ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'tap0');
  const dnsmasq = spawnLogged(
    'ip',
    [
      'netns', 'exec', ns, 'dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--port=0', '--interface=tap0',
      '--bind-interfaces', `--dhcp-range=${guestAddress},${guestAddress},255.255.255.0,1h`, `--dhcp-host=${GUEST_MAC},${guestAddress}`,
      `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`, '--log-dhcp', '--log-facility=-',
    ],
    join(dir, 'dnsmasq.log'),
  );
  children.push(dnsmasq);
  return {
    ns,
    hostAddress,
    guestAddress,
    exec: (cmd, args, timeoutMs = 60_000) => run('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }),
  };
}

/** A software TPM 2.0 whose state (and so the sealed data key) lives in `dir` across boots. */
export async function startSwtpm(dir: string): Promise<{ socket: string; stop(): void }> {
  await mkdir(join(dir, 'tpm'), { recursive: true });
  const socket = join(dir, 'swtpm.sock');
  await rm(socket, { force: true });
  const child = spawnLogged('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${join(dir, 'tpm')}`, '--ctrl', `type=unixio,path=${socket}`, '--flags', 'not-need-init'], join(dir, 'swtpm.log'), 'a');
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(socket)) throw new Error(`swtpm did not create ${socket}; see ${join(dir, 'swtpm.log')}`);
  return { socket, stop: () => child.kill('SIGTERM') };
}

export interface Guest {
  /** Milliseconds since qemu started. */
  elapsed(): number;
  /** Serial console output so far. */
  serial(): Promise<string>;
  /** ACPI power button, then waits for qemu to exit (the guest shuts down cleanly). */
  powerdown(timeoutMs?: number): Promise<void>;
  kill(): void;
  exited: Promise<number | null>;
}

export interface BootOptions {
  disk: string;
  dir: string;
  net: GuestNet;
  tpmSocket: string;
  /** Boot this kernel directly (with its initrd and command line) instead of the image's boot loader. */
  direct?: { kernel: string; initrd: string; append: string };
  extraDisks?: string[];
  memoryMiB?: number;
  label: string;
}

export function bootGuest(o: BootOptions): Guest {
  const serialFile = join(o.dir, `serial-${o.label}.log`);
  const qmp = join(o.dir, `qmp-${o.label}.sock`);
  const args = [
    'netns', 'exec', o.net.ns, 'qemu-system-x86_64',
    '-machine', `q35,accel=${accelerator()}`, '-cpu', accelerator() === 'kvm' ? 'host' : 'max', '-smp', '2', '-m', String(o.memoryMiB ?? 2048),
    '-nographic', '-no-reboot', '-bios', OVMF,
    '-drive', `if=virtio,format=${o.disk.endsWith('.raw') ? 'raw' : 'qcow2'},file=${o.disk},discard=unmap`,
    '-netdev', 'tap,id=n0,ifname=tap0,script=no,downscript=no', '-device', `virtio-net-pci,netdev=n0,mac=${GUEST_MAC}`,
    '-chardev', `socket,id=chrtpm,path=${o.tpmSocket}`, '-tpmdev', 'emulator,id=tpm0,chardev=chrtpm', '-device', 'tpm-tis,tpmdev=tpm0',
    '-serial', `file:${serialFile}`, '-monitor', 'none', '-display', 'none',
    '-qmp', `unix:${qmp},server=on,wait=off`,
  ];
  for (const extra of o.extraDisks ?? []) args.push('-drive', `if=virtio,format=raw,file=${extra}`);
  if (o.direct) args.push('-kernel', o.direct.kernel, '-initrd', o.direct.initrd, '-append', o.direct.append);
  const started = Date.now();
  const child = spawnLogged('ip', args, join(o.dir, `qemu-${o.label}.log`));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const guest: Guest = {
    elapsed: () => Date.now() - started,
    serial: async () => {
      const qemuLog = await readFile(join(o.dir, `qemu-${o.label}.log`), 'utf8').catch(() => '');
      const serial = await readFile(serialFile, 'utf8').catch(() => '');
      return qemuLog.trim() ? `${serial}\n[qemu] ${qemuLog}` : serial;
    },
    exited,
    kill: () => child.kill('SIGKILL'),
    powerdown: async (timeoutMs = 180_000) => {
      await qmpCommand(qmp, 'system_powerdown');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
      if ((await Promise.race([exited, timer])) === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`the guest did not power off within ${timeoutMs} ms after the ACPI power button`);
      }
    },
  };
  return guest;
}

/** One QMP command over qemu's control socket. */
async function qmpCommand(socketPath: string, command: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const sock = connect(socketPath);
    let buf = '';
    let sent = false;
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (!sent && buf.includes('"QMP"')) {
        sent = true;
        sock.write('{"execute":"qmp_capabilities"}\n');
        sock.write(`{"execute":"${command}"}\n`);
      }
      if ((buf.match(/"return"/g) ?? []).length >= 2) {
        sock.end();
        resolve();
      }
    });
    sock.on('error', reject);
  });
}

export interface Partition {
  number: number;
  firstSector: number;
  lastSector: number;
  name: string;
}

/** The GPT partitions of a raw disk image. */
export async function partitions(raw: string): Promise<Partition[]> {
  const { stdout } = await run('sgdisk', ['-p', raw]);
  const parts: Partition[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+ \S+\s+\S+\s+(.*)$/.exec(line);
    if (m) parts.push({ number: Number(m[1]), firstSector: Number(m[2]), lastSector: Number(m[3]), name: (m[4] ?? '').trim() });
  }
  return parts;
}

/** Copies one partition (or its first `maxMiB`) out of a raw image into `out`. */
export async function extractPartition(raw: string, part: Partition, out: string, maxMiB?: number): Promise<void> {
  const sectors = part.lastSector - part.firstSector + 1;
  const count = maxMiB === undefined ? sectors : Math.min(sectors, maxMiB * 2048);
  await run('dd', [`if=${raw}`, `of=${out}`, 'bs=512', `skip=${part.firstSector}`, `count=${count}`, 'conv=sparse', 'status=none'], { timeout: 600_000 });
}

/** A file's content from an ext4 image, read with debugfs (no mount). */
export async function debugfsCat(fsImage: string, path: string): Promise<string> {
  const { stdout } = await run('debugfs', ['-R', `cat ${path}`, fsImage], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Copies a folder out of an ext4 image (debugfs rdump). */
export async function debugfsDump(fsImage: string, path: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  await run('debugfs', ['-R', `rdump ${path} ${into}`, fsImage], { maxBuffer: 64 * 1024 * 1024 });
}
