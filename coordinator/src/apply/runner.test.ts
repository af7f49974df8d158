import { describe, expect, it } from 'vitest';
import { agentv1 } from '@phoenix/shared';
import type { PlannedGuest } from '../plan/index.js';
import type { AgentClient } from '../agents/index.js';
import { agentRunner } from './runner.js';

const ok = agentv1.OperationResult.fromPartial({ ok: true, changed: true });
const guest: PlannedGuest = {
  id: 'web',
  vmid: 120,
  node: 'pve1',
  action: 'create',
  dependsOn: [],
  steps: [],
  spec: agentv1.GuestSpec.fromPartial({ vmid: 120 }),
};

describe('agent runner', () => {
  it('derives every agent call key from the attempt key it is given, and only from it', async () => {
    const keys: string[] = [];
    const client = {
      cloneGuest: async (key: string) => (keys.push(key), { result: ok }),
      ensureGuest: async (key: string) => (keys.push(key), ok),
      deleteGuest: async (key: string) => (keys.push(key), { result: ok }),
    } as unknown as AgentClient;
    const runner = agentRunner(() => client);
    const signal = new AbortController().signal;
    await runner.clone(guest, 'run-1/web#2', signal);
    await runner.converge(guest, 'run-1/web#2', () => undefined, signal);
    await runner.remove(guest, 'run-1/web#3', signal);
    expect(keys).toEqual(['run-1/web#2:clone', 'run-1/web#2:ensure', 'run-1/web#3:delete']);
  });

  it('turns a failed agent result into its typed error', async () => {
    const failed = agentv1.OperationResult.fromPartial({ ok: false, errorCode: 'BUSY', errorMessage: 'guest:900 is busy' });
    const client = { ensureGuest: async () => failed } as unknown as AgentClient;
    await expect(agentRunner(() => client).converge(guest, 'k#1', () => undefined, new AbortController().signal)).rejects.toMatchObject({
      code: 'BUSY',
      message: 'ensure web: guest:900 is busy',
    });
  });
});
