import type { ExecutionResult } from 'graphql';

/**
 * A shared stream's results, serialised once: yoga's result processors use a result's own `stringify` when it has
 * one, so every subscriber's frame carries the same JSON text; the direct sinks reuse it through {@link jsonOf}.
 */
const serialised = new WeakMap<object, string>();

/** Marks `result` as shared by many subscribers: its JSON text is then computed once, on first use. */
export function shareSerialisation(result: ExecutionResult): ExecutionResult {
  const stringify = (value: unknown) => (value === result ? jsonOf(result) : JSON.stringify(value));
  Object.defineProperty(result, 'stringify', { value: stringify, enumerable: false });
  return result;
}

/** A result's JSON text: a shared result's is computed once; any other result's each time. */
export function jsonOf(result: ExecutionResult): string {
  let text = serialised.get(result);
  if (text === undefined) {
    text = JSON.stringify(result);
    if (Object.hasOwn(result, 'stringify')) serialised.set(result, text);
  }
  return text;
}

/** Whether a result may be written as it is: it has nothing to mask or strip (no errors, no extensions). */
export const isPlainResult = (result: ExecutionResult): boolean => result.errors === undefined && result.extensions === undefined;

/**
 * Writes a plain result (see {@link isPlainResult}) to one subscriber's connection, framed as its transport frames
 * a result, and returns true; or returns false, writing nothing, when the connection is backed up: the result then
 * waits in the subscriber's stream, whose transport sends it once the connection takes more.
 * @category HTTP
 */
export type DirectSink = (result: ExecutionResult) => boolean;
