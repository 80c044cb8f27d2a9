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

process.exitCode = await main(process.argv.slice(2));
