// What a system under test costs, read from /proc: CPU seconds (utime + stime of every process in its tree,
// proc(5) fields 14 and 15) and resident memory (VmRSS summed over the tree, sampled every 100 ms for the peak; VmHWM
// summed as a cross-check). Multi-process daemons (OpenBGPD's parent, session engine and RDE) are covered by walking
// the tree from the process we started and by its process group (it is started detached, so pgid = pid).

import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux

interface Stat {
  pid: number;
  ppid: number;
  pgrp: number;
  ticks: number;
}

function readStat(pid: number): Stat | null {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // The command name is in parentheses and may hold spaces: split after the last ')'.
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field n is rest[n - 3].
  return {
    pid,
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    ticks: Number(rest[11]) + Number(rest[12]),
  };
}

/** Every live process descended from `root` or in its process group, root included. */
export function processTree(root: number): number[] {
  const stats: Stat[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const st = readStat(Number(name));
    if (st) stats.push(st);
  }
  const children = new Map<number, number[]>();
  for (const st of stats) {
    const list = children.get(st.ppid);
    if (list) list.push(st.pid);
    else children.set(st.ppid, [st.pid]);
  }
  const out = new Set<number>();
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    if (out.has(p)) continue;
    out.add(p);
    for (const c of children.get(p) ?? []) stack.push(c);
  }
  for (const st of stats) if (st.pgrp === root) out.add(st.pid);
  const live = new Set(stats.map((s) => s.pid));
  return [...out].filter((p) => live.has(p));
}

/** CPU seconds (user + system) used so far by the processes. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const p of pids) ticks += readStat(p)?.ticks ?? 0;
  return ticks / CLK_TCK;
}

function statusKb(pid: number, field: string): number {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(s);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function rssMb(pids: number[]): number {
  let kb = 0;
  for (const p of pids) kb += statusKb(p, 'VmRSS');
  return kb / 1024;
}

export function hwmMb(pids: number[]): number {
  let kb = 0;
  for (const p of pids) kb += statusKb(p, 'VmHWM');
  return kb / 1024;
}

/** Samples a process tree's summed RSS every `intervalMs` and keeps the peak; also tracks the tree's members. */
export class RssSampler {
  peakMb = 0;
  lastMb = 0;
  samples = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly root: number;
  pids: number[];

  constructor(root: number) {
    this.root = root;
    this.pids = processTree(root);
  }

  sample(): number {
    // Re-walk the tree now and then: a daemon may fork helpers after start.
    if (this.samples % 10 === 0) this.pids = processTree(this.root);
    this.samples++;
    this.lastMb = rssMb(this.pids);
    if (this.lastMb > this.peakMb) this.peakMb = this.lastMb;
    return this.lastMb;
  }

  start(intervalMs = 100): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Forgets the peak so far (to measure a later phase on its own). */
  resetPeak(): void {
    this.peakMb = this.sample();
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}
