// Which command a `plugsrv` command line runs, read before the program is built (main.ts loads only that group).

/**
 * The command named on the command line, past the global options (`valueFlags`: those that take a value, as in
 * "-d DIR", "-dDIR" or "--data-dir=DIR"); undefined when there is none or when something else comes first (--help,
 * --version, an unknown option): then every group is registered, as the help needs. Pure.
 */
export function commandNamed(args: readonly string[], valueFlags: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (valueFlags.includes(a)) {
      i++;
      continue;
    }
    if (valueFlags.some((f) => (f.startsWith('--') ? a.startsWith(`${f}=`) : a.startsWith(f) && a.length > f.length && !a.startsWith('--')))) continue;
    return a.startsWith('-') ? undefined : a;
  }
  return undefined;
}
