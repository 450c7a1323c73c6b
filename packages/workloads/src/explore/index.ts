/**
 * Race scenarios and the explorer that runs them under seeded
 * interleavings.
 * @module
 */

export {
  DEFAULT_EXPLORE_CPUS,
  DEFAULT_EXPLORE_MEM,
  DEFAULT_EXPLORE_SEEDS,
  MAX_EXPLORE_SEEDS,
  exploreScenario,
  type ExploreConfig,
  type ExploreFailure,
  type ExploreReport,
  type ExploreRunOptions,
} from './explore.js';
export { getScenario, listScenarios, resolveScenario } from './registry.js';
export { defineScenario, type Scenario, type ScenarioKernel } from './scenario.js';
export { SCENARIOS, faultRace, forkVsWrite, mprotectVsWrite, munmapVsAccess, reclaimVsFault } from './scenarios.js';
