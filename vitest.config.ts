import { defineConfig } from 'vitest/config';

// Each folder below has its own vitest.config.ts (projects given as folders
// do not inherit this file's settings).
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'docs/examples/tlb-shootdown', 'scripts'],
  },
});
