/**
 * Private: how the warehouses reached over HTTPS (BigQuery, Snowflake)
 * report a server they cannot reach: a {@linkcode SqlConnectionError}
 * naming the warehouse with the key hidden, and a request whose network
 * failure becomes one, naming the host.
 *
 * @module
 */

import { hidePassword, SqlConnectionError } from "../../sql/_errors.ts";

/** Builds the error of a warehouse that cannot be reached. */
export type ConnectionErrorOf = (
  message: string,
  cause?: unknown,
) => SqlConnectionError;

/**
 * The connection errors of one warehouse: `Cannot connect to <where>:
 * <message>`, the secret hidden from the message.
 *
 * @param where The warehouse, account and user, for messages.
 * @param secret The key to hide from messages.
 * @returns A builder of its connection errors.
 */
export function connectionErrorOf(
  where: string,
  secret: string,
): ConnectionErrorOf {
  return (message, cause) =>
    new SqlConnectionError(
      `Cannot connect to ${where}: ${hidePassword(message, secret)}`,
      cause === undefined ? undefined : { cause },
    );
}

/**
 * Sends a request and reads its JSON body (`{}` when it has none).
 *
 * @param doFetch The `fetch` to use.
 * @param url The request's URL.
 * @param init The request.
 * @param failed Builds the error of a request that reached no server.
 * @param label What the message names: the URL's host by default.
 * @returns The response and its body.
 * @throws {SqlConnectionError} When the request reaches no server.
 */
export async function fetchJson<T>(
  doFetch: typeof fetch,
  url: string,
  init: RequestInit,
  failed: ConnectionErrorOf,
  label: string = new URL(url).host,
): Promise<{ response: Response; json: T }> {
  let response: Response;
  try {
    response = await doFetch(url, init);
  } catch (error) {
    throw failed(
      `${label}: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }
  const json = await response.json().catch(() => ({})) as T;
  return { response, json };
}
