import type { Ctx } from './ctx.js';

export function pvesmMain(ctx: Ctx, _argv: string[]): Promise<number> {
  ctx.stderr('pvesm: not implemented yet\n');
  return Promise.resolve(255);
}
