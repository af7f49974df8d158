/** A line diff of a file change for dry runs: `-`/`+` lines with up to two lines of context around each change. */
export function lineDiff(path: string, before: string | undefined, after: string): string[] {
  const a = before === undefined || before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  // LCS table; host files are small.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: { op: ' ' | '-' | '+'; text: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ op: ' ', text: a[i]! });
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      ops.push({ op: '+', text: b[j]! });
      j++;
    } else {
      ops.push({ op: '-', text: a[i]! });
      i++;
    }
  }
  const near = (k: number): boolean => ops.slice(Math.max(0, k - 2), k + 3).some((o) => o.op !== ' ');
  const out = [`--- ${before === undefined ? '/dev/null' : path}`, `+++ ${path}`];
  let skipped = false;
  ops.forEach((o, k) => {
    if (o.op !== ' ' || near(k)) {
      out.push(`${o.op}${o.text}`);
      skipped = false;
    } else if (!skipped) {
      out.push('@@');
      skipped = true;
    }
  });
  return out;
}
