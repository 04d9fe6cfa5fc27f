"""The rule `large-debit`: every debit at or above a threshold, with its reason.

Reads `bank.transactions` (amount, label, optional counterparty). Parameters: `threshold`
(money, or an integer of minor units; default 100.00 EUR) and `fail` (text: raise with that
message, to see how an error reaches the run's failure reason).
"""

import insitu_kit as kit

COLLECTION = "bank.transactions"
DEFAULT_THRESHOLD = kit.Money(minor=10000, currency="EUR")


def large_debit(ctx: kit.Context):
    fail = ctx.params.text("fail")
    if fail is not None:
        raise RuntimeError(fail)
    threshold = ctx.params.money("threshold", DEFAULT_THRESHOLD)
    found = []
    total = 0
    # Every granted field (`counterparty` is optional: a grant may leave it, or the label, out).
    for row in ctx.records(COLLECTION):
        amount = row.get("amount")
        if amount is None or amount.currency != threshold.currency:
            continue
        if amount.minor >= 0 or -amount.minor < threshold.minor:
            continue
        total += -amount.minor
        found.append(kit.finding(
            rule="large-debit",
            time=row.time,
            amount=amount,
            label=row.get("label", ""),
            reason=f"a debit of {kit.money_text(kit.Money(minor=-amount.minor, currency=amount.currency))}, "
                   f"above the threshold of {kit.money_text(threshold)}",
            evidence=[kit.evidence(COLLECTION, row.id)],
        ))
    return kit.findings(found, [
        kit.metric("count", len(found)),
        kit.metric("total", kit.Money(minor=total, currency=threshold.currency)),
    ])
