/**
 * Allocation of VMIDs, IP addresses and MAC addresses, unique across the cluster even with several
 * coordinators allocating at once. Every value has its own KV key claimed with `create` (one
 * holder, ever); a guest's record lists what it holds. See records.ts for the layout and the
 * intent-first rule that keeps a half-finished allocation from leaking values.
 *
 * One allocation round:
 *   1. read the guest record; values it holds that still fit the request are kept;
 *   2. pick candidates for what is missing (requested values as given, others from the hints)
 *      and write them into the record's `pending` list (compare-and-set);
 *   3. claim candidates with `create`, per slot in order until one is ours; release pending
 *      values that are ours but no longer wanted;
 *   4. move what was claimed into the record's slots (compare-and-set).
 * Allocating again for the same guest returns what it holds.
 */
import {
  ConflictError,
  InvalidArgumentError,
  NoCapacityError,
  vmidSchema,
  parseOrThrow,
  buckets,
  type Logger,
} from '@phoenix/shared';
import type { TypedBucket } from '../state/bucket.js';
import { encodeKeyToken, kvPrefix } from '../state/keys.js';
import type { StateStore } from '../state/store.js';
import { AllocationClashError } from './errors.js';
import { Cursor, TakenSet } from './hints.js';
import { formatIpv4, parseIpv4, parseStaticAddress, subnetContains, usableHosts, type AddressRange } from './ipv4.js';
import { DEFAULT_MAC_PREFIX, macAt, macSeed, normalizeMac, parseMacPrefix, type MacPrefix } from './mac.js';
import { Network, type NetworkConfig } from './network.js';
import {
  VMID_SLOT,
  guestKey,
  guestRecordSchema,
  holderSchema,
  ipKey,
  ipSlot,
  macKey,
  macSlot,
  parseValueKey,
  vmidKey,
  type GuestRecord,
  type HeldValue,
  type Holder,
  type PendingClaim,
  type ValueKind,
} from './records.js';

export const DEFAULT_VMID_RANGE = { first: 100, last: 999_999_999 } as const;

export interface AllocatorOptions {
  /** Networks IP addresses come from (the spec's networks and pools). */
  networks?: readonly NetworkConfig[];
  /** VMIDs handed out automatically lie in this range; `first` is the floor. @default 100..999999999 */
  vmidRange?: { first?: number; last?: number };
  /** Prefix of generated MACs; locally administered unicast. @default 02:50:48 */
  macPrefix?: string;
  /** Candidates written per missing value per round; more means fewer rounds under contention. @default 4 */
  candidatesPerRound?: number;
  /** Rounds before giving up with ConflictError. @default 64 */
  maxRounds?: number;
  now?: () => Date;
  logger?: Logger;
}

export interface NicRequest {
  /** The NIC's slot name: net0, eth0. */
  id: string;
  /** Network the address belongs to; inferred from a static address or pool when omitted. */
  network?: string;
  /** Static address (`10.0.0.5` or `10.0.0.5/24`), or `dhcp` for none. Omitted: allocate one. */
  ip?: string;
  /** Pool of the network to allocate from. @default every pool of the network */
  pool?: string;
  /** Static MAC (imported configs carry them). Omitted: generated. */
  mac?: string;
}

export interface AllocationRequest {
  /** Stable guest identity (the spec's guest name). */
  guestId: string;
  /** Requested VMID (imported configs have fixed ones). Omitted: the next free one. */
  vmid?: number;
  nics?: readonly NicRequest[];
}

export interface AllocateOptions {
  /** VMIDs Proxmox already uses (from telemetry): never handed out automatically. */
  observedVmids?: Iterable<number>;
}

export interface NicAllocation {
  id: string;
  mac: string;
  network?: string;
  address?: string;
  prefix?: number;
  gateway?: string;
}

export interface Allocation {
  guestId: string;
  vmid: number;
  nics: NicAllocation[];
}

export interface AllocatorStats {
  allocations: number;
  releases: number;
  rounds: number;
  /** Claims that found the value already taken. */
  collisions: number;
}

/** What one slot of the request needs. */
interface Want {
  readonly slot: string;
  readonly kind: ValueKind;
  readonly nicId?: string;
  readonly network?: Network;
  readonly pool?: string;
  /** Requested value, normalised ('950', '10.0.0.5', '02:50:48:00:00:01'). */
  readonly fixed?: string;
}

interface ResolveOutcome {
  readonly filled: Map<string, HeldValue>;
  readonly resolved: PendingClaim[];
  readonly clash: AllocationClashError | undefined;
}

export class Allocator {
  readonly #guests: TypedBucket<GuestRecord>;
  readonly #holders: TypedBucket<Holder>;
  readonly #networks: ReadonlyMap<string, Network>;
  readonly #vmidRange: { first: number; last: number };
  readonly #macPrefix: MacPrefix;
  readonly #perRound: number;
  /** How many free values a round looks at to choose its candidates from. */
  readonly #window: number;
  readonly #maxRounds: number;
  readonly #now: () => Date;
  readonly #logger: Logger | undefined;
  readonly #takenVmids = new TakenSet<number>();
  readonly #vmidCursor: Cursor;
  readonly #takenIps = new Map<string, TakenSet<number>>();
  readonly #ipCursors = new Map<string, Cursor>();
  readonly #takenMacs = new TakenSet<string>();
  #warm: Promise<void> | undefined;
  readonly #stats: AllocatorStats = { allocations: 0, releases: 0, rounds: 0, collisions: 0 };

  constructor(store: StateStore, options: AllocatorOptions = {}) {
    this.#guests = store.bucket(buckets.alloc, guestRecordSchema);
    this.#holders = store.bucket(buckets.alloc, holderSchema);
    const networks = new Map<string, Network>();
    for (const config of options.networks ?? []) {
      const net = Network.from(config);
      if (networks.has(net.name)) throw new InvalidArgumentError('networks', net.name, 'duplicate network name');
      networks.set(net.name, net);
      this.#takenIps.set(net.name, new TakenSet());
    }
    this.#networks = networks;
    const first = options.vmidRange?.first ?? DEFAULT_VMID_RANGE.first;
    const last = options.vmidRange?.last ?? DEFAULT_VMID_RANGE.last;
    parseOrThrow(vmidSchema, first, 'vmidRange.first');
    parseOrThrow(vmidSchema, last, 'vmidRange.last');
    if (first > last) throw new InvalidArgumentError('vmidRange', { first, last }, 'first must not exceed last');
    this.#vmidRange = { first, last };
    this.#vmidCursor = new Cursor(first);
    this.#macPrefix = parseMacPrefix(options.macPrefix ?? DEFAULT_MAC_PREFIX);
    this.#perRound = options.candidatesPerRound ?? 4;
    if (!Number.isInteger(this.#perRound) || this.#perRound < 1) {
      throw new InvalidArgumentError('candidatesPerRound', this.#perRound, 'must be a positive integer');
    }
    this.#window = this.#perRound * 16;
    this.#maxRounds = options.maxRounds ?? 64;
    this.#now = options.now ?? (() => new Date());
    this.#logger = options.logger;
  }

  get stats(): Readonly<AllocatorStats> {
    return { ...this.#stats };
  }

  /**
   * Allocates (or returns the existing allocation of) a VMID, and per NIC a MAC and an address.
   * A requested value held by another guest throws AllocationClashError naming both; what was
   * claimed for the other slots stays recorded under the guest (release() frees it).
   */
  async allocate(request: AllocationRequest, options: AllocateOptions = {}): Promise<Allocation> {
    const wants = this.#wants(request);
    const bySlot = new Map(wants.map((w) => [w.slot, w]));
    const observed = new Set(options.observedVmids ?? []);
    const { guestId } = request;
    const key = guestKey(guestId);
    await this.#warmUp();

    for (let round = 0; round < this.#maxRounds; round++) {
      this.#stats.rounds++;
      const current = (await this.#guests.get(key))?.value ?? this.#emptyRecord(guestId);
      if (settled(current, wants, bySlot)) {
        this.#stats.allocations++;
        return this.#toAllocation(current, request);
      }
      const missing = wants.filter((w) => !satisfies(current.slots[w.slot], w));
      const candidates = await this.#candidates(guestId, missing, observed);

      // 2. Intent, before any create: new candidates become `claiming` entries; values no longer
      //    wanted leave their slots as `releasing` entries, and so do claims whose slot is filled.
      let fresh = new Set<string>();
      const intent = await this.#guests.update(key, (cur) => {
        const rec = cur?.value ?? this.#emptyRecord(guestId);
        const slots = { ...rec.slots };
        const pending = rec.pending.map((p) => ({ ...p }));
        for (const [slot, value] of Object.entries(slots)) {
          if (!satisfies(value, bySlot.get(slot))) {
            delete slots[slot];
            upsert(pending, { ...value, slot, state: 'releasing' });
          }
        }
        for (const p of pending) {
          const w = bySlot.get(p.slot);
          if (p.state === 'claiming' && (slots[p.slot] !== undefined || !satisfies(p, w))) p.state = 'releasing';
        }
        fresh = new Set();
        for (const c of candidates) {
          if (slots[c.slot] !== undefined || pending.some((p) => p.key === c.key)) continue;
          pending.push(c);
          fresh.add(c.key);
        }
        return { guestId, slots, pending, updatedAt: this.#now().toISOString() };
      });
      const written = intent?.value ?? this.#emptyRecord(guestId);

      // 3. Claim and release.
      const outcome = await this.#resolve(guestId, written, bySlot, fresh);

      // 4. Commit: a claimed value moves into its slot only if its entry is still `claiming` and
      //    the slot is empty; otherwise it is marked `releasing` for the next round to free.
      const committed = await this.#guests.update(key, (cur) => {
        const rec = cur?.value ?? this.#emptyRecord(guestId);
        const slots = { ...rec.slots };
        let pending = rec.pending.filter((p) => !outcome.resolved.some((r) => r.key === p.key && r.state === p.state));
        for (const [slot, value] of outcome.filled) {
          if (sameValue(slots[slot], value)) continue;
          const entry = pending.find((p) => p.key === value.key);
          if (slots[slot] === undefined && entry?.state === 'claiming' && entry.slot === slot) {
            slots[slot] = value;
            pending = pending.filter((p) => p !== entry);
          } else {
            pending = pending.filter((p) => p !== entry);
            pending.push({ ...value, slot, state: 'releasing' });
          }
        }
        return { guestId, slots, pending, updatedAt: this.#now().toISOString() };
      });
      if (outcome.clash) throw outcome.clash;
      if (committed && settled(committed.value, wants, bySlot)) {
        this.#stats.allocations++;
        return this.#toAllocation(committed.value, request);
      }
    }
    throw new ConflictError(`allocation for guest ${guestId} did not settle after ${this.#maxRounds} rounds`, {
      details: { guestId, rounds: this.#maxRounds },
    });
  }

  /** What a guest holds, or null when it holds nothing (or has no VMID yet). */
  async get(guestId: string): Promise<Allocation | null> {
    const rec = (await this.#guests.get(guestKey(guestId)))?.value;
    return rec && rec.slots[VMID_SLOT] ? this.#toAllocation(rec) : null;
  }

  /** Every guest's allocation. */
  async list(): Promise<Allocation[]> {
    const recs = await this.#guests.list(kvPrefix('guest'));
    return recs.filter((e) => e.value.slots[VMID_SLOT]).map((e) => this.#toAllocation(e.value));
  }

  /** Frees everything the guest holds (VMID, addresses, MACs). False when it held nothing. */
  async release(guestId: string): Promise<boolean> {
    const key = guestKey(guestId);
    for (let round = 0; round < this.#maxRounds; round++) {
      let current = await this.#guests.get(key);
      if (!current) return false;
      const rec = current.value;
      if (Object.keys(rec.slots).length > 0 || rec.pending.some((p) => p.state === 'claiming')) {
        // First out of the slots (compare-and-set), then out of KV: never the other way round.
        const all: PendingClaim[] = [
          ...Object.entries(rec.slots).map(([slot, value]): PendingClaim => ({ ...value, slot, state: 'releasing' })),
          ...rec.pending.map((p): PendingClaim => ({ ...p, state: 'releasing' })),
        ];
        try {
          current = await this.#guests.replace(key, { ...rec, slots: {}, pending: all, updatedAt: this.#now().toISOString() }, current.revision);
        } catch (err) {
          if (err instanceof ConflictError) continue;
          throw err;
        }
      }
      const freed = await Promise.all(current.value.pending.map((p) => this.#releaseIfOurs(guestId, p)));
      if (!freed.every(Boolean)) continue;
      try {
        await this.#guests.delete(key, { revision: current.revision });
        this.#stats.releases++;
        return true;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        // The record changed meanwhile (a concurrent allocation): go again.
      }
    }
    throw new ConflictError(`release of guest ${guestId} did not settle after ${this.#maxRounds} rounds`, {
      details: { guestId },
    });
  }

  /**
   * Deletes value keys whose guest's record lists them neither as held nor as pending (left by a
   * coordinator that died between claiming and recording under a concurrent allocation for the
   * same guest). Safe while others allocate: a claim is always recorded before it is created, and
   * the holder is read before the record. Returns the keys it freed.
   */
  async sweep(): Promise<string[]> {
    const keys = (
      await Promise.all([this.#holders.keys('vmid.>'), this.#holders.keys('ip.>'), this.#holders.keys('mac.>')])
    ).flat();
    const freed: string[] = [];
    for (const key of keys) {
      const holder = await this.#holders.get(key);
      if (!holder) continue;
      const rec = (await this.#guests.get(guestKey(holder.value.guestId)))?.value;
      const listed =
        rec !== undefined &&
        (Object.values(rec.slots).some((h) => h.key === key) || rec.pending.some((p) => p.key === key));
      if (listed) continue;
      try {
        await this.#holders.delete(key, { revision: holder.revision });
        this.#forget(key);
        freed.push(key);
        this.#logger?.warn({ kvKey: key, guestId: holder.value.guestId }, 'freed an orphaned allocation');
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return freed;
  }

  // ---- request → wants -------------------------------------------------------------------------

  #wants(request: AllocationRequest): Want[] {
    if (typeof request.guestId !== 'string' || request.guestId.length === 0) {
      throw new InvalidArgumentError('guestId', request.guestId, 'must be a non-empty string');
    }
    encodeKeyToken(request.guestId);
    const wants: Want[] = [];
    if (request.vmid === undefined) wants.push({ slot: VMID_SLOT, kind: 'vmid' });
    else wants.push({ slot: VMID_SLOT, kind: 'vmid', fixed: String(parseOrThrow(vmidSchema, request.vmid, 'vmid')) });
    const ids = new Set<string>();
    for (const [i, nic] of (request.nics ?? []).entries()) {
      const field = `nics.${i}`;
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(nic.id)) throw new InvalidArgumentError(`${field}.id`, nic.id, 'must be a NIC name like net0');
      if (ids.has(nic.id)) throw new InvalidArgumentError(`${field}.id`, nic.id, 'duplicate NIC');
      ids.add(nic.id);
      wants.push({
        slot: macSlot(nic.id),
        kind: 'mac',
        nicId: nic.id,
        ...(nic.mac === undefined ? {} : { fixed: normalizeMac(nic.mac, `${field}.mac`) }),
      });
      const ip = this.#ipWant(nic, field);
      if (ip) wants.push(ip);
    }
    return wants;
  }

  #ipWant(nic: NicRequest, field: string): Want | undefined {
    if (nic.ip === 'dhcp') return undefined;
    if (nic.ip === undefined && nic.network === undefined && nic.pool === undefined) return undefined;
    const fixed = nic.ip === undefined ? undefined : parseStaticAddress(nic.ip, `${field}.ip`);
    const network = this.#networkFor(nic, fixed?.address, field);
    if (fixed) {
      if (fixed.prefix !== undefined && fixed.prefix !== network.subnet.prefix) {
        throw new InvalidArgumentError(`${field}.ip`, nic.ip, `prefix differs from network ${network.name} (${network.cidr})`);
      }
      const refusal = network.refusal(fixed.address);
      if (refusal) throw new InvalidArgumentError(`${field}.ip`, nic.ip, refusal);
      return { slot: ipSlot(nic.id), kind: 'ip', nicId: nic.id, network, fixed: formatIpv4(fixed.address) };
    }
    if (nic.pool !== undefined) network.autoRanges(nic.pool);
    return { slot: ipSlot(nic.id), kind: 'ip', nicId: nic.id, network, ...(nic.pool === undefined ? {} : { pool: nic.pool }) };
  }

  #networkFor(nic: NicRequest, address: number | undefined, field: string): Network {
    if (nic.network !== undefined) {
      const net = this.#networks.get(nic.network);
      if (!net) throw new InvalidArgumentError(`${field}.network`, nic.network, 'unknown network');
      return net;
    }
    const found = [...this.#networks.values()].filter((n) =>
      address !== undefined ? subnetContains(n.subnet, address) : n.pools.has(nic.pool ?? ''),
    );
    if (found.length === 1 && found[0]) return found[0];
    const what = address !== undefined ? `address ${nic.ip}` : `pool ${nic.pool}`;
    throw new InvalidArgumentError(
      `${field}.network`,
      undefined,
      found.length === 0 ? `no configured network holds ${what}` : `${what} matches several networks; name one`,
    );
  }

  // ---- candidates --------------------------------------------------------------------------------

  async #candidates(guestId: string, missing: readonly Want[], observed: ReadonlySet<number>): Promise<PendingClaim[]> {
    const out: PendingClaim[] = [];
    const chosen = new Set<string>();
    for (const w of missing) {
      let values = w.fixed !== undefined ? [w.fixed] : this.#autoValues(guestId, w, chosen, observed, false);
      if (values.length === 0) {
        // A full pass found nothing by the hints; they may be stale (values freed elsewhere).
        await this.#scan(w.kind);
        values = this.#autoValues(guestId, w, chosen, observed, true);
      }
      for (const value of values) {
        const claim = toClaim(w, value);
        chosen.add(claim.key);
        out.push(claim);
      }
    }
    return out;
  }

  /** Up to `perRound` values not known to be taken; empty when a full pass finds none (or throws when `final`). */
  #autoValues(guestId: string, w: Want, chosen: ReadonlySet<string>, observed: ReadonlySet<number>, final: boolean): string[] {
    switch (w.kind) {
      case 'vmid':
        return this.#nextVmids(chosen, observed, final).map(String);
      case 'ip':
        return this.#nextIps(w, chosen, final).map(formatIpv4);
      case 'mac':
        return this.#nextMacs(guestId, w, chosen, final);
    }
  }

  #nextVmids(chosen: ReadonlySet<string>, observed: ReadonlySet<number>, final: boolean): number[] {
    const { first, last } = this.#vmidRange;
    const pick = (from: number, to: number, out: number[]): void => {
      for (let v = from; v <= to && out.length < this.#window; v++) {
        if (!this.#takenVmids.has(v) && !observed.has(v) && !chosen.has(vmidKey(v))) out.push(v);
      }
    };
    this.#vmidCursor.settle(this.#takenVmids, last);
    const out: number[] = [];
    pick(this.#vmidCursor.at, last, out);
    if (out.length === 0) {
      // Past the end: values freed by other coordinators are only known from KV. Look again from the floor.
      pick(first, last, out);
      if (out.length === 0) {
        if (!final) return out;
        throw new NoCapacityError(`no free VMID in ${first}..${last}`, { details: { first, last } });
      }
      this.#vmidCursor.reset(out[0] ?? first);
    }
    return this.#spread(out);
  }

  #nextIps(w: Want, chosen: ReadonlySet<string>, final: boolean): number[] {
    const net = w.network!;
    const taken = this.#takenIps.get(net.name)!;
    const out: number[] = [];
    const scan = (range: AddressRange, from: number): void => {
      for (let a = net.nextUsable(range, from); a !== undefined && out.length < this.#window; a = net.nextUsable(range, a + 1)) {
        if (!taken.has(a) && !chosen.has(ipKey(net.name, a))) out.push(a);
      }
    };
    const ranges = net.autoRanges(w.pool);
    for (const range of ranges) {
      const cursor = this.#ipCursor(net.name, range);
      cursor.settle(taken, range.last);
      scan(range, cursor.at);
      if (out.length >= this.#window) break;
    }
    if (out.length === 0) {
      for (const range of ranges) scan(range, range.first);
      if (out.length === 0) {
        if (!final) return out;
        throw new NoCapacityError(`no free address in network ${net.name}${w.pool ? ` pool ${w.pool}` : ''}`, {
          details: { network: net.name, pool: w.pool },
        });
      }
    }
    return this.#spread(out);
  }

  /**
   * Picks this round's candidates from the free values found, lowest first: the lowest free value
   * (so a lone allocator hands out values in order), then random others from the window, so
   * allocators racing from the same cursor mostly try different values instead of queueing up.
   */
  #spread(free: number[]): number[] {
    if (free.length <= this.#perRound) return free;
    const [lowest, ...rest] = free;
    for (let i = rest.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [rest[i], rest[j]] = [rest[j]!, rest[i]!];
    }
    return [lowest!, ...rest.slice(0, this.#perRound - 1).sort((a, b) => a - b)];
  }

  #nextMacs(guestId: string, w: Want, chosen: ReadonlySet<string>, final: boolean): string[] {
    const seed = macSeed(this.#macPrefix, guestId, w.nicId ?? '');
    const space = 2 ** this.#macPrefix.bits;
    const out: string[] = [];
    for (let i = 0; i < space && out.length < this.#perRound; i++) {
      const mac = macAt(this.#macPrefix, seed + i);
      if (!this.#takenMacs.has(mac) && !chosen.has(macKey(mac))) out.push(mac);
    }
    if (out.length === 0 && final) throw new NoCapacityError(`no free MAC under ${this.#macPrefix.octets.length}-octet prefix`);
    return out;
  }

  #ipCursor(network: string, range: AddressRange): Cursor {
    const id = `${network}#${range.first}-${range.last}`;
    let c = this.#ipCursors.get(id);
    if (!c) {
      c = new Cursor(range.first);
      this.#ipCursors.set(id, c);
    }
    return c;
  }

  // ---- claims ------------------------------------------------------------------------------------

  /**
   * Works through the record's pending entries slot by slot: `releasing` ones are freed (if still
   * ours); `claiming` ones are created in order until one fills the slot (a requested value held
   * by another guest is a clash). Claims left over once the slot is filled are not touched here:
   * the next round's intent marks them `releasing` first.
   */
  async #resolve(
    guestId: string,
    rec: GuestRecord,
    bySlot: ReadonlyMap<string, Want>,
    fresh: ReadonlySet<string>,
  ): Promise<ResolveOutcome> {
    const filled = new Map<string, HeldValue>();
    const resolved: PendingClaim[] = [];
    let clash: AllocationClashError | undefined;
    const groups = new Map<string, PendingClaim[]>();
    for (const p of rec.pending) groups.set(p.slot, [...(groups.get(p.slot) ?? []), p]);

    await Promise.all(
      [...groups].map(async ([slot, entries]) => {
        const want = bySlot.get(slot);
        for (const p of entries) {
          if (p.state === 'releasing') {
            if (await this.#releaseIfOurs(guestId, p)) resolved.push(p);
            continue;
          }
          if (want === undefined || filled.has(slot) || rec.slots[slot] !== undefined || !satisfies(p, want)) {
            // A fresh candidate we did not need was never created by anyone: just drop it.
            if (fresh.has(p.key)) resolved.push(p);
            continue;
          }
          const holder: Holder = { guestId, slot, at: this.#now().toISOString() };
          const outcome = await this.#holders.createOrGet(p.key, holder);
          this.#remember(p);
          if (outcome.created || outcome.entry.value.guestId === guestId) {
            filled.set(slot, held(p));
            continue;
          }
          resolved.push(p);
          this.#stats.collisions++;
          if (want.fixed !== undefined) {
            clash = new AllocationClashError(p.kind, p.value, guestId, outcome.entry.value.guestId, p.network);
          }
        }
      }),
    );
    return { filled, resolved, clash };
  }

  /** Deletes the value key if `guestId` holds it. True when the claim is settled (freed or not ours). */
  async #releaseIfOurs(guestId: string, claim: HeldValue): Promise<boolean> {
    const holder = await this.#holders.get(claim.key);
    if (!holder) return true;
    if (holder.value.guestId !== guestId) return true;
    try {
      await this.#holders.delete(claim.key, { revision: holder.revision });
      this.#forget(claim.key);
      return true;
    } catch (err) {
      if (err instanceof ConflictError) return false;
      throw err;
    }
  }

  // ---- hints -------------------------------------------------------------------------------------

  #warmUp(): Promise<void> {
    this.#warm ??= Promise.all([this.#scan('vmid'), this.#scan('ip'), this.#scan('mac')]).then(
      () => undefined,
      (err: unknown) => {
        this.#warm = undefined;
        throw err;
      },
    );
    return this.#warm;
  }

  /** Replaces the taken-set of one kind with what KV holds now (one key listing). */
  async #scan(kind: ValueKind): Promise<void> {
    const keys = await this.#holders.keys(`${kind}.>`);
    if (kind === 'vmid') this.#takenVmids.replace([]);
    else if (kind === 'mac') this.#takenMacs.replace([]);
    else for (const set of this.#takenIps.values()) set.replace([]);
    for (const key of keys) this.#rememberKey(key);
  }

  #remember(claim: HeldValue): void {
    this.#rememberKey(claim.key);
  }

  #rememberKey(key: string): void {
    const parsed = parseValueKey(key);
    if (!parsed) return;
    if (parsed.kind === 'vmid') this.#takenVmids.add(parsed.vmid);
    else if (parsed.kind === 'mac') this.#takenMacs.add(parsed.mac);
    else {
      const net = this.#networkByToken(parsed.networkToken);
      if (net) this.#takenIps.get(net.name)?.add(parseIpv4(parsed.address));
    }
  }

  #forget(key: string): void {
    const parsed = parseValueKey(key);
    if (!parsed) return;
    if (parsed.kind === 'vmid') {
      this.#takenVmids.delete(parsed.vmid);
      this.#vmidCursor.rewind(parsed.vmid);
    } else if (parsed.kind === 'mac') this.#takenMacs.delete(parsed.mac);
    else {
      const net = this.#networkByToken(parsed.networkToken);
      if (!net) return;
      const address = parseIpv4(parsed.address);
      this.#takenIps.get(net.name)?.delete(address);
      for (const range of [...net.pools.values(), usableHosts(net.subnet)]) {
        if (address >= range.first && address <= range.last) this.#ipCursor(net.name, range).rewind(address);
      }
    }
  }

  #networkByToken(token: string): Network | undefined {
    for (const net of this.#networks.values()) if (encodeKeyToken(net.name) === token) return net;
    return undefined;
  }

  // ---- results -----------------------------------------------------------------------------------

  #emptyRecord(guestId: string): GuestRecord {
    return { guestId, slots: {}, pending: [], updatedAt: this.#now().toISOString() };
  }

  #toAllocation(rec: GuestRecord, request?: AllocationRequest): Allocation {
    const vmid = Number(rec.slots[VMID_SLOT]?.value);
    const nicIds = request?.nics?.map((n) => n.id) ?? [
      ...new Set(Object.keys(rec.slots).filter((s) => s !== VMID_SLOT).map((s) => s.slice(s.indexOf('/') + 1))),
    ];
    const nics = nicIds.map((id): NicAllocation => {
      const mac = rec.slots[macSlot(id)]?.value ?? '';
      const ip = rec.slots[ipSlot(id)];
      if (!ip) return { id, mac };
      const net = ip.network === undefined ? undefined : this.#networks.get(ip.network);
      return {
        id,
        mac,
        ...(ip.network === undefined ? {} : { network: ip.network }),
        address: ip.value,
        ...(net ? { prefix: net.subnet.prefix } : {}),
        ...(net?.gateway === undefined ? {} : { gateway: formatIpv4(net.gateway) }),
      };
    });
    return { guestId: rec.guestId, vmid, nics };
  }
}

function toClaim(w: Want, value: string): PendingClaim {
  switch (w.kind) {
    case 'vmid':
      return { slot: w.slot, state: 'claiming', kind: 'vmid', key: vmidKey(Number(value)), value };
    case 'mac':
      return { slot: w.slot, state: 'claiming', kind: 'mac', key: macKey(value), value };
    case 'ip': {
      const net = w.network!;
      return { slot: w.slot, state: 'claiming', kind: 'ip', key: ipKey(net.name, parseIpv4(value)), value, network: net.name };
    }
  }
}

function held(p: PendingClaim): HeldValue {
  return { kind: p.kind, key: p.key, value: p.value, ...(p.network === undefined ? {} : { network: p.network }) };
}

/** Whether a held (or candidate) value fulfils what the slot wants now. */
function satisfies(value: HeldValue | undefined, want: Want | undefined): boolean {
  if (!value || !want || value.kind !== want.kind) return false;
  if (want.kind === 'ip' && value.network !== want.network?.name) return false;
  return want.fixed === undefined || value.value === want.fixed;
}

function sameValue(a: HeldValue | undefined, b: HeldValue): boolean {
  return a !== undefined && a.key === b.key;
}

/** Adds or replaces the entry for the same key (one entry per value). */
function upsert(list: PendingClaim[], entry: PendingClaim): void {
  const i = list.findIndex((p) => p.key === entry.key);
  if (i >= 0) list[i] = entry;
  else list.push(entry);
}

/** Every wanted slot holds a fitting value, nothing else is held, nothing is pending. */
function settled(rec: GuestRecord, wants: readonly Want[], bySlot: ReadonlyMap<string, Want>): boolean {
  return (
    rec.pending.length === 0 &&
    wants.every((w) => satisfies(rec.slots[w.slot], w)) &&
    Object.keys(rec.slots).every((slot) => bySlot.has(slot))
  );
}
