// A thin helper library over the Insitu WIT bindings (`insitu:plugin`, see wit/plugin.wit), as
// componentize-js presents them: records are objects with camelCase fields, variants are
// `{ tag, val }`, 64-bit integers are BigInts, lists of numbers are typed arrays.
//
// It turns the host's columnar batches into typed rows, reads parameters by name with their
// types, and builds findings and metrics. It imports nothing: the entry module (app.js) hands
// it the host's `data` and `log` interfaces, so a rule runs the same under `node --test` on
// `fakeData`, laid out exactly as the host lays it out.
//
// Text columns are UTF-8 byte offsets: value `i` is `data[ends[i-1]..ends[i]]` counted in
// *bytes* of the UTF-8 encoding, not in JavaScript's UTF-16 units. `Batch.text` encodes the
// column once, slices the bytes and decodes, so "Crêpes à Noël €" or "日本語" come out whole.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** Raise it for a missing or ill-typed parameter: the run fails with `invalid-params`. */
export class InvalidParams extends Error {
  constructor(message) {
    super(message);
    this.name = 'InvalidParams';
  }
}

/** Money: `minor` (a BigInt count of cents) and an ISO 4217 `currency`. */
export function money(minor, currency) {
  return { minor: BigInt(minor), currency };
}

/** 123.45 EUR (two decimals). */
export function moneyText(m) {
  const minor = BigInt(m.minor);
  const a = minor < 0n ? -minor : minor;
  const cents = String(a % 100n).padStart(2, '0');
  return `${minor < 0n ? '-' : ''}${a / 100n}.${cents} ${m.currency}`;
}

// ---- parameters ------------------------------------------------------------------------

/** The run's parameters by name, each read with its expected type. */
export class Params {
  constructor(params) {
    this.byName = new Map(params.map((p) => [p.name, p.value]));
  }

  has(name) {
    return this.byName.has(name);
  }

  #get(name, tags) {
    if (!this.byName.has(name)) return undefined;
    const v = this.byName.get(name);
    if (!tags.includes(v.tag)) {
      throw new InvalidParams(`parameter \`${name}\` must be ${tags.join(' or ')}, not ${v.tag}`);
    }
    return v;
  }

  /** A text parameter, or `fallback` when absent. */
  text(name, fallback) {
    const v = this.#get(name, ['text']);
    return v === undefined ? fallback : v.val;
  }

  /** An integer parameter (a BigInt), or `fallback` when absent. */
  integer(name, fallback) {
    const v = this.#get(name, ['integer']);
    return v === undefined ? fallback : v.val;
  }

  /** A money parameter; an integer is taken as minor units in the fallback's currency (EUR
   * when there is none). */
  money(name, fallback) {
    const v = this.#get(name, ['money', 'integer']);
    if (v === undefined) return fallback;
    if (v.tag === 'integer') return money(v.val, fallback ? fallback.currency : 'EUR');
    return v.val;
  }
}

// ---- rows over columnar batches --------------------------------------------------------

/** One columnar batch, read by field name and row index. */
export class Batch {
  constructor(raw) {
    this.raw = raw;
    this.ids = raw.ids;
    this.times = raw.times;
    this.columns = new Map(raw.columns.map((c) => [c.name, c]));
    this.bytes = new Map();
  }

  get length() {
    return this.ids.length;
  }

  /** Whether the field was delivered (a field outside the grant never is). */
  has(field) {
    return this.columns.has(field);
  }

  present(field, i) {
    const c = this.columns.get(field);
    return c !== undefined && (c.valid === undefined || c.valid === null || c.valid[i]);
  }

  /** Row `i`'s text: the UTF-8 bytes between the previous end and this one, decoded. */
  text(field, i) {
    if (!this.present(field, i)) return undefined;
    const col = this.columns.get(field).values.val;
    let b = this.bytes.get(field);
    if (b === undefined) {
      b = encoder.encode(col.data);
      this.bytes.set(field, b);
    }
    const start = i > 0 ? col.ends[i - 1] : 0;
    return decoder.decode(b.subarray(start, col.ends[i]));
  }

  money(field, i) {
    if (!this.present(field, i)) return undefined;
    const col = this.columns.get(field).values.val;
    return { minor: BigInt(col.minor[i]), currency: col.currencies[col.currency[i]] };
  }

  /** Row `i`'s value of any kind (undefined when absent). */
  value(field, i) {
    if (!this.present(field, i)) return undefined;
    const values = this.columns.get(field).values;
    if (values.tag === 'text') return this.text(field, i);
    if (values.tag === 'money') return this.money(field, i);
    return values.val[i];
  }

  *rows() {
    for (let i = 0; i < this.ids.length; i++) yield new Row(this, i);
  }
}

/** One record: `row.id`, `row.time` (BigInts) and its fields by name (`row.get('label')`,
 * undefined when the optional field has no value; an error when it was not delivered). */
export class Row {
  constructor(batch, i) {
    this.batch = batch;
    this.i = i;
  }

  get id() {
    return BigInt(this.batch.ids[this.i]);
  }

  get time() {
    return BigInt(this.batch.times[this.i]);
  }

  has(field) {
    return this.batch.has(field);
  }

  get(field) {
    if (!this.batch.has(field)) throw new Error(`field \`${field}\` was not delivered`);
    return this.batch.value(field, this.i);
  }

  /** The field's value, or `fallback` when it has none or was not delivered. */
  getOr(field, fallback) {
    const v = this.batch.has(field) ? this.batch.value(field, this.i) : undefined;
    return v === undefined ? fallback : v;
  }
}

/** What a rule gets: its parameters and the granted data. */
export class Context {
  constructor(params, host) {
    this.params = new Params(params);
    this.host = host;
  }

  *batches(collection, fields, batchSize) {
    let query;
    try {
      query = this.host.data.open({ collection, fields, batchSize });
    } catch (e) {
      throw dataError(e);
    }
    for (;;) {
      let raw;
      try {
        raw = query.nextBatch();
      } catch (e) {
        throw dataError(e);
      }
      if (raw === undefined || raw === null) return;
      yield new Batch(raw);
      // The host knew this batch was the last: the call that would answer none is saved.
      if (query.wasLast()) return;
    }
  }

  *records(collection, fields) {
    for (const batch of this.batches(collection, fields)) yield* batch.rows();
  }

  log(message, level = 'info') {
    this.host.log.log(level, message);
  }
}

class DataError extends Error {}

function dataError(e) {
  const v = e && e.payload !== undefined ? e.payload : e;
  const text = v && v.tag ? (v.val !== undefined ? `${v.tag}: ${v.val}` : v.tag) : String(v);
  return new DataError(text);
}

// ---- output ----------------------------------------------------------------------------

export function finding({ rule, time, label, reason, evidence, amount, loss }) {
  return {
    rule,
    time: BigInt(time),
    amount,
    loss,
    label,
    reason,
    evidence: evidence.map((e) => ({ collection: e.collection, id: BigInt(e.id) })),
  };
}

export function evidence(collection, id) {
  return { collection, id: BigInt(id) };
}

/** A metric; `value` is a bigint (integer), number (float), boolean, string or money. */
export function metric(name, value) {
  let scalar;
  if (typeof value === 'bigint') scalar = { tag: 'integer', val: value };
  else if (typeof value === 'number') scalar = Number.isInteger(value)
    ? { tag: 'integer', val: BigInt(value) } : { tag: 'float', val: value };
  else if (typeof value === 'boolean') scalar = { tag: 'boolean', val: value };
  else if (typeof value === 'string') scalar = { tag: 'text', val: value };
  else if (value && value.currency !== undefined) scalar = { tag: 'money', val: money(value.minor, value.currency) };
  else throw new TypeError(`metric \`${name}\`: unsupported value ${value}`);
  return { name, value: scalar };
}

export function findings(found, summary) {
  return { tag: 'findings', val: { findings: found, summary } };
}

export function metrics(items) {
  return { tag: 'metrics', val: items };
}

/** The thrown value componentize-js turns into the `run`'s error result. */
function pluginError(tag, message) {
  const e = new Error(message);
  e.payload = { tag, val: message };
  return e;
}

/** Runs `rule` and turns what it throws into the plugin's error, with its message and type:
 * the host shows it as the run's failure reason. Also logs the stack (the run's log). */
export function run(rule, params, host) {
  try {
    return rule(new Context(params, host));
  } catch (e) {
    if (e instanceof InvalidParams) throw pluginError('invalid-params', e.message);
    if (e instanceof DataError) throw pluginError('data', e.message);
    const text = e instanceof Error ? `${e.name}: ${e.message}` : `thrown: ${String(e)}`;
    try {
      host.log.log('error', e && e.stack ? `${text}\n${e.stack}` : text);
    } catch (_) {
      // Logging is best effort.
    }
    throw pluginError('failed', text);
  }
}

// ---- test data -------------------------------------------------------------------------

/** Records (objects with `id`, `time` and field values: string, number, boolean, money, or
 * undefined/null for an absent optional value) as one host batch. */
export function columnar(records, fields) {
  const names = fields ?? [...new Set(records.flatMap((r) => Object.keys(r)))]
    .filter((k) => k !== 'id' && k !== 'time').sort();
  const columns = names.map((name) => {
    const vals = records.map((r) => r[name]);
    const valid = vals.map((v) => v !== undefined && v !== null);
    const sample = vals.find((v) => v !== undefined && v !== null);
    let values;
    if (typeof sample === 'string' || sample === undefined) {
      const parts = vals.map((v) => encoder.encode(v ?? ''));
      const ends = new Uint32Array(parts.length);
      let n = 0;
      parts.forEach((p, i) => { n += p.length; ends[i] = n; });
      values = { tag: 'text', val: { data: vals.map((v) => v ?? '').join(''), ends } };
    } else if (sample.currency !== undefined) {
      const currencies = [...new Set(vals.filter(Boolean).map((v) => v.currency))];
      values = {
        tag: 'money',
        val: {
          minor: BigInt64Array.from(vals.map((v) => BigInt(v ? v.minor : 0))),
          currencies,
          currency: Uint16Array.from(vals.map((v) => (v ? currencies.indexOf(v.currency) : 0))),
        },
      };
    } else if (typeof sample === 'boolean') {
      values = { tag: 'boolean', val: vals.map(Boolean) };
    } else if (typeof sample === 'bigint') {
      values = { tag: 'integer', val: BigInt64Array.from(vals.map((v) => v ?? 0n)) };
    } else {
      values = { tag: 'float', val: Float64Array.from(vals.map((v) => v ?? 0)) };
    }
    return { name, values, valid: valid.every(Boolean) ? undefined : valid };
  });
  return {
    ids: BigUint64Array.from(records.map((r) => BigInt(r.id))),
    times: BigInt64Array.from(records.map((r) => BigInt(r.time))),
    columns,
  };
}

/** A stand-in for the host's `data` and `log` interfaces in unit tests: `collections` maps a
 * name to its records (see `columnar`). Log lines are kept in `lines`. */
export function fakeHost(collections, batchSize = 2) {
  const lines = [];
  return {
    lines,
    log: { log: (level, message) => lines.push(`[${level}] ${message}`) },
    data: {
      open(spec) {
        const records = collections[spec.collection];
        if (records === undefined) {
          const e = new Error('unknown-collection');
          e.payload = { tag: 'unknown-collection', val: spec.collection };
          throw e;
        }
        const n = spec.batchSize ?? batchSize;
        const batches = [];
        for (let i = 0; i < records.length; i += n) {
          batches.push(columnar(records.slice(i, i + n), spec.fields));
        }
        return { nextBatch: () => batches.shift(), wasLast: () => batches.length === 0 };
      },
    },
  };
}

/** A run parameter, for tests: `param('threshold', 5000n)`. */
export function param(name, value) {
  return { name, value: metric(name, value).value };
}
