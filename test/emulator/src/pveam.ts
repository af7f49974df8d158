import type { Ctx } from './ctx.js';

export function pveamMain(ctx: Ctx, _argv: string[]): Promise<number> {
  ctx.stderr('pveam: not implemented yet\n');
  return Promise.resolve(255);
}
