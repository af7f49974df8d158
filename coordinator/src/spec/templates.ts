/**
 * Where guests come from. An OS template file (LXC), a cloud image (VM), or a template guest: a
 * guest of this spec whose snapshot (or Proxmox template) others are fully cloned from. A template
 * guest itself comes from another template, which gives the 900 → 901 → 910 chains of Phoenix.
 */
import { z } from 'zod';
import { hostnameSchema, snapshotNameSchema, storageIdSchema } from '@phoenix/shared';
import { refNameSchema } from './primitives.js';

const fileNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'a file name without directories');

const osTemplateSchema = z.strictObject({
  kind: z.literal('os-template'),
  name: refNameSchema,
  file: fileNameSchema.describe('vztmpl file, e.g. ubuntu-24.04-standard_24.04-2_amd64.tar.zst'),
  storage: storageIdSchema.optional().describe('storage holding vztmpl content'),
});

const cloudImageSchema = z.strictObject({
  kind: z.literal('cloud-image'),
  name: refNameSchema,
  file: fileNameSchema,
  url: z.url().optional().describe('where to download the image from'),
  storage: storageIdSchema.optional(),
});

const guestTemplateSchema = z.strictObject({
  kind: z.literal('guest'),
  name: refNameSchema,
  guest: hostnameSchema.describe('the container or VM that is the template'),
  snapshot: snapshotNameSchema
    .optional()
    .describe("snapshot to clone from; defaults to the guest's snapshotAsTemplate (none for a VM template)"),
});

export const templateSchema = z.discriminatedUnion('kind', [osTemplateSchema, cloudImageSchema, guestTemplateSchema]);
export type TemplateSpec = z.output<typeof templateSchema>;

/** Feature library entries beyond the built-in ones. */
export const featureDefSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/),
  description: z.string().max(1024).optional(),
  appliesTo: z.array(z.enum(['container', 'vm'])).default(['container', 'vm']),
  requires: z.array(z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/)).default([]).describe(
    'features that must be on the guest or an ancestor template guest',
  ),
  script: z.string().regex(/^[A-Za-z0-9._/-]+$/).optional(),
});
export type FeatureDef = z.output<typeof featureDefSchema>;
