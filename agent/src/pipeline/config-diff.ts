/**
 * The bookkeeping both config diffs (LXC and VM) share: keys to set, keys to delete, disks to
 * grow, and one human line per change, read against the current config values.
 */
export function configDiff(cur: Readonly<Record<string, string | undefined>>) {
  const set: Record<string, string> = {};
  const del: string[] = [];
  const resize: Array<{ disk: string; size: string }> = [];
  const summary: string[] = [];
  const put = (key: string, value: string, why?: string): void => {
    set[key] = value;
    summary.push(why ?? `${key}: ${cur[key] ?? '(unset)'} → ${value}`);
  };
  const drop = (key: string): void => {
    if (cur[key] === undefined) return;
    del.push(key);
    summary.push(`${key}: removed`);
  };
  return { set, del, resize, summary, put, drop };
}
