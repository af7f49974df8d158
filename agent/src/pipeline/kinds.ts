/** The guest kinds the pipeline knows, by name and by the agent API's guest type. */
import { commonv1 } from '@phoenix/shared';
import type { GuestKindDriver, Kind } from './guest-kind.js';
import { lxcKind } from './lxc-kind.js';
import type { GuestSpec } from './types.js';
import { vmKind } from './vm-kind.js';

export const KINDS: readonly GuestKindDriver[] = [lxcKind, vmKind];

export function kindNamed(kind: Kind): GuestKindDriver {
  return kind === 'lxc' ? lxcKind : vmKind;
}

/** The kind a spec asks for (validateSpec has checked the type). */
export function kindOfSpec(spec: GuestSpec): GuestKindDriver {
  return spec.type === commonv1.GuestType.VM ? vmKind : lxcKind;
}
