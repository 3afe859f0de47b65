/**
 * The HTTP API as a Hono app built by `createApp`: routes, the OpenAPI
 * document, the dashboard and the docs page. Listening is done by `serve`
 * in the adapters.
 *
 * @module
 */

export * from "./create_app.ts";
export * from "./open_api_document.ts";
export * from "./dashboard_html.ts";
export * from "./docs_html.ts";
