// Unit tests of the rule and the helpers, without the sandbox: `node --test`.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as kit from './insitu-kit.js';
import { largeDebit, COLLECTION } from './rule.js';

const LABELS = ['Crêpes à Noël €', 'Übergebühr', '日本語', 'CAFÉ'];

function tx(i, minor, label, counterparty, currency = 'EUR') {
  return { id: i, time: 1_700_000_000_000 + i, amount: kit.money(minor, currency), label, counterparty };
}

function runRule(records, params = []) {
  return kit.run(largeDebit, params, kit.fakeHost({ [COLLECTION]: records }));
}

test('text ends are UTF-8 byte offsets and labels come out whole', () => {
  const batch = new kit.Batch(kit.columnar(LABELS.map((l, i) => tx(i, -1, l))));
  const col = batch.columns.get('label').values.val;
  // "Crêpes à Noël €" is 15 UTF-16 units but 20 bytes.
  assert.equal(col.ends[0], new TextEncoder().encode(LABELS[0]).length);
  assert.notEqual(col.ends[0], LABELS[0].length);
  assert.deepEqual(LABELS.map((_, i) => batch.text('label', i)), LABELS);
});

test('optional fields are undefined where invalid, absent fields throw', () => {
  const batch = new kit.Batch(kit.columnar([tx(1, -1, 'a', 'Agence'), tx(2, -1, 'b')]));
  const rows = [...batch.rows()];
  assert.equal(rows[0].get('counterparty'), 'Agence');
  assert.equal(rows[1].get('counterparty'), undefined);
  const narrow = new kit.Batch(kit.columnar([tx(1, -1, 'a')], ['amount']));
  const row = [...narrow.rows()][0];
  assert.equal(row.has('label'), false);
  assert.throws(() => row.get('label'));
});

test('debits at or above the threshold, with their labels, reason and totals', () => {
  const out = runRule([
    tx(1, -12345, LABELS[0], 'Crêperie'),
    tx(2, -10000, LABELS[1]),
    tx(3, -9999, LABELS[2]),
    tx(4, 50000, 'salary'),
    tx(5, -20000, LABELS[2], undefined, 'JPY'),
  ]);
  assert.equal(out.tag, 'findings');
  const { findings, summary } = out.val;
  assert.deepEqual(findings.map((f) => f.label), LABELS.slice(0, 2));
  assert.equal(findings[0].reason, 'a debit of 123.45 EUR, above the threshold of 100.00 EUR');
  assert.equal(findings[0].evidence[0].id, 1n);
  assert.equal(findings[0].time, 1_700_000_000_001n);
  const byName = Object.fromEntries(summary.map((m) => [m.name, m.value]));
  assert.deepEqual(byName.count, { tag: 'integer', val: 2n });
  assert.equal(byName.total.val.minor, 22345n);
});

test('an integer threshold is minor units', () => {
  const out = runRule([tx(1, -600, 'x'), tx(2, -400, 'y')], [kit.param('threshold', 500n)]);
  assert.deepEqual(out.val.findings.map((f) => f.label), ['x']);
});

test('fail throws with its message as the plugin error', () => {
  assert.throws(() => runRule([], [kit.param('fail', 'Übergebühr refusée')]), (e) => {
    assert.deepEqual(e.payload, { tag: 'failed', val: 'Error: Übergebühr refusée' });
    return true;
  });
});

test('a mistyped parameter is invalid-params', () => {
  assert.throws(() => runRule([], [kit.param('threshold', 'lots')]),
    (e) => e.payload.tag === 'invalid-params');
});
