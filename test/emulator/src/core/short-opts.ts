/** Minimal POSIX getopt (as the zfs/zpool tools use): combined flags, `-o value`, `-ovalue`. */
export interface ShortOpts {
  flags: Set<string>;
  values: Record<string, string[]>;
  args: string[];
  error?: string;
}

export function getopt(argv: string[], flagChars: string, valueChars: string): ShortOpts {
  const res: ShortOpts = { flags: new Set(), values: {}, args: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    for (let j = 1; j < a.length; j++) {
      const c = a.charAt(j);
      if (valueChars.includes(c)) {
        let v = a.slice(j + 1);
        if (v === '') {
          const next = argv[++i];
          if (next === undefined) {
            res.error = `missing argument for '${c}' option`;
            return res;
          }
          v = next;
        }
        (res.values[c] ??= []).push(v);
        break;
      }
      if (!flagChars.includes(c)) {
        res.error = `invalid option '${c}'`;
        return res;
      }
      res.flags.add(c);
    }
  }
  res.args = argv.slice(i);
  return res;
}
