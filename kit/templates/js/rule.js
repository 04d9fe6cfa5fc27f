// The rule `large-debit`: every debit at or above a threshold, with its reason.
//
// Reads `bank.transactions` (amount, label, optional counterparty). Parameters: `threshold`
// (money, or an integer of minor units; default 100.00 EUR) and `fail` (text: throw with that
// message, to see how an error reaches the run's failure reason).

import * as kit from './insitu-kit.js';

export const COLLECTION = 'bank.transactions';
const DEFAULT_THRESHOLD = kit.money(10000n, 'EUR');

export function largeDebit(ctx) {
  const fail = ctx.params.text('fail');
  if (fail !== undefined) throw new Error(fail);
  const threshold = ctx.params.money('threshold', DEFAULT_THRESHOLD);
  const found = [];
  let total = 0n;
  // Every granted field (`counterparty` is optional: a grant may leave it, or the label, out).
  for (const row of ctx.records(COLLECTION)) {
    const amount = row.getOr('amount');
    if (amount === undefined || amount.currency !== threshold.currency) continue;
    if (amount.minor >= 0n || -amount.minor < threshold.minor) continue;
    total += -amount.minor;
    found.push(kit.finding({
      rule: 'large-debit',
      time: row.time,
      amount,
      label: row.getOr('label', ''),
      reason: `a debit of ${kit.moneyText(kit.money(-amount.minor, amount.currency))}, `
        + `above the threshold of ${kit.moneyText(threshold)}`,
      evidence: [kit.evidence(COLLECTION, row.id)],
    }));
  }
  return kit.findings(found, [
    kit.metric('count', BigInt(found.length)),
    kit.metric('total', kit.money(total, threshold.currency)),
  ]);
}
