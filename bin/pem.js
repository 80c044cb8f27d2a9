#!/usr/bin/env node
// Thin entry: all behaviour lives in dist/ (built from src/ by `npm install`); what only a
// process has (closed pipes, warnings, SIGTERM) is handled in dist/cli/process.js.
import { runPemProcess } from '../dist/cli/process.js';

await runPemProcess(process.argv.slice(2));
