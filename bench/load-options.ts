/** The flags of the HTTP load benchmarks (bench/audit.ts, bench/permissions.ts): one parser for all. */
export interface LoadOptions {
  rounds: number;
  /** Seconds of load per round. */
  duration: number;
  connections: number;
  writeDoc: boolean;
}

export function parseLoadOptions(argv: readonly string[], defaults: Omit<LoadOptions, 'writeDoc'>): LoadOptions {
  const options: LoadOptions = { ...defaults, writeDoc: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${arg} needs a positive integer`);
      return n;
    };
    if (arg === '--rounds') options.rounds = value();
    else if (arg === '--duration') options.duration = value();
    else if (arg === '--connections') options.connections = value();
    else if (arg === '--no-doc') options.writeDoc = false;
    else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}
