import { AlreadyExistsError } from '@phoenix/shared';
import type { ValueKind } from './records.js';

const LABEL: Record<ValueKind, string> = { vmid: 'VMID', ip: 'IP address', mac: 'MAC address' };

/** A requested (static) value is already held by another guest. Names both guests and the value. */
export class AllocationClashError extends AlreadyExistsError {
  readonly kind: ValueKind;
  readonly value: string;
  readonly guestId: string;
  readonly heldBy: string;
  constructor(kind: ValueKind, value: string, guestId: string, heldBy: string, network?: string) {
    const where = network === undefined ? '' : ` in network ${network}`;
    super(`${LABEL[kind]} ${value}${where} requested by guest ${guestId} is already held by guest ${heldBy}`, {
      details: { kind, value, guestId, heldBy, ...(network === undefined ? {} : { network }) },
    });
    this.kind = kind;
    this.value = value;
    this.guestId = guestId;
    this.heldBy = heldBy;
  }
}
