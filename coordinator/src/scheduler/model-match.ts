/**
 * GPU model matching: the requested name's words must appear, in order and adjacent, among the
 * words of the GPU's name, case-insensitively. "H100" matches "NVIDIA H100 80GB HBM3"; "L40" does
 * not match "NVIDIA L40S".
 */
function words(s: string): string[] {
  return s
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

export function gpuModelMatches(requested: string, actual: string): boolean {
  const want = words(requested);
  const have = words(actual);
  if (want.length === 0) return true;
  outer: for (let i = 0; i + want.length <= have.length; i++) {
    for (let j = 0; j < want.length; j++) if (have[i + j] !== want[j]) continue outer;
    return true;
  }
  return false;
}
