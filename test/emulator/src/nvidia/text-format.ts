/**
 * Small formatting helpers shared by the nvidia-smi renderers: timestamps in nvidia-smi's two
 * styles, padding, and the value spellings nvidia-smi uses.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const two = (n: number): string => String(n).padStart(2, '0');

/** ctime(3) style, local time: "Mon Nov 23 07:28:03 2026" (day of month space-padded). */
export function ctimeStamp(d: Date): string {
  return (
    `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`
  );
}

/** The `timestamp` query field: "2026/11/23 07:28:03.123". */
export function csvTimestamp(d: Date): string {
  return (
    `${d.getFullYear()}/${two(d.getMonth() + 1)}/${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`
  );
}

/** dmon -o D/T columns: 20261123 and 07:28:03. */
export function dmonDate(d: Date): string {
  return `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}`;
}
export function dmonTime(d: Date): string {
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export const rpad = (s: string | number, n: number): string => String(s).padEnd(n, ' ');
export const lpad = (s: string | number, n: number): string => String(s).padStart(n, ' ');

/** Watts with two decimals, as every power field prints them. */
export const watts = (w: number): string => w.toFixed(2);

export const enabled = (b: boolean): string => (b ? 'Enabled' : 'Disabled');

/** "00000000:00:06.0" → { domain: "0000", bus: "00", device: "06", fn: "0" }. */
export function splitBusId(busId: string): { domain: string; bus: string; device: string; fn: string } {
  const m = /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2})\.([0-7])$/.exec(busId);
  if (m === null) return { domain: '0000', bus: '00', device: '00', fn: '0' };
  const [, domain8 = '', bus = '', device = '', fn = ''] = m;
  return { domain: domain8.slice(4), bus, device, fn };
}

/** The graphics clocks a GPU supports, from max down to min in 15 MHz steps (as the capture lists). */
export function supportedGraphicsClocks(max: number, min: number): number[] {
  const out: number[] = [];
  for (let c = max; c >= min; c -= 15) out.push(c);
  return out;
}
