// The neighbour overlay rules (docs/config.md, "Runtime changes"): order, changed keys on top of the file's, deleted,
// added shadowing a file table, dormant and invalid rows reported as warnings.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyOverlay, mergeNeighbor } from './overlay.ts';
import type { OverlayRow } from './store.ts';
import { config, GLOBAL_TOML, neighborToml } from './testing.ts';

const FILE = config(`${GLOBAL_TOML}
${neighborToml('192.0.2.2', 65001, 'hold_time = 60', 'description = "file"')}
${neighborToml('192.0.2.3', 65000)}
${neighborToml('192.0.2.4', 65004)}`);

const rows = (...r: OverlayRow[]) => r;

describe('applyOverlay', () => {
  it('without rows the file is the configuration', () => {
    const r = applyOverlay(FILE, []);
    assert.deepEqual(r.config.neighbors, FILE.neighbors);
    assert.deepEqual(r.warnings, []);
  });

  it('file neighbours in file order, then added ones in row order; changed keys on top; deleted gone', () => {
    const r = applyOverlay(
      FILE,
      rows(
        { address: '192.0.2.9', kind: 'added', fields: { address: '192.0.2.9', asn: 65009 } },
        { address: '192.0.2.2', kind: 'changed', fields: { hold_time: 30 } },
        { address: '192.0.2.3', kind: 'deleted', fields: {} },
        { address: '192.0.2.8', kind: 'added', fields: { address: '192.0.2.8', asn: 65008 } },
      ),
    );
    assert.deepEqual(
      r.config.neighbors.map((n) => n.address),
      ['192.0.2.2', '192.0.2.4', '192.0.2.9', '192.0.2.8'],
    );
    const n2 = r.config.neighbors[0]!;
    assert.equal(n2.holdTime, 30, "the API's key");
    assert.equal(n2.description, 'file', "the file's other keys");
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.config.routes, FILE.routes);
  });

  it("an added neighbour replaces a file table of the same address whole, in the file's place", () => {
    const r = applyOverlay(
      FILE,
      rows({ address: '192.0.2.2', kind: 'added', fields: { address: '192.0.2.2', asn: 65099 } }),
    );
    const n = r.config.neighbors[0]!;
    assert.equal(n.address, '192.0.2.2');
    assert.equal(n.asn, 65099);
    assert.equal(n.holdTime, 90, 'the default, not the file value');
    assert.equal(n.description, undefined);
  });

  it('a changed row whose neighbour left the file is dormant; one the file made invalid falls back to the file', () => {
    const r = applyOverlay(
      FILE,
      rows(
        { address: '192.0.2.7', kind: 'changed', fields: { hold_time: 30 } },
        // route_reflector_client on an eBGP neighbour is invalid.
        { address: '192.0.2.4', kind: 'changed', fields: { route_reflector_client: true } },
      ),
    );
    assert.deepEqual(
      r.config.neighbors.map((n) => n.address),
      ['192.0.2.2', '192.0.2.3', '192.0.2.4'],
    );
    assert.equal(r.config.neighbors[2]!.routeReflectorClient, false);
    assert.equal(r.warnings.length, 2);
    assert.match(r.warnings[0]!, /192\.0\.2\.4: API changes not applied \(route_reflector_client: only an iBGP/);
    assert.match(r.warnings[1]!, /192\.0\.2\.7: changed through the API but no longer in the file/);
  });

  it('mergeNeighbor validates like the file does, naming the key', () => {
    const m = mergeNeighbor(FILE.neighbors[0]!, { hold_time: 2, families: [] }, 65000);
    assert.equal(m.ok, false);
    assert.deepEqual(!m.ok && m.errors.map((e) => e.field), ['hold_time', 'families']);
  });
});
