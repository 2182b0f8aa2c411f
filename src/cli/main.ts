import { runCli } from './program.js';

// Ctrl-C during the bars: give the terminal its cursor back (the bars hide it) and leave as shells expect.
process.once('SIGINT', () => {
  if (process.stdout.isTTY || process.stderr.isTTY) process.stderr.write('\x1b[?25h\n');
  process.exit(130);
});

process.exitCode = await runCli(process.argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
