import type { Ctx } from './ctx.js';

export function qmMain(ctx: Ctx, _argv: string[]): Promise<number> {
  ctx.stderr('qm: not implemented yet\n');
  return Promise.resolve(255);
}
