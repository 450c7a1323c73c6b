/**
 * The built-in race scenarios, by name.
 * @module
 */

import { SpecError } from '../errors.js';
import { unknownNameMessage } from '../suggest.js';
import type { Scenario } from './scenario.js';
import { SCENARIOS } from './scenarios.js';

/** Every built-in scenario, in the order `mmlab list scenarios` shows them. */
export function listScenarios(): readonly Scenario[] {
  return SCENARIOS;
}

/**
 * The built-in scenario called `name`.
 * @param name - a scenario name such as `munmap-vs-access`
 * @returns the scenario, or `undefined` when there is none by that name
 */
export function getScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

/**
 * The built-in scenario called `name`, or a {@link SpecError} whose one
 * line lists the known ones.
 * @param name - a scenario name
 * @throws {@link SpecError} for an unknown name
 */
export function resolveScenario(name: string): Scenario {
  const s = getScenario(name);
  if (s === undefined) {
    throw new SpecError(unknownNameMessage('scenario', name, SCENARIOS.map((x) => x.name)));
  }
  return s;
}
