// Packet capture of the BGP traffic on the namespace's loopback with tshark, and the checks run over it: Wireshark's
// BGP dissector must find no malformed packet (`-Y _ws.malformed` prints nothing) and must have seen BGP messages.
// Each capture filters on one pair of addresses, so the test files stay independent when they run in parallel.

import { join } from 'node:path';
import { ManagedProcess, runOk, tempDir, WaitAbort, waitFor } from './util.ts';

export interface CaptureSummary {
  /** BGP messages by type name (OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH). */
  messages: Record<string, number>;
  /** The dissector's rendering of malformed frames; '' when there are none. */
  malformed: string;
}

const TYPE_NAMES: Record<string, string> = {
  '1': 'OPEN',
  '2': 'UPDATE',
  '3': 'NOTIFICATION',
  '4': 'KEEPALIVE',
  '5': 'ROUTE-REFRESH',
};

export class Capture {
  readonly file: string;
  private readonly proc: ManagedProcess;

  private constructor(file: string, proc: ManagedProcess) {
    this.file = file;
    this.proc = proc;
  }

  /** Starts capturing TCP port 179 between the given hosts (all BGP on lo when none given). */
  static async start(name: string, hosts: string[] = []): Promise<Capture> {
    const dir = await tempDir(`capture-${name}`);
    const file = join(dir, `${name}.pcapng`);
    const hostFilter = hosts.length ? ` and (${hosts.map((h) => `host ${h}`).join(' or ')})` : '';
    const proc = new ManagedProcess('tshark', 'tshark', ['-i', 'lo', '-f', `tcp port 179${hostFilter}`, '-w', file], {
      logFile: join(dir, 'tshark.log'),
    });
    await waitFor(
      () => {
        if (!proc.running) throw new WaitAbort(`tshark exited: ${proc.logTail(1000)}`);
        return proc.logTail(4000).includes('Capturing on');
      },
      { timeoutMs: 15_000, what: 'tshark to start capturing' },
    );
    return new Capture(file, proc);
  }

  /** Stops the capture (SIGINT lets tshark finish the file). */
  async stop(): Promise<void> {
    await this.proc.stop('SIGINT', 5000);
  }

  /** Reads the finished capture. */
  async summary(): Promise<CaptureSummary> {
    const malformed = (await runOk('tshark', ['-r', this.file, '-Y', '_ws.malformed'], { timeoutMs: 60_000 })).trim();
    const types = await runOk('tshark', ['-r', this.file, '-Y', 'bgp', '-T', 'fields', '-e', 'bgp.type'], {
      timeoutMs: 60_000,
    });
    const messages: Record<string, number> = {};
    for (const line of types.split('\n')) {
      for (const t of line.split(',')) {
        if (!t.trim()) continue;
        const name = TYPE_NAMES[t.trim()] ?? `type-${t.trim()}`;
        messages[name] = (messages[name] ?? 0) + 1;
      }
    }
    return { messages, malformed };
  }

  /** Frames matching a display filter, as tshark's one-line summaries. */
  async frames(displayFilter: string): Promise<string[]> {
    const out = await runOk('tshark', ['-r', this.file, '-Y', displayFilter], { timeoutMs: 60_000 });
    return out.split('\n').filter((l) => l.trim() !== '');
  }
}
