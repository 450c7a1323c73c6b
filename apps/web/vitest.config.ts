import { defineProject } from 'vitest/config';

// Projects given to the root config as folders do not inherit it: everything
// the app's tests need is set here. '@mmlab/source' makes sibling packages
// resolve to their TypeScript sources, so the unit tests need no build; the
// end-to-end test drives the built app (`npm run build`) in Chromium.
const conditions = ['@mmlab/source', 'module', 'node', 'development|production'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'web',
    environment: 'node',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
