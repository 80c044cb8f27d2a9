// Runs pem's `main` (the module given as the first argument) with the remaining arguments, and
// reports this process's peak resident set size on stderr when it exits. Used by check-e2e.ts
// where GNU time (/usr/bin/time -v) is not available.
import { pathToFileURL } from 'node:url';

const [entry, ...args] = process.argv.slice(2);
process.on('exit', () => {
  process.stderr.write(`pem-bench-maxrss-kb=${process.resourceUsage().maxRSS}\n`);
});
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(args);
