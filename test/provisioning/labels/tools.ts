// Test helper for the label: the Debian tools that read the PDF back (pdftoppm and pdftotext from poppler-utils,
// zbarimg from zbar-tools), whether they are here, and running them without a shell.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

const PACKAGE: Record<string, string> = { pdftoppm: 'poppler-utils', pdftotext: 'poppler-utils', pdfinfo: 'poppler-utils', zbarimg: 'zbar-tools' };

async function onPath(tool: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    if (dir === '') continue;
    try {
      await access(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/** Why a test needing these tools cannot run here (with the Debian packages to install), or undefined. */
export async function toolsMissing(...tools: string[]): Promise<string | undefined> {
  const missing: string[] = [];
  for (const tool of tools) if (!(await onPath(tool))) missing.push(tool);
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((m) => PACKAGE[m] ?? m))];
  return `${missing.join(', ')} not installed: apt-get install ${packages.join(' ')}`;
}

/** Runs a tool; resolves with its stdout (a Buffer), rejects with its stderr on a non-zero exit. */
export function run(tool: string, args: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${tool} ${args.join(' ')} failed: ${err.message}\n${stderr.toString('utf8')}`));
      else resolve(stdout);
    });
  });
}
