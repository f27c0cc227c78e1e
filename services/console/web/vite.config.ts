// Vite config: Preact + TypeScript; output dir from STRATUS_WEB_OUT (CMake sets it) or dist.
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
export default defineConfig({
  plugins: [preact()],
  build: { outDir: process.env.STRATUS_WEB_OUT || 'dist', emptyOutDir: true },
  test: { environment: 'node', include: ['test/**/*.test.ts'] },
} as any);
