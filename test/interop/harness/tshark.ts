// Packet capture of the BGP traffic on the namespace's loopback with tshark, and the checks run over it: Wireshark's
// BGP dissector must find no malformed packet (`-Y _ws.malformed` prints nothing) and must have seen BGP messages.
// Each capture filters on one pair of addresses, so the test files stay independent when they run in parallel.
// Stopping needs care: libpcap hands packets over in blocks, and packets still in the kernel's block when tshark gets
// SIGINT are lost. So stop() first sends a marker (a TCP SYN to port 179 from a known source port), waits until tshark
// prints that packet (-P: print while writing the file), and only then interrupts it.

import { createConnection } from 'node:net';
import { join } from 'node:path';
import { ManagedProcess, runOk, tempDir, waitFor } from './util.ts';

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
  private readonly hosts: string[];
  private readonly printed: string[];

  private constructor(file: string, proc: ManagedProcess, hosts: string[], printed: string[]) {
    this.file = file;
    this.proc = proc;
    this.hosts = hosts;
    this.printed = printed;
  }

  /** Starts capturing TCP port 179 between the given hosts (all BGP on lo when none given). */
  static async start(name: string, hosts: string[] = []): Promise<Capture> {
    const dir = await tempDir(`capture-${name}`);
    const file = join(dir, `${name}.pcapng`);
    const hostFilter = hosts.length ? ` and (${hosts.map((h) => `host ${h}`).join(' or ')})` : '';
    // Only the most recent lines are kept: the marker is looked for among them.
    const printed: string[] = [];
    const proc = new ManagedProcess(
      'tshark',
      'tshark',
      ['-i', 'lo', '-f', `tcp port 179${hostFilter}`, '-w', file, '-P', '-l'],
      {
        logFile: join(dir, 'tshark.log'),
        onStdoutLine: (line) => {
          printed.push(line);
          if (printed.length > 200) printed.splice(0, 100);
        },
      },
    );
    await proc.waitReady(() => proc.logTail(4000).includes('Capturing on'), {
      timeoutMs: 15_000,
      what: 'tshark to start capturing',
    });
    return new Capture(file, proc, hosts, printed);
  }

  /** Stops the capture once every packet sent so far is in the file (see the overview). */
  async stop(): Promise<void> {
    if (!this.proc.running) return;
    const host = this.hosts.find((h) => !h.includes(':')) ?? this.hosts[0] ?? '127.0.0.1';
    const port = 20000 + Math.floor(Math.random() * 20000);
    await new Promise<void>((resolve) => {
      const sock = createConnection({ host, port: 179, localAddress: host, localPort: port });
      const done = () => {
        sock.destroy();
        resolve();
      };
      sock.once('connect', done);
      sock.once('error', done);
      sock.setTimeout(2000, done);
    });
    const marker = new RegExp(`\\b${port}\\b.*\\b179\\b`);
    try {
      await waitFor(() => this.printed.some((l) => marker.test(l)), { timeoutMs: 10_000, what: 'the capture marker' });
    } catch {
      // Stop anyway; the checks will show what is missing.
    }
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
