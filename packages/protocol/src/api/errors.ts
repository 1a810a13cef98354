import { z } from "zod";

/** Every `error.code` the API answers with; a closed set, so clients can switch on it. */
export const HTTP_ERROR_CODES = [
  "invalid_input",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "conflict",
  "unavailable",
  "internal",
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

/** The body of every error response: `{ "error": { "code", "message", "field"?, "known"? } }`. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(HTTP_ERROR_CODES),
    message: z.string().meta({ description: "Starts with the field for bad input" }),
    field: z.string().optional().meta({ description: "Dotted path of the offending input" }),
    known: z.array(z.string()).optional().meta({ description: "With not_found: the names that exist" }),
  }),
});
export type ErrorBody = z.output<typeof errorBodySchema>;
