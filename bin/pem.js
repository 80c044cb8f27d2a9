#!/usr/bin/env node
// Thin entry: all behaviour lives in dist/ (built from src/ by `npm install`); what only a
// process has (closed pipes, warnings, SIGTERM, SIGINT) is handled in dist/cli/process.js.
// Loading dist/ takes up to a second or more: a SIGTERM or SIGINT meanwhile is held, not left to
// the default action (exit by signal, no line), and handled once pem's own handling is in place.
// The holding listeners stay: removed, they would take with them a signal still on its way in.
const earlySignals = [];
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => earlySignals.push(signal));
const { runPemProcess } = await import('../dist/cli/process.js');
await runPemProcess(process.argv.slice(2), { earlySignals });
