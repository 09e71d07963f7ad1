// `tsbgp watch [--family F] [--neighbor N] [--types route,session]`: follows GET /api/v1/watch and prints one line
// per event (with --json, the event as one JSON object per line) until interrupted (exit 0). If the daemon cuts the
// stream because the client fell behind (`overflow`) the command says so and exits 1; if the connection is lost,
// exit 3.

import { CliError, ExitCode } from './client.ts';
import { CLIENT_OPTIONS, client, family, noMore, parse, str, strings } from './common.ts';
import { formatWatchEvent } from './format.ts';

export async function cmdWatch(args: string[], help: (topic: string[]) => number): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...CLIENT_OPTIONS,
      family: { type: 'string', multiple: true },
      neighbor: { type: 'string', multiple: true },
      types: { type: 'string' },
    },
    'watch',
  );
  if (values.help) return help(['watch']);
  noMore(positionals, 0, 'watch');
  const q = new URLSearchParams();
  const fams = strings(values, 'family').flatMap((f) => f.split(',').filter((x) => x !== ''));
  if (fams.length > 0) q.set('family', fams.map((f) => family(f, 'watch')).join(','));
  const neighbors = strings(values, 'neighbor').flatMap((n) => n.split(',').filter((x) => x !== ''));
  if (neighbors.length > 0) q.set('neighbor', neighbors.join(','));
  const types = str(values, 'types');
  if (types !== undefined) q.set('types', types);
  const json = values.json === true;
  const api = client(values);

  let overflow: string | null = null;
  let interrupted = false;
  const s = api.stream(`/api/v1/watch${q.size > 0 ? `?${q}` : ''}`, (event, data) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    if (event === 'overflow') overflow = (parsed as { message?: string }).message ?? 'overflow';
    const line = json ? JSON.stringify({ event, ...(parsed as object) }) : formatWatchEvent(event, parsed, new Date());
    process.stdout.write(`${line}\n`);
  });
  const onSignal = () => {
    interrupted = true;
    s.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await s.done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (interrupted) return 0;
  if (overflow !== null) throw new CliError(`the daemon ended the stream: ${overflow}`);
  throw new CliError(`the daemon closed the watch stream at ${api.base}`, ExitCode.UNREACHABLE);
}
