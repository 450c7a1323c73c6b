import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The lab's browser entry reaches `@mmlab/workloads`, whose loaders of user
 * modules and capture folders import Node built-ins. The app never calls
 * them (it runs built-in workloads only and refuses module paths first), so
 * the built-ins resolve to a module whose functions throw a clear error.
 */
const shim = fileURLToPath(new URL('./src/node-shim.ts', import.meta.url));
const builtins = ['node:fs', 'node:fs/promises', 'node:path', 'node:url', 'node:child_process'];

export default defineConfig({
  base: './',
  resolve: { alias: builtins.map((find) => ({ find: new RegExp(`^${find}$`), replacement: shim })) },
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 4096, reportCompressedSize: false },
});
