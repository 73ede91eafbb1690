// End to end: real download clients (curl, wget, aria2c segmented, curl resume) against a real `plugsrv serve`, checked by sha256.
import t from 'tap';
import { execFile } from 'node:child_process';
import { access, constants, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { SampleSpec } from '../../agent/src/demo/samples.js';
import { ensureSamples } from '../../agent/src/demo/samples.js';
import { cleanEnv, runCli, startServer, tempDir } from '../helpers/agent-process.js';
import { sha256File } from '../helpers/files.js';

const MiB = 1024 * 1024;
const CLIENT_TIMEOUT_MS = 60_000;

/** The assertions a helper needs from whichever test it runs in. */
type Asserts = Pick<typeof t, 'equal'>;

/** Small packages: one with an odd size, one with a space in its name, one with non-ASCII characters. */
const SPECS: readonly SampleSpec[] = [
  { size: 3 * MiB, meta: { name: 'IVI_SOFT_3.1.7.bin', kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '3.1.7' } },
  { size: 7 * MiB + 4321, meta: { name: 'EASY-LINK SOFT 6.2.1.bin', kind: 'soft', headUnit: 'EASY-LINK', models: ['BJA', 'LJL'], version: '6.2.1' } },
  { size: 20 * MiB, meta: { name: 'Carte_Europe_été_2026.bin', kind: 'map', headUnit: 'R-LINK2', models: ['BJA', 'XFK'], version: '2026.4' } },
];

interface Listed {
  id: string;
  name: string;
  size: number;
}


/** The absolute path of an executable on PATH, or undefined. */
async function which(cmd: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, cmd);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Runs a client to completion; rejects with its stderr on a non-zero exit or after the timeout. */
function run(file: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { timeout: CLIENT_TIMEOUT_MS, killSignal: 'SIGKILL', env: cleanEnv(), maxBuffer: 4 * MiB, ...(cwd ? { cwd } : {}) }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\nstderr: ${stderr}`));
      else resolvePromise(stdout);
    });
  });
}

/** Sum of the samples of a Prometheus metric whose line contains every one of `labels`. */
async function metric(base: string, name: string, labels: string[] = []): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) {
    if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && labels.every((l) => line.includes(l))) {
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return n;
}

/** Package downloads answered with 206. */
function partialResponses(base: string): Promise<number> {
  return metric(base, 'plugsrv_http_requests_total', ['route="package"', 'status="206"']);
}

/**
 * Body bytes the server has sent, once it has counted `expected` of them: a download is counted when the
 * server's stream ends, which may be just after the client has exited; so poll briefly.
 */
async function bytesServedReaching(base: string, expected: number): Promise<number> {
  const deadline = Date.now() + 3000;
  let n = await metric(base, 'plugsrv_bytes_served_total');
  while (n < expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    n = await metric(base, 'plugsrv_bytes_served_total');
  }
  return n;
}

// --- fixture: generate, import with the real CLI, serve with the real CLI --------------------------

const work = await tempDir(t, 'plugsrv-e2e-clients-');
const items = await ensureSamples(join(work, 'samples'), SPECS);
const expected = new Map<string, string>(); // name -> sha256 of the source file
for (const item of items) expected.set(item.meta.name, await sha256File(item.path));

const manifest = join(work, 'samples', 'manifest.json');
await writeFile(manifest, JSON.stringify({ packages: SPECS.map((s) => ({ path: s.meta.name, ...s.meta })) }));
const dataDir = join(work, 'data');
const imported = await runCli(['--data-dir', dataDir, 'import', '--manifest', manifest, '--json']);
if (imported.code !== 0) throw new Error(`plugsrv import failed (${imported.code}):\n${imported.stdout}\n${imported.stderr}`);

// Every await happens before the first t.test: tap ends the root test once its queue drains.
const [curl, wget, aria2c] = await Promise.all([which('curl'), which('wget'), which('aria2c')]);
const server = await startServer(dataDir);
t.teardown(() => server.stop());
const base = server.url;

let packages: Listed[] = [];

t.test('the served list holds every imported package with its source hash and size', async (t) => {
  const res = await fetch(`${base}/v1/packages`);
  t.equal(res.status, 200);
  packages = ((await res.json()) as { packages: Listed[] }).packages;
  t.equal(packages.length, SPECS.length, 'one entry per package');
  for (const spec of SPECS) {
    const p = packages.find((x) => x.name === spec.meta.name);
    t.ok(p, `${spec.meta.name} is listed`);
    t.equal(p?.id, expected.get(spec.meta.name), `${spec.meta.name}: id is the sha256 of the source file`);
    t.equal(p?.size, spec.size, `${spec.meta.name}: size`);
  }
});

function urlOf(p: Listed): string {
  return `${base}/v1/packages/${p.id}/${encodeURIComponent(p.name)}`;
}

/** Downloads every listed package with `download(url, outPath)` into a fresh folder and checks each hash. */
async function downloadAll(t: Asserts, label: string, download: (url: string, out: string) => Promise<unknown>): Promise<void> {
  t.equal(packages.length, SPECS.length, 'the package list was read');
  const dir = join(work, label);
  await mkdir(dir, { recursive: true });
  for (const p of packages) {
    const out = join(dir, p.name);
    await download(urlOf(p), out);
    t.equal((await stat(out)).size, p.size, `${label}: ${p.name} has the listed size`);
    t.equal(await sha256File(out), p.id, `${label}: ${p.name} hashes to its id`);
  }
}

const missing = (bin: string | undefined, name: string, pkg: string): string | false => {
  if (bin) return false;
  const reason = `${name} is not installed (apt-get install ${pkg})`;
  t.comment(`skipping: ${reason}`);
  return reason;
};

t.test('curl downloads every package', { skip: missing(curl, 'curl', 'curl') }, async (t) => {
  await downloadAll(t, 'curl', (url, out) => run(curl as string, ['-fsS', '--max-time', '60', '-o', out, url]));
});

t.test('wget downloads every package', { skip: missing(wget, 'wget', 'wget') }, async (t) => {
  await downloadAll(t, 'wget', (url, out) => run(wget as string, ['-q', '--timeout=60', '--tries=1', '-O', out, url]));
});

t.test('aria2c downloads every package in parallel segments', { skip: missing(aria2c, 'aria2c', 'aria2') }, async (t) => {
  const before = await partialResponses(base);
  await downloadAll(t, 'aria2c', (url, out) => {
    const dir = join(out, '..');
    const name = out.slice(dir.length + 1);
    return run(aria2c as string, [
      '-x', '8', '-s', '8', '-k', '1M', '--file-allocation=none', '--allow-overwrite=true',
      '--console-log-level=error', '--summary-interval=0', '--timeout=60', '--max-tries=1',
      '-d', dir, '-o', name, url,
    ]);
  });
  const segments = (await partialResponses(base)) - before;
  // Each package of 3 MiB or more with 1 MiB pieces and -s 8 is fetched as at least 2 ranges.
  t.ok(segments >= 2 * SPECS.length, `aria2c used ranged requests (${segments} responses with 206 for ${SPECS.length} packages)`);
  const left = (await readdir(join(work, 'aria2c'))).filter((f) => f.endsWith('.aria2'));
  t.same(left, [], 'no aria2 control file left behind (every download completed)');
});

t.test('curl resumes an interrupted download with -C -', { skip: missing(curl, 'curl', 'curl') }, async (t) => {
  t.equal(packages.length, SPECS.length, 'the package list was read');
  const dir = join(work, 'curl-resume');
  await mkdir(dir, { recursive: true });
  const served = await bytesServedReaching(base, 0);
  for (const p of packages) {
    const out = join(dir, p.name);
    // An odd cut point, not on a chunk boundary.
    const firstPart = Math.floor(p.size / 3) + 17;
    await run(curl as string, ['-fsS', '--max-time', '60', '-r', `0-${firstPart - 1}`, '-o', out, urlOf(p)]);
    t.equal((await stat(out)).size, firstPart, `${p.name}: the partial download holds the first ${firstPart} bytes`);
    await run(curl as string, ['-fsS', '--max-time', '60', '-C', '-', '-o', out, urlOf(p)]);
    t.equal((await stat(out)).size, p.size, `${p.name}: the resumed download has the full size`);
    t.equal(await sha256File(out), p.id, `${p.name}: the resumed download hashes to its id`);
  }
  // A client that re-downloaded everything (the server ignoring Range) would make this larger.
  const total = packages.reduce((n, p) => n + p.size, 0);
  t.equal((await bytesServedReaching(base, served + total)) - served, total, 'the server sent each byte once: the second part resumed where the first stopped');
});

t.test('wget -c resumes an interrupted download', { skip: missing(wget, 'wget', 'wget') || missing(curl, 'curl', 'curl') }, async (t) => {
  t.equal(packages.length, SPECS.length, 'the package list was read');
  const dir = join(work, 'wget-resume');
  await mkdir(dir, { recursive: true });
  const served = await bytesServedReaching(base, 0);
  for (const p of packages) {
    const out = join(dir, p.name);
    const firstPart = p.size - MiB - 3;
    await run(curl as string, ['-fsS', '--max-time', '60', '-r', `0-${firstPart - 1}`, '-o', out, urlOf(p)]);
    t.equal((await stat(out)).size, firstPart, `${p.name}: partial file`);
    await run(wget as string, ['-q', '-c', '--timeout=60', '--tries=1', '-O', out, urlOf(p)]);
    t.equal(await sha256File(out), p.id, `${p.name}: the resumed download hashes to its id`);
  }
  const total = packages.reduce((n, p) => n + p.size, 0);
  t.equal((await bytesServedReaching(base, served + total)) - served, total, 'the server sent each byte once: wget resumed rather than starting over');
});

t.test('curl -OJ saves under the name from Content-Disposition', { skip: missing(curl, 'curl', 'curl') }, async (t) => {
  t.equal(packages.length, SPECS.length, 'the package list was read');
  for (const p of packages) {
    const dir = join(work, 'curl-oj', p.id.slice(0, 12));
    await mkdir(dir, { recursive: true });
    await run(curl as string, ['-fsS', '--max-time', '60', '-OJ', `${base}/v1/packages/${p.id}`], dir);
    const files = await readdir(dir);
    // curl reads the ASCII `filename=` fallback, where each non-ASCII character became "_".
    t.same(files, [p.name.replace(/[^\x20-\x7e]/g, '_')], `${p.name}: saved under its (ASCII-safe) package name`);
    if (files[0]) t.equal(await sha256File(join(dir, files[0])), p.id, `${p.name}: content`);
  }
});
