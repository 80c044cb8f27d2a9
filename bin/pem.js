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

/** One diagnostic line: a JSON log entry in Cloud Run, plain text elsewhere (as src/log.ts writes them). */
function diagnostic(severity, message) {
  const cloudRun = Boolean(process.env.CLOUD_RUN_JOB || process.env.K_SERVICE);
  process.stderr.write(cloudRun ? `${JSON.stringify({ severity, message })}\n` : `${severity.toLowerCase()}: ${message}\n`);
}

// Library warnings as one plain line each. google-auth's MetadataLookupWarning (no metadata
// server off Google Cloud) only precedes the credentials error that pem reports itself.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'MetadataLookupWarning') return;
  diagnostic('WARNING', String(warning.message).split('\n')[0]);
});

// Cloud Run ends a task at its timeout (or on cancellation) with SIGTERM, and SIGKILL 10 s later
// (https://cloud.google.com/run/docs/container-contract#lifecycle). As a container's PID 1, node
// has no default SIGTERM action and would sit out those 10 s. Stop at once instead, with one line
// and exit 1 (the check did not complete). Nothing is left half-recorded: alert state records a
// delivery only after the destination accepted it, so an alert in flight stays unsent; its claim
// lapses after the lease (src/alerts/state.ts) and a later run sends it.
process.once('SIGTERM', () => {
  diagnostic('ERROR', 'stopped by SIGTERM (task timeout or cancellation) before the command finished; alerts not yet delivered stay unsent');
  process.exit(1);
});

process.exitCode = await main(process.argv.slice(2));
