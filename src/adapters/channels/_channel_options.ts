/** Options every built-in channel factory takes. */
export interface ChannelOptions {
  /** The channel's name, as rules route to it. @default the channel type */
  name?: string;
  /** The fetch to use (HTTP channels). @default globalThis.fetch */
  fetch?: typeof fetch;
}
