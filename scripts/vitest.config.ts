import { defineProject } from 'vitest/config';

// The tests of the repository's scripts and of the documentation site: the
// generated pages are current, the checks catch what they must. Projects
// given as folders do not inherit the root config: everything is set here.
const conditions = ['@mmlab/source', 'module', 'node', 'development|production'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'scripts',
    environment: 'node',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
  },
});
