/**
 * What the allocator keeps in the alloc bucket:
 *   vmid.<n>                 holder of a VMID
 *   ip.<network>.<a-b-c-d>   holder of an address in a network
 *   mac.<12 hex digits>      holder of a MAC
 *   guest.<id>               what a guest holds (slots) and what it may be claiming (pending)
 * A value key is claimed with `create`, so it can only ever have one holder. A claim is always
 * written into the guest's `pending` list before the value key is created, so nothing a guest
 * claims is unknown to its record, even if the coordinator dies half-way. A value leaves a slot
 * only by becoming a `releasing` pending entry (compare-and-set on the record) before its key is
 * deleted, so no record can name a value whose key another guest may have claimed since.
 */
import { z } from 'zod';
import { encodeKeyToken, kvKey } from '../state/keys.js';
import { formatIpv4 } from './ipv4.js';

export type ValueKind = 'vmid' | 'ip' | 'mac';

export const holderSchema = z.object({
  guestId: z.string().min(1),
  slot: z.string().min(1),
  at: z.string(),
});
export type Holder = z.infer<typeof holderSchema>;

export const heldValueSchema = z.object({
  kind: z.enum(['vmid', 'ip', 'mac']),
  key: z.string().min(1),
  /** '950', '10.0.0.5', '02:50:48:AA:BB:CC'. */
  value: z.string().min(1),
  network: z.string().optional(),
});
export type HeldValue = z.infer<typeof heldValueSchema>;

/**
 * A value the guest may hold that is not (or no longer) in its slots. `claiming`: a candidate,
 * written before its key is created; only a `claiming` entry may move into a slot. `releasing`:
 * to be freed; nobody moves it into a slot, so its key is deleted only once no slot can name it.
 */
export const pendingClaimSchema = heldValueSchema.extend({
  slot: z.string().min(1),
  state: z.enum(['claiming', 'releasing']),
});
export type PendingClaim = z.infer<typeof pendingClaimSchema>;

export const guestRecordSchema = z.object({
  guestId: z.string().min(1),
  /** Slot ('vmid', 'ip/<nic>', 'mac/<nic>') → the value it holds. */
  slots: z.record(z.string(), heldValueSchema),
  pending: z.array(pendingClaimSchema),
  updatedAt: z.string(),
});
export type GuestRecord = z.infer<typeof guestRecordSchema>;

export const VMID_SLOT = 'vmid';
export const ipSlot = (nic: string): string => `ip/${nic}`;
export const macSlot = (nic: string): string => `mac/${nic}`;

export const guestKey = (guestId: string): string => kvKey('guest', guestId);
export const vmidKey = (vmid: number): string => kvKey('vmid', vmid);
export const ipKey = (network: string, address: number): string =>
  `ip.${encodeKeyToken(network)}.${formatIpv4(address).replaceAll('.', '-')}`;
export const macKey = (mac: string): string => `mac.${mac.replaceAll(':', '')}`;

/** Parses a value key back, for the start-up scan that seeds the allocator's hints. */
export function parseValueKey(key: string): { kind: 'vmid'; vmid: number } | { kind: 'ip'; networkToken: string; address: string } | { kind: 'mac'; mac: string } | undefined {
  const [kind, a, b] = key.split('.');
  if (kind === 'vmid' && a !== undefined && /^\d+$/.test(a)) return { kind, vmid: Number(a) };
  if (kind === 'ip' && a !== undefined && b !== undefined) return { kind, networkToken: a, address: b.replaceAll('-', '.') };
  if (kind === 'mac' && a !== undefined && /^[0-9A-F]{12}$/.test(a)) {
    return { kind, mac: a.match(/../g)!.join(':') };
  }
  return undefined;
}
