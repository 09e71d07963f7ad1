// Test helpers for src/health: /proc fixtures, a network namespace with a veth pair, scripted check results.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckStatus, CombinedResult } from './checks.ts';
import type { IpRunner } from './system.ts';

// Lines in the kernel's layout (little-endian host). 0A = LISTEN, 01 = ESTABLISHED, 06 = TIME_WAIT.
export const PROC_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1597 1 0000000000000000 100 0 0 10 0
   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1598 1 0000000000000000 100 0 0 10 0
   2: 0A0200C0:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1599 1 0000000000000000 100 0 0 10 0
   3: 0A0200C0:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1600 1 0000000000000000 100 0 0 10 0
   4: 0100007F:8B17 0100007F:8250 01 00000000:00000000 03:00000F58 00000000     0        0 0 3 0000000000000000
   5: 0B0200C0:0050 0100007F:8250 06 00000000:00000000 03:00000F58 00000000     0        0 0 3 0000000000000000
`;

export const PROC_TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: B80D0120000000000000000010000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0
   3: 0000000000000000FFFF00000C0200C0:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 100 0 0 10 0
   4: B80D0120000000000000000011000000:0050 00000000000000000000000000000000:0000 01 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 100 0 0 10 0
`;

/** Writes a fake /proc with net/tcp and net/tcp6; returns its root. */
export function fakeProc(tcp = PROC_TCP, tcp6: string | null = PROC_TCP6): string {
  const root = mkdtempSync(join(tmpdir(), 'tsbgp-proc-'));
  mkdirSync(join(root, 'net'));
  writeFileSync(join(root, 'net', 'tcp'), tcp);
  if (tcp6 !== null) writeFileSync(join(root, 'net', 'tcp6'), tcp6);
  return root;
}

export function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

export interface Netns {
  name: string;
  /** Runs `ip -n <name> …`. */
  ip: IpRunner;
  remove(): Promise<void>;
}

/**
 * Creates a network namespace holding a veth pair `va`/`vb` (both down, no addresses). Returns a reason string
 * instead when that is not possible here (not root, no netns support).
 */
export async function createNetns(tag: string): Promise<Netns | string> {
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace (ip netns add)';
  const name = `tsbgp-${tag}-${process.pid}`;
  try {
    await run('ip', ['netns', 'add', name]);
  } catch (e) {
    return `cannot create a network namespace: ${(e as Error).message}`;
  }
  const ip: IpRunner = (args) => run('ip', ['-n', name, ...args]);
  try {
    await ip(['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
  } catch (e) {
    await run('ip', ['netns', 'del', name]).catch(() => {});
    return `cannot create a veth pair: ${(e as Error).message}`;
  }
  return { name, ip, remove: () => run('ip', ['netns', 'del', name]).then(() => {}) };
}

/** A probe whose result the test sets. */
export function scriptedProbe(initial: CheckStatus = 'ok'): {
  probe: () => Promise<CombinedResult>;
  set(status: CheckStatus, detail?: string): void;
  calls: number;
} {
  let status = initial;
  let detail = 'scripted';
  const s = {
    calls: 0,
    probe: async (): Promise<CombinedResult> => {
      s.calls++;
      return { status, detail, durationMs: 0, results: [] };
    },
    set(next: CheckStatus, d = 'scripted') {
      status = next;
      detail = d;
    },
  };
  return s;
}
