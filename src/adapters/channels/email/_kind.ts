import type { ChannelKind } from "../_channel_kind.ts";
import { createEmailChannel } from "./create_email_channel.ts";

/** Email over SMTP. */
export const EMAIL: ChannelKind = {
  type: "email",
  secretKeys: ["password"],
  create: (config, { name, timeoutMs }) =>
    createEmailChannel(config, { name, timeoutMs }),
};
