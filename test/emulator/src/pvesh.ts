import type { Ctx } from './ctx.js';

export function pveshMain(ctx: Ctx, _argv: string[]): Promise<number> {
  ctx.stderr('pvesh: not implemented yet\n');
  return Promise.resolve(255);
}
