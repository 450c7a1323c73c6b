/**
 * Fitting a cost table to measured figures: the calibration step of
 * `mmlab calibrate`. Each figure (a primitive's ns per page on the real
 * kernel) is modelled as a linear function of the costs —
 * `offset + Σ perCost[key] × costs[key]`, the sensitivities measured by
 * running the model — and the costs are scaled until every modelled figure
 * matches its target.
 *
 * The method is multiplicative and stays near the starting table: at each
 * step every cost that some figure depends on is multiplied by the
 * weighted geometric mean of `target / modelled` over the figures it
 * contributes to, each weighted by the share of that figure's time the
 * cost accounts for. A cost only one figure uses moves by that figure's
 * whole ratio (a per-primitive scale factor); a cost several figures
 * share (the fault entry, the page allocator) moves by a compromise and
 * the figures' own costs take up the rest at the next steps. Costs no
 * figure depends on keep their value. Costs stay positive.
 * @module
 */
import { COST_KEYS, type CostTable } from './cost.js';

/** One figure to fit: its target and how the model's value depends on the costs. */
export interface FitFigure {
  /** Name, for messages. */
  readonly name: string;
  /** The measured value (ns per page), greater than 0. */
  readonly target: number;
  /** Part of the modelled value that no cost scales. */
  readonly offset: number;
  /** ns of modelled value per ns of each cost. */
  readonly perCost: Readonly<Record<keyof CostTable, number>>;
}

/** Options of {@link fitCosts}. */
export interface FitOptions {
  /** Stop when every figure is within this relative error (default 0.01). */
  readonly tolerance?: number;
  /** Most steps (default 500). */
  readonly maxSteps?: number;
}

/** What {@link fitCosts} found. */
export interface CostFit {
  /** The fitted table. */
  readonly costs: CostTable;
  /** Each figure's modelled value with the fitted table, by name. */
  readonly modelled: Readonly<Record<string, number>>;
  /** Each figure's relative error `modelled / target - 1`, by name. */
  readonly errors: Readonly<Record<string, number>>;
  /** The largest absolute relative error. */
  readonly maxError: number;
  /** Steps taken. */
  readonly steps: number;
}

/**
 * The modelled value of a figure under a cost table.
 * @param figure - the figure
 * @param costs - the cost table
 */
export function modelledFigure(figure: Pick<FitFigure, 'offset' | 'perCost'>, costs: Readonly<CostTable>): number {
  let v = figure.offset;
  for (const key of COST_KEYS) v += figure.perCost[key] * costs[key];
  return v;
}

/**
 * Fits `start` to the figures (see the module comment for the method).
 * @param start - the table to start from (a machine profile's costs)
 * @param figures - the figures to match
 * @param options - tolerance and step limit
 * @throws Error for a target that is not a positive number, or a figure no cost of `start` contributes to
 */
export function fitCosts(start: Readonly<CostTable>, figures: readonly FitFigure[], options: FitOptions = {}): CostFit {
  const tolerance = options.tolerance ?? 0.01;
  const maxSteps = options.maxSteps ?? 500;
  for (const f of figures) {
    if (!(f.target > 0) || !Number.isFinite(f.target)) throw new Error(`fit: target of ${f.name} must be a positive number of ns, got ${f.target}`);
    if (!COST_KEYS.some((key) => f.perCost[key] > 0 && start[key] > 0)) throw new Error(`fit: no cost of the table contributes to ${f.name}`);
    if (f.offset >= f.target) throw new Error(`fit: ${f.name} takes ${f.offset} ns that no cost scales, above its target ${f.target} ns`);
  }
  const costs = { ...start };
  const logErr = new Float64Array(figures.length);
  const value = new Float64Array(figures.length);
  let steps = 0;
  for (;;) {
    let worst = 0;
    figures.forEach((f, i) => {
      value[i] = modelledFigure(f, costs);
      logErr[i] = Math.log(f.target / value[i]);
      worst = Math.max(worst, Math.abs(value[i] / f.target - 1));
    });
    if (worst <= tolerance || steps >= maxSteps) break;
    steps++;
    const next = { ...costs };
    for (const key of COST_KEYS) {
      let w = 0;
      let sum = 0;
      figures.forEach((f, i) => {
        // the share of the figure's time that is this cost (the offset is
        // no cost's, so the shares of the scalable part sum to 1)
        const share = (f.perCost[key] * costs[key]) / (value[i]! - f.offset);
        if (share <= 0) return;
        w += share;
        sum += share * logErr[i]!;
      });
      if (w > 0) next[key] = costs[key] * Math.exp(sum / w);
    }
    Object.assign(costs, next);
  }
  const modelled: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let maxError = 0;
  figures.forEach((f, i) => {
    modelled[f.name] = value[i]!;
    errors[f.name] = value[i]! / f.target - 1;
    maxError = Math.max(maxError, Math.abs(errors[f.name]!));
  });
  return { costs, modelled, errors, maxError, steps };
}
