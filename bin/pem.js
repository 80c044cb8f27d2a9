#!/usr/bin/env node
// Thin entry: all behaviour lives in dist/cli/main.js (built from src/ by `npm install`).
import { main } from '../dist/cli/main.js';

// `pem check | head` closes stdout early: that is the reader's choice, not a failure to report.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

// Library warnings as one plain line each. google-auth's MetadataLookupWarning (no metadata
// server off Google Cloud) only precedes the credentials error that pem reports itself.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'MetadataLookupWarning') return;
  const message = String(warning.message).split('\n')[0];
  const cloudRun = Boolean(process.env.CLOUD_RUN_JOB || process.env.K_SERVICE);
  process.stderr.write(cloudRun ? `${JSON.stringify({ severity: 'WARNING', message })}\n` : `warning: ${message}\n`);
});

process.exitCode = await main(process.argv.slice(2));
