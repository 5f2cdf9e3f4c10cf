#!/usr/bin/env node
// Thin launcher so `npx ansflow` and `npm link` work against the compiled CLI.
import '../dist/cli/main.js';
