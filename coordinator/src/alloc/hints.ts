/**
 * What one allocator believes is taken, so it need not knock on every used value. Only a hint:
 * claims are `create`s in KV and stay correct when the hint is stale (a stale hint costs a failed
 * create, and a full pass that finds nothing refreshes it from KV before giving up).
 */
export class TakenSet<T> {
  readonly #values = new Set<T>();
  has(v: T): boolean {
    return this.#values.has(v);
  }
  add(v: T): void {
    this.#values.add(v);
  }
  delete(v: T): void {
    this.#values.delete(v);
  }
  replace(values: Iterable<T>): void {
    this.#values.clear();
    for (const v of values) this.#values.add(v);
  }
  get size(): number {
    return this.#values.size;
  }
}

/** A number line cursor: the lowest value not known to be taken, never behind a freed value. */
export class Cursor {
  #at: number;
  constructor(start: number) {
    this.#at = start;
  }
  get at(): number {
    return this.#at;
  }
  /** Moves forward over values known to be taken. */
  settle(taken: TakenSet<number>, last: number): void {
    while (this.#at <= last && taken.has(this.#at)) this.#at++;
  }
  /** A value was freed: look there again. */
  rewind(to: number): void {
    if (to < this.#at) this.#at = to;
  }
  reset(to: number): void {
    this.#at = to;
  }
}
