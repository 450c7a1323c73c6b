// An example user workload for mmlab.
//
//   mmlab run --workload ./packages/workloads/examples/touch-half.mjs:size=8m
//
// A workload module exports `default` (or `workload`) as either
//   - a function `(ctx, params) => void`, given the spec's key=value pairs as
//     written (decimal integers as numbers, anything else as strings), or
//   - a workload object like this one: `name`, `summary`, `params` (declared
//     keys, checked and defaulted exactly like the built-ins' parameters:
//     kind 'int' or 'size', default, min, max, doc) and `run(ctx, params)`.
//
// `ctx.kernel` is the @mmlab/core Kernel, `ctx.core` the @mmlab/core module
// (constants such as PROT_READ, MAP_PRIVATE, PAGE_SIZE and helpers such as
// isErr, errnoName), `ctx.rng` a random source seeded from --seed, and
// `ctx.snapshot()` records the gauges: call it once, before the teardown.
// Every process the workload spawns must have exited when run returns.

/** One process maps SIZE bytes anonymous and writes a seeded random half of its pages. */
export default {
  name: 'touch-half',
  summary:
    'one process maps SIZE bytes anonymous private and writes a random half of its pages ' +
    '(chosen from the seed); snapshot; exit',
  params: {
    size: { kind: 'size', default: 8 * 1024 * 1024, max: 1024 * 1024 * 1024, doc: 'size of the mapping' },
  },
  run(ctx, { size }) {
    const { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, PAGE_SIZE, isErr, errnoName } = ctx.core;
    const k = ctx.kernel;
    const task = k.spawn();
    const addr = k.mmap(task, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (isErr(addr)) throw new Error(`mmap failed: ${errnoName(addr)}`);
    const pages = size / PAGE_SIZE;
    const order = ctx.rng.shuffle(Array.from({ length: pages }, (_, i) => i));
    for (const page of order.slice(0, Math.floor(pages / 2))) {
      const signal = k.touch(task, addr + page * PAGE_SIZE, PAGE_SIZE, true);
      if (signal !== 0) throw new Error(`write to page ${page} raised signal ${signal}`);
    }
    ctx.snapshot();
    k.exit(task);
  },
};
