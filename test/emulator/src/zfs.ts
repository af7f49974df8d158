import type { Ctx } from './ctx.js';

export function zfsMain(ctx: Ctx, _argv: string[]): Promise<number> {
  ctx.stderr('zfs: not implemented yet\n');
  return Promise.resolve(255);
}
