#!/usr/bin/env node
// Thin entry: all behaviour lives in dist/cli/main.js (built from src/ by `npm install`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
