// The component's entry point: componentize-js exports `run` from this module. The host's
// interfaces are imported here only, so the rule and the kit also run under `node --test`.

import * as data from 'insitu:plugin/data@0.2.0';
import * as log from 'insitu:plugin/log@0.2.0';

import * as kit from './insitu-kit.js';
import { largeDebit } from './rule.js';

export function run(params) {
  return kit.run(largeDebit, params, { data, log });
}
