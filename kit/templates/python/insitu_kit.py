"""A thin helper library over the Insitu WIT bindings (`insitu:plugin`, see wit/plugin.wit).

It turns the host's columnar batches into typed rows, reads parameters by name with their
types, and builds findings and metrics. It has no dependency: inside the component it uses
the bindings componentize-py generates (`wit_world`); outside it (unit tests, `python3 -m
unittest`) it uses plain classes of the same shape, so a rule can be tested without the
sandbox, on data laid out exactly as the host lays it out (`fake_data`).

Text columns are UTF-8 byte offsets: value `i` is `data[ends[i-1]:ends[i]]` counted in
*bytes* of the UTF-8 encoding, not in Python characters. `Batch.text` slices the encoded
bytes and decodes, so labels such as "Crêpes à Noël €" or "日本語" come out whole.
"""

from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional

try:  # Inside the component: the generated bindings.
    from componentize_py_types import Err
    from wit_world.imports import data as _data
    from wit_world.imports import log as _log
    from wit_world.imports import output as _output
    from wit_world.imports import types as _types

    IN_SANDBOX = True
except ImportError:  # Outside it: the same shapes, for unit tests.
    IN_SANDBOX = False
    import enum
    import types as _pytypes

    @dataclass(frozen=True)
    class Err(Exception):  # type: ignore[no-redef]
        value: object

    def _variant(name: str, *cases: str) -> Dict[str, type]:
        return {c: dataclass(type(f"{name}_{c}", (), {"__annotations__": {"value": object}}))
                for c in cases}

    _types = _pytypes.SimpleNamespace()
    _types.Money = dataclass(type("Money", (), {"__annotations__": {"minor": int, "currency": str}}))
    for _k, _c in _variant("Scalar", "Text", "Integer", "Float", "Money", "Timestamp",
                           "Boolean").items():
        setattr(_types, f"Scalar_{_k}", _c)

    _data = _pytypes.SimpleNamespace()
    _data.TextColumn = dataclass(type("TextColumn", (), {"__annotations__": {"data": str, "ends": list}}))
    _data.MoneyColumn = dataclass(type("MoneyColumn", (), {"__annotations__": {
        "minor": list, "currencies": list, "currency": list}}))
    for _k, _c in _variant("ColumnValues", "Text", "Integer", "Float", "Money", "Timestamp",
                           "Boolean").items():
        setattr(_data, f"ColumnValues_{_k}", _c)
    _data.Column = dataclass(type("Column", (), {"__annotations__": {
        "name": str, "values": object, "valid": object}}))
    _data.Batch = dataclass(type("Batch", (), {"__annotations__": {
        "ids": list, "times": list, "columns": list}}))
    _data.QuerySpec = dataclass(type("QuerySpec", (), {"__annotations__": {
        "collection": str, "fields": object, "since": object, "until": object,
        "batch_size": object}}))

    _output = _pytypes.SimpleNamespace()
    _output.Evidence = dataclass(type("Evidence", (), {"__annotations__": {"collection": str, "id": int}}))
    _output.Finding = dataclass(type("Finding", (), {"__annotations__": {
        "rule": str, "time": int, "amount": object, "loss": object, "label": str,
        "reason": str, "evidence": list}}))
    _output.Metric = dataclass(type("Metric", (), {"__annotations__": {"name": str, "value": object}}))
    _output.FindingsReport = dataclass(type("FindingsReport", (), {"__annotations__": {
        "findings": list, "summary": list}}))
    _output.Param = dataclass(type("Param", (), {"__annotations__": {"name": str, "value": object}}))
    for _k, _c in _variant("PluginOutput", "Findings", "Metrics", "Table").items():
        setattr(_output, f"PluginOutput_{_k}", _c)
    for _k, _c in _variant("PluginError", "InvalidParams", "Data", "Failed").items():
        setattr(_output, f"PluginError_{_k}", _c)

    class _Level(enum.Enum):
        DEBUG = 0
        INFO = 1
        WARN = 2
        ERROR = 3

    #: What the rule logged, outside the sandbox (for tests).
    LOGGED: List[str] = []
    _log = _pytypes.SimpleNamespace(Level=_Level, log=lambda level, message: LOGGED.append(
        f"[{level.name.lower()}] {message}"))

# The types a rule builds its output from.
Money = _types.Money
Finding = _output.Finding
Evidence = _output.Evidence


class InvalidParams(Exception):
    """Raise it for a missing or ill-typed parameter: the run fails with `invalid-params`."""


def _kind(variant: object) -> str:
    """`ColumnValues_Text` -> `text`: the case of a generated variant."""
    return type(variant).__name__.rsplit("_", 1)[1].lower()


def money_text(m) -> str:
    """123.45 EUR (two decimals)."""
    sign = "-" if m.minor < 0 else ""
    a = abs(m.minor)
    return f"{sign}{a // 100}.{a % 100:02d} {m.currency}"


# ---- parameters -------------------------------------------------------------------------

class Params:
    """The run's parameters by name, each read with its expected type."""

    def __init__(self, params: List) -> None:
        self._by_name = {p.name: p.value for p in params}

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def _get(self, name: str, kinds: tuple, default):
        if name not in self._by_name:
            return default
        v = self._by_name[name]
        if _kind(v) not in kinds:
            raise InvalidParams(f"parameter `{name}` must be {' or '.join(kinds)}, not {_kind(v)}")
        return v

    def text(self, name: str, default=None) -> Optional[str]:
        v = self._get(name, ("text",), default)
        return v if v is default else v.value

    def integer(self, name: str, default=None) -> Optional[int]:
        v = self._get(name, ("integer",), default)
        return v if v is default else v.value

    def money(self, name: str, default=None):
        """A money parameter; an integer is taken as minor units in the default's currency
        (EUR when there is no default)."""
        v = self._get(name, ("money", "integer"), default)
        if v is default:
            return v
        if _kind(v) == "integer":
            return Money(minor=v.value, currency=default.currency if default else "EUR")
        return v.value



# ---- rows over columnar batches ---------------------------------------------------------

class Batch:
    """One columnar batch, read by field name and row index."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.ids: List[int] = raw.ids
        self.times: List[int] = raw.times
        self._columns = {c.name: c for c in raw.columns}
        self._bytes: Dict[str, bytes] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def has(self, field: str) -> bool:
        """Whether the field was delivered (a field outside the grant never is)."""
        return field in self._columns

    def present(self, field: str, i: int) -> bool:
        c = self._columns.get(field)
        return c is not None and (c.valid is None or c.valid[i])

    def text(self, field: str, i: int) -> Optional[str]:
        """Row `i`'s text: the UTF-8 bytes between the previous end and this one, decoded."""
        if not self.present(field, i):
            return None
        col = self._columns[field].values.value
        b = self._bytes.get(field)
        if b is None:
            b = self._bytes[field] = col.data.encode("utf-8")
        start = col.ends[i - 1] if i > 0 else 0
        return b[start:col.ends[i]].decode("utf-8")

    def money(self, field: str, i: int):
        if not self.present(field, i):
            return None
        col = self._columns[field].values.value
        return Money(minor=col.minor[i], currency=col.currencies[col.currency[i]])

    def value(self, field: str, i: int):
        """Row `i`'s value of any kind (None when absent)."""
        if not self.present(field, i):
            return None
        values = self._columns[field].values
        kind = _kind(values)
        if kind == "text":
            return self.text(field, i)
        if kind == "money":
            return self.money(field, i)
        return values.value[i]

    def rows(self) -> Iterator["Row"]:
        for i in range(len(self.ids)):
            yield Row(self, i)


class Row:
    """One record: `row.id`, `row.time`, and its fields by name (`row["label"]`, None when the
    optional field has no value; KeyError when the field was not delivered)."""

    __slots__ = ("batch", "i")

    def __init__(self, batch: Batch, i: int) -> None:
        self.batch = batch
        self.i = i

    @property
    def id(self) -> int:
        return self.batch.ids[self.i]

    @property
    def time(self) -> int:
        return self.batch.times[self.i]

    def __contains__(self, field: str) -> bool:
        return self.batch.has(field)

    def __getitem__(self, field: str):
        if not self.batch.has(field):
            raise KeyError(field)
        return self.batch.value(field, self.i)

    def get(self, field: str, default=None):
        v = self.batch.value(field, self.i) if self.batch.has(field) else None
        return default if v is None else v


class Context:
    """What a rule gets: its parameters and the granted data."""

    def __init__(self, params: List, data=None) -> None:
        self.params = Params(params)
        self._data = data if data is not None else _data

    def batches(self, collection: str, fields: Optional[List[str]] = None,
                batch_size: Optional[int] = None) -> Iterator[Batch]:
        try:
            query = self._data.open(_data.QuerySpec(collection=collection, fields=fields,
                                                    since=None, until=None,
                                                    batch_size=batch_size))
            while True:
                raw = query.next_batch()
                if raw is None:
                    return
                yield Batch(raw)
                # The host knew this batch was the last: the call that would answer none is
                # saved.
                if query.was_last():
                    return
        except Err as e:
            raise Err(_output.PluginError_Data(_data_error_text(e.value))) from None

    def records(self, collection: str, fields: Optional[List[str]] = None) -> Iterator[Row]:
        for batch in self.batches(collection, fields):
            yield from batch.rows()


def _data_error_text(e) -> str:
    v = getattr(e, "value", None)
    kind = type(e).__name__.rsplit("_", 1)[1]
    return f"{kind}: {v}" if v is not None else kind


def log(message: str, level: str = "info") -> None:
    _log.log(getattr(_log.Level, level.upper()), message)


# ---- output -----------------------------------------------------------------------------

def finding(rule: str, time: int, label: str, reason: str, evidence: List, amount=None,
            loss=None):
    return Finding(rule=rule, time=time, amount=amount, loss=loss, label=label, reason=reason,
                   evidence=list(evidence))


def evidence(collection: str, record_id: int):
    return Evidence(collection=collection, id=record_id)


def metric(name: str, value):
    """A metric; `value` is an int, float, bool, str or Money."""
    if isinstance(value, bool):
        scalar = _types.Scalar_Boolean(value)
    elif isinstance(value, int):
        scalar = _types.Scalar_Integer(value)
    elif isinstance(value, float):
        scalar = _types.Scalar_Float(value)
    elif isinstance(value, str):
        scalar = _types.Scalar_Text(value)
    elif isinstance(value, Money):
        scalar = _types.Scalar_Money(value)
    else:
        raise TypeError(f"metric `{name}`: unsupported value {value!r}")
    return _output.Metric(name=name, value=scalar)


def findings(found: List, summary: List):
    return _output.PluginOutput_Findings(_output.FindingsReport(findings=found, summary=summary))


def metrics(items: List):
    return _output.PluginOutput_Metrics(items)


def run(rule: Callable[[Context], object], params: List, data=None):
    """Runs `rule` and turns what it raises into the plugin's error, with its message: the
    host shows it as the run's failure reason. Also logs the traceback at `error` level (the
    run's log: with `--stub-wasi`, stderr goes nowhere)."""
    try:
        return rule(Context(params, data))
    except Err:
        raise
    except InvalidParams as e:
        raise Err(_output.PluginError_InvalidParams(str(e))) from None
    except Exception as e:  # noqa: BLE001 - any exception becomes the run's failure reason
        _log.log(_log.Level.ERROR, _describe(e))
        raise Err(_output.PluginError_Failed(f"{type(e).__name__}: {e}")) from None


def _describe(e: BaseException) -> str:
    """The exception and where it was raised, innermost last. Not the `traceback` module:
    it reads the source files, and with `--stub-wasi` any file access traps."""
    frames = []
    tb = e.__traceback__
    while tb is not None and len(frames) < 20:
        code = tb.tb_frame.f_code
        frames.append(f"  at {code.co_filename}:{tb.tb_lineno} in {code.co_name}")
        tb = tb.tb_next
    return "\n".join([f"{type(e).__name__}: {e}", *frames])


# ---- test data --------------------------------------------------------------------------

class _FakeQuery:
    def __init__(self, batches) -> None:
        self._batches = list(batches)

    def next_batch(self):
        return self._batches.pop(0) if self._batches else None

    def was_last(self):
        return not self._batches

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return None


class fake_data:
    """A stand-in for the host's `data` interface in unit tests. `collections` maps a name to
    a list of records: dicts with `id`, `time` and field values (str, int, float, bool, Money,
    or None for an absent optional value). Batches are laid out as the host lays them out:
    text as one string with UTF-8 byte `ends`."""

    def __init__(self, collections: Dict[str, List[dict]], batch_size: int = 2) -> None:
        self.collections = collections
        self.batch_size = batch_size

    def open(self, spec):
        if spec.collection not in self.collections:
            raise Err(type("DataError_UnknownCollection", (), {"value": spec.collection})())
        records = self.collections[spec.collection]
        n = spec.batch_size or self.batch_size
        return _FakeQuery(columnar(records[i:i + n], spec.fields)
                          for i in range(0, len(records), n))


def columnar(records: List[dict], fields: Optional[List[str]] = None):
    """Records (dicts) as one host batch."""
    names = fields or sorted({k for r in records for k in r if k not in ("id", "time")})
    columns = []
    for name in names:
        vals = [r.get(name) for r in records]
        valid = [v is not None for v in vals]
        sample = next((v for v in vals if v is not None), "")
        if isinstance(sample, str):
            data, ends = b"", []
            for v in vals:
                data += (v or "").encode("utf-8")
                ends.append(len(data))
            values = _data.ColumnValues_Text(_data.TextColumn(data=data.decode("utf-8"), ends=ends))
        elif isinstance(sample, Money):
            currencies: List[str] = []
            for v in vals:
                if v is not None and v.currency not in currencies:
                    currencies.append(v.currency)
            values = _data.ColumnValues_Money(_data.MoneyColumn(
                minor=[v.minor if v else 0 for v in vals], currencies=currencies,
                currency=[currencies.index(v.currency) if v else 0 for v in vals]))
        elif isinstance(sample, bool):
            values = _data.ColumnValues_Boolean([bool(v) for v in vals])
        elif isinstance(sample, int):
            values = _data.ColumnValues_Integer([v or 0 for v in vals])
        else:
            values = _data.ColumnValues_Float([v or 0.0 for v in vals])
        columns.append(_data.Column(name=name, values=values,
                                    valid=None if all(valid) else valid))
    return _data.Batch(ids=[r["id"] for r in records], times=[r["time"] for r in records],
                       columns=columns)


def param(name: str, value):
    """A run parameter, for tests: `param("threshold", 5000)`."""
    return _output.Param(name=name, value=metric(name, value).value)
