// End to end: `plugsrv console` driven in tmux (send-keys, capture-pane) inside a network namespace whose veth leads to a
// "router" namespace. Password refused then accepted, bad input refused with its message, a static address applied and
// checked from outside, a gateway nobody answers rolled back, an unconfirmed change reverted, a lost link rolled back,
// an address typed on an AZERTY keyboard.
// Root only; nothing leaves
// the two namespaces this test creates (the veth pair is created directly inside them).
import t from 'tap';
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hashPassword } from '../../agent/src/console/index.js';
import { CLI, tempDir } from '../helpers/agent-process.js';

const exec = promisify(execFile);
const PASSWORD = 'Temporaire-2024!';

async function run(file: string, args: string[]): Promise<string> {
  return (await exec(file, args, { timeout: 15_000 })).stdout;
}

async function whyNot(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces (run the tests as root)';
  for (const bin of ['tmux', 'ip']) {
    try {
      await exec('sh', ['-c', `command -v ${bin}`]);
    } catch {
      return `${bin} is not installed (apt-get install ${bin === 'ip' ? 'iproute2' : bin})`;
    }
  }
  const probe = `pcprobe${process.pid}`;
  try {
    await run('ip', ['netns', 'add', probe]);
    await run('ip', ['netns', 'del', probe]);
  } catch (err) {
    return `cannot create a network namespace here (${(err as Error).message.split('\n')[0]})`;
  }
  return undefined;
}

const skip = await whyNot();
if (skip) console.log(`# skipping the console tmux test: ${skip}`);

/** A tmux server on its own socket, one 80x25 session, read with capture-pane. */
class Tmux {
  readonly socket: string;
  constructor(socket: string) {
    this.socket = socket;
  }
  async tmux(...args: string[]): Promise<string> {
    return run('tmux', ['-L', this.socket, ...args]);
  }
  async start(conf: string, command: string): Promise<void> {
    await this.tmux('-f', conf, 'new-session', '-d', '-s', 'console', '-x', '80', '-y', '25', command);
  }
  /** Named keys (Enter, Down, C-u...). */
  async keys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', 'console', ...keys);
  }
  /** Literal text. */
  async type(text: string): Promise<void> {
    await this.tmux('send-keys', '-t', 'console', '-l', text);
  }
  async screen(): Promise<string> {
    return this.tmux('capture-pane', '-p', '-t', 'console');
  }
  async kill(): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined);
  }
}

/** Whitespace collapsed, so a sentence wrapped over two screen lines still matches. */
const flat = (screen: string): string => screen.replace(/\s+/g, ' ');

t.test('plugsrv console in tmux, in a network namespace', skip ? { skip } : { timeout: 180_000 }, async (t) => {
  const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const boxNs = `pc-box-${id}`;
  const routerNs = `pc-rtr-${id}`;
  const boxIf = `pcb${id}`.slice(0, 15);
  const routerIf = `pcr${id}`.slice(0, 15);
  const n = randomInt(1, 250);
  const net = `10.77.${n}`;
  const other = `10.77.${n + 1}`;
  const dir = await tempDir(t, 'plugsrv-console-');
  const tmux = new Tmux(`plugsrv-console-${id}`);
  t.teardown(async () => {
    await tmux.kill();
    await run('ip', ['netns', 'del', boxNs]).catch(() => undefined);
    await run('ip', ['netns', 'del', routerNs]).catch(() => undefined);
  });

  // Two namespaces and a veth pair created inside them: the host's own interfaces are never touched.
  await run('ip', ['netns', 'add', boxNs]);
  await run('ip', ['netns', 'add', routerNs]);
  await run('ip', ['link', 'add', boxIf, 'netns', boxNs, 'type', 'veth', 'peer', 'name', routerIf, 'netns', routerNs]);
  await run('ip', ['-n', routerNs, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', routerNs, 'addr', 'add', `${net}.1/24`, 'dev', routerIf]);
  await run('ip', ['-n', routerNs, 'link', 'set', routerIf, 'up']);
  await run('ip', ['-n', boxNs, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', boxNs, 'link', 'set', boxIf, 'up']);
  await run('ip', ['-n', boxNs, 'addr', 'add', `${net}.2/24`, 'dev', boxIf]);
  await run('ip', ['-n', boxNs, 'route', 'add', 'default', 'via', `${net}.1`]);

  // The set-up the box had before (as the image would ship it), the password from the "production line", the config.
  const networkDir = join(dir, 'network');
  const networkFile = join(networkDir, `10-plugsrv-${boxIf}.network`);
  const resolvConf = join(dir, 'resolv.conf');
  await mkdir(networkDir);
  const originalFile = `[Match]\nName=${boxIf}\n\n[Network]\nAddress=${net}.2/24\nGateway=${net}.1\nDNS=${net}.1\n`;
  await writeFile(networkFile, originalFile);
  await writeFile(resolvConf, `nameserver ${net}.1\n`);
  const passwordFile = join(dir, 'console-password');
  // A cheap scrypt cost keeps the test fast; the format is the production one.
  await writeFile(passwordFile, `${await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 })}\n`, { mode: 0o600 });
  const dataDir = join(dir, 'data');
  const config = join(dir, 'plugsrv.yaml');
  await writeFile(
    config,
    [
      `dataDir: ${dataDir}`,
      'console:',
      `  passwordFile: ${passwordFile}`,
      `  networkDir: ${networkDir}`,
      `  interface: ${boxIf}`,
      '  applyWith: iproute2',
      `  resolvConf: ${resolvConf}`,
      '  rollbackSeconds: 5',
      '  lang: fr',
      '',
    ].join('\n'),
  );
  const tmuxConf = join(dir, 'tmux.conf');
  await writeFile(tmuxConf, 'set -g remain-on-exit on\nset -g status off\n');
  const stderrFile = join(dir, 'console.stderr');
  // The shell in the pane writes the console's exit status here: tmux's own #{pane_dead_status} depends on when its
  // server reaps the child, which was seen to lag by over a minute on a loaded machine.
  const statusFile = join(dir, 'console.status');

  const addresses = async (): Promise<string[]> => {
    const rows = JSON.parse(await run('ip', ['-n', boxNs, '-j', '-4', 'addr', 'show', 'dev', boxIf])) as Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>;
    return rows.flatMap((r) => r.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
  };
  const defaultRoute = async (): Promise<string> => (await run('ip', ['-n', boxNs, '-4', 'route', 'show', 'default'])).trim();

  const waitFor = async (expected: string | RegExp, timeoutMs = 15_000): Promise<string> => {
    const until = Date.now() + timeoutMs;
    let screen = '';
    for (;;) {
      screen = await tmux.screen();
      const text = flat(screen);
      if (typeof expected === 'string' ? text.includes(expected) : expected.test(text)) return screen;
      if (Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const stderr = await readFile(stderrFile, 'utf8').catch(() => '');
    const log = await readFile(join(dataDir, 'console', 'console.log'), 'utf8').catch(() => '');
    throw new Error(`"${String(expected)}" not on screen within ${timeoutMs} ms. Screen:\n${screen}\nstderr:\n${stderr}\nconsole.log:\n${log}`);
  };

  /** The network screen, once it has read the current set-up and shows the form (keys are ignored before). */
  const openForm = (): Promise<string> => waitFor(new RegExp(`Réseau - interface ${boxIf} .* Adresse IP \\[`));

  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  await tmux.start(
    tmuxConf,
    `env -i PATH=${quote(process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')} TERM="$TERM" LANG=C.UTF-8 ` +
      `ip netns exec ${boxNs} ${quote(process.execPath)} ${quote(CLI)} --config ${quote(config)} console 2>${quote(stderrFile)}; ` +
      `echo $? > ${quote(statusFile)}.tmp && mv ${quote(statusFile)}.tmp ${quote(statusFile)}`,
  );

  await t.test('a wrong password is refused, the right one accepted', async (t) => {
    await waitFor('Mot de passe :');
    await tmux.type('pas-le-bon-mot-de-passe');
    await tmux.keys('Enter');
    const refused = await waitFor('Mot de passe incorrect. Encore 4 essais avant un blocage de 60 s.');
    t.notMatch(refused, /pas-le-bon/, 'the typed password is never shown');
    t.same(JSON.parse(await readFile(join(dataDir, 'console', 'lockout.json'), 'utf8')), { failures: 1, lockedUntil: 0 }, 'the failure is persisted');
    await tmux.type(PASSWORD);
    await tmux.keys('Enter');
    await waitFor('Connecté. Choisissez une rubrique.');
    // The summary is read once signed in: wait for it rather than race it.
    await waitFor(`Interface ${boxIf} : ${net}.2/24, passerelle ${net}.1, lien actif`);
    t.same(JSON.parse(await readFile(join(dataDir, 'console', 'lockout.json'), 'utf8')), { failures: 0, lockedUntil: 0 }, 'success resets the count');
  });

  await t.test('bad input is refused with its message and changes nothing', async (t) => {
    await tmux.keys('Enter');
    const form = await openForm();
    t.match(form, new RegExp(`Adresse IP\\s+\\[${net.replace(/\./g, '\\.')}\\.2\\s*\\]`), 'the form starts from the current file');
    // Focus starts on Mode: Down to the address, Ctrl-U clears a field.
    await tmux.keys('Down', 'C-u');
    await tmux.type(`${net}.300`);
    await tmux.keys('Down', 'Down', 'C-u');
    await tmux.type(`${other}.1`);
    await tmux.keys('Down', 'Down', 'Enter');
    await waitFor(`Adresse IP : ${net}.300 n'est pas valide, chaque nombre va de 0 à 255 (300 est trop grand).`);
    await waitFor('1 erreur : corrigez le champ marqué ! puis Appliquer.');
    // The focus went to the bad field: fix the address, then the gateway outside the prefix is the problem.
    await tmux.keys('C-u');
    await tmux.type(`${net}.10`);
    await tmux.keys('Tab', 'Tab', 'Tab', 'Tab', 'Enter');
    await waitFor(`Passerelle : ${other}.1 n'est pas dans le réseau ${net}.0/24 de l'adresse ; elle doit être entre ${net}.1 et ${net}.254.`);
    t.same(await addresses(), [`${net}.2/24`], 'address unchanged');
    t.equal(await readFile(networkFile, 'utf8'), originalFile, 'file unchanged');
  });

  let keptFile = '';
  await t.test('a good static set-up is applied, checked and kept', async (t) => {
    // Focus is on the gateway now.
    await tmux.keys('C-u');
    await tmux.type(`${net}.1`);
    await tmux.keys('Down', 'C-u');
    await tmux.type(`${net}.1, ${net}.53`);
    await tmux.keys('Down', 'Enter');
    const confirm = await waitFor('Conserver ces réglages ?');
    t.match(flat(confirm), `La passerelle ${net}.1 répond.`);
    t.match(flat(confirm), /Sans réponse, retour automatique aux réglages précédents dans [1-5] s\./);
    await tmux.type('o');
    await waitFor('Réglages réseau appliqués et conservés.');

    t.same(await addresses(), [`${net}.10/24`], 'the new address, and only it, seen from outside the namespace');
    t.match(await defaultRoute(), new RegExp(`^default via ${net.replace(/\./g, '\\.')}\\.1 dev ${boxIf}`));
    keptFile = await readFile(networkFile, 'utf8');
    const lines = keptFile.split('\n');
    t.match(lines[0], /^# Written by plugsrv console on \d{4}-\d\d-\d\dT/, 'header comment');
    t.same(lines.slice(1), ['[Match]', `Name=${boxIf}`, '', '[Network]', 'DHCP=no', `Address=${net}.10/24`, `Gateway=${net}.1`, `DNS=${net}.1`, `DNS=${net}.53`, '']);
    t.equal(await readFile(resolvConf, 'utf8'), `# Written by plugsrv console (console.applyWith: iproute2).\nnameserver ${net}.1\nnameserver ${net}.53\n`);
    await tmux.keys('Enter');
    await waitFor(`Interface ${boxIf} : ${net}.10/24, passerelle ${net}.1, lien actif`);
  });

  await t.test('a gateway nobody answers is rolled back, and the screen says why', async (t) => {
    await tmux.keys('Enter');
    await openForm();
    await tmux.keys('Down', 'C-u');
    await tmux.type(`${net}.20`);
    await tmux.keys('Down', 'Down', 'C-u');
    await tmux.type(`${net}.99`);
    await tmux.keys('Down', 'Down', 'Enter');
    await waitFor(`Vérification du lien et de la passerelle ${net}.99`);
    const result = await waitFor('Les réglages précédents sont rétablis.', 20_000);
    t.match(flat(result), 'Réglages réseau NON appliqués.');
    t.match(flat(result), `Motif : la passerelle ${net}.99 ne répond pas (aucune réponse ARP en 5 s).`);
    t.same(await addresses(), [`${net}.10/24`], 'the previous address is back');
    t.match(await defaultRoute(), new RegExp(`^default via ${net.replace(/\./g, '\\.')}\\.1 dev ${boxIf}`), 'the previous route is back');
    t.equal(await readFile(networkFile, 'utf8'), keptFile, 'the previous file is back, byte for byte');
    t.match(await readFile(resolvConf, 'utf8'), `nameserver ${net}.53`, 'the previous resolv.conf is back');
    await tmux.keys('Enter');
    await waitFor('Haut/Bas ou 1-7 : choisir');
  });

  await t.test('a change nobody confirms reverts by itself', async (t) => {
    await tmux.keys('Enter');
    await openForm();
    await tmux.keys('Down', 'C-u');
    await tmux.type(`${net}.30`);
    await tmux.keys('Tab', 'Tab', 'Tab', 'Tab', 'Enter');
    await waitFor('Conserver ces réglages ?');
    t.same(await addresses(), [`${net}.30/24`], 'applied while waiting for the answer');
    await waitFor('Pas de confirmation en 5 s : retour aux réglages précédents.', 15_000);
    await waitFor('Les réglages précédents sont rétablis.');
    t.same(await addresses(), [`${net}.10/24`]);
    t.equal(await readFile(networkFile, 'utf8'), keptFile);
  });

  await t.test('a lost link is rolled back too', async (t) => {
    await tmux.keys('Enter');
    await waitFor('Haut/Bas ou 1-7 : choisir');
    // Unplugging the "cable": the router's end goes down, so the box's veth loses its carrier.
    await run('ip', ['-n', routerNs, 'link', 'set', routerIf, 'down']);
    t.teardown(() => run('ip', ['-n', routerNs, 'link', 'set', routerIf, 'up']).catch(() => undefined));
    await waitFor('LIEN COUPÉ');
    await tmux.keys('Enter');
    await openForm();
    await tmux.keys('Down', 'C-u');
    await tmux.type(`${net}.40`);
    await tmux.keys('Tab', 'Tab', 'Tab', 'Tab', 'Enter');
    const result = await waitFor('Les réglages précédents sont rétablis.', 20_000);
    t.match(flat(result), `Motif : le lien réseau de ${boxIf} est coupé depuis 5 s. Vérifiez le câble et le port du commutateur.`);
    t.same(await addresses(), [`${net}.10/24`]);
    t.equal(await readFile(networkFile, 'utf8'), keptFile);
    await run('ip', ['-n', routerNs, 'link', 'set', routerIf, 'up']);
  });

  await t.test('an AZERTY keyboard: the menu switches the layout, Shift + the top row types an address, Alt + à an @', async (t) => {
    await tmux.keys('Enter');
    await waitFor('Haut/Bas ou 1-7 : choisir');
    await tmux.type('6');
    await waitFor('Clavier : QWERTY (España)');
    await tmux.keys('Enter', 'Enter');
    await waitFor('Clavier : AZERTY (France)');
    // What the kernel's US keymap reads when an AZERTY typist types digits with Shift and the dot with Shift+;.
    const us = '!@#$%^&*()';
    const asTyped = (address: string): string => [...address].map((c) => (c === '.' ? '<' : us[(Number(c) + 9) % 10])).join('');
    await tmux.type('1');
    await openForm();
    await tmux.keys('Down', 'C-u');
    await tmux.type(asTyped(`${net}.50`));
    const form = await waitFor(`Adresse IP [${net}.50_`);
    t.match(flat(form), `Adresse IP [${net}.50_`, 'the address as printed on the keys');
    // Alt + à stands in for AltGr + à (the US keymap has no AltGr characters): @ on AZERTY. The terminal sends ESC 0.
    await tmux.keys('M-0');
    const alt = await waitFor(`Adresse IP [${net}.50@_`);
    t.match(flat(alt), `Adresse IP [${net}.50@_`, 'Alt + à typed @, not Escape then 0');
    await tmux.keys('BSpace');
    await waitFor(`Adresse IP [${net}.50_`);
    await tmux.keys('Escape');
    await waitFor('Haut/Bas ou 1-7 : choisir');
    t.equal(await readFile(networkFile, 'utf8'), keptFile, 'nothing applied');
  });

  await t.test('F2 switches to English; Ctrl-C leaves cleanly', async (t) => {
    await tmux.keys('F2');
    await waitFor('Up/Down or 1-7: choose');
    await tmux.keys('C-c');
    let status: string | undefined;
    const until = Date.now() + 15_000;
    while (status === undefined && Date.now() < until) {
      status = await readFile(statusFile, 'utf8').catch(() => undefined);
      if (status === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    t.equal(status?.trim(), '0', 'the console exited with status 0');
    t.equal(await readFile(stderrFile, 'utf8'), '', 'nothing on stderr');
  });
});
