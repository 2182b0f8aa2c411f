#!/usr/bin/env node
// The `stowage` CLI. The sources are TypeScript run through tsx, as `npm start` runs the server.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
