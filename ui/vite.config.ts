/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The policy the app must run under (Tauri window and `studydesk serve`). It is written into
// the built index.html so the browser enforces it too; STUDYDESK_NO_CSP_META=1 leaves it out
// (for a shell that sets its own policy header).
const CSP = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "script-src 'self'",
  "connect-src 'self' ipc: http://ipc.localhost",
].join('; ');

function cspMeta(): Plugin {
  return {
    name: 'studydesk-csp-meta',
    apply: 'build',
    transformIndexHtml(html) {
      if (process.env.STUDYDESK_NO_CSP_META === '1') return html;
      return html.replace(
        '<meta charset="UTF-8" />',
        `<meta charset="UTF-8" />\n    <meta http-equiv="Content-Security-Policy" content="${CSP}" />`,
      );
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [svelte(), cspMeta()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npm run dev` against a running `studydesk serve`: STUDYDESK_API=http://127.0.0.1:PORT
    proxy: process.env.STUDYDESK_API ? { '/api': process.env.STUDYDESK_API } : undefined,
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.ts'],
  },
});
