import type { ChannelSender } from "../channel_kind.ts";
import { EMAIL_KIND } from "./email_kind.ts";
import { createEmailChannel } from "./create_email_channel.ts";

/** Email's sender: SMTP through nodemailer. */
export const EMAIL_SENDER: ChannelSender = {
  kind: EMAIL_KIND,
  create: (config, { name, timeoutMs }) =>
    createEmailChannel(config, { name, timeoutMs }),
};
