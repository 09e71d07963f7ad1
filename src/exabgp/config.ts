// The `[[processes]]` configuration: zod schema for the TOML shape and normalisation into ProcessConfig.
// The daemon's config embeds `processesSchema` under `processes` and calls normalizeProcesses(); docs/exabgp.md
// documents every key.

import { z } from 'zod';
import { normalizeIp } from '../health/system.ts';
import type { ProcessConfig } from './process.ts';

const bool = () => z.boolean({ error: 'expected true or false' });
const table = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape, { error: 'expected a table' });

const nonEmpty = (what: string) =>
  z.string({ error: `expected ${what}` }).refine((v) => v.trim() !== '', { error: `expected ${what}` });

export const processSchema = table({
  name: z.string({ error: 'expected a process name' }).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
    error: 'expected a name of letters, digits, "_", ".", "-" (up to 64)',
  }),
  run: z.union(
    [nonEmpty('a command line'), z.array(nonEmpty('a program or argument')).min(1, { error: 'expected a program' })],
    {
      error: 'expected a command line or an array [program, arg, …]',
    },
  ),
  encoder: z.enum(['text', 'json'], { error: 'expected "text" or "json"' }).optional(),
  neighbors: z
    .array(
      z.string({ error: 'expected a neighbor address' }).refine((v) => normalizeIp(v) !== null, {
        error: 'expected a neighbor address',
      }),
      { error: 'expected an array of neighbor addresses' },
    )
    .optional(),
  ack: bool().optional(),
  neighbor_changes: bool().optional(),
  receive_updates: bool().optional(),
  respawn: bool().optional(),
});

export type RawProcess = z.infer<typeof processSchema>;

export const processesSchema = z
  .array(processSchema, { error: 'expected an array of process tables ([[processes]])' })
  .superRefine((list, ctx) => {
    const seen = new Map<string, number>();
    list.forEach((p, i) => {
      const prev = seen.get(p.name);
      if (prev !== undefined)
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${p.name}" is already processes[${prev}]` });
      else seen.set(p.name, i);
    });
  });

export function normalizeProcess(p: RawProcess): ProcessConfig {
  return {
    name: p.name,
    run: typeof p.run === 'string' ? p.run : [...p.run],
    encoder: p.encoder ?? 'text',
    neighbors: (p.neighbors ?? []).map((n) => normalizeIp(n)!),
    ack: p.ack ?? true,
    neighborChanges: p.neighbor_changes ?? false,
    receiveUpdates: p.receive_updates ?? false,
    respawn: p.respawn ?? true,
  };
}

export function normalizeProcesses(list: RawProcess[]): ProcessConfig[] {
  return list.map(normalizeProcess);
}
