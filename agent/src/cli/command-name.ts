// Which command a `plugsrv` command line runs, read before the program is built (main.ts loads only that group).

/** Global options that take a value (as main.ts declares them). */
const VALUE_OPTIONS = new Set(['-c', '--config', '-d', '--data-dir']);

/**
 * The command named on the command line, past the global options; undefined when there is none or when something
 * else comes first (--help, --version, an unknown option): then every group is registered, as the help needs. Pure.
 */
export function commandNamed(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (/^--(config|data-dir)=/.test(a) || /^-[cd]./.test(a)) continue;
    return a.startsWith('-') ? undefined : a;
  }
  return undefined;
}
