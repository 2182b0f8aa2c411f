import { GraphQLError } from 'graphql';
import { type AppError, helpFor } from '../errors.js';

/** The `extensions` every expected error carries: stable code, ImageKit-like status, offending parameter. */
export function errorExtensions(error: AppError): Record<string, unknown> {
  return {
    code: error.code,
    status: error.status,
    ...(error.parameter ? { parameter: error.parameter } : {}),
    ...(error.details ? { details: error.details } : {}),
    help: helpFor(error.code),
  };
}

/** An AppError raised outside any field (auth, request parsing): the HTTP status is the error's own. */
export function toRequestGraphQLError(error: AppError): GraphQLError {
  return new GraphQLError(error.message, { extensions: { ...errorExtensions(error), http: { status: error.status } } });
}

/** A GraphQL-over-HTTP error body for failures answered before GraphQL execution starts. */
export function requestErrorBody(error: AppError): string {
  return JSON.stringify({ errors: [{ message: error.message, extensions: errorExtensions(error) }] });
}
