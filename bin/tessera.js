#!/usr/bin/env node
// Runs the TypeScript entry point through tsx, so `npx tessera serve` works from an install.
import { register } from 'tsx/esm/api';
register();
await import('../src/main.ts');
