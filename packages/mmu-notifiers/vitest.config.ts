import { defineProject } from 'vitest/config';

// Projects given to the root config as folders do not inherit it: everything
// a package's tests need is set here. '@mmlab/source' makes sibling packages
// resolve to their TypeScript sources, so tests need no build.
const conditions = ['@mmlab/source', 'module', 'node', 'development|production'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'mmu-notifiers',
    environment: 'node',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
  },
});
