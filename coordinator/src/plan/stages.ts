/** The data the planning stages hand to each other, each complete for the stage that follows. */
import type { CompiledGuest } from '../spec/compile.js';

/** A guest with its node: found there (bind), placed there (bind), or rebuilt there (replicate). */
export interface BoundGuest {
  readonly guest: CompiledGuest;
  /** The guest's name, or `<template guest>@<node>` for a per-node replica of a template guest. */
  readonly id: string;
  readonly node: string;
  /** Fixed by the spec or found on the node; undefined until allocated. */
  readonly vmid: number | undefined;
  readonly exists: boolean;
  readonly storage: string;
  readonly gpus: readonly number[];
  /** The template guest (or its replica) on the same node this guest is cloned from (replicate). */
  readonly parentId: string | undefined;
}

/** A bound guest with its VMID and addresses (allocate). */
export interface AllocatedGuest extends BoundGuest {
  /** The VMID; negative while previewed ("(allocated)" until apply). */
  readonly vmid: number;
  /** Address with prefix, 'dhcp', or undefined. */
  readonly ip: string | undefined;
  readonly gateway: string | undefined;
  readonly mac: string | undefined;
}

export function isReplica(b: { readonly id: string }): boolean {
  return b.id.includes('@');
}
