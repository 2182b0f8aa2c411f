/** A stream the CLI writes to; `isTTY` decides between progress bars and plain lines. */
export type Output = NodeJS.WritableStream & { isTTY?: boolean };

/** The process's streams and environment, passed in so commands stay testable and never read globals. */
export interface Io {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
}
