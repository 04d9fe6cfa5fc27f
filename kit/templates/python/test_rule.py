"""Unit tests of the rule and the helpers, without the sandbox: `python3 -m unittest`."""

import unittest

import insitu_kit as kit
import rule

EUR = "EUR"
LABELS = ["Crêpes à Noël €", "Übergebühr", "日本語", "CAFÉ"]


def tx(i, minor, label, counterparty=None, currency=EUR):
    return {"id": i, "time": 1_700_000_000_000 + i, "amount": kit.Money(minor=minor, currency=currency),
            "label": label, "counterparty": counterparty}


class TextColumns(unittest.TestCase):
    def test_ends_are_utf8_byte_offsets_and_labels_come_out_whole(self):
        batch = kit.Batch(kit.columnar([tx(i, -1, l) for i, l in enumerate(LABELS)]))
        col = batch._columns["label"].values.value
        # The ends count bytes, not characters: "Crêpes à Noël €" is 15 characters, 20 bytes.
        self.assertEqual(col.ends[0], len(LABELS[0].encode("utf-8")))
        self.assertNotEqual(col.ends[0], len(LABELS[0]))
        self.assertEqual([batch.text("label", i) for i in range(len(LABELS))], LABELS)

    def test_optional_fields_are_none_where_invalid(self):
        batch = kit.Batch(kit.columnar([tx(1, -1, "a", "Agence"), tx(2, -1, "b", None)]))
        self.assertEqual(batch.text("counterparty", 0), "Agence")
        self.assertIsNone(batch.text("counterparty", 1))
        row = list(batch.rows())[1]
        self.assertIsNone(row["counterparty"])
        self.assertEqual(row.get("counterparty", "-"), "-")

    def test_a_field_not_delivered_is_absent(self):
        batch = kit.Batch(kit.columnar([tx(1, -1, "a")], ["amount"]))
        row = next(batch.rows())
        self.assertFalse("label" in row)
        with self.assertRaises(KeyError):
            row["label"]


class LargeDebit(unittest.TestCase):
    def run_rule(self, records, *params):
        data = kit.fake_data({rule.COLLECTION: records})
        return kit.run(rule.large_debit, list(params), data)

    def test_debits_at_or_above_the_threshold_with_their_labels(self):
        out = self.run_rule([
            tx(1, -12345, LABELS[0], "Crêperie"),
            tx(2, -10000, LABELS[1]),
            tx(3, -9999, LABELS[2]),
            tx(4, 50000, "salary"),
            tx(5, -20000, LABELS[2], currency="JPY"),
        ])
        report = out.value
        self.assertEqual([f.label for f in report.findings], LABELS[:2])
        self.assertEqual(report.findings[0].reason,
                         "a debit of 123.45 EUR, above the threshold of 100.00 EUR")
        self.assertEqual(report.findings[0].evidence[0].id, 1)
        self.assertEqual(report.findings[0].time, 1_700_000_000_001)
        summary = {m.name: m.value.value for m in report.summary}
        self.assertEqual(summary["count"], 2)
        self.assertEqual(summary["total"].minor, 22345)

    def test_an_integer_threshold_is_minor_units(self):
        out = self.run_rule([tx(1, -600, "x"), tx(2, -400, "y")], kit.param("threshold", 500))
        self.assertEqual([f.label for f in out.value.findings], ["x"])

    def test_fail_raises_with_its_message_as_the_plugin_error(self):
        with self.assertRaises(kit.Err) as e:
            self.run_rule([], kit.param("fail", "Übergebühr refusée"))
        self.assertEqual(type(e.exception.value).__name__, "PluginError_Failed")
        self.assertEqual(e.exception.value.value, "RuntimeError: Übergebühr refusée")

    def test_a_mistyped_parameter_is_invalid_params(self):
        with self.assertRaises(kit.Err) as e:
            self.run_rule([], kit.param("threshold", "lots"))
        self.assertEqual(type(e.exception.value).__name__, "PluginError_InvalidParams")


if __name__ == "__main__":
    unittest.main()
