// Static checks of the appliance image's sources: the nftables ruleset, the systemd units' sandboxing scores, shell
// scripts, Packer templates and the small config files of image/rootfs. Each check runs the real tool (nft,
// systemd-analyze, shellcheck, packer, apt-config, chronyd) and proves with a broken copy that it can fail; a missing
// tool skips its check with the reason printed. Nothing here needs the image to be built.
import t from 'tap';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { packageRoot } from '../../lib/package-root.js';

const ROOT = packageRoot();
const ROOTFS = join(ROOT, 'image', 'rootfs');
const UNIT_DIR = join(ROOTFS, 'usr', 'lib', 'systemd', 'system');
const NFT_RULESET = join(ROOTFS, 'etc', 'nftables.conf');

/**
 * Highest accepted `systemd-analyze security` exposure per unit (0 = locked down, 10 = unsandboxed); measured with
 * systemd 252 and rounded up by 0.1. A unit without an entry fails: measure it and add it here.
 */
const EXPOSURE_BOUNDS: Record<string, number> = {
  // The agent: unprivileged; what is left is network access, AF_NETLINK/AF_UNIX, W+X memory for the JIT,
  // /proc/sys (boot_id), the rtc read allowed by ProtectClock, no RootDirectory, no IP allow list (measured 1.1).
  'plugsrv.service': 2.0,
  // The console: root with CAP_NET_ADMIN and CAP_DAC_OVERRIDE, network, no PrivateUsers (measured 2.0).
  'plugsrv-console.service': 2.1,
  // Root oneshot that only talks D-Bus to ask for a reboot (measured 0.7).
  'plugsrv-reboot.service': 0.8,
  // The root units of the disk (LUKS/TPM data partition, first boot, wipe): they need the disks, the device mapper and
  // the TPM; the first boot remounts / and so may not have a mount namespace (measured 4.1, 4.7, 4.0).
  'plugsrv-data.service': 4.2,
  'plugsrv-firstboot.service': 4.8,
  'plugsrv-wipe.service': 4.1,
};

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; never throws (a missing binary is code 127). */
function run(file: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, [...args], { timeout: 20_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      const code = e === null ? 0 : typeof e.code === 'number' ? e.code : e.code === 'ENOENT' ? 127 : 1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (e !== null && typeof e.code !== 'number' ? e.message : '') });
    });
  });
}

/** Why `tool` cannot be used (not on PATH, checked with `command -v`), or undefined when it can. */
async function missing(...tools: string[]): Promise<string | undefined> {
  for (const tool of tools) {
    if ((await run('sh', ['-c', 'command -v "$1"', 'sh', tool])).code !== 0) return `${tool} is not installed (not on PATH)`;
  }
  return undefined;
}

function skipIf(reason: string | undefined): { skip: string } | object {
  if (reason !== undefined) console.log(`# skipping: ${reason}`);
  return reason === undefined ? {} : { skip: reason };
}

async function scratch(tt: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'plugsrv-static-'));
  tt.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The project's files under `dir`, absolute paths: `git ls-files` (tracked and new, minus .gitignore'd, so image/.cache
 * with a built root file system and its /proc is never read); without git, a walk that skips dot-folders and out/.
 */
async function sourceFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const git = await run('git', ['-C', ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', relative(ROOT, dir)]);
  if (git.code === 0) return git.stdout.split('\0').filter((f) => f !== '').map((f) => join(ROOT, f)).filter((f) => existsSync(f)).sort();
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'out') out.push(...(await sourceFiles(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

const rel = (path: string): string => relative(ROOT, path);
const output = (r: RunResult): string => `${r.stdout}${r.stderr}`.trim();

// ---------------------------------------------------------------------------------------------------------------
// nftables: `nft -c` parses and checks the ruleset against the kernel's nf_tables without loading it. It needs
// CAP_NET_ADMIN, so a non-root run uses a throwaway user+network namespace (unshare -Urn).
const nftWhyNot = (await missing('nft')) ?? (process.getuid?.() !== 0 ? await missing('unshare') : undefined);

async function nftCheck(file: string): Promise<RunResult> {
  return process.getuid?.() === 0 ? run('nft', ['-c', '-f', file]) : run('unshare', ['-Urn', 'nft', '-c', '-f', file]);
}

t.test('nftables ruleset', skipIf(nftWhyNot), async (t) => {
  const text = await readFile(NFT_RULESET, 'utf8');
  const r = await nftCheck(NFT_RULESET);
  t.equal(r.code, 0, `nft -c -f ${rel(NFT_RULESET)} accepts the ruleset`, { output: output(r) });
  // Default deny everywhere: the three base chains drop what no rule accepts.
  for (const hook of ['input', 'forward', 'output']) {
    t.match(text, new RegExp(`type filter hook ${hook} priority filter; policy drop;`), `${hook} chain has policy drop`);
  }
  const broken = join(await scratch(t), 'broken.nft');
  await writeFile(broken, text.replace('tcp dport 8080 ct state new accept', 'tcp dport 8080 ct state new acept'));
  const bad = await nftCheck(broken);
  t.not(bad.code, 0, 'negative control: a ruleset with a typo is refused');
  t.match(bad.stderr, /Error/, 'and nft says why');
});

// ---------------------------------------------------------------------------------------------------------------
// systemd units. Both checks run on a scratch root (--root) holding the image's units, empty stand-ins for the
// executables they start (verify checks ExecStart= binaries exist) and stub units for the dependencies they name, so
// the host's own units and drop-ins play no part. `--offline=yes` does not need the User= account to exist.
const systemdWhyNot = await missing('systemd-analyze');
const unitFiles = (await sourceFiles(UNIT_DIR)).filter((f) => dirname(f) === UNIT_DIR);
const services = unitFiles.filter((f) => f.endsWith('.service')).map((f) => basename(f));

const DEP_KEYS = /^(?:Wants|Requires|Requisite|BindsTo|PartOf|Upholds|Conflicts|Before|After|OnFailure|OnSuccess|Unit|WantedBy|RequiredBy)=(.*)$/;
const EXEC_KEYS = /^Exec[A-Za-z]*=(.*)$/;

async function unitRoot(tt: { teardown(fn: () => unknown): void }, extra: Record<string, string> = {}): Promise<string> {
  const root = await scratch(tt);
  const dir = join(root, 'usr', 'lib', 'systemd', 'system');
  await mkdir(dir, { recursive: true });
  const defined = new Set<string>();
  const referenced = new Set(['sysinit.target', 'basic.target', 'shutdown.target', 'local-fs.target', 'umount.target']);
  const executables = new Set(['/usr/bin/true']);
  const texts: Record<string, string> = {};
  for (const f of unitFiles) texts[basename(f)] = await readFile(f, 'utf8');
  Object.assign(texts, extra);
  for (const [name, text] of Object.entries(texts)) {
    defined.add(name);
    await writeFile(join(dir, name), text);
    for (const line of text.split('\n').map((l) => l.trim())) {
      const dep = DEP_KEYS.exec(line)?.[1];
      if (dep) for (const u of dep.split(/\s+/).filter(Boolean)) referenced.add(u);
      const cmd = EXEC_KEYS.exec(line)?.[1]?.replace(/^[-@:+!]+/, '').split(/\s+/)[0];
      if (cmd?.startsWith('/')) executables.add(cmd);
    }
  }
  for (const exe of executables) {
    await mkdir(join(root, dirname(exe)), { recursive: true });
    await writeFile(join(root, exe), '#!/bin/sh\n');
    await chmod(join(root, exe), 0o755);
  }
  for (const u of referenced) {
    if (defined.has(u)) continue;
    if (u.endsWith('.target')) await writeFile(join(dir, u), '[Unit]\nDescription=stub\n');
    if (u.endsWith('.service')) await writeFile(join(dir, u), '[Unit]\nDescription=stub\n[Service]\nType=oneshot\nExecStart=/usr/bin/true\n');
  }
  return root;
}

async function exposure(root: string, unit: string): Promise<{ score: number | undefined; r: RunResult }> {
  const r = await run('systemd-analyze', ['security', '--offline=yes', `--root=${root}`, '--no-pager', unit]);
  const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(r.stdout);
  return { score: m ? Number(m[1]) : undefined, r };
}

t.test('systemd units: sandboxing exposure within its bound', skipIf(systemdWhyNot ?? (services.length === 0 ? `no *.service in ${rel(UNIT_DIR)}` : undefined)), async (t) => {
  const root = await unitRoot(t);
  for (const unit of services) {
    const { score, r } = await exposure(root, unit);
    const bound = EXPOSURE_BOUNDS[unit];
    t.not(score, undefined, `${unit}: systemd-analyze gives an exposure`, { output: output(r) });
    t.equal(r.stderr.trim(), '', `${unit}: no warnings while loading it (unknown keys, bad values)`);
    if (bound === undefined) {
      t.fail(`${unit}: exposure ${score} but no bound in EXPOSURE_BOUNDS (test/image/static.test.ts): measure it and add one`);
      continue;
    }
    t.ok(score !== undefined && score <= bound, `${unit}: exposure ${score} <= ${bound}`);
  }
  // Negative controls: an unsandboxed unit scores far above every bound, and a typo in a key is reported.
  const ctl = await unitRoot(t, {
    'zz-bare.service': '[Service]\nExecStart=/usr/bin/true\n',
    'zz-typo.service': '[Service]\nExecStart=/usr/bin/true\nProtectSystm=strict\n',
  });
  const bare = await exposure(ctl, 'zz-bare.service');
  t.ok(bare.score !== undefined && bare.score > 9, `negative control: a bare unit scores ${bare.score} (> 9)`);
  const typo = await exposure(ctl, 'zz-typo.service');
  t.match(typo.r.stderr, /Unknown key/, 'negative control: an unknown key is reported on stderr');
});

// `systemd-analyze verify` works offline given --root with the executables present (stand-ins above) and the hard
// dependencies defined (stubs). It exits 0 on unknown keys and bad values, so any stderr output fails the check.
t.test('systemd units: verify', skipIf(systemdWhyNot ?? (unitFiles.length === 0 ? `no units in ${rel(UNIT_DIR)}` : undefined)), async (t) => {
  const root = await unitRoot(t);
  const names = unitFiles.map((f) => basename(f));
  const r = await run('systemd-analyze', ['verify', '--man=no', `--root=${root}`, ...names]);
  t.equal(r.code, 0, `systemd-analyze verify ${names.join(' ')}`, { output: output(r) });
  t.equal(r.stderr.trim(), '', 'no warnings');
  const ctl = await unitRoot(t, { 'zz-bad.service': '[Service]\nExecStart=/usr/bin/true\nRestart=sometimes\n' });
  const bad = await run('systemd-analyze', ['verify', '--man=no', `--root=${ctl}`, 'zz-bad.service']);
  t.match(bad.stderr, /restart/i, 'negative control: a bad value is reported');
});

// ---------------------------------------------------------------------------------------------------------------
// Shell scripts: every *.sh under image/ and packer/, and every file under image/rootfs with a sh/bash shebang
// (e.g. usr/lib/plugsrv/*). Found by walking the tree, so new scripts are checked without editing this test.
const SH_SHEBANG = /^#!\s*(?:\/usr)?\/bin\/(?:env\s+)?(?:sh|bash|dash)\b/;

async function shellScripts(): Promise<string[]> {
  const found = new Set<string>();
  for (const f of [...(await sourceFiles(join(ROOT, 'image'))), ...(await sourceFiles(join(ROOT, 'packer')))]) {
    if (f.endsWith('.sh')) found.add(f);
    else if (f.startsWith(ROOTFS + '/')) {
      const head = (await readFile(f)).subarray(0, 64).toString('latin1');
      if (SH_SHEBANG.test(head)) found.add(f);
    }
  }
  return [...found].sort();
}

const scripts = await shellScripts();
t.test('shellcheck', skipIf((await missing('shellcheck')) ?? (scripts.length === 0 ? 'no shell scripts under image/ or packer/ yet' : undefined)), async (t) => {
  // -x follows `source`/`.` of files given next to each other; -P SCRIPTDIR resolves them from the script's folder.
  const r = await run('shellcheck', ['-x', '-P', 'SCRIPTDIR', '--format=gcc', ...scripts]);
  t.equal(r.code, 0, `shellcheck finds nothing in ${scripts.length} scripts: ${scripts.map(rel).join(' ')}`, { output: output(r) });
  const bad = join(await scratch(t), 'bad.sh');
  await writeFile(bad, '#!/bin/sh\nrm -rf $1/tmp\n');
  const ctl = await run('shellcheck', [bad]);
  t.match(ctl.stdout, /SC2086/, 'negative control: an unquoted variable is reported');
});

// ---------------------------------------------------------------------------------------------------------------
// Packer (1.6.6, HCL2). The templates in packer/ form one configuration (variables in one file, builds in another),
// so validate runs on the folder; fmt -check runs per file. validate uses -syntax-only: a full validate also checks
// things that exist only on a build host or after a build (the base image, an absent output_directory), which the
// build itself checks.
const packerFiles = (await sourceFiles(join(ROOT, 'packer'))).filter((f) => dirname(f) === join(ROOT, 'packer') && f.endsWith('.pkr.hcl'));
t.test('packer', skipIf((await missing('packer')) ?? (packerFiles.length === 0 ? 'no packer/*.pkr.hcl yet' : undefined)), async (t) => {
  const env = { CHECKPOINT_DISABLE: '1' };
  const v = await run('packer', ['validate', '-syntax-only', join(ROOT, 'packer')], env);
  t.equal(v.code, 0, `packer validate -syntax-only packer/ (${packerFiles.map((f) => basename(f)).join(' ')})`, { output: output(v) });
  for (const f of packerFiles) {
    const r = await run('packer', ['fmt', '-check', f], env);
    t.equal(r.code, 0, `packer fmt -check ${rel(f)}`, { output: output(r) });
  }
  const dir = await scratch(t);
  await writeFile(join(dir, 'bad.pkr.hcl'), 'source "null" "x" {\n  communicator = "none"\n');
  t.not((await run('packer', ['validate', '-syntax-only', dir], env)).code, 0, 'negative control: an unclosed block is refused');
  const ugly = join(await scratch(t), 'ugly.pkr.hcl');
  await writeFile(ugly, 'variable "x" {\ndefault="a"\n}\n');
  t.not((await run('packer', ['fmt', '-check', ugly], env)).code, 0, 'negative control: unformatted HCL is reported');
});

// ---------------------------------------------------------------------------------------------------------------
// Small config files, parsed by their own programs.
const aptFiles = (await sourceFiles(join(ROOTFS, 'etc', 'apt', 'apt.conf.d'))).sort();
t.test('apt configuration parses', skipIf((await missing('apt-config')) ?? (aptFiles.length === 0 ? 'no apt.conf.d files' : undefined)), async (t) => {
  for (const f of aptFiles) {
    const r = await run('apt-config', ['-c', f, 'dump']);
    t.equal(r.code, 0, `apt-config -c ${rel(f)} dump`, { output: r.stderr });
    t.equal(r.stderr.trim(), '', `${basename(f)}: no warnings`);
  }
  const ua = await run('apt-config', ['-c', join(ROOTFS, 'etc/apt/apt.conf.d/52plugsrv-unattended'), 'dump']);
  const origins = ua.stdout.split('\n').filter((l) => l.startsWith('Unattended-Upgrade::Origins-Pattern:: '));
  t.same(origins, ['Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";'], 'security origin only');
  const bad = join(await scratch(t), 'bad.conf');
  await writeFile(bad, 'APT::Periodic::Update-Package-Lists "1"\n');
  t.not((await run('apt-config', ['-c', bad, 'dump'])).code, 0, 'negative control: a missing ";" is refused');
});

const chronyConf = join(ROOTFS, 'etc', 'chrony', 'conf.d', 'plugsrv.conf');
t.test('chrony configuration parses', skipIf(await missing('chronyd')), async (t) => {
  // -p: parse the file, print it and exit; nothing is started.
  const r = await run('chronyd', ['-p', '-f', chronyConf]);
  t.equal(r.code, 0, `chronyd -p -f ${rel(chronyConf)}`, { output: output(r) });
  t.notMatch(r.stdout, /^\s*allow\b/m, 'never serves NTP');
  const bad = join(await scratch(t), 'bad.conf');
  await writeFile(bad, 'makestepp 1 3\n');
  t.not((await run('chronyd', ['-p', '-f', bad])).code, 0, 'negative control: an unknown directive is refused');
});

// Pure checks (no tool): the sysctl file's lines are well-formed and unique, and the module blacklist never names a
// module the box boots with.
t.test('sysctl and modprobe files', async (t) => {
  const sysctl = (await readFile(join(ROOTFS, 'etc/sysctl.d/90-plugsrv.conf'), 'utf8')).split('\n').filter((l) => l.trim() !== '' && !/^\s*[#;]/.test(l));
  const keys = sysctl.map((l) => /^-?([a-z0-9_]+(?:\.[a-z0-9_-]+)+) = (\S+)$/.exec(l)?.[1]);
  t.same(sysctl.filter((_, i) => keys[i] === undefined), [], 'every sysctl line is "key = value"');
  t.same(keys.filter((k, i) => keys.indexOf(k) !== i), [], 'no key set twice');

  const modprobe = (await readFile(join(ROOTFS, 'etc/modprobe.d/plugsrv-blacklist.conf'), 'utf8')).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const installs = new Set<string>();
  const blacklisted = new Set<string>();
  const malformed: string[] = [];
  for (const l of modprobe) {
    const m = /^(?:install (\S+) \/bin\/false|blacklist (\S+))$/.exec(l);
    if (!m) malformed.push(l);
    if (m?.[1]) installs.add(m[1]);
    if (m?.[2]) blacklisted.add(m[2]);
  }
  t.same(malformed, [], 'every modprobe line is "install <mod> /bin/false" or "blacklist <mod>"');
  t.ok(installs.size > 0, `${installs.size} modules blocked`);
  t.same([...blacklisted].filter((m) => !installs.has(m)), [], 'every blacklisted module also has an install line');
  const needed = /^(vfat|fat|msdos|nls_.*|dm[-_](crypt|mod)|tpm.*|virtio.*|e1000e?|igb|igc|r8169|ext4|jbd2|mbcache|efivarfs)$/;
  t.same([...installs, ...blacklisted].filter((m) => needed.test(m.replace(/-/g, '_'))), [], 'no module the box needs (ESP, LUKS, TPM, virtio, NICs, ext4)');
});

