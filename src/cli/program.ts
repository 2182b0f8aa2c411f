import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_URL, type GlobalOptions, integerIn, parseTags, resolveConnection } from './args.js';
import { describeError } from './cli-error.js';
import { StowageClient } from './client.js';
import type { Io } from './io.js';
import { type ListOptions, runList } from './list-command.js';
import { runRemove } from './remove-command.js';
import { type UploadOptions, runUpload } from './upload-command.js';
import { runUrl, type UrlOptions } from './url-command.js';

const TEN_YEARS_S = 10 * 365 * 24 * 3600;

const version = (): string => (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const EXAMPLES = `
Examples:
  $ export STOWAGE_PRIVATE_KEY=private_…
  $ stowage upload photos/ --folder /imports --tags summer,2024
  $ stowage upload https://example.com/cat.jpg --folder /web
  $ stowage ls /imports/photos --recursive
  $ stowage ls --query 'size > "1mb" AND tags IN ["summer"]' --json
  $ stowage url 6741b2a8e1f6c3d4a5b6c7d8 --transform w-300 --expires 3600
  $ stowage rm 6741b2a8e1f6c3d4a5b6c7d8`;

/**
 * The `stowage` command line. Runs one command and resolves to the exit code: 0 on success, 1 when
 * anything failed (the reason printed as one `error: CODE: message` line), commander's code for usage errors.
 */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  let exitCode = 0;
  const program = new Command('stowage')
    .description("Upload to and manage a running Stowage over its GraphQL API.")
    .version(version())
    .addOption(new Option('--url <url>', `the server (default: $STOWAGE_URL or ${DEFAULT_URL})`))
    .addOption(new Option('--key <privateKey>', 'the private API key (default: $STOWAGE_PRIVATE_KEY)'))
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXAMPLES)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const clientFor = (command: Command) => new StowageClient(resolveConnection(command.optsWithGlobals<GlobalOptions>(), io.env));

  program
    .command('upload')
    .description('upload files, folders (walked, their structure kept under --folder) and URLs (fetched by the server)')
    .argument('<inputs...>', 'files, folders or http(s) URLs')
    .option('--folder <path>', 'the Stowage folder to upload into; a folder argument keeps its own name below it, like cp -r', '/')
    .option('--tags <tags>', 'comma-separated tags for every file', parseTags)
    .option('--concurrency <n>', 'files sent at once', integerIn(1, 32), 4)
    .option('--private', 'store the files as private (served only on signed URLs)', false)
    .option('--no-unique', 'keep the names as they are: a file at an existing path becomes its new version')
    .option('--json', 'print each uploaded file as a JSON line on stdout (progress and summary go to stderr)', false)
    .action(async (inputs: string[], options: UploadOptions, command: Command) => {
      exitCode = await runUpload(clientFor(command), inputs, options, io);
    });

  program
    .command('ls')
    .description('list files, everywhere or in a folder')
    .argument('[folder]', 'only this folder, e.g. /imports')
    .option('-r, --recursive', "the folder's subfolders too", false)
    .option('--query <searchQuery>', 'ImageKit\'s search language, e.g. \'name: "a.jpg"\' or \'size > "1mb"\'')
    .option('--json', 'one JSON line per file', false)
    .addOption(new Option('--page-size <n>', 'files per request').argParser(integerIn(1, 1000)).default(500).hideHelp())
    .action(async (folder: string | undefined, options: ListOptions, command: Command) => {
      exitCode = await runList(clientFor(command), folder, options, io);
    });

  program
    .command('rm')
    .description('delete files with all their versions')
    .argument('<fileIds...>')
    .action(async (fileIds: string[], _options: unknown, command: Command) => {
      exitCode = await runRemove(clientFor(command), fileIds, io);
    });

  program
    .command('url')
    .description('print a signed delivery URL for a file (works for private files)')
    .argument('<fileId>')
    .option('--transform <transformation>', 'a transformation, e.g. w-300,h-200')
    .option('--expires <seconds>', 'valid for this many seconds (default: never expires)', integerIn(1, TEN_YEARS_S))
    .action(async (fileId: string, options: UrlOptions, command: Command) => {
      exitCode = await runUrl(clientFor(command), fileId, options, io);
    });

  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    io.stderr.write(`error: ${describeError(error)}\n`);
    return 1;
  }
}
