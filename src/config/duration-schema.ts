/** A duration in the config file ("250ms", "5s", "1m", "1h"), read as milliseconds. */
import * as z from "zod";
import { parseDurationMs } from "./units.ts";

export const duration = z
  .string({
    error: (issue) =>
      typeof issue.input === "number"
        ? `${issue.input} has no unit; write a duration like ${issue.input}ms or ${issue.input}s`
        : undefined,
  })
  .transform((text, ctx) => {
    const ms = parseDurationMs(text);
    if (ms === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `"${text}" is not a duration; write it like 250ms, 5s, 1m or 1h`,
      });
      return z.NEVER;
    }
    return ms;
  });
