// Vite config: Preact + TypeScript; output dir from STRATUS_WEB_OUT (CMake sets it) or dist.
// `npx vite` (dev server) proxies the console's API to STRATUS_CONSOLE_URL (default
// http://127.0.0.1:8086, stratus-console's default port), so the pages run against a real backend.
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
const backend = process.env.STRATUS_CONSOLE_URL || 'http://127.0.0.1:8086';
export default defineConfig({
  plugins: [preact()],
  build: { outDir: process.env.STRATUS_WEB_OUT || 'dist', emptyOutDir: true },
  server: { proxy: { '/api': { target: backend, changeOrigin: false }, '/login': { target: backend } } },
  test: { environment: 'node', include: ['test/**/*.test.ts'] },
} as any);
