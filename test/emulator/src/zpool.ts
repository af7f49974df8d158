import type { Ctx } from './ctx.js';

export function zpoolMain(ctx: Ctx, _argv: string[]): Promise<number> {
  ctx.stderr('zpool: not implemented yet\n');
  return Promise.resolve(255);
}
