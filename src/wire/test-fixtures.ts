// The captured-streams fixture for the codec's tests (test-only: nothing in src imports this):
// test/fixtures/captured-streams.json holds byte streams recorded from BIRD and FRR on loopback, each as the socket
// reads arrived (`chunks`) and as the framed messages in order (`messages`), all hex.

import { readFileSync } from 'node:fs';

export interface CapturedStream {
  name: string;
  chunks: string[];
  messages: string[];
}

export const CAPTURED_STREAMS: readonly CapturedStream[] = (
  JSON.parse(readFileSync(new URL('../../test/fixtures/captured-streams.json', import.meta.url), 'utf8')) as {
    streams: CapturedStream[];
  }
).streams;
